/*
 * A client of the Kubo RPC API (`POST /api/v0/...`, over libcurl): what bundled needs to
 * put its blocks on an IPFS node and pin them, and to read them back. It speaks to Kubo,
 * to js-ipfs (which serves the same API), and to an IPFS Cluster's IPFS proxy endpoint
 * (same paths; pins made there are replicated by the cluster).
 *
 * The transport is bd_http (bundled/http.h), shared with the client of bundled's own API.
 * Every call is bounded: a connect timeout and a total timeout, and a cap on the bytes it
 * reads (BD_IPFS_MAX_REPLY for JSON replies, the expected size for block/get and cat).
 * Every CID the node returns is compared with the one computed locally; a mismatch is
 * TL_E_CONFLICT and the message names both.
 *
 * Errors map to tl_err categories so callers can decide what to retry:
 *   TL_E_UNAVAILABLE   cannot connect, timed out, the reply broke off, or HTTP 5xx or 429
 *                      (the node's "Message" is quoted: "ipfs pin/add: 500: <Message>")
 *   TL_E_UNAUTHORIZED  HTTP 401/403 (the API or the cluster proxy wants credentials)
 *   TL_E_INPUT         HTTP 4xx, a reply that is not what the API documents or is too
 *                      large, a bad API URL
 *   TL_E_CONFLICT      the node names a different CID or returns different bytes
 *
 * No message names the user-info of the API URL ("http://user:pass@host"): libcurl sends it
 * as basic auth, bd_ipfs_api() and the messages show the URL without it.
 *
 * A client may be shared by threads: calls on one client are serialised (one connection,
 * kept alive between calls).
 */
#ifndef BUNDLED_IPFS_H
#define BUNDLED_IPFS_H

#include <stddef.h>
#include <stdint.h>

#include "bundled/chunker.h"
#include "bundled/cid.h"
#include "bundled/dag.h"
#include "translog/bytes.h"
#include "translog/error.h"

/* The largest JSON reply read from the node. */
#define BD_IPFS_MAX_REPLY (64u * 1024u)
/* The largest block put or read: Kubo's block size limit for exchanged blocks (1 MiB). */
#define BD_IPFS_MAX_BLOCK (1u << 20)
#define BD_IPFS_CONNECT_TIMEOUT_MS 5000L
#define BD_IPFS_TIMEOUT_MS 30000L
/* Room for the API base URL and for an Authorization header value. */
#define BD_IPFS_URL_MAX 512
#define BD_IPFS_AUTH_MAX 1024

typedef struct bd_ipfs bd_ipfs;

typedef struct bd_ipfs_options {
	/* Base URL of the RPC API, "http://127.0.0.1:5001" (a trailing "/" or "/api/v0" is
	 * accepted). http or https only. Required. */
	const char *api;
	/* Milliseconds; 0 takes BD_IPFS_CONNECT_TIMEOUT_MS / BD_IPFS_TIMEOUT_MS. The total
	 * timeout bounds each call from connect to the last byte. */
	long connect_timeout_ms;
	long timeout_ms;
	/* NULL, or the value of an Authorization header sent with every call ("Basic ...",
	 * "Bearer ...": Kubo's API.Authorizations, a cluster proxy's basic auth). */
	const char *authorization;
	/* NULL: connect directly, ignoring http_proxy and friends in the environment (the API
	 * is normally on loopback or in the same network). Otherwise a libcurl proxy URL. */
	const char *proxy;
} bd_ipfs_options;

/* Makes a client; nothing is sent until the first call. TL_E_INPUT if the URL is not
 * http(s) or does not fit BD_IPFS_URL_MAX, or a timeout is negative. */
int bd_ipfs_open(bd_ipfs **out, const bd_ipfs_options *opts) TL_MUST_USE;
void bd_ipfs_close(bd_ipfs *ipfs);

/* The API base URL in use (normalised: no trailing "/", no "/api/v0"). */
const char *bd_ipfs_api(const bd_ipfs *ipfs);

typedef struct bd_ipfs_info {
	char version[64];        /* "0.29.0", "0.18.1" */
	char implementation[16]; /* "kubo", "js-ipfs" or "unknown" */
} bd_ipfs_info;

/* POST /api/v0/version: the node is up and speaks the API. */
int bd_ipfs_version(bd_ipfs_info *out, bd_ipfs *ipfs) TL_MUST_USE;

/* POST /api/v0/block/put of one block, as a raw leaf (codec raw) or a UnixFS node (codec
 * dag-pb), sha2-256, CIDv1; the node must answer with the block's CID. The block's bytes
 * are checked against its CID before they are sent (TL_E_INPUT if they do not match or
 * are over BD_IPFS_MAX_BLOCK). Putting a block twice is harmless. */
int bd_ipfs_block_put(bd_ipfs *ipfs, const bd_block *block) TL_MUST_USE;

/* Puts every block of a DAG, children before parents (the root last). */
int bd_ipfs_put_dag(bd_ipfs *ipfs, const bd_dag *dag) TL_MUST_USE;

/* POST /api/v0/block/get: appends the block's bytes to `out` (at most BD_IPFS_MAX_BLOCK and
 * what out->cap allows) and checks they hash to the CID (TL_E_CONFLICT if not). A block the
 * node does not have makes it search the network: the call then ends with the timeout. */
int bd_ipfs_block_get(tl_buf *out, bd_ipfs *ipfs, const bd_cid *cid) TL_MUST_USE;

/* POST /api/v0/pin/add?recursive=true: pins the DAG under `root`. Its blocks should be on
 * the node already (bd_ipfs_put_dag); otherwise the node fetches them from its peers. */
int bd_ipfs_pin_add(bd_ipfs *ipfs, const bd_cid *root) TL_MUST_USE;

/* POST /api/v0/pin/ls?type=recursive: *pinned = 1 if `root` is pinned recursively, else 0
 * (the "not pinned" error of Kubo and js-ipfs is an answer, not a failure). */
int bd_ipfs_pin_ls(int *pinned, bd_ipfs *ipfs, const bd_cid *root) TL_MUST_USE;

/* POST /api/v0/pin/rm?recursive=true. TL_E_NOTFOUND if `root` was not pinned. */
int bd_ipfs_pin_rm(bd_ipfs *ipfs, const bd_cid *root) TL_MUST_USE;

/* POST /api/v0/cat: appends the file's content to `out`, which must be exactly `size` bytes
 * (TL_E_CONFLICT if the node returns more or fewer). The content is not re-hashed here:
 * the caller compares it with the SHA-256 the log commits to. */
int bd_ipfs_cat(tl_buf *out, bd_ipfs *ipfs, const bd_cid *root, size_t size) TL_MUST_USE;

/* POST /api/v0/add?cid-version=1&raw-leaves=true&chunker=<spec>&pin=false: lets the node
 * import `data` itself and returns the root CID it computed, to check that its importer
 * and bundled's agree. `chunker` must be a fixed-size chunker ("size-N"): the "lines" rule
 * is bundled's own (TL_E_INPUT). At most BD_IPFS_MAX_ADD bytes. */
#define BD_IPFS_MAX_ADD (16u << 20)
int bd_ipfs_add(bd_cid *root, bd_ipfs *ipfs, const void *data, size_t len, const bd_chunker *chunker) TL_MUST_USE;

#endif
