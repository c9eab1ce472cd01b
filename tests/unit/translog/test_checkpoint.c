#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "testnotes.h"
#include "testutil.h"
#include "translog/checkpoint.h"
#include "translog/key.h"
#include "translog/note.h"

#define ROOT_B64 "1kgSb+XYYqTIceBgjnDZ7hvCYxnqZCW8pbHf/nOndn4="
#define LOG_NAME "example.com/bundled-test-log"

static int parse_str(const char *text)
{
	tl_checkpoint cp;

	return tl_checkpoint_parse(&cp, (const uint8_t *)text, strlen(text));
}

START_TEST(own_vector_opens_and_resigns)
{
	size_t len;
	uint8_t *note = tu_notes_vector("checkpoint-7.note", &len);
	tl_verifier *v = tu_notes_verifier("log.vkey");
	tl_signer *s = tu_notes_signer("log.key");
	tl_buf out = tl_buf_make(TL_NOTE_MAX_SIZE);
	tl_checkpoint cp;

	ck_assert_int_eq(tl_checkpoint_open(&cp, note, len, v), 0);
	ck_assert_str_eq(cp.origin, LOG_NAME);
	ck_assert_uint_eq(cp.size, 7);
	ck_assert_int_eq(tl_checkpoint_format(&out, &cp), 0);
	ck_assert_str_eq((char *)out.data, LOG_NAME "\n7\n" ROOT_B64 "\n");
	tl_buf_reset(&out);
	ck_assert_int_eq(tl_checkpoint_sign(&out, &cp, s), 0);
	ck_assert_uint_eq(out.len, len);
	ck_assert_int_eq(memcmp(out.data, note, len), 0);
	free(note);
	/* The cosigned checkpoint opens with the log key alone: the witness line is unknown. */
	note = tu_notes_vector("checkpoint-7-cosigned.note", &len);
	ck_assert_int_eq(tl_checkpoint_open(&cp, note, len, v), 0);
	ck_assert_uint_eq(cp.size, 7);
	free(note);
	tl_buf_free(&out);
	tl_verifier_free(v);
	tl_signer_free(s);
}
END_TEST

START_TEST(open_negatives)
{
	size_t len;
	uint8_t *note = tu_notes_vector("checkpoint-7.note", &len);
	uint8_t *wkey = tu_notes_vector("witness.vkey", &(size_t){ 0 });
	tl_verifier *v = tu_notes_verifier("log.vkey"), *w = NULL, *impostor_v = NULL;
	tl_signer *s = tu_notes_signer("log.key"), *impostor = NULL;
	tl_buf out = tl_buf_make(TL_NOTE_MAX_SIZE);
	tl_checkpoint cp;
	char *sig;

	/* Same name, different key: its signature is unknown, so nothing verifies. */
	ck_assert_int_eq(tl_signer_generate(&impostor, LOG_NAME), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&impostor_v, impostor), 0);
	ck_assert_int_eq(tl_checkpoint_open(&cp, note, len, impostor_v), TL_E_UNAUTHORIZED);
	/* A flipped bit in the signature (after the key id). */
	sig = strstr((char *)note, "\xe2\x80\x94 ") + 4 + strlen(LOG_NAME) + 1;
	sig[30] = sig[30] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(tl_checkpoint_open(&cp, note, len, v), TL_E_UNAUTHORIZED);
	free(note);
	/* A validly signed text with another origin. */
	{
		const char *text = "example.com/other-log\n7\n" ROOT_B64 "\n";

		ck_assert_int_eq(tl_note_sign(&out, text, strlen(text), (const tl_signer *const *)&s, 1), 0);
		ck_assert_int_eq(tl_checkpoint_open(&cp, out.data, out.len, v), TL_E_UNAUTHORIZED);
		ck_assert_ptr_nonnull(strstr(tl_error_message(), "origin"));
	}
	/* A validly signed text with an extension line, or a non-canonical size. */
	{
		const char *ext = LOG_NAME "\n7\n" ROOT_B64 "\nextension\n";
		const char *lead = LOG_NAME "\n07\n" ROOT_B64 "\n";

		tl_buf_reset(&out);
		ck_assert_int_eq(tl_note_sign(&out, ext, strlen(ext), (const tl_signer *const *)&s, 1), 0);
		ck_assert_int_eq(tl_checkpoint_open(&cp, out.data, out.len, v), TL_E_INPUT);
		tl_buf_reset(&out);
		ck_assert_int_eq(tl_note_sign(&out, lead, strlen(lead), (const tl_signer *const *)&s, 1), 0);
		ck_assert_int_eq(tl_checkpoint_open(&cp, out.data, out.len, v), TL_E_INPUT);
	}
	/* Issue 8: a validly signed size 0 with a root other than the empty tree's is false; the
	 * true empty checkpoint opens. */
	{
		const char *forged = LOG_NAME "\n0\n" ROOT_B64 "\n";
		const char *empty = LOG_NAME "\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";

		tl_buf_reset(&out);
		ck_assert_int_eq(tl_note_sign(&out, forged, strlen(forged), (const tl_signer *const *)&s, 1), 0);
		ck_assert_int_eq(tl_checkpoint_open(&cp, out.data, out.len, v), TL_E_UNAUTHORIZED);
		ck_assert_str_eq(tl_error_message(), "checkpoint of size 0 has a root other than the empty tree's");
		tl_buf_reset(&out);
		ck_assert_int_eq(tl_note_sign(&out, empty, strlen(empty), (const tl_signer *const *)&s, 1), 0);
		ck_assert_int_eq(tl_checkpoint_open(&cp, out.data, out.len, v), 0);
		ck_assert_uint_eq(cp.size, 0);
	}
	/* A witness (type 0x04) key cannot open a checkpoint. */
	ck_assert_int_eq(tl_verifier_parse(&w, (char *)wkey, strlen((char *)wkey)), 0);
	note = tu_notes_vector("checkpoint-7-cosigned.note", &len);
	ck_assert_int_eq(tl_checkpoint_open(&cp, note, len, w), TL_E_INPUT);
	/* Signing refuses an origin that differs from the key name. */
	memset(&cp, 0, sizeof(cp));
	strcpy(cp.origin, "example.com/other-log");
	tl_buf_reset(&out);
	ck_assert_int_eq(tl_checkpoint_sign(&out, &cp, s), TL_E_INPUT);
	ck_assert_uint_eq(out.len, 0);
	free(note);
	free(wkey);
	tl_buf_free(&out);
	tl_verifier_free(v);
	tl_verifier_free(w);
	tl_verifier_free(impostor_v);
	tl_signer_free(s);
	tl_signer_free(impostor);
}
END_TEST

START_TEST(strict_parse)
{
	char long_origin[400];

	ck_assert_int_eq(parse_str("o\n0\n" ROOT_B64 "\n"), 0);
	ck_assert_int_eq(parse_str("o\n18446744073709551615\n" ROOT_B64 "\n"), 0);
	ck_assert_int_eq(parse_str("go.sum database tree\n1\n" ROOT_B64 "\n"), 0); /* spaces allowed */
	ck_assert_int_eq(parse_str("o\n18446744073709551616\n" ROOT_B64 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_str("o\n01\n" ROOT_B64 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_str("o\n+1\n" ROOT_B64 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_str("o\n-1\n" ROOT_B64 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_str("o\n1 \n" ROOT_B64 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_str("o\n\n" ROOT_B64 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_str("\n1\n" ROOT_B64 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_str("o\t\n1\n" ROOT_B64 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_str("o\r\n1\n" ROOT_B64 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_str("o\xff\n1\n" ROOT_B64 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_str("o\n1\n" ROOT_B64), TL_E_INPUT);                 /* no final newline */
	ck_assert_int_eq(parse_str("o\n1\n" ROOT_B64 "\n\n"), TL_E_INPUT);         /* empty line */
	ck_assert_int_eq(parse_str("o\n1\n" ROOT_B64 "\next\n"), TL_E_INPUT);      /* extension line */
	ck_assert_int_eq(parse_str("o\n1\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_str("o\n1\nAAAA\n"), TL_E_INPUT);                    /* 3-byte root */
	ck_assert_int_eq(parse_str("o\n1\n1kgSb+XYYqTIceBgjnDZ7hvCYxnqZCW8pbHf/nOndg==\n"), TL_E_INPUT); /* 31 bytes */
	ck_assert_int_eq(parse_str("o\n1\n1kgSb+XYYqTIceBgjnDZ7hvCYxnqZCW8pbHf/nOndn4A\n"), TL_E_INPUT); /* 33 bytes */
	ck_assert_int_eq(parse_str("o\n1\n1kgSb+XYYqTIceBgjnDZ7hvCYxnqZCW8pbHf/nOndn5=\n"), TL_E_INPUT); /* pad bits */
	ck_assert_int_eq(parse_str("o\n1\n1kgSb-XYYqTIceBgjnDZ7hvCYxnqZCW8pbHf_nOndn4=\n"), TL_E_INPUT); /* base64url */
	memset(long_origin, 'a', 256);
	strcpy(long_origin + 256, "\n1\n" ROOT_B64 "\n");
	ck_assert_int_eq(parse_str(long_origin), TL_E_INPUT);
	strcpy(long_origin + 255, "\n1\n" ROOT_B64 "\n");
	ck_assert_int_eq(parse_str(long_origin), 0);
}
END_TEST

START_TEST(format_round_trips_and_refuses_bad_origins)
{
	tl_checkpoint cp, back;
	tl_buf out = tl_buf_make(TL_MAX_CHECKPOINT_TEXT);

	memset(&cp, 0, sizeof(cp));
	strcpy(cp.origin, "example.com/log");
	cp.size = UINT64_MAX;
	for (int i = 0; i < 32; i++)
		cp.root.b[i] = (uint8_t)(i * 7);
	ck_assert_int_eq(tl_checkpoint_format(&out, &cp), 0);
	ck_assert_int_eq(tl_checkpoint_parse(&back, out.data, out.len), 0);
	ck_assert_str_eq(back.origin, cp.origin);
	ck_assert_uint_eq(back.size, cp.size);
	ck_assert(tl_hash_equal(&back.root, &cp.root));
	tl_buf_reset(&out);
	strcpy(cp.origin, "");
	ck_assert_int_eq(tl_checkpoint_format(&out, &cp), TL_E_INPUT);
	strcpy(cp.origin, "two\nlines");
	ck_assert_int_eq(tl_checkpoint_format(&out, &cp), TL_E_INPUT);
	ck_assert_uint_eq(out.len, 0);
	tl_buf_free(&out);
}
END_TEST

START_TEST(research_checkpoints)
{
	const char *notes = tu_research_path("tlog-vectors/signed_notes.json");
	const char *e2e = tu_research_path("tlog-vectors/e2e_checkpoint_inclusion.json");
	json_t *root, *vec, *cpj;
	size_t i;

	if (notes == NULL || e2e == NULL)
		return;
	/* The real sum.golang.org checkpoint: its origin is not its key name, so it is read
	 * with the general note API. */
	root = json_load_file(notes, 0, NULL);
	ck_assert_ptr_nonnull(root);
	json_array_foreach(json_object_get(root, "vectors"), i, vec) {
		const char *msg = json_string_value(json_object_get(vec, "signed_note"));
		const char *vkey = json_string_value(json_object_get(vec, "vkey"));
		tl_verifier *v = NULL;
		tl_checkpoint cp;
		tl_note n;
		char hex[65];

		if ((cpj = json_object_get(vec, "checkpoint")) == NULL)
			continue;
		ck_assert_int_eq(tl_verifier_parse(&v, vkey, strlen(vkey)), 0);
		ck_assert_int_eq(tl_note_open(&n, msg, strlen(msg), (const tl_verifier *const *)&v, 1), 0);
		ck_assert_int_eq(tl_checkpoint_parse(&cp, n.text, n.text_len), 0);
		ck_assert_str_eq(cp.origin, json_string_value(json_object_get(cpj, "origin")));
		ck_assert_uint_eq(cp.size, (uint64_t)json_integer_value(json_object_get(cpj, "tree_size")));
		tl_hex_encode(hex, cp.root.b, 32);
		ck_assert_str_eq(hex, json_string_value(json_object_get(cpj, "root_hash_hex")));
		ck_assert_int_eq(tl_checkpoint_open(&cp, (const uint8_t *)msg, strlen(msg), v), TL_E_UNAUTHORIZED);
		tl_verifier_free(v);
	}
	json_decref(root);

	/* The derived example.com/tree8 checkpoint must be reproduced byte for byte. */
	root = json_load_file(e2e, 0, NULL);
	ck_assert_ptr_nonnull(root);
	{
		const char *signed_cp = json_string_value(json_object_get(root, "signed_checkpoint"));
		const char *vkey = json_string_value(json_object_get(root, "vkey"));
		uint8_t seed[32];
		tl_signer *s = NULL;
		tl_verifier *v = NULL;
		tl_checkpoint cp;
		tl_buf out = tl_buf_make(TL_NOTE_MAX_SIZE);
		char hex[65];

		ck_assert_int_eq(tl_hex_decode(seed, 32, json_string_value(json_object_get(root, "ed25519_seed_hex")), 64), 0);
		ck_assert_int_eq(tl_signer_from_seed(&s, json_string_value(json_object_get(root, "key_name")),
			TL_KEY_TYPE_ED25519, seed), 0);
		ck_assert_int_eq(tl_verifier_parse(&v, vkey, strlen(vkey)), 0);
		ck_assert_uint_eq(tl_verifier_key_id(v), tl_signer_key_id(s));
		ck_assert_int_eq(tl_checkpoint_open(&cp, (const uint8_t *)signed_cp, strlen(signed_cp), v), 0);
		ck_assert_uint_eq(cp.size, 8);
		tl_hex_encode(hex, cp.root.b, 32);
		ck_assert_str_eq(hex, json_string_value(json_object_get(root, "root_hex")));
		ck_assert_int_eq(tl_checkpoint_sign(&out, &cp, s), 0);
		ck_assert_str_eq((char *)out.data, signed_cp);
		tl_buf_free(&out);
		tl_signer_free(s);
		tl_verifier_free(v);
	}
	json_decref(root);
}
END_TEST

Suite *suite_checkpoint(void)
{
	Suite *s = suite_create("checkpoint");
	TCase *tc = tcase_create("checkpoint");

	tcase_add_test(tc, own_vector_opens_and_resigns);
	tcase_add_test(tc, open_negatives);
	tcase_add_test(tc, strict_parse);
	tcase_add_test(tc, format_round_trips_and_refuses_bad_origins);
	tcase_add_test(tc, research_checkpoints);
	suite_add_tcase(s, tc);
	return s;
}
