/*
 * The request bodies of the publishing API: what each strict reader accepts and refuses,
 * and that each writer's output reads back.
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
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

/* The signed requests' fast reader (request.c, flat_read) against jansson, the reader it
 * stands in for: on every body, the same verdict and, when accepted, the same strings. */
static void same_as_jansson(const char *body, size_t len)
{
	bd_signed_request r;
	json_error_t jerr;
	json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	const json_t *e = doc != NULL ? json_object_get(doc, "entry") : NULL;
	const json_t *v = doc != NULL ? json_object_get(doc, "revocation") : NULL;
	bool want = json_is_object(doc) && json_object_size(doc) == 2 && json_is_string(e) && json_is_string(v) &&
		json_string_length(e) > 0 && json_string_length(v) > 0;
	int got = bd_revocation_request_parse(&r, (const uint8_t *)body, len);

	ck_assert_msg((got == 0) == want, "%.*s: got %d (%s), jansson %s", (int)len, body, got, tl_error_message(),
		want ? "accepts" : "refuses");
	if (got == 0) {
		ck_assert_uint_eq(r.entry_len, json_string_length(e));
		ck_assert(memcmp(r.entry, json_string_value(e), r.entry_len) == 0);
		ck_assert_uint_eq(r.revocation_len, json_string_length(v));
		ck_assert(memcmp(r.revocation, json_string_value(v), r.revocation_len) == 0);
		bd_signed_request_free(&r);
	}
	json_decref(doc);
}

START_TEST(fast_reader_agrees_with_jansson)
{
	static const char *const values[] = {
		"plain", "esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t end", "\\u00e9\\u20ac\\uFFFF", "\\ud83d\\ude00 pair",
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "del \x7f", "bad \xc3", "bad \xed\xa0\x80 surrogate",
		"over \xc0\xaf", "lone \\ud800", "lone \\udc00", "hi \\ud800\\u0041", "nul \\u0000", "raw \x01 ctl",
		"tab \t raw", "bad \\x escape", "short \\u12", "\\uZZZZ", "",
	};
	static const char *const shapes[] = {
		"{\"entry\":\"%s\",\"revocation\":\"r\"}", " \r\n\t{ \"revocation\" : \"r\" , \"entry\" : \"%s\" } \n",
		"{\"entr\\u0079\":\"%s\",\"revocation\":\"r\"}", "{\"entry\":\"%s\",\"revocation\":\"r\",\"entry\":\"x\"}",
		"{\"entry\":\"%s\",\"revocation\":\"r\"} x", "{\"entry\":\"%s\",\"revocation\":\"r\",}",
		"{\"entry\":\"%s\",\"revocation\":1}", "{\"entry\":\"%s\",\"revocation\":{\"a\":\"b\"}}",
		"{\"entry\":\"%s\"}", "{\"entry\":\"%s\",\"revocation\":\"r\",\"other\":\"o\"}",
		"{\"entry\":\"%s\",\"a\\\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\":\"r\"}", "\xef\xbb\xbf{\"entry\":\"%s\",\"revocation\":\"r\"}",
		"[\"%s\"]", "{\"entry\":\"%s\",\"revocation\":\"r\"", "{\"entry\" \"%s\",\"revocation\":\"r\"}",
	};
	char body[512];

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		for (size_t j = 0; j < sizeof(values) / sizeof(values[0]); j++) {
			const char *hole = strstr(shapes[i], "%s");
			size_t pre = (size_t)(hole - shapes[i]), vlen = strlen(values[j]), post = strlen(hole + 2);
			int n = (int)(pre + vlen + post);

			ck_assert_uint_lt((size_t)n, sizeof(body));
			memcpy(body, shapes[i], pre);
			memcpy(body + pre, values[j], vlen);
			memcpy(body + pre + vlen, hole + 2, post);
			same_as_jansson(body, (size_t)n);
			/* every prefix too: cut strings, escapes and UTF-8 sequences */
			for (int k = 0; k < n; k++)
				same_as_jansson(body, (size_t)k);
		}
}
END_TEST

Suite *suite_request(void)
{
	Suite *s = suite_create("request");
	TCase *tc = tcase_create("bodies");

	tcase_add_test(tc, registration_reads_and_writes);
	tcase_add_test(tc, bundle_body_is_strict);
	tcase_add_test(tc, key_and_revocation_bodies);
	tcase_add_test(tc, fast_reader_agrees_with_jansson);
	suite_add_tcase(s, tc);
	return s;
}
