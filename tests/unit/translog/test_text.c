/* The text helpers: tl_text_printable (one escaping for every message and log line) and
 * tl_array_grow, the bounded growable array. UTF-8 decoding is covered by test_note. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "translog/array.h"
#include "translog/text.h"

START_TEST(printable_keeps_plain_ascii)
{
	char out[64];

	ck_assert_str_eq(tl_text_printable(out, sizeof(out), "tile/0/001", 10), "tile/0/001");
	ck_assert_str_eq(tl_text_printable(out, sizeof(out), "", 0), "");
}
END_TEST

START_TEST(printable_escapes_controls_quotes_and_high_bytes)
{
	char out[64];

	ck_assert_str_eq(tl_text_printable(out, sizeof(out), "a\r\nb\0c", 6), "a\\x0d\\x0ab\\x00c");
	ck_assert_str_eq(tl_text_printable(out, sizeof(out), "\"q\\", 3), "\\x22q\\x5c");
	/* The line form keeps quotes and backslashes (text already escaped is not escaped twice)
	 * and escapes the rest alike. */
	ck_assert_str_eq(tl_text_printable_line(out, sizeof(out), "\"q\\x0d\"", 7), "\"q\\x0d\"");
	ck_assert_str_eq(tl_text_printable_line(out, sizeof(out), "a\r\nb\xc3\xa9", 6), "a\\x0d\\x0ab\\xc3\\xa9");
	/* "é" in UTF-8 and a lone continuation byte: escaped byte by byte, never passed raw. */
	ck_assert_str_eq(tl_text_printable(out, sizeof(out), "\xc3\xa9\x80\x7f", 4), "\\xc3\\xa9\\x80\\x7f");
}
END_TEST

START_TEST(printable_cuts_between_whole_escapes)
{
	char out[12];

	/* 11 characters of room, 8 of them before "...": "\x02" would pass them. */
	ck_assert_str_eq(tl_text_printable(out, sizeof(out), "abcd\x01\x02xyz", 9), "abcd\\x01...");
	ck_assert_str_eq(tl_text_printable(out, sizeof(out), "0123456789abcdef", 16), "01234567...");
	/* Exactly fitting input is not cut. */
	ck_assert_str_eq(tl_text_printable(out, sizeof(out), "0123456789a", 11), "0123456789a");
	/* Too small for "...": cut without it, still terminated. */
	ck_assert_str_eq(tl_text_printable(out, 3, "abcdef", 6), "ab");
	ck_assert_str_eq(tl_text_printable(out, 1, "abcdef", 6), "");
	for (size_t size = 1; size <= sizeof(out); size++) {
		size_t len = strlen(tl_text_printable(out, size, "\xff\xfe\xfd\xfc", 4));

		ck_assert_uint_lt(len, size);
		if (len >= 3 && strcmp(out + len - 3, "...") == 0)
			len -= 3;
		ck_assert_uint_eq(len % 4, 0); /* never half an escape */
	}
}
END_TEST

/* FNV-1a's published 64-bit values (draft-eastlake-fnv): "" is the offset basis. */
START_TEST(text_hash_is_fnv1a)
{
	ck_assert_uint_eq(tl_text_hash(""), 0xcbf29ce484222325ull);
	ck_assert_uint_eq(tl_text_hash("a"), 0xaf63dc4c8601ec8cull);
	ck_assert_uint_eq(tl_text_hash("foobar"), 0x85944171f73967e8ull);
}
END_TEST

START_TEST(hex_digits_of_either_case)
{
	ck_assert_int_eq(tl_hex_digit('0'), 0);
	ck_assert_int_eq(tl_hex_digit('9'), 9);
	ck_assert_int_eq(tl_hex_digit('a'), 10);
	ck_assert_int_eq(tl_hex_digit('F'), 15);
	ck_assert_int_eq(tl_hex_digit('g'), -1);
	ck_assert_int_eq(tl_hex_digit('/'), -1);
	ck_assert_int_eq(tl_hex_digit(0), -1);
	ck_assert_int_eq(tl_hex_digit(0xc3), -1);
}
END_TEST

START_TEST(array_grows_within_its_bound)
{
	int *items = NULL;
	size_t alloc = 0;

	ck_assert_int_eq(tl_array_grow(&items, &alloc, 1, sizeof(*items), 100), 0);
	ck_assert_uint_ge(alloc, 1);
	for (size_t i = 0; i < 100; i++) {
		ck_assert_int_eq(tl_array_grow(&items, &alloc, i + 1, sizeof(*items), 100), 0);
		items[i] = (int)i;
	}
	ck_assert_uint_eq(alloc, 100);
	ck_assert_int_eq(tl_array_grow(&items, &alloc, 101, sizeof(*items), 100), TL_E_INPUT);
	ck_assert_uint_eq(alloc, 100);
	ck_assert_int_eq(items[99], 99);
	free(items);
}
END_TEST

START_TEST(array_refuses_a_byte_size_overflow)
{
	char *items = NULL;
	size_t alloc = 0;

	ck_assert_int_eq(tl_array_grow(&items, &alloc, 2, (size_t)-1 / 2, (size_t)-1), TL_E_NOMEM);
	ck_assert_ptr_null(items);
	ck_assert_uint_eq(alloc, 0);
}
END_TEST

Suite *suite_text(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("text");

	tcase_add_test(tc, printable_keeps_plain_ascii);
	tcase_add_test(tc, printable_escapes_controls_quotes_and_high_bytes);
	tcase_add_test(tc, printable_cuts_between_whole_escapes);
	tcase_add_test(tc, hex_digits_of_either_case);
	tcase_add_test(tc, text_hash_is_fnv1a);
	tcase_add_test(tc, array_grows_within_its_bound);
	tcase_add_test(tc, array_refuses_a_byte_size_overflow);
	suite_add_tcase(s, tc);
	return s;
}
