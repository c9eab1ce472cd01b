#include "diff_cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/diff.h"
#include "daemon.h"
#include "logging.h"
#include "versions.h"

/* Key: the domain, a NUL, the target sequence and the base sequence (u64 big-endian), so a
 * domain's diffs to old targets form one range. */
#define KEY_MAX (BD_MAX_DOMAIN + 1 + 16)

struct job {
	char td[BD_MAX_DOMAIN + 1];
	uint64_t sequence;
};

struct diff_cache {
	struct daemon *d;
	rocksdb_column_family_handle_t *cf;
	rocksdb_writeoptions_t *write; /* not synced: derived state */
	struct metric *hits, *misses; /* lookups of diff_cache_get (the precomputations are not counted) */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	size_t head, n;
	struct job queue[DIFF_CACHE_QUEUE];
};

static size_t make_key(char *key, const char *td, uint64_t to, uint64_t from)
{
	size_t n = strlen(td);

	memcpy(key, td, n + 1);
	tl_store_u64be((uint8_t *)key + n + 1, to);
	tl_store_u64be((uint8_t *)key + n + 9, from);
	return n + 17;
}

static int rocks_failed(char *err_text, const char *what)
{
	int err = tl_error_set(TL_E_IO, "diff cache: %s: %s", what, err_text);

	rocksdb_free(err_text);
	return err;
}

static int version_of(tl_buf *bytes, struct daemon *d, const char *td, uint64_t sequence)
{
	tl_buf text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1);
	bd_entry *e = calloc(1, sizeof(*e));
	uint64_t index;
	int err;

	if (e == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = version_load(&index, &text, e, d, td, true, sequence)) == 0)
		err = version_bytes(bytes, d, e);
out:
	free(e);
	tl_buf_free(&text);
	return err;
}

/* The diff from the cache, or made now and kept; *hit says which (untouched on a refusal). */
static int lookup(tl_buf *out, bool *hit, struct diff_cache *c, const char *td, uint64_t from, uint64_t to)
{
	char key[KEY_MAX], *err_text = NULL, *value = NULL;
	size_t klen, vlen, start = out->len;
	tl_buf a = tl_buf_make(BD_DIFF_MAX_VERSION_SIZE), b = tl_buf_make(BD_DIFF_MAX_VERSION_SIZE);
	bd_domain_state *s = NULL;
	int err;

	if (from >= to || to - from > DIFF_CACHE_MAX_AGE)
		return tl_error_set(TL_E_INPUT, "no diff is kept from version %llu to %llu", (unsigned long long)from,
			(unsigned long long)to);
	klen = make_key(key, td, to, from);
	if ((err = tl_db_get(&value, &vlen, c->d->db, c->cf, key, klen)) == 0) {
		*hit = true;
		err = tl_buf_append(out, value, vlen);
		goto out;
	}
	if (err != TL_E_NOTFOUND)
		goto out;
	*hit = false;
	if ((err = version_of(&a, c->d, td, from)) != 0 || (err = version_of(&b, c->d, td, to)) != 0 ||
	    (err = bd_diff_make(out, a.data, a.len, b.data, b.len)) != 0)
		goto out;
	/* Kept only while `to` is among the domain's newest versions, so the cache stays bounded. */
	if ((s = malloc(sizeof(*s))) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if (bd_registry_get(s, c->d->registry, td) == 0 && s->has_version && to + DIFF_CACHE_KEEP > s->sequence) {
		rocksdb_put_cf(tl_db_rocks(c->d->db), c->write, c->cf, key, klen, (const char *)out->data + start,
			out->len - start, &err_text);
		if (err_text != NULL) /* the diff is still good; only keeping it failed */
			log_at(LOG_WARN, "diff cache write failed", "error=\"%s\"", err_text);
		rocksdb_free(err_text);
	}
out:
	free(s);
	free(value);
	tl_buf_free(&a);
	tl_buf_free(&b);
	return err;
}

int diff_cache_get(tl_buf *out, struct diff_cache *c, const char *td, uint64_t from, uint64_t to)
{
	bool hit = false;
	int err = lookup(out, &hit, c, td, from, to);

	if (err != TL_E_INPUT)
		metric_inc(hit ? c->hits : c->misses);
	return err;
}

/* Drops the domain's diffs to targets below `keep_from`. */
static int prune(struct diff_cache *c, const char *td, uint64_t keep_from)
{
	char start[KEY_MAX], end[KEY_MAX], *err_text = NULL;
	size_t ls = make_key(start, td, 0, 0), le = make_key(end, td, keep_from, 0);

	rocksdb_delete_range_cf(tl_db_rocks(c->d->db), c->write, c->cf, start, ls, end, le, &err_text);
	return err_text ? rocks_failed(err_text, "pruning") : 0;
}

static void precompute(struct diff_cache *c, const struct job *j)
{
	tl_buf patch = tl_buf_make(BD_DIFF_MAX_VERSION_SIZE + (1u << 20));
	bool hit;

	for (uint64_t k = 1; k <= DIFF_CACHE_BASES && k < j->sequence; k++) {
		tl_buf_reset(&patch);
		if (lookup(&patch, &hit, c, j->td, j->sequence - k, j->sequence) != 0 &&
		    tl_error_code() != TL_E_NOTFOUND)
			log_at(LOG_WARN, "diff precomputation failed", "domain=%s from=%llu to=%llu error=\"%s\"", j->td,
				(unsigned long long)(j->sequence - k), (unsigned long long)j->sequence, tl_error_message());
	}
	if (j->sequence > DIFF_CACHE_KEEP && prune(c, j->td, j->sequence - DIFF_CACHE_KEEP + 1) != 0)
		log_at(LOG_WARN, "diff cache pruning failed", "domain=%s error=\"%s\"", j->td, tl_error_message());
	tl_buf_free(&patch);
}

static void *run(void *arg)
{
	struct diff_cache *c = arg;
	struct job j;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->stop && c->n == 0)
			pthread_cond_wait(&c->wake, &c->lock);
		if (c->stop)
			break;
		j = c->queue[c->head];
		c->head = (c->head + 1) % DIFF_CACHE_QUEUE;
		c->n--;
		pthread_mutex_unlock(&c->lock);
		precompute(c, &j);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

void diff_cache_published(struct diff_cache *c, const char *td, uint64_t sequence)
{
	struct job *j;

	pthread_mutex_lock(&c->lock);
	if (c->n < DIFF_CACHE_QUEUE && strlen(td) <= BD_MAX_DOMAIN) {
		j = &c->queue[(c->head + c->n) % DIFF_CACHE_QUEUE];
		memcpy(j->td, td, strlen(td) + 1);
		j->sequence = sequence;
		c->n++;
		pthread_cond_signal(&c->wake);
	}
	pthread_mutex_unlock(&c->lock);
}

int diff_cache_open(struct diff_cache **out, struct daemon *d)
{
	struct diff_cache *c = calloc(1, sizeof(*c));
	static const char help[] = "Diff lookups of GET /v1/domains/<td>/diff: found in the cache or made now.";
	int err = 0;

	if (c == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	c->d = d;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	if ((err = metrics_counter(&c->hits, d->metrics, "bundled_diff_cache_requests_total", help,
		     "result=\"hit\"")) != 0 ||
	    (err = metrics_counter(&c->misses, d->metrics, "bundled_diff_cache_requests_total", help,
		     "result=\"miss\"")) != 0)
		goto out;
	if ((c->cf = tl_db_cf(d->db, DIFF_CACHE_COLUMN_FAMILY)) == NULL) {
		err = tl_error_set(TL_E_INTERNAL, "the database has no \"%s\" column family", DIFF_CACHE_COLUMN_FAMILY);
		goto out;
	}
	if ((c->write = rocksdb_writeoptions_create()) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if (pthread_create(&c->thread, NULL, run, c) != 0) {
		err = tl_error_set(TL_E_INTERNAL, "cannot start the diff thread");
		goto out;
	}
	c->started = true;
	*out = c;
	c = NULL;
out:
	diff_cache_close(c);
	return err;
}

void diff_cache_close(struct diff_cache *c)
{
	if (c == NULL)
		return;
	if (c->started) {
		pthread_mutex_lock(&c->lock);
		c->stop = true;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
	}
	if (c->write != NULL)
		rocksdb_writeoptions_destroy(c->write);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->wake);
	free(c);
}
