/*
 * Read replicas, two real daemons on loopback: a replica (bundled --replica-of) of a primary
 * that registers domains, changes keys and publishes versions serves the very bytes the
 * primary serves on every read endpoint, refuses writes naming the primary, keeps up while
 * the primary goes on and after its own restart; and a primary that forks (another log under
 * the same key on the same address) halts it: it keeps serving its last verified state,
 * says so on /healthz and /metrics, and saves evidence that bundlectl verify-consistency
 * rejects.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testdaemon.h"
#include "testpublish.h"
#include "testrun.h"
#include "testutil.h"

#define INTERVAL "50"

struct world {
	char *dir;
	char primary_data[4096], replica_data[4096], key[4096], key2[4096];
	char vkey[512];
	struct tu_daemon primary, replica;
	struct tu_history h;
	size_t published;
	struct tu_output o;
};

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void start_replica(struct world *w)
{
	const char *args[] = { "--replica-of", w->primary.base_url, "--replica-log-key", w->primary.vkey,
		"--replica-interval", INTERVAL, NULL };

	ck_assert_int_eq(tu_daemon_start(&w->replica, w->replica_data, args), 0);
}

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	ck_assert_ptr_nonnull(w->dir = tu_mkdtemp());
	snprintf(w->primary_data, sizeof(w->primary_data), "%s/primary", w->dir);
	snprintf(w->replica_data, sizeof(w->replica_data), "%s/replica", w->dir);
	snprintf(w->key, sizeof(w->key), "%s/publisher.key", w->dir);
	snprintf(w->key2, sizeof(w->key2), "%s/second.key", w->dir);
	tu_history_load(&w->h, 8);
	ck_assert_uint_ge(w->h.n, 4);
	ck_assert_int_eq(tu_daemon_start(&w->primary, w->primary_data, NULL), 0);
	ck_assert_int_eq(tu_run(&w->o, w->dir, "bundlectl", "keygen --name publisher.replica.test --out '%s'", w->key),
		0);
	snprintf(w->vkey, sizeof(w->vkey), "%.*s", (int)w->o.out_len - 1, w->o.out);
}

static void world_free(struct world *w)
{
	if (w->replica.pid > 0)
		tu_daemon_stop(&w->replica);
	if (w->primary.pid > 0)
		tu_daemon_stop(&w->primary);
	tu_output_free(&w->o);
	tu_history_free(&w->h);
	tu_rm_rf(w->dir);
	free(w->dir);
}

/* Runs bundlectl; it must succeed. */
#define BUNDLECTL_OK(w, ...) \
	ck_assert_msg(tu_run(&(w)->o, (w)->dir, "bundlectl", __VA_ARGS__) == 0, "bundlectl: %s", (w)->o.err)

static void register_domain(struct world *w, const char *td)
{
	BUNDLECTL_OK(w, "domain register --server %s --operator-token '%s/operator.token' --domain %s --publisher-key '%s'",
		w->primary.base_url, w->primary_data, td, w->vkey);
}

static void publish(struct world *w, const char *td)
{
	const char *file = tu_path_in(w->dir, w->h.name[w->published % w->h.n]);

	ck_assert_int_eq(tu_write_file(file, w->h.data[w->published % w->h.n], w->h.len[w->published % w->h.n]), 0);
	BUNDLECTL_OK(w, "publish --server %s --key '%s' --domain %s --skip-refused '%s'", w->primary.base_url, w->key, td,
		file);
	w->published++;
}

/* Waits (at most 30 s) until the replica serves the primary's checkpoint. */
static void wait_level(struct world *w)
{
	for (int i = 0; i < 600; i++) {
		char *a = NULL, *b = NULL;
		long sa = tu_http_get(&w->primary, "/checkpoint", &a, NULL);
		long sb = tu_http_get(&w->replica, "/checkpoint", &b, NULL);
		int same = sa == 200 && sb == 200 && strcmp(a, b) == 0;

		free(a);
		free(b);
		if (same)
			return;
		sleep_ms(50);
	}
	ck_abort_msg("the replica did not reach the primary's checkpoint in 30 s");
}

/* Both daemons answer `path` with the same status and bytes; returns the status. */
static long expect_same(struct world *w, const char *path)
{
	char *a = NULL, *b = NULL;
	size_t la = 0, lb = 0;
	long sa = tu_http_get(&w->primary, path, &a, &la), sb = tu_http_get(&w->replica, path, &b, &lb);

	ck_assert_msg(sa == sb, "%s: primary %ld, replica %ld", path, sa, sb);
	ck_assert_msg(la == lb && (la == 0 || memcmp(a, b, la) == 0), "%s: the replica's bytes differ", path);
	free(a);
	free(b);
	return sa;
}

/* Every read endpoint, for every entry, version and tile of the primary's current log. */
static void expect_same_everything(struct world *w, const char *const *domains, size_t n_domains)
{
	char path[256], *body = NULL;
	unsigned long long size = 0;

	ck_assert_int_eq(expect_same(w, "/checkpoint"), 200);
	ck_assert_int_eq(expect_same(w, "/v1/log"), 200);
	ck_assert_int_eq(expect_same(w, "/v1/domains"), 200);
	ck_assert_int_eq(tu_http_get(&w->primary, "/checkpoint", &body, NULL), 200);
	ck_assert_int_eq(sscanf(strchr(body, '\n') + 1, "%llu", &size), 1);
	free(body);
	for (unsigned long long i = 0; i < size; i++) {
		snprintf(path, sizeof(path), "/v1/log/entries/%llu", i);
		ck_assert_int_eq(expect_same(w, path), 200);
		snprintf(path, sizeof(path), "/v1/log/proof/inclusion?index=%llu&size=%llu", i, size);
		ck_assert_int_eq(expect_same(w, path), 200);
		snprintf(path, sizeof(path), "/v1/log/proof/consistency?old=%llu&size=%llu", i, size);
		ck_assert_int_eq(expect_same(w, path), 200);
	}
	snprintf(path, sizeof(path), "/tile/0/000.p/%llu", size % 256);
	ck_assert_int_eq(expect_same(w, path), size % 256 ? 200 : 404);
	snprintf(path, sizeof(path), "/tile/entries/000.p/%llu", size % 256);
	ck_assert_int_eq(expect_same(w, path), size % 256 ? 200 : 404);
	for (size_t d = 0; d < n_domains; d++) {
		snprintf(path, sizeof(path), "/v1/domains/%s", domains[d]);
		ck_assert_int_eq(expect_same(w, path), 200);
		snprintf(path, sizeof(path), "/v1/domains/%s/bundle", domains[d]);
		ck_assert_int_eq(expect_same(w, path), 200);
		for (unsigned seq = 1; seq <= 3; seq++) {
			static const char *const rest[] = { "", "/proof", "/entry" };

			for (size_t k = 0; k < 3; k++) {
				snprintf(path, sizeof(path), "/v1/domains/%s/bundles/%u%s", domains[d], seq, rest[k]);
				expect_same(w, path);
			}
		}
	}
}

static long replica_metric(struct world *w, const char *series)
{
	return tu_metric(&w->replica, series);
}

START_TEST(a_replica_serves_the_primarys_bytes_and_refuses_writes)
{
	static const char *const domains[] = { "a.replica.test", "b.replica.test" };
	struct world w;
	struct tu_reply r;
	char *body = NULL, vkey2[512];

	world_init(&w);
	register_domain(&w, domains[0]);
	register_domain(&w, domains[1]);
	publish(&w, domains[0]);
	publish(&w, domains[1]);
	/* A key change, and versions on both sides of it. */
	ck_assert_int_eq(tu_run(&w.o, w.dir, "bundlectl", "keygen --name second.replica.test --out '%s'", w.key2), 0);
	snprintf(vkey2, sizeof(vkey2), "%.*s", (int)w.o.out_len - 1, w.o.out);
	BUNDLECTL_OK(&w, "domain add-key --server %s --key '%s' --domain %s '%s'", w.primary.base_url, w.key, domains[0],
		vkey2);
	publish(&w, domains[0]);

	start_replica(&w);
	wait_level(&w);
	expect_same_everything(&w, domains, 2);
	ck_assert_int_eq(replica_metric(&w, "bundled_mirror_lag_entries{mirror=\"replica\"}"), 0);
	ck_assert_int_eq(replica_metric(&w, "bundled_replica_halted"), 0);
	ck_assert_int_eq(tu_http_get(&w.replica, "/healthz", &body, NULL), 200);
	ck_assert_ptr_nonnull(strstr(body, "replica of"));
	free(body);

	/* Writes are the primary's: the replica names it, and nothing changes. */
	ck_assert_int_eq(tu_api_json(&r, &w.replica, "POST", "/v1/domains/a.replica.test/bundles", "{}", NULL), 503);
	ck_assert_ptr_nonnull(strstr(r.body, "read_only_replica"));
	ck_assert_ptr_nonnull(strstr(r.body, w.primary.base_url));
	tu_reply_free(&r);
	ck_assert_int_eq(tu_api_json(&r, &w.replica, "POST", "/v1/domains", "{}", NULL), 503);
	ck_assert_ptr_nonnull(strstr(r.body, "read-only replica of"));
	tu_reply_free(&r);

	/* The primary goes on; the replica follows, and after its own restart too. */
	publish(&w, domains[1]);
	publish(&w, domains[0]);
	wait_level(&w);
	expect_same_everything(&w, domains, 2);
	ck_assert_int_eq(tu_daemon_stop(&w.replica), 0);
	publish(&w, domains[1]);
	start_replica(&w);
	wait_level(&w);
	expect_same_everything(&w, domains, 2);
	world_free(&w);
}
END_TEST

START_TEST(a_forked_primary_halts_the_replica_with_evidence)
{
	static const char *const domains[] = { "a.replica.test" };
	struct world w;
	char fork_data[4096], listen[64], *old_cp = NULL, *cp = NULL, *body = NULL, *key = NULL;
	const char *args[] = { "--listen", listen, NULL };
	size_t key_len;
	struct stat st;

	world_init(&w);
	register_domain(&w, domains[0]);
	publish(&w, domains[0]);
	publish(&w, domains[0]);
	start_replica(&w);
	wait_level(&w);
	ck_assert_int_eq(tu_http_get(&w.replica, "/checkpoint", &old_cp, NULL), 200);

	/* Another log under the same key, on the same address, longer than the first. */
	ck_assert_int_eq(tu_daemon_stop(&w.primary), 0);
	snprintf(fork_data, sizeof(fork_data), "%s/fork", w.dir);
	ck_assert_int_eq(mkdir(fork_data, 0700), 0);
	ck_assert_ptr_nonnull(key = (char *)tu_read_file(tu_path_in(w.primary_data, "log.key"), &key_len));
	ck_assert_int_eq(tu_write_file(tu_path_in(fork_data, "log.key"), key, key_len), 0);
	ck_assert_int_eq(chmod(tu_path_in(fork_data, "log.key"), 0600), 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", w.primary.port);
	snprintf(w.primary_data, sizeof(w.primary_data), "%s", fork_data);
	/* Built elsewhere first, so that the replica sees the longer log at once: a fork, not a
	 * rollback on the way. */
	ck_assert_int_eq(tu_daemon_start(&w.primary, fork_data, NULL), 0);
	for (int i = 0; i < 5; i++) {
		char td[64];

		snprintf(td, sizeof(td), "f%d.replica.test", i);
		register_domain(&w, td);
	}
	ck_assert_int_eq(tu_daemon_stop(&w.primary), 0);
	ck_assert_int_eq(tu_daemon_start(&w.primary, fork_data, args), 0);

	/* The replica sees it, halts, says so, and keeps what it had verified. */
	for (int i = 0; i < 600 && replica_metric(&w, "bundled_replica_halted") != 1; i++)
		sleep_ms(50);
	ck_assert_int_eq(replica_metric(&w, "bundled_replica_halted"), 1);
	ck_assert_int_eq(tu_http_get(&w.replica, "/healthz", &body, NULL), 503);
	ck_assert_msg(strstr(body, "halted: the primary") != NULL && strstr(body, "forked") != NULL, "%s", body);
	free(body);
	ck_assert_int_eq(tu_http_get(&w.replica, "/checkpoint", &cp, NULL), 200);
	ck_assert_str_eq(cp, old_cp);
	free(cp);
	ck_assert_int_eq(tu_http_get(&w.replica, "/v1/domains/a.replica.test/bundles/2", NULL, NULL), 200);

	/* The evidence convinces a third party: the two checkpoints are not consistent. */
	ck_assert_int_eq(tu_run(&w.o, w.dir, "bundlectl",
				 "verify-checkpoint --vkey '%s' '%s/replica-fork/primary-new.checkpoint'",
				 w.primary.vkey, w.replica_data),
		0);
	tu_assert_invalid(&w.o,
		tu_run(&w.o, w.dir, "bundlectl",
			"verify-consistency --vkey '%s' '%s/replica-fork/primary-old.checkpoint' "
			"'%s/replica-fork/primary-new.checkpoint' '%s/replica-fork/primary-consistency.proof'",
			w.primary.vkey, w.replica_data, w.replica_data, w.replica_data),
		"");

	/* Halted it stays, across a restart, until an operator has looked. */
	ck_assert_int_eq(tu_daemon_stop(&w.replica), 0);
	start_replica(&w);
	ck_assert_int_eq(tu_http_get(&w.replica, "/healthz", &body, NULL), 503);
	free(body);
	sleep_ms(300);
	ck_assert_int_eq(tu_http_get(&w.replica, "/checkpoint", &cp, NULL), 200);
	ck_assert_str_eq(cp, old_cp);
	ck_assert_int_eq(stat(tu_path_in(w.replica_data, "replica-fork/primary-fork.txt"), &st), 0);
	free(cp);
	free(old_cp);
	free(key);
	world_free(&w);
}
END_TEST

START_TEST(a_replica_needs_the_primarys_key)
{
	struct world w;
	char out[4096], *text;
	size_t len;

	world_init(&w);
	snprintf(out, sizeof(out), "%s/r.log", w.dir);
	ck_assert_int_eq(tu_system("'%s' --data '%s' --replica-of http://127.0.0.1:9 2>'%s'", tu_bin_path("bundled"),
				 w.replica_data, out),
		2);
	ck_assert_ptr_nonnull(text = (char *)tu_read_file(out, &len));
	ck_assert_ptr_nonnull(strstr(text, "replica_log_key"));
	free(text);
	world_free(&w);
}
END_TEST

Suite *suite_replica(void)
{
	Suite *s = suite_create("replica");
	TCase *tc = tcase_create("two daemons");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, a_replica_serves_the_primarys_bytes_and_refuses_writes);
	tcase_add_test(tc, a_forked_primary_halts_the_replica_with_evidence);
	tcase_add_test(tc, a_replica_needs_the_primarys_key);
	suite_add_tcase(s, tc);
	return s;
}
