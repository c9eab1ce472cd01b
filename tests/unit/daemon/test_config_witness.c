/*
 * The witnesses in the daemon's configuration (bundled/daemon/config_witness.c): flags and
 * JSON keys, the defaults they settle to, and what they refuse.
 */
#include <check.h>
#include <jansson.h>
#include <string.h>

#include "config_witness.h"

#define VKEY "w1.example+bf3785bd+BN6vF6pk+YPG2EnwWOuId2/5Pp0g7qkXVQFKbBiJ9W9q"
#define FLAG(name) (CONFIG_WITNESS_FLAG + flag_index(name))

static int flag_index(const char *name)
{
	for (int i = 0; config_witness_flags[i].name != NULL; i++)
		if (strcmp(config_witness_flags[i].name, name) == 0)
			return i;
	ck_abort_msg("no flag %s", name);
	return -1;
}

static int key(struct config_witness *w, const char *k, const char *json)
{
	json_error_t jerr;
	json_t *v = json_loads(json, JSON_DECODE_ANY, &jerr);
	int err;

	ck_assert_ptr_nonnull(v);
	err = config_witness_key(w, k, v);
	json_decref(v);
	return err;
}

START_TEST(flags_settle_to_a_policy)
{
	struct config_witness w;

	config_witness_defaults(&w);
	ck_assert_int_eq(config_witness_finish(&w), 0);
	ck_assert_uint_eq(w.n, 0);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness"), "https://w1.example/a=b=" VKEY), 0);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness"), "http://127.0.0.1:8450=" VKEY), 0);
	ck_assert_str_eq(w.w[0].url, "https://w1.example/a=b");
	ck_assert_str_eq(w.w[0].vkey, VKEY);
	ck_assert_int_eq(config_witness_finish(&w), 0);
	ck_assert_uint_eq(w.quorum, 2); /* every witness by default */
	ck_assert_int_eq(w.policy, WITNESS_POLICY_SERVE);
	ck_assert_uint_eq(w.timeout_ms, 5000);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness-quorum"), "1"), 0);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness-policy"), "hold"), 0);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness-timeout-ms"), "250"), 0);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness-cacert"), "/etc/ca.pem"), 0);
	ck_assert_int_eq(config_witness_finish(&w), 0);
	ck_assert_uint_eq(w.quorum, 1);
	ck_assert_int_eq(w.policy, WITNESS_POLICY_HOLD);
	ck_assert_uint_eq(w.timeout_ms, 250);
	ck_assert_str_eq(w.ca_file, "/etc/ca.pem");
}
END_TEST

START_TEST(refusals)
{
	struct config_witness w;

	config_witness_defaults(&w);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness"), "no-key-here"), TL_E_INPUT);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness"), "=" VKEY), TL_E_INPUT);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness"), "http://x="), TL_E_INPUT);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness-policy"), "maybe"), TL_E_INPUT);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness-quorum"), "0"), TL_E_INPUT);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness-quorum"), "-1"), TL_E_INPUT);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness-timeout-ms"), "0"), TL_E_INPUT);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness-timeout-ms"), "1e3"), TL_E_INPUT);
	/* a quorum without witnesses, or above their number */
	config_witness_defaults(&w);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness-quorum"), "1"), 0);
	ck_assert_int_eq(config_witness_finish(&w), TL_E_INPUT);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness"), "http://a=" VKEY), 0);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness-quorum"), "2"), 0);
	ck_assert_int_eq(config_witness_finish(&w), TL_E_INPUT);
	/* at most CONFIG_MAX_WITNESSES */
	config_witness_defaults(&w);
	for (int i = 0; i < CONFIG_MAX_WITNESSES; i++)
		ck_assert_int_eq(config_witness_flag(&w, FLAG("witness"), "http://a=" VKEY), 0);
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness"), "http://a=" VKEY), TL_E_INPUT);
}
END_TEST

START_TEST(file_keys_and_flags_over_them)
{
	struct config_witness w;

	config_witness_defaults(&w);
	ck_assert_int_eq(key(&w, "witnesses", "[\"http://a=" VKEY "\", \"http://b=" VKEY "\"]"), 0);
	ck_assert_int_eq(key(&w, "witness_quorum", "2"), 0);
	ck_assert_int_eq(key(&w, "witness_policy", "\"hold\""), 0);
	ck_assert_int_eq(key(&w, "witness_refresh", "60"), 0);
	ck_assert_int_eq(key(&w, "listen", "\"x\""), 1); /* not a witness key */
	ck_assert_int_eq(key(&w, "witnesses", "\"http://a=" VKEY "\""), TL_E_INPUT);
	ck_assert_int_eq(key(&w, "witnesses", "[1]"), TL_E_INPUT);
	ck_assert_int_eq(key(&w, "witness_quorum", "\"2\""), TL_E_INPUT);
	ck_assert_int_eq(key(&w, "witness_policy", "1"), TL_E_INPUT);
	ck_assert_uint_eq(w.n, 0); /* the refused list emptied it; load it again */
	ck_assert_int_eq(key(&w, "witnesses", "[\"http://a=" VKEY "\", \"http://b=" VKEY "\"]"), 0);
	ck_assert_uint_eq(w.n, 2);
	ck_assert_uint_eq(w.refresh_s, 60);
	/* the first --witness replaces the file's list, later ones add to it */
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness"), "http://c=" VKEY), 0);
	ck_assert_uint_eq(w.n, 1);
	ck_assert_str_eq(w.w[0].url, "http://c");
	ck_assert_int_eq(config_witness_flag(&w, FLAG("witness"), "http://d=" VKEY), 0);
	ck_assert_uint_eq(w.n, 2);
	ck_assert_int_eq(config_witness_finish(&w), 0);
	ck_assert_uint_eq(w.quorum, 2);
}
END_TEST

Suite *suite_config_witness(void)
{
	Suite *s = suite_create("config_witness");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, flags_settle_to_a_policy);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, file_keys_and_flags_over_them);
	suite_add_tcase(s, tc);
	return s;
}
