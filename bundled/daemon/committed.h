/*
 * What readers are told when versions are committed: the one fan-out that both a publish
 * (routes_publish.c) and a read replica's round (mirrors.c, for the entries it took from its
 * primary) run, so that /v1/watch and the diff endpoint behave the same on both.
 */
#ifndef BUNDLED_DAEMON_COMMITTED_H
#define BUNDLED_DAEMON_COMMITTED_H

#include <stdbool.h>
#include <stdint.h>

#include "translog/error.h"
#include "watch.h"

struct daemon;

/* A version (of a bundle, or made by a revocation) is committed and in the registry: its
 * diffs are queued for precomputation, then its watchers are told. Any thread. */
void committed_version(struct daemon *d, const struct watch_event *ev);

/* The event of the log's entry at `index` under a checkpoint of `tree_size`: 0 with
 * *is_version when it is a version's bundle entry (a revocation's when the entry before it
 * is a revocation of the same domain), 0 and !*is_version for any other entry. */
int committed_event_at(struct watch_event *ev, bool *is_version, struct daemon *d, uint64_t index,
	uint64_t tree_size) TL_MUST_USE;

/* Entries [first, first + n) were committed under a checkpoint of `tree_size` (a replica's
 * round): committed_version for each version among them. */
void committed_entries(struct daemon *d, uint64_t first, uint64_t n, uint64_t tree_size);

#endif
