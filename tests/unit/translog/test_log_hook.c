/*
 * The log's commit hook (tl_log_set_hook): what it stages rides in the commit of its
 * entries, in log order and with each append's own request; a failing stage fails the whole
 * commit, which then writes nothing, and stops the log.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_check.h"
#include "testutil.h"
#include "translog/key.h"
#include "translog/log.h"

enum { THREADS = 4, PER_THREAD = 50 };

struct seen {
	pthread_mutex_t lock; /* the test's threads read, the committer writes */
	uint64_t next;        /* the first index the next stage must get */
	size_t stages, ends, failed_ends, with_req;
	bool out_of_order, bad_req;
	tl_log_hook rider;    /* what the stages also do */
};

static int FAIL_REQ = 1; /* its address fails a stage */

static int stage(void *ctx, rocksdb_writebatch_t *wb, uint64_t first, const void *const *entries, const size_t *lens,
	size_t n, void *req)
{
	struct seen *s = ctx;

	pthread_mutex_lock(&s->lock);
	s->out_of_order |= first != s->next;
	if (req != &FAIL_REQ) /* a failed commit's entries will not be there */
		s->next = first + n;
	s->stages++;
	if (req != NULL) {
		s->with_req++;
		/* Each thread passes its own number: the entries say which thread made them. */
		s->bad_req |= req != &FAIL_REQ && ((const char *)entries[0])[1] != '0' + *(const int *)req;
	}
	pthread_mutex_unlock(&s->lock);
	if (req == &FAIL_REQ)
		return tl_error_set(TL_E_IO, "the rider's store failed");
	return s->rider.stage(s->rider.ctx, wb, first, entries, lens, n, req);
}

static void end(void *ctx, int err)
{
	struct seen *s = ctx;

	pthread_mutex_lock(&s->lock);
	s->ends++;
	if (err != 0)
		s->failed_ends++;
	pthread_mutex_unlock(&s->lock);
}

struct fixture {
	char *dir;
	tl_signer *key;
	tl_db *db;
	tl_log *log;
	struct seen seen;
	tl_log_hook hook;
};

static void fx_open(struct fixture *fx)
{
	ck_assert_msg(tl_db_open(&fx->db, fx->dir, lc_column_families, LC_COLUMN_FAMILY_COUNT) == 0, "%s",
		tl_error_message());
	ck_assert_msg(tl_log_open(&fx->log, fx->db, fx->key, NULL) == 0, "%s", tl_error_message());
	lc_rider_hook(&fx->seen.rider, fx->db);
	fx->seen.next = tl_log_size(fx->log);
	fx->hook = (tl_log_hook){ stage, end, &fx->seen };
	tl_log_set_hook(fx->log, &fx->hook);
}

static void fx_close(struct fixture *fx)
{
	tl_log_close(fx->log);
	tl_db_close(fx->db);
}

static void fx_init(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	pthread_mutex_init(&fx->seen.lock, NULL);
	ck_assert_ptr_nonnull(fx->dir = tu_mkdtemp());
	ck_assert_int_eq(tl_signer_generate(&fx->key, "example.org/hook-log"), 0);
	fx_open(fx);
}

static void fx_free(struct fixture *fx)
{
	fx_close(fx);
	tl_signer_free(fx->key);
	tu_rm_rf(fx->dir);
	free(fx->dir);
	pthread_mutex_destroy(&fx->seen.lock);
}

struct appender {
	tl_log *log;
	int id;
	int failures;
};

static void *append_thread(void *arg)
{
	struct appender *a = arg;

	for (int i = 0; i < PER_THREAD; i++) {
		char e[2][32];
		const void *ptrs[2] = { e[0], e[1] };
		size_t lens[2];
		uint64_t first;

		for (int k = 0; k < 2; k++)
			lens[k] = (size_t)snprintf(e[k], sizeof(e[k]), "t%d entry %d.%d", a->id, i, k);
		if (tl_log_append_with(&first, a->log, ptrs, lens, 1 + (size_t)(i % 2), &a->id) != 0)
			a->failures++;
	}
	return NULL;
}

START_TEST(stages_ride_in_their_commits_in_log_order)
{
	struct fixture fx;
	struct appender a[THREADS];
	pthread_t th[THREADS];
	struct tl_log_stats stats;
	uint64_t index;

	fx_init(&fx);
	/* A plain append stages too, with no request. */
	ck_assert_int_eq(tl_log_append(&index, fx.log, "plain", 5), 0);
	ck_assert_uint_eq(fx.seen.with_req, 0);
	ck_assert_uint_eq(fx.seen.stages, 1);
	for (int t = 0; t < THREADS; t++) {
		a[t] = (struct appender){ fx.log, t, 0 };
		ck_assert_int_eq(pthread_create(&th[t], NULL, append_thread, &a[t]), 0);
	}
	for (int t = 0; t < THREADS; t++) {
		pthread_join(th[t], NULL);
		ck_assert_int_eq(a[t].failures, 0);
	}
	tl_log_stats(&stats, fx.log);
	ck_assert(!fx.seen.out_of_order);
	ck_assert(!fx.seen.bad_req);
	ck_assert_uint_eq(fx.seen.stages, 1 + THREADS * PER_THREAD);
	ck_assert_uint_eq(fx.seen.with_req, THREADS * PER_THREAD);
	ck_assert_uint_eq(fx.seen.ends, stats.commits);
	ck_assert_uint_eq(fx.seen.failed_ends, 0);
	ck_assert_uint_eq(fx.seen.next, tl_log_size(fx.log));
	/* Everything staged is stored, for exactly the log's entries, also after reopening. */
	ck_assert_int_eq(lc_check_rider(fx.db, fx.log, tl_log_size(fx.log)), 0);
	fx_close(&fx);
	fx_open(&fx);
	ck_assert_int_eq(lc_check_rider(fx.db, fx.log, tl_log_size(fx.log)), 0);
	/* Without the hook, nothing is staged: the rider falls behind the log; an append for the
	 * hook is refused rather than logged without what rides with it. */
	tl_log_set_hook(fx.log, NULL);
	{
		const void *e = "for the hook";
		size_t len = 12;

		ck_assert_int_eq(tl_log_append_with(&index, fx.log, &e, &len, 1, &a[0].id), TL_E_INTERNAL);
	}
	ck_assert_int_eq(tl_log_append(&index, fx.log, "unhooked", 8), 0);
	ck_assert_uint_eq(fx.seen.stages, 1 + THREADS * PER_THREAD);
	ck_assert_int_ne(lc_check_rider(fx.db, fx.log, tl_log_size(fx.log)), 0);
	fx_free(&fx);
}
END_TEST

START_TEST(a_failing_stage_fails_the_commit_and_writes_nothing)
{
	struct fixture fx;
	uint64_t index, size;
	const void *e = "doomed";
	size_t len = 6;
	int err;

	fx_init(&fx);
	ck_assert_int_eq(tl_log_append(&index, fx.log, "kept", 4), 0);
	size = tl_log_size(fx.log);
	err = tl_log_append_with(&index, fx.log, &e, &len, 1, &FAIL_REQ);
	ck_assert_int_eq(err, TL_E_IO);
	ck_assert_msg(strstr(tl_error_message(), "the rider's store failed") != NULL, "%s", tl_error_message());
	ck_assert_uint_eq(fx.seen.failed_ends, 1);
	ck_assert_uint_eq(tl_log_size(fx.log), size);
	/* The log stops after a failed commit, as after a failed write. */
	ck_assert_int_eq(tl_log_append(&index, fx.log, "after", 5), TL_E_UNAVAILABLE);
	ck_assert_int_eq(lc_check_rider(fx.db, fx.log, size), 0);
	/* Reopened: neither the entry nor what was staged with it. */
	fx_close(&fx);
	fx_open(&fx);
	ck_assert_uint_eq(tl_log_size(fx.log), size);
	ck_assert_int_eq(lc_check_rider(fx.db, fx.log, size), 0);
	ck_assert_int_eq(tl_log_append(&index, fx.log, "again", 5), 0);
	ck_assert_uint_eq(index, size);
	ck_assert_int_eq(lc_check_rider(fx.db, fx.log, size + 1), 0);
	fx_free(&fx);
}
END_TEST

Suite *suite_log_hook(void)
{
	Suite *s = suite_create("log_hook");
	TCase *tc = tcase_create("hook");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, stages_ride_in_their_commits_in_log_order);
	tcase_add_test(tc, a_failing_stage_fails_the_commit_and_writes_nothing);
	suite_add_tcase(s, tc);
	return s;
}
