#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../../bundled/src/multibase.h"
#include "bundled/cid.h"
#include "testbundle.h"

/* Known answers of `ipfs add --cid-version=1 --raw-leaves`, and the base58btc and CIDv0
 * forms of well-known CIDs as multiformats writes them. */
#define EMPTY_CID "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
#define HELLO_CID "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
#define HELLO_CID_Z "zb2rhj7crUKTQYRGCRATFaQ6YFLTde2YzdqbbhAASkL9uRDXn"
#define EMPTY_DIR_V0 "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"
#define EMPTY_DIR_V1 "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354"
#define EMPTY_DIR_Z "zdj7WbTaiJT1fgatdet9Ei9iDB5hdCxkbVyhyh8YTUnXMiwYi"

static int parse(bd_cid *out, const char *text)
{
	return bd_cid_parse(out, text, strlen(text));
}

START_TEST(known_answers_of_raw_blocks)
{
	bd_cid cid;

	bd_cid_of(&cid, BD_CODEC_RAW, "", 0);
	tu_assert_cid_text(&cid, EMPTY_CID);
	bd_cid_of(&cid, BD_CODEC_RAW, "hello world", 11);
	tu_assert_cid_text(&cid, HELLO_CID);
	/* The same bytes read as dag-pb are another CID. */
	bd_cid_of(&cid, BD_CODEC_DAG_PB, "hello world", 11);
	{
		char text[BD_CID_TEXT_MAX];

		ck_assert_int_eq(bd_cid_format(text, sizeof(text), &cid), 0);
		ck_assert_str_ne(text, HELLO_CID);
		ck_assert(strncmp(text, "bafybei", 7) == 0);
	}
}
END_TEST

START_TEST(parse_round_trips_every_accepted_form)
{
	bd_cid a, b, c, hello;

	bd_cid_of(&hello, BD_CODEC_RAW, "hello world", 11);
	ck_assert_int_eq(parse(&a, HELLO_CID), 0);
	ck_assert(bd_cid_equal(&a, &hello));
	ck_assert_int_eq(parse(&b, HELLO_CID_Z), 0);
	ck_assert(bd_cid_equal(&b, &hello));
	/* CIDv0 is read as the CIDv1 dag-pb it names. */
	ck_assert_int_eq(parse(&a, EMPTY_DIR_V0), 0);
	ck_assert_int_eq(parse(&b, EMPTY_DIR_V1), 0);
	ck_assert_int_eq(parse(&c, EMPTY_DIR_Z), 0);
	ck_assert(a.codec == BD_CODEC_DAG_PB);
	ck_assert(bd_cid_equal(&a, &b));
	ck_assert(bd_cid_equal(&b, &c));
	tu_assert_cid_text(&a, EMPTY_DIR_V1);
	ck_assert(!bd_cid_equal(&a, &hello));
	/* Only `len` bytes are read: what follows is not part of the CID. */
	ck_assert_int_eq(bd_cid_parse(&a, HELLO_CID "trailing", strlen(HELLO_CID)), 0);
	ck_assert(bd_cid_equal(&a, &hello));
}
END_TEST

START_TEST(parse_rejects_what_is_not_a_sha256_cidv1)
{
	static const char *const bad[] = {
		"",
		"b",
		"z",
		/* upper-case base32 and other multibases */
		"BAFKREIFZJUT3TE2NHYEKKLSS27NH3K72YSCO7Y32KOAO5EEI66WOF36N5E",
		"f01551220b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
		"mAVUSILlNJ7mTTT4IpS5S19p9q/rEhO/jelOA7pCI96zi783p",
		/* one character more or less, a changed last character (non-zero trailing bits) */
		HELLO_CID "a",
		"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5",
		"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5f",
		/* characters outside the alphabets */
		"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n1e",
		"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e=",
		"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5 ",
		"zb2rhj7crUKTQYRGCRATFaQ6YFLTde2YzdqbbhAASkL9uRDX0",
		/* CIDv0 of the wrong length or a Qm that is not a sha2-256 multihash */
		"QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3N",
		"QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nnn",
		"QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3N0",
	};
	bd_cid cid;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(&cid, bad[i]) == TL_E_INPUT, "accepted bad[%zu] %s", i, bad[i]);
		ck_assert_str_ne(tl_error_message(), "");
	}
	/* The unsupported prefix is named, printable. */
	ck_assert_int_eq(parse(&cid, "\x01" "afkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "multibase prefix '\\x01' is not supported"));
	ck_assert_int_eq(parse(&cid, "fafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "multibase prefix 'f' is not supported"));
	/* A text longer than any CID is refused before it is decoded. */
	{
		char longtext[300];

		memset(longtext, 'a', sizeof(longtext));
		longtext[0] = 'b';
		ck_assert_int_eq(bd_cid_parse(&cid, longtext, sizeof(longtext)), TL_E_INPUT);
	}
}
END_TEST

/* Builds binary CIDs by hand and checks each is refused or accepted as it should be. */
START_TEST(binary_form_is_strict)
{
	uint8_t bin[BD_CID_BYTES_MAX + 8];
	char text[BD_CID_TEXT_MAX];
	bd_cid cid, hello;
	size_t n = 0;

	bd_cid_of(&hello, BD_CODEC_RAW, "hello world", 11);
	ck_assert_int_eq(bd_cid_to_bytes(bin, sizeof(bin), &n, &hello), 0);
	ck_assert_uint_eq(n, 36);
	ck_assert(bin[0] == 0x01 && bin[1] == 0x55 && bin[2] == 0x12 && bin[3] == 0x20);
	ck_assert_int_eq(bd_cid_from_bytes(&cid, bin, n), 0);
	ck_assert(bd_cid_equal(&cid, &hello));
	ck_assert_int_eq(bd_cid_to_bytes(bin, 35, &n, &hello), TL_E_INPUT);

	ck_assert_int_eq(bd_cid_to_bytes(bin, sizeof(bin), &n, &hello), 0);
	ck_assert_int_eq(bd_cid_from_bytes(&cid, bin, n - 1), TL_E_INPUT);       /* short digest */
	bin[n] = 0;
	ck_assert_int_eq(bd_cid_from_bytes(&cid, bin, n + 1), TL_E_INPUT);       /* trailing byte */
	bin[0] = 0x02;
	ck_assert_int_eq(bd_cid_from_bytes(&cid, bin, n), TL_E_INPUT);           /* version 2 */
	bin[0] = 0x01;
	bin[2] = 0x13;
	ck_assert_int_eq(bd_cid_from_bytes(&cid, bin, n), TL_E_INPUT);           /* sha2-512 */
	bin[2] = 0x12;
	bin[3] = 0x1f;
	ck_assert_int_eq(bd_cid_from_bytes(&cid, bin, n - 1), TL_E_INPUT);       /* 31-byte digest */
	/* The codec 0x55 written in two bytes (0xd5 0x00) is not minimal. */
	{
		uint8_t wide[37] = { 0x01, 0xd5, 0x00, 0x12, 0x20 };

		memcpy(wide + 5, hello.digest.b, 32);
		ck_assert_int_eq(bd_cid_from_bytes(&cid, wide, 37), TL_E_INPUT);
		text[0] = 'b';
		bd_multibase__base32_encode(text + 1, wide, 37);
		ck_assert_int_eq(parse(&cid, text), TL_E_INPUT);
	}
	/* The bare multihash is CIDv0: read as dag-pb in binary, refused in multibase text. */
	{
		uint8_t mh[34] = { 0x12, 0x20 };

		memcpy(mh + 2, hello.digest.b, 32);
		ck_assert_int_eq(bd_cid_from_bytes(&cid, mh, 34), 0);
		ck_assert(cid.codec == BD_CODEC_DAG_PB);
		text[0] = 'b';
		bd_multibase__base32_encode(text + 1, mh, 34);
		ck_assert_int_eq(parse(&cid, text), TL_E_INPUT);
	}
	/* A large codec round-trips through the text form; one of 2^63 cannot be written. */
	cid = hello;
	cid.codec = 0x300001;
	ck_assert_int_eq(bd_cid_format(text, sizeof(text), &cid), 0);
	ck_assert_int_eq(parse(&hello, text), 0);
	ck_assert(hello.codec == 0x300001);
	cid.codec = (uint64_t)1 << 63;
	ck_assert_int_eq(bd_cid_format(text, sizeof(text), &cid), TL_E_INPUT);
	ck_assert_int_eq(bd_cid_to_bytes(bin, sizeof(bin), &n, &cid), TL_E_INPUT);
}
END_TEST

START_TEST(format_needs_room)
{
	char text[BD_CID_TEXT_MAX];
	bd_cid cid;

	bd_cid_of(&cid, BD_CODEC_RAW, "", 0);
	ck_assert_int_eq(bd_cid_format(text, strlen(EMPTY_CID), &cid), TL_E_INPUT);
	ck_assert_int_eq(bd_cid_format(text, strlen(EMPTY_CID) + 1, &cid), 0);
	ck_assert_str_eq(text, EMPTY_CID);
}
END_TEST

START_TEST(base32_matches_rfc4648)
{
	static const char *const vec[][2] = {
		{ "", "" }, { "f", "my" }, { "fo", "mzxq" }, { "foo", "mzxw6" },
		{ "foob", "mzxw6yq" }, { "fooba", "mzxw6ytb" }, { "foobar", "mzxw6ytboi" },
	};
	char text[32];
	uint8_t out[16];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		bd_multibase__base32_encode(text, (const uint8_t *)vec[i][0], strlen(vec[i][0]));
		ck_assert_str_eq(text, vec[i][1]);
		ck_assert_uint_eq(bd_multibase__base32_encoded_len(strlen(vec[i][0])), strlen(vec[i][1]));
		ck_assert_int_eq(bd_multibase__base32_decode(out, sizeof(out), &n, vec[i][1], strlen(vec[i][1])), 0);
		ck_assert_uint_eq(n, strlen(vec[i][0]));
		ck_assert(memcmp(out, vec[i][0], n) == 0);
	}
	ck_assert_int_eq(bd_multibase__base32_decode(out, sizeof(out), &n, "mz", 2), TL_E_INPUT);    /* trailing bits */
	ck_assert_int_eq(bd_multibase__base32_decode(out, sizeof(out), &n, "m", 1), TL_E_INPUT);     /* length */
	ck_assert_int_eq(bd_multibase__base32_decode(out, sizeof(out), &n, "MY", 2), TL_E_INPUT);    /* upper case */
	ck_assert_int_eq(bd_multibase__base32_decode(out, sizeof(out), &n, "my======", 8), TL_E_INPUT);
	ck_assert_int_eq(bd_multibase__base32_decode(out, 5, &n, "mzxw6ytboi", 10), TL_E_INPUT);     /* capacity */
}
END_TEST

START_TEST(base58btc_round_trips)
{
	static const uint8_t zeros[] = { 0, 0, 0x28, 0x7f, 0xb4, 0xcd };
	char text[64];
	uint8_t out[64];
	size_t n = 0;

	ck_assert_int_eq(bd_multibase__base58btc_encode(text, sizeof(text), (const uint8_t *)"Hello World!", 12), 0);
	ck_assert_str_eq(text, "2NEpo7TZRRrLZSi2U");
	ck_assert_int_eq(bd_multibase__base58btc_decode(out, sizeof(out), &n, "2NEpo7TZRRrLZSi2U", 17), 0);
	ck_assert_uint_eq(n, 12);
	ck_assert(memcmp(out, "Hello World!", 12) == 0);
	ck_assert_int_eq(bd_multibase__base58btc_encode(text, sizeof(text), zeros, sizeof(zeros)), 0);
	ck_assert_str_eq(text, "11233QC4");
	ck_assert_int_eq(bd_multibase__base58btc_decode(out, sizeof(out), &n, text, strlen(text)), 0);
	ck_assert_uint_eq(n, sizeof(zeros));
	ck_assert(memcmp(out, zeros, n) == 0);
	ck_assert_int_eq(bd_multibase__base58btc_decode(out, sizeof(out), &n, "", 0), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(bd_multibase__base58btc_decode(out, sizeof(out), &n, "0OIl", 4), TL_E_INPUT);
	ck_assert_int_eq(bd_multibase__base58btc_decode(out, 11, &n, "2NEpo7TZRRrLZSi2U", 17), TL_E_INPUT);
	ck_assert_int_eq(bd_multibase__base58btc_encode(text, 5, (const uint8_t *)"Hello World!", 12), TL_E_INPUT);
}
END_TEST

Suite *suite_cid(void)
{
	Suite *s = suite_create("cid");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, known_answers_of_raw_blocks);
	tcase_add_test(tc, parse_round_trips_every_accepted_form);
	tcase_add_test(tc, parse_rejects_what_is_not_a_sha256_cidv1);
	tcase_add_test(tc, binary_form_is_strict);
	tcase_add_test(tc, format_needs_room);
	tcase_add_test(tc, base32_matches_rfc4648);
	tcase_add_test(tc, base58btc_round_trips);
	suite_add_tcase(s, tc);
	return s;
}
