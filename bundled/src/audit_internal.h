/*
 * The auditor's pieces (internal to the bundled core): the state a run resumes from
 * (audit_state.c), the replay of what the entries say (audit_entries.c), and the fetch of a
 * version's bytes by CID (audit_fetch.c). audit.c drives them; see bundled/audit.h.
 */
#ifndef BUNDLED_AUDIT_INTERNAL_H
#define BUNDLED_AUDIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundled/audit.h"
#include "bundled/entry.h"
#include "translog/merkle.h"
#include "translog/tile.h"

/* Tile levels of a tree of at most 2^63 leaves: levels 0..7 of 8 tree levels each. */
#define AUDIT_TILE_LEVELS 8u
#define AUDIT_STATE_FILE "state"
#define AUDIT_EVIDENCE_DIR "evidence"

/* One trust domain as the log's own entries have made it. */
struct audit_domain {
	char name[BD_MAX_DOMAIN + 1];
	size_t n_keys;
	char vkeys[BD_ENTRY_MAX_KEYS][BD_MAX_VKEY + 1];
	tl_hash fps[BD_ENTRY_MAX_KEYS];
	tl_verifier *verifiers[BD_ENTRY_MAX_KEYS];
	uint64_t keys_time;
	bool has_version;
	uint64_t sequence; /* the highest sequence logged */
	char cid[BD_MAX_CID_TEXT + 1]; /* the newest version's CID (what a revocation starts from) */
};

/* Open addressing by name; slots are NULL or owned domains. */
struct audit_domains {
	struct audit_domain **slots;
	size_t cap, n;
};

/* Everything a run resumes from; audit_state_save writes all of it. */
struct audit_state {
	bool has_checkpoint;
	tl_checkpoint checkpoint; /* the last checkpoint verified */
	uint8_t *note;            /* its signed note */
	size_t note_len;
	bool tree_only;           /* the entries were read for the tree only, not checked */
	uint64_t audited;         /* entries [0, audited) are audited */
	tl_frontier frontier;     /* of those entries */
	/* The rightmost (partial) tile of every tile level at `audited`: its base hashes. */
	tl_hash tiles[AUDIT_TILE_LEVELS][TL_TILE_WIDTH];
	struct audit_domains domains;
	/* A revocation whose version has not been read yet (it is the next entry). */
	bool has_revocation;
	uint64_t revocation_index;
	bd_entry revocation;
	uint64_t evidence_count;
	size_t n_findings;
	size_t n_kept;
	bd_audit_finding findings[BD_AUDIT_MAX_FINDINGS];
};

/* What the worker pool finds about one entry from its bytes alone and the domains as the
 * previous entry bundles left them (audit_entry_precheck), for audit_entry_check to use in
 * log order. The signature is checked here against the key the entry names, if a domain of
 * its name holds that key already: the result depends only on the entry, the origin and the
 * key's bytes (which its fingerprint names), so the in-order check can take it whenever the
 * domain holds that key at the entry's index, and each signature is verified once. */
enum audit_sig { AUDIT_SIG_UNCHECKED, AUDIT_SIG_VALID, AUDIT_SIG_INVALID };
struct audit_pre {
	bool parsed;                        /* in the grammar and in canonical form */
	enum audit_sig sig;
	char message[BD_AUDIT_MAX_MESSAGE]; /* why not parsed, or why the signature failed */
	const uint8_t *text;                /* the entry's bytes (in the bundle read) */
	size_t len;
	bd_entry e;                         /* when parsed */
};

/* Threads of the pool at most (the caller's included). */
#define AUDIT_POOL_MAX_THREADS 64u
struct audit_pool;

struct audit {
	const bd_audit_options *opts;
	const char *origin;
	struct audit_state *st;
	bd_audit_report *rep;
	/* Full tiles completed by the entries of the current bundle, to compare with the
	 * server's: (tile level, index). At most one per level per bundle. */
	size_t n_done;
	struct {
		unsigned level;
		uint64_t index;
	} done[AUDIT_TILE_LEVELS];
	struct audit_pool *pool;    /* NULL in tree-only audits */
	struct audit_pre *pre;      /* TL_TILE_WIDTH of them, with the pool */
};

/* Records a finding (kept while there is room; always counted). */
void audit_finding(struct audit_state *st, bd_audit_kind kind, uint64_t index, const char *fmt, ...) TL_PRINTF(4, 5);

/* The state in `dir`: a fresh one if the directory has none yet. TL_E_INPUT if the file is
 * damaged or its checkpoint is not signed by `key` (an auditor does not guess: remove the
 * file to start over). */
int audit_state_load(struct audit_state *st, const char *dir, const tl_verifier *key) TL_MUST_USE;
/* Writes the state atomically (temporary file, fsync, rename, fsync of the directory). */
int audit_state_save(const struct audit_state *st, const char *dir) TL_MUST_USE;
void audit_state_free(struct audit_state *st);

/* The domain named `name`, or NULL. */
struct audit_domain *audit_domain_find(const struct audit_domains *t, const char *name);
/* Adds a new domain with these verifier keys (the table takes nothing from the caller). */
int audit_domain_add(struct audit_domain **out, struct audit_domains *t, const char *name) TL_MUST_USE;
/* Adds a publisher key by its text to d: TL_E_INPUT if it is not a verifier key. */
int audit_domain_add_key(struct audit_domain *d, const char *vkey) TL_MUST_USE;
/* The position of the key with fingerprint fp among d's keys, or -1. */
int audit_domain_key_index(const struct audit_domain *d, const tl_hash *fp);
/* Drops d's key at position k. */
void audit_domain_remove_key(struct audit_domain *d, size_t k);
void audit_domains_free(struct audit_domains *t);
/* Whether e is signed by a key d holds: 0, or TL_E_UNAUTHORIZED naming what failed. */
int audit_domain_signed(const struct audit_domain *d, const bd_entry *e, const char *origin, enum audit_sig pre,
	const char *pre_message) TL_MUST_USE;
/* Applies the domain entry e (a registration or key change, logged in the log `origin`) to
 * the table, as the publisher's rules allow (docs/formats.md, "What the log accepts"): 0, or
 * TL_E_UNAUTHORIZED (not signed by a key the domain holds) or TL_E_CONFLICT (not a valid
 * step: registered twice, unknown domain, not later than the last change, a key held or not
 * held, the last key) naming why, and nothing is changed, except that a registration with
 * a bad key registers the domain with its other keys; TL_E_NOMEM. */
int audit_domain_step(struct audit_domains *t, const bd_entry *e, const char *origin, enum audit_sig pre,
	const char *pre_message) TL_MUST_USE;

/* Fills pre from pre->text: grammar, canonical form, and the signature when the domain holds
 * the key already. Reads a->st and changes nothing but *pre: safe on several threads at once
 * while nothing changes the state. */
void audit_entry_precheck(const struct audit *a, struct audit_pre *pre);
/* Checks entry `index` (prechecked) against the state the earlier entries made, and updates
 * that state. Findings are recorded; the return is 0 or an error that stops the audit (out
 * of memory, the block source unreachable). In log order, on one thread. */
int audit_entry_check(struct audit *a, uint64_t index, const struct audit_pre *pre) TL_MUST_USE;

/* A pool of `threads` threads, the caller's included (0: one per online CPU, at most
 * AUDIT_POOL_MAX_THREADS). */
int audit_pool_start(struct audit_pool **out, unsigned threads) TL_MUST_USE;
/* Runs fn(ctx, i) for i in [0, n) on the pool and the calling thread; returns when every
 * call has returned. */
void audit_pool_run(struct audit_pool *p, void (*fn)(void *ctx, size_t i), void *ctx, size_t n);
void audit_pool_stop(struct audit_pool *p);
/* Appends the file content of the UnixFS DAG rooted at `cid_text` (at most `max` bytes),
 * every block fetched from `c` and checked against its CID. TL_E_CONFLICT for a block whose
 * bytes are not its CID's, TL_E_NOTFOUND if the source lacks one, TL_E_INPUT for a DAG that
 * is not a UnixFS file or is larger than `max`. */
int audit_fetch_file(tl_buf *out, bd_client *c, const char *cid_text, uint64_t max) TL_MUST_USE;

/* Entry bundle reader: the next length-prefixed entry of `cur`. TL_E_INPUT if truncated. */
int audit_bundle_next(const uint8_t **entry, size_t *len, tl_cursor *cur) TL_MUST_USE;

#endif
