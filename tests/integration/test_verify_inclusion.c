/*
 * bundlectl verify-inclusion against the live daemon: a published version is found, proven
 * included and the server's view consistent with it (exit 0); a sequence or a domain the
 * server does not have is not verified (exit 1); and with --state, a daemon restarted on a
 * copy of the data that went another way (a fork under the same key) is caught against the
 * checkpoint the client saved, although on its own it is self-consistent.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testdaemon.h"
#include "testrun.h"
#include "testutil.h"

#define TD "example.test"

static char *tmp;
static struct tu_output o;

static void setup(void)
{
	tmp = tu_mkdtemp();
	memset(&o, 0, sizeof(o));
}

static void teardown(void)
{
	tu_output_free(&o);
	tu_rm_rf(tmp);
	free(tmp);
}

/* bundlectl verify-inclusion of TD's version `seq` on d, with extra options; its exit status. */
static int verify(const struct tu_daemon *d, unsigned long long seq, const char *extra)
{
	return tu_run(&o, tmp, "bundlectl", "verify-inclusion --server %s --log-key '%s' --domain " TD " --sequence %llu %s",
		d->base_url, d->vkey, seq, extra);
}

/* Publishes a version of TD (the next sequence) from the bundle vector `file`. */
static void publish(const struct tu_daemon *d, const char *file, unsigned hint)
{
	ck_assert_msg(tu_run(&o, tmp, "bundlectl", "publish --server %s --key %s --domain " TD " --refresh-hint %u "
		"tests/vectors/bundle/%s", d->base_url, tu_path_in(tmp, "pub.key"), hint, file) == 0, "%s", o.err);
}

START_TEST(a_version_is_verified_unknown_ones_are_not_and_a_fork_is_caught_against_the_saved_state)
{
	struct tu_daemon d;
	char state[4200], vkey[512];

	snprintf(state, sizeof(state), "--state '%s/seen.checkpoint'", tmp);
	ck_assert_int_eq(tu_daemon_start(&d, tu_path_in(tmp, "a"), NULL), 0);
	ck_assert_int_eq(tu_run(&o, tmp, "bundlectl", "keygen --name pub." TD " --out %s", tu_path_in(tmp, "pub.key")), 0);
	snprintf(vkey, sizeof(vkey), "%.*s", (int)strcspn(o.out, "\n"), o.out);
	ck_assert_msg(tu_run(&o, tmp, "bundlectl", "domain register --server %s --operator-token %s --domain " TD
		" --publisher-key '%s'", d.base_url, tu_path_in(tmp, "a/operator.token"), vkey) == 0, "%s", o.err);
	publish(&d, "bundle.pem", 300);

	/* positive, and the state file is written */
	ck_assert_msg(verify(&d, 1, state) == 0, "%s", o.err);
	ck_assert_ptr_nonnull(strstr(o.out, "ok: " TD " sequence 1 "));
	ck_assert_ptr_nonnull(strstr(o.out, "consistent with it"));
	ck_assert_int_eq(tu_system("grep -qx 'bundled.local/log' %s/seen.checkpoint", tmp), 0);
	/* a sequence and a domain the server does not have */
	tu_assert_invalid(&o, verify(&d, 7, ""), "404");
	tu_assert_invalid(&o, tu_run(&o, tmp, "bundlectl", "verify-inclusion --server %s --log-key '%s' --domain "
		"nobody.test --sequence 1", d.base_url, d.vkey), "404");
	ck_assert_int_eq(tu_daemon_stop(&d), 0);

	/* a copy of the data, then each goes its own way under the same key */
	ck_assert_int_eq(tu_system("cp -a %s %s", tu_path_in(tmp, "a"), tu_path_in(tmp, "b")), 0);
	ck_assert_int_eq(tu_daemon_start(&d, tu_path_in(tmp, "a"), NULL), 0);
	publish(&d, "ca-p256.pem", 600);
	ck_assert_msg(verify(&d, 2, state) == 0, "%s", o.err);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	ck_assert_int_eq(tu_daemon_start(&d, tu_path_in(tmp, "b"), NULL), 0);
	publish(&d, "ca-p384.pem", 900);
	publish(&d, "ca-p521.pem", 900);
	/* on its own the copy is consistent with its proofs ... */
	ck_assert_msg(verify(&d, 1, "") == 0, "%s", o.err);
	/* ... but not with the checkpoint this client saw before */
	tu_assert_invalid(&o, verify(&d, 1, state), "is not consistent with the one saved in");
	/* and the saved state is kept as it was, for the next run to catch it again */
	tu_assert_invalid(&o, verify(&d, 3, state), "the server shows another history");
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
}
END_TEST

Suite *suite_verify_inclusion(void)
{
	Suite *s = suite_create("verify_inclusion");
	TCase *tc = tcase_create("daemon");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_version_is_verified_unknown_ones_are_not_and_a_fork_is_caught_against_the_saved_state);
	suite_add_tcase(s, tc);
	return s;
}
