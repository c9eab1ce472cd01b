/*
 * The git mirror against the real daemon and the git CLI: bundled --git-mirror keeps a bare
 * repository that `git clone` copies, whose `git log` is the log's order and whose tags name
 * every version with its canonical bytes; bundlectl audit --git finds the clone clean, and
 * finds a rewritten commit and a moved tag; a mirror left behind (the daemon ran without it)
 * catches up from its own position after a restart.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testdaemon.h"
#include "testpublish.h"
#include "testrun.h"
#include "testutil.h"

#define TD "git.mirror.test"

struct world {
	char *dir;
	char data[4096], mirror[4096], clone[4096], key[4096], vkey[512];
	const char *args[3];
	struct tu_daemon d;
	struct tu_history h;
	size_t published;
	struct tu_output o;
};

#define BUNDLECTL_OK(w, ...) \
	ck_assert_msg(tu_run(&(w)->o, (w)->dir, "bundlectl", __VA_ARGS__) == 0, "bundlectl: %s", (w)->o.err)

static void publish(struct world *w)
{
	const char *file = tu_path_in(w->dir, w->h.name[w->published % w->h.n]);

	ck_assert_int_eq(tu_write_file(file, w->h.data[w->published % w->h.n], w->h.len[w->published % w->h.n]), 0);
	BUNDLECTL_OK(w, "publish --server %s --key '%s' --domain " TD " --skip-refused '%s'", w->d.base_url, w->key, file);
	w->published++;
}

static long metric(struct world *w, const char *series)
{
	return tu_metric(&w->d, series);
}

static void wait_mirrored(struct world *w)
{
	struct timespec ts = { 0, 50000000L };

	for (int i = 0; i < 400 && metric(w, "bundled_mirror_lag_entries{mirror=\"git\"}") != 0; i++)
		nanosleep(&ts, NULL);
	ck_assert_int_eq(metric(w, "bundled_mirror_lag_entries{mirror=\"git\"}"), 0);
}

static unsigned long long log_size(struct world *w)
{
	char *body = NULL;
	unsigned long long size = 0;

	ck_assert_int_eq(tu_http_get(&w->d, "/checkpoint", &body, NULL), 200);
	ck_assert_int_eq(sscanf(strchr(body, '\n') + 1, "%llu", &size), 1);
	free(body);
	return size;
}

/* `git log --reverse` of the clone lists log entries 0, 1, ... in order. */
static void expect_log_order(struct world *w, unsigned long long size)
{
	char out[4096], *text, *p;
	size_t len;
	unsigned long long i = 0;

	snprintf(out, sizeof(out), "%s/git-log.txt", w->dir);
	ck_assert_int_eq(tu_system("git -C '%s' log --reverse --format=%%s >'%s'", w->clone, out), 0);
	ck_assert_ptr_nonnull(text = (char *)tu_read_file(out, &len));
	for (p = text; *p != '\0'; i++) {
		char want[64], *nl = strchr(p, '\n');

		snprintf(want, sizeof(want), "(log entry %llu)", i);
		ck_assert_ptr_nonnull(nl);
		*nl = '\0';
		ck_assert_msg(strstr(p, want) != NULL, "commit %llu is \"%s\"", i, p);
		p = nl + 1;
	}
	ck_assert_uint_eq(i, size);
	free(text);
}

/* Every version's tag holds the bytes the daemon serves for it. */
static void expect_versions(struct world *w)
{
	for (size_t seq = 1; seq <= w->published; seq++) {
		char out[4096], path[128], *mine, *served = NULL;
		size_t len, served_len = 0;

		snprintf(out, sizeof(out), "%s/v%zu.json", w->dir, seq);
		ck_assert_int_eq(tu_system("git -C '%s' show '" TD "/%zu:domains/" TD "/bundle.json' >'%s'", w->clone, seq, out),
			0);
		ck_assert_ptr_nonnull(mine = (char *)tu_read_file(out, &len));
		snprintf(path, sizeof(path), "/v1/domains/" TD "/bundles/%zu", seq);
		ck_assert_int_eq(tu_http_get(&w->d, path, &served, &served_len), 200);
		ck_assert_msg(len == served_len && memcmp(mine, served, len) == 0, "version %zu differs", seq);
		free(mine);
		free(served);
	}
}

static int audit(struct world *w)
{
	return tu_run(&w->o, w->dir, "bundlectl", "audit --server %s --log-key '%s' --git '%s'", w->d.base_url, w->d.vkey,
		w->clone);
}

START_TEST(a_clone_of_the_mirror_is_the_log)
{
	struct world w;

	memset(&w, 0, sizeof(w));
	ck_assert_ptr_nonnull(w.dir = tu_mkdtemp());
	snprintf(w.data, sizeof(w.data), "%s/data", w.dir);
	snprintf(w.mirror, sizeof(w.mirror), "%s/mirror.git", w.dir);
	snprintf(w.clone, sizeof(w.clone), "%s/clone", w.dir);
	snprintf(w.key, sizeof(w.key), "%s/publisher.key", w.dir);
	w.args[0] = "--git-mirror";
	w.args[1] = w.mirror;
	tu_history_load(&w.h, 8);
	ck_assert_int_eq(tu_daemon_start(&w.d, w.data, w.args), 0);
	BUNDLECTL_OK(&w, "keygen --name publisher." TD " --out '%s'", w.key);
	snprintf(w.vkey, sizeof(w.vkey), "%.*s", (int)w.o.out_len - 1, w.o.out);
	BUNDLECTL_OK(&w, "domain register --server %s --operator-token '%s/operator.token' --domain " TD
			 " --publisher-key '%s'",
		w.d.base_url, w.data, w.vkey);
	BUNDLECTL_OK(&w, "domain register --server %s --operator-token '%s/operator.token' --domain other." TD
			 " --publisher-key '%s'",
		w.d.base_url, w.data, w.vkey);
	for (int i = 0; i < 4; i++)
		publish(&w);
	wait_mirrored(&w);

	ck_assert_int_eq(tu_system("git clone --quiet '%s' '%s' 2>/dev/null", w.mirror, w.clone), 0);
	expect_log_order(&w, log_size(&w));
	expect_versions(&w);
	ck_assert_msg(audit(&w) == 0, "audit: %s%s", w.o.out, w.o.err);
	ck_assert_ptr_nonnull(strstr(w.o.out, "clean"));

	/* The daemon runs without its mirror for a while; restarted with it, the mirror catches
	 * up from where its repository says it is. */
	ck_assert_int_eq(tu_daemon_stop(&w.d), 0);
	ck_assert_int_eq(tu_daemon_start(&w.d, w.data, NULL), 0);
	publish(&w);
	publish(&w);
	ck_assert_int_eq(tu_daemon_stop(&w.d), 0);
	ck_assert_int_eq(tu_daemon_start(&w.d, w.data, w.args), 0);
	publish(&w);
	wait_mirrored(&w);
	ck_assert_int_eq(metric(&w, "bundled_git_mirror_position"), (long)log_size(&w));
	ck_assert_int_eq(tu_system("git -C '%s' pull --quiet --ff-only 2>/dev/null && git -C '%s' fetch --quiet --tags",
				 w.clone, w.clone),
		0);
	expect_log_order(&w, log_size(&w));
	expect_versions(&w);
	ck_assert_msg(audit(&w) == 0, "audit: %s%s", w.o.out, w.o.err);

	/* A moved tag, and then a rewritten commit, are findings. */
	ck_assert_int_eq(tu_system("cd '%s' && git rev-parse " TD "/1 >../tag1 && git tag -f " TD "/1 HEAD >/dev/null",
				 w.clone),
		0);
	ck_assert_int_eq(audit(&w), 1);
	ck_assert_ptr_nonnull(strstr(w.o.out, "the tag " TD "/1 is not on its commit"));
	ck_assert_int_eq(tu_system("cd '%s' && git tag -f " TD "/1 \"$(cat ../tag1)\" >/dev/null", w.clone), 0);
	ck_assert_int_eq(audit(&w), 0);
	ck_assert_int_eq(tu_system("git -C '%s' -c user.name=x -c user.email=x@x commit --quiet --amend --allow-empty "
				   "-m 'register " TD "' -m 'domain " TD "' >/dev/null",
				 w.clone),
		0);
	ck_assert_int_eq(audit(&w), 1);
	ck_assert_ptr_nonnull(strstr(w.o.out, "FINDINGS"));

	ck_assert_int_eq(tu_daemon_stop(&w.d), 0);
	tu_output_free(&w.o);
	tu_history_free(&w.h);
	tu_rm_rf(w.dir);
	free(w.dir);
}
END_TEST

Suite *suite_git_mirror(void)
{
	Suite *s = suite_create("git_mirror");
	TCase *tc = tcase_create("daemon and git");

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, a_clone_of_the_mirror_is_the_log);
	suite_add_tcase(s, tc);
	return s;
}
