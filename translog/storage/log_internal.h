/*
 * Internals shared by the log's files: log_store.c (storage keys, edge tiles, tile reads and
 * their cache), log_open.c (open and recovery), log.c (appends, reads, proofs) and
 * log_commit.c (group commit). The storage layout is described in docs/storage.md.
 */
#ifndef TRANSLOG_LOG_INTERNAL_H
#define TRANSLOG_LOG_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "translog/log.h"
#include "translog/merkle.h"
#include "translog/proof.h"

/* Tile levels 0..7 hold tree levels 0..63: all a 64-bit tree size can have. */
enum { LOG_LEVELS = 8 };

enum { LOG_MSG_MAX = 256 };

/* A bundle of 256 entries of TL_LOG_MAX_ENTRY bytes with their length prefixes. */
enum { LOG_MAX_BUNDLE_BYTES = TL_TILE_WIDTH * (2 + TL_LOG_MAX_ENTRY) };

/* Which piece start positions (0..255) of a partial tile or bundle are stored. */
typedef struct log_pieces {
	uint64_t bits[4];
} log_pieces;

/* The rightmost tile of one level: its base hashes so far and every complete node above
 * them inside the tile (sub-levels 1..7), laid out as tl_tile_expand does. A tile is written
 * out whole and reset to the next index as soon as it is full. */
struct log_edge {
	uint64_t index;
	unsigned width;
	log_pieces pieces;
	tl_hash nodes[TL_TILE_NODES];
};

/* One caller of tl_log_append(_batch), waiting on its own condition variable. The entries
 * stay in the caller's memory: the caller blocks until the commit that wrote them is done. */
struct log_request {
	const void *const *entries;
	const size_t *lens;
	const tl_hash *leaves;
	const uint8_t *note; /* a replica's append: the origin's signed checkpoint for the result */
	size_t note_len;
	size_t n;
	size_t bytes;
	void *req;           /* for the hook's stage */
	uint64_t first;
	int err;
	bool done;
	char msg[LOG_MSG_MAX];
	pthread_cond_t cond;
	struct log_request *next;
};

struct log_cache_slot {
	bool valid;
	unsigned level;
	uint64_t index;
	tl_hash nodes[TL_TILE_NODES];
};

struct tl_log {
	tl_db *db;
	rocksdb_column_family_handle_t *cf_tiles, *cf_entries, *cf_meta;
	const tl_signer *key;        /* NULL for a replica: it stores the origin's checkpoints */
	const tl_verifier *verifier; /* the log's key: own_verifier, or a replica's caller's */
	tl_verifier *own_verifier;
	char origin[TL_MAX_ORIGIN + 1];
	size_t max_batch;

	/* The queue, under qlock. `failed` is sticky: once a commit fails the log takes no more
	 * appends until it is reopened. */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct log_request *qhead, *qtail;
	bool stopping;
	int failed;
	char failed_msg[LOG_MSG_MAX];
	pthread_t committer;
	bool committer_running;
	/* The hook, under qlock; commit_lock is held by the committer for each commit, so
	 * tl_log_set_hook can wait for the one in progress. */
	tl_log_hook hook;
	bool has_hook;
	pthread_mutex_t commit_lock;

	/* The committer's own state, ahead of the published state while a batch is built. */
	tl_frontier frontier;
	struct log_edge stage[LOG_LEVELS];
	unsigned batch_from[LOG_LEVELS]; /* base width of stage[L] when the batch began */
	struct {
		uint64_t index;
		unsigned count;
		log_pieces pieces;
		tl_buf buf;          /* the bundle's entries so far, length-prefixed */
		unsigned from;       /* count when the batch began */
		size_t from_off;     /* buf.len when the batch began */
	} bundle;
	rocksdb_writebatch_t *wb;
	int batch_err;
	tl_buf note;

	/* The last commit, under `lock`: what every reader sees. */
	pthread_rwlock_t lock;
	uint64_t size;
	tl_hash root;
	tl_buf checkpoint;
	struct log_edge pub[LOG_LEVELS];
	struct tl_log_stats stats;

	/* Full tiles recently used by proofs, direct-mapped, under cache_lock. */
	pthread_mutex_t cache_lock;
	struct log_cache_slot *cache;
	size_t ncache;
};

/* Key encodings (log_store.c). */
enum { LOG_TILE_KEY_MAX = 10, LOG_BUNDLE_KEY_MAX = 9 };
size_t tl_log__tile_key(uint8_t *key, unsigned level, uint64_t index, int piece);
size_t tl_log__bundle_key(uint8_t *key, uint64_t index, int piece);
/* The offsets of a full bundle's entries, in tl_meta: "o" N(8). */
size_t tl_log__offsets_key(uint8_t *key, uint64_t index);
enum { LOG_OFFSETS_BYTES = 4 * TL_TILE_WIDTH };
extern const char tl_log__meta_checkpoint[];

/* Copies the changed part of an edge tile from the committer's state to the published one. */
void tl_log__edge_copy(struct log_edge *dst, const struct log_edge *src);

/* Walks at most `want` length-prefixed entries from the start of a bundle or piece:
 * *found gets how many there were, *bytes how many bytes they take. */
int tl_log__bundle_walk(size_t *bytes, unsigned *found, const uint8_t *data, size_t len, unsigned want) TL_MUST_USE;

/* One tile or bundle as stored: its full value, or its pieces joined, through one iterator
 * so the read is a consistent snapshot even while the committer replaces pieces by the full
 * value. At most `want` units (hashes or entries) are copied to `out`. */
struct log_blob {
	bool full;
	unsigned units;
	log_pieces pieces;
};
int tl_log__read_blob(tl_buf *out, struct log_blob *b, tl_log *log, bool entries, unsigned level, uint64_t index,
	unsigned want) TL_MUST_USE;

/* A full tile (level, index) or entry bundle (index) by one point read, pinned where RocksDB
 * holds it: *v stays valid until tl_db_release(*pin). A full tile is checked to be
 * TL_TILE_NODES hashes. A missing one is corrupt storage (TL_E_INTERNAL): callers ask only
 * for what the published state says is stored full. */
int tl_log__pin_full(const uint8_t **v, size_t *vlen, void **pin, tl_log *log, bool entries, unsigned level,
	uint64_t index) TL_MUST_USE;

/* tl_node_fn over the published state: the rightmost tile of each level is in memory,
 * every other tile is full and in the database (read through the cache). */
int tl_log__node(tl_hash *out, void *ctx, unsigned level, uint64_t index) TL_MUST_USE;

/* The committer (log_commit.c). */
void *tl_log__committer_main(void *arg);
/* Writes the first, empty checkpoint of a new log. */
int tl_log__commit_empty(tl_log *log) TL_MUST_USE;

static inline void log_pieces_set(log_pieces *p, unsigned start)
{
	p->bits[start / 64] |= UINT64_C(1) << (start % 64);
}

static inline bool log_pieces_has(const log_pieces *p, unsigned start)
{
	return (p->bits[start / 64] >> (start % 64)) & 1;
}

#endif
