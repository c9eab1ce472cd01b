/*
 * What a lookup of a version learns, kept so the next reader of it needs no registry read,
 * no log read and no entry parse (GET /v1/domains/<td>/bundle, .../bundles/<seq>): a version's
 * summary (the fields a watcher is told: domain, sequence, SHA-256, CID, leaf index) under
 * (td, sequence), and each domain's newest version under td.
 *
 * A version under a sequence never changes once logged, so those slots are never
 * invalidated, only replaced by other keys. A domain's newest changes with each commit: the
 * commit's fan-out (committed.c, on a publish and on a replica's round alike) sets it before
 * the publisher is answered. And every newest carries the registry's applied index as it
 * was before what it says was read (bd_registry_applied, which moves only once a commit's
 * registry state is written): it is used only while that index has not moved, so no reader
 * is ever given an older version than the registry holds, whatever the order in which
 * commits, their fan-out and readers that missed and went to the registry meet (and a
 * commit whose fan-out could not read its entries back costs misses, not stale answers).
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

/* The summary kept for td's version `sequence`; false when not kept. */
bool version_cache_get(struct watch_event *out, struct version_cache *c, const char *td, uint64_t sequence);

/* The summary of td's newest version, kept while the registry's applied index is still
 * `applied`; false otherwise. */
bool version_cache_newest(struct watch_event *out, struct version_cache *c, const char *td, uint64_t applied);

/* Keeps what a lookup found: v under (v->domain, v->sequence), and as the domain's newest
 * when `newest`, valid while the registry's applied index stays `applied` (read before the
 * lookup); a commit's fan-out passes the index just past the version's entry. Any thread. */
void version_cache_put(struct version_cache *c, const struct watch_event *v, bool newest, uint64_t applied);

/* Slots in use, (td, sequence) and newest, counted (for the tests). */
void version_cache_count(uint64_t *versions, uint64_t *newest, struct version_cache *c);

#endif
