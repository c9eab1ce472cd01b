/*
 * What a lookup of a version learns, kept so the next reader of it needs no registry read,
 * no log read and no entry parse (GET /v1/domains/<td>/bundle, .../bundles/<seq>): a version's
 * summary (the fields a watcher is told: domain, sequence, SHA-256, CID, leaf index) under
 * (td, sequence), and each domain's newest version under td.
 *
 * A version under a sequence never changes once logged, so those slots are never
 * invalidated, only replaced by other keys. A domain's newest changes with each commit: the
 * commit's fan-out (committed.c, on a publish and on a replica's round alike) sets it before
 * the publisher is answered. A reader that missed and went to the registry may come back
 * with what was newest before a commit that ran meanwhile; it stores it only if no commit
 * ran since it began (the cache's epoch), so the cache never goes back to an older version.
 *
 * Memory is fixed: VERSION_CACHE_SLOTS + VERSION_CACHE_NEWEST_SLOTS summaries, direct-mapped
 * (a new key takes its slot from the one there).
 */
#ifndef BUNDLED_DAEMON_VERSION_CACHE_H
#define BUNDLED_DAEMON_VERSION_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "translog/error.h"
#include "watch.h"

#define VERSION_CACHE_SLOTS 4096       /* (td, sequence) summaries */
#define VERSION_CACHE_NEWEST_SLOTS 1024 /* domains' newest versions */

struct version_cache;

int version_cache_new(struct version_cache **out) TL_MUST_USE;
void version_cache_free(struct version_cache *c);

/* The summary kept for td's version `sequence`, or for td's newest when `newest`; false
 * when not kept. */
bool version_cache_get(struct watch_event *out, struct version_cache *c, const char *td, bool newest,
	uint64_t sequence);

/* Taken before a lookup the caller will version_cache_put. */
uint64_t version_cache_epoch(struct version_cache *c);

/* Keeps what a lookup that began at `epoch` found: v under (v->domain, v->sequence), and as
 * the domain's newest when `newest` and no commit ran since `epoch`. */
void version_cache_put(struct version_cache *c, const struct watch_event *v, bool newest, uint64_t epoch);

/* A version was committed: it is its domain's newest from now on. Any thread. */
void version_cache_committed(struct version_cache *c, const struct watch_event *v);

/* Forgets every domain's newest (a commit whose versions could not be read back). */
void version_cache_forget_newest(struct version_cache *c);

/* Slots in use, (td, sequence) and newest (for the tests and the metrics). */
void version_cache_count(uint64_t *versions, uint64_t *newest, struct version_cache *c);

#endif
