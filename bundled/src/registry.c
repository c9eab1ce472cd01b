/*
 * The domain registry: derived state kept in the column family "registry" of the log's
 * database. Keys (every lookup a point read):
 *
 *   "A"                                 -> u64be: the next leaf index not applied
 *   "D" domain                          -> the domain's state (record below)
 *   "V" domain 0x00 u64be(sequence)     -> u64be: leaf index of that version's bundle entry
 *
 * A domain name never holds 0x00, so one domain's version keys never run into another's.
 * Every apply is one RocksDB write batch that also moves "A", so the registry is always
 * exactly the state after some prefix of the log; whatever that prefix misses is applied
 * again from the log on open (bd_registry_open) or by bd_registry_sync. The writes are not
 * synced on their own: the log is the durable record, and after a crash the lost suffix is
 * re-derived from it.
 *
 * When the log's commit hook stages for the registry (bd_registry_stage, installed by the
 * publisher), the registry's writes, "A" included, ride in the log's own commit batch: the
 * registry is then durable with the entries, and the catching up above finds nothing to do.
 */
#include "bundled/registry.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "translog/array.h"

#define KEY_APPLIED "A"
#define TAG_DOMAIN 'D'
#define TAG_VERSION 'V'
#define RECORD_VERSION 1
/* Entries read from the log and applied per write batch when catching up. */
#define SYNC_BATCH 256u

/* The states one apply (or one commit's staging) touches: each read once from the store,
 * then kept here as the entries change it. */
struct slot {
	bd_domain_state d;
	bool exists;
};

/* Most distinct domains one apply or one commit touches: a commit holds at most
 * TL_LOG_MAX_APPEND entries per request, and the log's max_batch per commit. */
#define MAX_TOUCHED ((size_t)1 << 20)

struct touched {
	struct slot *s;
	size_t n, alloc;
};

struct bd_registry {
	tl_db *db;
	rocksdb_column_family_handle_t *cf;
	rocksdb_writeoptions_t *write;
	pthread_mutex_t lock; /* serialises applies; reads go to RocksDB directly */
	uint64_t applied;
	uint64_t skipped;     /* entries passed over since open (see bd_registry_skipped) */
	/* The commit being staged (bd_registry_stage): r->lock is held from its first stage to
	 * bd_registry_end, by the log's committer thread. */
	struct {
		bool active;
		uint64_t next;        /* the next index after what it staged */
		uint64_t skipped;
		struct touched t;     /* the states as its entries left them */
		bd_entry *entry;      /* parse buffer */
		bd_domain_state *saved;
		tl_buf rec;
	} group;
};

/* ---- keys and records ---- */

static size_t domain_key(uint8_t *key, const char *domain)
{
	size_t n = strlen(domain);

	key[0] = TAG_DOMAIN;
	memcpy(key + 1, domain, n);
	return n + 1;
}

static size_t version_key(uint8_t *key, const char *domain, uint64_t sequence)
{
	size_t n = strlen(domain);

	key[0] = TAG_VERSION;
	memcpy(key + 1, domain, n);
	key[n + 1] = 0;
	tl_store_u64be(key + n + 2, sequence);
	return n + 10;
}

#define MAX_KEY (BD_MAX_DOMAIN + 10)

static int encode_state(tl_buf *out, const bd_domain_state *d)
{
	int err = 0;

	if ((err = tl_buf_append_u8(out, RECORD_VERSION)) != 0 ||
		(err = tl_buf_append_u64be(out, d->registered_index)) != 0 ||
		(err = tl_buf_append_u8(out, d->has_version ? 1 : 0)) != 0 ||
		(err = tl_buf_append_u64be(out, d->sequence)) != 0 ||
		(err = tl_buf_append_u64be(out, d->version_index)) != 0 ||
		(err = tl_buf_append_u64be(out, d->newest_index)) != 0 ||
		(err = tl_buf_append_u64be(out, d->versions)) != 0 ||
		(err = tl_buf_append_u64be(out, d->keys_time)) != 0 ||
		(err = tl_buf_append_u8(out, (uint8_t)d->n_keys)) != 0)
		return err;
	for (size_t i = 0; i < d->n_keys && err == 0; i++) {
		size_t len = strlen(d->keys[i]);

		if ((err = tl_buf_append(out, d->key_fps[i].b, TL_HASH_SIZE)) != 0 ||
			(err = tl_buf_append_u16be(out, (uint16_t)len)) != 0)
			break;
		err = tl_buf_append(out, d->keys[i], len);
	}
	return err;
}

static int decode_state(bd_domain_state *d, const char *domain, const char *value, size_t len)
{
	tl_cursor c = tl_cursor_make(value, len);
	uint8_t version = 0, has = 0, n = 0;

	memset(d, 0, sizeof(*d));
	memcpy(d->domain, domain, strlen(domain) + 1);
	if (tl_cursor_u8(&version, &c) != 0 || version != RECORD_VERSION || tl_cursor_u64be(&d->registered_index, &c) != 0 ||
		tl_cursor_u8(&has, &c) != 0 || tl_cursor_u64be(&d->sequence, &c) != 0 ||
		tl_cursor_u64be(&d->version_index, &c) != 0 || tl_cursor_u64be(&d->newest_index, &c) != 0 ||
		tl_cursor_u64be(&d->versions, &c) != 0 || tl_cursor_u64be(&d->keys_time, &c) != 0 ||
		tl_cursor_u8(&n, &c) != 0 || n > BD_ENTRY_MAX_KEYS)
		goto corrupt;
	d->has_version = has != 0;
	d->n_keys = n;
	for (size_t i = 0; i < n; i++) {
		uint16_t klen = 0;

		if (tl_cursor_copy(d->key_fps[i].b, &c, TL_HASH_SIZE) != 0 || tl_cursor_u16be(&klen, &c) != 0 ||
			klen > BD_MAX_VKEY || tl_cursor_copy(d->keys[i], &c, klen) != 0)
			goto corrupt;
		d->keys[i][klen] = '\0';
	}
	if (tl_cursor_left(&c) == 0)
		return 0;
corrupt:
	return tl_error_set(TL_E_INTERNAL, "registry: the record of domain %s is corrupt", domain);
}

/* ---- open, close, reads ---- */

static int read_applied(uint64_t *out, bd_registry *r)
{
	char *v = NULL;
	size_t n = 0;
	int err = tl_db_get(&v, &n, r->db, r->cf, KEY_APPLIED, 1);

	*out = 0;
	if (err == TL_E_NOTFOUND)
		return 0;
	if (err == 0 && n != 8)
		err = tl_error_set(TL_E_INTERNAL, "registry: the applied index is corrupt");
	if (err == 0)
		*out = tl_load_u64be((const uint8_t *)v);
	free(v);
	return err;
}

int bd_registry_open(bd_registry **out, tl_db *db, tl_log *log)
{
	bd_registry *r;
	int err;

	*out = NULL;
	if (tl_db_cf(db, BD_REGISTRY_COLUMN_FAMILY) == NULL)
		return tl_error_set(TL_E_INTERNAL, "registry: the database has no column family '%s'",
			BD_REGISTRY_COLUMN_FAMILY);
	if ((r = calloc(1, sizeof(*r))) == NULL || (r->write = rocksdb_writeoptions_create()) == NULL ||
		(r->group.entry = malloc(sizeof(*r->group.entry))) == NULL ||
		(r->group.saved = malloc(sizeof(*r->group.saved))) == NULL) {
		if (r != NULL) {
			if (r->write != NULL)
				rocksdb_writeoptions_destroy(r->write);
			free(r->group.entry);
			free(r);
		}
		return tl_error_set(TL_E_NOMEM, "out of memory");
	}
	r->group.rec = tl_buf_make(1 << 16);
	r->db = db;
	r->cf = tl_db_cf(db, BD_REGISTRY_COLUMN_FAMILY);
	pthread_mutex_init(&r->lock, NULL);
	if ((err = read_applied(&r->applied, r)) != 0)
		goto out;
	if (r->applied > tl_log_size(log)) {
		err = tl_error_set(TL_E_CONFLICT,
			"registry: applied %llu entries but the log holds %llu (another log's registry? rebuild it)",
			(unsigned long long)r->applied, (unsigned long long)tl_log_size(log));
		goto out;
	}
	err = bd_registry_sync(r, log, tl_log_size(log));
out:
	if (err != 0) {
		bd_registry_close(r);
		return err;
	}
	*out = r;
	return 0;
}

void bd_registry_close(bd_registry *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->lock);
	rocksdb_writeoptions_destroy(r->write);
	free(r->group.t.s);
	free(r->group.entry);
	free(r->group.saved);
	tl_buf_free(&r->group.rec);
	free(r);
}

uint64_t bd_registry_applied(const bd_registry *r)
{
	return __atomic_load_n(&r->applied, __ATOMIC_ACQUIRE);
}

int bd_registry_get(bd_domain_state *out, bd_registry *r, const char *domain)
{
	uint8_t key[MAX_KEY];
	char *v = NULL;
	size_t n = 0;
	int err;

	if ((err = bd_domain_name_check(domain, strlen(domain))) != 0)
		return err;
	if ((err = tl_db_get(&v, &n, r->db, r->cf, key, domain_key(key, domain))) != 0) {
		if (err == TL_E_NOTFOUND)
			tl_error_set(err, "no trust domain %s", domain);
		return err;
	}
	err = decode_state(out, domain, v, n);
	free(v);
	return err;
}

int bd_registry_version(uint64_t *index, bd_registry *r, const char *domain, uint64_t sequence)
{
	uint8_t key[MAX_KEY];
	char *v = NULL;
	size_t n = 0;
	int err;

	if ((err = bd_domain_name_check(domain, strlen(domain))) != 0)
		return err;
	if ((err = tl_db_get(&v, &n, r->db, r->cf, key, version_key(key, domain, sequence))) != 0) {
		if (err == TL_E_NOTFOUND)
			tl_error_set(err, "trust domain %s has no version %llu", domain, (unsigned long long)sequence);
		return err;
	}
	if (n == 8)
		*index = tl_load_u64be((const uint8_t *)v);
	else
		err = tl_error_set(TL_E_INTERNAL, "registry: version index of %s is corrupt", domain);
	free(v);
	return err;
}

/* The error an iterator stopped on, if any (TL_E_IO), else 0. */
static int iter_error(rocksdb_iterator_t *it)
{
	char *err_text = NULL;
	int err = 0;

	rocksdb_iter_get_error(it, &err_text);
	if (err_text != NULL) {
		err = tl_error_set(TL_E_IO, "registry: %s", err_text);
		rocksdb_free(err_text);
	}
	return err;
}

int bd_registry_list(bd_registry *r, int (*fn)(void *ctx, const bd_domain_state *d), void *ctx)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(tl_db_rocks(r->db), tl_db_read(r->db), r->cf);
	bd_domain_state *d = malloc(sizeof(*d));
	char tag = TAG_DOMAIN;
	int err = 0;

	if (it == NULL || d == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	for (rocksdb_iter_seek(it, &tag, 1); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t kl = 0, vl = 0;
		const char *k = rocksdb_iter_key(it, &kl), *v = rocksdb_iter_value(it, &vl);
		char domain[BD_MAX_DOMAIN + 1];

		if (kl == 0 || k[0] != TAG_DOMAIN)
			break;
		if (kl - 1 > BD_MAX_DOMAIN) {
			err = tl_error_set(TL_E_INTERNAL, "registry: a domain key is corrupt");
			goto out;
		}
		memcpy(domain, k + 1, kl - 1);
		domain[kl - 1] = '\0';
		if ((err = decode_state(d, domain, v, vl)) != 0 || (err = fn(ctx, d)) != 0)
			goto out;
	}
	err = iter_error(it);
out:
	if (it != NULL)
		rocksdb_iter_destroy(it);
	free(d);
	return err;
}

int bd_registry_versions_since(bd_registry *r, const char *domain, uint64_t after,
	int (*fn)(void *ctx, uint64_t sequence, uint64_t index), void *ctx)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(tl_db_rocks(r->db), tl_db_read(r->db), r->cf);
	uint8_t last[MAX_KEY];
	size_t prefix = version_key(last, domain, UINT64_MAX) - 8;
	int err = 0;

	if (it == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	/* Sequences grow with leaf indices, so walking back from the newest stops at the first
	 * version at or below `after`: the cost is the versions returned, not the history. */
	for (rocksdb_iter_seek_for_prev(it, (const char *)last, prefix + 8); rocksdb_iter_valid(it);
		rocksdb_iter_prev(it)) {
		size_t kl = 0, vl = 0;
		const char *k = rocksdb_iter_key(it, &kl), *v = rocksdb_iter_value(it, &vl);
		uint64_t index;

		if (kl != prefix + 8 || memcmp(k, last, prefix) != 0)
			break;
		if (vl != 8) {
			err = tl_error_set(TL_E_INTERNAL, "registry: a version record of %s is corrupt", domain);
			goto out;
		}
		index = tl_load_u64be((const uint8_t *)v);
		if (index <= after || (err = fn(ctx, tl_load_u64be((const uint8_t *)k + prefix), index)) != 0)
			goto out;
	}
	err = iter_error(it);
out:
	rocksdb_iter_destroy(it);
	return err;
}

int bd_registry_digest(tl_hash *out, bd_registry *r)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(tl_db_rocks(r->db), tl_db_read(r->db), r->cf);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;
	int err = 0;

	if (it == NULL || md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	/* Every key and value, length-prefixed, in key order: equal digests, equal content. */
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t kl = 0, vl = 0;
		const char *k = rocksdb_iter_key(it, &kl), *v = rocksdb_iter_value(it, &vl);
		uint8_t lens[16];

		tl_store_u64be(lens, kl);
		tl_store_u64be(lens + 8, vl);
		if (EVP_DigestUpdate(md, lens, 8) != 1 || EVP_DigestUpdate(md, k, kl) != 1 ||
			EVP_DigestUpdate(md, lens + 8, 8) != 1 || EVP_DigestUpdate(md, v, vl) != 1) {
			err = tl_error_set(TL_E_INTERNAL, "registry: SHA-256 failed");
			goto out;
		}
	}
	if ((err = iter_error(it)) != 0)
		goto out;
	if (EVP_DigestFinal_ex(md, out->b, &n) != 1 || n != TL_HASH_SIZE)
		err = tl_error_set(TL_E_INTERNAL, "registry: SHA-256 failed");
out:
	if (it != NULL)
		rocksdb_iter_destroy(it);
	EVP_MD_CTX_free(md);
	return err;
}

/* ---- applying entries ---- */

static int touch(struct slot **out, struct touched *t, bd_registry *r, const char *domain)
{
	struct slot *s;
	int err;

	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->s[i].d.domain, domain) == 0) {
			*out = &t->s[i];
			return 0;
		}
	if ((err = tl_array_grow(&t->s, &t->alloc, t->n + 1, sizeof(*t->s), MAX_TOUCHED)) != 0)
		return err;
	s = &t->s[t->n];
	err = bd_registry_get(&s->d, r, domain);
	if (err == TL_E_NOTFOUND) {
		tl_error_clear();
		memset(&s->d, 0, sizeof(s->d));
		memcpy(s->d.domain, domain, strlen(domain) + 1);
		err = 0;
		s->exists = false;
	} else if (err == 0) {
		s->exists = true;
	}
	if (err == 0) {
		t->n++;
		*out = s;
	}
	return err;
}

static int find_key(const bd_domain_state *d, const tl_hash *fp)
{
	for (size_t i = 0; i < d->n_keys; i++)
		if (tl_hash_equal(&d->key_fps[i], fp))
			return (int)i;
	return -1;
}

/* Inserts one key in fingerprint order. */
static int insert_key(bd_domain_state *d, const char *vkey)
{
	tl_verifier *v = NULL;
	tl_hash fp;
	size_t i;
	int err;

	if ((err = tl_verifier_parse(&v, vkey, strlen(vkey))) != 0)
		return err;
	bd_key_fingerprint(&fp, v);
	tl_verifier_free(v);
	if (find_key(d, &fp) >= 0)
		return tl_error_set(TL_E_CONFLICT, "domain %s already holds that key", d->domain);
	if (d->n_keys == BD_ENTRY_MAX_KEYS)
		return tl_error_set(TL_E_CONFLICT, "domain %s already holds %u keys", d->domain, BD_ENTRY_MAX_KEYS);
	for (i = d->n_keys; i > 0 && memcmp(d->key_fps[i - 1].b, fp.b, TL_HASH_SIZE) > 0; i--) {
		d->key_fps[i] = d->key_fps[i - 1];
		memcpy(d->keys[i], d->keys[i - 1], sizeof(d->keys[0]));
	}
	d->key_fps[i] = fp;
	memcpy(d->keys[i], vkey, strlen(vkey) + 1);
	d->n_keys++;
	return 0;
}

static int remove_key(bd_domain_state *d, const char *vkey)
{
	tl_verifier *v = NULL;
	tl_hash fp;
	int i, err;

	if ((err = tl_verifier_parse(&v, vkey, strlen(vkey))) != 0)
		return err;
	bd_key_fingerprint(&fp, v);
	tl_verifier_free(v);
	if ((i = find_key(d, &fp)) < 0)
		return tl_error_set(TL_E_CONFLICT, "domain %s does not hold that key", d->domain);
	if (d->n_keys == 1)
		return tl_error_set(TL_E_CONFLICT, "domain %s would be left without keys", d->domain);
	for (size_t j = (size_t)i; j + 1 < d->n_keys; j++) {
		d->key_fps[j] = d->key_fps[j + 1];
		memcpy(d->keys[j], d->keys[j + 1], sizeof(d->keys[0]));
	}
	d->n_keys--;
	return 0;
}

static int apply_domain(bd_domain_state *d, bool *exists, const bd_entry *e, uint64_t index)
{
	int err = 0;

	if (e->action == BD_DOMAIN_REGISTER) {
		if (*exists)
			return tl_error_set(TL_E_CONFLICT, "domain %s is already registered", e->domain);
		d->registered_index = index;
		for (size_t i = 0; i < e->n_keys && err == 0; i++)
			err = insert_key(d, e->keys[i]);
		*exists = true;
	} else if (!*exists) {
		return tl_error_set(TL_E_CONFLICT, "no trust domain %s", e->domain);
	} else if (e->action == BD_DOMAIN_ADD_KEY) {
		err = insert_key(d, e->keys[0]);
	} else {
		err = remove_key(d, e->keys[0]);
	}
	d->keys_time = e->time;
	return err;
}

/* Applies one entry to its domain's slot; the version's index goes into `batch`. A refused
 * step (TL_E_CONFLICT, TL_E_INPUT) may leave the slot half changed: callers that go on
 * restore it (apply_or_skip) or drop the whole apply. */
static int apply_one(struct slot **out, struct touched *t, rocksdb_writebatch_t *batch, bd_registry *r,
	const bd_entry *e, uint64_t index)
{
	struct slot *s;
	bd_domain_state *d;
	int err;

	if ((err = touch(&s, t, r, e->domain)) != 0)
		return err;
	*out = s;
	d = &s->d;
	if (e->kind == BD_ENTRY_DOMAIN) {
		if ((err = apply_domain(d, &s->exists, e, index)) != 0)
			return err;
	} else if (!s->exists) {
		return tl_error_set(TL_E_CONFLICT, "no trust domain %s", e->domain);
	} else if (e->kind == BD_ENTRY_BUNDLE) {
		uint8_t key[MAX_KEY], value[8];

		if (d->has_version && e->sequence <= d->sequence)
			return tl_error_set(TL_E_CONFLICT, "domain %s: sequence %llu is not above %llu", e->domain,
				(unsigned long long)e->sequence, (unsigned long long)d->sequence);
		d->has_version = true;
		d->sequence = e->sequence;
		d->version_index = index;
		d->versions++;
		tl_store_u64be(value, index);
		rocksdb_writebatch_put_cf(batch, r->cf, (const char *)key, version_key(key, e->domain, e->sequence),
			(const char *)value, sizeof(value));
	}
	d->newest_index = index;
	return 0;
}

static int put_state(rocksdb_writebatch_t *batch, bd_registry *r, tl_buf *rec, const struct slot *s)
{
	uint8_t key[MAX_KEY];
	int err;

	if (!s->exists)
		return 0; /* only refused steps touched it */
	tl_buf_reset(rec);
	if ((err = encode_state(rec, &s->d)) != 0)
		return err;
	rocksdb_writebatch_put_cf(batch, r->cf, (const char *)key, domain_key(key, s->d.domain), (const char *)rec->data,
		rec->len);
	return 0;
}

static void put_applied(rocksdb_writebatch_t *batch, bd_registry *r, uint64_t next)
{
	uint8_t applied[8];

	tl_store_u64be(applied, next);
	rocksdb_writebatch_put_cf(batch, r->cf, KEY_APPLIED, 1, (const char *)applied, sizeof(applied));
}

static int write_batch(bd_registry *r, rocksdb_writebatch_t *batch)
{
	char *err_text = NULL;

	rocksdb_write(tl_db_rocks(r->db), r->write, batch, &err_text);
	if (err_text != NULL) {
		int err = tl_error_set(TL_E_IO, "registry: %s", err_text);

		rocksdb_free(err_text);
		return err;
	}
	return 0;
}

/* With r->lock held. */
static int apply_locked(bd_registry *r, uint64_t first, const bd_entry *entries, size_t n)
{
	struct touched t = { 0 };
	rocksdb_writebatch_t *batch = NULL;
	tl_buf rec = tl_buf_make(1 << 16);
	int err = 0;

	if (first != r->applied)
		return tl_error_set(TL_E_CONFLICT, "registry: next entry to apply is %llu, not %llu",
			(unsigned long long)r->applied, (unsigned long long)first);
	if (n == 0)
		return 0;
	if ((batch = rocksdb_writebatch_create()) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct slot *s;

		if ((err = apply_one(&s, &t, batch, r, &entries[i], first + i)) != 0) {
			tl_error_wrap(err, "entry %llu", (unsigned long long)(first + i));
			goto out;
		}
	}
	for (size_t i = 0; i < t.n; i++)
		if ((err = put_state(batch, r, &rec, &t.s[i])) != 0)
			goto out;
	put_applied(batch, r, first + n);
	if ((err = write_batch(r, batch)) != 0)
		goto out;
	__atomic_store_n(&r->applied, first + n, __ATOMIC_RELEASE);
out:
	if (batch != NULL)
		rocksdb_writebatch_destroy(batch);
	tl_buf_free(&rec);
	free(t.s);
	return err;
}

int bd_registry_apply(bd_registry *r, uint64_t first, const bd_entry *entries, size_t n)
{
	int err;

	pthread_mutex_lock(&r->lock);
	err = apply_locked(r, first, entries, n);
	pthread_mutex_unlock(&r->lock);
	return err;
}

/* With r->lock held: records that entry r->applied changes nothing and moves past it. */
static int skip_locked(bd_registry *r)
{
	rocksdb_writebatch_t *batch = rocksdb_writebatch_create();
	uint8_t applied[8];
	int err;

	if (batch == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	tl_store_u64be(applied, r->applied + 1);
	rocksdb_writebatch_put_cf(batch, r->cf, KEY_APPLIED, 1, (const char *)applied, sizeof(applied));
	if ((err = write_batch(r, batch)) == 0) {
		__atomic_store_n(&r->applied, r->applied + 1, __ATOMIC_RELEASE);
		r->skipped++;
	}
	rocksdb_writebatch_destroy(batch);
	return err;
}

/* With r->lock held: applies log entries [r->applied, upto), a batch at a time. An entry
 * that is not a bundled entry or not a valid step (only a damaged or forged store, or a
 * bug, puts one in the log: the publisher checks every entry before it appends) is passed
 * over and counted, so the log stays servable and its auditors find it; the batch it was in
 * is then applied entry by entry. Storage failures stop the sync. */
static int sync_locked(bd_registry *r, tl_log *log, uint64_t upto)
{
	bd_entry *entries = malloc(SYNC_BATCH * sizeof(*entries));
	tl_buf text = tl_buf_make(TL_LOG_MAX_ENTRY + 1);
	bool one_by_one = false;
	int err = 0;

	if (entries == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	while (err == 0 && r->applied < upto) {
		uint64_t first = r->applied;
		size_t n = upto - first < SYNC_BATCH ? (size_t)(upto - first) : SYNC_BATCH;
		bool bad = false;

		if (one_by_one)
			n = 1;
		for (size_t i = 0; i < n && err == 0 && !bad; i++) {
			tl_buf_reset(&text);
			if ((err = tl_log_entry(&text, log, first + i)) != 0)
				break;
			bad = bd_entry_parse(&entries[i], text.data, text.len) != 0;
		}
		if (err != 0)
			break;
		if (!bad && (err = apply_locked(r, first, entries, n)) == 0) {
			one_by_one = false;
			continue;
		}
		if (!bad && err != TL_E_CONFLICT && err != TL_E_INPUT && err != TL_E_UNAUTHORIZED)
			break;
		err = 0;
		if (n > 1)
			one_by_one = true; /* find the entry that failed */
		else
			err = skip_locked(r);
	}
	tl_buf_free(&text);
	free(entries);
	return err;
}

uint64_t bd_registry_skipped(const bd_registry *r)
{
	return __atomic_load_n(&r->skipped, __ATOMIC_RELAXED);
}

int bd_registry_sync(bd_registry *r, tl_log *log, uint64_t upto)
{
	int err;

	if (bd_registry_applied(r) >= upto)
		return 0;
	pthread_mutex_lock(&r->lock);
	err = sync_locked(r, log, upto);
	pthread_mutex_unlock(&r->lock);
	return err;
}

/* ---- following the log's commits (bd_registry_stage) ---- */

/* One entry of a commit: applied to the group's states, or passed over (as sync_locked
 * does) with the slot as it was. */
static int stage_one(bd_registry *r, rocksdb_writebatch_t *wb, const uint8_t *text, size_t len, uint64_t index)
{
	struct slot *s = NULL;
	bool existed = false;
	int err;

	if (bd_entry_parse(r->group.entry, text, len) != 0) {
		r->group.skipped++;
		return 0;
	}
	/* The slot is found or added first, so a refused step can be undone from a copy. */
	if ((err = touch(&s, &r->group.t, r, r->group.entry->domain)) != 0)
		return err;
	existed = s->exists;
	*r->group.saved = s->d;
	err = apply_one(&s, &r->group.t, wb, r, r->group.entry, index);
	if (err == TL_E_CONFLICT || err == TL_E_INPUT || err == TL_E_UNAUTHORIZED) {
		tl_error_clear();
		s->d = *r->group.saved;
		s->exists = existed;
		r->group.skipped++;
		return 0;
	}
	return err != 0 ? err : put_state(wb, r, &r->group.rec, s);
}

int bd_registry_stage(bd_registry *r, tl_log *log, rocksdb_writebatch_t *wb, uint64_t first,
	const void *const *entries, const size_t *lens, size_t n)
{
	int err;

	if (!r->group.active) {
		pthread_mutex_lock(&r->lock);
		r->group.active = true;
		r->group.next = r->applied;
		r->group.skipped = 0;
		r->group.t.n = 0;
	}
	/* Entries committed while nobody staged for the registry (before the hook was set)
	 * come from the log: they are durable, and before this commit's. */
	if (first > r->group.next && r->group.next == r->applied) {
		if ((err = sync_locked(r, log, first)) != 0)
			return err;
		r->group.next = r->applied;
	}
	if (first != r->group.next)
		return tl_error_set(TL_E_INTERNAL, "registry: asked to stage entry %llu, the next is %llu",
			(unsigned long long)first, (unsigned long long)r->group.next);
	for (size_t i = 0; i < n; i++)
		if ((err = stage_one(r, wb, entries[i], lens[i], first + i)) != 0)
			return tl_error_wrap(err, "registry: entry %llu", (unsigned long long)(first + i));
	r->group.next = first + n;
	put_applied(wb, r, r->group.next);
	return 0;
}

void bd_registry_end(bd_registry *r, int err)
{
	if (!r->group.active)
		return;
	if (err == 0) {
		__atomic_store_n(&r->applied, r->group.next, __ATOMIC_RELEASE);
		__atomic_add_fetch(&r->skipped, r->group.skipped, __ATOMIC_RELAXED);
	}
	r->group.t.n = 0;
	r->group.active = false;
	pthread_mutex_unlock(&r->lock);
}

int bd_registry_rebuild(bd_registry *r, tl_log *log)
{
	rocksdb_writebatch_t *batch;
	uint8_t zero[8] = { 0 };
	int err;

	if ((batch = rocksdb_writebatch_create()) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	pthread_mutex_lock(&r->lock);
	/* Every key starts with 'A', 'D' or 'V': one range covers them all. */
	rocksdb_writebatch_delete_range_cf(batch, r->cf, "\x00", 1, "\xff", 1);
	rocksdb_writebatch_put_cf(batch, r->cf, KEY_APPLIED, 1, (const char *)zero, sizeof(zero));
	if ((err = write_batch(r, batch)) == 0) {
		__atomic_store_n(&r->applied, 0, __ATOMIC_RELEASE);
		err = sync_locked(r, log, tl_log_size(log));
	}
	pthread_mutex_unlock(&r->lock);
	rocksdb_writebatch_destroy(batch);
	return err;
}
