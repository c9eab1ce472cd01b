/*
 * The HTTP server's settings in the daemon's configuration (bundled/daemon/config_http.c):
 * the bundles' cache size by flag and key, its default and the sizes it refuses.
 */
#include <check.h>
#include <jansson.h>
#include <string.h>

#include "config_http.h"

static int flag(struct config_http *h, const char *name, const char *arg)
{
	for (int i = 0; config_http_flags[i].name != NULL; i++)
		if (strcmp(config_http_flags[i].name, name) == 0)
			return config_http_flag(h, config_http_flags[i].val, arg);
	ck_abort_msg("no flag %s", name);
	return -1;
}

START_TEST(bundle_cache_by_flag_and_key)
{
	struct config_http h;
	json_t *v;

	config_http_defaults(&h);
	ck_assert_uint_eq(h.bundle_cache, CONFIG_HTTP_DEFAULT_BUNDLE_CACHE);
	ck_assert_int_eq(config_http_finish(&h), 0);
	ck_assert_int_eq(flag(&h, "bundle-cache", "1073741824"), 0);
	ck_assert_uint_eq(h.bundle_cache, (size_t)1 << 30);
	ck_assert_int_eq(config_http_finish(&h), 0);
	v = json_integer(64 << 20);
	ck_assert_int_eq(config_http_key(&h, "bundle_cache", v), 0);
	json_decref(v);
	ck_assert_uint_eq(h.bundle_cache, (size_t)64 << 20);
	ck_assert_int_eq(config_http_finish(&h), 0);
}
END_TEST

START_TEST(bundle_cache_refusals)
{
	struct config_http h;
	json_t *v;

	config_http_defaults(&h);
	ck_assert_int_eq(flag(&h, "bundle-cache", "0"), TL_E_INPUT);
	ck_assert_int_eq(flag(&h, "bundle-cache", "128M"), TL_E_INPUT);
	ck_assert_int_eq(flag(&h, "bundle-cache", "1.5"), TL_E_INPUT);
	ck_assert_int_eq(flag(&h, "bundle-cache", "999999999999999"), TL_E_INPUT); /* over 64 GiB */
	ck_assert_uint_eq(h.bundle_cache, CONFIG_HTTP_DEFAULT_BUNDLE_CACHE);
	v = json_string("128");
	ck_assert_int_eq(config_http_key(&h, "bundle_cache", v), TL_E_INPUT);
	json_decref(v);
	/* Below the minimum: taken, then refused with the other settings. */
	ck_assert_int_eq(flag(&h, "bundle-cache", "1048576"), 0);
	ck_assert_int_eq(config_http_finish(&h), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "bundle_cache"));
}
END_TEST

Suite *suite_config_http(void)
{
	Suite *s = suite_create("config_http");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, bundle_cache_by_flag_and_key);
	tcase_add_test(tc, bundle_cache_refusals);
	suite_add_tcase(s, tc);
	return s;
}
