/*
 * Signers whose private key is elsewhere (tl_signer_from_ops): they sign through their
 * callback, everything above tl_signer works with them unchanged, a callback that signs with
 * the wrong key is caught, and their secret cannot be exported. The callback here is backed
 * by an in-memory key; suite_hsm runs the same interface against a real PKCS#11 token.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "translog/checkpoint.h"
#include "translog/key.h"

struct fake_token {
	tl_signer *inner; /* the key "in the token" */
	int calls, fail, released;
};

static int fake_sign(void *ctx, uint8_t sig[TL_ED25519_SIGNATURE_SIZE], const void *msg, size_t len)
{
	struct fake_token *t = ctx;

	t->calls++;
	if (t->fail)
		return tl_error_set(TL_E_IO, "token unplugged");
	return tl_signer_sign(sig, t->inner, msg, len);
}

static void fake_release(void *ctx)
{
	((struct fake_token *)ctx)->released++;
}

static const struct tl_signer_ops fake_ops = { fake_sign, fake_release };

START_TEST(ops_signer_signs_checkpoints_that_verify)
{
	struct fake_token t = { 0 };
	tl_signer *s = NULL;
	tl_verifier *v = NULL;
	tl_buf note = tl_buf_make(4096), vkey_inner = tl_buf_make(TL_MAX_KEY_TEXT), vkey = tl_buf_make(TL_MAX_KEY_TEXT);
	tl_checkpoint cp = { 0 }, got;

	ck_assert_int_eq(tl_signer_generate(&t.inner, "example.org/log"), 0);
	ck_assert_int_eq(tl_signer_from_ops(&s, "example.org/log", TL_KEY_TYPE_ED25519, tl_signer_public_key(t.inner),
		&fake_ops, &t), 0);
	/* Same name, type and public key: same key id and verifier key. */
	ck_assert_uint_eq(tl_signer_key_id(s), tl_signer_key_id(t.inner));
	ck_assert_int_eq(tl_signer_vkey(&vkey, s), 0);
	ck_assert_int_eq(tl_signer_vkey(&vkey_inner, t.inner), 0);
	ck_assert_str_eq((char *)vkey.data, (char *)vkey_inner.data);

	snprintf(cp.origin, sizeof(cp.origin), "example.org/log");
	cp.size = 3;
	ck_assert_int_eq(tl_checkpoint_sign(&note, &cp, s), 0);
	ck_assert_int_eq(t.calls, 1);
	ck_assert_int_eq(tl_verifier_parse(&v, (char *)vkey.data, vkey.len), 0);
	ck_assert_int_eq(tl_checkpoint_open(&got, note.data, note.len, v), 0);
	ck_assert_uint_eq(got.size, 3);

	/* A failing token fails the signature with its own error. */
	t.fail = 1;
	tl_buf_reset(&note);
	ck_assert_int_eq(tl_checkpoint_sign(&note, &cp, s), TL_E_IO);
	ck_assert_str_eq(tl_error_message(), "token unplugged");

	tl_signer_free(s);
	ck_assert_int_eq(t.released, 1);
	tl_signer_free(t.inner);
	tl_verifier_free(v);
	tl_buf_free(&note);
	tl_buf_free(&vkey);
	tl_buf_free(&vkey_inner);
}
END_TEST

START_TEST(a_signature_by_another_key_is_caught)
{
	struct fake_token t = { 0 };
	tl_signer *other = NULL, *s = NULL;
	uint8_t sig[TL_ED25519_SIGNATURE_SIZE];

	/* The callback signs with inner, but the signer claims other's public key. */
	ck_assert_int_eq(tl_signer_generate(&t.inner, "example.org/log"), 0);
	ck_assert_int_eq(tl_signer_generate(&other, "example.org/log"), 0);
	ck_assert_int_eq(tl_signer_from_ops(&s, "example.org/log", TL_KEY_TYPE_ED25519, tl_signer_public_key(other),
		&fake_ops, &t), 0);
	ck_assert_int_eq(tl_signer_sign(sig, s, "m", 1), TL_E_INTERNAL);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "does not verify"));
	tl_signer_free(s);
	tl_signer_free(other);
	tl_signer_free(t.inner);
}
END_TEST

START_TEST(ops_signer_secret_cannot_be_exported)
{
	struct fake_token t = { 0 };
	tl_signer *s = NULL;
	tl_buf text = tl_buf_make(TL_MAX_KEY_TEXT);
	char *dir = tu_mkdtemp();
	char path[4096];

	ck_assert_int_eq(tl_signer_generate_typed(&t.inner, "witness.example", TL_KEY_TYPE_COSIGNATURE), 0);
	ck_assert_int_eq(tl_signer_from_ops(&s, "witness.example", TL_KEY_TYPE_COSIGNATURE, tl_signer_public_key(t.inner),
		&fake_ops, &t), 0);
	ck_assert_uint_eq(tl_signer_type(s), TL_KEY_TYPE_COSIGNATURE);
	ck_assert_int_eq(tl_signer_format(&text, s), TL_E_INPUT);
	ck_assert_uint_eq(text.len, 0);
	snprintf(path, sizeof(path), "%s/key", dir);
	ck_assert_int_eq(tl_signer_save(s, path), TL_E_INPUT);
	ck_assert_ptr_null(tu_read_file(path, NULL));
	tl_signer_free(s);
	tl_signer_free(t.inner);
	tl_buf_free(&text);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(ops_signer_checks_name_and_type_and_keeps_ctx_on_failure)
{
	struct fake_token t = { 0 };
	uint8_t pk[TL_ED25519_PUBLIC_KEY_SIZE] = { 0 };
	tl_signer *s = (tl_signer *)&t;

	ck_assert_int_eq(tl_signer_from_ops(&s, "bad name", TL_KEY_TYPE_ED25519, pk, &fake_ops, &t), TL_E_INPUT);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(tl_signer_from_ops(&s, "ok", 0x02, pk, &fake_ops, &t), TL_E_INPUT);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(t.released, 0);
}
END_TEST

Suite *suite_key_ops(void)
{
	Suite *s = suite_create("key_ops");
	TCase *tc = tcase_create("key_ops");

	tcase_add_test(tc, ops_signer_signs_checkpoints_that_verify);
	tcase_add_test(tc, a_signature_by_another_key_is_caught);
	tcase_add_test(tc, ops_signer_secret_cannot_be_exported);
	tcase_add_test(tc, ops_signer_checks_name_and_type_and_keeps_ctx_on_failure);
	suite_add_tcase(s, tc);
	return s;
}
