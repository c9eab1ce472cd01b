/*
 * The publishing and diff cache series of /metrics (docs/operations.md, "Series") against a
 * real daemon: every publish that adds an entry counts once under its kind, an idempotent
 * repeat under none, every refused write once under the error code of its answer (whether
 * the route answered it or the server did from the handler's error), and diff lookups count
 * as a miss when the diff is made on request and as a hit when it comes from the cache.
 * (The exposition as a whole is checked by promtool in suite_it_prometheus.)
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/bundle.h"
#include "bundled/entry.h"
#include "testdaemon.h"
#include "testentry.h"
#include "testpublish.h"
#include "testutil.h"
#include "translog/key.h"

#define TD "metrics.test"
/* Versions published: the diff from the first to the last is further back than the
 * DIFF_CACHE_BASES (8) the daemon precomputes, so only a request makes it. */
#define VERSIONS 10
/* A pin queue that exists but never reaches a node: publishing does not wait for it. */
static const char *const daemon_args[] = { "--ipfs-api", "http://127.0.0.1:9", NULL };

static char *dir;
static char data[4200], origin[256];
static struct tu_daemon d;
static tl_signer *key, *stranger;
static struct tu_history history;

/* The real history's versions 005-013 carry a CA the strict parser refuses (EC-ACC, a
 * negative serial number): these tests publish the files as they are, so keep those it takes. */
static void keep_parseable(struct tu_history *h)
{
	size_t kept = 0;

	for (size_t i = 0; i < h->n; i++) {
		bd_bundle *b = NULL;

		if (bd_bundle_parse(&b, h->data[i], h->len[i], 0, NULL) == 0) {
			h->data[kept] = h->data[i];
			h->len[kept] = h->len[i];
			memcpy(h->name[kept], h->name[i], sizeof(h->name[0]));
			kept++;
		} else {
			free(h->data[i]);
		}
		bd_bundle_free(b);
	}
	h->n = kept;
}

static void setup(void)
{
	char vkey[BD_MAX_VKEY + 1];
	const char *keys[1] = { vkey };

	ck_assert_ptr_nonnull(dir = tu_mkdtemp());
	snprintf(data, sizeof(data), "%s/data", dir);
	ck_assert_int_eq(tu_daemon_start(&d, data, daemon_args), 0);
	tu_log_origin(origin, sizeof(origin), &d);
	key = tu_signer(1, "publisher.metrics.test");
	stranger = tu_signer(2, "stranger.test");
	tu_vkey(vkey, key);
	tu_history_load(&history, VERSIONS);
	keep_parseable(&history);
	ck_assert_uint_ge(history.n, 3);
	tu_api_register(&d, data, TD, keys, 1, 201);
}

static void teardown(void)
{
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	tl_signer_free(key);
	tl_signer_free(stranger);
	tu_history_free(&history);
	tu_rm_rf(dir);
	free(dir);
}

/* POSTs history[version] as `sequence`, signed by k; returns the status. */
static long publish_as(uint64_t sequence, size_t version, const tl_signer *k)
{
	tl_buf text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1);
	bd_entry *e = calloc(1, sizeof(*e));
	const uint8_t *bundle = history.data[version];
	size_t len = history.len[version];
	struct tu_reply r;
	char *body;
	long status;

	ck_assert_ptr_nonnull(e);
	tu_api_bundle_entry(&text, e, bundle, len, TD, sequence, origin, k, NULL);
	body = tu_bundle_body(&text, bundle, len);
	status = tu_api_json(&r, &d, "POST", "/v1/domains/" TD "/bundles", body, NULL);
	tu_reply_free(&r);
	free(body);
	free(e);
	tl_buf_free(&text);
	return status;
}

/* Version `sequence`: the history's files in turn (its versions may be fewer). */
static long publish(uint64_t sequence, const tl_signer *k)
{
	return publish_as(sequence, (size_t)(sequence - 1) % history.n, k);
}

static void expect(const char *series, long want)
{
	long got = tu_metric(&d, series);

	ck_assert_msg(got == want, "%s is %ld, want %ld", series, got, want);
}

static long diff(const char *query)
{
	char path[256], *body = NULL;
	long status;

	snprintf(path, sizeof(path), "/v1/domains/" TD "/diff?%s", query);
	status = tu_http_get(&d, path, &body, NULL);
	free(body);
	return status;
}

START_TEST(publishes_count_by_kind_and_repeats_do_not)
{
	expect("bundled_publishes_total{kind=\"domain\"}", 1);
	for (uint64_t s = 1; s <= VERSIONS; s++)
		ck_assert_int_eq(publish(s, key), 201);
	/* The same version again is answered (200) but adds nothing to the log. */
	ck_assert_int_eq(publish(VERSIONS, key), 200);
	expect("bundled_publishes_total{kind=\"bundle\"}", VERSIONS);
	expect("bundled_publishes_total{kind=\"domain\"}", 1);
	expect("bundled_publishes_total{kind=\"key\"}", 0);
	expect("bundled_publishes_total{kind=\"revocation\"}", 0);
	expect("bundled_publish_refusals_total{reason=\"conflict\"}", 0);
}
END_TEST

START_TEST(refusals_count_by_the_code_of_their_answer)
{
	static const char *const text_plain[] = { "Content-Type: text/plain", NULL };
	struct tu_reply r;

	ck_assert_int_eq(publish(1, key), 201);
	/* Handler errors the server answers: a key the domain does not hold, a registration
	 * without the operator's token, a path that is no trust domain, a body that is no request. */
	ck_assert_int_eq(publish(2, stranger), 401);
	ck_assert_int_eq(tu_api_json(&r, &d, "POST", "/v1/domains", "{\"domain\":\"x.test\",\"keys\":[]}", NULL), 401);
	tu_reply_free(&r);
	ck_assert_int_eq(tu_api_json(&r, &d, "POST", "/v1/domains/Not_A_Domain/bundles", "{}", NULL), 400);
	tu_reply_free(&r);
	ck_assert_int_eq(publish(2, key), 201);
	ck_assert_int_eq(tu_api_json(&r, &d, "POST", "/v1/domains/" TD "/bundles", "{}", NULL), 400);
	tu_reply_free(&r);
	/* An answer the route makes itself: the code comes from its body. */
	ck_assert_int_eq(tu_api(&r, &d, "POST", "/v1/domains/" TD "/bundles", text_plain, "{}", 2, NULL), 415);
	tu_reply_free(&r);
	expect("bundled_publish_refusals_total{reason=\"unauthorized\"}", 2);
	expect("bundled_publish_refusals_total{reason=\"bad_input\"}", 2);
	expect("bundled_publish_refusals_total{reason=\"unsupported_media_type\"}", 1);
	expect("bundled_publish_refusals_total{reason=\"conflict\"}", 0);
	expect("bundled_publish_refusals_total{reason=\"other\"}", 0);
	/* Another version under a sequence below the newest: a conflict. */
	ck_assert_int_eq(publish_as(1, 2, key), 409);
	expect("bundled_publish_refusals_total{reason=\"conflict\"}", 1);
	expect("bundled_publishes_total{kind=\"bundle\"}", 2);
	/* A request no publish route takes is not a publish. */
	ck_assert_int_eq(tu_api_json(&r, &d, "POST", "/v1/domains/" TD "/nothing", "{}", NULL), 404);
	tu_reply_free(&r);
	expect("bundled_publish_refusals_total{reason=\"not_found\"}", 0);
}
END_TEST

START_TEST(diff_lookups_count_hits_and_misses)
{
	char query[64];

	for (uint64_t s = 1; s <= VERSIONS; s++)
		ck_assert_int_eq(publish(s, key), 201);
	expect("bundled_diff_cache_requests_total{result=\"miss\"}", 0);
	expect("bundled_diff_cache_requests_total{result=\"hit\"}", 0);
	/* Too far back to be precomputed: made on the first request, kept, found on the next. */
	snprintf(query, sizeof(query), "from=1&to=%d", VERSIONS);
	ck_assert_int_eq(diff(query), 200);
	expect("bundled_diff_cache_requests_total{result=\"miss\"}", 1);
	expect("bundled_diff_cache_requests_total{result=\"hit\"}", 0);
	ck_assert_int_eq(diff(query), 200);
	ck_assert_int_eq(diff("from=1&to=latest"), 200);
	expect("bundled_diff_cache_requests_total{result=\"miss\"}", 1);
	expect("bundled_diff_cache_requests_total{result=\"hit\"}", 2);
	/* Answers without a patch look nothing up: the version itself, an unknown base. */
	snprintf(query, sizeof(query), "from=%d&to=%d", VERSIONS, VERSIONS);
	ck_assert_int_eq(diff(query), 200);
	ck_assert_int_eq(diff("from=0&to=latest"), 200);
	expect("bundled_diff_cache_requests_total{result=\"miss\"}", 1);
	expect("bundled_diff_cache_requests_total{result=\"hit\"}", 2);
}
END_TEST

/* The route's own 429: each counted once as rate_limited, whatever the timing. */
START_TEST(rate_limited_writes_count_as_such)
{
	const char *args[] = { "--write-rate", "1", "--write-burst", "2", NULL };
	char *own = tu_mkdtemp(), path[4200];
	struct tu_daemon limited;
	struct tu_reply r;
	long n429 = 0, n400 = 0;

	snprintf(path, sizeof(path), "%s/data", own);
	ck_assert_int_eq(tu_daemon_start(&limited, path, args), 0);
	for (int i = 0; i < 8; i++) {
		tu_api_json(&r, &limited, "POST", "/v1/domains/" TD "/bundles", "{}", NULL);
		ck_assert_msg(r.status == 429 || r.status == 400, "%ld: %s", r.status, r.body);
		*(r.status == 429 ? &n429 : &n400) += 1;
		tu_reply_free(&r);
	}
	ck_assert_int_ge(n429, 1);
	ck_assert_int_eq(tu_metric(&limited, "bundled_publish_refusals_total{reason=\"rate_limited\"}"), n429);
	ck_assert_int_eq(tu_metric(&limited, "bundled_publish_refusals_total{reason=\"bad_input\"}"), n400);
	ck_assert_int_eq(tu_daemon_stop(&limited), 0);
	tu_rm_rf(own);
	free(own);
}
END_TEST

Suite *suite_publish_metrics(void)
{
	Suite *s = suite_create("publish_metrics");
	TCase *tc = tcase_create("series");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, publishes_count_by_kind_and_repeats_do_not);
	tcase_add_test(tc, refusals_count_by_the_code_of_their_answer);
	tcase_add_test(tc, diff_lookups_count_hits_and_misses);
	suite_add_tcase(s, tc);
	tc = tcase_create("rate_limited");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, rate_limited_writes_count_as_such);
	suite_add_tcase(s, tc);
	return s;
}
