#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "translog/hash.h"
#include "translog/key.h"

#define PN_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define PN_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

static char *vkey_of_signer(const tl_signer *s)
{
	tl_buf b = tl_buf_make(TL_MAX_KEY_TEXT);

	ck_assert_int_eq(tl_signer_vkey(&b, s), 0);
	return (char *)tl_buf_detach(&b, NULL);
}

static int parse_v(const char *vkey)
{
	tl_verifier *v = NULL;
	int err = tl_verifier_parse(&v, vkey, strlen(vkey));

	if (err == 0)
		ck_assert_ptr_nonnull(v);
	else
		ck_assert_ptr_null(v);
	tl_verifier_free(v);
	return err;
}

static int parse_s(const char *skey)
{
	tl_signer *s = NULL;
	int err = tl_signer_parse(&s, skey, strlen(skey));

	if (err == 0)
		ck_assert_ptr_nonnull(s);
	else
		ck_assert_ptr_null(s);
	tl_signer_free(s);
	return err;
}

START_TEST(go_test_key_parses_and_derives_its_vkey)
{
	tl_signer *s = NULL;
	char *vkey;

	ck_assert_int_eq(tl_signer_parse(&s, PN_SKEY, strlen(PN_SKEY)), 0);
	ck_assert_str_eq(tl_signer_name(s), "PeterNeumann");
	ck_assert_uint_eq(tl_signer_key_id(s), 0xc74f20a3u);
	ck_assert_uint_eq(tl_signer_type(s), TL_KEY_TYPE_ED25519);
	vkey = vkey_of_signer(s);
	ck_assert_str_eq(vkey, PN_VKEY);
	free(vkey);
	tl_signer_free(s);
	/* One trailing newline is fine (key files end in one); two are not. */
	ck_assert_int_eq(parse_s(PN_SKEY "\n"), 0);
	ck_assert_int_eq(parse_s(PN_SKEY "\n\n"), TL_E_INPUT);
}
END_TEST

START_TEST(private_key_negatives)
{
	/* Each differs from the valid key in one way. */
	ck_assert_int_eq(parse_s("PRIVATE+KEY+PeterNeumann+c74f20a3"), TL_E_INPUT);
	ck_assert_int_eq(parse_s("PRIVATE+KEX+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"), TL_E_INPUT);
	ck_assert_int_eq(parse_s("PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"), TL_E_INPUT);
	/* wrong key id, uppercase key id, short key id */
	ck_assert_int_eq(parse_s("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"), TL_E_INPUT);
	ck_assert_int_eq(parse_s("PRIVATE+KEY+PeterNeumann+C74F20A3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"), TL_E_INPUT);
	ck_assert_int_eq(parse_s("PRIVATE+KEY+PeterNeumann+c74f20a+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"), TL_E_INPUT);
	/* a different name gives a different key id */
	ck_assert_int_eq(parse_s("PRIVATE+KEY+PeterNeuman+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"), TL_E_INPUT);
	/* truncated seed, bad base64, unknown algorithm byte 0x02 */
	ck_assert_int_eq(parse_s("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKD=="), TL_E_INPUT);
	ck_assert_int_eq(parse_s("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF"), TL_E_INPUT);
	ck_assert_int_eq(parse_s("PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"), TL_E_INPUT);
	ck_assert_int_eq(parse_s(""), TL_E_INPUT);
}
END_TEST

START_TEST(verifier_key_negatives)
{
	ck_assert_int_eq(parse_v(PN_VKEY), 0);
	ck_assert_int_eq(parse_v(PN_VKEY "\n"), 0);
	ck_assert_int_eq(parse_v(PN_VKEY " "), TL_E_INPUT);
	ck_assert_int_eq(parse_v("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"), TL_E_INPUT);
	ck_assert_int_eq(parse_v("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"), TL_E_INPUT);
	ck_assert_int_eq(parse_v("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"), TL_E_INPUT);
	ck_assert_int_eq(parse_v("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"), TL_E_INPUT);
	ck_assert_int_eq(parse_v("PeterNeumann+c74f20a3"), TL_E_INPUT);
	ck_assert_int_eq(parse_v("PeterNeumann"), TL_E_INPUT);
	/* public key one byte short; type 0x02 (ECDSA) is not supported */
	ck_assert_int_eq(parse_v("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10Q="), TL_E_INPUT);
	ck_assert_int_eq(parse_v("PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"), TL_E_INPUT);
}
END_TEST

START_TEST(key_names)
{
	ck_assert(tl_key_name_valid("example.com/log", 15));
	ck_assert(tl_key_name_valid("h\xc3\xa9llo", 6));                 /* héllo */
	ck_assert(!tl_key_name_valid("", 0));
	ck_assert(!tl_key_name_valid("a b", 3));
	ck_assert(!tl_key_name_valid("a+b", 3));
	ck_assert(!tl_key_name_valid("a\tb", 3));
	ck_assert(!tl_key_name_valid("a\x01" "b", 3));
	ck_assert(!tl_key_name_valid("a\xc2\xa0" "b", 4));               /* U+00A0 no-break space */
	ck_assert(!tl_key_name_valid("a\xe3\x80\x80" "b", 5));           /* U+3000 ideographic space */
	ck_assert(!tl_key_name_valid("a\xe2\x80\x8a" "b", 5));           /* U+200A hair space */
	ck_assert(!tl_key_name_valid("a\xff" "b", 3));                   /* not UTF-8 */
	ck_assert(!tl_key_name_valid("a\xc0\xaf", 3));                   /* overlong '/' */
	ck_assert(!tl_key_name_valid("a\xed\xa0\x80", 4));               /* surrogate */
}
END_TEST

START_TEST(generate_sign_verify_roundtrip)
{
	tl_signer *s = NULL, *again = NULL;
	tl_verifier *v = NULL, *v2 = NULL;
	tl_buf text = tl_buf_make(TL_MAX_KEY_TEXT);
	uint8_t sig[TL_ED25519_SIGNATURE_SIZE];
	char *vkey;

	ck_assert_int_eq(tl_signer_generate(&s, "example.com/gen"), 0);
	vkey = vkey_of_signer(s);
	ck_assert_int_eq(tl_verifier_parse(&v, vkey, strlen(vkey)), 0);
	ck_assert_str_eq(tl_verifier_name(v), "example.com/gen");
	ck_assert_uint_eq(tl_verifier_key_id(v), tl_signer_key_id(s));
	ck_assert_int_eq(memcmp(tl_verifier_public_key(v), tl_signer_public_key(s), 32), 0);
	ck_assert_int_eq(tl_signer_sign(sig, s, "msg", 3), 0);
	ck_assert_int_eq(tl_verifier_verify(v, "msg", 3, sig, sizeof(sig)), 0);
	ck_assert_int_eq(tl_verifier_verify(v, "msh", 3, sig, sizeof(sig)), TL_E_UNAUTHORIZED);
	ck_assert_int_eq(tl_verifier_verify(v, "msg", 3, sig, sizeof(sig) - 1), TL_E_UNAUTHORIZED);
	sig[0] ^= 1;
	ck_assert_int_eq(tl_verifier_verify(v, "msg", 3, sig, sizeof(sig)), TL_E_UNAUTHORIZED);
	/* The private key text reads back as the same key. */
	ck_assert_int_eq(tl_signer_format(&text, s), 0);
	ck_assert_int_eq(tl_signer_parse(&again, (char *)text.data, text.len), 0);
	ck_assert_int_eq(memcmp(tl_signer_public_key(again), tl_signer_public_key(s), 32), 0);
	/* Two generated keys differ. */
	tl_signer_free(again);
	ck_assert_int_eq(tl_signer_generate(&again, "example.com/gen"), 0);
	ck_assert_int_ne(memcmp(tl_signer_public_key(again), tl_signer_public_key(s), 32), 0);
	/* Verifier formatting round-trips. */
	tl_buf_reset(&text);
	ck_assert_int_eq(tl_verifier_format(&text, v), 0);
	ck_assert_str_eq((char *)text.data, vkey);
	ck_assert_int_eq(tl_verifier_from_signer(&v2, s), 0);
	ck_assert_uint_eq(tl_verifier_key_id(v2), tl_verifier_key_id(v));
	/* Bad names and types are refused at generation. */
	tl_signer_free(again);
	ck_assert_int_eq(tl_signer_generate(&again, "bad name"), TL_E_INPUT);
	ck_assert_ptr_null(again);
	ck_assert_int_eq(tl_signer_generate_typed(&again, "ok", 0x02), TL_E_INPUT);
	ck_assert_int_eq(tl_signer_generate(&again, ""), TL_E_INPUT);
	free(vkey);
	tl_buf_free(&text);
	tl_verifier_free(v);
	tl_verifier_free(v2);
	tl_signer_free(s);
}
END_TEST

START_TEST(cosigner_keys_have_type_4_ids)
{
	tl_signer *s = NULL;
	tl_verifier *v = NULL;
	uint8_t seed[32] = { 0 };
	char *vkey;

	ck_assert_int_eq(tl_signer_from_seed(&s, "w.example", TL_KEY_TYPE_COSIGNATURE, seed), 0);
	ck_assert_uint_eq(tl_signer_key_id(s),
		tl_key_id("w.example", 9, TL_KEY_TYPE_COSIGNATURE, tl_signer_public_key(s), 32));
	ck_assert_uint_ne(tl_signer_key_id(s), tl_key_id("w.example", 9, TL_KEY_TYPE_ED25519, tl_signer_public_key(s), 32));
	vkey = vkey_of_signer(s);
	ck_assert_int_eq(strncmp(strrchr(vkey, '+'), "+B", 2), 0); /* base64 of 0x04... starts with 'B' */
	ck_assert_int_eq(tl_verifier_parse(&v, vkey, strlen(vkey)), 0);
	ck_assert_uint_eq(tl_verifier_type(v), TL_KEY_TYPE_COSIGNATURE);
	free(vkey);
	tl_verifier_free(v);
	tl_signer_free(s);
}
END_TEST

START_TEST(research_vkeys_and_key_ids)
{
	const char *path = tu_research_path("tlog-vectors/signed_notes.json");
	const char *cpath = tu_research_path("tlog-vectors/cosignature_v1.json");
	json_t *root, *vectors, *vec, *c;
	size_t i;

	if (path == NULL || cpath == NULL)
		return; /* research data is not part of every checkout */
	root = json_load_file(path, 0, NULL);
	ck_assert_ptr_nonnull(root);
	vectors = json_object_get(root, "vectors");
	json_array_foreach(vectors, i, vec) {
		const char *vkey = json_string_value(json_object_get(vec, "vkey"));
		const char *skey = json_string_value(json_object_get(vec, "skey"));
		const char *id_hex = json_string_value(json_object_get(vec, "key_id_hex"));
		const char *pk_hex = json_string_value(json_object_get(vec, "ed25519_public_key_hex"));
		tl_verifier *v = NULL;
		char id[9], pk[65];

		ck_assert_int_eq(tl_verifier_parse(&v, vkey, strlen(vkey)), 0);
		ck_assert_str_eq(tl_verifier_name(v), json_string_value(json_object_get(vec, "key_name")));
		snprintf(id, sizeof(id), "%08x", (unsigned)tl_verifier_key_id(v));
		ck_assert_str_eq(id, id_hex);
		tl_hex_encode(pk, tl_verifier_public_key(v), 32);
		ck_assert_str_eq(pk, pk_hex);
		if (skey != NULL) {
			tl_signer *s = NULL;
			char *derived;

			ck_assert_int_eq(tl_signer_parse(&s, skey, strlen(skey)), 0);
			derived = vkey_of_signer(s);
			ck_assert_str_eq(derived, vkey);
			free(derived);
			tl_signer_free(s);
		}
		tl_verifier_free(v);
	}
	json_decref(root);

	c = json_load_file(cpath, 0, NULL);
	ck_assert_ptr_nonnull(c);
	{
		const char *vkey = json_string_value(json_object_get(c, "witness_vkey"));
		tl_verifier *v = NULL;
		char id[9];

		ck_assert_int_eq(tl_verifier_parse(&v, vkey, strlen(vkey)), 0);
		ck_assert_uint_eq(tl_verifier_type(v), TL_KEY_TYPE_COSIGNATURE);
		snprintf(id, sizeof(id), "%08x", (unsigned)tl_verifier_key_id(v));
		ck_assert_str_eq(id, json_string_value(json_object_get(c, "witness_key_id_hex")));
		tl_verifier_free(v);
	}
	json_decref(c);
}
END_TEST

START_TEST(own_vector_keys)
{
	size_t len, vlen;
	uint8_t *skey = tu_read_file(tu_source_path("tests/vectors/notes/log.key"), &len);
	uint8_t *vkey = tu_read_file(tu_source_path("tests/vectors/notes/log.vkey"), &vlen);
	tl_signer *s = NULL;
	tl_hash seed;
	tl_buf b = tl_buf_make(TL_MAX_KEY_TEXT);

	ck_assert_ptr_nonnull(skey);
	ck_assert_ptr_nonnull(vkey);
	ck_assert_int_eq(tl_signer_parse(&s, (char *)skey, len), 0);
	ck_assert_int_eq(tl_signer_vkey(&b, s), 0);
	ck_assert_int_eq(tl_buf_append_u8(&b, '\n'), 0);
	ck_assert_str_eq((char *)b.data, (char *)vkey);
	tl_signer_free(s);
	/* The documented seed reproduces the key file exactly. */
	tl_sha256(&seed, "bundled test log key", strlen("bundled test log key"));
	ck_assert_int_eq(tl_signer_from_seed(&s, "example.com/bundled-test-log", TL_KEY_TYPE_ED25519, seed.b), 0);
	tl_buf_reset(&b);
	ck_assert_int_eq(tl_signer_format(&b, s), 0);
	ck_assert_int_eq(tl_buf_append_u8(&b, '\n'), 0);
	ck_assert_str_eq((char *)b.data, (char *)skey);
	tl_signer_free(s);
	tl_buf_free(&b);
	free(skey);
	free(vkey);
}
END_TEST

START_TEST(save_and_load_key_files)
{
	char *dir = tu_mkdtemp();
	char path[4096], loose[4096];
	tl_signer *s = NULL, *back = NULL;
	struct stat st;

	ck_assert_ptr_nonnull(dir);
	snprintf(path, sizeof(path), "%s/log.key", dir);
	snprintf(loose, sizeof(loose), "%s/loose.key", dir);
	ck_assert_int_eq(tl_signer_generate(&s, "example.com/saved"), 0);
	ck_assert_int_eq(tl_signer_save(s, path), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(tl_signer_load(&back, path), 0);
	ck_assert_str_eq(tl_signer_name(back), "example.com/saved");
	ck_assert_int_eq(memcmp(tl_signer_public_key(back), tl_signer_public_key(s), 32), 0);
	tl_signer_free(back);
	back = NULL;
	/* Never overwrites a key file. */
	ck_assert_int_eq(tl_signer_save(s, path), TL_E_CONFLICT);
	ck_assert_int_eq(tl_signer_load(&back, path), 0);
	tl_signer_free(back);
	back = NULL;
	/* A key others can read is refused, as is a directory and a missing file. */
	ck_assert_int_eq(tu_write_file(loose, PN_SKEY "\n", strlen(PN_SKEY) + 1), 0);
	ck_assert_int_eq(chmod(loose, 0644), 0);
	ck_assert_int_eq(tl_signer_load(&back, loose), TL_E_INPUT);
	ck_assert_ptr_null(back);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "group or others"));
	ck_assert_int_eq(chmod(loose, 0640), 0);
	ck_assert_int_eq(tl_signer_load(&back, loose), TL_E_INPUT);
	ck_assert_int_eq(chmod(loose, 0600), 0);
	ck_assert_int_eq(tl_signer_load(&back, loose), 0);
	ck_assert_str_eq(tl_signer_name(back), "PeterNeumann");
	tl_signer_free(back);
	back = NULL;
	ck_assert_int_eq(tl_signer_load(&back, dir), TL_E_INPUT);
	snprintf(loose, sizeof(loose), "%s/missing.key", dir);
	ck_assert_int_eq(tl_signer_load(&back, loose), TL_E_IO);
	/* Saving into a missing directory fails without leaving anything. */
	snprintf(loose, sizeof(loose), "%s/no/such.key", dir);
	ck_assert_int_eq(tl_signer_save(s, loose), TL_E_IO);
	tl_signer_free(s);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

Suite *suite_key(void)
{
	Suite *s = suite_create("key");
	TCase *tc = tcase_create("key");

	tcase_add_test(tc, go_test_key_parses_and_derives_its_vkey);
	tcase_add_test(tc, private_key_negatives);
	tcase_add_test(tc, verifier_key_negatives);
	tcase_add_test(tc, key_names);
	tcase_add_test(tc, generate_sign_verify_roundtrip);
	tcase_add_test(tc, cosigner_keys_have_type_4_ids);
	tcase_add_test(tc, research_vkeys_and_key_ids);
	tcase_add_test(tc, own_vector_keys);
	tcase_add_test(tc, save_and_load_key_files);
	suite_add_tcase(s, tc);
	return s;
}
