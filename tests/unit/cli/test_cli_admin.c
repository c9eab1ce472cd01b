/*
 * bundlectl admin as a user meets it before any backup: the subcommand list, usage errors
 * (exit 2) and the health check of a daemon that is not there (exit 1, which Docker reads as
 * unhealthy). The backups themselves are tested against a running daemon in
 * tests/integration/test_admin_backup.c.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testrun.h"
#include "testutil.h"

static char *dir;
static struct tu_output ran;

#define run(...) tu_run(&ran, dir, "bundlectl", __VA_ARGS__)

static void setup(void)
{
	ck_assert_ptr_nonnull(dir = tu_mkdtemp());
}

static void teardown(void)
{
	tu_output_free(&ran);
	tu_rm_rf(dir);
	free(dir);
}

START_TEST(admin_lists_its_subcommands)
{
	ck_assert_int_eq(run("admin --help"), 0);
	ck_assert_ptr_nonnull(strstr(ran.out, "backup"));
	ck_assert_ptr_nonnull(strstr(ran.out, "verify-backup"));
	ck_assert_ptr_nonnull(strstr(ran.out, "health"));
	ck_assert_int_eq(run("admin"), 2);
	ck_assert_int_eq(run("admin restore"), 2);
	ck_assert_ptr_nonnull(strstr(ran.err, "unknown subcommand 'restore'"));
}
END_TEST

START_TEST(backup_usage_errors)
{
	ck_assert_int_eq(run("admin backup --help"), 0);
	ck_assert_ptr_nonnull(strstr(ran.out, "--include-key"));
	ck_assert_int_eq(run("admin backup --data '%s'", dir), 2);
	ck_assert_ptr_nonnull(strstr(ran.err, "--data and --out are required"));
	ck_assert_int_eq(run("admin backup --data '%s' --out '%s' --vkey x --log-key y", dir, tu_path_in(dir, "b")), 2);
	ck_assert_ptr_nonnull(strstr(ran.err, "at most one of"));
	/* No key in an empty data directory: an I/O error, and no backup directory left. */
	ck_assert_int_eq(run("admin backup --data '%s' --out '%s'", dir, tu_path_in(dir, "b")), 2);
	ck_assert_int_ne(access(tu_path_in(dir, "b"), F_OK), 0);
	ck_assert_int_eq(run("admin verify-backup"), 2);
	ck_assert_ptr_nonnull(strstr(ran.err, "missing DIR"));
}
END_TEST

START_TEST(health_of_no_daemon_is_unhealthy)
{
	/* Port 9 on loopback (discard): nothing listens there on a test machine. */
	ck_assert_int_eq(run("admin health --server http://127.0.0.1:9"), 1);
	ck_assert_ptr_nonnull(strstr(ran.err, "bundlectl admin health: "));
	ck_assert_str_eq(ran.out, "");
	ck_assert_int_eq(run("admin health --server ftp://x"), 2);
}
END_TEST

Suite *suite_cli_admin(void)
{
	Suite *s = suite_create("cli_admin");
	TCase *tc = tcase_create("admin");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, admin_lists_its_subcommands);
	tcase_add_test(tc, backup_usage_errors);
	tcase_add_test(tc, health_of_no_daemon_is_unhealthy);
	suite_add_tcase(s, tc);
	return s;
}
