/*
 * A client of bundled's own HTTP API (docs/http-api.md), for the programs that read a log
 * from the outside: a log follower, the agent, an auditor, a witness. It reads the
 * endpoints a running daemon serves today; it verifies nothing itself (signatures, proofs
 * and roots are the caller's, with translog), except that a raw block must hash to its CID.
 *
 * The transport is bd_http (bundled/http.h), as for the IPFS client: the same timeouts, a
 * cap on every reply (the smaller of the room left in `out` and the endpoint's own
 * BD_CLIENT_MAX_*), the same error categories, and no URL user-info in any message:
 *   TL_E_NOTFOUND      HTTP 404 (an entry, tile or block the log does not have yet)
 *   TL_E_UNAVAILABLE   cannot connect, timed out, the reply broke off, HTTP 5xx or 429
 *   TL_E_UNAUTHORIZED  HTTP 401/403
 *   TL_E_CONFLICT      HTTP 409, or a block whose bytes do not hash to its CID
 *   TL_E_INPUT         other statuses, a reply over the cap or not what the API documents
 * A failed call's message quotes the daemon's own ("bundled GET /tile/0/000: 404: ...").
 * On failure `out` is as it was.
 *
 * A client may be shared by threads: calls on one client are serialised (one connection,
 * kept alive between calls).
 */
#ifndef BUNDLED_CLIENT_H
#define BUNDLED_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "bundled/cid.h"
#include "bundled/http.h"
#include "translog/bytes.h"
#include "translog/error.h"
#include "translog/hash.h"
#include "translog/proof.h"
#include "translog/tile.h"

/* What each endpoint may answer at most. A checkpoint is a signed note; an entry bundle
 * holds up to 256 entries of up to 65535 bytes, each with a 2-byte length. */
#define BD_CLIENT_MAX_CHECKPOINT (1u << 20)
#define BD_CLIENT_MAX_TILE TL_TILE_FULL_BYTES
#define BD_CLIENT_MAX_BUNDLE ((size_t)TL_TILE_WIDTH * (2 + TL_TILE_MAX_ENTRY))
#define BD_CLIENT_MAX_ENTRY TL_TILE_MAX_ENTRY
#define BD_CLIENT_MAX_JSON (64u * 1024u)
#define BD_CLIENT_MAX_BLOCK (1u << 20)
#define BD_CLIENT_MAX_REPLY (1u << 20) /* a write's answer: entry facts, checkpoint, proof */

typedef struct bd_client bd_client;

/* The transport's options (bundled/http.h): base URL of the daemon ("http://127.0.0.1:8440",
 * http or https; user-info allowed, never shown), timeouts, Authorization, proxy, the CA file
 * and client certificate for TLS. `name` is ignored: the client names itself "bundled". */
typedef bd_http_options bd_client_options;

/* Makes a client; nothing is sent until the first call. TL_E_INPUT for a bad option. */
int bd_client_open(bd_client **out, const bd_client_options *opts) TL_MUST_USE;
void bd_client_close(bd_client *c);

/* The base URL in use, without user-info: safe to print. */
const char *bd_client_url(const bd_client *c);

/* The bytes of replies (status line, headers and body; not TCP or TLS framing) this client
 * has received so far: what a caller downloaded, for its logs and benchmarks. */
uint64_t bd_client_received(const bd_client *c);

/* GET /checkpoint: appends the signed checkpoint note (not verified here). */
int bd_client_checkpoint(tl_buf *out, bd_client *c) TL_MUST_USE;

/* GET /tile/<L>/<N>[.p/<W>] or /tile/entries/<N>[.p/<W>]: appends the hash tile or the
 * entry bundle. A reply longer than the tile's width allows is TL_E_INPUT. */
int bd_client_tile(tl_buf *out, bd_client *c, const tl_tile *t) TL_MUST_USE;

/* GET /v1/log/entries/<index>: appends one entry's bytes. */
int bd_client_entry(tl_buf *out, bd_client *c, uint64_t index) TL_MUST_USE;

/* GET /v1/log/proof/inclusion?index=I&size=N: the proof's hashes into
 * hashes[TL_MAX_PROOF_HASHES], *n of them, for tl_verify_inclusion. The reply must name
 * the index and size asked for. */
int bd_client_inclusion_proof(tl_hash *hashes, size_t *n, bd_client *c, uint64_t index, uint64_t size) TL_MUST_USE;

/* GET /v1/log/proof/consistency?old=M&size=N: as above, for tl_verify_consistency. */
int bd_client_consistency_proof(tl_hash *hashes, size_t *n, bd_client *c, uint64_t old_size,
	uint64_t size) TL_MUST_USE;

/* GET /ipfs/<cid>?format=raw: appends one raw block from the daemon's block store and
 * checks that it hashes to the CID (TL_E_CONFLICT if not). */
int bd_client_block(tl_buf *out, bd_client *c, const bd_cid *cid) TL_MUST_USE;

/* GET <path> of the JSON API ("/v1/log", "/v1/domains/example.org"): appends a 200
 * reply's body, at most `max` bytes (and no more than out has room for). */
int bd_client_get(tl_buf *out, bd_client *c, const char *path, size_t max) TL_MUST_USE;

/* The same with extra request header lines ("Accept: ...", NULL-ended): a reply of at most
 * `max` bytes (a binary one too, such as a diff response). */
int bd_client_get_headers(tl_buf *out, bd_client *c, const char *path, const char *const *headers, size_t max)
	TL_MUST_USE;

/* POST <path> with `body` as application/json (the bodies of bundled/request.h): appends the
 * body of a 2xx reply (at most BD_CLIENT_MAX_REPLY bytes, or out's room); a refusal is the
 * daemon's error message under the categories above (HTTP 429 is TL_E_UNAVAILABLE). */
int bd_client_post_json(tl_buf *out, bd_client *c, const char *path, const void *body, size_t len) TL_MUST_USE;

/*
 * The transport of a tlog-tiles log follower: `ctx` is a bd_client *, `path` a path as
 * the tlog-tiles spec names it, without a leading slash ("checkpoint", "tile/0/001",
 * "tile/entries/000.p/5"). Appends what the daemon serves there to `out`. Any other
 * path is TL_E_INPUT (nothing else is fetched through it).
 */
int bd_client_fetch(void *ctx, const char *path, tl_buf *out) TL_MUST_USE;

#endif
