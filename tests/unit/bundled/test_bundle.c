/*
 * The bundle model and the canonical form: order, fingerprints, validity warnings, edits,
 * and that the canonical bytes depend only on the set of authorities (not on the input's
 * order, whitespace or member order), read back to themselves, and survive the other
 * writers' round trips. Vectors: tests/vectors/bundle/ (generate.sh).
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/bundle.h"
#include "testbundle.h"
#include "testutil.h"

static bd_bundle *parse_ok(const void *data, size_t len, bd_bundle_report *report)
{
	bd_bundle *b = NULL;
	int err = bd_bundle_parse(&b, data, len, 0, report);

	ck_assert_msg(err == 0, "parse failed: %s", tl_error_message());
	ck_assert_ptr_nonnull(b);
	return b;
}

static bd_bundle *parse_vector(const char *name)
{
	size_t len;
	uint8_t *data = tu_bundle_vector(name, &len);
	bd_bundle *b = parse_ok(data, len, NULL);

	free(data);
	return b;
}

static char *canonical_of(const char *doc)
{
	bd_bundle *b = parse_ok(doc, strlen(doc), NULL);
	char *c = tu_bundle_canonical(b);

	bd_bundle_free(b);
	return c;
}

/* The SHA-256 of the DER in a one-certificate PEM vector. */
static void cert_fingerprint(tl_hash *fp, const char *pem_name)
{
	bd_bundle *b = parse_vector(pem_name);
	const uint8_t *der;
	size_t len;

	ck_assert_uint_eq(bd_bundle_count(b), 1);
	der = bd_authority_cert_der(bd_bundle_at(b, 0), &len);
	ck_assert_ptr_nonnull(der);
	tl_sha256(fp, der, len);
	bd_bundle_free(b);
}

START_TEST(valid_bundle_model)
{
	bd_bundle_report report = { 0 };
	size_t len;
	uint8_t *data = tu_bundle_vector("valid.json", &len);
	bd_bundle *b = parse_ok(data, len, &report);
	static const char *const kids[] = { "jwt-ed25519", "jwt-p256", "jwt-rsa", "wit-p384" };
	uint64_t v;

	ck_assert_int_eq(report.format, BD_FORMAT_SPIFFE);
	ck_assert_int_eq(bd_bundle_input_format(b), BD_FORMAT_SPIFFE);
	ck_assert(bd_bundle_sequence(&v, b));
	ck_assert_uint_eq(v, 42);
	ck_assert(bd_bundle_refresh_hint(&v, b));
	ck_assert_uint_eq(v, 300);
	ck_assert_uint_eq(bd_bundle_count(b), 11);
	/* 7 CAs by fingerprint, then JWT keys by kid, then the WIT key. */
	for (size_t i = 0; i < 7; i++) {
		const bd_authority *a = bd_bundle_at(b, i);
		const uint8_t *der;
		size_t dlen;
		tl_hash fp;

		ck_assert_int_eq(bd_authority_get_kind(a), BD_AUTHORITY_X509);
		ck_assert_ptr_null(bd_authority_kid(a));
		der = bd_authority_cert_der(a, &dlen);
		tl_sha256(&fp, der, dlen);
		ck_assert(tl_hash_equal(&fp, bd_authority_fingerprint(a)));
		if (i > 0)
			ck_assert_int_lt(memcmp(bd_authority_fingerprint(bd_bundle_at(b, i - 1))->b, fp.b, TL_HASH_SIZE), 0);
	}
	for (size_t i = 0; i < 4; i++) {
		const bd_authority *a = bd_bundle_at(b, 7 + i);
		const char *jwk;
		size_t jlen, dlen;
		tl_hash fp;

		ck_assert_int_eq(bd_authority_get_kind(a), i < 3 ? BD_AUTHORITY_JWT : BD_AUTHORITY_WIT);
		ck_assert_str_eq(bd_authority_kid(a), kids[i]);
		ck_assert_ptr_null(bd_authority_cert_der(a, &dlen));
		jwk = bd_authority_jwk(a, &jlen);
		tl_sha256(&fp, jwk, jlen);
		ck_assert(tl_hash_equal(&fp, bd_authority_fingerprint(a)));
	}
	ck_assert_ptr_null(bd_bundle_at(b, 11));
	/* The one expired CA is reported, nothing else. */
	ck_assert_uint_eq(report.n_warnings, 1);
	ck_assert_ptr_nonnull(strstr(report.warnings[0], "keys[10] (x509-svid)"));
	ck_assert_ptr_nonnull(strstr(report.warnings[0], "CN=expired-ca"));
	ck_assert_ptr_nonnull(strstr(report.warnings[0], "expired on 2021-01-01T00:00:00Z"));
	bd_bundle_report_free(&report);
	bd_bundle_free(b);
	free(data);
}
END_TEST

START_TEST(x509_fingerprint_is_sha256_of_der)
{
	bd_bundle *b = parse_vector("valid.json");
	tl_hash fp;
	size_t i;

	cert_fingerprint(&fp, "ca-rsa.pem");
	ck_assert_int_eq(bd_bundle_find(&i, b, &fp), 0);
	ck_assert_int_eq(bd_authority_get_kind(bd_bundle_at(b, i)), BD_AUTHORITY_X509);
	cert_fingerprint(&fp, "future-ca.pem");
	ck_assert_int_eq(bd_bundle_find(&i, b, &fp), TL_E_NOTFOUND);
	bd_bundle_free(b);
}
END_TEST

START_TEST(canonical_layout)
{
	bd_bundle *b = parse_vector("valid.json");
	char *c = tu_bundle_canonical(b), *line, *save = NULL;
	size_t lines = 0, n = strlen(c);
	const char *tail = "],\"spiffe_refresh_hint\":300,\"spiffe_sequence\":42}\n";

	ck_assert_int_eq(strncmp(c, "{\"keys\":[\n", 10), 0);
	ck_assert_str_eq(c + n - strlen(tail), tail);
	for (line = strtok_r(c, "\n", &save); line; line = strtok_r(NULL, "\n", &save), lines++) {
		size_t l = strlen(line);

		if (lines == 0 || lines == 12)
			continue;
		/* One JWK per line: the chunker cuts at line starts. */
		ck_assert_int_eq(line[0], '{');
		ck_assert_str_eq(line + l - (lines == 11 ? 1 : 2), lines == 11 ? "}" : "},");
		ck_assert_ptr_null(strchr(line, ' '));
	}
	ck_assert_uint_eq(lines, 13);
	free(c);
	bd_bundle_free(b);
}
END_TEST

START_TEST(canonical_jwk_members)
{
	bd_bundle *b = parse_vector("valid.json");
	size_t len;

	/* Members sorted by name, derived from the key; kid only on JWT/WIT keys. */
	ck_assert_ptr_nonnull(strstr(bd_authority_jwk(bd_bundle_at(b, 7), &len),
		"{\"crv\":\"Ed25519\",\"kid\":\"jwt-ed25519\",\"kty\":\"OKP\",\"use\":\"jwt-svid\",\"x\":\""));
	ck_assert_ptr_nonnull(strstr(bd_authority_jwk(bd_bundle_at(b, 8), &len),
		"{\"crv\":\"P-256\",\"kid\":\"jwt-p256\",\"kty\":\"EC\",\"use\":\"jwt-svid\",\"x\":\""));
	ck_assert_ptr_nonnull(strstr(bd_authority_jwk(bd_bundle_at(b, 9), &len),
		"{\"e\":\"AQAB\",\"kid\":\"jwt-rsa\",\"kty\":\"RSA\",\"n\":\""));
	for (size_t i = 0; i < 7; i++) {
		const char *j = bd_authority_jwk(bd_bundle_at(b, i), &len);

		ck_assert_ptr_null(strstr(j, "\"kid\""));
		ck_assert_ptr_nonnull(strstr(j, "\"use\":\"x509-svid\""));
		ck_assert_ptr_nonnull(strstr(j, "\"x5c\":[\""));
	}
	bd_bundle_free(b);
}
END_TEST

START_TEST(empty_keys_is_valid)
{
	char *c = canonical_of("{\"keys\":[]}");

	ck_assert_str_eq(c, "{\"keys\":[\n]}\n");
	free(c);
	c = canonical_of(" {\n\"spiffe_sequence\": 3, \"keys\": [ ] }\n");
	ck_assert_str_eq(c, "{\"keys\":[\n],\"spiffe_sequence\":3}\n");
	free(c);
}
END_TEST

/* A deterministic shuffle (xorshift), so a failure reproduces. */
static void shuffle(json_t *arr, uint32_t *seed)
{
	for (size_t i = json_array_size(arr); i > 1; i--) {
		size_t j;
		json_t *a, *b;

		*seed ^= *seed << 13;
		*seed ^= *seed >> 17;
		*seed ^= *seed << 5;
		j = *seed % i;
		a = json_incref(json_array_get(arr, i - 1));
		b = json_incref(json_array_get(arr, j));
		json_array_set_new(arr, i - 1, b);
		json_array_set_new(arr, j, a);
	}
}

/* A copy of a JSON object with its members in reverse order. */
static json_t *reversed_members(json_t *obj)
{
	const char *keys[64];
	size_t n = 0;
	const char *k;
	json_t *v, *out = json_object();

	json_object_foreach(obj, k, v)
		if (n < 64)
			keys[n++] = k;
	while (n-- > 0)
		json_object_set(out, keys[n], json_object_get(obj, keys[n]));
	return out;
}

START_TEST(canonical_ignores_order_and_formatting)
{
	size_t len;
	uint8_t *data = tu_bundle_vector("valid.json", &len);
	char *want = NULL;
	json_error_t jerr;
	uint32_t seed = 0x2545f491u;
	static const size_t flags[] = { JSON_COMPACT, JSON_INDENT(4), JSON_INDENT(1) | JSON_SORT_KEYS,
		JSON_COMPACT | JSON_SORT_KEYS, JSON_INDENT(2) };

	{
		bd_bundle *b = parse_ok(data, len, NULL);

		want = tu_bundle_canonical(b);
		bd_bundle_free(b);
	}
	for (int round = 0; round < 10; round++) {
		json_t *root = json_loadb((const char *)data, len, 0, &jerr), *keys, *rev;
		char *doc, *got;

		ck_assert_ptr_nonnull(root);
		keys = json_object_get(root, "keys");
		shuffle(keys, &seed);
		if (round % 2) {
			for (size_t i = 0; i < json_array_size(keys); i++)
				json_array_set_new(keys, i, reversed_members(json_array_get(keys, i)));
			rev = reversed_members(root);
			json_decref(root);
			root = rev;
		}
		doc = json_dumps(root, flags[round % 5]);
		got = canonical_of(doc);
		ck_assert_str_eq(got, want);
		free(got);
		free(doc);
		json_decref(root);
	}
	free(want);
	free(data);
}
END_TEST

START_TEST(canonical_is_a_fixed_point)
{
	static const char *const names[] = { "valid.json", "bundle.pem" };

	for (size_t i = 0; i < 2; i++) {
		bd_bundle *b = parse_vector(names[i]);
		char *c1 = tu_bundle_canonical(b), *c2 = canonical_of(c1);

		ck_assert_str_eq(c1, c2);
		free(c1);
		free(c2);
		bd_bundle_free(b);
	}
}
END_TEST

START_TEST(pem_round_trips)
{
	bd_bundle *b = parse_vector("bundle.pem"), *b2 = NULL, *b3 = NULL;
	tl_buf pem = tl_buf_make(1 << 20), der = tl_buf_make(1 << 20);
	char *c1 = tu_bundle_canonical(b), *c2, *c3;

	ck_assert_uint_eq(bd_bundle_count(b), 3);
	/* PEM -> canonical -> PEM -> canonical. */
	ck_assert_int_eq(bd_bundle_write_pem(&pem, b), 0);
	ck_assert_ptr_null(strstr((char *)pem.data, "#"));
	ck_assert_int_eq(bd_bundle_parse(&b2, pem.data, pem.len, 0, NULL), 0);
	c2 = tu_bundle_canonical(b2);
	ck_assert_str_eq(c1, c2);
	/* PEM is what the canonical form says, whatever the input's comments were. */
	{
		bd_bundle *b4 = NULL;
		tl_buf pem2 = tl_buf_make(1 << 20);

		ck_assert_int_eq(bd_bundle_parse(&b4, (const uint8_t *)c1, strlen(c1), 0, NULL), 0);
		ck_assert_int_eq(bd_bundle_write_pem(&pem2, b4), 0);
		ck_assert_uint_eq(pem2.len, pem.len);
		ck_assert_int_eq(memcmp(pem2.data, pem.data, pem.len), 0);
		tl_buf_free(&pem2);
		bd_bundle_free(b4);
	}
	/* And through concatenated DER. */
	ck_assert_int_eq(bd_bundle_write_der(&der, b), 0);
	ck_assert_int_eq(bd_bundle_parse_der(&b3, der.data, der.len, 0, NULL), 0);
	ck_assert_int_eq(bd_bundle_input_format(b3), BD_FORMAT_DER);
	c3 = tu_bundle_canonical(b3);
	ck_assert_str_eq(c1, c3);
	free(c1);
	free(c2);
	free(c3);
	tl_buf_free(&pem);
	tl_buf_free(&der);
	bd_bundle_free(b);
	bd_bundle_free(b2);
	bd_bundle_free(b3);
}
END_TEST

START_TEST(jwks_writer)
{
	bd_bundle *b = parse_vector("valid.json"), *j = NULL;
	tl_buf out = tl_buf_make(1 << 20);

	ck_assert_int_eq(bd_bundle_write_jwks(&out, b), 0);
	ck_assert_int_eq(strncmp((char *)out.data, "{\"keys\":[\n", 10), 0);
	ck_assert_str_eq((char *)out.data + out.len - 5, "}\n]}\n");
	ck_assert_ptr_null(strstr((char *)out.data, "x509-svid"));
	ck_assert_ptr_null(strstr((char *)out.data, "wit-svid"));
	ck_assert_int_eq(bd_bundle_parse(&j, out.data, out.len, 0, NULL), 0);
	ck_assert_uint_eq(bd_bundle_count(j), 3);
	for (size_t i = 0; i < 3; i++) {
		size_t l1, l2;
		const char *a = bd_authority_jwk(bd_bundle_at(j, i), &l1);
		const char *e = bd_authority_jwk(bd_bundle_at(b, 7 + i), &l2);

		ck_assert_uint_eq(l1, l2);
		ck_assert_int_eq(memcmp(a, e, l1), 0);
	}
	tl_buf_free(&out);
	bd_bundle_free(j);
	bd_bundle_free(b);
}
END_TEST

START_TEST(writers_respect_the_buffer_cap)
{
	bd_bundle *b = parse_vector("valid.json");
	tl_buf small = tl_buf_make(100);

	ck_assert_int_eq(bd_bundle_write_canonical(&small, b), TL_E_INPUT);
	ck_assert_int_eq(bd_bundle_write_pem(&small, b), TL_E_INPUT);
	ck_assert_int_eq(bd_bundle_write_der(&small, b), TL_E_INPUT);
	ck_assert_uint_eq(small.len, 0);
	tl_buf_free(&small);
	bd_bundle_free(b);
}
END_TEST

START_TEST(pem_has_no_sequence_until_set)
{
	bd_bundle *b = parse_vector("bundle.pem");
	uint64_t v;
	char *c;

	ck_assert(!bd_bundle_sequence(&v, b));
	ck_assert(!bd_bundle_refresh_hint(&v, b));
	bd_bundle_set_sequence(b, UINT64_MAX);
	ck_assert_int_eq(bd_bundle_set_refresh_hint(b, 0), 0);
	ck_assert_int_eq(bd_bundle_set_refresh_hint(b, (uint64_t)BD_MAX_REFRESH_HINT + 1), TL_E_INPUT);
	c = tu_bundle_canonical(b);
	ck_assert_ptr_nonnull(strstr(c, "],\"spiffe_refresh_hint\":0,\"spiffe_sequence\":18446744073709551615}\n"));
	free(c);
	bd_bundle_clear_sequence(b);
	bd_bundle_clear_refresh_hint(b);
	c = tu_bundle_canonical(b);
	ck_assert_ptr_nonnull(strstr(c, "\n]}\n"));
	free(c);
	bd_bundle_free(b);
}
END_TEST

START_TEST(remove_by_fingerprint)
{
	bd_bundle *b = parse_vector("valid.json");
	tl_hash fp = *bd_authority_fingerprint(bd_bundle_at(b, 8)); /* jwt-p256 */
	tl_hash ca;
	char *c;

	ck_assert_int_eq(bd_bundle_remove(b, &fp), 0);
	ck_assert_uint_eq(bd_bundle_count(b), 10);
	ck_assert_int_eq(bd_bundle_remove(b, &fp), TL_E_NOTFOUND);
	c = tu_bundle_canonical(b);
	ck_assert_ptr_null(strstr(c, "jwt-p256"));
	ck_assert_ptr_nonnull(strstr(c, "jwt-rsa"));
	free(c);
	cert_fingerprint(&ca, "ca-p384.pem");
	ck_assert_int_eq(bd_bundle_remove(b, &ca), 0);
	ck_assert_uint_eq(bd_bundle_count(b), 9);
	bd_bundle_free(b);
}
END_TEST

START_TEST(add_certificate)
{
	bd_bundle *b = NULL, *ref = parse_vector("bundle.pem");
	char *want = tu_bundle_canonical(ref), *got;

	ck_assert_int_eq(bd_bundle_new(&b), 0);
	/* Added in reverse canonical order: the bundle keeps its order anyway. */
	for (size_t i = bd_bundle_count(ref); i-- > 0;) {
		size_t len;
		const uint8_t *der = bd_authority_cert_der(bd_bundle_at(ref, i), &len);

		ck_assert_int_eq(bd_bundle_add_x509_der(b, der, len), 0);
		ck_assert_int_eq(bd_bundle_add_x509_der(b, der, len), TL_E_CONFLICT);
	}
	got = tu_bundle_canonical(b);
	ck_assert_str_eq(got, want);
	{
		bd_bundle *leaf = NULL;
		size_t len;
		uint8_t *pem = tu_bundle_vector("leaf.pem", &len);

		/* A non-CA never gets in, through any door. */
		ck_assert_int_eq(bd_bundle_parse(&leaf, pem, len, 0, NULL), TL_E_INPUT);
		ck_assert_ptr_nonnull(strstr(tl_error_message(), "not a CA"));
		free(pem);
	}
	free(got);
	free(want);
	bd_bundle_free(b);
	bd_bundle_free(ref);
}
END_TEST

START_TEST(validity_warnings)
{
	bd_bundle_report report = { 0 };
	size_t l1, l2, l3;
	uint8_t *a = tu_bundle_vector("future-ca.pem", &l1), *e = tu_bundle_vector("expired-ca.pem", &l2), *c = tu_bundle_vector("ca-p256.pem", &l3);
	uint8_t *all = malloc(l1 + l2 + l3);
	bd_bundle *b;

	memcpy(all, a, l1);
	memcpy(all + l1, e, l2);
	memcpy(all + l1 + l2, c, l3);
	b = parse_ok(all, l1 + l2 + l3, &report);
	ck_assert_int_eq(report.format, BD_FORMAT_PEM);
	ck_assert_uint_eq(report.n_warnings, 2);
	/* In input order. */
	ck_assert_ptr_nonnull(strstr(report.warnings[0], "PEM block 1 \"CN=future-ca\": not valid before 2090-01-01T00:00:00Z"));
	ck_assert_ptr_nonnull(strstr(report.warnings[1], "PEM block 2 \"CN=expired-ca\": expired on 2021-01-01T00:00:00Z"));
	bd_bundle_report_free(&report);
	ck_assert_uint_eq(report.n_warnings, 0);
	/* At a fixed time: 2020-06-01, only the future CA is early (ca-p256 was made later). */
	ck_assert_int_eq(bd_bundle_check_validity(&report, b, 1590969600), 0);
	ck_assert_uint_eq(report.n_warnings, 2);
	ck_assert_ptr_nonnull(strstr(report.warnings[0], "future-ca"));
	ck_assert_ptr_nonnull(strstr(report.warnings[1], "CN=ca-p256,O=bundled test\": not valid before"));
	bd_bundle_report_free(&report);
	/* A NULL report is allowed and collects nothing. */
	ck_assert_int_eq(bd_bundle_check_validity(NULL, b, 0), 0);
	bd_bundle_free(b);
	/* A subject's control and non-ASCII bytes are shown as \xNN (tl_text_printable). */
	free(all);
	all = tu_bundle_vector("utf8-ca.pem", &l1);
	b = parse_ok(all, l1, NULL);
	ck_assert_int_eq(bd_bundle_check_validity(&report, b, 4102444800 * 2), 0); /* 2230 */
	ck_assert_uint_eq(report.n_warnings, 1);
	ck_assert_ptr_nonnull(strstr(report.warnings[0], "PEM block 1 \"CN=caf\\xc3\\xa9\\x01ca,O=bundled test\": expired on"));
	bd_bundle_report_free(&report);
	bd_bundle_free(b);
	free(all);
	free(a);
	free(e);
	free(c);
}
END_TEST

START_TEST(authority_validity_window)
{
	bd_bundle *b = parse_vector("expired-ca.pem");
	int64_t nb, na;

	ck_assert(bd_authority_validity(&nb, &na, bd_bundle_at(b, 0)));
	ck_assert_int_eq(nb, 1577836800); /* 2020-01-01 */
	ck_assert_int_eq(na, 1609459200); /* 2021-01-01 */
	bd_bundle_free(b);
	b = parse_vector("valid.json");
	ck_assert(!bd_authority_validity(&nb, &na, bd_bundle_at(b, 8)));
	ck_assert_str_eq(bd_authority_kind_name(BD_AUTHORITY_WIT), "wit-svid");
	bd_bundle_free(b);
}
END_TEST

START_TEST(content_sniffing)
{
	bd_bundle *b = NULL;

	/* Leading whitespace before '{' is still JSON; anything else is PEM. */
	const char *doc = "\r\n\t {\"keys\":[]}";

	ck_assert_int_eq(bd_bundle_parse(&b, (const uint8_t *)doc, strlen(doc), 0, NULL), 0);
	ck_assert_int_eq(bd_bundle_input_format(b), BD_FORMAT_SPIFFE);
	bd_bundle_free(b);
	ck_assert_int_eq(bd_bundle_parse(&b, (const uint8_t *)"[]", 2, 0, NULL), TL_E_INPUT);
	ck_assert_ptr_null(b);
	ck_assert_str_eq(tl_error_message(), "no PEM blocks found");
	/* Issue 8: an empty input is refused unless asked for (then it is an empty PEM bundle). */
	ck_assert_int_eq(bd_bundle_parse(&b, (const uint8_t *)"", 0, 0, NULL), TL_E_INPUT);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(bd_bundle_parse(&b, (const uint8_t *)" \r\n", 3, 0, NULL), TL_E_INPUT);
	ck_assert_str_eq(tl_error_message(), "the input is only white space: refused as a bundle that trusts nothing "
		"(an empty bundle must be asked for explicitly)");
	ck_assert_int_eq(bd_bundle_parse(&b, (const uint8_t *)"", 0, BD_PARSE_ALLOW_EMPTY, NULL), 0);
	ck_assert_int_eq(bd_bundle_input_format(b), BD_FORMAT_PEM);
	ck_assert_uint_eq(bd_bundle_count(b), 0);
	bd_bundle_free(b);
	ck_assert_int_eq(bd_bundle_parse(&b, (const uint8_t *)" \r\n", 3, BD_PARSE_ALLOW_EMPTY, NULL), 0);
	ck_assert_uint_eq(bd_bundle_count(b), 0);
	bd_bundle_free(b);
	/* An explicit empty document is read either way. */
	ck_assert_int_eq(bd_bundle_parse(&b, (const uint8_t *)"{\"keys\":[]}", 11, 0, NULL), 0);
	ck_assert_uint_eq(bd_bundle_count(b), 0);
	bd_bundle_free(b);
}
END_TEST

START_TEST(size_limit_checked_first)
{
	size_t len = (size_t)BD_MAX_BUNDLE_SIZE + 1;
	uint8_t *big = malloc(len);
	bd_bundle *b = NULL;

	memset(big, ' ', len);
	memcpy(big + len - 11, "{\"keys\":[]}", 11);
	ck_assert_int_eq(bd_bundle_parse(&b, big, len, 0, NULL), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "over the limit"));
	ck_assert_int_eq(bd_bundle_parse_json(&b, big, len, 0, NULL), TL_E_INPUT);
	ck_assert_int_eq(bd_bundle_parse_pem(&b, big, len, 0, NULL), TL_E_INPUT);
	ck_assert_int_eq(bd_bundle_parse_der(&b, big, len, 0, NULL), TL_E_INPUT);
	/* One byte less is parsed. */
	ck_assert_int_eq(bd_bundle_parse(&b, big + 1, len - 1, 0, NULL), 0);
	bd_bundle_free(b);
	free(big);
}
END_TEST

Suite *suite_bundle(void)
{
	Suite *s = suite_create("bundle");
	TCase *tc = tcase_create("model");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, valid_bundle_model);
	tcase_add_test(tc, x509_fingerprint_is_sha256_of_der);
	tcase_add_test(tc, canonical_layout);
	tcase_add_test(tc, canonical_jwk_members);
	tcase_add_test(tc, empty_keys_is_valid);
	tcase_add_test(tc, canonical_ignores_order_and_formatting);
	tcase_add_test(tc, canonical_is_a_fixed_point);
	tcase_add_test(tc, pem_round_trips);
	tcase_add_test(tc, jwks_writer);
	tcase_add_test(tc, writers_respect_the_buffer_cap);
	tcase_add_test(tc, pem_has_no_sequence_until_set);
	tcase_add_test(tc, remove_by_fingerprint);
	tcase_add_test(tc, add_certificate);
	tcase_add_test(tc, validity_warnings);
	tcase_add_test(tc, authority_validity_window);
	tcase_add_test(tc, content_sniffing);
	tcase_add_test(tc, size_limit_checked_first);
	suite_add_tcase(s, tc);
	return s;
}
