/*
 * Runs the built bundlectl (canonical and cid) as a user would, and checks exit codes
 * (0 valid, 1 invalid, 2 usage/I-O), the bytes on stdout against the library's writers, and
 * the one-line reason on stderr.
 *
 * The binary is tu_bin_path("bundlectl"): build/bin/bundlectl beside build/tests/run-tests,
 * build/san/bin/bundlectl in sanitizer runs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/bundle.h"
#include "bundled/chunker.h"
#include "bundled/cid.h"
#include "bundled/dag.h"
#include "testbundle.h"
#include "testdaemon.h"
#include "testrun.h"
#include "testutil.h"

#define VB "tests/vectors/bundle/"
#define EMPTY_CID "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
#define HELLO_CID "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"

static char *dir;
static struct tu_output ran; /* the last run's output */

static void setup(void)
{
	dir = tu_mkdtemp();
	ck_assert_ptr_nonnull(dir);
	tu_output_free(&ran);
}

static void teardown(void)
{
	tu_output_free(&ran);
	tu_rm_rf(dir);
	free(dir);
}

/* A path in the temp dir; a few calls may share one argument list. */
static const char *tmp(const char *name)
{
	return tu_path_in(dir, name);
}

/* Runs "bundlectl <args>" (shell text, from the source root) into `ran`; returns its exit status. */
#define run(...) tu_run(&ran, dir, "bundlectl", __VA_ARGS__)

static void write_tmp(const char *name, const void *data, size_t len)
{
	ck_assert_int_eq(tu_write_file(tmp(name), data, len), 0);
}

/* Bytes of the 64-bit LCG the CID vectors use (tests/vectors/cid/dag.json, "lcg"). */
static uint8_t *lcg_bytes(uint64_t seed, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);
	uint64_t x = seed;

	ck_assert_ptr_nonnull(d);
	for (size_t i = 0; i < len; i++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		d[i] = (uint8_t)(x >> 56);
	}
	return d;
}

enum writer { W_CANONICAL, W_PEM, W_DER, W_JWKS };

/* What the library writes for a vector file, with an optional sequence / refresh hint. */
static void library_output(tl_buf *out, const char *vector, enum writer w, const uint64_t *seq, const uint64_t *hint)
{
	size_t len;
	uint8_t *data = tu_read_file(tu_source_path(vector), &len);
	bd_bundle *b = NULL;
	int err;

	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(bd_bundle_parse(&b, data, len, 0, NULL), 0);
	if (seq)
		bd_bundle_set_sequence(b, *seq);
	if (hint)
		ck_assert_int_eq(bd_bundle_set_refresh_hint(b, *hint), 0);
	switch (w) {
	case W_CANONICAL:
		err = bd_bundle_write_canonical(out, b);
		break;
	case W_PEM:
		err = bd_bundle_write_pem(out, b);
		break;
	case W_DER:
		err = bd_bundle_write_der(out, b);
		break;
	default:
		err = bd_bundle_write_jwks(out, b);
		break;
	}
	ck_assert_int_eq(err, 0);
	ck_assert_uint_gt(out->len, 0);
	bd_bundle_free(b);
	free(data);
}

static void assert_stdout_is(const tl_buf *want)
{
	ck_assert_uint_eq(ran.out_len, want->len);
	ck_assert_int_eq(memcmp(ran.out, want->data, want->len), 0);
}

/* The root CID text the library gives for `data` under `spec`. */
static void library_cid(char *text, size_t cap, const uint8_t *data, size_t len, const char *spec)
{
	bd_dag *dag = tu_dag_build(data, len, spec);

	ck_assert_int_eq(bd_cid_format(text, cap, bd_dag_root(dag)), 0);
	bd_dag_free(dag);
}

START_TEST(help_and_usage)
{
	const char *cmds[] = { "canonical", "cid" };

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		ck_assert_int_eq(run("%s --help", cmds[i]), 0);
		ck_assert_ptr_nonnull(strstr(ran.out, "usage: bundlectl"));
		ck_assert_ptr_nonnull(strstr(ran.out, "exit status"));
		ck_assert_str_eq(ran.err, "");
		ck_assert_int_eq(run("%s -h", cmds[i]), 0);
		/* No FILE, an unknown option, two files. */
		ck_assert_int_eq(run("%s", cmds[i]), 2);
		ck_assert_ptr_nonnull(strstr(ran.err, "usage: bundlectl"));
		ck_assert_int_eq(run("%s --bogus " VB "valid.json", cmds[i]), 2);
		ck_assert_int_eq(run("%s " VB "valid.json " VB "bundle.pem", cmds[i]), 2);
		ck_assert_uint_eq(ran.out_len, 0);
	}
}
END_TEST

START_TEST(canonical_spiffe_json)
{
	tl_buf want = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	tl_buf again = tl_buf_make(BD_MAX_BUNDLE_SIZE);

	library_output(&want, VB "valid.json", W_CANONICAL, NULL, NULL);
	ck_assert_int_eq(run("canonical " VB "valid.json"), 0);
	assert_stdout_is(&want);
	ck_assert_ptr_nonnull(strstr(ran.out, "\"spiffe_refresh_hint\":300,\"spiffe_sequence\":42}\n"));
	/* valid.json holds an expired CA: kept, and reported as a warning (one line). */
	ck_assert_ptr_nonnull(strstr(ran.err, "bundlectl canonical: warning: "));
	ck_assert_ptr_nonnull(strstr(ran.err, "expired"));
	ck_assert_ptr_eq(strchr(ran.err, '\n'), ran.err + strlen(ran.err) - 1);
	/* The canonical bytes read back to themselves, also from stdin and with --format spiffe. */
	write_tmp("canon.json", ran.out, ran.out_len);
	ck_assert_int_eq(tl_buf_append(&again, ran.out, ran.out_len), 0);
	ck_assert_int_eq(run("canonical --format spiffe - < '%s'", tmp("canon.json")), 0);
	assert_stdout_is(&again);
	ck_assert_int_eq(run("canonical -- '%s'", tmp("canon.json")), 0);
	assert_stdout_is(&again);
	tl_buf_free(&want);
	tl_buf_free(&again);
}
END_TEST

START_TEST(canonical_pem)
{
	tl_buf want = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	uint64_t seq = 18446744073709551615u, hint = 3600;

	library_output(&want, VB "bundle.pem", W_CANONICAL, NULL, NULL);
	ck_assert_int_eq(run("canonical " VB "bundle.pem"), 0);
	assert_stdout_is(&want);
	ck_assert_str_eq(ran.err, "");
	/* PEM has no sequence or hint: the options set them. */
	ck_assert_ptr_nonnull(strstr(ran.out, "\n]}\n"));
	tl_buf_reset(&want);
	library_output(&want, VB "bundle.pem", W_CANONICAL, &seq, &hint);
	ck_assert_int_eq(run("canonical --sequence 18446744073709551615 --refresh-hint 3600 " VB "bundle.pem"), 0);
	assert_stdout_is(&want);
	ck_assert_ptr_nonnull(strstr(ran.out, "],\"spiffe_refresh_hint\":3600,\"spiffe_sequence\":18446744073709551615}\n"));
	/* ... and replace the input's. */
	seq = 7;
	tl_buf_reset(&want);
	library_output(&want, VB "valid.json", W_CANONICAL, &seq, NULL);
	ck_assert_int_eq(run("canonical --sequence 7 " VB "valid.json"), 0);
	assert_stdout_is(&want);
	/* Out of range or malformed values are usage errors. */
	ck_assert_int_eq(run("canonical --sequence 18446744073709551616 " VB "bundle.pem"), 2);
	ck_assert_int_eq(run("canonical --sequence -1 " VB "bundle.pem"), 2);
	ck_assert_int_eq(run("canonical --refresh-hint 2147483648 " VB "bundle.pem"), 2);
	ck_assert_int_eq(run("canonical --refresh-hint 1e3 " VB "bundle.pem"), 2);
	ck_assert_int_eq(run("canonical " VB "bundle.pem --sequence"), 2);
	ck_assert_uint_eq(ran.out_len, 0);
	tl_buf_free(&want);
}
END_TEST

START_TEST(canonical_formats)
{
	static const struct {
		const char *name;
		enum writer w;
	} formats[] = { { "spiffe", W_CANONICAL }, { "pem", W_PEM }, { "der", W_DER }, { "jwks", W_JWKS } };
	const char *inputs[] = { VB "valid.json", VB "bundle.pem" };

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
			tl_buf want = tl_buf_make(BD_MAX_BUNDLE_SIZE);

			/* bundle.pem has no JWT keys: its JWKS is an empty key list. */
			library_output(&want, inputs[i], formats[f].w, NULL, NULL);
			ck_assert_int_eq(run("canonical --format %s %s", formats[f].name, inputs[i]), 0);
			assert_stdout_is(&want);
			tl_buf_free(&want);
		}
	/* The PEM and DER writers' output reads back to the same canonical bundle (X.509 only). */
	ck_assert_int_eq(run("canonical --format pem " VB "bundle.pem"), 0);
	write_tmp("out.pem", ran.out, ran.out_len);
	{
		tl_buf want = tl_buf_make(BD_MAX_BUNDLE_SIZE);

		library_output(&want, VB "bundle.pem", W_CANONICAL, NULL, NULL);
		ck_assert_int_eq(run("canonical '%s'", tmp("out.pem")), 0);
		assert_stdout_is(&want);
		tl_buf_free(&want);
	}
	ck_assert_int_eq(run("canonical --format xml " VB "valid.json"), 2);
	ck_assert_ptr_nonnull(strstr(ran.err, "--format"));
	ck_assert_int_eq(run("canonical --format " VB "valid.json"), 2);
	ck_assert_uint_eq(ran.out_len, 0);
}
END_TEST

START_TEST(canonical_invalid)
{
	static const char key_pem[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";

	tu_assert_invalid(&ran, run("canonical " VB "leaf.json"), VB "leaf.json: keys[0] (x509-svid): x5c[0]: certificate is not a CA");
	tu_assert_invalid(&ran, run("canonical " VB "mismatch.json"), VB "mismatch.json: keys[0] (x509-svid): the JWK's key is not");
	tu_assert_invalid(&ran, run("canonical " VB "leaf.pem"), "PEM block 1");
	write_tmp("key.pem", key_pem, sizeof(key_pem) - 1);
	tu_assert_invalid(&ran, run("canonical '%s'", tmp("key.pem")), "PEM block 1 (line 1): \"PRIVATE KEY\" block");
	write_tmp("nokeys.json", "{}", 2);
	tu_assert_invalid(&ran, run("canonical --format pem '%s'", tmp("nokeys.json")), "bundle has no \"keys\" member");
	tu_assert_invalid(&ran, run("canonical - < '%s'", tmp("nokeys.json")), "-: bundle has no \"keys\" member");
	write_tmp("text.pem", "hello\n", 6);
	tu_assert_invalid(&ran, run("canonical '%s'", tmp("text.pem")), "no PEM blocks found");
	/* Issue 8: the JSON parser quotes the bad bytes ("invalid escape near '"\<CR><LF>'"); they
	 * reached stderr raw, and the LF split the one-line message in two. Now escaped, as is
	 * every message bundlectl prints, a file name with a newline included. */
	{
		static const char crlf[] = "{\"keys\":[\"\\\r\n\"]}";
		static const char cr_pem[] = "-----BEGIN PRIV\rATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";

		write_tmp("crlf.json", crlf, sizeof(crlf) - 1);
		tu_assert_invalid(&ran, run("canonical '%s'", tmp("crlf.json")), "invalid escape near '\"\\\\x0d'");
		ck_assert_ptr_null(strchr(ran.err, '\r'));
		write_tmp("cr.pem", cr_pem, sizeof(cr_pem) - 1);
		tu_assert_invalid(&ran, run("canonical '%s'", tmp("cr.pem")), "\"PRIV\\x0dATE KEY\" block");
		ck_assert_int_eq(run("canonical '%s'", tmp("no\nsuch\rfile")), 2);
		ck_assert_str_eq(ran.err + strlen(ran.err) - strlen("no\\x0asuch\\x0dfile: No such file or directory\n"),
			"no\\x0asuch\\x0dfile: No such file or directory\n");
		ck_assert_ptr_eq(strchr(ran.err, '\n'), ran.err + strlen(ran.err) - 1);
	}
	/* Issue 8: an empty or white-space-only file is not an empty bundle unless asked for
	 * (--allow-empty): a 0-byte download must not become a bundle that trusts nothing. */
	write_tmp("empty.pem", "", 0);
	write_tmp("blank.pem", " \r\n\n\t\n", 6);
	tu_assert_invalid(&ran, run("canonical '%s'", tmp("empty.pem")), "the input is empty: refused as a bundle that trusts nothing");
	tu_assert_invalid(&ran, run("canonical - < '%s'", tmp("blank.pem")), "-: the input is only white space");
	tu_assert_invalid(&ran, run("canonical --format pem '%s'", tmp("blank.pem")), "only white space");
	ck_assert_int_eq(run("canonical --allow-empty '%s'", tmp("empty.pem")), 0);
	ck_assert_str_eq(ran.out, "{\"keys\":[\n]}\n");
	ck_assert_int_eq(run("canonical --allow-empty --format pem '%s'", tmp("blank.pem")), 0);
	ck_assert_uint_eq(ran.out_len, 0);
	ck_assert_str_eq(ran.err, "");
	/* A missing or unreadable file is an I/O error, not an invalid bundle. */
	ck_assert_int_eq(run("canonical '%s'", tmp("missing.json")), 2);
	ck_assert_ptr_nonnull(strstr(ran.err, "missing.json"));
	ck_assert_uint_eq(ran.out_len, 0);
	ck_assert_int_eq(run("canonical '%s'", dir), 2);
	ck_assert_uint_eq(ran.out_len, 0);
}
END_TEST

START_TEST(cid_known_answers)
{
	uint8_t *data = lcg_bytes(1, 174 * 1024);

	write_tmp("empty", "", 0);
	ck_assert_int_eq(run("cid '%s'", tmp("empty")), 0);
	ck_assert_str_eq(ran.out, EMPTY_CID "\n");
	ck_assert_str_eq(ran.err, "");
	ck_assert_int_eq(run("cid --chunker size-262144 - < '%s'", tmp("empty")), 0);
	ck_assert_str_eq(ran.out, EMPTY_CID "\n");
	write_tmp("hello", "hello world", 11);
	ck_assert_int_eq(run("cid '%s'", tmp("hello")), 0);
	ck_assert_str_eq(ran.out, HELLO_CID "\n");
	ck_assert_int_eq(run("cid --chunker=size-1024 '%s'", tmp("hello")), 0);
	ck_assert_str_eq(ran.out, HELLO_CID "\n");
	ck_assert_int_eq(run("cid --blocks '%s'", tmp("hello")), 0);
	ck_assert_str_eq(ran.out, HELLO_CID " 11\n");
	/* A DAG of 174 leaves, root from ipfs-unixfs-importer (tests/vectors/cid/dag.json,
	 * "174 leaves: one node"): the CLI matches Kubo, not only the library. */
	write_tmp("lcg1", data, 174 * 1024);
	ck_assert_int_eq(run("cid --chunker size-1024 '%s'", tmp("lcg1")), 0);
	ck_assert_str_eq(ran.out, "bafybeihltf4heakiftxundh3i25y3gwzefopd3yiozwzlsuntpfousixqa\n");
	free(data);
}
END_TEST

START_TEST(cid_fixed_size_leaves)
{
	uint8_t *data = lcg_bytes(42, 2500);
	char want[BD_CID_TEXT_MAX], line[4][BD_CID_TEXT_MAX + 32];
	size_t sizes[3] = { 1024, 1024, 452 };
	char *p;

	write_tmp("2500", data, 2500);
	library_cid(want, sizeof(want), data, 2500, "size-1024");
	ck_assert_int_eq(run("cid --chunker size-1024 '%s'", tmp("2500")), 0);
	ck_assert_uint_eq(ran.out_len, strlen(want) + 1);
	ck_assert_int_eq(strncmp(ran.out, want, strlen(want)), 0);
	ck_assert_str_eq(ran.out + strlen(want), "\n");
	ck_assert_int_eq(strncmp(want, "bafybei", 7), 0);
	/* Three raw leaves of 1024, 1024 and 452 bytes, then the 151-byte dag-pb root. */
	ck_assert_int_eq(run("cid --chunker size-1024 --blocks '%s'", tmp("2500")), 0);
	p = ran.out;
	for (size_t i = 0; i < 4; i++) {
		char *nl = strchr(p, '\n');

		ck_assert_ptr_nonnull(nl);
		snprintf(line[i], sizeof(line[i]), "%.*s", (int)(nl - p), p);
		p = nl + 1;
	}
	ck_assert_str_eq(p, "");
	for (size_t i = 0, off = 0; i < 3; off += sizes[i], i++) {
		bd_cid leaf;
		char text[BD_CID_TEXT_MAX], expect[BD_CID_TEXT_MAX + 32];

		bd_cid_of(&leaf, BD_CODEC_RAW, data + off, sizes[i]);
		ck_assert_int_eq(bd_cid_format(text, sizeof(text), &leaf), 0);
		snprintf(expect, sizeof(expect), "%s %zu", text, sizes[i]);
		ck_assert_str_eq(line[i], expect);
	}
	{
		char expect[BD_CID_TEXT_MAX + 32];

		snprintf(expect, sizeof(expect), "%s 151", want);
		ck_assert_str_eq(line[3], expect);
	}
	/* Without --chunker the rule is "lines", whose leaves differ. */
	library_cid(want, sizeof(want), data, 2500, "lines");
	ck_assert_int_eq(run("cid '%s'", tmp("2500")), 0);
	ck_assert_uint_eq(ran.out_len, strlen(want) + 1);
	ck_assert_int_eq(strncmp(ran.out, want, strlen(want)), 0);
	ck_assert_str_ne(line[3], want);
	free(data);
}
END_TEST

START_TEST(cid_of_a_canonical_bundle)
{
	tl_buf canon = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	char want[BD_CID_TEXT_MAX + 1];

	/* The publishing pipeline through the CLI: canonical, then cid with the default rule. */
	library_output(&canon, VB "valid.json", W_CANONICAL, NULL, NULL);
	library_cid(want, sizeof(want) - 1, canon.data, canon.len, "lines");
	strcat(want, "\n");
	ck_assert_int_eq(run("canonical " VB "valid.json 2>/dev/null | '%s' cid -", tu_bin_path("bundlectl")), 0);
	ck_assert_str_eq(ran.out, want);
	ck_assert_int_eq(run("canonical " VB "valid.json 2>/dev/null | '%s' cid --chunker lines -", tu_bin_path("bundlectl")), 0);
	ck_assert_str_eq(ran.out, want);
	tl_buf_free(&canon);
}
END_TEST

START_TEST(cid_usage_errors)
{
	const char *bad[] = { "size-0", "size-1048577", "size-01", "size-", "size-1k", "rabin", "buzhash", "LINES", "''" };

	write_tmp("hello", "hello world", 11);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(run("cid --chunker %s '%s'", bad[i], tmp("hello")) == 2, "chunker %s accepted", bad[i]);
		ck_assert_ptr_nonnull(strstr(ran.err, "bundlectl cid: "));
		ck_assert_uint_eq(ran.out_len, 0);
	}
	ck_assert_int_eq(run("cid --chunker size-1048576 '%s'", tmp("hello")), 0);
	ck_assert_str_eq(ran.out, HELLO_CID "\n");
	ck_assert_int_eq(run("cid '%s' --chunker", tmp("hello")), 2);
	ck_assert_int_eq(run("cid '%s'", tmp("missing")), 2);
	ck_assert_ptr_nonnull(strstr(ran.err, "missing"));
	ck_assert_uint_eq(ran.out_len, 0);
}
END_TEST

Suite *suite_cli_bundle(void)
{
	Suite *s = suite_create("cli_bundle");
	TCase *tc = tcase_create("cli_bundle");

	/* Each case starts bundlectl up to a few dozen times; under ASan a start takes ~0.1-0.3 s. */
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, help_and_usage);
	tcase_add_test(tc, canonical_spiffe_json);
	tcase_add_test(tc, canonical_pem);
	tcase_add_test(tc, canonical_formats);
	tcase_add_test(tc, canonical_invalid);
	tcase_add_test(tc, cid_known_answers);
	tcase_add_test(tc, cid_fixed_size_leaves);
	tcase_add_test(tc, cid_of_a_canonical_bundle);
	tcase_add_test(tc, cid_usage_errors);
	suite_add_tcase(s, tc);
	return s;
}
