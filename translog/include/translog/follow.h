/*
 * A log follower for verification-only clients (the agent, the auditor, a witness): it
 * reads a C2SP tlog-tiles log through a caller-supplied fetch function and trusts nothing it
 * reads until it is proven against a checkpoint signed by the log's key.
 *
 *   - tl_follow_update fetches "checkpoint", verifies its signature (and, if configured, a
 *     quorum of witness cosignatures) and proves it consistent with the checkpoint the caller
 *     stored last, from hash tiles. A log that contradicts itself is TL_E_CONFLICT with the
 *     evidence (tl_follow_fork).
 *   - tl_follow_inclusion builds and verifies an inclusion proof from hash tiles.
 *   - tl_follow_entries reads entry bundles and proves that every entry it hands out is the
 *     leaf the checkpoint's tree commits to.
 *
 * The follower keeps no state between calls: the caller stores the last verified checkpoint
 * (and its note, as evidence) and passes it back. Tiles fetched in one call are cached for
 * that call only. Partial tiles are fetched as "<path>.p/<W>" for the width the checkpoint's
 * size implies; when the log answers TL_E_NOTFOUND for a partial tile, the full tile is
 * fetched instead and its prefix used (C2SP tlog-tiles lets logs drop partial tiles once the
 * full one exists). Nothing here uses storage: libtranslog without RocksDB is enough.
 *
 * Errors (all with a one-line message, see error.h):
 *   TL_E_INPUT        a response or an argument is malformed or over a limit
 *   TL_E_UNAUTHORIZED a signature does not verify, a cosignature quorum is not met, or served
 *                     tiles or entries do not hash to the verified checkpoint
 *   TL_E_CONFLICT     the log forked or rolled back: two checkpoints it signed cannot both hold
 *   TL_E_NOTFOUND     the log does not have what was asked for (passed on from fetch), or an
 *                     index is not below the checkpoint's size
 *   TL_E_UNAVAILABLE  (or any other code the fetch function returns) the transport failed
 *   TL_E_NOMEM
 */
#ifndef TRANSLOG_FOLLOW_H
#define TRANSLOG_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/checkpoint.h"
#include "translog/error.h"
#include "translog/hash.h"
#include "translog/key.h"
#include "translog/proof.h"
#include "translog/tile.h"

/* The largest entry bundle read: 256 entries of the longest length, with their prefixes. */
#define TL_FOLLOW_MAX_BUNDLE ((size_t)TL_TILE_WIDTH * (2 + TL_TILE_MAX_ENTRY))
/* Tiles kept during one call (8 KiB each); a proof touches at most two per tile level. */
#define TL_FOLLOW_MAX_CACHED_TILES 64

/* How the follower reads the log. `fetch` appends to `out` (empty, with its cap set to the
 * largest valid response for that path) the body of the tlog-tiles resource `path`:
 * "checkpoint", "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]" (no leading slash; a
 * base URL is the transport's business). It returns 0, TL_E_NOTFOUND if the log has no such
 * resource (HTTP 404), TL_E_INPUT if the body passes the cap, TL_E_UNAVAILABLE if the peer
 * cannot be reached, or another tl_err; always with a message. */
typedef struct tl_follow_transport {
	int (*fetch)(void *ctx, const char *path, tl_buf *out);
	void *ctx;
} tl_follow_transport;

/* Whom the follower trusts. Everything pointed to must outlive the calls that use it. */
typedef struct tl_follow_config {
	tl_follow_transport transport;
	const tl_verifier *log_key;          /* type 0x01; its name is the log's origin */
	const tl_verifier *const *witnesses; /* type 0x04 cosigners, n_witnesses of them */
	size_t n_witnesses;
	size_t quorum;                       /* valid cosignatures required; 0: none */
} tl_follow_config;

/* The evidence of a TL_E_CONFLICT: two checkpoints, both signed by the log's key (the caller
 * holds the note of `old`, the caller's `note` buffer that of `new`), that cannot both be
 * views of one append-only log. */
typedef struct tl_follow_fork {
	tl_checkpoint old;      /* the checkpoint the caller had verified before */
	tl_checkpoint new;      /* the checkpoint just verified */
	bool rollback;          /* new.size < old.size: the log went back (no proof is built) */
	tl_hash prefix_root;    /* fork: the root of new's tree at old.size, as its tiles prove */
	size_t n_proof;         /* fork with old.size < new.size: the consistency proof from */
	tl_hash proof[TL_MAX_PROOF_HASHES]; /* new's tiles that leads to prefix_root and new.root */
} tl_follow_fork;

/* Verifies a signed checkpoint note (len bytes, at most TL_NOTE_MAX_SIZE) against the
 * config: a valid signature by log_key with the origin equal to its name, a tree size of at
 * most TL_MAX_TREE_SIZE, and, if quorum > 0, at least `quorum` valid cosignatures by the
 * witnesses (an invalid cosignature by a configured witness rejects). Fetches nothing.
 * TL_E_INPUT if malformed, TL_E_UNAUTHORIZED for a signature or quorum failure. */
int tl_follow_verify_checkpoint(tl_checkpoint *out, const tl_follow_config *cfg, const uint8_t *note,
	size_t len) TL_MUST_USE;

/* Proves, from hash tiles of the tree of cp->size leaves, that the tree of old->size leaves
 * with root old->root is a prefix of cp's tree. Both are checkpoints the caller has verified
 * (same origin, sizes up to TL_MAX_TREE_SIZE, an old size 0 has the empty tree's root; else
 * TL_E_INPUT). 0 if consistent. TL_E_CONFLICT if not, with the evidence in *fork (if not
 * NULL): cp->size < old->size (a rollback), equal sizes with different roots, or tiles that
 * hash to cp->root but give another root at old->size. TL_E_UNAUTHORIZED if the served tiles
 * do not hash to cp->root (the server, not the log's signed history, is at fault). */
int tl_follow_consistency(tl_follow_fork *fork, const tl_follow_config *cfg, const tl_checkpoint *old,
	const tl_checkpoint *cp) TL_MUST_USE;

/* Fetches "checkpoint", verifies it (tl_follow_verify_checkpoint) and, if `old` is not NULL,
 * proves it consistent with `old` (tl_follow_consistency). On success *out is the new
 * verified checkpoint and its signed note is appended to `note` (if not NULL) for the caller
 * to store with it. On TL_E_CONFLICT *out is left as it was, `note` still receives the
 * fetched note and *fork (if not NULL) the evidence. `old == NULL` is trust on first use. */
int tl_follow_update(tl_checkpoint *out, tl_buf *note, tl_follow_fork *fork, const tl_follow_config *cfg,
	const tl_checkpoint *old) TL_MUST_USE;

/* Builds from hash tiles the inclusion proof of leaf `index` in cp's tree into
 * proof[TL_MAX_PROOF_HASHES] (*n hashes) and verifies that it proves `leaf_hash` (the
 * tl_hash_leaf of the entry) at `index` under cp->root. TL_E_NOTFOUND if index >= cp->size,
 * TL_E_UNAUTHORIZED if the proof does not lead to cp->root. */
int tl_follow_inclusion(tl_hash *proof, size_t *n, const tl_follow_config *cfg, const tl_checkpoint *cp,
	uint64_t index, const tl_hash *leaf_hash) TL_MUST_USE;

/* Called for each entry in order; the bytes are valid only during the call. A non-zero
 * return stops the read and is returned by tl_follow_entries. */
typedef int (*tl_follow_entry_fn)(void *ctx, uint64_t index, const uint8_t *entry, size_t len);

/* Reads entries [first, first + count) of cp's tree from entry bundles and calls `fn` for
 * each. Every bundle is proven before any of its entries is handed out: it must hold exactly
 * the entries the tree has in that bundle at cp->size, and their leaf hashes, with hash tiles
 * for the rest of the tree, must lead to cp->root. count 0 reads nothing. TL_E_NOTFOUND if the
 * range passes cp->size, TL_E_INPUT for a malformed bundle, TL_E_UNAUTHORIZED if a bundle's
 * entries are not the tree's. */
int tl_follow_entries(const tl_follow_config *cfg, const tl_checkpoint *cp, uint64_t first, uint64_t count,
	tl_follow_entry_fn fn, void *ctx) TL_MUST_USE;

#endif
