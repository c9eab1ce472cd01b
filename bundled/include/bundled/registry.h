/*
 * The domain registry: for every trust domain, its current publisher keys, its newest
 * sequence and entry index, and the leaf index of every version. Kept in RocksDB beside the
 * log (its own column family), and derived state only: every fact in it comes from a log
 * entry, so after a crash or on request (`bundled --rebuild-index`) it is rebuilt from the
 * log alone, and the rebuilt registry is identical to the one kept incrementally.
 */
#ifndef BUNDLED_REGISTRY_H
#define BUNDLED_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundled/entry.h"
#include "translog/db.h"
#include "translog/error.h"
#include "translog/log.h"

/* The column family to pass to tl_db_open beside the log's. */
#define BD_REGISTRY_COLUMN_FAMILY "registry"

typedef struct bd_registry bd_registry;

/* One domain as the log has made it. */
typedef struct bd_domain_state {
	char domain[BD_MAX_DOMAIN + 1];
	size_t n_keys;
	char keys[BD_ENTRY_MAX_KEYS][BD_MAX_VKEY + 1]; /* the current publisher keys */
	tl_hash key_fps[BD_ENTRY_MAX_KEYS];            /* their fingerprints, same order */
	uint64_t registered_index;                     /* leaf index of the registration */
	bool has_version;
	uint64_t sequence;      /* newest version's sequence (when has_version) */
	uint64_t version_index; /* its bundle entry's leaf index */
	uint64_t newest_index;  /* leaf index of the domain's newest entry of any kind */
	uint64_t versions;      /* how many versions were published */
	uint64_t keys_time;     /* `time` of the newest domain entry (registration or key change):
	                         * a key change must claim a later time, so an old signed change
	                         * cannot be replayed after the keys moved on */
} bd_domain_state;

/* Opens the registry in `db` and brings it up to date with `log`: entries the registry has
 * not applied yet (after a crash between the log's commit and the registry's write) are
 * applied now, in order. */
int bd_registry_open(bd_registry **out, tl_db *db, tl_log *log) TL_MUST_USE;
void bd_registry_close(bd_registry *r);

/* Drops everything and replays the whole log. */
int bd_registry_rebuild(bd_registry *r, tl_log *log) TL_MUST_USE;

/* Applies the entries at leaf indices first .. first + n - 1 (already durable in the log),
 * in one RocksDB write: all or nothing. Entries must come in log order without gaps
 * (TL_E_CONFLICT if first is not bd_registry_applied()), and each must be a valid step
 * (TL_E_CONFLICT naming the entry: registering a domain twice, an entry for an unknown
 * domain, a sequence not above the newest, adding a held key, removing a key not held or
 * the last one). */
int bd_registry_apply(bd_registry *r, uint64_t first, const bd_entry *entries, size_t n) TL_MUST_USE;

/* Applies whatever the registry has not applied of the log's first `upto` entries, reading
 * them from the log (in write batches of a few hundred). Thread-safe and idempotent: the
 * publisher calls it after each append with the end of its own entries, and a concurrent
 * publisher whose entries come earlier in the log may find them applied already. */
int bd_registry_sync(bd_registry *r, tl_log *log, uint64_t upto) TL_MUST_USE;

/* The registry as part of the log's commit (a tl_log_hook's stage, see translog/log.h):
 * applies the entries first .. first + n - 1 of the commit being built by putting their
 * effect, and the new applied index, into the commit's batch `wb`, on top of what earlier
 * stages of the same commit put (so an entry sees the entries before it in its commit).
 * Entries are passed over as bd_registry_sync passes them over. Called from the log's
 * committer thread only; the first stage of a commit takes the registry's lock and
 * bd_registry_end(err) releases it, so applies and syncs wait for the commit. Entries
 * committed before and not applied yet (first above the applied index at a commit's start)
 * are caught up from `log` first. TL_E_INTERNAL for a gap; storage errors fail the commit. */
int bd_registry_stage(bd_registry *r, tl_log *log, rocksdb_writebatch_t *wb, uint64_t first,
	const void *const *entries, const size_t *lens, size_t n) TL_MUST_USE;
/* The end of the commit staged for: err 0, it is durable (the applied index moves past it);
 * otherwise nothing of it was written and the registry stays where it was. No-op if
 * nothing was staged. */
void bd_registry_end(bd_registry *r, int err);

/* The next leaf index the registry has not applied. */
uint64_t bd_registry_applied(const bd_registry *r);

/* How many log entries the registry passed over since it was opened because they are not
 * bundled entries or not valid steps (a forged or damaged store: the publisher never
 * appends one). They change nothing; the daemon reports them, and auditors find them. */
uint64_t bd_registry_skipped(const bd_registry *r);

int bd_registry_get(bd_domain_state *out, bd_registry *r, const char *domain) TL_MUST_USE; /* TL_E_NOTFOUND */
/* The leaf index of a domain's version with this sequence; TL_E_NOTFOUND if none. */
int bd_registry_version(uint64_t *index, bd_registry *r, const char *domain, uint64_t sequence) TL_MUST_USE;
/* Calls fn(ctx, sequence, index) for each version of `domain` whose bundle entry's leaf
 * index is above `after`, newest first, until fn returns non-zero (which is returned). No
 * such domain: no call. */
int bd_registry_versions_since(bd_registry *r, const char *domain, uint64_t after,
	int (*fn)(void *ctx, uint64_t sequence, uint64_t index), void *ctx) TL_MUST_USE;
/* Calls fn for every domain in name order until fn returns non-zero (which is returned). */
int bd_registry_list(bd_registry *r, int (*fn)(void *ctx, const bd_domain_state *d), void *ctx) TL_MUST_USE;

/* A digest of the whole registry content, to compare an incrementally kept registry with a
 * rebuilt one. */
int bd_registry_digest(tl_hash *out, bd_registry *r) TL_MUST_USE;

#endif
