/*
 * The PEM and DER readers: certifi-style files, every rejection rule with its block and
 * line, line endings, and the 37 real certifi versions (when the research data is present):
 * each canonicalises, reads back to the same bytes, and survives PEM and DER round trips.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/bundle.h"
#include "testbundle.h"
#include "testutil.h"

static char *vector(const char *name)
{
	return (char *)tu_bundle_vector(name, NULL);
}
/* Concatenation of strings into a fresh buffer (NULL-terminated list). */
static char *concat(const char *first, ...)
{
	va_list ap;
	size_t n = 0;
	char *out;
	const char *s;

	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *))
		n += strlen(s);
	va_end(ap);
	out = malloc(n + 1);
	out[0] = '\0';
	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *))
		strcat(out, s);
	va_end(ap);
	return out;
}

static char *canonical_of_pem(const char *pem)
{
	bd_bundle *b = NULL;
	char *c;

	ck_assert_msg(bd_bundle_parse_pem(&b, (const uint8_t *)pem, strlen(pem), 0, NULL) == 0, "%s", tl_error_message());
	c = tu_bundle_canonical(b);
	bd_bundle_free(b);
	return c;
}

static void expect_pem_error(const char *pem, const char *want)
{
	bd_bundle *b = NULL;
	int err = bd_bundle_parse_pem(&b, (const uint8_t *)pem, strlen(pem), 0, NULL);

	ck_assert_msg(err == TL_E_INPUT, "accepted, want \"%s\"", want);
	ck_assert_ptr_null(b);
	ck_assert_msg(strstr(tl_error_message(), want) != NULL, "got \"%s\", want \"%s\"", tl_error_message(), want);
}

/* s with every "\n" turned into "\r\n". */
static char *crlf(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *p = out;

	for (; *s; s++) {
		if (*s == '\n')
			*p++ = '\r';
		*p++ = *s;
	}
	*p = '\0';
	return out;
}

START_TEST(certifi_style_file)
{
	char *pem = vector("bundle.pem");
	bd_bundle_report report = { 0 };
	bd_bundle *b = NULL;
	uint64_t v;

	ck_assert_int_eq(bd_bundle_parse(&b, (const uint8_t *)pem, strlen(pem), 0, &report), 0);
	ck_assert_int_eq(report.format, BD_FORMAT_PEM);
	ck_assert_uint_eq(report.n_warnings, 0);
	ck_assert_uint_eq(bd_bundle_count(b), 3);
	ck_assert(!bd_bundle_sequence(&v, b));
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(bd_authority_get_kind(bd_bundle_at(b, i)), BD_AUTHORITY_X509);
	bd_bundle_report_free(&report);
	bd_bundle_free(b);
	free(pem);
}
END_TEST

START_TEST(line_endings_and_text)
{
	char *p256 = vector("ca-p256.pem"), *rsa = vector("ca-rsa.pem");
	char *plain = concat(p256, rsa, NULL);
	char *want = canonical_of_pem(plain);
	char *variants[5], *got;

	variants[0] = crlf(plain);
	variants[1] = concat("# comment\n\n  indented text\n", p256, "\nLabel: \"x\"\n", rsa, "\n# trailer", NULL);
	variants[2] = strdup(plain);
	variants[2][strlen(variants[2]) - 1] = '\0'; /* no final newline */
	variants[3] = concat(rsa, p256, NULL);        /* order does not matter */
	variants[4] = concat(p256, "   \t\n", rsa, NULL);
	for (size_t i = 0; i < 5; i++) {
		got = canonical_of_pem(variants[i]);
		ck_assert_msg(strcmp(got, want) == 0, "variant %zu differs", i);
		free(got);
		free(variants[i]);
	}
	/* Trailing blanks after a base64 line or marker are tolerated. */
	{
		char *sp = strdup(p256), *nl = strchr(sp, '\n');
		char *spaced;

		*nl = '\0';
		spaced = concat(sp, "  \n", nl + 1, NULL);
		got = canonical_of_pem(spaced);
		free(got);
		free(spaced);
		free(sp);
	}
	free(want);
	free(plain);
	free(p256);
	free(rsa);
}
END_TEST

START_TEST(empty_and_blank_inputs)
{
	static const char *const blank[] = { "", "\n", "  \n\t\r\n" };
	bd_bundle *b = NULL;

	/* Issue 8: refused by default (go-spiffe too refuses blanks: "no PEM blocks found"); an
	 * empty bundle only when asked for. */
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(bd_bundle_parse_pem(&b, (const uint8_t *)blank[i], strlen(blank[i]), 0, NULL), TL_E_INPUT);
		ck_assert_ptr_null(b);
		ck_assert_ptr_nonnull(strstr(tl_error_message(), "refused as a bundle that trusts nothing"));
		ck_assert_int_eq(bd_bundle_parse_pem(&b, (const uint8_t *)blank[i], strlen(blank[i]), BD_PARSE_ALLOW_EMPTY, NULL),
			0);
		ck_assert_uint_eq(bd_bundle_count(b), 0);
		bd_bundle_free(b);
	}
	expect_pem_error("Not PEM encoded file\n", "no PEM blocks found");
	expect_pem_error("# only comments", "no PEM blocks found");
}
END_TEST

START_TEST(rejections)
{
	char *p256 = vector("ca-p256.pem"), *rsa = vector("ca-rsa.pem"), *leaf = vector("leaf.pem");
	char *body = strchr(p256, '\n') + 1; /* base64 lines and END line */
	char *s, want[128];
	size_t lines = 0;

	for (const char *p = p256; *p; p++)
		lines += *p == '\n';

	/* The block number counts every block, certificates or not. */
	s = concat(p256, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", NULL);
	snprintf(want, sizeof(want), "PEM block 2 (line %zu): \"PRIVATE KEY\" block, only CERTIFICATE blocks are allowed",
		lines + 1);
	expect_pem_error(s, want);
	free(s);
	s = concat("-----BEGIN TRUSTED CERTIFICATE-----\n", body, NULL);
	expect_pem_error(s, "PEM block 1 (line 1): \"TRUSTED CERTIFICATE\" block");
	free(s);
	s = concat("-----BEGIN CERTIFICATE----- x\n", body, NULL);
	expect_pem_error(s, "PEM block 1 (line 1): \"CERTIFICATE----- x\" block");
	free(s);
	/* The label is quoted printable: control and non-ASCII bytes as \xNN. */
	s = concat("-----BEGIN CERT\x01\xc3\xa9-----\n", body, NULL);
	expect_pem_error(s, "PEM block 1 (line 1): \"CERT\\x01\\xc3\\xa9\" block");
	free(s);
	s = concat(p256, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----\n", NULL);
	snprintf(want, sizeof(want), "PEM block 2 (line %zu): END line does not match BEGIN CERTIFICATE", lines + 3);
	expect_pem_error(s, want);
	free(s);
	s = concat(p256, "-----BEGIN CERTIFICATE-----\nAAAA\n", NULL);
	expect_pem_error(s, "PEM block 2: no END line");
	free(s);
	s = concat("text\n-----END CERTIFICATE-----\n", NULL);
	expect_pem_error(s, "line 2: END line outside a block");
	free(s);
	s = concat("-----BEGIN CERTIFICATE-----\n\n", body, NULL);
	expect_pem_error(s, "PEM block 1 (line 2): not a base64 line (blank)");
	free(s);
	s = concat("-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n", body, NULL);
	expect_pem_error(s, "PEM block 1 (line 2): not a base64 line (headers are not allowed)");
	free(s);
	s = concat("-----BEGIN CERTIFICATE-----\nMIIB*\n", body, NULL);
	expect_pem_error(s, "PEM block 1 (line 2): not a base64 line");
	free(s);
	s = concat("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", NULL);
	expect_pem_error(s, "PEM block 1: empty");
	free(s);
	s = concat("-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n", NULL);
	expect_pem_error(s, "PEM block 1: bad base64");
	free(s);
	s = concat("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", NULL);
	expect_pem_error(s, "PEM block 1: certificate does not parse");
	free(s);
	s = concat(rsa, leaf, NULL);
	expect_pem_error(s, "PEM block 2: certificate is not a CA");
	free(s);
	s = concat(p256, rsa, "# again\n", p256, NULL);
	expect_pem_error(s, "PEM block 3: the same certificate as PEM block 1");
	free(s);
	free(p256);
	free(rsa);
	free(leaf);
}
END_TEST

START_TEST(line_length_limit)
{
	size_t n = BD_MAX_PEM_LINE;
	char *s = malloc(n + 64);
	bd_bundle *b = NULL;

	/* A comment line of exactly the limit is fine (here the file has no block: rejected
	 * for that reason, not for the line); one byte more is not. */
	memset(s, '#', n);
	strcpy(s + n, "\r\n");
	expect_pem_error(s, "no PEM blocks found");
	memset(s, '#', n + 1);
	strcpy(s + n + 1, "\n");
	expect_pem_error(s, "line 1: longer than 4096 bytes");
	memset(s, '#', n + 40);
	s[n + 40] = '\0';
	expect_pem_error(s, "line 1: longer than 4096 bytes");
	ck_assert_ptr_null(b);
	free(s);
}
END_TEST

START_TEST(der_reader)
{
	char *pem = vector("bundle.pem");
	bd_bundle *b = NULL, *d = NULL;
	tl_buf der = tl_buf_make(1 << 20);
	char *c1, *c2;

	ck_assert_int_eq(bd_bundle_parse_pem(&b, (const uint8_t *)pem, strlen(pem), 0, NULL), 0);
	ck_assert_int_eq(bd_bundle_write_der(&der, b), 0);
	ck_assert_int_eq(bd_bundle_parse_der(&d, der.data, der.len, 0, NULL), 0);
	c1 = tu_bundle_canonical(b);
	c2 = tu_bundle_canonical(d);
	ck_assert_str_eq(c1, c2);
	bd_bundle_free(d);
	d = NULL;
	/* Truncated in the last certificate: named by number. */
	ck_assert_int_eq(bd_bundle_parse_der(&d, der.data, der.len - 1, 0, NULL), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "DER certificate 3"));
	ck_assert_int_eq(bd_bundle_parse_der(&d, (const uint8_t *)"\x30\x00", 2, 0, NULL), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "DER certificate 1"));
	ck_assert_int_eq(bd_bundle_parse_der(&d, (const uint8_t *)"\x04\x00", 2, 0, NULL), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "DER certificate 1 (offset 0): not a DER SEQUENCE"));
	ck_assert_int_eq(bd_bundle_parse_der(&d, (const uint8_t *)"\x30\x84\x00\x00\x00\x01\x00", 7, 0, NULL), TL_E_INPUT);
	ck_assert_ptr_null(d);
	ck_assert_int_eq(bd_bundle_parse_der(&d, der.data, 0, 0, NULL), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "the input is empty"));
	ck_assert_int_eq(bd_bundle_parse_der(&d, der.data, 0, BD_PARSE_ALLOW_EMPTY, NULL), 0);
	ck_assert_uint_eq(bd_bundle_count(d), 0);
	bd_bundle_free(d);
	free(c1);
	free(c2);
	tl_buf_free(&der);
	bd_bundle_free(b);
	free(pem);
}
END_TEST

/* ---- public data ---- */

START_TEST(gospiffe_x509_vectors)
{
	static const struct {
		const char *file;
		const char *want;
		size_t count;
	} cases[] = {
		{ "gospiffe_x509bundle_certs.pem", NULL, 2 },
		{ "gospiffe_x509bundle_empty.pem", "the input is empty", 0 }, /* go-spiffe: an empty bundle */
		{ "gospiffe_x509bundle_not-pem.pem", "no PEM blocks found", 0 },
		{ "gospiffe_x509bundle_corrupted.pem", "PEM block 1: 48 bytes after the certificate", 0 },
		{ "gospiffe_x509bundle_key.pem", "PEM block 1 (line 1): \"PRIVATE KEY\" block", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rel[256];
		const char *path;
		uint8_t *data;
		size_t len;
		bd_bundle *b = NULL;
		int err;

		snprintf(rel, sizeof(rel), "spiffe-vectors/x509-pem/%s", cases[i].file);
		if ((path = tu_research_path(rel)) == NULL)
			return;
		data = tu_read_file(path, &len);
		ck_assert_ptr_nonnull(data);
		err = bd_bundle_parse(&b, data, len, 0, NULL);
		if (cases[i].want) {
			ck_assert_msg(err == TL_E_INPUT, "%s accepted", cases[i].file);
			ck_assert_msg(strstr(tl_error_message(), cases[i].want), "%s: %s", cases[i].file, tl_error_message());
		} else {
			ck_assert_msg(err == 0, "%s: %s", cases[i].file, tl_error_message());
			ck_assert_uint_eq(bd_bundle_count(b), cases[i].count);
			/* v1 self-signed roots with 768-bit RSA keys: accepted like go-spiffe does. */
		}
		bd_bundle_free(b);
		free(data);
	}
}
END_TEST

static size_t count_blocks(const char *s)
{
	size_t n = 0;

	while ((s = strstr(s, "-----BEGIN CERTIFICATE-----")) != NULL) {
		n++;
		s++;
	}
	return n;
}

START_TEST(certifi_history)
{
	char rel[64];
	const char *path;
	bd_bundle_report report = { 0 };
	bd_bundle *b = NULL, *again = NULL, *from_pem = NULL;
	tl_buf pem = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	uint8_t *data;
	size_t len;
	char *c1, *c2, *c3;
	size_t left_out;
	static const char *const names[] = {
		"001-2019-03-09", "002-2019-06-16", "003-2019-09-11", "004-2019-11-28", "005-2020-04-05",
		"006-2020-06-20", "007-2020-11-08", "008-2020-12-05", "009-2021-05-30", "010-2021-10-08",
		"011-2022-05-18", "012-2022-06-15", "013-2022-09-14", "014-2022-09-24", "015-2022-12-07",
		"016-2023-05-07", "017-2023-07-22", "018-2023-11-17", "019-2024-02-01", "020-2024-06-01",
		"021-2024-07-03", "022-2024-08-29", "023-2024-12-14", "024-2025-01-30", "025-2025-04-25",
		"026-2025-06-14", "027-2025-07-08", "028-2025-07-13", "029-2025-08-02", "030-2025-10-05",
		"031-2025-11-11", "032-2026-01-03", "033-2026-02-24", "034-2026-04-22", "035-2026-05-20",
		"036-2026-06-17", "037-2026-07-21",
	};

	snprintf(rel, sizeof(rel), "cacert-history/%s.pem", names[_i]);
	if ((path = tu_research_path(rel)) == NULL)
		return;
	data = tu_read_file(path, &len);
	ck_assert_ptr_nonnull(data);
	/* The store carries certificates that Go (and so SPIRE) refuses, and so does bundled:
	 * EC-ACC's negative serial number, 2020-2022. They are left out, each with a warning;
	 * any other refusal fails. */
	ck_assert_msg(bd_bundle_parse(&b, data, len, BD_PARSE_SKIP_REFUSED, &report) == 0, "%s: %s", names[_i],
		tl_error_message());
	ck_assert_int_eq(report.format, BD_FORMAT_PEM);
	left_out = 0;
	for (size_t w = 0; w < report.n_warnings; w++) {
		if (strstr(report.warnings[w], "left out") == NULL)
			continue;
		ck_assert_msg(strstr(report.warnings[w], "negative serial number") != NULL, "%s: %s", names[_i],
			report.warnings[w]);
		left_out++;
	}
	ck_assert_uint_le(left_out, 1);
	ck_assert_uint_eq(bd_bundle_count(b) + left_out, count_blocks((const char *)data));
	c1 = tu_bundle_canonical(b);
	/* Canonical bytes read back to themselves. */
	ck_assert_int_eq(bd_bundle_parse(&again, (const uint8_t *)c1, strlen(c1), 0, NULL), 0);
	c2 = tu_bundle_canonical(again);
	ck_assert_str_eq(c1, c2);
	/* PEM -> canonical -> PEM -> canonical. */
	ck_assert_int_eq(bd_bundle_write_pem(&pem, again), 0);
	ck_assert_int_eq(bd_bundle_parse(&from_pem, pem.data, pem.len, 0, NULL), 0);
	c3 = tu_bundle_canonical(from_pem);
	ck_assert_str_eq(c1, c3);
	free(c1);
	free(c2);
	free(c3);
	tl_buf_free(&pem);
	bd_bundle_report_free(&report);
	bd_bundle_free(b);
	bd_bundle_free(again);
	bd_bundle_free(from_pem);
	free(data);
}
END_TEST

static bd_bundle *parse_research(const char *rel)
{
	const char *path = tu_research_path(rel);
	bd_bundle *b = NULL;
	uint8_t *d;
	size_t len;

	ck_assert_ptr_nonnull(path);
	d = tu_read_file(path, &len);
	ck_assert_ptr_nonnull(d);
	ck_assert_msg(bd_bundle_parse(&b, d, len, 0, NULL) == 0, "%s: %s", rel, tl_error_message());
	free(d);
	return b;
}

START_TEST(skip_refused_leaves_out_with_a_warning)
{
	size_t good_len, bad_len;
	uint8_t *good = tu_bundle_vector("ca-p256.pem", &good_len);
	uint8_t *bad = tu_read_file(tu_source_path("tests/vectors/interop/ca-negative-serial.pem"), &bad_len);
	tl_buf both = tl_buf_make(1u << 20);
	bd_bundle_report report = { 0 };
	bd_bundle *b = NULL;
	size_t left_out = 0;

	ck_assert_ptr_nonnull(bad);
	ck_assert_int_eq(tl_buf_append(&both, good, good_len), 0);
	ck_assert_int_eq(tl_buf_append(&both, bad, bad_len), 0);
	/* Strict by default: the whole file is refused, naming the block. */
	ck_assert_int_eq(bd_bundle_parse(&b, both.data, both.len, 0, NULL), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "PEM block 2"));
	ck_assert_ptr_null(b);
	/* Asked to: the refused certificate is left out, and the report says which and why. */
	ck_assert_int_eq(bd_bundle_parse(&b, both.data, both.len, BD_PARSE_SKIP_REFUSED, &report), 0);
	ck_assert_uint_eq(bd_bundle_count(b), 1);
	for (size_t i = 0; i < report.n_warnings; i++)
		if (strstr(report.warnings[i], "PEM block 2 left out: ") != NULL &&
		    strstr(report.warnings[i], "negative serial number") != NULL)
			left_out++;
	ck_assert_uint_eq(left_out, 1);
	bd_bundle_free(b);
	bd_bundle_report_free(&report);
	/* Malformed PEM is never skipped. */
	tl_buf_reset(&both);
	ck_assert_int_eq(tl_buf_append_str(&both, "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"), 0);
	ck_assert_int_eq(bd_bundle_parse(&b, both.data, both.len, BD_PARSE_SKIP_REFUSED, &report), TL_E_INPUT);
	bd_bundle_report_free(&report);
	tl_buf_free(&both);
	free(good);
	free(bad);
}
END_TEST

START_TEST(certifi_revert_pair)
{
	bd_bundle *b25, *b26, *b27;
	char *c25, *c26, *c27;
	size_t removed = 0;

	if (tu_research_path("cacert-history/025-2025-04-25.pem") == NULL)
		return;
	/* 025 and 027 are byte-identical; 026 removed one certificate in between. */
	b25 = parse_research("cacert-history/025-2025-04-25.pem");
	b26 = parse_research("cacert-history/026-2025-06-14.pem");
	b27 = parse_research("cacert-history/027-2025-07-08.pem");
	c25 = tu_bundle_canonical(b25);
	c27 = tu_bundle_canonical(b27);
	ck_assert_str_eq(c25, c27);
	free(c25);
	ck_assert_uint_eq(bd_bundle_count(b26) + 1, bd_bundle_count(b25));
	/* Revoking, by fingerprint, the one authority 026 lacks turns 025 into 026. */
	for (size_t i = 0; i < bd_bundle_count(b25); i++) {
		const tl_hash *fp = bd_authority_fingerprint(bd_bundle_at(b25, i));
		size_t at;

		if (bd_bundle_find(&at, b26, fp) != 0) {
			tl_hash gone = *fp;

			ck_assert_int_eq(bd_bundle_remove(b25, &gone), 0);
			removed++;
			break;
		}
	}
	ck_assert_uint_eq(removed, 1);
	c25 = tu_bundle_canonical(b25);
	c26 = tu_bundle_canonical(b26);
	ck_assert_str_eq(c25, c26);
	free(c25);
	free(c26);
	free(c27);
	bd_bundle_free(b25);
	bd_bundle_free(b26);
	bd_bundle_free(b27);
}
END_TEST

Suite *suite_bundle_pem(void)
{
	Suite *s = suite_create("bundle_pem");
	TCase *tc = tcase_create("pem");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, certifi_style_file);
	tcase_add_test(tc, line_endings_and_text);
	tcase_add_test(tc, empty_and_blank_inputs);
	tcase_add_test(tc, rejections);
	tcase_add_test(tc, line_length_limit);
	tcase_add_test(tc, der_reader);
	tcase_add_test(tc, gospiffe_x509_vectors);
	tcase_add_loop_test(tc, certifi_history, 0, 37);
	tcase_add_test(tc, skip_refused_leaves_out_with_a_warning);
	tcase_add_test(tc, certifi_revert_pair);
	suite_add_tcase(s, tc);
	return s;
}
