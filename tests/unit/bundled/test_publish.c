/*
 * The publishing transaction over a real log, registry, block store and pin queue: what a
 * publish writes, idempotent retries, revocations, key changes, concurrent domains, and for
 * every class of refusal that log, registry, blocks and pin queue are exactly as before.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/publish.h"
#include "testbundle.h"
#include "testentry.h"

#define NOW 1700000000u

struct fx {
	struct tu_store s;
	bd_publisher *p;
	tl_signer *a, *b, *c; /* a: example.org's key, b: other.example's, c: nobody's */
	uint8_t *pem;         /* three CAs */
	size_t pem_len;
};

static void fx_init(struct fx *f)
{
	bd_publish_options o = { 0 };
	char va[BD_MAX_VKEY + 1], vb[BD_MAX_VKEY + 1];
	bd_publish_result r;

	memset(f, 0, sizeof(*f));
	tu_store_init(&f->s);
	o.log = f->s.log;
	o.registry = f->s.registry;
	o.blocks = f->s.blocks;
	o.pins = f->s.pins;
	ck_assert_int_eq(bd_publisher_new(&f->p, &o), 0);
	f->a = tu_signer(1, "a");
	f->b = tu_signer(2, "b");
	f->c = tu_signer(3, "c");
	tu_vkey(va, f->a);
	tu_vkey(vb, f->b);
	ck_assert_msg(bd_publish_register(&r, f->p, "example.org", (const char *const[]){ va }, 1, NOW) == 0, "%s",
		tl_error_message());
	ck_assert_int_eq(bd_publish_register(&r, f->p, "other.example", (const char *const[]){ vb }, 1, NOW), 0);
	f->pem = tu_bundle_vector("bundle.pem", &f->pem_len);
}

static void fx_free(struct fx *f)
{
	bd_publisher_free(f->p);
	tu_store_free(&f->s);
	tl_signer_free(f->a);
	tl_signer_free(f->b);
	tl_signer_free(f->c);
	free(f->pem);
}

/* The canonical bytes of `src` at this sequence and refresh hint (as the server derives them). */
static tl_buf canonical(const uint8_t *src, size_t len, uint64_t seq, uint64_t hint)
{
	bd_bundle *b = NULL;
	tl_buf out = tl_buf_make(BD_MAX_BUNDLE_SIZE);

	ck_assert_msg(bd_bundle_parse(&b, src, len, 0, NULL) == 0, "%s", tl_error_message());
	bd_bundle_set_sequence(b, seq);
	if (hint)
		ck_assert_int_eq(bd_bundle_set_refresh_hint(b, hint), 0);
	ck_assert_int_eq(bd_bundle_write_canonical(&out, b), 0);
	bd_bundle_free(b);
	return out;
}

/* A signed bundle entry for `src` at `seq`. */
static char *entry_for(size_t *len, const char *domain, const uint8_t *src, size_t src_len, uint64_t seq,
	const tl_signer *key)
{
	tl_buf c = canonical(src, src_len, seq, 300);
	bd_entry *e = tu_bundle_entry(domain, seq, 300, c.data, c.len, NOW, key);
	char *text = tu_entry_text(e, len);

	free(e);
	tl_buf_free(&c);
	return text;
}

static int publish(bd_publish_result *r, struct fx *f, const char *entry, size_t len, const uint8_t *src,
	size_t src_len)
{
	return bd_publish_bundle(r, f->p, (const uint8_t *)entry, len, src, src_len, NOW);
}

/* ---- the state a refusal must leave alone ---- */

struct snapshot {
	uint64_t size, applied;
	tl_hash registry;
	size_t blocks, pins;
};

static void snap(struct snapshot *s, struct fx *f)
{
	bd_pinq_counts c;

	s->size = tl_log_size(f->s.log);
	s->applied = bd_registry_applied(f->s.registry);
	ck_assert_int_eq(bd_registry_digest(&s->registry, f->s.registry), 0);
	s->blocks = tu_store_block_count(&f->s);
	bd_pinq_counts_get(&c, f->s.pins);
	s->pins = c.pending + c.pinned + c.failed;
}

static void assert_unchanged(const struct snapshot *before, struct fx *f, const char *what)
{
	struct snapshot now;

	snap(&now, f);
	ck_assert_msg(now.size == before->size, "%s: log grew", what);
	ck_assert_msg(now.applied == before->applied, "%s: registry applied more", what);
	ck_assert_msg(tl_hash_equal(&now.registry, &before->registry), "%s: registry changed", what);
	ck_assert_msg(now.blocks == before->blocks, "%s: blocks changed", what);
	ck_assert_msg(now.pins == before->pins, "%s: pin queue changed", what);
}

/* The registry kept by the publishes equals one rebuilt from the log alone. */
static void assert_registry_is_rebuilt_one(struct fx *f)
{
	tl_hash incremental, rebuilt;

	ck_assert_int_eq(bd_registry_digest(&incremental, f->s.registry), 0);
	ck_assert_int_eq(bd_registry_rebuild(f->s.registry, f->s.log), 0);
	ck_assert_int_eq(bd_registry_digest(&rebuilt, f->s.registry), 0);
	ck_assert(tl_hash_equal(&incremental, &rebuilt));
}

#define REFUSED(code, call, what)                                                                 \
	do {                                                                                      \
		struct snapshot before_;                                                          \
		int got_;                                                                         \
		snap(&before_, f);                                                                \
		got_ = (call);                                                                    \
		ck_assert_msg(got_ == (code), "%s: got %d (%s), want %d", what, got_, tl_error_message(), \
			(code));                                                                  \
		assert_unchanged(&before_, f, what);                                              \
	} while (0)

/* ---- tests ---- */

START_TEST(publish_writes_log_blocks_registry_and_pin)
{
	struct fx fx, *f = &fx;
	bd_publish_result r, again;
	bd_domain_state d;
	size_t len;
	char *entry;
	tl_buf c, cat = tl_buf_make(BD_MAX_BUNDLE_SIZE), logged = tl_buf_make(BD_ENTRY_MAX_SIZE);
	bd_entry parsed;
	bd_cid root;
	bd_pinq_counts counts;
	uint64_t index = 0;

	fx_init(f);
	entry = entry_for(&len, "example.org", f->pem, f->pem_len, 1, f->a);
	ck_assert_msg(publish(&r, f, entry, len, f->pem, f->pem_len) == 0, "%s", tl_error_message());
	ck_assert_uint_eq(r.index, 2);
	ck_assert_uint_eq(r.first, 2);
	ck_assert_uint_eq(r.n_entries, 1);
	ck_assert(!r.existing);
	ck_assert_uint_ge(r.tree_size, 3);
	/* the log holds the submitted entry */
	ck_assert_int_eq(tl_log_entry(&logged, f->s.log, r.index), 0);
	ck_assert_uint_eq(logged.len, len);
	ck_assert(memcmp(logged.data, entry, len) == 0);
	/* the registry */
	ck_assert_int_eq(bd_registry_get(&d, f->s.registry, "example.org"), 0);
	ck_assert(d.has_version);
	ck_assert_uint_eq(d.sequence, 1);
	ck_assert_uint_eq(d.version_index, 2);
	ck_assert_int_eq(bd_registry_version(&index, f->s.registry, "example.org", 1), 0);
	ck_assert_uint_eq(index, 2);
	/* the blocks: cat of the CID gives the canonical bytes */
	ck_assert_int_eq(bd_entry_parse(&parsed, (const uint8_t *)entry, len), 0);
	ck_assert_int_eq(bd_cid_parse(&root, parsed.cid, strlen(parsed.cid)), 0);
	ck_assert_int_eq(bd_blockstore_cat(&cat, f->s.blocks, &root), 0);
	c = canonical(f->pem, f->pem_len, 1, 300);
	ck_assert_uint_eq(cat.len, c.len);
	ck_assert(memcmp(cat.data, c.data, c.len) == 0);
	/* the pin */
	bd_pinq_counts_get(&counts, f->s.pins);
	ck_assert_uint_eq(counts.pending, 1);
	/* the very same version again: the existing result, nothing new */
	{
		struct snapshot before;

		snap(&before, f);
		ck_assert_int_eq(publish(&again, f, entry, len, f->pem, f->pem_len), 0);
		ck_assert(again.existing);
		ck_assert_uint_eq(again.index, r.index);
		ck_assert_uint_eq(again.first, r.first);
		assert_unchanged(&before, f, "retry");
		/* a retry is recognised by its entry, even with another submitted document */
		ck_assert_int_eq(publish(&again, f, entry, len, (const uint8_t *)"x", 1), 0);
		ck_assert(again.existing);
	}
	free(entry);
	tl_buf_free(&c);
	tl_buf_free(&cat);
	tl_buf_free(&logged);
	fx_free(f);
}
END_TEST

START_TEST(bundle_refusals_change_nothing)
{
	struct fx fx, *f = &fx;
	bd_publish_result r;
	size_t len;
	char *entry;
	uint8_t *one_ca;
	size_t one_len;

	fx_init(f);
	one_ca = tu_bundle_vector("ca-p256.pem", &one_len);
	entry = entry_for(&len, "example.org", f->pem, f->pem_len, 5, f->a);
	ck_assert_int_eq(publish(&r, f, entry, len, f->pem, f->pem_len), 0);
	free(entry);

	REFUSED(TL_E_INPUT, publish(&r, f, "garbage", 7, f->pem, f->pem_len), "malformed entry");
	/* unknown domain */
	entry = entry_for(&len, "unknown.example", f->pem, f->pem_len, 6, f->a);
	REFUSED(TL_E_NOTFOUND, publish(&r, f, entry, len, f->pem, f->pem_len), "unknown domain");
	free(entry);
	/* another domain's key, an unknown key */
	entry = entry_for(&len, "example.org", f->pem, f->pem_len, 6, f->b);
	REFUSED(TL_E_UNAUTHORIZED, publish(&r, f, entry, len, f->pem, f->pem_len), "other domain's key");
	free(entry);
	entry = entry_for(&len, "example.org", f->pem, f->pem_len, 6, f->c);
	REFUSED(TL_E_UNAUTHORIZED, publish(&r, f, entry, len, f->pem, f->pem_len), "unknown key");
	free(entry);
	/* a signature over other bytes: the entry's size changed after signing */
	{
		tl_buf c = canonical(f->pem, f->pem_len, 6, 300);
		bd_entry *e = tu_bundle_entry("example.org", 6, 300, c.data, c.len, NOW, f->a);

		e->time++;
		entry = tu_entry_text(e, &len);
		REFUSED(TL_E_UNAUTHORIZED, publish(&r, f, entry, len, f->pem, f->pem_len), "signature over other bytes");
		free(entry);
		/* signed for another log */
		e->has_signature = false;
		e->time--;
		ck_assert_int_eq(bd_entry_sign(e, "other.example/log", f->a), 0);
		entry = tu_entry_text(e, &len);
		REFUSED(TL_E_UNAUTHORIZED, publish(&r, f, entry, len, f->pem, f->pem_len), "another log's signature");
		free(entry);
		/* time outside the skew */
		e->time = NOW - BD_PUBLISH_MAX_SKEW_SECONDS - 1;
		ck_assert_int_eq(bd_entry_sign(e, TU_LOG_ORIGIN, f->a), 0);
		entry = tu_entry_text(e, &len);
		REFUSED(TL_E_INPUT, publish(&r, f, entry, len, f->pem, f->pem_len), "time skew");
		free(entry);
		free(e);
		tl_buf_free(&c);
	}
	/* rollback and reuse of a sequence */
	entry = entry_for(&len, "example.org", f->pem, f->pem_len, 4, f->a);
	REFUSED(TL_E_CONFLICT, publish(&r, f, entry, len, f->pem, f->pem_len), "sequence rollback");
	free(entry);
	entry = entry_for(&len, "example.org", one_ca, one_len, 5, f->a);
	REFUSED(TL_E_CONFLICT, publish(&r, f, entry, len, one_ca, one_len), "sequence reuse");
	free(entry);
	/* the submitted bundle is not what was signed */
	entry = entry_for(&len, "example.org", one_ca, one_len, 6, f->a);
	REFUSED(TL_E_INPUT, publish(&r, f, entry, len, f->pem, f->pem_len), "bundle differs from the entry");
	REFUSED(TL_E_INPUT, publish(&r, f, entry, len, (const uint8_t *)"{\"keys\":[{]}", 12), "invalid bundle");
	REFUSED(TL_E_INPUT, publish(&r, f, entry, len, (const uint8_t *)"", 0), "empty bundle");
	REFUSED(TL_E_INPUT, publish(&r, f, entry, len, (const uint8_t *)"{\"keys\":[]}", 11), "empty JSON bundle");
	{
		tl_buf c = canonical(one_ca, one_len, 9, 300); /* says spiffe_sequence 9 */

		REFUSED(TL_E_INPUT, publish(&r, f, entry, len, c.data, c.len), "bundle's own sequence differs");
		tl_buf_free(&c);
	}
	/* a revocation entry submitted as a bundle entry */
	{
		tl_buf c = canonical(one_ca, one_len, 6, 300);
		bd_entry *e = tu_bundle_entry("example.org", 6, 300, c.data, c.len, NOW, f->a);
		char *rev;
		size_t rev_len;

		e->kind = BD_ENTRY_REVOCATION;
		strcpy(e->reason, "x");
		rev = tu_entry_text(e, &rev_len);
		REFUSED(TL_E_INPUT, publish(&r, f, rev, rev_len, one_ca, one_len), "revocation as a bundle entry");
		free(rev);
		free(e);
		tl_buf_free(&c);
	}
	/* and the right version still goes in afterwards */
	ck_assert_msg(publish(&r, f, entry, len, one_ca, one_len) == 0, "%s", tl_error_message());
	free(entry);
	free(one_ca);
	fx_free(f);
}
END_TEST

/* The revocation of `fp` (named by `kid` if not NULL) from `src`, with the bundle entry of the
 * resulting version. */
static void revocation_by(char **rev, size_t *rev_len, char **be, size_t *be_len, const uint8_t *src, size_t src_len,
	const tl_hash *fp, const char *kid, uint64_t seq, const tl_signer *key)
{
	bd_bundle *b = NULL;
	tl_buf c = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	bd_entry *e, *r = calloc(1, sizeof(*r));

	ck_assert_int_eq(bd_bundle_parse(&b, src, src_len, 0, NULL), 0);
	ck_assert_int_eq(bd_bundle_remove(b, fp), 0);
	bd_bundle_set_sequence(b, seq);
	ck_assert_int_eq(bd_bundle_set_refresh_hint(b, 300), 0);
	ck_assert_int_eq(bd_bundle_write_canonical(&c, b), 0);
	e = tu_bundle_entry("example.org", seq, 300, c.data, c.len, NOW, key);
	r->kind = BD_ENTRY_REVOCATION;
	strcpy(r->domain, "example.org");
	r->authority_sha256 = *fp;
	if (kid != NULL) {
		r->authority_is_kid = true;
		memset(&r->authority_sha256, 0, sizeof(r->authority_sha256));
		strcpy(r->authority_kid, kid);
	}
	strcpy(r->reason, "key compromise");
	r->sequence = seq;
	r->sha256 = e->sha256;
	strcpy(r->cid, e->cid);
	r->time = NOW;
	ck_assert_int_eq(bd_entry_sign(r, TU_LOG_ORIGIN, key), 0);
	*rev = tu_entry_text(r, rev_len);
	*be = tu_entry_text(e, be_len);
	free(e);
	free(r);
	tl_buf_free(&c);
	bd_bundle_free(b);
}

static void revocation_for(char **rev, size_t *rev_len, char **be, size_t *be_len, const uint8_t *src, size_t src_len,
	const tl_hash *fp, uint64_t seq, const tl_signer *key)
{
	revocation_by(rev, rev_len, be, be_len, src, src_len, fp, NULL, seq, key);
}

static tl_hash authority_fp(const uint8_t *src, size_t len, size_t i)
{
	bd_bundle *b = NULL;
	tl_hash fp;

	ck_assert_int_eq(bd_bundle_parse(&b, src, len, 0, NULL), 0);
	fp = *bd_authority_fingerprint(bd_bundle_at(b, i));
	bd_bundle_free(b);
	return fp;
}

START_TEST(revocation_logs_both_entries_in_one_batch)
{
	struct fx fx, *f = &fx;
	bd_publish_result r, again;
	bd_domain_state d;
	size_t len, rev_len, be_len;
	char *entry, *rev, *be;
	tl_hash fp;
	uint64_t index;

	fx_init(f);
	fp = authority_fp(f->pem, f->pem_len, 1);
	/* nothing to revoke from yet */
	revocation_for(&rev, &rev_len, &be, &be_len, f->pem, f->pem_len, &fp, 2, f->a);
	REFUSED(TL_E_CONFLICT, bd_publish_revocation(&r, f->p, (uint8_t *)rev, rev_len, (uint8_t *)be, be_len, NOW),
		"no version yet");
	entry = entry_for(&len, "example.org", f->pem, f->pem_len, 1, f->a);
	ck_assert_int_eq(publish(&r, f, entry, len, f->pem, f->pem_len), 0);
	ck_assert_msg(bd_publish_revocation(&r, f->p, (uint8_t *)rev, rev_len, (uint8_t *)be, be_len, NOW) == 0, "%s",
		tl_error_message());
	ck_assert_uint_eq(r.n_entries, 2);
	ck_assert_uint_eq(r.index, r.first + 1);
	ck_assert_int_eq(bd_registry_get(&d, f->s.registry, "example.org"), 0);
	ck_assert_uint_eq(d.sequence, 2);
	ck_assert_uint_eq(d.version_index, r.index);
	ck_assert_int_eq(bd_registry_version(&index, f->s.registry, "example.org", 2), 0);
	ck_assert_uint_eq(index, r.index);
	/* retried: existing */
	ck_assert_int_eq(bd_publish_revocation(&again, f->p, (uint8_t *)rev, rev_len, (uint8_t *)be, be_len, NOW), 0);
	ck_assert(again.existing);
	ck_assert_uint_eq(again.first, r.first);
	ck_assert_uint_eq(again.index, r.index);
	free(rev);
	free(be);
	/* revoking it again (it is gone), or with a resulting version that keeps it */
	revocation_for(&rev, &rev_len, &be, &be_len, f->pem, f->pem_len, &fp, 3, f->a);
	REFUSED(TL_E_CONFLICT, bd_publish_revocation(&r, f->p, (uint8_t *)rev, rev_len, (uint8_t *)be, be_len, NOW),
		"authority not in the newest version");
	free(rev);
	free(be);
	{
		tl_hash other = authority_fp(f->pem, f->pem_len, 0);
		char *rev2, *be2;
		size_t rev2_len, be2_len;

		/* revoke authority 0, but submit the bundle entry that removes authority 1 */
		revocation_for(&rev, &rev_len, &be, &be_len, f->pem, f->pem_len, &other, 3, f->a);
		revocation_for(&rev2, &rev2_len, &be2, &be2_len, f->pem, f->pem_len, &fp, 3, f->a);
		REFUSED(TL_E_INPUT, bd_publish_revocation(&r, f->p, (uint8_t *)rev, rev_len, (uint8_t *)be2, be2_len, NOW),
			"revocation and bundle entry disagree");
		/* a bundle entry's signature replayed as the revocation's */
		{
			bd_entry be_parsed, rev_parsed;
			char *forged;
			size_t forged_len;

			ck_assert_int_eq(bd_entry_parse(&be_parsed, (uint8_t *)be, be_len), 0);
			ck_assert_int_eq(bd_entry_parse(&rev_parsed, (uint8_t *)rev, rev_len), 0);
			memcpy(rev_parsed.signature, be_parsed.signature, 64);
			forged = tu_entry_text(&rev_parsed, &forged_len);
			REFUSED(TL_E_UNAUTHORIZED,
				bd_publish_revocation(&r, f->p, (uint8_t *)forged, forged_len, (uint8_t *)be, be_len, NOW),
				"bundle signature replayed as a revocation");
			free(forged);
		}
		free(rev2);
		free(be2);
		free(rev);
		free(be);
	}
	free(entry);
	fx_free(f);
}
END_TEST

START_TEST(key_changes)
{
	struct fx fx, *f = &fx;
	bd_publish_result r, again;
	bd_domain_state d;
	size_t len;
	char *text, *entry;
	bd_entry *e;

	fx_init(f);
	/* a adds c */
	e = tu_key_change("example.org", BD_DOMAIN_ADD_KEY, f->c, f->a, NOW + 1);
	text = tu_entry_text(e, &len);
	ck_assert_msg(bd_publish_key_change(&r, f->p, (uint8_t *)text, len, NOW) == 0, "%s", tl_error_message());
	ck_assert_int_eq(bd_publish_key_change(&again, f->p, (uint8_t *)text, len, NOW), 0);
	ck_assert(again.existing);
	ck_assert_uint_eq(again.index, r.index);
	free(text);
	free(e);
	ck_assert_int_eq(bd_registry_get(&d, f->s.registry, "example.org"), 0);
	ck_assert_uint_eq(d.n_keys, 2);
	/* refusals */
	e = tu_key_change("example.org", BD_DOMAIN_ADD_KEY, f->c, f->a, NOW + 2);
	text = tu_entry_text(e, &len);
	REFUSED(TL_E_CONFLICT, bd_publish_key_change(&r, f->p, (uint8_t *)text, len, NOW), "add a held key");
	free(text);
	free(e);
	e = tu_key_change("example.org", BD_DOMAIN_ADD_KEY, f->b, f->b, NOW + 2);
	text = tu_entry_text(e, &len);
	REFUSED(TL_E_UNAUTHORIZED, bd_publish_key_change(&r, f->p, (uint8_t *)text, len, NOW), "signed by another domain's key");
	free(text);
	free(e);
	e = tu_key_change("example.org", BD_DOMAIN_REMOVE_KEY, f->a, f->c, NOW + 1);
	text = tu_entry_text(e, &len);
	REFUSED(TL_E_CONFLICT, bd_publish_key_change(&r, f->p, (uint8_t *)text, len, NOW), "time not after the last change");
	free(text);
	free(e);
	/* c removes a; a's signatures are refused from now on */
	e = tu_key_change("example.org", BD_DOMAIN_REMOVE_KEY, f->a, f->c, NOW + 2);
	text = tu_entry_text(e, &len);
	ck_assert_int_eq(bd_publish_key_change(&r, f->p, (uint8_t *)text, len, NOW), 0);
	free(text);
	free(e);
	entry = entry_for(&len, "example.org", f->pem, f->pem_len, 1, f->a);
	REFUSED(TL_E_UNAUTHORIZED, publish(&r, f, entry, len, f->pem, f->pem_len), "removed key");
	free(entry);
	e = tu_key_change("example.org", BD_DOMAIN_REMOVE_KEY, f->c, f->c, NOW + 3);
	text = tu_entry_text(e, &len);
	REFUSED(TL_E_CONFLICT, bd_publish_key_change(&r, f->p, (uint8_t *)text, len, NOW), "remove the last key");
	free(text);
	free(e);
	/* registrations: twice, bad name, bad key */
	{
		char vc[BD_MAX_VKEY + 1];

		tu_vkey(vc, f->c);
		REFUSED(TL_E_CONFLICT, bd_publish_register(&r, f->p, "example.org", (const char *const[]){ vc }, 1, NOW),
			"registered twice");
		REFUSED(TL_E_INPUT, bd_publish_register(&r, f->p, "../etc", (const char *const[]){ vc }, 1, NOW), "bad name");
		REFUSED(TL_E_INPUT, bd_publish_register(&r, f->p, "new.example", (const char *const[]){ "x+1+AA" }, 1, NOW),
			"bad key");
		REFUSED(TL_E_INPUT, bd_publish_register(&r, f->p, "new.example", (const char *const[]){ vc, vc }, 2, NOW),
			"repeated key");
		REFUSED(TL_E_INPUT, bd_publish_register(&r, f->p, "new.example", NULL, 0, NOW), "no key");
	}
	fx_free(f);
}
END_TEST

/* ---- concurrency: several threads, each publishing to its own domains ---- */

#define THREADS 4
#define DOMAINS_PER_THREAD 3
#define VERSIONS 5

struct worker {
	struct fx *f;
	int id;
	int failures;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	for (uint64_t seq = 1; seq <= VERSIONS; seq++)
		for (int d = 0; d < DOMAINS_PER_THREAD; d++) {
			char domain[48];
			size_t len;
			char *entry;
			bd_publish_result r;

			snprintf(domain, sizeof(domain), "d%d-%d.example", w->id, d);
			entry = entry_for(&len, domain, w->f->pem, w->f->pem_len, seq, w->f->a);
			if (publish(&r, w->f, entry, len, w->f->pem, w->f->pem_len) != 0)
				w->failures++;
			free(entry);
		}
	return NULL;
}

START_TEST(domains_publish_concurrently)
{
	struct fx fx, *f = &fx;
	pthread_t t[THREADS];
	struct worker w[THREADS];
	char va[BD_MAX_VKEY + 1];
	bd_publish_result r;

	fx_init(f);
	tu_vkey(va, f->a);
	for (int i = 0; i < THREADS; i++)
		for (int d = 0; d < DOMAINS_PER_THREAD; d++) {
			char domain[48];

			snprintf(domain, sizeof(domain), "d%d-%d.example", i, d);
			ck_assert_int_eq(bd_publish_register(&r, f->p, domain, (const char *const[]){ va }, 1, NOW), 0);
		}
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ f, i, 0 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(w[i].failures, 0);
	}
	ck_assert_uint_eq(tl_log_size(f->s.log), 2 + THREADS * DOMAINS_PER_THREAD * (1 + VERSIONS));
	ck_assert_uint_eq(bd_registry_applied(f->s.registry), tl_log_size(f->s.log));
	for (int i = 0; i < THREADS; i++)
		for (int d = 0; d < DOMAINS_PER_THREAD; d++) {
			char domain[48];
			bd_domain_state st;

			snprintf(domain, sizeof(domain), "d%d-%d.example", i, d);
			ck_assert_int_eq(bd_registry_get(&st, f->s.registry, domain), 0);
			ck_assert_uint_eq(st.sequence, VERSIONS);
			ck_assert_uint_eq(st.versions, VERSIONS);
		}
	assert_registry_is_rebuilt_one(f);
	fx_free(f);
}
END_TEST

/* ---- one commit, several entries of one domain ---- */

/* The registry follows the log inside its commits (the publisher's hook): entries that share
 * a commit see those before them, refused steps are passed over as a rebuild passes them,
 * and the registry is at the log's end as soon as the append returns. */
START_TEST(one_commit_sees_its_own_entries)
{
	struct fx fx, *f = &fx;
	size_t len[5];
	char *text[5];
	const void *entries[5];
	uint64_t first = 0, index = 0, skipped;
	bd_domain_state d;

	fx_init(f);
	text[0] = entry_for(&len[0], "example.org", f->pem, f->pem_len, 1, f->a);
	text[1] = entry_for(&len[1], "example.org", f->pem, f->pem_len, 2, f->a);
	text[2] = entry_for(&len[2], "example.org", f->pem, f->pem_len, 1, f->a); /* after 2: not a step */
	text[3] = entry_for(&len[3], "nobody.example", f->pem, f->pem_len, 1, f->a); /* no such domain */
	text[4] = strdup("not an entry\n");
	len[4] = strlen(text[4]);
	for (int i = 0; i < 5; i++)
		entries[i] = text[i];
	skipped = bd_registry_skipped(f->s.registry);
	ck_assert_int_eq(tl_log_append_batch(&first, f->s.log, entries, len, 5), 0);
	/* No sync: the commit itself brought the registry to the log's end. */
	ck_assert_uint_eq(bd_registry_applied(f->s.registry), first + 5);
	ck_assert_uint_eq(bd_registry_skipped(f->s.registry), skipped + 3);
	ck_assert_int_eq(bd_registry_get(&d, f->s.registry, "example.org"), 0);
	ck_assert_uint_eq(d.sequence, 2);
	ck_assert_uint_eq(d.versions, 2);
	ck_assert_uint_eq(d.version_index, first + 1);
	ck_assert_uint_eq(d.newest_index, first + 1);
	ck_assert_int_eq(bd_registry_version(&index, f->s.registry, "example.org", 1), 0);
	ck_assert_uint_eq(index, first);
	ck_assert_int_eq(bd_registry_get(&d, f->s.registry, "nobody.example"), TL_E_NOTFOUND);
	/* The publisher's checks see the commit's effect: sequence 2 is taken now. */
	{
		bd_publish_result r;
		char *again = entry_for(&len[0], "example.org", f->pem, f->pem_len, 2, f->b);

		ck_assert_int_eq(publish(&r, f, again, len[0], f->pem, f->pem_len), TL_E_CONFLICT);
		free(again);
	}
	assert_registry_is_rebuilt_one(f);
	for (int i = 0; i < 5; i++)
		free(text[i]);
	fx_free(f);
}
END_TEST

/* Entries logged while no publisher followed the log (no hook) are caught up from the log by
 * the first commit that stages for the registry again, before its own entries. */
START_TEST(entries_logged_without_the_hook_are_caught_up)
{
	struct fx fx, *f = &fx;
	bd_publish_options o = { 0 };
	bd_domain_state d;
	size_t len1, len2;
	char *e1, *e2;
	uint64_t index;

	fx_init(f);
	e1 = entry_for(&len1, "example.org", f->pem, f->pem_len, 1, f->a);
	e2 = entry_for(&len2, "example.org", f->pem, f->pem_len, 2, f->a);
	bd_publisher_free(f->p);
	ck_assert_int_eq(tl_log_append(&index, f->s.log, e1, len1), 0);
	ck_assert_uint_eq(bd_registry_applied(f->s.registry), index); /* behind the log */
	o.log = f->s.log;
	o.registry = f->s.registry;
	o.blocks = f->s.blocks;
	o.pins = f->s.pins;
	ck_assert_int_eq(bd_publisher_new(&f->p, &o), 0);
	/* appended directly (a publish would sync the registry first): the commit catches up */
	ck_assert_int_eq(tl_log_append(&index, f->s.log, e2, len2), 0);
	ck_assert_uint_eq(bd_registry_applied(f->s.registry), tl_log_size(f->s.log));
	ck_assert_int_eq(bd_registry_get(&d, f->s.registry, "example.org"), 0);
	ck_assert_uint_eq(d.versions, 2);
	ck_assert_uint_eq(d.sequence, 2);
	assert_registry_is_rebuilt_one(f);
	free(e1);
	free(e2);
	fx_free(f);
}
END_TEST

/* Versions of one domain submitted at once: whatever the order the checks run in, the log
 * holds increasing sequences, each refusal is a conflict, and the registry is the rebuilt one. */
#define RACERS 8

struct racer {
	struct fx *f;
	char *entry;
	size_t len;
	int err;
	uint64_t index;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	bd_publish_result res;

	r->err = publish(&res, r->f, r->entry, r->len, r->f->pem, r->f->pem_len);
	r->index = res.index;
	return NULL;
}

START_TEST(versions_of_one_domain_race)
{
	struct fx fx, *f = &fx;
	struct racer r[RACERS];
	pthread_t t[RACERS];
	uint64_t last_index = 0, last_seq = 0, max_seq = 0;
	size_t accepted = 0;
	bd_domain_state d;

	fx_init(f);
	for (int i = 0; i < RACERS; i++) {
		r[i] = (struct racer){ f, NULL, 0, 0, 0 };
		r[i].entry = entry_for(&r[i].len, "example.org", f->pem, f->pem_len, (uint64_t)i + 1, f->a);
	}
	for (int i = 0; i < RACERS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
	for (int i = 0; i < RACERS; i++)
		pthread_join(t[i], NULL);
	/* In log order, the accepted sequences increase. */
	for (uint64_t index = 2; index < tl_log_size(f->s.log); index++)
		for (int i = 0; i < RACERS; i++) {
			if (r[i].err != 0 || r[i].index != index)
				continue;
			ck_assert_uint_gt(index, last_index);
			ck_assert_uint_gt((uint64_t)i + 1, last_seq);
			last_index = index;
			last_seq = (uint64_t)i + 1;
		}
	for (int i = 0; i < RACERS; i++) {
		ck_assert_msg(r[i].err == 0 || r[i].err == TL_E_CONFLICT, "sequence %d: %d", i + 1, r[i].err);
		if (r[i].err == 0) {
			accepted++;
			max_seq = (uint64_t)i + 1;
		}
		free(r[i].entry);
	}
	ck_assert_uint_ge(accepted, 1);
	ck_assert_uint_eq(max_seq, RACERS); /* the highest can never be refused */
	ck_assert_uint_eq(tl_log_size(f->s.log), 2 + accepted);
	ck_assert_int_eq(bd_registry_get(&d, f->s.registry, "example.org"), 0);
	ck_assert_uint_eq(d.sequence, max_seq);
	ck_assert_uint_eq(d.versions, accepted);
	assert_registry_is_rebuilt_one(f);
	fx_free(f);
}
END_TEST

START_TEST(revocation_by_kid)
{
	struct fx fx, *f = &fx;
	bd_publish_result r;
	size_t len, json_len, rev_len, be_len;
	uint8_t *json;
	char *entry, *rev, *be;
	bd_bundle *b = NULL;
	tl_hash fp;
	bool found = false;

	fx_init(f);
	json = tu_bundle_vector("valid.json", &json_len);
	ck_assert_int_eq(bd_bundle_parse(&b, json, json_len, 0, NULL), 0);
	for (size_t i = 0; i < bd_bundle_count(b); i++) {
		const char *kid = bd_authority_kid(bd_bundle_at(b, i));

		if (kid != NULL && strcmp(kid, "jwt-p256") == 0) {
			fp = *bd_authority_fingerprint(bd_bundle_at(b, i));
			found = true;
		}
	}
	ck_assert(found);
	bd_bundle_free(b);
	/* the document says spiffe_sequence 42: the entry must say so too */
	entry = entry_for(&len, "example.org", json, json_len, 43, f->a);
	REFUSED(TL_E_INPUT, publish(&r, f, entry, len, json, json_len), "sequence other than the document's");
	free(entry);
	entry = entry_for(&len, "example.org", json, json_len, 42, f->a);
	ck_assert_msg(publish(&r, f, entry, len, json, json_len) == 0, "%s", tl_error_message());
	free(entry);
	revocation_by(&rev, &rev_len, &be, &be_len, json, json_len, &fp, "jwt-unknown", 43, f->a);
	REFUSED(TL_E_CONFLICT, bd_publish_revocation(&r, f->p, (uint8_t *)rev, rev_len, (uint8_t *)be, be_len, NOW),
		"unknown kid");
	free(rev);
	free(be);
	revocation_by(&rev, &rev_len, &be, &be_len, json, json_len, &fp, "jwt-p256", 43, f->a);
	ck_assert_msg(bd_publish_revocation(&r, f->p, (uint8_t *)rev, rev_len, (uint8_t *)be, be_len, NOW) == 0, "%s",
		tl_error_message());
	ck_assert_uint_eq(r.n_entries, 2);
	free(rev);
	free(be);
	free(json);
	fx_free(f);
}
END_TEST

Suite *suite_publish(void)
{
	Suite *s = suite_create("publish");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, publish_writes_log_blocks_registry_and_pin);
	tcase_add_test(tc, bundle_refusals_change_nothing);
	tcase_add_test(tc, revocation_logs_both_entries_in_one_batch);
	tcase_add_test(tc, revocation_by_kid);
	tcase_add_test(tc, key_changes);
	tcase_add_test(tc, domains_publish_concurrently);
	tcase_add_test(tc, one_commit_sees_its_own_entries);
	tcase_add_test(tc, entries_logged_without_the_hook_are_caught_up);
	tcase_add_test(tc, versions_of_one_domain_race);
	suite_add_tcase(s, tc);
	return s;
}
