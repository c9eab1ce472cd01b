/*
 * The durable pin queue: publishing never waits on IPFS. bd_pinq_enqueue records, in one
 * synced RocksDB write (column family "pinq" of the shared database), that the DAG under a
 * root must reach the IPFS node; a worker later puts every block of that DAG (read from
 * the local block store, the source of truth) with block/put, then pins the root
 * recursively with pin/add, and marks the item pinned.
 *
 * A failed attempt is retried after an exponential back-off with jitter:
 *     delay(n) = min(cap, base * 2^(n-1)) * (1 - jitter * u),  u uniform in [0, 1)
 * after the n-th consecutive failure. Failures are of two kinds:
 *   - transient (TL_E_UNAVAILABLE, TL_E_NOMEM: the node is down, slow or answering 5xx):
 *     retried for ever, at most `cap` apart. The node coming back is the normal end.
 *   - permanent (anything else: a bad reply, a CID mismatch, refused credentials, a block
 *     missing from the local store): retried too, but after `max_failures` of them the
 *     item is marked failed and left alone until bd_pinq_enqueue or bd_pinq_retry_failed
 *     re-arms it, so a broken item neither hides among pending ones nor spins for ever.
 * Every item keeps its attempt count, next try time and last error, which bd_pinq_list
 * shows and bd_pinq_counts sums for metrics. State survives restarts: reopening the
 * database resumes pending items where they were (with their back-off).
 *
 * The queue is safe to use from several threads: enqueue and the readers may run while the
 * worker (bd_pinq_start, or bd_pinq_run_once in tests) pushes; network calls are made
 * without holding the queue's lock.
 */
#ifndef BUNDLED_PINQ_H
#define BUNDLED_PINQ_H

#include <stddef.h>
#include <stdint.h>

#include "bundled/blockstore.h"
#include "bundled/cid.h"
#include "bundled/dag.h"
#include "bundled/ipfs.h"
#include "translog/db.h"
#include "translog/error.h"

typedef struct bd_pinq bd_pinq;

extern const char *const bd_pinq_column_family; /* "pinq" */

/* Where the queue sends blocks and pins: the IPFS client (bd_pinq_transport_ipfs), or in
 * unit tests a fake. Both functions return 0 or a negative tl_err with a message. */
typedef struct bd_pinq_transport {
	int (*put_block)(void *ctx, const bd_block *block);
	int (*pin)(void *ctx, const bd_cid *root);
	void *ctx;
} bd_pinq_transport;

/* A transport over `ipfs` (bd_ipfs_block_put, bd_ipfs_pin_add); `ipfs` must outlive it. */
bd_pinq_transport bd_pinq_transport_ipfs(bd_ipfs *ipfs);

typedef struct bd_pinq_options {
	uint64_t backoff_base_ms; /* delay after the first failure (default 1000) */
	uint64_t backoff_cap_ms;  /* the longest delay (default 600000: 10 minutes) */
	unsigned jitter_percent;  /* 0..100: up to this share of each delay is taken off at
	                           * random, so items failed together spread out (default 20) */
	uint32_t max_failures;    /* permanent failures before an item is failed (default 8;
	                           * 0: never) */
	/* Milliseconds since the Unix epoch; NULL: the system clock. Times are stored, so they
	 * are wall-clock times. Tests set a fake clock. */
	uint64_t (*clock)(void *ctx);
	void *clock_ctx;
} bd_pinq_options;

/* The defaults above. */
void bd_pinq_options_default(bd_pinq_options *o);

/* The back-off delay after the `failures`-th consecutive failure (>= 1), for a uniform
 * random 64-bit value `random`. Pure; exposed for tests and docs. */
uint64_t bd_pinq_backoff(const bd_pinq_options *o, uint32_t failures, uint64_t random);

/* Opens the queue in `db` (opened with bd_pinq_column_family among its names: TL_E_INTERNAL
 * otherwise). `bs` is where the DAGs are read from. `db`, `bs` and the transport's context
 * must outlive the queue. `opts` may be NULL (defaults); TL_E_INPUT if base is 0, cap <
 * base or jitter over 100. Reads every item once to count them. */
int bd_pinq_open(bd_pinq **out, tl_db *db, bd_blockstore *bs, const bd_pinq_transport *transport,
	const bd_pinq_options *opts) TL_MUST_USE;

/* Stops the worker if it runs, and frees the queue (the database keeps its state). */
void bd_pinq_close(bd_pinq *q);

/* Records that the DAG under `root` must be pinned, durably (synced) before returning; it
 * is due at once. The root block must be in the block store (TL_E_NOTFOUND otherwise).
 * An item already pending or pinned is left as it is; a failed one is re-armed (counts
 * reset, due at once). Wakes the worker. */
int bd_pinq_enqueue(bd_pinq *q, const bd_cid *root) TL_MUST_USE;

/* bd_pinq_enqueue as part of the log's commit (a tl_log_hook's stage, see translog/log.h):
 * the item's change goes into the commit's batch `wb` instead of a write of its own, so the
 * pin is durable with the entry that names its root. The root's blocks are expected in the
 * same batch (not checked). A root staged twice in one commit is staged once. Called from
 * the log's committer thread only; the first stage of a commit takes the queue's lock and
 * bd_pinq_end releases it (enqueue, retries and the worker's bookkeeping wait for the
 * commit). */
int bd_pinq_stage(bd_pinq *q, rocksdb_writebatch_t *wb, const bd_cid *root) TL_MUST_USE;
/* The end of the commit staged for: err 0, it is durable (counts move, the worker wakes);
 * otherwise nothing changed. No-op if nothing was staged. */
void bd_pinq_end(bd_pinq *q, int err);

/* One step of the worker: every item pending with a next try at or before `now_ms` gets
 * one attempt (all blocks put, then pin/add), and its new state is stored. *attempted
 * (may be NULL) is how many were tried. Attempts that fail are recorded on their items,
 * not returned; the result is non-zero only if the queue's own storage fails. */
int bd_pinq_run_once(bd_pinq *q, uint64_t now_ms, size_t *attempted) TL_MUST_USE;

/* Starts the worker thread: it runs bd_pinq_run_once with the clock's time whenever an
 * item is due or enqueued (and at least once a minute). TL_E_CONFLICT if already started. */
int bd_pinq_start(bd_pinq *q) TL_MUST_USE;

/* Stops the worker and waits for it; an attempt in progress finishes first (each network
 * call is bounded by the client's timeouts). Harmless if not started. */
void bd_pinq_stop(bd_pinq *q);

/* Re-arms every failed item (as bd_pinq_enqueue does); *count (may be NULL) says how many. */
int bd_pinq_retry_failed(bd_pinq *q, size_t *count) TL_MUST_USE;

typedef enum bd_pin_state {
	BD_PIN_PENDING = 1,
	BD_PIN_PINNED = 2,
	BD_PIN_FAILED = 3,
} bd_pin_state;

/* A stable lower-case name: "pending", "pinned", "failed". */
const char *bd_pin_state_name(bd_pin_state s);

#define BD_PINQ_ERROR_MAX 256

typedef struct bd_pinq_item {
	bd_cid root;
	bd_pin_state state;
	uint32_t attempts;      /* consecutive failed attempts (0 once pinned) */
	uint32_t failures;      /* of those, permanent ones */
	uint64_t enqueued_ms;   /* when it was (last) enqueued */
	uint64_t next_try_ms;   /* pending: when it is due; otherwise 0 */
	uint64_t updated_ms;    /* the last attempt or state change */
	int last_error_code;    /* the tl_err of the last failure, 0 if none */
	char last_error[BD_PINQ_ERROR_MAX]; /* its message, "" if none */
} bd_pinq_item;

/* Reads one item. TL_E_NOTFOUND if `root` was never enqueued. */
int bd_pinq_get(bd_pinq_item *out, bd_pinq *q, const bd_cid *root) TL_MUST_USE;

/* Calls `fn` for every item, in the binary order of their roots' CIDs; stops early, and
 * returns that value, if `fn` returns non-zero. */
int bd_pinq_list(bd_pinq *q, int (*fn)(void *ctx, const bd_pinq_item *item), void *ctx) TL_MUST_USE;

typedef struct bd_pinq_counts {
	size_t pending;
	size_t pinned;
	size_t failed;
	uint64_t attempts_failed;    /* failed attempts since the queue was opened */
	uint64_t storage_errors;     /* worker steps that could not read or write the queue */
} bd_pinq_counts;

/* The numbers of items per state (kept in memory, cheap enough for every metrics scrape). */
void bd_pinq_counts_get(bd_pinq_counts *out, bd_pinq *q);

/* The earliest next try of a pending item, for the worker and tests. TL_E_NOTFOUND if no
 * item is pending. */
int bd_pinq_next_due(uint64_t *when_ms, bd_pinq *q) TL_MUST_USE;

/* When the longest-waiting pending item was (last) enqueued, in ms since the epoch, for the
 * oldest-pending-pin metric. Reads every pending item: O(pending). TL_E_NOTFOUND if no item
 * is pending. */
int bd_pinq_oldest_pending(uint64_t *enqueued_ms, bd_pinq *q) TL_MUST_USE;

/* Milliseconds since the Unix epoch from the system clock. */
uint64_t bd_pinq_clock_system(void *ctx);

#endif
