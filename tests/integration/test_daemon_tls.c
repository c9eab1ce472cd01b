/*
 * The real daemon serving HTTPS (--tls-cert, --tls-key, --tls-client-ca), with certificates
 * made by the openssl CLI for the test: bundlectl and curl reach it with --cacert (by IP and
 * by DNS name, as SAN entries allow), a client that trusts another CA or only the system store
 * is refused, plain HTTP to the port gets a 400 that says why, a client certificate from the
 * client CA is recognised as the operator's (the daemon's debug line), one from another CA is
 * refused in the handshake, unusable TLS settings stop the daemon at start, and full entry
 * bundles and raw blocks (lent from the daemon's memory files, which TLS cannot sendfile)
 * arrive as the log's and the block's bytes, bundles in both encodings.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/chunker.h"
#include "bundled/cid.h"
#include "bundled/dag.h"
#include "testdaemon.h"
#include "testpki.h"
#include "testrun.h"
#include "testutil.h"

static char *dir;
static char *pki;
static struct tu_daemon d;
static struct tu_output ran;
static char https[64];

#define pem(name) tp_path(pki, name)
#define bundlectl(...) tu_run(&ran, dir, "bundlectl", __VA_ARGS__)
#define curl(...) tu_run(&ran, dir, "/usr/bin/curl", __VA_ARGS__)

static void start_tls_on(const char *data)
{
	const char *args[] = { "--tls-cert", pem("server.pem"), "--tls-key", pem("server.key"), "--tls-client-ca",
		pem("ca.pem"), "--log-level", "debug", NULL };
	char path[1024];

	snprintf(path, sizeof(path), "%s", tu_path_in(dir, data));
	ck_assert_int_eq(tu_daemon_start(&d, path, args), 0);
	snprintf(https, sizeof(https), "https://127.0.0.1:%u", d.port);
}

static void start_tls(void)
{
	start_tls_on("data");
}

static void setup(void)
{
	ck_assert_ptr_nonnull(dir = tu_mkdtemp());
	pki = tp_make_pki();
	start_tls();
}

static void teardown(void)
{
	if (d.pid > 0)
		ck_assert_int_eq(tu_daemon_stop(&d), 0);
	tu_output_free(&ran);
	tu_rm_rf(pki);
	tu_rm_rf(dir);
	free(pki);
	free(dir);
}

/* How many times the daemon's log has said `what` so far. */
static unsigned log_count(const char *what)
{
	size_t len;
	char *text = (char *)tu_read_file(d.log_path, &len);
	unsigned n = 0;

	ck_assert_ptr_nonnull(text);
	for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	free(text);
	return n;
}

START_TEST(checkpoint_over_https_with_cacert)
{
	char origin[64];

	ck_assert_int_eq(bundlectl("admin health --server %s --cacert '%s'", https, pem("ca.pem")), 0);
	ck_assert_str_eq(ran.out, "ok\n");
	/* From the environment, as the other --server commands take it. */
	ck_assert_int_eq(bundlectl("admin health --server %s --cacert ''", https), 2);
	ck_assert_int_eq(tu_run(&ran, dir, "/usr/bin/env",
				 "BUNDLED_SERVER=%s BUNDLED_CACERT='%s' '%s' admin health", https, pem("ca.pem"),
				 tu_bin_path("bundlectl")),
		0);
	ck_assert_int_eq(curl("-sS --fail --cacert '%s' %s/checkpoint", pem("ca.pem"), https), 0);
	/* A signed checkpoint: origin, size 0, the empty tree's hash, a blank line, a signature. */
	ck_assert_int_eq(sscanf(ran.out, "%63s", origin), 1);
	ck_assert_str_eq(origin, "bundled.local/log");
	ck_assert_ptr_nonnull(strstr(ran.out, "\n0\n"));
	ck_assert_ptr_nonnull(strstr(ran.out, "\n\n\xe2\x80\x94 bundled.local/log "));
	/* By DNS name too: the certificate names localhost. */
	ck_assert_int_eq(curl("-sS --fail --cacert '%s' --resolve localhost:%u:127.0.0.1 https://localhost:%u/checkpoint",
				 pem("ca.pem"), d.port, d.port),
		0);
	ck_assert_int_eq(sscanf(ran.out, "%63s", origin), 1);
	ck_assert_str_eq(origin, "bundled.local/log");
}
END_TEST

START_TEST(a_client_that_trusts_another_ca_is_refused)
{
	ck_assert_int_eq(bundlectl("admin health --server %s --cacert '%s'", https, pem("other-ca.pem")), 1);
	ck_assert_str_eq(ran.out, "");
	ck_assert_ptr_nonnull(strstr(ran.err, "certificate"));
	/* The system's store knows nothing of the test CA either. */
	ck_assert_int_eq(bundlectl("admin health --server %s", https), 1);
	ck_assert_ptr_nonnull(strstr(ran.err, "certificate"));
	/* curl: 60 is "peer certificate cannot be authenticated with given CA certificates". */
	ck_assert_int_eq(curl("-sS --cacert '%s' %s/checkpoint", pem("other-ca.pem"), https), 60);
	ck_assert_str_eq(ran.out, "");
}
END_TEST

START_TEST(plain_http_to_the_https_port)
{
	ck_assert_int_eq(curl("-sS http://127.0.0.1:%u/checkpoint -w '\\n%%{http_code}'", d.port), 0);
	ck_assert_ptr_nonnull(strstr(ran.out, "use an https:// URL"));
	ck_assert_ptr_nonnull(strstr(ran.out, "\n400"));
	/* The daemon still serves https afterwards. */
	ck_assert_int_eq(bundlectl("admin health --server %s --cacert '%s'", https, pem("ca.pem")), 0);
}
END_TEST

START_TEST(operator_client_certificate_is_recognised)
{
	static const char line[] = "msg=\"operator client certificate\" peer=127.0.0.1 subject=\"/CN=operator\"";

	/* Without a certificate: served (reads are anonymous), not the operator. */
	ck_assert_int_eq(curl("-sS --fail --cacert '%s' %s/checkpoint", pem("ca.pem"), https), 0);
	ck_assert_uint_eq(log_count(line), 0);
	ck_assert_int_eq(curl("-sS --fail --cacert '%s' --cert '%s' --key '%s' %s/checkpoint", pem("ca.pem"),
				 pem("client.pem"), pem("client.key"), https),
		0);
	ck_assert_uint_eq(log_count(line), 1);
	ck_assert_uint_eq(log_count("subject=\"/CN=operator\" target=\"/checkpoint\""), 1);
	ck_assert_int_eq(bundlectl("admin health --server %s --cacert '%s' --client-cert '%s' --client-key '%s'", https,
				 pem("ca.pem"), pem("client.pem"), pem("client.key")),
		0);
	ck_assert_uint_eq(log_count(line), 2);
	ck_assert_uint_eq(log_count("subject=\"/CN=operator\" target=\"/healthz\""), 1);
	/* The same subject from another CA does not get through the handshake. */
	ck_assert_int_ne(curl("-sS --cacert '%s' --cert '%s' --key '%s' %s/checkpoint", pem("ca.pem"),
				 pem("other-client.pem"), pem("other-client.key"), https),
		0);
	ck_assert_uint_eq(log_count(line), 2);
	/* A certificate without its key is a usage error before anything is sent. */
	ck_assert_int_eq(bundlectl("admin health --server %s --client-cert '%s'", https, pem("client.pem")), 2);
}
END_TEST

/* The operator role by certificate: a registration without a token is refused, and
 * accepted over a connection that presented the operator's client certificate. */
START_TEST(operator_client_certificate_registers_a_domain)
{
	char body[1024], vkey[512], file[1024], answer[1024];
	size_t n;

	/* Copies: tu_path_in's buffers are reused by the calls below. */
	snprintf(file, sizeof(file), "%s", tu_path_in(dir, "register.json"));
	snprintf(answer, sizeof(answer), "%s", tu_path_in(dir, "answer.json"));
	ck_assert_int_eq(bundlectl("keygen --name pub.tls.example --out '%s'", tu_path_in(dir, "pub.key")), 0);
	n = strcspn(ran.out, "\n");
	ck_assert_uint_lt(n, sizeof(vkey));
	memcpy(vkey, ran.out, n);
	vkey[n] = '\0';
	n = (size_t)snprintf(body, sizeof(body), "{\"domain\":\"tls.example\",\"publisher_keys\":[\"%s\"]}", vkey);
	ck_assert_int_eq(tu_write_file(file, body, n), 0);
	ck_assert_int_eq(curl("-s -o /dev/null -w '%%{http_code}' --cacert '%s' -H 'Content-Type: application/json' "
			      "--data-binary @'%s' %s/v1/domains", pem("ca.pem"), file, https), 0);
	ck_assert_str_eq(ran.out, "401");
	ck_assert_int_eq(curl("-s -o '%s' -w '%%{http_code}' --cacert '%s' --cert '%s' --key '%s' "
			      "-H 'Content-Type: application/json' --data-binary @'%s' %s/v1/domains",
				 answer, pem("ca.pem"), pem("client.pem"), pem("client.key"), file, https), 0);
	ck_assert_msg(strcmp(ran.out, "201") == 0, "%s: %s", ran.out, (char *)tu_read_file(answer, &n));
}
END_TEST

START_TEST(unusable_tls_settings_stop_the_start)
{
	const char *no_key[] = { "--tls-cert", pem("server.pem"), NULL };
	const char *wrong_key[] = { "--tls-cert", pem("server.pem"), "--tls-key", pem("other.key"), NULL };
	const char *ca_alone[] = { "--tls-client-ca", pem("ca.pem"), NULL };
	const char *missing[] = { "--tls-cert", pem("missing.pem"), "--tls-key", pem("server.key"), NULL };
	const char *const *bad[] = { no_key, wrong_key, ca_alone, missing };
	struct tu_daemon other;

	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	d.pid = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(tu_daemon_start(&other, tu_path_in(dir, "data"), bad[i]) != 0, "started with %s %s",
			bad[i][0], bad[i][1]);
	/* The last one's log names the file. */
	{
		size_t len;
		char *text = (char *)tu_read_file(other.log_path, &len);

		ck_assert_ptr_nonnull(text);
		ck_assert_ptr_nonnull(strstr(text, "missing.pem"));
		free(text);
	}
}
END_TEST

/* Whether the file at `path` holds exactly want[0..len). */
static bool file_is(const char *path, const uint8_t *want, size_t len)
{
	size_t got_len;
	uint8_t *got = tu_read_file(path, &got_len);
	bool same = got != NULL && got_len == len && memcmp(got, want, len) == 0;

	free(got);
	return same;
}

START_TEST(entry_bundles_over_https_are_the_logs_bytes)
{
	static char texts[256][48];
	static uint8_t bundle[256 * 50];
	const void *entries[256];
	size_t lens[256], len = 0;
	char out[1024], head[1024];

	for (size_t i = 0; i < 256; i++) {
		snprintf(texts[i], sizeof(texts[i]), "entry %zu of the bundle sent over TLS\n", i);
		entries[i] = texts[i];
		lens[i] = strlen(texts[i]);
		bundle[len++] = (uint8_t)(lens[i] >> 8);
		bundle[len++] = (uint8_t)lens[i];
		memcpy(bundle + len, texts[i], lens[i]);
		len += lens[i];
	}
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	tu_daemon_prepare(tu_path_in(dir, "bundles"), "tls.test/log", entries, lens, 256, 0, NULL);
	start_tls_on("bundles");
	snprintf(out, sizeof(out), "%s", tu_path_in(dir, "bundle.out"));
	snprintf(head, sizeof(head), "%s", tu_path_in(dir, "bundle.head"));
	/* The first answer reads the log and keeps the bundle, the second comes from memory. */
	for (int round = 0; round < 2; round++) {
		ck_assert_int_eq(curl("-sS --fail --cacert '%s' -o '%s' %s/tile/entries/000", pem("ca.pem"), out, https), 0);
		ck_assert_msg(file_is(out, bundle, len), "round %d: identity bundle differs", round);
		ck_assert_int_eq(curl("-sS --fail --compressed --cacert '%s' -D '%s' -o '%s' %s/tile/entries/000",
					 pem("ca.pem"), head, out, https),
			0);
		ck_assert_uint_eq(tu_file_count(head, "Content-Encoding: gzip"), 1);
		ck_assert_msg(file_is(out, bundle, len), "round %d: gzip'ed bundle differs once decoded", round);
	}
}
END_TEST

START_TEST(raw_blocks_over_https_are_their_bytes)
{
	enum { BLOCK_BYTES = 100 * 1024 }; /* over the size from which plain HTTP uses sendfile */
	static uint8_t block[BLOCK_BYTES];
	const char *entry = "an entry beside the block\n";
	size_t entry_len = strlen(entry);
	const void *entries[] = { entry };
	char out[1024], root[BD_CID_TEXT_MAX];
	bd_chunker one_leaf;
	bd_dag *dag;

	for (size_t i = 0; i < BLOCK_BYTES; i++)
		block[i] = (uint8_t)(i * 31 + i / 251);
	ck_assert_int_eq(bd_chunker_parse(&one_leaf, "size-262144"), 0);
	ck_assert_int_eq(bd_dag_build(&dag, block, BLOCK_BYTES, &one_leaf), 0);
	ck_assert_uint_eq(bd_dag_count(dag), 1);
	ck_assert_int_eq(bd_cid_format(root, sizeof(root), bd_dag_root(dag)), 0);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	tu_daemon_prepare(tu_path_in(dir, "blocks"), "tls.test/log", entries, &entry_len, 1, 0, dag);
	bd_dag_free(dag);
	start_tls_on("blocks");
	snprintf(out, sizeof(out), "%s", tu_path_in(dir, "block.out"));
	/* The first answer reads the store and keeps the block, the second comes from memory. */
	for (int round = 0; round < 2; round++) {
		ck_assert_int_eq(curl("-sS --fail --cacert '%s' -o '%s' '%s/ipfs/%s?format=raw'", pem("ca.pem"), out, https,
					 root),
			0);
		ck_assert_msg(file_is(out, block, BLOCK_BYTES), "round %d: the block differs", round);
	}
}
END_TEST

Suite *suite_daemon_tls(void)
{
	Suite *s = suite_create("daemon_tls");
	TCase *tc = tcase_create("tls");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, checkpoint_over_https_with_cacert);
	tcase_add_test(tc, a_client_that_trusts_another_ca_is_refused);
	tcase_add_test(tc, plain_http_to_the_https_port);
	tcase_add_test(tc, operator_client_certificate_is_recognised);
	tcase_add_test(tc, operator_client_certificate_registers_a_domain);
	tcase_add_test(tc, unusable_tls_settings_stop_the_start);
	tcase_add_test(tc, entry_bundles_over_https_are_the_logs_bytes);
	tcase_add_test(tc, raw_blocks_over_https_are_their_bytes);
	suite_add_tcase(s, tc);
	return s;
}
