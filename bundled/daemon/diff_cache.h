/*
 * The daemon's diffs between versions of a domain (bundled/diff.h): each made once and kept in
 * RocksDB (column family "diffs", derived state: dropping it loses nothing but time), and
 * precomputed right after a publish, from the domain's DIFF_CACHE_BASES previous versions to
 * the new one, by one background thread, so the publisher's answer does not wait for zstd
 * and the first agents find them made.
 *
 * Bounds: a diff is made only from a base at most DIFF_CACHE_MAX_AGE versions behind its
 * target (older bases: BD_DIFF_STATUS_TOO_OLD, the agent fetches the whole version), and
 * only diffs to the domain's DIFF_CACHE_KEEP newest versions are kept: a publish drops those
 * to older ones. So a domain holds at most DIFF_CACHE_KEEP * DIFF_CACHE_MAX_AGE diffs.
 */
#ifndef BUNDLED_DAEMON_DIFF_CACHE_H
#define BUNDLED_DAEMON_DIFF_CACHE_H

#include <stdint.h>

#include "translog/bytes.h"
#include "translog/db.h"
#include "translog/error.h"

#define DIFF_CACHE_COLUMN_FAMILY "diffs"
#define DIFF_CACHE_BASES 8u     /* diffs precomputed to a new version */
#define DIFF_CACHE_MAX_AGE 64u  /* the furthest base a diff is made from */
#define DIFF_CACHE_KEEP 4u      /* newest target versions whose diffs are kept */
#define DIFF_CACHE_QUEUE 64u    /* publishes waiting for precomputation; more are dropped
                                 * (their diffs are made on the first request instead) */

struct daemon;
struct diff_cache;

/* Opens the cache over d's database (which must have DIFF_CACHE_COLUMN_FAMILY) and starts
 * its thread. */
int diff_cache_open(struct diff_cache **out, struct daemon *d) TL_MUST_USE;
/* Stops the thread (a computation in flight finishes) and frees. */
void diff_cache_close(struct diff_cache *c);

/* Appends the diff from version `from` to version `to` of `td` (from < to, both published,
 * to - from <= DIFF_CACHE_MAX_AGE): from the cache, or made now and kept. TL_E_NOTFOUND for
 * a version the registry does not know. Thread-safe. Counted in
 * bundled_diff_cache_requests_total{result="hit"|"miss"} (registered by diff_cache_open on
 * d->metrics; the precomputation is not counted). */
int diff_cache_get(tl_buf *out, struct diff_cache *c, const char *td, uint64_t from, uint64_t to) TL_MUST_USE;

/* Queues the precomputation of the diffs to `td`'s new version `sequence` and the pruning of
 * old ones; returns at once. */
void diff_cache_published(struct diff_cache *c, const char *td, uint64_t sequence);

#endif
