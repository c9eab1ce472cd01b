#include "bundled/pinq.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "translog/bytes.h"
#include "unixfs.h"

/*
 * Storage, in column family "pinq":
 *   'i' + binary root CID           -> the item record (below)
 *   'd' + next try (u64 BE, ms) + binary root CID -> ""   for pending items only
 * The 'd' keys sort by due time, so a step reads only the items that are due. An item's
 * record and its 'd' key always change in one write batch.
 *
 * Item record, version 1 (all integers big-endian):
 *   u8 version (1) | u8 state | u8 -last_error_code | u64 attempts | u64 failures |
 *   u64 enqueued_ms | u64 next_try_ms | u64 updated_ms | u16 error length | error bytes
 */
#define RECORD_VERSION 1
#define RECORD_FIXED (3 + 5 * 8 + 2)
#define KEY_MAX (1 + 8 + BD_CID_BYTES_MAX)
/* The worker wakes at least this often, so a clock step or a lost wake-up costs little. */
#define WORKER_IDLE_MS 60000u

const char *const bd_pinq_column_family = "pinq";

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

/* ---- the item record: one writer, one reader ---- */

static int record_write(tl_buf *out, const bd_pinq_item *it)
{
	size_t elen = strnlen(it->last_error, BD_PINQ_ERROR_MAX - 1);
	int err = 0;

	if ((err = tl_buf_append_u8(out, RECORD_VERSION)) != 0 ||
			(err = tl_buf_append_u8(out, (uint8_t)it->state)) != 0 ||
			(err = tl_buf_append_u8(out, (uint8_t)(-it->last_error_code))) != 0 ||
			(err = tl_buf_append_u64be(out, it->attempts)) != 0 ||
			(err = tl_buf_append_u64be(out, it->failures)) != 0 ||
			(err = tl_buf_append_u64be(out, it->enqueued_ms)) != 0 ||
			(err = tl_buf_append_u64be(out, it->next_try_ms)) != 0 ||
			(err = tl_buf_append_u64be(out, it->updated_ms)) != 0 ||
			(err = tl_buf_append_u16be(out, (uint16_t)elen)) != 0 ||
			(err = tl_buf_append(out, it->last_error, elen)) != 0)
		return err;
	return 0;
}

static int record_read(bd_pinq_item *it, const bd_cid *root, const uint8_t *data, size_t len)
{
	tl_cursor c = tl_cursor_make(data, len);
	uint8_t version, state, code;
	uint64_t attempts, failures;
	uint16_t elen;
	const uint8_t *e;

	memset(it, 0, sizeof(*it));
	it->root = *root;
	if (tl_cursor_u8(&version, &c) != 0 || version != RECORD_VERSION)
		return tl_error_set(TL_E_IO, "pin queue: item record of unknown version");
	if (tl_cursor_u8(&state, &c) != 0 || tl_cursor_u8(&code, &c) != 0 ||
			tl_cursor_u64be(&attempts, &c) != 0 || tl_cursor_u64be(&failures, &c) != 0 ||
			tl_cursor_u64be(&it->enqueued_ms, &c) != 0 || tl_cursor_u64be(&it->next_try_ms, &c) != 0 ||
			tl_cursor_u64be(&it->updated_ms, &c) != 0 || tl_cursor_u16be(&elen, &c) != 0 ||
			elen >= BD_PINQ_ERROR_MAX || tl_cursor_take(&e, &c, elen) != 0 || tl_cursor_left(&c) != 0)
		return tl_error_set(TL_E_IO, "pin queue: malformed item record (%zu bytes)", len);
	if (state < BD_PIN_PENDING || state > BD_PIN_FAILED || attempts > UINT32_MAX || failures > attempts ||
			code > -TL_E_UNAVAILABLE)
		return tl_error_set(TL_E_IO, "pin queue: item record with impossible values");
	it->state = (bd_pin_state)state;
	it->last_error_code = -(int)code;
	it->attempts = (uint32_t)attempts;
	it->failures = (uint32_t)failures;
	memcpy(it->last_error, e, elen);
	it->last_error[elen] = '\0';
	return 0;
}

/* ---- keys ---- */

static int item_key(uint8_t *key, size_t *klen, const bd_cid *root)
{
	size_t n;
	int err;

	key[0] = 'i';
	if ((err = bd_cid_to_bytes(key + 1, KEY_MAX - 1, &n, root)) != 0)
		return err;
	*klen = 1 + n;
	return 0;
}

static int due_key(uint8_t *key, size_t *klen, uint64_t when, const bd_cid *root)
{
	size_t n;
	int err;

	key[0] = 'd';
	for (int i = 0; i < 8; i++)
		key[1 + i] = (uint8_t)(when >> (56 - 8 * i));
	if ((err = bd_cid_to_bytes(key + 9, KEY_MAX - 9, &n, root)) != 0)
		return err;
	*klen = 9 + n;
	return 0;
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
	uint8_t key[KEY_MAX];
	size_t klen, len = 0;
	char *value = NULL;
	int err;

	if ((err = item_key(key, &klen, root)) != 0)
		return err;
	if ((err = tl_db_get(&value, &len, q->db, q->cf, key, klen)) != 0)
		return err;
	err = record_read(it, root, (const uint8_t *)value, len);
	free(value);
	return err;
}

/* Replaces `old` (NULL: none) by `it` in one synced batch and keeps the counts, with
 * q->lock held. */
static int store_item(bd_pinq *q, const bd_pinq_item *old, const bd_pinq_item *it)
{
	uint8_t key[KEY_MAX];
	size_t klen;
	tl_buf rec = tl_buf_make(RECORD_FIXED + BD_PINQ_ERROR_MAX);
	rocksdb_writebatch_t *batch = NULL;
	int err;

	if ((err = record_write(&rec, it)) != 0)
		goto out;
	if ((batch = rocksdb_writebatch_create()) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = item_key(key, &klen, &it->root)) != 0)
		goto out;
	rocksdb_writebatch_put_cf(batch, q->cf, (const char *)key, klen, (const char *)rec.data, rec.len);
	if (old != NULL && old->state == BD_PIN_PENDING) {
		if ((err = due_key(key, &klen, old->next_try_ms, &old->root)) != 0)
			goto out;
		rocksdb_writebatch_delete_cf(batch, q->cf, (const char *)key, klen);
	}
	if (it->state == BD_PIN_PENDING) {
		if ((err = due_key(key, &klen, it->next_try_ms, &it->root)) != 0)
			goto out;
		rocksdb_writebatch_put_cf(batch, q->cf, (const char *)key, klen, "", 0);
	}
	if ((err = tl_db_write(q->db, batch)) != 0) {
		err = tl_error_wrap(err, "pin queue");
		goto out;
	}
	if (old != NULL)
		(*count_of(q, old->state))--;
	(*count_of(q, it->state))++;
out:
	rocksdb_writebatch_destroy(batch);
	tl_buf_free(&rec);
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

static int decode_item(bd_pinq_item *it, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	bd_cid root;
	int err;

	if ((err = bd_cid_from_bytes(&root, k + 1, kl - 1)) != 0)
		return tl_error_wrap(TL_E_IO, "pin queue: bad item key");
	return record_read(it, &root, v, vl);
}

static int count_one(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	bd_pinq *q = ctx;
	bd_pinq_item it;
	int err;

	if ((err = decode_item(&it, k, kl, v, vl)) != 0)
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
	if ((err = scan(q, 'i', count_one, q)) != 0) {
		bd_pinq_close(q);
		return err;
	}
	*out = q;
	return 0;
}

void bd_pinq_close(bd_pinq *q)
{
	if (q == NULL)
		return;
	bd_pinq_stop(q);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->run_lock);
	pthread_mutex_destroy(&q->lock);
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

int bd_pinq_enqueue(bd_pinq *q, const bd_cid *root)
{
	char text[BD_CID_TEXT_MAX];
	bd_pinq_item old, it;
	uint64_t now = q->opts.clock(q->opts.clock_ctx);
	int err;

	if ((err = bd_blockstore_has(q->bs, root)) < 0)
		return err;
	if (err == 0)
		return tl_error_set(TL_E_NOTFOUND, "pin queue: root %s is not in the block store",
			bd_cid_format(text, sizeof(text), root) == 0 ? text : "?");
	pthread_mutex_lock(&q->lock);
	err = load_item(&old, q, root);
	if (err == TL_E_NOTFOUND) {
		tl_error_clear();
		memset(&it, 0, sizeof(it));
		it.root = *root;
		rearm(&it, now);
		err = store_item(q, NULL, &it);
	} else if (err == 0 && old.state == BD_PIN_FAILED) {
		it = old;
		rearm(&it, now);
		err = store_item(q, &old, &it);
	}
	if (err == 0)
		kick(q);
	pthread_mutex_unlock(&q->lock);
	return err;
}

/* Roots gathered during a scan, acted on after it. */
struct root_list {
	bd_cid *roots;
	size_t n, alloc;
};

/* Makes room for roots[n]; the caller fills it and counts it. */
static int root_list_reserve_one(struct root_list *l)
{
	size_t na;
	bd_cid *r;

	if (l->n < l->alloc)
		return 0;
	na = l->alloc ? l->alloc * 2 : 16;
	if ((r = realloc(l->roots, na * sizeof(*r))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	l->roots = r;
	l->alloc = na;
	return 0;
}

struct collect {
	uint64_t now;
	struct root_list due;
};

static int collect_due(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct collect *c = ctx;
	uint64_t when = 0;
	int err;

	(void)v;
	(void)vl;
	if (kl < 9)
		return tl_error_set(TL_E_IO, "pin queue: bad due key");
	for (int i = 0; i < 8; i++)
		when = when << 8 | k[1 + i];
	if (when > c->now)
		return 1;
	if ((err = root_list_reserve_one(&c->due)) != 0)
		return err;
	if ((err = bd_cid_from_bytes(&c->due.roots[c->due.n], k + 9, kl - 9)) != 0)
		return tl_error_wrap(TL_E_IO, "pin queue: bad due key");
	c->due.n++;
	return 0;
}

/* ---- pushing one DAG ---- */

/* The set of blocks already put during one attempt (repeated leaves are sent once). */
struct seen {
	tl_hash *slots;
	uint8_t *used;
	size_t cap, n;
};

static uint64_t slot_of(const tl_hash *h)
{
	uint64_t x;

	memcpy(&x, h->b, sizeof(x));
	return x;
}

static int seen_has(const struct seen *s, const tl_hash *h)
{
	if (s->cap == 0)
		return 0;
	for (size_t i = slot_of(h) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->used[i])
			return 0;
		if (tl_hash_equal(&s->slots[i], h))
			return 1;
	}
}

static int seen_add(struct seen *s, const tl_hash *h)
{
	if ((s->n + 1) * 2 > s->cap) {
		struct seen g = { NULL, NULL, s->cap ? s->cap * 2 : 64, 0 };

		if ((g.slots = calloc(g.cap, sizeof(*g.slots))) == NULL ||
				(g.used = calloc(g.cap, 1)) == NULL) {
			free(g.slots);
			return tl_error_set(TL_E_NOMEM, "out of memory");
		}
		for (size_t i = 0; i < s->cap; i++)
			if (s->used[i] && seen_add(&g, &s->slots[i]) != 0)
				return TL_E_NOMEM; /* cannot happen: g has room */
		free(s->slots);
		free(s->used);
		*s = g;
	}
	for (size_t i = slot_of(h) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->used[i]) {
			s->used[i] = 1;
			s->slots[i] = *h;
			s->n++;
			return 0;
		}
		if (tl_hash_equal(&s->slots[i], h))
			return 0;
	}
}

struct push {
	bd_pinq *q;
	struct seen seen;
	size_t visited;
};

/* Puts the block `cid` after every block below it, read from the local block store. */
static int push_block(struct push *p, const bd_cid *cid, int depth)
{
	char text[BD_CID_TEXT_MAX];
	bd_unixfs_node node;
	uint8_t *data = NULL;
	size_t len = 0;
	bd_block block;
	int err;

	memset(&node, 0, sizeof(node));
	if (seen_has(&p->seen, &cid->digest))
		return 0;
	if (depth > BD_CAT_MAX_DEPTH)
		return tl_error_set(TL_E_INPUT, "DAG deeper than %d levels", BD_CAT_MAX_DEPTH);
	if (++p->visited > BD_CAT_MAX_BLOCKS)
		return tl_error_set(TL_E_INPUT, "DAG of more than %u blocks", BD_CAT_MAX_BLOCKS);
	if (cid->codec != BD_CODEC_RAW && cid->codec != BD_CODEC_DAG_PB)
		return tl_error_set(TL_E_INPUT, "block %s has codec 0x%llx, neither raw nor dag-pb",
			bd_cid_format(text, sizeof(text), cid) == 0 ? text : "?", (unsigned long long)cid->codec);
	if ((err = bd_blockstore_get(&data, &len, p->q->bs, cid)) != 0) {
		err = tl_error_wrap(err, "local block store");
		goto out;
	}
	if (cid->codec == BD_CODEC_DAG_PB) {
		if ((err = bd_unixfs_read_node(&node, data, len)) != 0) {
			err = tl_error_wrap(err, "block %s", bd_cid_format(text, sizeof(text), cid) == 0 ? text : "?");
			goto out;
		}
		for (size_t i = 0; i < node.nlinks; i++)
			if ((err = push_block(p, &node.links[i], depth + 1)) != 0)
				goto out;
	}
	block.cid = *cid;
	block.data = data;
	block.len = len;
	if ((err = p->q->transport.put_block(p->q->transport.ctx, &block)) != 0)
		goto out;
	err = seen_add(&p->seen, &cid->digest);
out:
	bd_unixfs_node_free(&node);
	free(data);
	return err;
}

static int push_dag(bd_pinq *q, const bd_cid *root)
{
	struct push p;
	int err;

	memset(&p, 0, sizeof(p));
	p.q = q;
	if ((err = push_block(&p, root, 0)) == 0)
		err = q->transport.pin(q->transport.ctx, root);
	free(p.seen.slots);
	free(p.seen.used);
	return err;
}

static int is_transient(int err)
{
	return err == TL_E_UNAVAILABLE || err == TL_E_NOMEM;
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
	result = push_dag(q, root);

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

	(void)v;
	(void)vl;
	if (kl < 9)
		return tl_error_set(TL_E_IO, "pin queue: bad due key");
	*when = 0;
	for (int i = 0; i < 8; i++)
		*when = *when << 8 | k[1 + i];
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

	if ((err = decode_item(&it, k, kl, v, vl)) != 0)
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

	if ((err = decode_item(&it, k, kl, v, vl)) != 0)
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
