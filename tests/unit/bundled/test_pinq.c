/*
 * The pin queue's logic with a fake transport (the integration suite drives it against the
 * real node): back-off schedule, what is sent and in which order, transient and permanent
 * failures, state across reopening the database, and the worker thread.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../bundled/src/unixfs.h"
#include "bundled/blockstore.h"
#include "bundled/pinq.h"
#include "testutil.h"

struct fake {
	int fail_puts;       /* the next N put_block calls fail ... */
	int fail_pins;       /* ... the next N pin calls fail ... */
	int fail_code;       /* ... with this code */
	bd_cid puts[4096];
	size_t nputs;
	bd_cid pins[64];
	size_t npins;
};

static char *dir;
static tl_db *db;
static bd_blockstore *bs;
static bd_pinq *q;
static struct fake fake;
static uint64_t now_ms;

static int fake_put(void *ctx, const bd_block *b)
{
	struct fake *f = ctx;

	if (f->fail_puts > 0) {
		f->fail_puts--;
		return tl_error_set(f->fail_code, "fake put failed");
	}
	ck_assert_uint_lt(f->nputs, sizeof(f->puts) / sizeof(f->puts[0]));
	f->puts[f->nputs++] = b->cid;
	return 0;
}

static int fake_pin(void *ctx, const bd_cid *root)
{
	struct fake *f = ctx;

	if (f->fail_pins > 0) {
		f->fail_pins--;
		return tl_error_set(f->fail_code, "fake pin failed");
	}
	f->pins[f->npins++] = *root;
	return 0;
}

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return now_ms;
}

static bd_pinq_options test_options(void)
{
	bd_pinq_options o;

	bd_pinq_options_default(&o);
	o.backoff_base_ms = 100;
	o.backoff_cap_ms = 1000;
	o.jitter_percent = 0;
	o.max_failures = 3;
	o.clock = fake_clock;
	return o;
}

static void open_all(void)
{
	const char *cfs[] = { bd_blockstore_column_family, bd_pinq_column_family };
	bd_pinq_transport t = { fake_put, fake_pin, &fake };
	bd_pinq_options o = test_options();

	ck_assert_msg(tl_db_open(&db, dir, cfs, 2) == 0, "%s", tl_error_message());
	ck_assert_int_eq(bd_blockstore_open(&bs, db), 0);
	ck_assert_msg(bd_pinq_open(&q, db, bs, &t, &o) == 0, "%s", tl_error_message());
}

static void close_all(void)
{
	bd_pinq_close(q);
	bd_blockstore_close(bs);
	tl_db_close(db);
	q = NULL;
	bs = NULL;
	db = NULL;
}

static void setup(void)
{
	memset(&fake, 0, sizeof(fake));
	now_ms = 1700000000000u;
	dir = tu_mkdtemp();
	ck_assert_ptr_nonnull(dir);
	open_all();
}

static void teardown(void)
{
	close_all();
	tu_rm_rf(dir);
	free(dir);
}

/* A bundle-like file of `lines` lines, stored; returns its DAG (free it). */
static bd_dag *stored_dag(unsigned lines, unsigned seed, const char *chunker)
{
	size_t cap = (size_t)lines * 80 + 1, len = 0;
	char *text = malloc(cap);
	bd_chunker c;
	bd_dag *dag = NULL;

	for (unsigned i = 0; i < lines; i++)
		len += (size_t)snprintf(text + len, cap - len, "{\"kty\":\"EC\",\"kid\":\"key-%u-%u\",\"x\":\"%08x\"}\n",
			seed, i, (seed + 1) * 2654435761u ^ i);
	ck_assert_int_eq(bd_chunker_parse(&c, chunker), 0);
	ck_assert_int_eq(bd_dag_build(&dag, (const uint8_t *)text, len, &c), 0);
	ck_assert_int_eq(bd_blockstore_put_dag(bs, dag), 0);
	free(text);
	return dag;
}

/* Where `cid` is in the order of puts, SIZE_MAX if it was not put. */
static size_t put_index(const bd_cid *cid)
{
	for (size_t k = 0; k < fake.nputs; k++)
		if (bd_cid_equal(&fake.puts[k], cid))
			return k;
	return SIZE_MAX;
}

static bd_pinq_item item_of(const bd_cid *root)
{
	bd_pinq_item it;

	ck_assert_msg(bd_pinq_get(&it, q, root) == 0, "%s", tl_error_message());
	return it;
}

static size_t step(void)
{
	size_t n = 0;

	ck_assert_msg(bd_pinq_run_once(q, now_ms, &n) == 0, "%s", tl_error_message());
	return n;
}

START_TEST(backoff_schedule)
{
	bd_pinq_options o;
	static const uint64_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 512000, 600000, 600000 };

	bd_pinq_options_default(&o);
	o.jitter_percent = 0;
	for (uint32_t n = 1; n <= 12; n++)
		ck_assert_uint_eq(bd_pinq_backoff(&o, n, 12345), want[n - 1]);
	ck_assert_uint_eq(bd_pinq_backoff(&o, UINT32_MAX, 1), 600000);
	ck_assert_uint_eq(bd_pinq_backoff(&o, 0, 1), 1000);
	/* Jitter takes off at most jitter% of the delay: random 0 takes nothing, the largest
	 * random nearly all of it. */
	o.jitter_percent = 20;
	ck_assert_uint_eq(bd_pinq_backoff(&o, 3, 0), 4000);
	ck_assert_uint_ge(bd_pinq_backoff(&o, 3, UINT64_MAX), 3200);
	ck_assert_uint_le(bd_pinq_backoff(&o, 3, UINT64_MAX), 3201);
	ck_assert_uint_eq(bd_pinq_backoff(&o, 3, (uint64_t)1 << 63), 3600);
	o.jitter_percent = 100;
	ck_assert_uint_le(bd_pinq_backoff(&o, 1, UINT64_MAX), 1);
	/* Huge caps do not overflow. */
	o.backoff_cap_ms = UINT64_MAX;
	o.jitter_percent = 0;
	ck_assert_uint_eq(bd_pinq_backoff(&o, 200, 0), UINT64_MAX);
}
END_TEST

START_TEST(pins_a_dag_children_first_once_each)
{
	bd_dag *dag = stored_dag(1200, 1, "size-256");
	const bd_cid *root = bd_dag_root(dag);
	bd_pinq_item it;
	bd_pinq_counts counts;

	ck_assert_uint_gt(bd_dag_count(dag), 174); /* two levels */
	ck_assert_int_eq(bd_pinq_enqueue(q, root), 0);
	it = item_of(root);
	ck_assert_int_eq(it.state, BD_PIN_PENDING);
	ck_assert_uint_eq(it.next_try_ms, now_ms);
	ck_assert_uint_eq(it.enqueued_ms, now_ms);
	bd_pinq_counts_get(&counts, q);
	ck_assert_uint_eq(counts.pending, 1);

	ck_assert_uint_eq(step(), 1);
	/* Every block once; each after all the blocks it links to (they come before it in the
	 * DAG's own order); the root last; then one pin of the root. */
	ck_assert_uint_eq(fake.nputs, bd_dag_count(dag));
	for (size_t i = 0; i < fake.nputs; i++) {
		for (size_t j = 0; j < i; j++)
			ck_assert(!bd_cid_equal(&fake.puts[i], &fake.puts[j]));
	}
	ck_assert(bd_cid_equal(&fake.puts[fake.nputs - 1], root));
	for (size_t i = 0; i < bd_dag_count(dag); i++) {
		const bd_block *b = bd_dag_block(dag, i);
		bd_unixfs__node node;
		size_t at = put_index(&b->cid);

		ck_assert_uint_ne(at, SIZE_MAX);
		if (b->cid.codec == BD_CODEC_RAW)
			continue;
		ck_assert_int_eq(bd_unixfs__read_node(&node, b->data, b->len), 0);
		for (size_t k = 0; k < node.nlinks; k++)
			ck_assert_uint_lt(put_index(&node.links[k]), at);
		bd_unixfs__node_free(&node);
	}
	ck_assert_uint_eq(fake.npins, 1);
	ck_assert(bd_cid_equal(&fake.pins[0], root));
	it = item_of(root);
	ck_assert_int_eq(it.state, BD_PIN_PINNED);
	ck_assert_uint_eq(it.attempts, 0);
	ck_assert_str_eq(it.last_error, "");
	bd_pinq_counts_get(&counts, q);
	ck_assert_uint_eq(counts.pending, 0);
	ck_assert_uint_eq(counts.pinned, 1);
	ck_assert_int_eq(bd_pinq_next_due(&now_ms, q), TL_E_NOTFOUND);

	/* Nothing more to do; enqueueing a pinned root changes nothing. */
	ck_assert_uint_eq(step(), 0);
	ck_assert_int_eq(bd_pinq_enqueue(q, root), 0);
	ck_assert_int_eq(item_of(root).state, BD_PIN_PINNED);
	ck_assert_uint_eq(step(), 0);
	ck_assert_uint_eq(fake.npins, 1);
	bd_dag_free(dag);
}
END_TEST

START_TEST(repeated_leaves_are_sent_once)
{
	/* 64 identical 256-byte leaves: one distinct leaf and the root. */
	uint8_t data[64 * 256];
	bd_chunker c;
	bd_dag *dag = NULL;

	memset(data, 'a', sizeof(data));
	ck_assert_int_eq(bd_chunker_parse(&c, "size-256"), 0);
	ck_assert_int_eq(bd_dag_build(&dag, data, sizeof(data), &c), 0);
	ck_assert_int_eq(bd_blockstore_put_dag(bs, dag), 0);
	ck_assert_int_eq(bd_pinq_enqueue(q, bd_dag_root(dag)), 0);
	ck_assert_uint_eq(step(), 1);
	ck_assert_uint_eq(fake.nputs, 2);
	ck_assert_int_eq(item_of(bd_dag_root(dag)).state, BD_PIN_PINNED);
	bd_dag_free(dag);
}
END_TEST

START_TEST(enqueue_needs_the_root_in_the_store)
{
	bd_cid missing;

	bd_cid_of(&missing, BD_CODEC_RAW, "not stored", 10);
	ck_assert_int_eq(bd_pinq_enqueue(q, &missing), TL_E_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "not in the block store"));
	{
		bd_pinq_item it;

		ck_assert_int_eq(bd_pinq_get(&it, q, &missing), TL_E_NOTFOUND);
	}
}
END_TEST

START_TEST(transient_failures_back_off_and_never_give_up)
{
	bd_dag *dag = stored_dag(40, 2, "size-512");
	const bd_cid *root = bd_dag_root(dag);
	uint64_t t0 = now_ms, due;
	bd_pinq_item it;
	bd_pinq_counts counts;

	ck_assert_int_eq(bd_pinq_enqueue(q, root), 0);
	fake.fail_code = TL_E_UNAVAILABLE;
	fake.fail_puts = 1000;
	/* Attempts at t0, +100, +200, +400, +800, +1000, +1000 ...: never failed, for far more
	 * attempts than max_failures. */
	for (uint32_t n = 1; n <= 8; n++) {
		ck_assert_uint_eq(step(), 1);
		it = item_of(root);
		ck_assert_int_eq(it.state, BD_PIN_PENDING);
		ck_assert_uint_eq(it.attempts, n);
		ck_assert_uint_eq(it.failures, 0);
		ck_assert_int_eq(it.last_error_code, TL_E_UNAVAILABLE);
		ck_assert_str_eq(it.last_error, "fake put failed");
		ck_assert_uint_eq(it.updated_ms, now_ms);
		ck_assert_uint_eq(it.next_try_ms - now_ms, n >= 5 ? 1000 : 100u << (n - 1));
		ck_assert_int_eq(bd_pinq_next_due(&due, q), 0);
		ck_assert_uint_eq(due, it.next_try_ms);
		/* Not due a millisecond early. */
		now_ms = it.next_try_ms - 1;
		ck_assert_uint_eq(step(), 0);
		now_ms++;
	}
	bd_pinq_counts_get(&counts, q);
	ck_assert_uint_eq(counts.attempts_failed, 8);
	ck_assert_uint_eq(counts.pending, 1);
	/* The node comes back. */
	fake.fail_puts = 0;
	ck_assert_uint_eq(step(), 1);
	it = item_of(root);
	ck_assert_int_eq(it.state, BD_PIN_PINNED);
	ck_assert_uint_eq(it.attempts, 0);
	ck_assert_int_eq(it.last_error_code, 0);
	ck_assert_uint_eq(it.enqueued_ms, t0);
	bd_dag_free(dag);
}
END_TEST

START_TEST(oldest_pending_is_the_longest_waiting)
{
	bd_dag *a = stored_dag(10, 7, "size-512"), *b = stored_dag(10, 8, "size-512");
	uint64_t t0 = now_ms, when;

	ck_assert_int_eq(bd_pinq_oldest_pending(&when, q), TL_E_NOTFOUND);
	ck_assert_int_eq(bd_pinq_enqueue(q, bd_dag_root(a)), 0);
	/* a fails and is due again after b: the due order is not the enqueue order. */
	fake.fail_code = TL_E_UNAVAILABLE;
	fake.fail_puts = 1;
	ck_assert_uint_eq(step(), 1);
	now_ms += 50;
	ck_assert_int_eq(bd_pinq_enqueue(q, bd_dag_root(b)), 0);
	ck_assert_int_eq(bd_pinq_oldest_pending(&when, q), 0);
	ck_assert_uint_eq(when, t0);
	/* b is pinned; a stays pending and the oldest. */
	ck_assert_uint_eq(step(), 1);
	ck_assert_int_eq(item_of(bd_dag_root(b)).state, BD_PIN_PINNED);
	ck_assert_int_eq(bd_pinq_oldest_pending(&when, q), 0);
	ck_assert_uint_eq(when, t0);
	now_ms += 100;
	ck_assert_uint_eq(step(), 1);
	ck_assert_int_eq(bd_pinq_oldest_pending(&when, q), TL_E_NOTFOUND);
	bd_dag_free(a);
	bd_dag_free(b);
}
END_TEST

START_TEST(permanent_failures_end_in_failed_until_rearmed)
{
	bd_dag *dag = stored_dag(40, 3, "lines");
	const bd_cid *root = bd_dag_root(dag);
	bd_pinq_item it;
	bd_pinq_counts counts;
	size_t n;

	ck_assert_int_eq(bd_pinq_enqueue(q, root), 0);
	fake.fail_code = TL_E_CONFLICT;
	fake.fail_pins = 100;
	/* One transient failure does not count towards max_failures. */
	fake.fail_puts = 1;
	fake.fail_code = TL_E_UNAVAILABLE;
	ck_assert_uint_eq(step(), 1);
	fake.fail_code = TL_E_CONFLICT;
	for (int i = 0; i < 3; i++) {
		now_ms = item_of(root).next_try_ms;
		ck_assert_uint_eq(step(), 1);
	}
	it = item_of(root);
	ck_assert_int_eq(it.state, BD_PIN_FAILED);
	ck_assert_uint_eq(it.attempts, 4);
	ck_assert_uint_eq(it.failures, 3);
	ck_assert_uint_eq(it.next_try_ms, 0);
	ck_assert_int_eq(it.last_error_code, TL_E_CONFLICT);
	ck_assert_str_eq(it.last_error, "fake pin failed");
	bd_pinq_counts_get(&counts, q);
	ck_assert_uint_eq(counts.failed, 1);
	ck_assert_uint_eq(counts.pending, 0);
	/* Left alone... */
	now_ms += 1000000;
	ck_assert_uint_eq(step(), 0);
	/* ...until re-armed, by retry_failed or by enqueue. */
	ck_assert_int_eq(bd_pinq_retry_failed(q, &n), 0);
	ck_assert_uint_eq(n, 1);
	it = item_of(root);
	ck_assert_int_eq(it.state, BD_PIN_PENDING);
	ck_assert_uint_eq(it.attempts, 0);
	ck_assert_uint_eq(it.next_try_ms, now_ms);
	for (int i = 0; i < 3; i++) {
		now_ms = item_of(root).next_try_ms;
		ck_assert_uint_eq(step(), 1);
	}
	ck_assert_int_eq(item_of(root).state, BD_PIN_FAILED);
	ck_assert_int_eq(bd_pinq_enqueue(q, root), 0);
	ck_assert_int_eq(item_of(root).state, BD_PIN_PENDING);
	fake.fail_pins = 0;
	ck_assert_uint_eq(step(), 1);
	ck_assert_int_eq(item_of(root).state, BD_PIN_PINNED);
	ck_assert_int_eq(bd_pinq_retry_failed(q, &n), 0);
	ck_assert_uint_eq(n, 0);
	bd_pinq_counts_get(&counts, q);
	ck_assert_uint_eq(counts.failed, 0);
	ck_assert_uint_eq(counts.pinned, 1);
	bd_dag_free(dag);
}
END_TEST

START_TEST(a_missing_local_block_is_a_permanent_failure)
{
	bd_dag *dag = NULL;
	uint8_t data[4096];
	bd_chunker c;
	const bd_block *rootb;
	bd_pinq_item it;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + i / 7);
	ck_assert_int_eq(bd_chunker_parse(&c, "size-1024"), 0);
	ck_assert_int_eq(bd_dag_build(&dag, data, sizeof(data), &c), 0);
	/* Only the root block is stored, not its leaves. */
	rootb = bd_dag_block(dag, bd_dag_count(dag) - 1);
	ck_assert_int_eq(bd_blockstore_put(bs, &rootb->cid, rootb->data, rootb->len), 0);
	ck_assert_int_eq(bd_pinq_enqueue(q, bd_dag_root(dag)), 0);
	ck_assert_uint_eq(step(), 1);
	it = item_of(bd_dag_root(dag));
	ck_assert_int_eq(it.state, BD_PIN_PENDING);
	ck_assert_int_eq(it.last_error_code, TL_E_NOTFOUND);
	ck_assert_uint_eq(it.failures, 1);
	ck_assert_msg(strstr(it.last_error, "local block store") != NULL, "%s", it.last_error);
	ck_assert_uint_eq(fake.nputs, 0);
	ck_assert_uint_eq(fake.npins, 0);
	bd_dag_free(dag);
}
END_TEST

static int collect(void *ctx, const bd_pinq_item *it)
{
	bd_pinq_item *out = ctx;
	size_t i = 0;

	while (out[i].state != 0)
		i++;
	out[i] = *it;
	return 0;
}

static int stop_at_first(void *ctx, const bd_pinq_item *it)
{
	(void)it;
	++*(int *)ctx;
	return 42;
}

START_TEST(state_survives_reopening)
{
	bd_dag *a = stored_dag(30, 4, "size-300");
	bd_dag *b = stored_dag(30, 5, "size-300");
	bd_dag *c = stored_dag(30, 6, "size-300");
	bd_pinq_item items[4], before;
	bd_pinq_counts counts;
	int calls = 0;

	memset(items, 0, sizeof(items));
	ck_assert_int_eq(bd_pinq_enqueue(q, bd_dag_root(a)), 0);
	ck_assert_uint_eq(step(), 1); /* a pinned */
	ck_assert_int_eq(bd_pinq_enqueue(q, bd_dag_root(b)), 0);
	fake.fail_code = TL_E_UNAVAILABLE;
	fake.fail_pins = 2;
	ck_assert_uint_eq(step(), 1); /* b pending, 1 failure */
	now_ms += 5;
	ck_assert_int_eq(bd_pinq_enqueue(q, bd_dag_root(c)), 0); /* c pending, not tried */
	before = item_of(bd_dag_root(b));

	/* As a restart does. */
	close_all();
	open_all();
	bd_pinq_counts_get(&counts, q);
	ck_assert_uint_eq(counts.pinned, 1);
	ck_assert_uint_eq(counts.pending, 2);
	ck_assert_uint_eq(counts.failed, 0);
	ck_assert_int_eq(item_of(bd_dag_root(a)).state, BD_PIN_PINNED);
	{
		bd_pinq_item after = item_of(bd_dag_root(b));

		ck_assert_mem_eq(&after, &before, sizeof(after));
	}
	ck_assert_int_eq(bd_pinq_list(q, collect, items), 0);
	ck_assert_int_eq(items[0].state != 0 && items[1].state != 0 && items[2].state != 0, 1);
	ck_assert_int_eq(items[3].state, 0);
	ck_assert_int_eq(bd_pinq_list(q, stop_at_first, &calls), 42);
	ck_assert_int_eq(calls, 1);

	/* c is due now; b only at its back-off time. */
	ck_assert_uint_eq(step(), 1);
	ck_assert_int_eq(item_of(bd_dag_root(c)).state, BD_PIN_PENDING); /* fail_pins was 2 */
	now_ms = 1700000000000u + 1000000;
	ck_assert_uint_eq(step(), 2);
	ck_assert_int_eq(item_of(bd_dag_root(b)).state, BD_PIN_PINNED);
	ck_assert_int_eq(item_of(bd_dag_root(c)).state, BD_PIN_PINNED);
	close_all();
	open_all();
	bd_pinq_counts_get(&counts, q);
	ck_assert_uint_eq(counts.pinned, 3);
	ck_assert_uint_eq(counts.pending, 0);
	ck_assert_uint_eq(step(), 0);
	bd_dag_free(a);
	bd_dag_free(b);
	bd_dag_free(c);
}
END_TEST

START_TEST(the_worker_drains_the_queue)
{
	bd_dag *dags[5];
	bd_pinq_counts counts;
	struct timespec pause = { 0, 10 * 1000000L };

	/* The worker reads the fake clock: items enqueued now are due now. */
	ck_assert_int_eq(bd_pinq_start(q), 0);
	ck_assert_int_eq(bd_pinq_start(q), TL_E_CONFLICT);
	for (int i = 0; i < 5; i++) {
		dags[i] = stored_dag(50, 10 + (unsigned)i, "lines");
		ck_assert_int_eq(bd_pinq_enqueue(q, bd_dag_root(dags[i])), 0);
	}
	for (int i = 0; i < 1000; i++) {
		bd_pinq_counts_get(&counts, q);
		if (counts.pinned == 5)
			break;
		nanosleep(&pause, NULL);
	}
	bd_pinq_stop(q);
	bd_pinq_stop(q);
	bd_pinq_counts_get(&counts, q);
	ck_assert_uint_eq(counts.pinned, 5);
	ck_assert_uint_eq(fake.npins, 5);
	for (int i = 0; i < 5; i++)
		bd_dag_free(dags[i]);
}
END_TEST

START_TEST(open_checks_options_and_column_family)
{
	bd_pinq_transport t = { fake_put, fake_pin, &fake };
	bd_pinq_options o = test_options();
	bd_pinq *other = NULL;
	tl_db *plain = NULL;
	char *d2 = tu_mkdtemp();
	const char *cfs[] = { bd_blockstore_column_family };

	o.backoff_base_ms = 0;
	ck_assert_int_eq(bd_pinq_open(&other, db, bs, &t, &o), TL_E_INPUT);
	o = test_options();
	o.backoff_cap_ms = 50;
	ck_assert_int_eq(bd_pinq_open(&other, db, bs, &t, &o), TL_E_INPUT);
	o = test_options();
	o.jitter_percent = 101;
	ck_assert_int_eq(bd_pinq_open(&other, db, bs, &t, &o), TL_E_INPUT);
	t.pin = NULL;
	ck_assert_int_eq(bd_pinq_open(&other, db, bs, &t, NULL), TL_E_INTERNAL);
	t.pin = fake_pin;
	ck_assert_int_eq(tl_db_open(&plain, d2, cfs, 1), 0);
	ck_assert_int_eq(bd_pinq_open(&other, plain, bs, &t, NULL), TL_E_INTERNAL);
	tl_db_close(plain);
	tu_rm_rf(d2);
	free(d2);
	ck_assert_str_eq(bd_pin_state_name(BD_PIN_PENDING), "pending");
	ck_assert_str_eq(bd_pin_state_name(BD_PIN_PINNED), "pinned");
	ck_assert_str_eq(bd_pin_state_name(BD_PIN_FAILED), "failed");
}
END_TEST

/* Staged into a commit's batch (bd_pinq_stage, as the publisher does in the log's commit):
 * nothing changes until the batch is written and the commit ends; a root staged twice in one
 * commit is one item with one due key; a failed commit changes nothing. */
START_TEST(staged_pins_change_the_queue_only_with_their_commit)
{
	bd_dag *a = stored_dag(5, 1, "lines"), *b = stored_dag(5, 2, "lines");
	const bd_cid *ra = bd_dag_root(a), *rb = bd_dag_root(b);
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	bd_pinq_item it;
	bd_pinq_counts c;

	/* a failed commit */
	ck_assert_int_eq(bd_pinq_stage(q, wb, ra), 0);
	bd_pinq_end(q, TL_E_IO);
	rocksdb_writebatch_clear(wb);
	bd_pinq_counts_get(&c, q);
	ck_assert_uint_eq(c.pending, 0);
	ck_assert_int_eq(bd_pinq_get(&it, q, ra), TL_E_NOTFOUND);
	/* a commit staging a twice and b once */
	ck_assert_int_eq(bd_pinq_stage(q, wb, ra), 0);
	ck_assert_int_eq(bd_pinq_stage(q, wb, rb), 0);
	ck_assert_int_eq(bd_pinq_stage(q, wb, ra), 0);
	ck_assert_int_eq(tl_db_write(db, wb), 0);
	bd_pinq_end(q, 0);
	bd_pinq_counts_get(&c, q);
	ck_assert_uint_eq(c.pending, 2);
	ck_assert_int_eq(item_of(ra).state, BD_PIN_PENDING);
	/* one due key each: one step pushes both, once */
	ck_assert_uint_eq(step(), 2);
	ck_assert_uint_eq(fake.npins, 2);
	ck_assert_int_eq(item_of(ra).state, BD_PIN_PINNED);
	ck_assert_uint_eq(step(), 0);
	/* pinned already: staging it again changes nothing */
	rocksdb_writebatch_clear(wb);
	ck_assert_int_eq(bd_pinq_stage(q, wb, ra), 0);
	ck_assert_int_eq(tl_db_write(db, wb), 0);
	bd_pinq_end(q, 0);
	ck_assert_int_eq(item_of(ra).state, BD_PIN_PINNED);
	bd_pinq_counts_get(&c, q);
	ck_assert_uint_eq(c.pinned, 2);
	ck_assert_uint_eq(c.pending, 0);
	/* the counts kept in memory are the stored ones */
	close_all();
	open_all();
	bd_pinq_counts_get(&c, q);
	ck_assert_uint_eq(c.pinned, 2);
	rocksdb_writebatch_destroy(wb);
	bd_dag_free(a);
	bd_dag_free(b);
}
END_TEST

Suite *suite_pinq(void)
{
	Suite *s = suite_create("pinq");
	TCase *tc = tcase_create("queue");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, backoff_schedule);
	tcase_add_test(tc, pins_a_dag_children_first_once_each);
	tcase_add_test(tc, repeated_leaves_are_sent_once);
	tcase_add_test(tc, enqueue_needs_the_root_in_the_store);
	tcase_add_test(tc, transient_failures_back_off_and_never_give_up);
	tcase_add_test(tc, permanent_failures_end_in_failed_until_rearmed);
	tcase_add_test(tc, oldest_pending_is_the_longest_waiting);
	tcase_add_test(tc, a_missing_local_block_is_a_permanent_failure);
	tcase_add_test(tc, state_survives_reopening);
	tcase_add_test(tc, the_worker_drains_the_queue);
	tcase_add_test(tc, open_checks_options_and_column_family);
	tcase_add_test(tc, staged_pins_change_the_queue_only_with_their_commit);
	suite_add_tcase(s, tc);
	return s;
}
