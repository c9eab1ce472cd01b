#include "testentry.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/dag.h"
#include "testutil.h"

tl_signer *tu_signer(uint8_t seed_byte, const char *name)
{
	uint8_t seed[TL_ED25519_SEED_SIZE];
	tl_signer *s = NULL;

	memset(seed, seed_byte, sizeof(seed));
	ck_assert_int_eq(tl_signer_from_seed(&s, name, TL_KEY_TYPE_ED25519, seed), 0);
	return s;
}

void tu_vkey(char *out, const tl_signer *s)
{
	tl_buf b = tl_buf_make(TL_MAX_KEY_TEXT);

	ck_assert_int_eq(tl_signer_vkey(&b, s), 0);
	ck_assert_uint_le(b.len, BD_MAX_VKEY);
	memcpy(out, b.data, b.len + 1);
	tl_buf_free(&b);
}

static void fingerprint(tl_hash *out, const char *vkey)
{
	tl_verifier *v = NULL;

	ck_assert_int_eq(tl_verifier_parse(&v, vkey, strlen(vkey)), 0);
	bd_key_fingerprint(out, v);
	tl_verifier_free(v);
}

bd_entry *tu_register(const char *domain, tl_signer *const *keys, size_t n, uint64_t time)
{
	bd_entry *e = calloc(1, sizeof(*e));
	tl_hash fps[BD_ENTRY_MAX_KEYS + 1];

	ck_assert_uint_le(n, BD_ENTRY_MAX_KEYS);
	e->kind = BD_ENTRY_DOMAIN;
	e->action = BD_DOMAIN_REGISTER;
	memcpy(e->domain, domain, strlen(domain) + 1);
	e->by_operator = true;
	e->time = time;
	for (size_t i = 0; i < n; i++) {
		size_t j = e->n_keys++;
		char v[BD_MAX_VKEY + 1];
		tl_hash fp;

		tu_vkey(v, keys[i]);
		fingerprint(&fp, v);
		while (j > 0 && memcmp(fps[j - 1].b, fp.b, TL_HASH_SIZE) > 0) {
			fps[j] = fps[j - 1];
			memcpy(e->keys[j], e->keys[j - 1], sizeof(e->keys[0]));
			j--;
		}
		fps[j] = fp;
		memcpy(e->keys[j], v, sizeof(v));
	}
	return e;
}

bd_entry *tu_key_change(const char *domain, bd_domain_action action, const tl_signer *subject, const tl_signer *by,
	uint64_t time)
{
	bd_entry *e = calloc(1, sizeof(*e));

	e->kind = BD_ENTRY_DOMAIN;
	e->action = action;
	memcpy(e->domain, domain, strlen(domain) + 1);
	e->n_keys = 1;
	tu_vkey(e->keys[0], subject);
	e->time = time;
	ck_assert_msg(bd_entry_sign(e, TU_LOG_ORIGIN, by) == 0, "%s", tl_error_message());
	return e;
}

bd_entry *tu_bundle_entry(const char *domain, uint64_t sequence, uint64_t refresh_hint, const uint8_t *canon,
	size_t len, uint64_t time, const tl_signer *key)
{
	bd_entry *e = calloc(1, sizeof(*e));
	bd_dag *dag = NULL;

	e->kind = BD_ENTRY_BUNDLE;
	memcpy(e->domain, domain, strlen(domain) + 1);
	e->sequence = sequence;
	e->refresh_hint = refresh_hint;
	e->size = len;
	tl_sha256(&e->sha256, canon, len);
	ck_assert_int_eq(bd_dag_build(&dag, canon, len, NULL), 0);
	ck_assert_int_eq(bd_cid_format(e->cid, sizeof(e->cid), bd_dag_root(dag)), 0);
	bd_dag_free(dag);
	e->time = time;
	ck_assert_msg(bd_entry_sign(e, TU_LOG_ORIGIN, key) == 0, "%s", tl_error_message());
	return e;
}

char *tu_entry_text(const bd_entry *e, size_t *len)
{
	tl_buf b = tl_buf_make(BD_ENTRY_MAX_SIZE);
	int err = bd_entry_write(&b, e);

	ck_assert_msg(err == 0, "%s", tl_error_message());
	return (char *)tl_buf_detach(&b, len);
}

/* ---- the store ---- */

static int no_put(void *ctx, const bd_block *block)
{
	return tl_error_set(TL_E_UNAVAILABLE, "no IPFS node in unit tests");
}

static int no_pin(void *ctx, const bd_cid *root)
{
	return tl_error_set(TL_E_UNAVAILABLE, "no IPFS node in unit tests");
}

void tu_store_open(struct tu_store *s)
{
	const char *cfs[TL_LOG_COLUMN_FAMILY_COUNT + 3];
	bd_pinq_transport t = { no_put, no_pin, NULL };
	size_t n = 0;

	for (size_t i = 0; i < TL_LOG_COLUMN_FAMILY_COUNT; i++)
		cfs[n++] = tl_log_column_families[i];
	cfs[n++] = BD_REGISTRY_COLUMN_FAMILY;
	cfs[n++] = bd_blockstore_column_family;
	cfs[n++] = bd_pinq_column_family;
	ck_assert_msg(tl_db_open(&s->db, s->dir, cfs, n) == 0, "%s", tl_error_message());
	ck_assert_msg(tl_log_open(&s->log, s->db, s->log_key, NULL) == 0, "%s", tl_error_message());
	ck_assert_msg(bd_registry_open(&s->registry, s->db, s->log) == 0, "%s", tl_error_message());
	ck_assert_msg(bd_blockstore_open(&s->blocks, s->db) == 0, "%s", tl_error_message());
	ck_assert_msg(bd_pinq_open(&s->pins, s->db, s->blocks, &t, NULL) == 0, "%s", tl_error_message());
}

void tu_store_close(struct tu_store *s)
{
	bd_pinq_close(s->pins);
	bd_blockstore_close(s->blocks);
	bd_registry_close(s->registry);
	tl_log_close(s->log);
	tl_db_close(s->db);
	s->pins = NULL;
	s->blocks = NULL;
	s->registry = NULL;
	s->log = NULL;
	s->db = NULL;
}

void tu_store_init(struct tu_store *s)
{
	memset(s, 0, sizeof(*s));
	ck_assert_ptr_nonnull(s->dir = tu_mkdtemp());
	s->log_key = tu_signer(0x77, TU_LOG_ORIGIN);
	tu_store_open(s);
}

void tu_store_free(struct tu_store *s)
{
	if (s->db != NULL)
		tu_store_close(s);
	tl_signer_free(s->log_key);
	tu_rm_rf(s->dir);
	free(s->dir);
}

uint64_t tu_store_append(struct tu_store *s, const bd_entry *e)
{
	size_t len = 0;
	char *text = tu_entry_text(e, &len);
	uint64_t index = 0;

	ck_assert_msg(tl_log_append(&index, s->log, text, len) == 0, "%s", tl_error_message());
	free(text);
	return index;
}

size_t tu_store_block_count(struct tu_store *s)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(tl_db_rocks(s->db), tl_db_read(s->db),
		tl_db_cf(s->db, bd_blockstore_column_family));
	size_t n = 0;

	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it))
		n++;
	rocksdb_iter_destroy(it);
	return n;
}
