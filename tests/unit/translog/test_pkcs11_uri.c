/*
 * The RFC 7512 URI parser and the PIN loader of translog/pkcs11.h: what they accept, and
 * everything they must refuse. Needs no token (suite_hsm in tests/integration/ does).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testrun.h"
#include "testutil.h"
#include "translog/pkcs11.h"

static struct tl_pkcs11_uri u;

static int parse(const char *text)
{
	return tl_pkcs11_uri_parse(&u, text, strlen(text));
}

START_TEST(parses_the_documented_forms)
{
	static const uint8_t id[] = { 0x01, 0xab, 0xff };

	ck_assert_msg(parse("pkcs11:token=bundled;object=log-key") == 0, "%s", tl_error_message());
	ck_assert_str_eq(u.token, "bundled");
	ck_assert_str_eq(u.object, "log-key");
	ck_assert_str_eq(u.module_path, "");
	ck_assert_uint_eq(u.id_len, 0);
	ck_assert_int_eq(u.type, TL_PKCS11_TYPE_ANY);

	ck_assert_int_eq(parse("pkcs11:token=bundled;object=log-key?module-path=/usr/lib/softhsm/libsofthsm2.so"), 0);
	ck_assert_str_eq(u.module_path, "/usr/lib/softhsm/libsofthsm2.so");

	/* Escapes of either case, '&' in a path value, the id as bytes, and the type. */
	ck_assert_int_eq(parse("pkcs11:object=my%20key%2fA&B;id=%01%AB%ff;type=private"), 0);
	ck_assert_str_eq(u.object, "my key/A&B");
	ck_assert_uint_eq(u.id_len, 3);
	ck_assert_mem_eq(u.id, id, 3);
	ck_assert_int_eq(u.type, TL_PKCS11_TYPE_PRIVATE);

	ck_assert_int_eq(parse("pkcs11:manufacturer=SoftHSM%20project;serial=0123456789abcdef;model=SoftHSM%20v2;"
		"slot-id=1622493667;slot-description=s;slot-manufacturer=m;library-manufacturer=SoftHSM;"
		"library-description=d;library-version=2.6"), 0);
	ck_assert_str_eq(u.manufacturer, "SoftHSM project");
	ck_assert_str_eq(u.serial, "0123456789abcdef");
	ck_assert_str_eq(u.model, "SoftHSM v2");
	ck_assert_int_eq(u.has_slot_id, 1);
	ck_assert_uint_eq(u.slot_id, 1622493667ul);
	ck_assert_str_eq(u.slot_description, "s");
	ck_assert_str_eq(u.slot_manufacturer, "m");
	ck_assert_str_eq(u.library_manufacturer, "SoftHSM");
	ck_assert_str_eq(u.library_description, "d");
	ck_assert_int_eq(u.has_library_version, 1);
	ck_assert_uint_eq(u.library_version_major, 2);
	ck_assert_uint_eq(u.library_version_minor, 6);

	/* ABNF literals are case-insensitive: the scheme and the attribute names. */
	ck_assert_int_eq(parse("PKCS11:TOKEN=x;Object=y"), 0);
	ck_assert_str_eq(u.token, "x");
	ck_assert_str_eq(u.object, "y");
	/* The empty URI names everything; query characters '/', '?' and '|' need no escape. */
	ck_assert_int_eq(parse("pkcs11:"), 0);
	ck_assert_int_eq(parse("pkcs11:object=k?module-path=/a?b|c"), 0);
	ck_assert_str_eq(u.module_path, "/a?b|c");
	/* Exactly the longest token label fits. */
	ck_assert_int_eq(parse("pkcs11:token=01234567890123456789012345678901"), 0);
	ck_assert_uint_eq(strlen(u.token), 32);
}
END_TEST

START_TEST(refuses_what_rfc_7512_or_this_program_does_not_accept)
{
	static const struct {
		const char *uri, *why;
	} bad[] = {
		{ "", "does not start with" },
		{ "pkcs11", "does not start with" },
		{ "pkcs:token=x", "does not start with" },
		{ "file:/etc/key", "does not start with" },
		{ "pkcs11:object=k?pin-value=1234", "a PIN never goes in a URI" },
		{ "pkcs11:object=k?pin-source=file:/etc/pin", "a PIN never goes in a URI" },
		{ "pkcs11:object=k?module-name=softhsm2", "module-path" },
		{ "pkcs11:object=k;object=l", "given twice" },
		{ "pkcs11:object=k?module-path=/a&module-path=/b", "given twice" },
		{ "pkcs11:object=k;", "empty attribute" },
		{ "pkcs11:;object=k", "empty attribute" },
		{ "pkcs11:object=k?", "empty query" },
		{ "pkcs11:object=k?module-path=/a&", "empty attribute" },
		{ "pkcs11:object", "no '='" },
		{ "pkcs11:object=", "empty value" },
		{ "pkcs11:object=%zz", "two hex digits" },
		{ "pkcs11:object=%4", "two hex digits" },
		{ "pkcs11:object=%", "two hex digits" },
		{ "pkcs11:object=a/b", "must be percent-encoded" },
		{ "pkcs11:object=a b", "must be percent-encoded" },
		{ "pkcs11:object=a|b", "must be percent-encoded" },
		{ "pkcs11:object=a\"b", "must be percent-encoded" },
		{ "pkcs11:object=k?module-path=/a;b", "must be percent-encoded" },
		{ "pkcs11:object=k?module-path=/a b", "must be percent-encoded" },
		{ "pkcs11:x-vendor=1;object=k", "unknown attribute" },
		{ "pkcs11:label=k", "unknown attribute" },
		{ "pkcs11:module-path=/a", "belongs in the query" },
		{ "pkcs11:object=k?token=x", "belongs in the path" },
		{ "pkcs11:type=secret", "type must be" },
		{ "pkcs11:type=PRIVATE", "type must be" },
		{ "pkcs11:slot-id=01", "slot-id" },
		{ "pkcs11:slot-id=-1", "slot-id" },
		{ "pkcs11:slot-id=18446744073709551616", "slot-id" },
		{ "pkcs11:slot-id=1x", "slot-id" },
		{ "pkcs11:library-version=256.1", "library-version" },
		{ "pkcs11:library-version=2.", "library-version" },
		{ "pkcs11:library-version=.2", "library-version" },
		{ "pkcs11:library-version=2.6.1", "library-version" },
		{ "pkcs11:object=k?module-path=relative.so", "absolute path" },
		{ "pkcs11:object=%00", "NUL byte" },
		{ "pkcs11:object=k?module-path=/a%00b", "NUL byte" },
		{ "pkcs11:token=012345678901234567890123456789012", "longer than 32 bytes" },
		{ "pkcs11:serial=01234567890123456", "longer than 16 bytes" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&u, 0x5a, sizeof(u));
		ck_assert_msg(parse(bad[i].uri) == TL_E_INPUT, "accepted %s", bad[i].uri);
		ck_assert_msg(strstr(tl_error_message(), bad[i].why) != NULL, "%s: message \"%s\" lacks \"%s\"", bad[i].uri,
			tl_error_message(), bad[i].why);
		/* A refused URI leaves nothing half-parsed behind. */
		ck_assert_str_eq(u.object, "");
		ck_assert_str_eq(u.module_path, "");
	}
}
END_TEST

START_TEST(refuses_values_over_their_bounds)
{
	char uri[TL_PKCS11_MAX_URI + 64];
	size_t n;

	/* The longest label and id fit, one byte more does not (escaped or not). */
	n = (size_t)snprintf(uri, sizeof(uri), "pkcs11:object=");
	memset(uri + n, 'a', TL_PKCS11_MAX_LABEL);
	uri[n + TL_PKCS11_MAX_LABEL] = '\0';
	ck_assert_int_eq(parse(uri), 0);
	ck_assert_uint_eq(strlen(u.object), TL_PKCS11_MAX_LABEL);
	strcat(uri, "a");
	ck_assert_int_eq(parse(uri), TL_E_INPUT);

	n = (size_t)snprintf(uri, sizeof(uri), "pkcs11:id=");
	for (size_t i = 0; i < TL_PKCS11_MAX_ID; i++)
		n += (size_t)snprintf(uri + n, sizeof(uri) - n, "%%%02x", (unsigned)i);
	ck_assert_int_eq(parse(uri), 0);
	ck_assert_uint_eq(u.id_len, TL_PKCS11_MAX_ID);
	ck_assert_uint_eq(u.id[TL_PKCS11_MAX_ID - 1], TL_PKCS11_MAX_ID - 1);
	strcat(uri, "%00");
	ck_assert_int_eq(parse(uri), TL_E_INPUT);

	/* The whole URI is capped before anything is read. */
	n = (size_t)snprintf(uri, sizeof(uri), "pkcs11:object=k?module-path=/");
	memset(uri + n, 'a', TL_PKCS11_MAX_URI + 1 - n);
	uri[TL_PKCS11_MAX_URI + 1] = '\0';
	ck_assert_int_eq(parse(uri), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "longer than"));
}
END_TEST

START_TEST(uri_is_tells_uris_from_paths)
{
	ck_assert(tl_pkcs11_uri_is("pkcs11:token=x"));
	ck_assert(tl_pkcs11_uri_is("PKCS11:"));
	ck_assert(!tl_pkcs11_uri_is("data/log.key"));
	ck_assert(!tl_pkcs11_uri_is("pkcs11"));
	ck_assert(!tl_pkcs11_uri_is(""));
}
END_TEST

static void write_mode(const char *path, const char *text, mode_t mode)
{
	ck_assert_int_eq(tu_write_file(path, text, strlen(text)), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(pin_comes_from_a_private_file_or_the_environment)
{
	char *dir = tu_mkdtemp();
	char path[4096], pin[TL_PKCS11_MAX_PIN + 1], long_pin[TL_PKCS11_MAX_PIN + 2];

	ck_assert_ptr_nonnull(dir);
	snprintf(path, sizeof(path), "%s/pin", dir);
	unsetenv("TEST_PKCS11_PIN");

	/* Nothing given: no PIN (a token that needs one then refuses the login). */
	ck_assert_int_eq(tl_pkcs11_pin_load(pin, NULL, "TEST_PKCS11_PIN"), 0);
	ck_assert_str_eq(pin, "");
	setenv("TEST_PKCS11_PIN", "", 1);
	ck_assert_int_eq(tl_pkcs11_pin_load(pin, NULL, "TEST_PKCS11_PIN"), 0);
	ck_assert_str_eq(pin, "");

	setenv("TEST_PKCS11_PIN", "4321", 1);
	ck_assert_int_eq(tl_pkcs11_pin_load(pin, NULL, "TEST_PKCS11_PIN"), 0);
	ck_assert_str_eq(pin, "4321");

	/* The file wins over the environment; one trailing newline is not part of the PIN. */
	write_mode(path, "1234\n", 0600);
	ck_assert_int_eq(tl_pkcs11_pin_load(pin, path, "TEST_PKCS11_PIN"), 0);
	ck_assert_str_eq(pin, "1234");
	write_mode(path, "1234", 0400);
	ck_assert_int_eq(tl_pkcs11_pin_load(pin, path, NULL), 0);
	ck_assert_str_eq(pin, "1234");
	tl_pkcs11_pin_wipe(pin);
	ck_assert_str_eq(pin, "");

	/* Refused: readable by others, empty, two lines, NUL, too long, missing, a directory. */
	write_mode(path, "1234\n", 0640);
	ck_assert_int_eq(tl_pkcs11_pin_load(pin, path, NULL), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "chmod 600"));
	write_mode(path, "\n", 0600);
	ck_assert_int_eq(tl_pkcs11_pin_load(pin, path, NULL), TL_E_INPUT);
	write_mode(path, "12\n34\n", 0600);
	ck_assert_int_eq(tl_pkcs11_pin_load(pin, path, NULL), TL_E_INPUT);
	ck_assert_int_eq(tu_write_file(path, "12\0" "34", 5), 0);
	ck_assert_int_eq(tl_pkcs11_pin_load(pin, path, NULL), TL_E_INPUT);
	memset(long_pin, '7', sizeof(long_pin) - 1);
	long_pin[sizeof(long_pin) - 1] = '\0';
	write_mode(path, long_pin, 0600);
	ck_assert_int_eq(tl_pkcs11_pin_load(pin, path, NULL), TL_E_INPUT);
	setenv("TEST_PKCS11_PIN", long_pin, 1);
	ck_assert_int_eq(tl_pkcs11_pin_load(pin, NULL, "TEST_PKCS11_PIN"), TL_E_INPUT);
	long_pin[TL_PKCS11_MAX_PIN - 1] = '\0';
	setenv("TEST_PKCS11_PIN", long_pin, 1);
	ck_assert_int_eq(tl_pkcs11_pin_load(pin, NULL, "TEST_PKCS11_PIN"), 0);
	ck_assert_uint_eq(strlen(pin), TL_PKCS11_MAX_PIN - 1);
	ck_assert_int_eq(tl_pkcs11_pin_load(pin, tu_path_in(dir, "absent"), NULL), TL_E_IO);
	ck_assert_int_eq(tl_pkcs11_pin_load(pin, dir, NULL), TL_E_INPUT);

	unsetenv("TEST_PKCS11_PIN");
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

Suite *suite_pkcs11_uri(void)
{
	Suite *s = suite_create("pkcs11_uri");
	TCase *tc = tcase_create("pkcs11_uri");

	tcase_add_test(tc, parses_the_documented_forms);
	tcase_add_test(tc, refuses_what_rfc_7512_or_this_program_does_not_accept);
	tcase_add_test(tc, refuses_values_over_their_bounds);
	tcase_add_test(tc, uri_is_tells_uris_from_paths);
	tcase_add_test(tc, pin_comes_from_a_private_file_or_the_environment);
	suite_add_tcase(s, tc);
	return s;
}
