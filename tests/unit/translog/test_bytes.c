#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "translog/bytes.h"

START_TEST(cursor_reads_within_bounds)
{
	const uint8_t data[] = { 0x01, 0x02, 0x03, 'a', '\n', 'b' };
	tl_cursor c = tl_cursor_make(data, sizeof(data));
	uint16_t v16;
	uint8_t v8;
	const uint8_t *line;
	size_t len;

	ck_assert_int_eq(tl_cursor_u16be(&v16, &c), 0);
	ck_assert_uint_eq(v16, 0x0102);
	ck_assert_int_eq(tl_cursor_u8(&v8, &c), 0);
	ck_assert_int_eq(tl_cursor_line(&line, &len, &c, 10), 0);
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(line[0], 'a');
	/* "b" has no newline: refused, and the cursor stays put. */
	ck_assert_int_eq(tl_cursor_line(&line, &len, &c, 10), TL_E_INPUT);
	ck_assert_uint_eq(c.pos, 5);
	ck_assert_int_eq(tl_cursor_u16be(&v16, &c), TL_E_INPUT);
	ck_assert_uint_eq(c.pos, 5);
}
END_TEST

START_TEST(cursor_line_respects_max_len)
{
	const char *text = "abcdef\n";
	tl_cursor c = tl_cursor_make(text, strlen(text));
	const uint8_t *line;
	size_t len;

	ck_assert_int_eq(tl_cursor_line(&line, &len, &c, 5), TL_E_INPUT);
	ck_assert_int_eq(tl_cursor_line(&line, &len, &c, 6), 0);
	ck_assert_uint_eq(len, 6);
}
END_TEST

START_TEST(buf_refuses_to_grow_past_cap)
{
	tl_buf b = tl_buf_make(8);

	ck_assert_int_eq(tl_buf_append_str(&b, "12345678"), 0);
	ck_assert_str_eq((char *)b.data, "12345678");
	ck_assert_int_eq(tl_buf_append_u8(&b, 'x'), TL_E_INPUT);
	ck_assert_uint_eq(b.len, 8);
	tl_buf_free(&b);
}
END_TEST

START_TEST(base64_round_trip_and_strictness)
{
	uint8_t out[16];
	size_t n;
	tl_buf b = tl_buf_make(64);

	ck_assert_int_eq(tl_base64_encode(&b, "foobar", 6), 0);
	ck_assert_str_eq((char *)b.data, "Zm9vYmFy");
	tl_buf_reset(&b);
	ck_assert_int_eq(tl_base64_encode(&b, "fo", 2), 0);
	ck_assert_str_eq((char *)b.data, "Zm8=");
	ck_assert_int_eq(tl_base64_decode(out, sizeof(out), &n, "Zm8=", 4), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(memcmp(out, "fo", 2), 0);
	/* Non-zero pad bits, bad characters, bad lengths, padding in the middle, overflow. */
	ck_assert_int_eq(tl_base64_decode(out, sizeof(out), &n, "Zm9=", 4), TL_E_INPUT);
	ck_assert_int_eq(tl_base64_decode(out, sizeof(out), &n, "Zm 8", 4), TL_E_INPUT);
	ck_assert_int_eq(tl_base64_decode(out, sizeof(out), &n, "Zm8", 3), TL_E_INPUT);
	ck_assert_int_eq(tl_base64_decode(out, sizeof(out), &n, "Zg==Zm8=", 8), TL_E_INPUT);
	ck_assert_int_eq(tl_base64_decode(out, 2, &n, "Zm9vYmFy", 8), TL_E_INPUT);
	tl_buf_free(&b);
}
END_TEST

START_TEST(u64_parse_is_canonical)
{
	uint64_t v;

	ck_assert_int_eq(tl_parse_u64(&v, "18446744073709551615", 20), 0);
	ck_assert(v == UINT64_MAX);
	ck_assert_int_eq(tl_parse_u64(&v, "0", 1), 0);
	ck_assert_int_eq(tl_parse_u64(&v, "18446744073709551616", 20), TL_E_INPUT);
	ck_assert_int_eq(tl_parse_u64(&v, "01", 2), TL_E_INPUT);
	ck_assert_int_eq(tl_parse_u64(&v, "+1", 2), TL_E_INPUT);
	ck_assert_int_eq(tl_parse_u64(&v, "", 0), TL_E_INPUT);
}
END_TEST

START_TEST(hex_is_lowercase_only)
{
	uint8_t out[2];
	char text[5];

	ck_assert_int_eq(tl_hex_decode(out, 2, "0aff", 4), 0);
	tl_hex_encode(text, out, 2);
	ck_assert_str_eq(text, "0aff");
	ck_assert_int_eq(tl_hex_decode(out, 2, "0AFF", 4), TL_E_INPUT);
	ck_assert_int_eq(tl_hex_decode(out, 2, "0af", 3), TL_E_INPUT);
}
END_TEST

START_TEST(errors_carry_code_and_context)
{
	ck_assert_int_eq(tl_error_set(TL_E_INPUT, "bad %s", "base64"), TL_E_INPUT);
	ck_assert_int_eq(tl_error_wrap(TL_E_INPUT, "entry %d", 3), TL_E_INPUT);
	ck_assert_str_eq(tl_error_message(), "entry 3: bad base64");
	ck_assert_int_eq(tl_err_http_status(TL_E_NOTFOUND), 404);
	ck_assert_str_eq(tl_err_name(TL_E_CONFLICT), "conflict");
}
END_TEST

Suite *suite_bytes(void)
{
	Suite *s = suite_create("bytes");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, cursor_reads_within_bounds);
	tcase_add_test(tc, cursor_line_respects_max_len);
	tcase_add_test(tc, buf_refuses_to_grow_past_cap);
	tcase_add_test(tc, base64_round_trip_and_strictness);
	tcase_add_test(tc, u64_parse_is_canonical);
	tcase_add_test(tc, hex_is_lowercase_only);
	tcase_add_test(tc, errors_carry_code_and_context);
	suite_add_tcase(s, tc);
	return s;
}
