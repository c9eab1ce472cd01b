#include "bundled/pinq.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pinq_internal.h"
#include "translog/array.h"

/*
 * The pin queue and its worker (pinq.h). The storage layout and the item record are in
 * pinq_internal.h (pinq_record.c); pushing one DAG is pinq_push.c.
 */

/* The worker wakes at least this often, so a clock step or a lost wake-up costs little. */
#define WORKER_IDLE_MS 60000u

const char *const bd_pinq_column_family = "pinq";

/* Roots gathered during a scan, acted on after it (bounded only by memory, as the queue is). */
#define ROOT_LIST_MAX (SIZE_MAX / sizeof(bd_cid))
struct root_list {
	bd_cid *roots;
	size_t n, alloc;
};

/* Makes room for roots[n]; the caller fills it and counts it. */
static int root_list_reserve_one(struct root_list *l)
{
	return tl_array_grow(&l->roots, &l->alloc, l->n + 1, sizeof(*l->roots), ROOT_LIST_MAX);
}

struct bd_pinq {
	tl_db *db;
	rocksdb_column_family_handle_t *cf;
	bd_blockstore *bs;
	bd_pinq_transport transport;
	bd_pinq_options opts;

	pthread_mutex_t lock;     /* records, counts, rng, worker flags */
	pthread_mutex_t run_lock; /* one step at a time */
	pthread_cond_t wake;
	pthread_t worker;
	int worker_running;
	int stop;
	int kicked;

	bd_pinq_counts counts;
	uint64_t rng;

	/* The commit being staged (bd_pinq_stage): q->lock is held from its first stage to
	 * bd_pinq_end, by the log's committer thread. */
	struct {
		bool active;
		uint64_t now;
		struct root_list roots; /* staged in it */
		long delta[BD_PIN_FAILED + 1]; /* its change of the counts, by state */
	} group;
};

const char *bd_pin_state_name(bd_pin_state s)
{
	switch (s) {
	case BD_PIN_PENDING: return "pending";
	case BD_PIN_PINNED: return "pinned";
	case BD_PIN_FAILED: return "failed";
	default: return "unknown";
	}
}

uint64_t bd_pinq_clock_system(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void bd_pinq_options_default(bd_pinq_options *o)
{
	memset(o, 0, sizeof(*o));
	o->backoff_base_ms = 1000;
	o->backoff_cap_ms = 600000;
	o->jitter_percent = 20;
	o->max_failures = 8;
	o->clock = bd_pinq_clock_system;
}

uint64_t bd_pinq_backoff(const bd_pinq_options *o, uint32_t failures, uint64_t random)
{
	uint64_t d = o->backoff_base_ms, off;

	for (uint32_t i = 1; i < failures && d < o->backoff_cap_ms; i++)
		d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
	if (d > o->backoff_cap_ms)
		d = o->backoff_cap_ms;
	{
		unsigned pct = o->jitter_percent > 100 ? 100 : o->jitter_percent;
		uint64_t max_off = d < ((uint64_t)1 << 56) ? d * pct / 100 : d / 100 * pct;
		/* u = the top 53 bits of `random` as a fraction in [0, 1). */
		double u = (double)(random >> 11) / 9007199254740992.0;

		off = (uint64_t)((double)max_off * u);
		if (off > max_off)
			off = max_off;
	}
	return d - off;
}

/* splitmix64: jitter only needs to spread retries, not to be unpredictable. */
static uint64_t next_random(bd_pinq *q)
{
	uint64_t z = (q->rng += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static size_t *count_of(bd_pinq *q, bd_pin_state s)
{
	switch (s) {
	case BD_PIN_PENDING: return &q->counts.pending;
	case BD_PIN_PINNED: return &q->counts.pinned;
	default: return &q->counts.failed;
	}
}

/* Reads an item with q->lock held. TL_E_NOTFOUND if absent. */
static int load_item(bd_pinq_item *it, bd_pinq *q, const bd_cid *root)
{
	uint8_t key[BD_PINQ__KEY_MAX];
	size_t klen, len = 0;
	char *value = NULL;
	int err;

	if ((err = bd_pinq__item_key(key, &klen, root)) != 0)
		return err;
	if ((err = tl_db_get(&value, &len, q->db, q->cf, key, klen)) != 0)
		return err;
	err = bd_pinq__record_read(it, root, (const uint8_t *)value, len);
	free(value);
	return err;
}

/* Puts the change from `old` (NULL: none) to `it` into `batch`: the record and the due
 * keys, which always change together. */
static int batch_item(rocksdb_writebatch_t *batch, bd_pinq *q, const bd_pinq_item *old, const bd_pinq_item *it)
{
	uint8_t key[BD_PINQ__KEY_MAX];
	size_t klen;
	tl_buf rec = tl_buf_make(BD_PINQ__RECORD_FIXED + BD_PINQ_ERROR_MAX);
	int err;

	if ((err = bd_pinq__record_write(&rec, it)) != 0 || (err = bd_pinq__item_key(key, &klen, &it->root)) != 0)
		goto out;
	rocksdb_writebatch_put_cf(batch, q->cf, (const char *)key, klen, (const char *)rec.data, rec.len);
	if (old != NULL && old->state == BD_PIN_PENDING) {
		if ((err = bd_pinq__due_key(key, &klen, old->next_try_ms, &old->root)) != 0)
			goto out;
		rocksdb_writebatch_delete_cf(batch, q->cf, (const char *)key, klen);
	}
	if (it->state == BD_PIN_PENDING) {
		if ((err = bd_pinq__due_key(key, &klen, it->next_try_ms, &it->root)) != 0)
			goto out;
		rocksdb_writebatch_put_cf(batch, q->cf, (const char *)key, klen, "", 0);
	}
out:
	tl_buf_free(&rec);
	return err;
}

/* Replaces `old` (NULL: none) by `it` in one synced batch and keeps the counts, with
 * q->lock held. */
static int store_item(bd_pinq *q, const bd_pinq_item *old, const bd_pinq_item *it)
{
	rocksdb_writebatch_t *batch = NULL;
	int err;

	if ((batch = rocksdb_writebatch_create()) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((err = batch_item(batch, q, old, it)) != 0)
		goto out;
	if ((err = tl_db_write(q->db, batch)) != 0) {
		err = tl_error_wrap(err, "pin queue");
		goto out;
	}
	if (old != NULL)
		(*count_of(q, old->state))--;
	(*count_of(q, it->state))++;
out:
	rocksdb_writebatch_destroy(batch);
	return err;
}

/* Calls fn for every key with the one-byte `prefix`, in order, until fn returns non-zero. */
static int scan(bd_pinq *q, char prefix, int (*fn)(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v,
	size_t vl), void *ctx)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(tl_db_rocks(q->db), tl_db_read(q->db), q->cf);
	char *rerr = NULL;
	int rc = 0;

	if (it == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	for (rocksdb_iter_seek(it, &prefix, 1); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t kl, vl;
		const char *k = rocksdb_iter_key(it, &kl);
		const char *v = rocksdb_iter_value(it, &vl);

		if (kl == 0 || k[0] != prefix)
			break;
		if ((rc = fn(ctx, (const uint8_t *)k, kl, (const uint8_t *)v, vl)) != 0)
			break;
	}
	rocksdb_iter_get_error(it, &rerr);
	if (rerr != NULL && rc == 0)
		rc = tl_error_set(TL_E_IO, "pin queue: reading: %s", rerr);
	free(rerr);
	rocksdb_iter_destroy(it);
	return rc;
}

static int count_one(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	bd_pinq *q = ctx;
	bd_pinq_item it;
	int err;

	if ((err = bd_pinq__item_decode(&it, k, kl, v, vl)) != 0)
		return err;
	(*count_of(q, it.state))++;
	return 0;
}

int bd_pinq_open(bd_pinq **out, tl_db *db, bd_blockstore *bs, const bd_pinq_transport *transport,
	const bd_pinq_options *opts)
{
	rocksdb_column_family_handle_t *cf = tl_db_cf(db, bd_pinq_column_family);
	bd_pinq *q;
	int err;

	if (cf == NULL)
		return tl_error_set(TL_E_INTERNAL, "pin queue: the database has no column family '%s'",
			bd_pinq_column_family);
	if (transport == NULL || transport->put_block == NULL || transport->pin == NULL)
		return tl_error_set(TL_E_INTERNAL, "pin queue: no transport");
	if (opts != NULL && (opts->backoff_base_ms == 0 || opts->backoff_cap_ms < opts->backoff_base_ms ||
			opts->jitter_percent > 100))
		return tl_error_set(TL_E_INPUT, "pin queue: back-off needs 0 < base <= cap and jitter <= 100%%");
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	q->db = db;
	q->cf = cf;
	q->bs = bs;
	q->transport = *transport;
	if (opts != NULL)
		q->opts = *opts;
	else
		bd_pinq_options_default(&q->opts);
	if (q->opts.clock == NULL)
		q->opts.clock = bd_pinq_clock_system;
	q->rng = bd_pinq_clock_system(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)q;
	pthread_mutex_init(&q->lock, NULL);
	pthread_mutex_init(&q->run_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&q->wake, &ca);
		pthread_condattr_destroy(&ca);
	}
	if ((err = scan(q, 'i', count_one, q)) != 0)
		goto out;
	*out = q;
	q = NULL;
out:
	bd_pinq_close(q);
	return err;
}

void bd_pinq_close(bd_pinq *q)
{
	if (q == NULL)
		return;
	bd_pinq_stop(q);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->run_lock);
	pthread_mutex_destroy(&q->lock);
	free(q->group.roots.roots);
	free(q);
}

static void rearm(bd_pinq_item *it, uint64_t now)
{
	it->state = BD_PIN_PENDING;
	it->attempts = 0;
	it->failures = 0;
	it->enqueued_ms = now;
	it->next_try_ms = now;
	it->updated_ms = now;
	it->last_error_code = 0;
	it->last_error[0] = '\0';
}

static void kick(bd_pinq *q)
{
	q->kicked = 1;
	pthread_cond_signal(&q->wake);
}

/* What enqueueing `root` changes, with q->lock held: *changed is 0 if nothing (pending or
 * pinned already), else *old (if *had_old) becomes *it. */
static int enqueue_change(int *changed, bool *had_old, bd_pinq_item *old, bd_pinq_item *it, bd_pinq *q,
	const bd_cid *root, uint64_t now)
{
	int err = load_item(old, q, root);

	*changed = 0;
	*had_old = err == 0;
	if (err == TL_E_NOTFOUND) {
		tl_error_clear();
		memset(it, 0, sizeof(*it));
		it->root = *root;
		rearm(it, now);
		*changed = 1;
		return 0;
	}
	if (err == 0 && old->state == BD_PIN_FAILED) {
		*it = *old;
		rearm(it, now);
		*changed = 1;
	}
	return err;
}

int bd_pinq_enqueue(bd_pinq *q, const bd_cid *root)
{
	char text[BD_CID_TEXT_MAX];
	bd_pinq_item old, it;
	uint64_t now = q->opts.clock(q->opts.clock_ctx);
	bool had_old;
	int err, changed;

	if ((err = bd_blockstore_has(q->bs, root)) < 0)
		return err;
	if (err == 0)
		return tl_error_set(TL_E_NOTFOUND, "pin queue: root %s is not in the block store",
			bd_cid_format(text, sizeof(text), root) == 0 ? text : "?");
	pthread_mutex_lock(&q->lock);
	if ((err = enqueue_change(&changed, &had_old, &old, &it, q, root, now)) == 0 && changed)
		err = store_item(q, had_old ? &old : NULL, &it);
	if (err == 0)
		kick(q);
	pthread_mutex_unlock(&q->lock);
	return err;
}

int bd_pinq_stage(bd_pinq *q, rocksdb_writebatch_t *wb, const bd_cid *root)
{
	bd_pinq_item old, it;
	bool had_old;
	int err, changed;

	if (!q->group.active) {
		pthread_mutex_lock(&q->lock);
		q->group.active = true;
		q->group.now = q->opts.clock(q->opts.clock_ctx);
		q->group.roots.n = 0;
		memset(q->group.delta, 0, sizeof(q->group.delta));
	}
	/* The same root twice in one commit: its first staging stands (the store does not show
	 * it yet). */
	for (size_t i = 0; i < q->group.roots.n; i++)
		if (bd_cid_equal(&q->group.roots.roots[i], root))
			return 0;
	if ((err = enqueue_change(&changed, &had_old, &old, &it, q, root, q->group.now)) != 0 || !changed)
		return err;
	if ((err = root_list_reserve_one(&q->group.roots)) != 0 || (err = batch_item(wb, q, had_old ? &old : NULL, &it)) != 0)
		return err;
	q->group.roots.roots[q->group.roots.n++] = *root;
	if (had_old)
		q->group.delta[old.state]--;
	q->group.delta[it.state]++;
	return 0;
}

void bd_pinq_end(bd_pinq *q, int err)
{
	if (!q->group.active)
		return;
	if (err == 0 && q->group.roots.n > 0) {
		q->counts.pending += (size_t)q->group.delta[BD_PIN_PENDING];
		q->counts.pinned += (size_t)q->group.delta[BD_PIN_PINNED];
		q->counts.failed += (size_t)q->group.delta[BD_PIN_FAILED];
		kick(q);
	}
	q->group.active = false;
	pthread_mutex_unlock(&q->lock);
}

struct collect {
	uint64_t now;
	struct root_list due;
};

static int collect_due(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct collect *c = ctx;
	uint64_t when;
	int err;

	(void)v;
	(void)vl;
	if ((err = bd_pinq__due_key_read(&when, NULL, k, kl)) != 0)
		return err;
	if (when > c->now)
		return 1;
	if ((err = root_list_reserve_one(&c->due)) != 0)
		return err;
	if ((err = bd_pinq__due_key_read(&when, &c->due.roots[c->due.n], k, kl)) != 0)
		return err;
	c->due.n++;
	return 0;
}

static int is_transient(int err)
{
	return err == TL_E_UNAVAILABLE || err == TL_E_NOMEM;
}

/* 1 if `cid` is the root of an item already pinned. */
static int is_pinned(void *ctx, const bd_cid *cid)
{
	bd_pinq *q = ctx;
	bd_pinq_item it;
	int err;

	pthread_mutex_lock(&q->lock);
	err = load_item(&it, q, cid);
	pthread_mutex_unlock(&q->lock);
	return err == 0 && it.state == BD_PIN_PINNED;
}

/* One attempt at one item; the item's new state is stored. Returns non-zero only if the
 * queue's storage fails. */
static int attempt(bd_pinq *q, const bd_cid *root, uint64_t now, int *tried)
{
	bd_pinq_item old, it;
	int err, result;

	*tried = 0;
	pthread_mutex_lock(&q->lock);
	err = load_item(&old, q, root);
	pthread_mutex_unlock(&q->lock);
	if (err != 0)
		return err == TL_E_NOTFOUND ? tl_error_set(TL_E_IO, "pin queue: due key without an item") : err;
	if (old.state != BD_PIN_PENDING || old.next_try_ms > now)
		return 0;
	*tried = 1;
	result = bd_pinq__push_dag(q->bs, &q->transport, root, is_pinned, q);

	pthread_mutex_lock(&q->lock);
	/* The item may have changed while the lock was free (only enqueue and retry_failed
	 * touch items besides the worker, and neither changes a pending one); reload anyway so
	 * the batch deletes the right due key. */
	if ((err = load_item(&old, q, root)) != 0)
		goto out;
	it = old;
	it.updated_ms = now;
	if (result == 0) {
		it.state = BD_PIN_PINNED;
		it.attempts = 0;
		it.failures = 0;
		it.next_try_ms = 0;
		it.last_error_code = 0;
		it.last_error[0] = '\0';
	} else {
		const char *m = tl_error_message();
		size_t n = strnlen(m, BD_PINQ_ERROR_MAX - 1);

		q->counts.attempts_failed++;
		if (it.attempts < UINT32_MAX)
			it.attempts++;
		if (!is_transient(result))
			it.failures++;
		it.last_error_code = result < TL_E_UNAVAILABLE || result > 0 ? TL_E_INTERNAL : result;
		memcpy(it.last_error, m, n);
		it.last_error[n] = '\0';
		if (q->opts.max_failures != 0 && it.failures >= q->opts.max_failures) {
			it.state = BD_PIN_FAILED;
			it.next_try_ms = 0;
		} else {
			uint64_t delay = bd_pinq_backoff(&q->opts, it.attempts, next_random(q));

			it.next_try_ms = now > UINT64_MAX - delay ? UINT64_MAX : now + delay;
		}
	}
	err = store_item(q, &old, &it);
out:
	pthread_mutex_unlock(&q->lock);
	return err;
}

int bd_pinq_run_once(bd_pinq *q, uint64_t now_ms, size_t *attempted)
{
	struct collect c;
	size_t tried = 0;
	int err, one;

	memset(&c, 0, sizeof(c));
	c.now = now_ms;
	pthread_mutex_lock(&q->run_lock);
	err = scan(q, 'd', collect_due, &c);
	if (err == 1)
		err = 0;
	for (size_t i = 0; err == 0 && i < c.due.n; i++) {
		if ((err = attempt(q, &c.due.roots[i], now_ms, &one)) == 0)
			tried += (size_t)one;
	}
	pthread_mutex_unlock(&q->run_lock);
	free(c.due.roots);
	if (err != 0) {
		pthread_mutex_lock(&q->lock);
		q->counts.storage_errors++;
		pthread_mutex_unlock(&q->lock);
	}
	if (attempted != NULL)
		*attempted = tried;
	return err;
}

static int first_due(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	uint64_t *when = ctx;
	int err;

	(void)v;
	(void)vl;
	if ((err = bd_pinq__due_key_read(when, NULL, k, kl)) != 0)
		return err;
	return 1;
}

int bd_pinq_next_due(uint64_t *when_ms, bd_pinq *q)
{
	int rc = scan(q, 'd', first_due, when_ms);

	if (rc == 1)
		return 0;
	if (rc == 0)
		return tl_error_set(TL_E_NOTFOUND, "pin queue: nothing pending");
	return rc;
}

struct oldest {
	bd_pinq *q;
	uint64_t enqueued_ms;
	int found;
};

static int oldest_one(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct oldest *o = ctx;
	bd_pinq_item it;
	bd_cid root;
	uint64_t when;
	int err;

	(void)v;
	(void)vl;
	if ((err = bd_pinq__due_key_read(&when, &root, k, kl)) != 0 || (err = load_item(&it, o->q, &root)) != 0)
		return err;
	if (!o->found || it.enqueued_ms < o->enqueued_ms)
		o->enqueued_ms = it.enqueued_ms;
	o->found = 1;
	return 0;
}

int bd_pinq_oldest_pending(uint64_t *enqueued_ms, bd_pinq *q)
{
	struct oldest o = { q, 0, 0 };
	int err;

	if ((err = scan(q, 'd', oldest_one, &o)) != 0)
		return err;
	if (!o.found)
		return tl_error_set(TL_E_NOTFOUND, "pin queue: nothing pending");
	*enqueued_ms = o.enqueued_ms;
	return 0;
}

static void *worker_main(void *arg)
{
	bd_pinq *q = arg;

	pthread_mutex_lock(&q->lock);
	while (!q->stop) {
		uint64_t now, next, wait_ms = WORKER_IDLE_MS;
		struct timespec until;
		int failed;

		q->kicked = 0;
		pthread_mutex_unlock(&q->lock);
		/* A storage error is counted in storage_errors; the next round tries again. */
		failed = bd_pinq_run_once(q, q->opts.clock(q->opts.clock_ctx), NULL) != 0;
		if (bd_pinq_next_due(&next, q) == 0) {
			now = q->opts.clock(q->opts.clock_ctx);
			wait_ms = next <= now ? 0 : next - now < WORKER_IDLE_MS ? next - now : WORKER_IDLE_MS;
		}
		/* With the storage failing, due items would make this loop spin. */
		if (failed && wait_ms < 1000)
			wait_ms = 1000;
		pthread_mutex_lock(&q->lock);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)(wait_ms / 1000);
		until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!q->stop && !q->kicked && wait_ms > 0)
			if (pthread_cond_timedwait(&q->wake, &q->lock, &until) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int bd_pinq_start(bd_pinq *q)
{
	int rc;

	pthread_mutex_lock(&q->lock);
	if (q->worker_running) {
		pthread_mutex_unlock(&q->lock);
		return tl_error_set(TL_E_CONFLICT, "pin queue: worker already started");
	}
	q->stop = 0;
	rc = pthread_create(&q->worker, NULL, worker_main, q);
	if (rc == 0)
		q->worker_running = 1;
	pthread_mutex_unlock(&q->lock);
	if (rc != 0)
		return tl_error_set(TL_E_INTERNAL, "pin queue: cannot start the worker: %s", strerror(rc));
	return 0;
}

void bd_pinq_stop(bd_pinq *q)
{
	int running;

	pthread_mutex_lock(&q->lock);
	running = q->worker_running;
	q->stop = 1;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	if (running) {
		pthread_join(q->worker, NULL);
		pthread_mutex_lock(&q->lock);
		q->worker_running = 0;
		pthread_mutex_unlock(&q->lock);
	}
}

static int collect_failed(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct root_list *failed = ctx;
	bd_pinq_item it;
	int err;

	if ((err = bd_pinq__item_decode(&it, k, kl, v, vl)) != 0)
		return err;
	if (it.state != BD_PIN_FAILED)
		return 0;
	if ((err = root_list_reserve_one(failed)) != 0)
		return err;
	failed->roots[failed->n++] = it.root;
	return 0;
}

int bd_pinq_retry_failed(bd_pinq *q, size_t *count)
{
	struct root_list c = { NULL, 0, 0 };
	uint64_t now = q->opts.clock(q->opts.clock_ctx);
	size_t done = 0;
	int err;

	pthread_mutex_lock(&q->lock);
	err = scan(q, 'i', collect_failed, &c);
	for (size_t i = 0; err == 0 && i < c.n; i++) {
		bd_pinq_item old, it;

		if ((err = load_item(&old, q, &c.roots[i])) != 0)
			break;
		if (old.state != BD_PIN_FAILED)
			continue;
		it = old;
		rearm(&it, now);
		if ((err = store_item(q, &old, &it)) == 0)
			done++;
	}
	if (done > 0)
		kick(q);
	pthread_mutex_unlock(&q->lock);
	free(c.roots);
	if (count != NULL)
		*count = done;
	return err;
}

int bd_pinq_get(bd_pinq_item *out, bd_pinq *q, const bd_cid *root)
{
	char text[BD_CID_TEXT_MAX];
	int err;

	pthread_mutex_lock(&q->lock);
	err = load_item(out, q, root);
	pthread_mutex_unlock(&q->lock);
	if (err == TL_E_NOTFOUND)
		return tl_error_set(TL_E_NOTFOUND, "pin queue: %s was never enqueued",
			bd_cid_format(text, sizeof(text), root) == 0 ? text : "?");
	return err;
}

struct list_ctx {
	int (*fn)(void *ctx, const bd_pinq_item *item);
	void *ctx;
};

static int list_one(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct list_ctx *l = ctx;
	bd_pinq_item it;
	int err;

	if ((err = bd_pinq__item_decode(&it, k, kl, v, vl)) != 0)
		return err;
	return l->fn(l->ctx, &it);
}

int bd_pinq_list(bd_pinq *q, int (*fn)(void *ctx, const bd_pinq_item *item), void *ctx)
{
	struct list_ctx l = { fn, ctx };

	return scan(q, 'i', list_one, &l);
}

void bd_pinq_counts_get(bd_pinq_counts *out, bd_pinq *q)
{
	pthread_mutex_lock(&q->lock);
	*out = q->counts;
	pthread_mutex_unlock(&q->lock);
}

static int ipfs_put_block(void *ctx, const bd_block *block)
{
	return bd_ipfs_block_put(ctx, block);
}

static int ipfs_pin(void *ctx, const bd_cid *root)
{
	return bd_ipfs_pin_add(ctx, root);
}

bd_pinq_transport bd_pinq_transport_ipfs(bd_ipfs *ipfs)
{
	bd_pinq_transport t = { ipfs_put_block, ipfs_pin, ipfs };

	return t;
}
