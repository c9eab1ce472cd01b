/*
 * The durable append-only transparency log: RFC 6962 tree, stored as C2SP tlog-tiles hash
 * tiles and entry bundles in the shared RocksDB database, with a signed checkpoint
 * (C2SP tlog-checkpoint) for every commit. See docs/storage.md.
 *
 * Appends are group-committed: concurrent appenders queue their entries and one committer
 * thread sequences whatever is queued, writes the entries, every tile they change, the new
 * tree state and the new signed checkpoint in one synced RocksDB write batch, and only then
 * returns to the appenders. An acknowledged entry is therefore always covered by a durable
 * checkpoint, and after a crash the database holds exactly a prefix of the commits.
 *
 * A tl_log is safe to use from any number of threads: reads (checkpoint, tiles, entries,
 * proofs) run concurrently with appends and see the last commit. A database holds one log,
 * opened by one tl_log at a time (the single sequencer).
 *
 * Part of libtranslog-storage (pkg-config translog-storage), the RocksDB-backed half of
 * translog; the rest of translog links without RocksDB.
 */
#ifndef TRANSLOG_LOG_H
#define TRANSLOG_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/checkpoint.h"
#include "translog/db.h"
#include "translog/error.h"
#include "translog/hash.h"
#include "translog/key.h"
#include "translog/tile.h"

typedef struct tl_log tl_log;

/* The column families the log keeps its data in: pass them (with any others the caller
 * needs) to tl_db_open before tl_log_open. */
#define TL_LOG_COLUMN_FAMILY_COUNT 3
extern const char *const tl_log_column_families[TL_LOG_COLUMN_FAMILY_COUNT];

/* Longest entry: entry bundles prefix each entry with a uint16 length. */
#define TL_LOG_MAX_ENTRY 65535u
/* Most entries, and most entry bytes, one tl_log_append_batch call may carry; also the most
 * entry bytes the committer puts into one commit. */
#define TL_LOG_MAX_APPEND 65536u
#define TL_LOG_MAX_APPEND_BYTES (64u << 20)

struct tl_log_options {
	/* Most entries sequenced into one commit (and at most TL_LOG_MAX_APPEND_BYTES of them);
	 * a single call's batch is never split, so one call can exceed this. 0 means 4096. */
	size_t max_batch;
	/* Full tiles kept in memory for proofs (16 KiB each), a quarter of them for levels 1 and
	 * up. Below 4 means 1024. */
	size_t cache_tiles;
};

/* Opens the log stored in `db` (which must have been opened with the column families
 * above), creating an empty one with a signed checkpoint of size 0 if the database has none.
 * The origin of the checkpoints is the signer's name. `key` must outlive the log; `opts`
 * may be NULL.
 *
 * Opening checks that the stored checkpoint verifies under `key` and names this origin
 * (TL_E_CONFLICT otherwise: the data belongs to another log), and that the stored tree
 * state, the right edge of the stored tiles and bundles, and the checkpoint agree
 * (TL_E_INTERNAL, "log storage is corrupt: ...", otherwise). The check costs O(log n)
 * reads. Starts the committer thread. */
int tl_log_open(tl_log **out, tl_db *db, const tl_signer *key, const struct tl_log_options *opts) TL_MUST_USE;

/* Opens a read replica of the log whose verifier key is `v` (type 0x01; its name is the
 * origin; `v` must outlive the log): the same storage, reads and proofs, but the log signs
 * nothing. It grows only by tl_log_append_signed, with checkpoints the origin signed, and
 * refuses tl_log_append(_batch) (TL_E_UNAVAILABLE). A new database stays empty, without a
 * checkpoint (tl_log_head asked for the note: TL_E_UNAVAILABLE), until the first append. The
 * stored state is checked on open as tl_log_open checks it, with `v`. */
int tl_log_open_replica(tl_log **out, tl_db *db, const tl_verifier *v, const struct tl_log_options *opts) TL_MUST_USE;

/* Commits what is queued, stops the committer and frees the log. Appends racing with close
 * fail with TL_E_UNAVAILABLE. The db stays open (the caller owns it). NULL is a no-op. */
void tl_log_close(tl_log *log);

/* Appends one entry (0..TL_LOG_MAX_ENTRY bytes) and returns once a durable signed
 * checkpoint covers it, with its index in *index. TL_E_INPUT (nothing written) for an entry
 * that is too long; TL_E_IO if the commit failed, after which the log refuses further
 * appends (TL_E_UNAVAILABLE) until it is reopened: what is durable is then decided by the
 * database, not by guesswork. */
int tl_log_append(uint64_t *index, tl_log *log, const void *entry, size_t len) TL_MUST_USE;

/* Appends n entries (1..TL_LOG_MAX_APPEND, at most TL_LOG_MAX_APPEND_BYTES in all) with one
 * wait: they get consecutive indices *first .. *first + n - 1, all in the same commit. If any
 * entry is too long, nothing is appended (TL_E_INPUT naming the entry). Same durability as
 * tl_log_append. */
int tl_log_append_batch(uint64_t *first, tl_log *log, const void *const *entries, const size_t *lens,
	size_t n) TL_MUST_USE;

/* A replica's append: n entries (0..TL_LOG_MAX_APPEND, limits as tl_log_append_batch) that
 * the origin has at the replica's current size, committed alone with `note`, the origin's
 * signed checkpoint of the tree they make. The caller has proven them against it (as
 * tl_follow_entries does); the committer checks again that the note verifies with the log's
 * key and has the size and root of the tree it built, and if not (TL_E_CONFLICT or
 * TL_E_UNAUTHORIZED), nothing is written and the log stops as after a failed commit. n 0
 * replaces the checkpoint with another of the same tree (new cosignatures). TL_E_INPUT on a
 * log that signs its own checkpoints. */
int tl_log_append_signed(uint64_t *first, tl_log *log, const void *const *entries, const size_t *lens, size_t n,
	const uint8_t *note, size_t note_len) TL_MUST_USE;

/* Writes that ride in the log's commits. The owner of the database (bundled's publisher: its
 * blocks, pin records and registry) adds them to the very write batch that carries the
 * entries, so they are durable exactly when the entries are, with one fsync for all: after a
 * crash the database holds them for exactly the committed prefix of the log. */
typedef struct tl_log_hook {
	/* Called by the committer for each append of a commit, in log order, once its entries
	 * have their indices (first .. first + n - 1): puts what goes with them into `wb`, the
	 * commit's batch (clear nothing in it). `req` is what the appender passed to
	 * tl_log_append_with (NULL for tl_log_append(_batch)). Must not append to the log nor
	 * write to the database itself. A non-zero return fails the whole commit as a failed
	 * write does (its appenders get that error, nothing of it is written, the log stops). */
	int (*stage)(void *ctx, rocksdb_writebatch_t *wb, uint64_t first, const void *const *entries,
		const size_t *lens, size_t n, void *req);
	/* Called once after every commit, on the committer's thread: after the write (err 0:
	 * durable, and the new size is already what readers see) or its failure (err < 0:
	 * nothing of it is written), before the appenders are woken. */
	void (*end)(void *ctx, int err);
	void *ctx;
} tl_log_hook;

/* Installs the hook (NULL removes it); waits for a commit in progress to end, so the old
 * hook is not called once this returns. One hook per log. */
void tl_log_set_hook(tl_log *log, const tl_log_hook *hook);

/* tl_log_append_batch with `req` handed to the hook's stage for these entries (the caller
 * keeps it alive: the call returns only after the commit). A non-NULL `req` with no hook
 * installed is TL_E_INTERNAL, nothing appended; removing the hook while such appends wait
 * is the caller's error. */
int tl_log_append_with(uint64_t *first, tl_log *log, const void *const *entries, const size_t *lens, size_t n,
	void *req) TL_MUST_USE;

/* The log's origin (the signer's name, or a replica's verifier's). */
const char *tl_log_origin(const tl_log *log);

/* The size of the last commit. */
uint64_t tl_log_size(tl_log *log);

/* The last commit: its size, root and signed checkpoint note, taken together. Any of the
 * out-params may be NULL. The note is appended to `note` (a replica that has none yet:
 * TL_E_UNAVAILABLE). */
int tl_log_head(uint64_t *size, tl_hash *root, tl_buf *note, tl_log *log) TL_MUST_USE;

/* Appends to `out` the bytes of the tile or entry bundle `t` (as parsed from a tlog-tiles
 * path). A full tile is served once it is complete; a partial tile of width W is served
 * when the current size has at least W hashes in that tile, including when the tile is
 * full by now (a partial tile is a prefix of every later version of the tile, so every
 * width a published checkpoint needed stays available). TL_E_NOTFOUND otherwise. */
int tl_log_tile(tl_buf *out, tl_log *log, const tl_tile *t) TL_MUST_USE;

/* The bytes of a full tile or full entry bundle (t->width 256), without copying them:
 * *data points where RocksDB holds them and stays valid until tl_db_release(*pin), to be
 * called exactly once and before the database is closed; made for a borrowed HTTP reply
 * (bd_httpd_reply_borrowed(res, ..., data, len, tl_db_release, pin)). The same bytes as
 * tl_log_tile. TL_E_NOTFOUND if `t` is not full in the current tree: a partial tile or
 * bundle is read with tl_log_tile. */
int tl_log_tile_pinned(const uint8_t **data, size_t *len, void **pin, tl_log *log, const tl_tile *t) TL_MUST_USE;

/* Appends entry `index` to `out`. TL_E_NOTFOUND if index >= the current size. */
int tl_log_entry(tl_buf *out, tl_log *log, uint64_t index) TL_MUST_USE;

/* The root of the tree of the first `size` entries (size <= current size, else
 * TL_E_NOTFOUND). */
int tl_log_root(tl_hash *root, tl_log *log, uint64_t size) TL_MUST_USE;

/* RFC 6962 inclusion proof of leaf `index` in the tree of `size` entries, and consistency
 * proof between the trees of `old_size` and `size` entries, built from the stored tiles.
 * hashes must hold TL_MAX_PROOF_HASHES; *n receives the count. size above the current
 * size: TL_E_NOTFOUND; index >= size or old_size > size: TL_E_INPUT. */
int tl_log_prove_inclusion(tl_hash *hashes, size_t *n, tl_log *log, uint64_t index, uint64_t size) TL_MUST_USE;
int tl_log_prove_consistency(tl_hash *hashes, size_t *n, tl_log *log, uint64_t old_size, uint64_t size) TL_MUST_USE;

/* The hash of a complete node (level, index) of the current tree (node (level, index)
 * covers leaves [index << level, (index + 1) << level)). TL_E_NOTFOUND if incomplete. */
int tl_log_node(tl_hash *out, tl_log *log, unsigned level, uint64_t index) TL_MUST_USE;

/* Checks the log stored in `db` (opened with the log's column families, e.g. read-only) with
 * only its verifier key, reading everything once: the stored checkpoint verifies under `v`;
 * the tree recomputed from every stored entry has the checkpoint's size and root; every
 * stored hash tile (full or piece, every level, a full tile's inner nodes too) equals the
 * recomputed nodes; and exactly the tiles and entry bundles the checkpoint's size implies
 * are stored. The checkpoint goes to *out and its signed note is appended to `note` (may be
 * NULL). TL_E_UNAUTHORIZED if the checkpoint does not
 * verify, TL_E_INPUT if anything else disagrees (the message says what and where), TL_E_IO
 * if the database cannot be read. Memory: 32 bytes per entry. For backups; a running
 * daemon uses tl_log_open's O(log n) checks. */
int tl_log_verify_stored(tl_checkpoint *out, tl_buf *note, tl_db *db, const tl_verifier *v) TL_MUST_USE;

/* The fixed buckets of the histograms in tl_log_stats: upper bounds, inclusive, of commit
 * durations in microseconds and of entries per commit. */
#define TL_LOG_COMMIT_BUCKETS 12
#define TL_LOG_BATCH_BUCKETS 11
extern const uint64_t tl_log_commit_bounds_us[TL_LOG_COMMIT_BUCKETS];
extern const uint64_t tl_log_batch_bounds[TL_LOG_BATCH_BUCKETS];

/* Counters for the daemon's /metrics, since open. */
struct tl_log_stats {
	uint64_t size;            /* entries in the log */
	uint64_t appends;         /* entries committed since open */
	uint64_t commits;         /* commits (write batches) since open */
	uint64_t last_batch;      /* entries in the last commit */
	uint64_t last_commit_us;  /* the last commit: sequencing, hashing, signing, write and sync */
	uint64_t commit_us_total; /* sum over all commits, for an average */
	uint64_t failed_commits;  /* 0, or 1 once a commit has failed (the log then stops) */
	uint64_t last_commit_unix_ms; /* wall clock at the end of the last commit; 0: none since open */
	/* Commits per bucket (not cumulative); the last counts those above every bound. */
	uint64_t commit_us_hist[TL_LOG_COMMIT_BUCKETS + 1];
	uint64_t batch_hist[TL_LOG_BATCH_BUCKETS + 1];
};
void tl_log_stats(struct tl_log_stats *out, tl_log *log);

#endif
