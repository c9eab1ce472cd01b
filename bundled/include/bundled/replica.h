/*
 * A read replica: follows a primary bundled's log over its public read API and keeps a
 * verified copy that the replica's daemon serves (bundled --replica-of URL).
 *
 * Each round (bd_replica_step):
 *   1. fetches the primary's checkpoint, verifies its signature with the log's verifier key
 *      (never with anything the primary says), and proves it consistent with the checkpoint
 *      the replica stores (tl_follow_update; the first round trusts the key alone);
 *   2. reads the new entries from entry bundles, every one proven against that checkpoint
 *      (tl_follow_entries);
 *   3. for each bundle entry, fetches the version's blocks by CID from the primary's
 *      gateway (each one checked against its CID) and checks that their content has the
 *      entry's size and SHA-256, then stores them;
 *   4. appends the entries with the primary's own signed checkpoint (tl_log_append_signed);
 *      the registry's state after them rides in the same commit (the replica installs the
 *      log's commit hook, bd_registry_stage), so a reader that sees the new size finds the
 *      versions in it. The registry is derived from the followed entries exactly as
 *      bundled --rebuild-index derives it. The replica owns the log's hook while it lives.
 * Nothing newer than a verified, consistent checkpoint is ever stored or served. Once the
 * entries are stored, on_appended tells the daemon, which tells its readers (watchers, diffs)
 * what a publish would have told them.
 *
 * Rounds run every interval_ms; with watch_primary, the follower also holds a GET /v1/watch
 * connection to the primary (bundled/watch.h, every domain) and runs a round as soon as an
 * event arrives, so its lag is one round, not the interval. The interval stays the fallback:
 * for a primary that does not serve the watch, while the connection is down, and for what
 * sends no event (registrations, key changes, new cosignatures).
 *
 * A primary that forks or rolls back (TL_E_CONFLICT from step 1) halts the replica for good:
 * it keeps its last verified state, writes the evidence (bundled/evidence.h) into
 * `evidence_dir`, and reports it in its status; the evidence on disk keeps it halted after a
 * restart, until an operator removes it. Any other failure (primary down, a tile that does
 * not verify) is retried on the next round.
 *
 * A round catches up at most TL_LOG_MAX_APPEND entries and TL_LOG_MAX_APPEND_BYTES bytes
 * (the replica's log commits the primary's checkpoint with the entries it covers, in one
 * write): a replica further behind than that is seeded from a backup of the primary's data
 * (bundlectl admin backup, without its key).
 */
#ifndef BUNDLED_REPLICA_H
#define BUNDLED_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundled/blockstore.h"
#include "bundled/client.h"
#include "bundled/registry.h"
#include "translog/key.h"
#include "translog/log.h"

/* Where a halted replica writes its evidence, inside its data directory. */
#define BD_REPLICA_EVIDENCE_DIR "replica-fork"

typedef struct bd_replica bd_replica;

/* What the replica knows, for /metrics and /healthz. */
typedef struct bd_replica_status {
	uint64_t size;               /* entries stored and served */
	uint64_t primary_size;       /* the size of the newest verified checkpoint of the primary */
	uint64_t rounds, failures;   /* rounds run, and those that failed (retried) */
	uint64_t last_sync_unix_ms;  /* end of the last round that reached the primary's size */
	uint64_t behind_since_unix_ms; /* when the replica first saw the primary ahead (0: level) */
	bool halted;                 /* the primary forked: nothing more is taken from it */
	char error[256];             /* the last failure, or the fork */
} bd_replica_status;

typedef struct bd_replica_options {
	tl_log *log;                 /* opened with tl_log_open_replica(log_key) */
	bd_registry *registry;
	bd_blockstore *blocks;
	const tl_verifier *log_key;  /* the primary log's verifier key */
	bd_client_options primary;   /* the primary's base URL and transport options */
	const char *evidence_dir;    /* where a fork's evidence goes */
	unsigned interval_ms;        /* the follower thread's pause between rounds; 0: 1000 */
	bool watch_primary;          /* also run a round on each of the primary's watch events */
	/* Called on the follower thread after each of its rounds with the round's result
	 * (tl_error_message() says why it failed) and the status; NULL: none. */
	void (*on_round)(void *ctx, int err, const struct bd_replica_status *status);
	/* Called on the follower thread once entries [first, first + n) are stored under a
	 * checkpoint of tree_size and the registry holds them; NULL: none. */
	void (*on_appended)(void *ctx, uint64_t first, uint64_t n, uint64_t tree_size);
	/* Called on the watch's thread when its connection to the primary is made (connected) or
	 * lost or refused (why: the message), for logs; NULL: none. */
	void (*on_watch)(void *ctx, bool connected, const char *why);
	void *ctx;
} bd_replica_options;

/* Makes a replica (nothing fetched yet). The options' pointers must outlive it. A halted
 * state left by an earlier run (evidence in evidence_dir) is picked up. */
int bd_replica_new(bd_replica **out, const bd_replica_options *opts) TL_MUST_USE;

/* One round, as above. 0 when the replica holds the primary's current checkpoint;
 * TL_E_CONFLICT when the primary forked (now or before: the replica is halted); any other
 * error when the round failed and changed nothing durable but blocks. */
int bd_replica_step(bd_replica *r) TL_MUST_USE;

/* Runs rounds on a thread of its own, every interval_ms (and on each watch event with
 * watch_primary), until bd_replica_stop. */
int bd_replica_start(bd_replica *r) TL_MUST_USE;
void bd_replica_stop(bd_replica *r);

void bd_replica_get_status(bd_replica_status *out, bd_replica *r);

/* The primary's URL, safe to print (no user-info). */
const char *bd_replica_primary(const bd_replica *r);

void bd_replica_free(bd_replica *r);

#endif
