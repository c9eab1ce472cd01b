/*
 * bundlectl follow as a user meets it before any source or daemon answers: its help, its
 * usage errors (exit 2, the reason on stderr), --once against a daemon that is not there
 * (exit 2, one line), and the long-running mode against nothing: each failed look logged with
 * a retry delay that doubles up to the interval, and SIGTERM or SIGINT ending it cleanly
 * (exit 0). Following a real SPIRE server is tests/integration/test_spire.c.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testdaemon.h"
#include "testrun.h"
#include "testutil.h"

static char *dir, key[4096];
static struct tu_output ran;

#define run(...) tu_run(&ran, dir, "bundlectl", __VA_ARGS__)

/* Port 9 on loopback (discard): nothing listens there on a test machine. */
#define NOWHERE "127.0.0.1:9"

static void setup(void)
{
	ck_assert_ptr_nonnull(dir = tu_mkdtemp());
	snprintf(key, sizeof(key), "%s/pub.key", dir);
	ck_assert_int_eq(run("keygen --name pub.follow.test --out '%s'", key), 0);
}

static void teardown(void)
{
	tu_output_free(&ran);
	tu_rm_rf(dir);
	free(dir);
}

/* Asserts a usage error whose stderr names `reason`. */
static void assert_usage(int status, const char *reason)
{
	ck_assert_int_eq(status, 2);
	ck_assert_msg(strstr(ran.err, reason) != NULL, "stderr '%s' lacks '%s'", ran.err, reason);
	ck_assert_ptr_nonnull(strstr(ran.err, "usage: bundlectl follow"));
	ck_assert_str_eq(ran.out, "");
}

START_TEST(follow_help_names_every_option)
{
	static const char *const options[] = { "--server", "--domain", "--key", "--source", "--source-ca", "--interval",
		"--once", "--cacert", "--client-cert", "--client-key", "SIGTERM", "exit status" };

	ck_assert_int_eq(run("follow --help"), 0);
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		ck_assert_msg(strstr(ran.out, options[i]) != NULL, "--help lacks %s", options[i]);
	ck_assert_str_eq(ran.err, "");
	ck_assert_int_eq(run("--help"), 0);
	ck_assert_ptr_nonnull(strstr(ran.out, "follow"));
}
END_TEST

START_TEST(follow_usage_errors)
{
	assert_usage(run("follow"), "--domain, --key and --source are required");
	assert_usage(run("follow --domain td --key '%s'", key), "--domain, --key and --source are required");
	assert_usage(run("follow --domain td --source https://x --key '%s' extra", key), "unexpected argument 'extra'");
	assert_usage(run("follow --domain td --source https://x --key '%s' --once=yes", key), "--once takes no value");
	assert_usage(run("follow --domain td --source https://x --key '%s' --interval", key), "missing value for --interval");
	/* The source is https (the https_web profile) and nothing else. */
	assert_usage(run("follow --domain td --key '%s' --source http://127.0.0.1:8443", key), "not an https URL");
	assert_usage(run("follow --domain td --key '%s' --source 127.0.0.1:8443", key), "not an https URL");
	assert_usage(run("follow --domain td --key '%s' --source https://x --client-cert c.pem", key),
		"--client-cert and --client-key go together");
	assert_usage(run("follow --domain %0300d --key '%s' --source https://x", 0, key), "--domain is longer than");
}
END_TEST

START_TEST(follow_interval_is_checked)
{
	static const char *const bad[] = { "0", "0s", "s", "''", "-1", "1.5", "5x", "1d", "86401", "1441m", "25h",
		"99999999999999999999", "' 5'" };
	static const char *const good[] = { "1", "1s", "90", "5m", "24h", "86400", "1440m" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_usage(run("follow --domain td --key '%s' --source https://x --interval %s --once", key, bad[i]),
			"--interval");
	/* A good interval gets as far as the key: a missing key file is the next error. */
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_int_eq(run("follow --domain td --key '%s' --source https://x --interval %s --once",
					 tu_path_in(dir, "absent.key"), good[i]),
			2);
		ck_assert_msg(strstr(ran.err, "--interval") == NULL, "%s refused: %s", good[i], ran.err);
		ck_assert_ptr_nonnull(strstr(ran.err, "absent.key"));
	}
}
END_TEST

START_TEST(follow_once_without_a_daemon_fails_in_one_line)
{
	ck_assert_int_eq(run("follow --server http://" NOWHERE " --domain td --key '%s' --source https://" NOWHERE " --once",
				 key),
		2);
	ck_assert_ptr_nonnull(strstr(ran.err, "bundlectl follow: "));
	ck_assert_ptr_eq(strchr(ran.err, '\n'), ran.err + strlen(ran.err) - 1);
	ck_assert_str_eq(ran.out, "");
}
END_TEST

/* Runs follow against nothing with a 2 s interval until its log shows `looks` failed looks
 * (logged with its signals blocked: the signal never reaches the child before it runs
 * bundlectl), then sends `sig`; returns its exit status and its log (malloc'ed) in *log. */
static int follow_against_nothing(char **log, size_t looks, int sig)
{
	const char *args[] = { "follow", "--server", "http://" NOWHERE, "--domain", "td", "--key", key, "--source",
		"https://" NOWHERE, "--interval", "2s", NULL };
	char log_path[4096];
	size_t len;
	int status = -1;
	pid_t pid;

	snprintf(log_path, sizeof(log_path), "%s/follow.log", dir);
	ck_assert_int_gt(pid = tu_spawn("bundlectl", args, log_path), 0);
	/* 1 + 2 + 2 s of retries are expected; 30 s only catch a hang. */
	ck_assert_msg(tu_file_wait(log_path, "msg=\"look failed\"", looks, 30), "no failed looks in %s", log_path);
	kill(pid, sig);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	*log = (char *)tu_read_file(log_path, &len);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(follow_backs_off_and_stops_on_a_signal)
{
	char *log = NULL;

	ck_assert_int_eq(follow_against_nothing(&log, 3, SIGTERM), 0);
	ck_assert_ptr_nonnull(strstr(log, "msg=\"following\" domain=td source=\"https://" NOWHERE "/\" interval=2s"));
	/* 1 s, then doubling, never above the interval. */
	ck_assert_ptr_nonnull(strstr(log, "retry_in=1s"));
	ck_assert_ptr_nonnull(strstr(log, "retry_in=2s"));
	ck_assert_ptr_null(strstr(log, "retry_in=4s"));
	ck_assert_ptr_nonnull(strstr(log, "msg=\"stopping\" signal=SIGTERM"));
	free(log);
	ck_assert_int_eq(follow_against_nothing(&log, 1, SIGINT), 0);
	ck_assert_ptr_nonnull(strstr(log, "msg=\"stopping\" signal=SIGINT"));
	free(log);
}
END_TEST

Suite *suite_cli_follow(void)
{
	Suite *s = suite_create("cli_follow");
	TCase *tc = tcase_create("follow");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, follow_help_names_every_option);
	tcase_add_test(tc, follow_usage_errors);
	tcase_add_test(tc, follow_interval_is_checked);
	tcase_add_test(tc, follow_once_without_a_daemon_fails_in_one_line);
	tcase_add_test(tc, follow_backs_off_and_stops_on_a_signal);
	suite_add_tcase(s, tc);
	return s;
}
