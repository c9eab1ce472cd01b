#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "testnotes.h"
#include "testutil.h"
#include "translog/checkpoint.h"
#include "translog/cosig.h"
#include "translog/key.h"
#include "translog/note.h"

/* Rewrites signature line `i` of n as name + raw bytes (key id included), into out. */
static void rewrite_line(tl_buf *out, const tl_note *n, size_t i, const uint8_t *raw, size_t raw_len)
{
	tl_note copy = *n;
	tl_buf line = tl_buf_make(4096);
	uint32_t id = tl_load_u32be(raw);

	ck_assert_int_eq(tl_note_write_sig_line(&line, n->sigs[i].name, n->sigs[i].name_len, id, raw + 4, raw_len - 4), 0);
	/* Drop line i, then append the rewritten one. */
	memmove(&copy.sigs[i], &copy.sigs[i + 1], (copy.n_sigs - i - 1) * sizeof(copy.sigs[0]));
	copy.n_sigs--;
	ck_assert_int_eq(tl_note_add_sig_lines(&copy, line.data, line.len), 0);
	ck_assert_int_eq(tl_note_write(out, &copy), 0);
	tl_buf_free(&line);
}

START_TEST(own_vector_reproduces_and_verifies)
{
	size_t len, cos_len;
	uint8_t *note = tu_notes_vector("checkpoint-7.note", &len);
	uint8_t *cosigned = tu_notes_vector("checkpoint-7-cosigned.note", &cos_len);
	tl_signer *w = tu_notes_signer("witness.key");
	tl_verifier *wv = tu_notes_verifier("witness.vkey"), *lv = tu_notes_verifier("log.vkey");
	tl_buf out = tl_buf_make(TL_NOTE_MAX_SIZE);
	tl_note n;
	uint64_t ts = 0;
	size_t count = 9;
	const tl_verifier *both[2] = { lv, wv };
	int ok[2];

	ck_assert_int_eq(tl_note_parse(&n, note, len), 0);
	ck_assert_int_eq(tl_cosig_verify(&ts, &n, wv), TL_E_NOTFOUND);
	ck_assert_int_eq(tl_cosig_add(&out, &n, 1700000000, w), 0);
	ck_assert_uint_eq(out.len, cos_len);
	ck_assert_int_eq(memcmp(out.data, cosigned, cos_len), 0);
	ck_assert_int_eq(tl_note_parse(&n, cosigned, cos_len), 0);
	ck_assert_int_eq(tl_cosig_verify(&ts, &n, wv), 0);
	ck_assert_uint_eq(ts, 1700000000);
	ck_assert_int_eq(tl_cosig_count(&count, &n, both + 1, 1), 0);
	ck_assert_uint_eq(count, 1);
	/* The general note verifier handles both key types at once. */
	ck_assert_int_eq(tl_note_verify(&n, both, 2, ok), 0);
	ck_assert(ok[0] && ok[1]);
	/* Re-cosigning replaces the witness's line rather than adding a second one. */
	tl_buf_reset(&out);
	ck_assert_int_eq(tl_cosig_add(&out, &n, 1700000100, w), 0);
	ck_assert_int_eq(tl_note_parse(&n, out.data, out.len), 0);
	ck_assert_uint_eq(n.n_sigs, 2);
	ck_assert_int_eq(tl_cosig_verify(&ts, &n, wv), 0);
	ck_assert_uint_eq(ts, 1700000100);
	free(note);
	free(cosigned);
	tl_buf_free(&out);
	tl_signer_free(w);
	tl_verifier_free(wv);
	tl_verifier_free(lv);
}
END_TEST

START_TEST(tampered_cosignatures_fail)
{
	size_t len;
	uint8_t *cosigned = tu_notes_vector("checkpoint-7-cosigned.note", &len);
	tl_verifier *wv = tu_notes_verifier("witness.vkey"), *as_plain = NULL, *other_v = NULL;
	tl_signer *other = NULL;
	tl_buf out = tl_buf_make(TL_NOTE_MAX_SIZE);
	uint8_t raw[4 + 72];
	size_t raw_len = 0, count = 9;
	const tl_verifier *list[2];
	tl_note n, n2;
	uint64_t ts;
	int at;

	ck_assert_int_eq(tl_note_parse(&n, cosigned, len), 0);
	at = tl_note_find_sig(&n, tl_verifier_name(wv), tl_verifier_key_id(wv));
	ck_assert_int_eq(at, 1);
	ck_assert_int_eq(tl_base64_decode(raw, sizeof(raw), &raw_len, n.sigs[at].b64, n.sigs[at].b64_len), 0);
	ck_assert_uint_eq(raw_len, 76);

	/* A changed timestamp: the signature covers it. */
	raw[4 + 7] ^= 1;
	rewrite_line(&out, &n, (size_t)at, raw, raw_len);
	ck_assert_int_eq(tl_note_parse(&n2, out.data, out.len), 0);
	ck_assert_int_eq(tl_cosig_verify(&ts, &n2, wv), TL_E_UNAUTHORIZED);
	list[0] = wv;
	ck_assert_int_eq(tl_cosig_count(&count, &n2, list, 1), TL_E_UNAUTHORIZED);
	ck_assert_int_eq(tl_note_verify(&n2, list, 1, NULL), TL_E_UNAUTHORIZED);
	raw[4 + 7] ^= 1;
	/* A timestamp above 2^63-1 is refused even before the signature is checked. */
	raw[4] |= 0x80;
	tl_buf_reset(&out);
	rewrite_line(&out, &n, (size_t)at, raw, raw_len);
	ck_assert_int_eq(tl_note_parse(&n2, out.data, out.len), 0);
	ck_assert_int_eq(tl_cosig_verify(&ts, &n2, wv), TL_E_UNAUTHORIZED);
	raw[4] &= 0x7f;
	/* A flipped signature bit. */
	raw[40] ^= 0x10;
	tl_buf_reset(&out);
	rewrite_line(&out, &n, (size_t)at, raw, raw_len);
	ck_assert_int_eq(tl_note_parse(&n2, out.data, out.len), 0);
	ck_assert_int_eq(tl_cosig_verify(&ts, &n2, wv), TL_E_UNAUTHORIZED);
	raw[40] ^= 0x10;
	/* A cosignature without its timestamp (64 bytes) is the wrong length. */
	memmove(raw + 4, raw + 12, 64);
	tl_buf_reset(&out);
	rewrite_line(&out, &n, (size_t)at, raw, 4 + 64);
	ck_assert_int_eq(tl_note_parse(&n2, out.data, out.len), 0);
	ck_assert_int_eq(tl_cosig_verify(&ts, &n2, wv), TL_E_UNAUTHORIZED);

	/* The witness's public key as a type 0x01 key has another key id: the line is not its. */
	ck_assert_int_eq(tl_verifier_make(&as_plain, tl_verifier_name(wv), TL_KEY_TYPE_ED25519, tl_verifier_public_key(wv)), 0);
	ck_assert_uint_ne(tl_verifier_key_id(as_plain), tl_verifier_key_id(wv));
	ck_assert_int_eq(tl_cosig_verify(&ts, &n, as_plain), TL_E_INPUT);
	list[0] = as_plain;
	ck_assert_int_eq(tl_note_verify(&n, list, 1, NULL), TL_E_UNAUTHORIZED);
	/* Another witness has not cosigned: counted as missing, not as an error. */
	ck_assert_int_eq(tl_signer_generate_typed(&other, "example.com/other-witness", TL_KEY_TYPE_COSIGNATURE), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&other_v, other), 0);
	list[0] = wv;
	list[1] = other_v;
	ck_assert_int_eq(tl_cosig_count(&count, &n, list, 2), 0);
	ck_assert_uint_eq(count, 1);
	ck_assert_int_eq(tl_cosig_verify(&ts, &n, other_v), TL_E_NOTFOUND);
	ck_assert_int_eq(tl_cosig_check_quorum(&count, &n, list, 2, 1), 0);
	ck_assert_int_eq(tl_cosig_check_quorum(&count, &n, list, 2, 2), TL_E_UNAUTHORIZED);
	ck_assert_str_eq(tl_error_message(), "1 of 2 witnesses cosigned, quorum is 2");
	ck_assert_uint_eq(count, 1);
	ck_assert_int_eq(tl_cosig_check_quorum(&count, &n, list, 2, 0), 0);
	list[1] = wv;
	ck_assert_int_eq(tl_cosig_count(&count, &n, list, 2), TL_E_INPUT);
	ck_assert_int_eq(tl_cosig_check_quorum(&count, &n, list, 2, 0), TL_E_INPUT);
	free(cosigned);
	tl_buf_free(&out);
	tl_verifier_free(wv);
	tl_verifier_free(as_plain);
	tl_verifier_free(other_v);
	tl_signer_free(other);
}
END_TEST

/* Issue 8: one witness key listed under two names counted twice, since a cosignature does
 * not bind the name: the relabelled copy of its line verifies under the alias. */
START_TEST(one_key_under_two_names_counts_once)
{
	size_t len, count = 9;
	uint8_t *cosigned = tu_notes_vector("checkpoint-7-cosigned.note", &len);
	tl_verifier *wv = tu_notes_verifier("witness.vkey");
	tl_verifier *alias = tu_notes_alias(wv, "example.com/another-witness");
	const tl_verifier *both[2] = { wv, alias };
	tl_buf out = tl_buf_make(TL_NOTE_MAX_SIZE);
	tl_note n;
	int w_line;

	ck_assert_int_eq(tl_note_parse(&n, cosigned, len), 0);
	w_line = tl_note_find_sig(&n, tl_verifier_name(wv), tl_verifier_key_id(wv));
	ck_assert_int_ge(w_line, 0);
	tu_notes_relabel(&out, &n, (size_t)w_line, alias);
	ck_assert_int_eq(tl_note_parse(&n, out.data, out.len), 0);
	/* Each name alone finds a valid line: the copy is indistinguishable from a cosignature. */
	ck_assert_int_eq(tl_cosig_verify(NULL, &n, alias), 0);
	ck_assert_int_eq(tl_cosig_count(&count, &n, both, 2), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "one public key under two names"));
	ck_assert_uint_eq(count, 0);
	ck_assert_int_eq(tl_cosig_check_quorum(&count, &n, both, 2, 2), TL_E_INPUT);
	ck_assert_int_eq(tl_cosig_check_quorum(&count, &n, both, 1, 1), 0);
	ck_assert_uint_eq(count, 1);
	/* The general note verifier refuses the same list. */
	ck_assert_int_eq(tl_note_verify(&n, both, 2, NULL), TL_E_INPUT);
	free(cosigned);
	tl_buf_free(&out);
	tl_verifier_free(wv);
	tl_verifier_free(alias);
}
END_TEST

START_TEST(signing_refusals)
{
	size_t len;
	uint8_t *note = tu_notes_vector("checkpoint-7.note", &len);
	tl_signer *w = tu_notes_signer("witness.key"), *log = tu_notes_signer("log.key");
	tl_buf line = tl_buf_make(4096);
	tl_note n;

	ck_assert_int_eq(tl_note_parse(&n, note, len), 0);
	ck_assert_int_eq(tl_cosig_sign(&line, n.text, n.text_len, 1, w), 0);
	tl_buf_reset(&line);
	/* Not a checkpoint; a log (type 0x01) key; a timestamp above 2^63-1. */
	ck_assert_int_eq(tl_cosig_sign(&line, (const uint8_t *)"hello\n", 6, 1, w), TL_E_INPUT);
	ck_assert_int_eq(tl_cosig_sign(&line, n.text, n.text_len, 1, log), TL_E_INPUT);
	ck_assert_int_eq(tl_cosig_sign(&line, n.text, n.text_len, (uint64_t)INT64_MAX + 1, w), TL_E_INPUT);
	ck_assert_int_eq(tl_cosig_sign(&line, n.text, n.text_len, (uint64_t)INT64_MAX, w), 0);
	free(note);
	tl_buf_free(&line);
	tl_signer_free(w);
	tl_signer_free(log);
}
END_TEST

START_TEST(research_sunlight_cosignature)
{
	const char *path = tu_research_path("tlog-vectors/cosignature_v1.json");
	json_t *root;
	const char *full, *vkey, *msg, *body;
	tl_verifier *wv = NULL;
	tl_buf m = tl_buf_make(TL_NOTE_MAX_SIZE);
	uint8_t raw[80], want[64];
	size_t raw_len = 0;
	uint64_t ts = 0;
	tl_note n;
	int at;

	if (path == NULL)
		return;
	root = json_load_file(path, 0, NULL);
	ck_assert_ptr_nonnull(root);
	full = json_string_value(json_object_get(root, "full_cosigned_checkpoint"));
	vkey = json_string_value(json_object_get(root, "witness_vkey"));
	msg = json_string_value(json_object_get(root, "signed_message"));
	body = json_string_value(json_object_get(root, "checkpoint_body"));
	ck_assert_int_eq(tl_verifier_parse(&wv, vkey, strlen(vkey)), 0);
	/* The log's own line is a type 0x05 (ECDSA) signature: unknown to us, and ignored. */
	ck_assert_int_eq(tl_note_parse(&n, full, strlen(full)), 0);
	ck_assert_uint_eq(n.text_len, strlen(body));
	ck_assert_int_eq(tl_cosig_verify(&ts, &n, wv), 0);
	ck_assert_uint_eq(ts, (uint64_t)json_integer_value(json_object_get(root, "cosignature_timestamp")));
	ck_assert_int_eq(tl_note_verify(&n, (const tl_verifier *const *)&wv, 1, NULL), 0);
	ck_assert_int_eq(tl_cosig_message(&m, ts, n.text, n.text_len), 0);
	ck_assert_str_eq((char *)m.data, msg);
	at = tl_note_find_sig(&n, "witness.example.org", tl_verifier_key_id(wv));
	ck_assert_int_ge(at, 0);
	ck_assert_int_eq(tl_note_sig_bytes(raw, sizeof(raw), &raw_len, &n.sigs[at]), 0);
	ck_assert_uint_eq(raw_len, 72);
	ck_assert_int_eq(tl_hex_decode(want, 64, json_string_value(json_object_get(root, "cosignature_ed25519_sig_hex")), 128), 0);
	ck_assert_int_eq(memcmp(raw + 8, want, 64), 0);
	/* Negative: a different timestamp in the message does not verify. */
	ck_assert_int_eq(tl_cosig_verify_raw(wv, n.text, n.text_len, ts + 1, raw + 8, 64), TL_E_UNAUTHORIZED);
	ck_assert_int_eq(tl_cosig_verify_raw(wv, n.text, n.text_len, ts, raw + 8, 64), 0);
	tl_buf_free(&m);
	tl_verifier_free(wv);
	json_decref(root);
}
END_TEST

Suite *suite_cosig(void)
{
	Suite *s = suite_create("cosig");
	TCase *tc = tcase_create("cosig");

	tcase_add_test(tc, own_vector_reproduces_and_verifies);
	tcase_add_test(tc, tampered_cosignatures_fail);
	tcase_add_test(tc, signing_refusals);
	tcase_add_test(tc, one_key_under_two_names_counts_once);
	tcase_add_test(tc, research_sunlight_cosignature);
	suite_add_tcase(s, tc);
	return s;
}
