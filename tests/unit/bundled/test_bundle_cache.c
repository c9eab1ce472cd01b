/*
 * The certificate cache (bundle_cache.c): a warm parse gives exactly what a cold one gives,
 * a certificate that fails a check is never cached and is refused every time, and
 * concurrent readers share cached certificates safely. The same for JWK keys and JWT
 * authorities: a key is found again only under the very members it was read from, a line
 * only under the same key, kind and kid.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../bundled/src/bundle_internal.h"
#include "testbundle.h"

static char *canonical_of(const uint8_t *data, size_t len)
{
	bd_bundle *b = NULL;
	char *c;

	ck_assert_msg(bd_bundle_parse(&b, data, len, 0, NULL) == 0, "%s", tl_error_message());
	c = tu_bundle_canonical(b);
	bd_bundle_free(b);
	return c;
}

START_TEST(warm_parse_equals_cold_parse)
{
	static const char *const vectors[] = { "bundle.pem", "ca-rsa.pem", "ca-ed25519.pem", "valid.json" };

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		size_t len;
		uint8_t *data = tu_bundle_vector(vectors[i], &len);
		char *cold, *warm;

		bd_bundle__cache_clear();
		cold = canonical_of(data, len);
		warm = canonical_of(data, len);
		ck_assert_str_eq(cold, warm);
		free(cold);
		free(warm);
		free(data);
	}
}
END_TEST

START_TEST(refused_certificates_stay_refused)
{
	size_t len, ca_len;
	uint8_t *leaf = tu_bundle_vector("leaf.pem", &len), *ca = tu_bundle_vector("ca-p256.pem", &ca_len);
	bd_bundle *b = NULL;

	/* a cached CA does not make a leaf certificate acceptable after it */
	free(canonical_of(ca, ca_len));
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(bd_bundle_parse(&b, leaf, len, 0, NULL), TL_E_INPUT);
		ck_assert_ptr_null(b);
		ck_assert_ptr_nonnull(strstr(tl_error_message(), "not a CA"));
	}
	free(leaf);
	free(ca);
}
END_TEST

struct reader {
	const uint8_t *data;
	size_t len;
	const char *want;
	int bad;
};

static void *read_many(void *arg)
{
	struct reader *r = arg;

	for (int i = 0; i < 50; i++) {
		bd_bundle *b = NULL;
		tl_buf out = tl_buf_make(BD_MAX_BUNDLE_SIZE);

		if (bd_bundle_parse(&b, r->data, r->len, 0, NULL) != 0 || bd_bundle_write_canonical(&out, b) != 0 ||
			out.len != strlen(r->want) || memcmp(out.data, r->want, out.len) != 0)
			r->bad++;
		if (i % 10 == 0)
			bd_bundle__cache_clear(); /* authorities keep their own references */
		tl_buf_free(&out);
		bd_bundle_free(b);
	}
	return NULL;
}

/* A SPIFFE bundle of one JWT authority: kid and the members of a jwk-*.json vector (its
 * text without the braces), with `extra` members after them. */
static char *jwt_bundle(const char *kid, const char *vector, const char *extra)
{
	size_t len;
	uint8_t *key = tu_bundle_vector(vector, &len);
	char *doc = malloc(len + 256);
	size_t end = len;

	while (end > 0 && key[end - 1] != '}')
		end--;
	snprintf(doc, len + 256, "{\"keys\":[{\"use\":\"jwt-svid\",\"kid\":\"%s\",%.*s%s}]}", kid, (int)(end - 2),
		(const char *)key + 1, extra);
	free(key);
	return doc;
}

static int parse_text(char **canonical, const char *doc)
{
	bd_bundle *b = NULL;
	int err = bd_bundle_parse(&b, (const uint8_t *)doc, strlen(doc), 0, NULL);

	*canonical = err == 0 ? tu_bundle_canonical(b) : NULL;
	bd_bundle_free(b);
	return err;
}

START_TEST(jwt_keys_are_found_only_under_their_members)
{
	static const char *const vectors[] = { "jwk-p256.json", "jwk-rsa.json", "jwk-ed25519.json", "jwk-p384.json" };
	char *cold, *warm, *other;

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char *a = jwt_bundle("k1", vectors[i], ""), *b = jwt_bundle("k2", vectors[i], "");

		bd_bundle__cache_clear();
		ck_assert_int_eq(parse_text(&cold, a), 0);
		ck_assert_int_eq(parse_text(&warm, a), 0);
		ck_assert_str_eq(cold, warm);
		/* the same key under another kid: its own line */
		ck_assert_int_eq(parse_text(&other, b), 0);
		ck_assert_ptr_nonnull(strstr(other, "\"kid\":\"k2\""));
		ck_assert_ptr_null(strstr(other, "\"kid\":\"k1\""));
		free(cold);
		free(warm);
		free(other);
		free(a);
		free(b);
	}
	/* another key under a kid seen before: that key's line, not the cached one */
	{
		char *a = jwt_bundle("k1", "jwk-p256.json", ""), *b = jwt_bundle("k1", "jwk-p256b.json", "");

		ck_assert_int_eq(parse_text(&cold, a), 0);
		ck_assert_int_eq(parse_text(&other, b), 0);
		ck_assert_str_ne(cold, other);
		ck_assert_ptr_nonnull(strstr(other, "OXrQuOnVCO0jVKBNCHixLwO1X5V4bu5n202TuBfO1L8"));
		free(cold);
		free(other);
		free(a);
		free(b);
	}
	/* a cached key does not let a private member through */
	{
		char *d = jwt_bundle("k1", "jwk-p256.json", ",\"d\":\"AAAA\"");

		ck_assert_int_eq(parse_text(&cold, d), TL_E_INPUT);
		ck_assert_ptr_nonnull(strstr(tl_error_message(), "private key member"));
		free(d);
	}
}
END_TEST

START_TEST(refused_jwt_keys_stay_refused)
{
	/* the P-256 vector with y changed in its last character: not on the curve */
	char *bad = jwt_bundle("k1", "jwk-p256.json", ""), *good = jwt_bundle("k1", "jwk-p256.json", "");
	char *y = strstr(bad, "endDHIMw"), *c = NULL;

	ck_assert_ptr_nonnull(y);
	y[7] = y[7] == 'w' ? 'A' : 'w';
	bd_bundle__cache_clear();
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(parse_text(&c, bad), TL_E_INPUT);
		ck_assert_ptr_null(c);
	}
	ck_assert_int_eq(parse_text(&c, good), 0);
	free(c);
	ck_assert_int_eq(parse_text(&c, bad), TL_E_INPUT);
	free(bad);
	free(good);
}
END_TEST

START_TEST(concurrent_readers_share_the_cache)
{
	size_t len;
	uint8_t *data = tu_bundle_vector("bundle.pem", &len);
	char *want = canonical_of(data, len);
	struct reader r[4];
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		r[i] = (struct reader){ data, len, want, 0 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, read_many, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(r[i].bad, 0);
	}
	free(want);
	free(data);
}
END_TEST

Suite *suite_bundle_cache(void)
{
	Suite *s = suite_create("bundle_cache");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, warm_parse_equals_cold_parse);
	tcase_add_test(tc, refused_certificates_stay_refused);
	tcase_add_test(tc, concurrent_readers_share_the_cache);
	tcase_add_test(tc, jwt_keys_are_found_only_under_their_members);
	tcase_add_test(tc, refused_jwt_keys_stay_refused);
	suite_add_tcase(s, tc);
	return s;
}
