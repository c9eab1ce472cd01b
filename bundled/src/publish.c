/*
 * The publishing transaction (publish.h). Every request runs in the same order:
 *
 *   1. parse the entry and check it against the registry (domain, key, signature, time,
 *      sequence) and re-derive the version's canonical bytes, SHA-256, size and CID, and
 *      check the version's blocks;
 *   2. append the entries to the log and wait for the durable checkpoint. The log's commit
 *      hook (installed by bd_publisher_new) puts into that very commit's write batch the
 *      version's blocks, its pin-queue record and the registry's update for the entries;
 *   3. answer from the registry, which the commit brought up to the entries.
 *
 * Any refusal happens in step 1, before anything is written. One synced write per group
 * commit carries the entries, their checkpoint, the blocks, the pins and the registry of
 * every request in the group, so after any crash the database holds all of a commit or
 * none of it: a logged version always has its blocks and its pin, the registry is exactly
 * the state after the committed prefix, and a failed commit leaves not even orphan blocks.
 * (The registry is still derived state: bd_registry_open catches up with entries a registry
 * written elsewhere missed, and `bundled --rebuild-index` rebuilds it from the log alone.)
 *
 * Requests for one domain are serialised by a striped lock table (a domain always maps to
 * the same stripe), held from step 1 until the commit returns, so the registry state read
 * in step 1 cannot change before the entries are logged, and two versions of one domain
 * never share a commit; within a commit, the registry's staging sees each entry after the
 * ones before it (a revocation and its version, or appends made by other callers).
 */
#include "bundled/publish.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/bundle.h"
#include "bundled/dag.h"

/* Enough that unrelated domains rarely share a stripe (a stripe is held across the log's
 * durable commit); a mutex each. */
#define STRIPES 1024u

struct bd_publisher {
	tl_log *log;
	tl_log_hook hook;
	bd_registry *registry;
	bd_blockstore *blocks;
	bd_pinq *pins;
	bd_chunker chunker;
	pthread_mutex_t stripes[STRIPES];
};

/* What a request adds to its commit besides its entries: a version's blocks and pin. */
struct rider {
	const bd_dag *dag;
	bd_cid root;
};

/* The log's commit hook (see the top): runs on the committer thread, in log order. */
static int hook_stage(void *ctx, rocksdb_writebatch_t *wb, uint64_t first, const void *const *entries,
	const size_t *lens, size_t n, void *req)
{
	bd_publisher *p = ctx;
	const struct rider *v = req;
	int err;

	if (v != NULL) {
		bd_blockstore_stage_dag(p->blocks, wb, v->dag);
		if (p->pins != NULL && (err = bd_pinq_stage(p->pins, wb, &v->root)) != 0)
			return tl_error_wrap(err, "the version's pin could not be queued");
	}
	return bd_registry_stage(p->registry, p->log, wb, first, entries, lens, n);
}

static void hook_end(void *ctx, int err)
{
	bd_publisher *p = ctx;

	bd_registry_end(p->registry, err);
	if (p->pins != NULL)
		bd_pinq_end(p->pins, err);
}

int bd_publisher_new(bd_publisher **out, const bd_publish_options *opts)
{
	bd_publisher *p;
	int err;

	*out = NULL;
	if (opts->log == NULL || opts->registry == NULL || opts->blocks == NULL)
		return tl_error_set(TL_E_INPUT, "publisher: the log, the registry and the block store are required");
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	p->log = opts->log;
	p->registry = opts->registry;
	p->blocks = opts->blocks;
	p->pins = opts->pins;
	p->chunker = bd_chunker_default();
	if (opts->chunker != NULL && (err = bd_chunker_parse(&p->chunker, opts->chunker)) != 0) {
		free(p);
		return err;
	}
	for (size_t i = 0; i < STRIPES; i++)
		pthread_mutex_init(&p->stripes[i], NULL);
	p->hook = (tl_log_hook){ hook_stage, hook_end, p };
	tl_log_set_hook(p->log, &p->hook);
	*out = p;
	return 0;
}

void bd_publisher_free(bd_publisher *p)
{
	if (p == NULL)
		return;
	tl_log_set_hook(p->log, NULL);
	for (size_t i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&p->stripes[i]);
	free(p);
}

static pthread_mutex_t *stripe(bd_publisher *p, const char *domain)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const char *c = domain; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	return &p->stripes[h % STRIPES];
}

/* ---- checks ---- */

static int check_time(const bd_entry *e, uint64_t now)
{
	uint64_t skew = e->time > now ? e->time - now : now - e->time;

	if (skew > BD_PUBLISH_MAX_SKEW_SECONDS)
		return tl_error_set(TL_E_INPUT, "entry time %llu is %llu s from the server's clock (at most %u allowed)",
			(unsigned long long)e->time, (unsigned long long)skew, BD_PUBLISH_MAX_SKEW_SECONDS);
	return 0;
}

/* The entry is signed by one of the domain's current keys. */
static int check_signer(const bd_publisher *p, const bd_domain_state *d, const bd_entry *e)
{
	tl_verifier *v = NULL;
	int err;

	for (size_t i = 0; i < d->n_keys; i++) {
		if (!tl_hash_equal(&d->key_fps[i], &e->key))
			continue;
		if ((err = tl_verifier_parse(&v, d->keys[i], strlen(d->keys[i]))) != 0)
			return tl_error_wrap(TL_E_INTERNAL, "registry key of %s", d->domain);
		err = bd_entry_verify(e, tl_log_origin(p->log), v);
		tl_verifier_free(v);
		return err;
	}
	return tl_error_set(TL_E_UNAUTHORIZED, "the signing key is not a current publisher key of %s", d->domain);
}

static int parse_kind(bd_entry *e, const uint8_t *text, size_t len, bd_entry_kind kind, const char *what)
{
	int err;

	if ((err = bd_entry_parse(e, text, len)) != 0)
		return tl_error_wrap(err, "%s", what);
	if (e->kind != kind)
		return tl_error_set(TL_E_INPUT, "%s: not an entry of the expected kind", what);
	return 0;
}

/* The start of a signed request: its entry parsed (of this kind) and room for the domain's
 * state, both on the heap (a few KiB each); the caller frees both, also on failure. */
static int request_begin(bd_entry **e, bd_domain_state **d, const uint8_t *text, size_t len, bd_entry_kind kind,
	const char *what)
{
	*e = calloc(1, sizeof(**e));
	*d = malloc(sizeof(**d));
	if (*e == NULL || *d == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	return parse_kind(*e, text, len, kind, what);
}

/* 1 if the log holds exactly `text` at `index`, 0 if it holds other bytes. */
static int logged_as(bd_publisher *p, uint64_t index, const uint8_t *text, size_t len)
{
	tl_buf have = tl_buf_make(TL_LOG_MAX_ENTRY + 1);
	int err = tl_log_entry(&have, p->log, index);

	if (err == 0)
		err = have.len == len && memcmp(have.data, text, len) == 0;
	tl_buf_free(&have);
	return err;
}

/* The canonical bytes of a version, checked against its bundle entry, and their DAG. */
struct version {
	tl_buf canon;
	bd_dag *dag;
};

static void version_free(struct version *v)
{
	tl_buf_free(&v->canon);
	bd_dag_free(v->dag);
}

/* Re-derives the version from the submitted bundle (bd_entry_set_version, with the entry's
 * sequence and refresh hint) and checks it is what the entry signs. */
static int derive_version(struct version *out, bd_publisher *p, bd_bundle *b, const bd_entry *e)
{
	bd_entry *got = calloc(1, sizeof(*got));
	char hex[2 * TL_HASH_SIZE + 1];
	int err;

	out->canon = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	out->dag = NULL;
	if (got == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((err = bd_entry_set_version(got, &out->canon, &out->dag, b, e->sequence, e->refresh_hint, &p->chunker)) != 0)
		goto out;
	tl_hex_encode(hex, got->sha256.b, TL_HASH_SIZE);
	if (got->size != e->size)
		err = tl_error_set(TL_E_INPUT, "the canonical bytes are %llu bytes, the entry signs %llu",
			(unsigned long long)got->size, (unsigned long long)e->size);
	else if (!tl_hash_equal(&got->sha256, &e->sha256))
		err = tl_error_set(TL_E_INPUT, "the canonical bytes' SHA-256 is %s, not what the entry signs", hex);
	else if (strcmp(got->cid, e->cid) != 0)
		err = tl_error_set(TL_E_INPUT, "the canonical bytes' CID is %s, the entry signs %s", got->cid, e->cid);
out:
	free(got);
	return err;
}

/* A version's sequence against the domain: the very same entry again (1), a new version
 * above the newest (0), or TL_E_CONFLICT. `text` is the bundle entry; for a revocation,
 * `rev` is its text, logged just before. */
static int check_sequence(bd_publish_result *res, bd_publisher *p, const bd_domain_state *d, const bd_entry *e,
	const uint8_t *text, size_t len, const uint8_t *rev, size_t rev_len)
{
	uint64_t index = 0;
	int err = bd_registry_version(&index, p->registry, d->domain, e->sequence);

	if (err == 0) {
		int same = logged_as(p, index, text, len);

		if (same == 1 && rev != NULL)
			same = index > 0 ? logged_as(p, index - 1, rev, rev_len) : 0;
		if (same < 0)
			return same;
		if (same == 0)
			return tl_error_set(TL_E_CONFLICT, "%s: sequence %llu is already used by another version", d->domain,
				(unsigned long long)e->sequence);
		res->existing = true;
		res->index = index;
		res->n_entries = rev != NULL ? 2 : 1;
		res->first = index + 1 - res->n_entries;
		res->tree_size = tl_log_size(p->log);
		return 1;
	}
	if (err != TL_E_NOTFOUND)
		return err;
	if (d->has_version && e->sequence <= d->sequence)
		return tl_error_set(TL_E_CONFLICT, "%s: sequence %llu is not above the newest, %llu", d->domain,
			(unsigned long long)e->sequence, (unsigned long long)d->sequence);
	return 0;
}

/* ---- the write path ---- */

/* Appends entries (already checked), with the version's blocks and pin (v, may be NULL) in
 * the same commit, and fills res. The commit brought the registry up to the entries; the
 * sync is a no-op then, and a safety net otherwise. */
static int commit(bd_publish_result *res, bd_publisher *p, const void *const *texts, const size_t *lens, size_t n,
	struct rider *v)
{
	uint64_t first = 0;
	int err;

	if ((err = tl_log_append_with(&first, p->log, texts, lens, n, v)) != 0)
		return err;
	res->first = first;
	res->index = first + n - 1;
	res->n_entries = n;
	res->existing = false;
	res->tree_size = tl_log_size(p->log);
	if ((err = bd_registry_sync(p->registry, p->log, first + n)) != 0)
		return tl_error_wrap(err, "logged at %llu, but the registry could not follow", (unsigned long long)first);
	return 0;
}

static int enqueue_pin(bd_publisher *p, const char *cid_text)
{
	bd_cid cid;
	int err;

	if (p->pins == NULL)
		return 0;
	if ((err = bd_cid_parse(&cid, cid_text, strlen(cid_text))) != 0 || (err = bd_pinq_enqueue(p->pins, &cid)) != 0)
		return tl_error_wrap(err, "the version's pin could not be queued");
	return 0;
}

/* What a version adds to its commit: its blocks (checked here, outside the commit) and its
 * root for the pin queue. */
static int version_rider(struct rider *out, const struct version *v, const bd_entry *e)
{
	int err;

	out->dag = v->dag;
	if ((err = bd_blockstore_check_dag(v->dag)) != 0 || (err = bd_cid_parse(&out->root, e->cid, strlen(e->cid))) != 0)
		return tl_error_wrap(err, "the version's blocks");
	return 0;
}

/* Under the domain's stripe: the registry must reflect every committed entry (a previous
 * request may have logged and then failed to sync). */
static int domain_state(bd_domain_state *d, bd_publisher *p, const char *domain)
{
	int err = bd_registry_sync(p->registry, p->log, tl_log_size(p->log));

	if (err == 0)
		err = bd_registry_get(d, p->registry, domain);
	return err;
}

int bd_publish_register(bd_publish_result *res, bd_publisher *p, const char *domain, const char *const *vkeys,
	size_t n_keys, uint64_t now)
{
	bd_entry *e = calloc(1, sizeof(*e));
	bd_domain_state *d = malloc(sizeof(*d));
	tl_buf text = tl_buf_make(BD_ENTRY_MAX_SIZE);
	tl_hash fps[BD_ENTRY_MAX_KEYS];
	pthread_mutex_t *lock = NULL;
	int err;

	memset(res, 0, sizeof(*res));
	if (e == NULL || d == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = bd_domain_name_check(domain, strlen(domain))) != 0)
		goto out;
	if (n_keys == 0 || n_keys > BD_ENTRY_MAX_KEYS) {
		err = tl_error_set(TL_E_INPUT, "a registration holds 1..%u publisher keys, not %zu", BD_ENTRY_MAX_KEYS, n_keys);
		goto out;
	}
	e->kind = BD_ENTRY_DOMAIN;
	e->action = BD_DOMAIN_REGISTER;
	e->by_operator = true;
	e->time = now;
	memcpy(e->domain, domain, strlen(domain) + 1);
	/* The grammar wants the keys in fingerprint order: sort them (insertion, n <= 16). */
	for (size_t i = 0; i < n_keys; i++) {
		tl_verifier *v = NULL;
		size_t len = strlen(vkeys[i]), j = i;
		tl_hash fp;

		if (len > BD_MAX_VKEY || (err = tl_verifier_parse(&v, vkeys[i], len)) != 0) {
			err = len > BD_MAX_VKEY ? tl_error_set(TL_E_INPUT, "publisher key of %zu bytes", len) : err;
			tl_error_wrap(err, "publisher key %zu", i + 1);
			goto out;
		}
		bd_key_fingerprint(&fp, v);
		tl_verifier_free(v);
		for (; j > 0 && memcmp(fps[j - 1].b, fp.b, TL_HASH_SIZE) > 0; j--) {
			fps[j] = fps[j - 1];
			memcpy(e->keys[j], e->keys[j - 1], sizeof(e->keys[0]));
		}
		if (j > 0 && tl_hash_equal(&fps[j - 1], &fp)) {
			err = tl_error_set(TL_E_INPUT, "publisher key %zu is given twice", i + 1);
			goto out;
		}
		fps[j] = fp;
		memcpy(e->keys[j], vkeys[i], len + 1);
		e->n_keys++;
	}
	/* Writing checks every key's canonical form and type too. */
	if ((err = bd_entry_write(&text, e)) != 0)
		goto out;
	lock = stripe(p, domain);
	pthread_mutex_lock(lock);
	err = domain_state(d, p, domain);
	if (err == 0)
		err = tl_error_set(TL_E_CONFLICT, "trust domain %s is already registered", domain);
	else if (err == TL_E_NOTFOUND)
		err = commit(res, p, (const void *const[]){ text.data }, (const size_t[]){ text.len }, 1, NULL);
	pthread_mutex_unlock(lock);
out:
	tl_buf_free(&text);
	free(e);
	free(d);
	return err;
}

int bd_publish_key_change(bd_publish_result *res, bd_publisher *p, const uint8_t *entry, size_t entry_len,
	uint64_t now)
{
	bd_entry *e = NULL;
	bd_domain_state *d = NULL;
	pthread_mutex_t *lock = NULL;
	int err;

	memset(res, 0, sizeof(*res));
	if ((err = request_begin(&e, &d, entry, entry_len, BD_ENTRY_DOMAIN, "key change")) != 0)
		goto out;
	if (e->by_operator) {
		err = tl_error_set(TL_E_INPUT, "key change: a registration is the operator's (POST /v1/domains)");
		goto out;
	}
	lock = stripe(p, e->domain);
	pthread_mutex_lock(lock);
	if ((err = domain_state(d, p, e->domain)) != 0)
		goto unlock;
	/* The very same signed change again, as the domain's newest entry: already done. */
	if ((err = logged_as(p, d->newest_index, entry, entry_len)) != 0) {
		if (err == 1) {
			*res = (bd_publish_result){ d->newest_index, d->newest_index, 1, true, tl_log_size(p->log) };
			err = 0;
		}
		goto unlock;
	}
	if ((err = check_signer(p, d, e)) != 0 || (err = check_time(e, now)) != 0)
		goto unlock;
	if (e->time <= d->keys_time) {
		err = tl_error_set(TL_E_CONFLICT, "%s: a key change must claim a time after the last one (%llu)", e->domain,
			(unsigned long long)d->keys_time);
		goto unlock;
	}
	{
		tl_verifier *v = NULL;
		tl_hash fp;
		bool held = false;

		if ((err = tl_verifier_parse(&v, e->keys[0], strlen(e->keys[0]))) != 0)
			goto unlock;
		bd_key_fingerprint(&fp, v);
		tl_verifier_free(v);
		for (size_t i = 0; i < d->n_keys; i++)
			held = held || tl_hash_equal(&d->key_fps[i], &fp);
		if (e->action == BD_DOMAIN_ADD_KEY && held)
			err = tl_error_set(TL_E_CONFLICT, "%s already holds that key", e->domain);
		else if (e->action == BD_DOMAIN_ADD_KEY && d->n_keys == BD_ENTRY_MAX_KEYS)
			err = tl_error_set(TL_E_CONFLICT, "%s already holds %u keys", e->domain, BD_ENTRY_MAX_KEYS);
		else if (e->action == BD_DOMAIN_REMOVE_KEY && !held)
			err = tl_error_set(TL_E_CONFLICT, "%s does not hold that key", e->domain);
		else if (e->action == BD_DOMAIN_REMOVE_KEY && d->n_keys == 1)
			err = tl_error_set(TL_E_CONFLICT, "%s would be left without a publisher key", e->domain);
	}
	if (err == 0)
		err = commit(res, p, (const void *const[]){ entry }, (const size_t[]){ entry_len }, 1, NULL);
unlock:
	pthread_mutex_unlock(lock);
out:
	free(e);
	free(d);
	return err;
}

int bd_publish_bundle(bd_publish_result *res, bd_publisher *p, const uint8_t *entry, size_t entry_len,
	const uint8_t *bundle, size_t bundle_len, uint64_t now)
{
	bd_entry *e = NULL;
	bd_domain_state *d = NULL;
	struct version v = { { 0 }, NULL };
	struct rider rider;
	bd_bundle *b = NULL;
	pthread_mutex_t *lock = NULL;
	uint64_t claimed = 0;
	int err;

	memset(res, 0, sizeof(*res));
	if ((err = request_begin(&e, &d, entry, entry_len, BD_ENTRY_BUNDLE, "bundle entry")) != 0)
		goto out;
	lock = stripe(p, e->domain);
	pthread_mutex_lock(lock);
	if ((err = domain_state(d, p, e->domain)) != 0)
		goto unlock;
	if ((err = check_sequence(res, p, d, e, entry, entry_len, NULL, 0)) != 0) {
		if (err == 1)
			err = enqueue_pin(p, e->cid); /* a retry also heals a pin that failed to queue */
		goto unlock;
	}
	if ((err = check_signer(p, d, e)) != 0 || (err = check_time(e, now)) != 0)
		goto unlock;
	if ((err = bd_bundle_parse(&b, bundle, bundle_len, 0, NULL)) != 0) {
		tl_error_wrap(err, "bundle");
		goto unlock;
	}
	if (bd_bundle_sequence(&claimed, b) && claimed != e->sequence) {
		err = tl_error_set(TL_E_INPUT, "the bundle's spiffe_sequence %llu differs from the entry's %llu",
			(unsigned long long)claimed, (unsigned long long)e->sequence);
		goto unlock;
	}
	if ((err = derive_version(&v, p, b, e)) != 0 || (err = version_rider(&rider, &v, e)) != 0)
		goto unlock;
	err = commit(res, p, (const void *const[]){ entry }, (const size_t[]){ entry_len }, 1, &rider);
unlock:
	pthread_mutex_unlock(lock);
out:
	version_free(&v);
	bd_bundle_free(b);
	free(e);
	free(d);
	return err;
}

/* The newest version of a domain as a bundle, read back from the block store. */
static int load_newest(bd_bundle **out, bd_publisher *p, const bd_domain_state *d)
{
	tl_buf text = tl_buf_make(TL_LOG_MAX_ENTRY + 1), canon = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	bd_entry *e = malloc(sizeof(*e));
	bd_cid root;
	int err;

	*out = NULL;
	if (e == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if (!d->has_version) {
		err = tl_error_set(TL_E_CONFLICT, "%s has no version to revoke from", d->domain);
		goto out;
	}
	if ((err = tl_log_entry(&text, p->log, d->version_index)) != 0 ||
		(err = bd_entry_parse(e, text.data, text.len)) != 0 ||
		(err = bd_cid_parse(&root, e->cid, strlen(e->cid))) != 0 ||
		(err = bd_blockstore_cat(&canon, p->blocks, &root)) != 0 ||
		(err = bd_bundle_parse(out, canon.data, canon.len, 0, NULL)) != 0) {
		err = tl_error_wrap(TL_E_INTERNAL, "the newest version of %s cannot be read back", d->domain);
		goto out;
	}
out:
	tl_buf_free(&text);
	tl_buf_free(&canon);
	free(e);
	return err;
}

/* Removes the revoked authority: by fingerprint, or by kid (which must name exactly one). */
static int revoke_from(bd_bundle *b, const bd_entry *rev)
{
	const tl_hash *fp = &rev->authority_sha256;
	size_t found = 0;

	if (rev->authority_is_kid) {
		fp = NULL;
		for (size_t i = 0; i < bd_bundle_count(b); i++) {
			const char *kid = bd_authority_kid(bd_bundle_at(b, i));

			if (kid != NULL && strcmp(kid, rev->authority_kid) == 0) {
				fp = bd_authority_fingerprint(bd_bundle_at(b, i));
				found++;
			}
		}
		if (found > 1)
			return tl_error_set(TL_E_INPUT, "kid %s names %zu authorities: revoke by sha256", rev->authority_kid, found);
	}
	if (fp == NULL || bd_bundle_remove(b, fp) != 0)
		return tl_error_set(TL_E_CONFLICT, "the newest version of %s holds no such authority", rev->domain);
	return 0;
}

int bd_publish_revocation(bd_publish_result *res, bd_publisher *p, const uint8_t *revocation, size_t revocation_len,
	const uint8_t *bundle_entry, size_t bundle_entry_len, uint64_t now)
{
	bd_entry *rev = calloc(1, sizeof(*rev)), *e = NULL;
	bd_domain_state *d = NULL;
	struct version v = { { 0 }, NULL };
	struct rider rider;
	bd_bundle *b = NULL;
	pthread_mutex_t *lock = NULL;
	int err;

	memset(res, 0, sizeof(*res));
	if ((err = request_begin(&e, &d, bundle_entry, bundle_entry_len, BD_ENTRY_BUNDLE, "bundle entry")) != 0)
		goto out;
	if (rev == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = parse_kind(rev, revocation, revocation_len, BD_ENTRY_REVOCATION, "revocation entry")) != 0)
		goto out;
	if (strcmp(rev->domain, e->domain) != 0 || rev->sequence != e->sequence || !tl_hash_equal(&rev->sha256, &e->sha256) ||
		strcmp(rev->cid, e->cid) != 0) {
		err = tl_error_set(TL_E_INPUT, "the revocation and the bundle entry name different versions");
		goto out;
	}
	lock = stripe(p, e->domain);
	pthread_mutex_lock(lock);
	if ((err = domain_state(d, p, e->domain)) != 0)
		goto unlock;
	if ((err = check_sequence(res, p, d, e, bundle_entry, bundle_entry_len, revocation, revocation_len)) != 0) {
		if (err == 1)
			err = enqueue_pin(p, e->cid);
		goto unlock;
	}
	if ((err = check_signer(p, d, rev)) != 0 || (err = check_signer(p, d, e)) != 0 ||
		(err = check_time(rev, now)) != 0 || (err = check_time(e, now)) != 0)
		goto unlock;
	if ((err = load_newest(&b, p, d)) != 0 || (err = revoke_from(b, rev)) != 0 ||
		(err = derive_version(&v, p, b, e)) != 0 || (err = version_rider(&rider, &v, e)) != 0)
		goto unlock;
	err = commit(res, p, (const void *const[]){ revocation, bundle_entry },
		(const size_t[]){ revocation_len, bundle_entry_len }, 2, &rider);
unlock:
	pthread_mutex_unlock(lock);
out:
	version_free(&v);
	bd_bundle_free(b);
	free(rev);
	free(e);
	free(d);
	return err;
}
