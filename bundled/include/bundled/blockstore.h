/*
 * The local block store: every block of every bundle, in the shared RocksDB database
 * (column family "blocks"), keyed by the block's multihash (0x12 0x20 + SHA-256), as Kubo
 * keys its own. It is the source of truth for content: blocks are checked against their
 * CID on the way in; on the way out RocksDB's block checksums (verified on every read)
 * guard the bytes, and re-hashing them is left to the verified read, to stores set to
 * verify every read, and to the scrub (docs/storage.md, "Read-time verification").
 * A store may be used from several threads at once (RocksDB is thread-safe).
 */
#ifndef BUNDLED_BLOCKSTORE_H
#define BUNDLED_BLOCKSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "bundled/cid.h"
#include "bundled/dag.h"
#include "translog/bytes.h"
#include "translog/db.h"
#include "translog/error.h"

/* The largest block the store takes: Kubo's limit for blocks it exchanges (1 MiB). */
#define BD_BLOCK_MAX (1u << 20)
/* bd_blockstore_cat follows at most this many levels and visits at most this many blocks. */
#define BD_CAT_MAX_DEPTH 32
#define BD_CAT_MAX_BLOCKS (1u << 22)

typedef struct bd_blockstore bd_blockstore;

extern const char *const bd_blockstore_column_family; /* "blocks" */

/* Opens the block store in `db`, which must have been opened with the column family
 * bd_blockstore_column_family among its names (TL_E_INTERNAL otherwise). `db` stays the
 * caller's and must outlive the store. */
int bd_blockstore_open(bd_blockstore **out, tl_db *db) TL_MUST_USE;

/* Stores one block durably. TL_E_INPUT, and nothing written, if SHA-256(data) is not the
 * CID's digest or the block is over BD_BLOCK_MAX. Storing a block twice is harmless. */
int bd_blockstore_put(bd_blockstore *bs, const bd_cid *cid, const void *data, size_t len) TL_MUST_USE;

/* Stores every block of a DAG in one write batch (one fsync), each checked as above:
 * either all are written or none. */
int bd_blockstore_put_dag(bd_blockstore *bs, const bd_dag *dag) TL_MUST_USE;

/* Checks every block of a DAG as bd_blockstore_put does (TL_E_INPUT naming the first bad
 * one), without writing. */
int bd_blockstore_check_dag(const bd_dag *dag) TL_MUST_USE;

/* Puts every block of a DAG, already checked with bd_blockstore_check_dag, into `wb`: the
 * blocks are stored when, and as durably as, the caller writes that batch (the publisher
 * writes them in the log's commit, so a logged version's blocks are always there). */
void bd_blockstore_stage_dag(bd_blockstore *bs, rocksdb_writebatch_t *wb, const bd_dag *dag);

/* Reads a block; *data is malloc'ed (free it; never NULL, even for an empty block).
 * TL_E_NOTFOUND if absent; TL_E_IO if RocksDB finds a checksum mismatch. The bytes are not
 * re-hashed, unless the store verifies reads (bd_blockstore_set_verify_reads). */
int bd_blockstore_get(uint8_t **data, size_t *len, bd_blockstore *bs, const bd_cid *cid) TL_MUST_USE;

/* The same, always re-hashing the bytes: TL_E_IO if they no longer hash to the CID's
 * digest (the store is corrupted: the message names the CID). */
int bd_blockstore_get_verified(uint8_t **data, size_t *len, bd_blockstore *bs, const bd_cid *cid) TL_MUST_USE;

/* Reads a block without copying it: *data points into RocksDB's block cache (or memtable)
 * until tl_db_release(*pin), to be called exactly once and before the database is closed;
 * made for bd_httpd_reply_borrowed(res, ..., data, len, tl_db_release, pin). Verified as
 * bd_blockstore_get is. Nothing to release on failure. */
int bd_blockstore_get_pinned(const uint8_t **data, size_t *len, void **pin, bd_blockstore *bs,
	const bd_cid *cid) TL_MUST_USE;

/* Re-hash every block read through bd_blockstore_get and bd_blockstore_get_pinned (off by
 * default). Set it before the store is shared between threads. */
void bd_blockstore_set_verify_reads(bd_blockstore *bs, int on);

/* 1 if the block is stored, 0 if not, or a negative tl_err if the store cannot be read. */
int bd_blockstore_has(bd_blockstore *bs, const bd_cid *cid) TL_MUST_USE;

/* Appends the content of the file whose root is `root` to `out`: a raw block is its own
 * content; a dag-pb UnixFS file node is its Data followed by its children's content, in
 * link order, checked against its blocksizes and filesize. Every block is verified as
 * bd_blockstore_get does. Bounded by out->cap (TL_E_INPUT past it), BD_CAT_MAX_DEPTH and
 * BD_CAT_MAX_BLOCKS. TL_E_NOTFOUND if a block is missing; TL_E_INPUT if a node is not a
 * UnixFS file or is malformed, or the codec is neither raw nor dag-pb. On failure `out`
 * may hold part of the content. */
int bd_blockstore_cat(tl_buf *out, bd_blockstore *bs, const bd_cid *root) TL_MUST_USE;

/* Reads every stored block once and checks it: its key is a SHA-256 multihash, its bytes hash
 * to it, it is at most BD_BLOCK_MAX bytes. *blocks and *bytes get what was read. TL_E_INPUT
 * naming the first bad block (by its digest, in hex) if one is wrong; TL_E_IO if the store
 * cannot be read. For checking a backup (bundlectl admin verify-backup). */
int bd_blockstore_check(uint64_t *blocks, uint64_t *bytes, bd_blockstore *bs) TL_MUST_USE;

/* What a scrub found. */
struct bd_blockstore_scrub_stats {
	uint64_t blocks; /* blocks read */
	uint64_t bytes;  /* their bytes */
	uint64_t bad;    /* blocks reported to on_bad */
};

/* Called by the scrub for each bad block: `cid` names it (the store keys blocks by
 * multihash, so the codec is unknown and raw is given: the CID that names those bytes), or
 * is NULL for a key that is not a SHA-256 multihash; `len` is its stored size; `problem`
 * says what is wrong. */
typedef void (*bd_blockstore_bad_fn)(void *ctx, const bd_cid *cid, size_t len, const char *problem);

/* Reads every stored block, with RocksDB's checksums verified and without filling the
 * block cache, and re-hashes it: a block whose bytes do not hash to its key, is over
 * BD_BLOCK_MAX, or whose key is malformed is counted in out->bad and reported to on_bad
 * (which may be NULL), and the scrub goes on. Returns 0 once every block was read, whatever
 * it found (check out->bad); TL_E_IO if RocksDB cannot read on (a table file's checksum
 * fails: the message says where), with out counting what was read before. */
int bd_blockstore_scrub(struct bd_blockstore_scrub_stats *out, bd_blockstore *bs, bd_blockstore_bad_fn on_bad,
	void *ctx) TL_MUST_USE;

void bd_blockstore_close(bd_blockstore *bs);

#endif
