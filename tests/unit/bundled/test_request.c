/*
 * The request bodies of the publishing API: what each strict reader accepts and refuses,
 * and that each writer's output reads back.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/request.h"

#define ENTRY "bundled-entry v1\\nkind bundle\\n"

static int reg(bd_register_request *r, const char *body)
{
	return bd_register_request_parse(r, (const uint8_t *)body, strlen(body));
}

static int bundle(bd_signed_request *r, const char *body)
{
	return bd_bundle_request_parse(r, (const uint8_t *)body, strlen(body));
}

START_TEST(registration_reads_and_writes)
{
	static bd_register_request r;
	const char *keys[2] = { "a.example+01020304+AAAA", "b.example+01020305+BBBB" };
	tl_buf out = tl_buf_make(4096);

	ck_assert_int_eq(bd_register_request_write(&out, "example.org", keys, 2), 0);
	ck_assert_int_eq(bd_register_request_parse(&r, out.data, out.len), 0);
	ck_assert_str_eq(r.domain, "example.org");
	ck_assert_uint_eq(r.n_keys, 2);
	ck_assert_str_eq(r.keys[1], keys[1]);
	ck_assert_int_eq(reg(&r, "{\"domain\":\"a\",\"publisher_keys\":[]}"), TL_E_INPUT);
	ck_assert_int_eq(reg(&r, "{\"domain\":\"a\",\"publisher_keys\":[1]}"), TL_E_INPUT);
	ck_assert_int_eq(reg(&r, "{\"domain\":\"a\"}"), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "missing member \"publisher_keys\""));
	ck_assert_int_eq(reg(&r, "{\"domain\":\"a\",\"publisher_keys\":[\"k\"],\"x\":0}"), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "unknown member \"x\""));
	ck_assert_int_eq(reg(&r, "{\"domain\":\"a\",\"domain\":\"b\",\"publisher_keys\":[\"k\"]}"), TL_E_INPUT);
	ck_assert_int_eq(reg(&r, "[]"), TL_E_INPUT);
	ck_assert_int_eq(reg(&r, "{\"domain\":\"\",\"publisher_keys\":[\"k\"]}"), TL_E_INPUT);
	tl_buf_free(&out);
}
END_TEST

START_TEST(bundle_body_is_strict)
{
	bd_signed_request r;
	tl_buf out = tl_buf_make(4096);
	const uint8_t file[] = { 0, 1, 2, 0xff, '\n' };

	ck_assert_int_eq(bd_bundle_request_write(&out, (const uint8_t *)"e\n", 2, file, sizeof(file)), 0);
	ck_assert_int_eq(bd_bundle_request_parse(&r, out.data, out.len), 0);
	ck_assert_uint_eq(r.entry_len, 2);
	ck_assert_uint_eq(r.bundle_len, sizeof(file));
	ck_assert(memcmp(r.bundle, file, sizeof(file)) == 0);
	bd_signed_request_free(&r);
	ck_assert_int_eq(bundle(&r, "{\"entry\":\"" ENTRY "\",\"bundle\":\"AAAA\"}"), 0);
	bd_signed_request_free(&r);
	/* Non-canonical base64, a NUL in the entry, a number, a missing or an extra member. */
	ck_assert_int_eq(bundle(&r, "{\"entry\":\"" ENTRY "\",\"bundle\":\"AAA\"}"), TL_E_INPUT);
	ck_assert_int_eq(bundle(&r, "{\"entry\":\"" ENTRY "\",\"bundle\":\"AA A\"}"), TL_E_INPUT);
	ck_assert_int_eq(bundle(&r, "{\"entry\":\"a\\u0000b\",\"bundle\":\"AAAA\"}"), TL_E_INPUT);
	ck_assert_int_eq(bundle(&r, "{\"entry\":7,\"bundle\":\"AAAA\"}"), TL_E_INPUT);
	ck_assert_int_eq(bundle(&r, "{\"bundle\":\"AAAA\"}"), TL_E_INPUT);
	ck_assert_int_eq(bundle(&r, "{\"entry\":\"x\",\"bundle\":\"AAAA\",\"revocation\":\"x\"}"), TL_E_INPUT);
	ck_assert_int_eq(bundle(&r, "{\"entry\":\"x\",\"bundle\":\"AAAA\"} trailing"), TL_E_INPUT);
	ck_assert_ptr_null(r.entry);
	tl_buf_free(&out);
}
END_TEST

START_TEST(key_and_revocation_bodies)
{
	bd_signed_request r;
	tl_buf out = tl_buf_make(4096);
	const char *big = NULL;

	ck_assert_int_eq(bd_key_request_write(&out, (const uint8_t *)"k\n", 2), 0);
	ck_assert_int_eq(bd_key_request_parse(&r, out.data, out.len), 0);
	ck_assert_str_eq((char *)r.entry, "k\n");
	bd_signed_request_free(&r);
	/* A key change is not a bundle body, nor the other way round. */
	ck_assert_int_eq(bd_bundle_request_parse(&r, out.data, out.len), TL_E_INPUT);
	tl_buf_reset(&out);
	ck_assert_int_eq(bd_revocation_request_write(&out, (const uint8_t *)"r\n", 2, (const uint8_t *)"b\n", 2), 0);
	ck_assert_int_eq(bd_revocation_request_parse(&r, out.data, out.len), 0);
	ck_assert_str_eq((char *)r.revocation, "r\n");
	ck_assert_str_eq((char *)r.entry, "b\n");
	bd_signed_request_free(&r);
	ck_assert_int_eq(bd_key_request_parse(&r, out.data, out.len), TL_E_INPUT);
	/* An entry over BD_ENTRY_MAX_SIZE. */
	{
		char *body = malloc(BD_ENTRY_MAX_SIZE + 32);

		memcpy(body, "{\"entry\":\"", 10);
		memset(body + 10, 'a', BD_ENTRY_MAX_SIZE + 1);
		memcpy(body + 10 + BD_ENTRY_MAX_SIZE + 1, "\"}", 3);
		big = body;
		ck_assert_int_eq(bd_key_request_parse(&r, (const uint8_t *)big, strlen(big)), TL_E_INPUT);
		free(body);
	}
	tl_buf_free(&out);
}
END_TEST

Suite *suite_request(void)
{
	Suite *s = suite_create("request");
	TCase *tc = tcase_create("bodies");

	tcase_add_test(tc, registration_reads_and_writes);
	tcase_add_test(tc, bundle_body_is_strict);
	tcase_add_test(tc, key_and_revocation_bodies);
	suite_add_tcase(s, tc);
	return s;
}
