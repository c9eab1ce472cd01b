/*
 * The certificate cache (bundle_cache.c): a warm parse gives exactly what a cold one gives,
 * a certificate that fails a check is never cached and is refused every time, and
 * concurrent readers share cached certificates safely.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../../../bundled/src/bundle_internal.h"
#include "testbundle.h"

static char *canonical_of(const uint8_t *data, size_t len)
{
	bd_bundle *b = NULL;
	char *c;

	ck_assert_msg(bd_bundle_parse(&b, data, len, NULL) == 0, "%s", tl_error_message());
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
		ck_assert_int_eq(bd_bundle_parse(&b, leaf, len, NULL), TL_E_INPUT);
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

		if (bd_bundle_parse(&b, r->data, r->len, NULL) != 0 || bd_bundle_write_canonical(&out, b) != 0 ||
			out.len != strlen(r->want) || memcmp(out.data, r->want, out.len) != 0)
			r->bad++;
		if (i % 10 == 0)
			bd_bundle__cache_clear(); /* authorities keep their own references */
		tl_buf_free(&out);
		bd_bundle_free(b);
	}
	return NULL;
}

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
	suite_add_tcase(s, tc);
	return s;
}
