/*
 * The source half of `bundlectl follow` (cli/follow_source.c) against a real local https
 * server: OpenSSL's own `s_server -WWW`, serving files from a temporary directory with a
 * certificate from a throw-away test CA (tests/support/testpki). The source is trusted only through that CA; a bundle endpoint's answer must be
 * a SPIFFE bundle with a spiffe_sequence.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../../cli/follow_source.h"
#include "testbundle.h"
#include "testpki.h"
#include "testrun.h"
#include "testutil.h"

static char *dir, *pki;
static pid_t server = -1;
static char url[128];

/* The port s_server printed ("ACCEPT 127.0.0.1:PORT"), waiting at most 10 s. */
static unsigned server_port(const char *out_path)
{
	for (int i = 0; i < 100; i++) {
		size_t len;
		uint8_t *out = tu_read_file(out_path, &len);
		const char *line = out != NULL ? strstr((const char *)out, "ACCEPT 127.0.0.1:") : NULL;
		unsigned port = line != NULL ? (unsigned)strtoul(line + 17, NULL, 10) : 0;

		free(out);
		if (port != 0)
			return port;
		usleep(100 * 1000);
	}
	return 0;
}

static void setup(void)
{
	char cert[4096], key[4096], out_path[4096];
	unsigned port;

	ck_assert_ptr_nonnull(dir = tu_mkdtemp());
	pki = tp_make_pki();
	snprintf(cert, sizeof(cert), "%s", tp_path(pki, "server.pem"));
	snprintf(key, sizeof(key), "%s", tp_path(pki, "server.key"));
	snprintf(out_path, sizeof(out_path), "%s/s_server.out", dir);
	server = fork();
	ck_assert_int_ge(server, 0);
	if (server == 0) {
		/* -WWW serves the files under its working directory by path. */
		if (chdir(dir) != 0 || freopen(out_path, "w", stdout) == NULL || freopen("/dev/null", "w", stderr) == NULL)
			_exit(127);
		execlp("openssl", "openssl", "s_server", "-WWW", "-accept", "127.0.0.1:0", "-cert", cert, "-key",
			key, (char *)NULL);
		_exit(127);
	}
	port = server_port(out_path);
	ck_assert_uint_ne(port, 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", port);
}

static void teardown(void)
{
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		server = -1;
	}
	tu_rm_rf(pki);
	tu_rm_rf(dir);
	free(pki);
	free(dir);
}

static void serve(const char *name, const void *data, size_t len)
{
	ck_assert_int_eq(tu_write_file(tu_path_in(dir, name), data, len), 0);
}

/* Reads `path` from the server trusting `ca` (a file of the test PKI, or NULL: the system's). */
static int read_source(bd_bundle **b, uint64_t *sequence, const char *path, const char *ca)
{
	char source[256], ca_path[4096];
	struct follow_source s;
	int err;

	snprintf(source, sizeof(source), "%s%s", url, path);
	snprintf(ca_path, sizeof(ca_path), "%s", ca != NULL ? tp_path(pki, ca) : "");
	ck_assert_int_eq(follow_source_open(&s, source, ca != NULL ? ca_path : NULL), 0);
	err = follow_source_read(b, sequence, &s);
	follow_source_close(&s);
	return err;
}

START_TEST(reads_the_bundle_and_its_sequence)
{
	size_t len;
	uint8_t *data = tu_bundle_vector("valid.json", &len);
	bd_bundle *got = NULL, *want = NULL;
	uint64_t sequence = 0;
	char *got_text, *want_text;

	serve("bundle", data, len);
	ck_assert_int_eq(read_source(&got, &sequence, "/bundle", "ca.pem"), 0);
	ck_assert_uint_eq(sequence, 42);
	ck_assert_int_eq(bd_bundle_parse(&want, data, len, 0, NULL), 0);
	got_text = tu_bundle_canonical(got);
	want_text = tu_bundle_canonical(want);
	ck_assert_str_eq(got_text, want_text);
	free(got_text);
	free(want_text);
	bd_bundle_free(got);
	bd_bundle_free(want);
	free(data);
}
END_TEST

START_TEST(trusts_only_the_ca_it_is_given)
{
	size_t len;
	uint8_t *data = tu_bundle_vector("valid.json", &len);
	bd_bundle *b = NULL;
	uint64_t sequence = 0;

	serve("bundle", data, len);
	/* The system's store does not hold the test CA. */
	ck_assert_int_eq(read_source(&b, &sequence, "/bundle", NULL), TL_E_UNAVAILABLE);
	ck_assert_ptr_null(b);
	/* Nor does another test CA. */
	ck_assert_int_eq(read_source(&b, &sequence, "/bundle", "other-ca.pem"), TL_E_UNAVAILABLE);
	ck_assert_ptr_null(b);
	free(data);
}
END_TEST

START_TEST(refuses_what_is_not_a_versioned_spiffe_bundle)
{
	size_t len;
	uint8_t *jwk = tu_bundle_vector("x509-ca-p256.json", &len);
	char *unversioned = malloc(len + 16);
	bd_bundle *b = NULL;
	uint64_t sequence = 0;

	/* A SPIFFE bundle, but without the spiffe_sequence a bundle endpoint serves. */
	ck_assert_ptr_nonnull(unversioned);
	snprintf(unversioned, len + 16, "{\"keys\":[%.*s]}", (int)len, (const char *)jwk);
	serve("unversioned", unversioned, strlen(unversioned));
	ck_assert_int_eq(read_source(&b, &sequence, "/unversioned", "ca.pem"), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "no spiffe_sequence"));
	serve("html", "<html>not a bundle</html>", 25);
	ck_assert_int_eq(read_source(&b, &sequence, "/html", "ca.pem"), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "not a SPIFFE bundle"));
	ck_assert_int_ne(read_source(&b, &sequence, "/absent", "ca.pem"), 0);
	ck_assert_ptr_null(b);
	free(unversioned);
	free(jwk);
}
END_TEST

START_TEST(refuses_a_source_that_is_not_https)
{
	struct follow_source s;

	ck_assert_int_eq(follow_source_open(&s, "http://127.0.0.1:1/bundle", NULL), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "not an https URL"));
	ck_assert_int_eq(follow_source_open(&s, "127.0.0.1/bundle", NULL), TL_E_INPUT);
}
END_TEST

Suite *suite_cli_follow_source(void)
{
	Suite *s = suite_create("cli_follow_source");
	TCase *tc = tcase_create("follow_source");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, reads_the_bundle_and_its_sequence);
	tcase_add_test(tc, trusts_only_the_ca_it_is_given);
	tcase_add_test(tc, refuses_what_is_not_a_versioned_spiffe_bundle);
	tcase_add_test(tc, refuses_a_source_that_is_not_https);
	suite_add_tcase(s, tc);
	return s;
}
