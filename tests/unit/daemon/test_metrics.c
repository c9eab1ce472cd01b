/*
 * The daemon's metric registry (bundled/daemon/metrics.c): the exact exposition it renders,
 * the registrations it refuses, and counts that stay exact under concurrent updates.
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static char *render(struct metrics *m)
{
	tl_buf b = tl_buf_make(1 << 20);
	size_t len;
	char *text;

	ck_assert_int_eq(metrics_render(&b, m), 0);
	ck_assert_int_eq(tl_buf_append(&b, "", 1), 0);
	text = (char *)tl_buf_detach(&b, &len);
	return text;
}

START_TEST(renders_the_text_format)
{
	static const double bounds[] = { 0.5, 1, 2.5 };
	struct metrics *m;
	struct metric *c1, *c2, *g, *h;
	char *text;

	ck_assert_int_eq(metrics_new(&m), 0);
	ck_assert_int_eq(metrics_counter(&c1, m, "t_requests_total", "Requests.", "route=\"/a\",code=\"2xx\""), 0);
	ck_assert_int_eq(metrics_counter(&c2, m, "t_requests_total", "Requests.", "route=\"/b\\\"q\\\\\",code=\"5xx\""), 0);
	ck_assert_int_eq(metrics_gauge(&g, m, "t_temperature_celsius", "A gauge.", NULL), 0);
	ck_assert_int_eq(metrics_histogram(&h, m, "t_duration_seconds", "Durations.", NULL, bounds, 3), 0);
	metric_add(c1, 41);
	metric_inc(c1);
	metric_set(g, -3.25);
	metric_gauge_add(g, 1);
	metric_observe(h, 0.5);
	metric_observe(h, 0.75);
	metric_observe(h, 100);
	metric_observe(h, NAN);
	text = render(m);
	ck_assert_str_eq(text,
		"# HELP t_requests_total Requests.\n"
		"# TYPE t_requests_total counter\n"
		"t_requests_total{route=\"/a\",code=\"2xx\"} 42\n"
		"t_requests_total{route=\"/b\\\"q\\\\\",code=\"5xx\"} 0\n"
		"# HELP t_temperature_celsius A gauge.\n"
		"# TYPE t_temperature_celsius gauge\n"
		"t_temperature_celsius -2.25\n"
		"# HELP t_duration_seconds Durations.\n"
		"# TYPE t_duration_seconds histogram\n"
		"t_duration_seconds_bucket{le=\"0.5\"} 1\n"
		"t_duration_seconds_bucket{le=\"1\"} 2\n"
		"t_duration_seconds_bucket{le=\"2.5\"} 2\n"
		"t_duration_seconds_bucket{le=\"+Inf\"} 3\n"
		"t_duration_seconds_sum 101.25\n"
		"t_duration_seconds_count 3\n");
	free(text);
	metrics_free(m);
}
END_TEST

static double read_seven(void *ctx)
{
	(void)ctx;
	return 7;
}

static void read_hist(struct metric_hist_sample *out, void *ctx)
{
	(void)ctx;
	out->counts[0] = 2;
	out->counts[1] = 3;
	out->over = 1;
	out->sum = 9.5;
}

START_TEST(sampled_series_are_read_at_render)
{
	static const double bounds[] = { 1, 4 };
	struct metrics *m;
	char *text;

	ck_assert_int_eq(metrics_new(&m), 0);
	ck_assert_int_eq(metrics_sampled(m, METRIC_COUNTER, "t_things_total", "Things.", "kind=\"x\"", read_seven, NULL),
		0);
	ck_assert_int_eq(metrics_sampled_histogram(m, "t_batch_entries", "Batches.", "log=\"a\"", bounds, 2, read_hist,
				 NULL), 0);
	ck_assert_int_eq(metrics_sampled(m, METRIC_HISTOGRAM, "t_h", "H.", NULL, read_seven, NULL), TL_E_INPUT);
	text = render(m);
	ck_assert_str_eq(text,
		"# HELP t_things_total Things.\n"
		"# TYPE t_things_total counter\n"
		"t_things_total{kind=\"x\"} 7\n"
		"# HELP t_batch_entries Batches.\n"
		"# TYPE t_batch_entries histogram\n"
		"t_batch_entries_bucket{log=\"a\",le=\"1\"} 2\n"
		"t_batch_entries_bucket{log=\"a\",le=\"4\"} 5\n"
		"t_batch_entries_bucket{log=\"a\",le=\"+Inf\"} 6\n"
		"t_batch_entries_sum{log=\"a\"} 9.5\n"
		"t_batch_entries_count{log=\"a\"} 6\n");
	free(text);
	metrics_free(m);
}
END_TEST

START_TEST(bad_registrations_are_refused)
{
	static const double up[] = { 1, 2 }, down[] = { 2, 1 };
	struct metrics *m;
	struct metric *s;

	ck_assert_int_eq(metrics_new(&m), 0);
	ck_assert_int_eq(metrics_counter(&s, m, "t_requests", "No _total.", NULL), TL_E_INPUT);
	ck_assert_int_eq(metrics_gauge(&s, m, "t_open_total", "A gauge named like a counter.", NULL), TL_E_INPUT);
	ck_assert_int_eq(metrics_gauge(&s, m, "9bad", "Bad name.", NULL), TL_E_INPUT);
	ck_assert_int_eq(metrics_gauge(&s, m, "t_bad-name", "Bad name.", NULL), TL_E_INPUT);
	ck_assert_int_eq(metrics_gauge(&s, m, "t_g", "Bad help\n", NULL), TL_E_INPUT);
	ck_assert_int_eq(metrics_gauge(&s, m, "t_g", "", NULL), TL_E_INPUT);
	ck_assert_int_eq(metrics_gauge(&s, m, "t_g", "G.", "route=/a"), TL_E_INPUT);
	ck_assert_int_eq(metrics_gauge(&s, m, "t_g", "G.", "route=\"/a"), TL_E_INPUT);
	ck_assert_int_eq(metrics_gauge(&s, m, "t_g", "G.", "route=\"a\\x\""), TL_E_INPUT);
	ck_assert_int_eq(metrics_gauge(&s, m, "t_g", "G.", "route=\"a\","), TL_E_INPUT);
	ck_assert_int_eq(metrics_gauge(&s, m, "t_g", "G.", "__x=\"a\""), TL_E_INPUT);
	ck_assert_int_eq(metrics_gauge(&s, m, "t_g", "G.", "a=\"1\"b=\"2\""), TL_E_INPUT);
	ck_assert_int_eq(metrics_histogram(&s, m, "t_h", "H.", NULL, down, 2), TL_E_INPUT);
	ck_assert_int_eq(metrics_histogram(&s, m, "t_h", "H.", NULL, up, 0), TL_E_INPUT);
	ck_assert_int_eq(metrics_histogram(&s, m, "t_h", "H.", "le=\"1\"", up, 2), TL_E_INPUT);
	/* A family keeps its type, help and buckets; a series is registered once. */
	ck_assert_int_eq(metrics_gauge(&s, m, "t_g", "G.", "a=\"1\""), 0);
	ck_assert_int_eq(metrics_gauge(&s, m, "t_g", "G.", "a=\"1\""), TL_E_INPUT);
	ck_assert_int_eq(metrics_gauge(&s, m, "t_g", "Other help.", "a=\"2\""), TL_E_INPUT);
	ck_assert_int_eq(metrics_histogram(&s, m, "t_g", "G.", "a=\"2\"", up, 2), TL_E_INPUT);
	ck_assert_int_eq(metrics_gauge(&s, m, "t_g", "G.", "a=\"2\""), 0);
	ck_assert_int_eq(metrics_histogram(&s, m, "t_h", "H.", NULL, up, 2), 0);
	ck_assert_int_eq(metrics_histogram(&s, m, "t_h", "H.", "x=\"y\"", up, 1), TL_E_INPUT);
	metrics_free(m);
}
END_TEST

enum { THREADS = 4, ROUNDS = 50000 };

struct shared {
	struct metric *c, *g, *h;
};

static void *hammer(void *arg)
{
	struct shared *s = arg;

	for (int i = 0; i < ROUNDS; i++) {
		metric_inc(s->c);
		metric_gauge_add(s->g, 1);
		metric_observe(s->h, (i & 1) ? 0.25 : 4);
	}
	return NULL;
}

START_TEST(concurrent_updates_are_exact)
{
	static const double bounds[] = { 1 };
	struct metrics *m;
	struct shared s;
	pthread_t t[THREADS];
	char *text, want[512];

	ck_assert_int_eq(metrics_new(&m), 0);
	ck_assert_int_eq(metrics_counter(&s.c, m, "t_total", "C.", NULL), 0);
	ck_assert_int_eq(metrics_gauge(&s.g, m, "t_g", "G.", NULL), 0);
	ck_assert_int_eq(metrics_histogram(&s.h, m, "t_h", "H.", NULL, bounds, 1), 0);
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &s), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	text = render(m);
	snprintf(want, sizeof(want),
		"t_total %d\n# HELP t_g G.\n# TYPE t_g gauge\nt_g %d\n# HELP t_h H.\n# TYPE t_h histogram\n"
		"t_h_bucket{le=\"1\"} %d\nt_h_bucket{le=\"+Inf\"} %d\nt_h_sum %d\nt_h_count %d\n",
		THREADS * ROUNDS, THREADS * ROUNDS, THREADS * ROUNDS / 2, THREADS * ROUNDS,
		THREADS * ROUNDS / 2 * 4 + THREADS * ROUNDS / 2 / 4, THREADS * ROUNDS);
	ck_assert_ptr_nonnull(strstr(text, want));
	free(text);
	metrics_free(m);
}
END_TEST

Suite *suite_metrics(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_test(tc, renders_the_text_format);
	tcase_add_test(tc, sampled_series_are_read_at_render);
	tcase_add_test(tc, bad_registrations_are_refused);
	tcase_add_test(tc, concurrent_updates_are_exact);
	suite_add_tcase(s, tc);
	return s;
}
