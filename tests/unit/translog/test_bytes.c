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

START_TEST(big_endian_round_trip)
{
	tl_buf b = tl_buf_make(64);
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	tl_cursor c;

	ck_assert_int_eq(tl_buf_append_u16be(&b, 0xa1b2), 0);
	ck_assert_int_eq(tl_buf_append_u32be(&b, 0xc1d2e3f4u), 0);
	ck_assert_int_eq(tl_buf_append_u64be(&b, 0x0102030405060708ull), 0);
	ck_assert_mem_eq(b.data, "\xa1\xb2\xc1\xd2\xe3\xf4\x01\x02\x03\x04\x05\x06\x07\x08", 14);
	ck_assert_uint_eq(tl_load_u32be(b.data + 2), 0xc1d2e3f4u);
	c = tl_cursor_make(b.data, b.len);
	ck_assert_int_eq(tl_cursor_u16be(&v16, &c), 0);
	ck_assert_int_eq(tl_cursor_u32be(&v32, &c), 0);
	ck_assert_int_eq(tl_cursor_u64be(&v64, &c), 0);
	ck_assert_uint_eq(v16, 0xa1b2);
	ck_assert_uint_eq(v32, 0xc1d2e3f4u);
	ck_assert_uint_eq(v64, 0x0102030405060708ull);
	ck_assert_int_eq(tl_cursor_u32be(&v32, &c), TL_E_INPUT);
	tl_buf_free(&b);
}
END_TEST

START_TEST(buf_truncate_takes_back_an_append)
{
	tl_buf b = tl_buf_make(64);
	size_t start;

	ck_assert_int_eq(tl_buf_append_str(&b, "keep"), 0);
	start = b.len;
	ck_assert_int_eq(tl_buf_append_str(&b, " and drop"), 0);
	tl_buf_truncate(&b, start);
	ck_assert_uint_eq(b.len, 4);
	ck_assert_str_eq((char *)b.data, "keep");
	tl_buf_free(&b);
}
END_TEST

START_TEST(zeroed_buf_is_usable_up_to_the_default_cap)
{
	tl_buf b = { 0 };

	ck_assert_int_eq(tl_buf_append_str(&b, "ok"), 0);
	ck_assert_str_eq((char *)b.data, "ok");
	ck_assert_int_eq(tl_buf_reserve(&b, TL_BUF_DEFAULT_CAP), TL_E_INPUT);
	ck_assert_int_eq(tl_buf_reserve(&b, TL_BUF_DEFAULT_CAP - 2), 0);
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
	tcase_add_test(tc, big_endian_round_trip);
	tcase_add_test(tc, buf_truncate_takes_back_an_append);
	tcase_add_test(tc, zeroed_buf_is_usable_up_to_the_default_cap);
	tcase_add_test(tc, base64_round_trip_and_strictness);
	tcase_add_test(tc, u64_parse_is_canonical);
	tcase_add_test(tc, hex_is_lowercase_only);
	tcase_add_test(tc, errors_carry_code_and_context);
	suite_add_tcase(s, tc);
	return s;
}
