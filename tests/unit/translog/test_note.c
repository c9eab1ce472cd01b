#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "translog/key.h"
#include "translog/note.h"
#include "translog/text.h"

#define PN_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define PN_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define ER_VKEY "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
#define TEXT "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
#define PN_LINE "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
#define ER_LINE "\xe2\x80\x94 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
/* The same key id as PeterNeumann's under another name, and PeterNeumann's name with
 * another key id: both unknown, so ignored even though their signatures are garbage. */
#define NEAR_MISS_LINES "\xe2\x80\x94 PeterNeuman x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n" \
	"\xe2\x80\x94 PeterNeumann AAAAAAAA\n"

static tl_verifier *vk(const char *s)
{
	tl_verifier *v = NULL;

	ck_assert_int_eq(tl_verifier_parse(&v, s, strlen(s)), 0);
	return v;
}

static int open_with(const char *msg, size_t len, const char *vkey)
{
	tl_verifier *v = vk(vkey);
	const tl_verifier *known[1] = { v };
	tl_note n;
	int err = tl_note_open(&n, msg, len, known, 1);

	tl_verifier_free(v);
	return err;
}

static int parse_str(const char *msg)
{
	tl_note n;

	return tl_note_parse(&n, msg, strlen(msg));
}

START_TEST(go_example_opens_and_resigns_byte_for_byte)
{
	const char *msg = TEXT "\n" PN_LINE;
	tl_signer *s = NULL;
	tl_buf out = tl_buf_make(TL_NOTE_MAX_SIZE);
	tl_note n;
	tl_verifier *v = vk(PN_VKEY);
	const tl_verifier *known[1] = { v };
	int ok[1];

	ck_assert_int_eq(tl_note_parse(&n, msg, strlen(msg)), 0);
	ck_assert_uint_eq(n.text_len, strlen(TEXT));
	ck_assert_int_eq(memcmp(n.text, TEXT, n.text_len), 0);
	ck_assert_uint_eq(n.n_sigs, 1);
	ck_assert_uint_eq(n.sigs[0].key_id, 0xc74f20a3u);
	ck_assert_int_eq(tl_note_verify(&n, known, 1, ok), 0);
	ck_assert_int_eq(ok[0], 1);
	ck_assert_int_eq(tl_signer_parse(&s, PN_SKEY, strlen(PN_SKEY)), 0);
	ck_assert_int_eq(tl_note_sign(&out, TEXT, strlen(TEXT), (const tl_signer *const *)&s, 1), 0);
	ck_assert_str_eq((char *)out.data, msg);
	tl_buf_reset(&out);
	ck_assert_int_eq(tl_note_write(&out, &n), 0);
	ck_assert_str_eq((char *)out.data, msg);
	tl_buf_free(&out);
	tl_signer_free(s);
	tl_verifier_free(v);
}
END_TEST

START_TEST(unknown_keys_are_ignored_known_bad_rejects)
{
	const char *both = TEXT "\n" PN_LINE ER_LINE;
	const char *near = TEXT "\n" NEAR_MISS_LINES PN_LINE;
	tl_verifier *pn = vk(PN_VKEY), *er = vk(ER_VKEY);
	const tl_verifier *known[2] = { pn, er };
	char bad[512];
	tl_note n;
	int ok[2];
	char *p;

	ck_assert_int_eq(tl_note_parse(&n, both, strlen(both)), 0);
	ck_assert_int_eq(tl_note_verify(&n, known, 2, ok), 0);
	ck_assert(ok[0] && ok[1]);
	ck_assert_int_eq(tl_note_verify(&n, known + 1, 1, ok), 0);  /* PeterNeumann is unknown here */
	ck_assert_int_eq(open_with(near, strlen(near), PN_VKEY), 0);
	/* Only unknown keys: rejected. */
	{
		tl_signer *other = NULL;
		tl_verifier *ov = NULL;
		const tl_verifier *k1[1];

		ck_assert_int_eq(tl_signer_generate(&other, "Other"), 0);
		ck_assert_int_eq(tl_verifier_from_signer(&ov, other), 0);
		k1[0] = ov;
		ck_assert_int_eq(tl_note_verify(&n, k1, 1, NULL), TL_E_UNAUTHORIZED);
		ck_assert_ptr_nonnull(strstr(tl_error_message(), "no signature by a known key"));
		tl_verifier_free(ov);
		tl_signer_free(other);
	}
	/* A flipped bit in a known key's signature rejects the note, even beside a good one. */
	snprintf(bad, sizeof(bad), "%s", both);
	p = strstr(bad, "rwz+eBzm");
	p[20] = p[20] == 'z' ? 'y' : 'z'; /* past the key id */
	ck_assert_int_eq(tl_note_parse(&n, bad, strlen(bad)), 0);
	ck_assert_int_eq(tl_note_verify(&n, known, 2, ok), TL_E_UNAUTHORIZED);
	ck_assert_int_eq(tl_note_verify(&n, known, 1, ok), 0); /* EnochRoot unknown: ignored */
	/* A changed text fails every signature. */
	snprintf(bad, sizeof(bad), "%s", both);
	bad[0] = 'i';
	ck_assert_int_eq(open_with(bad, strlen(bad), PN_VKEY), TL_E_UNAUTHORIZED);
	/* The same verifier listed twice is an ambiguous configuration. */
	known[1] = pn;
	ck_assert_int_eq(tl_note_parse(&n, both, strlen(both)), 0);
	ck_assert_int_eq(tl_note_verify(&n, known, 2, ok), TL_E_INPUT);
	/* So is one public key under two names (issue 8): the key id differs, but a signature
	 * does not bind the name, so a copied line would count for both. */
	{
		tl_verifier *alias = NULL;

		ck_assert_int_eq(tl_verifier_make(&alias, "PeterNeumannAgain", tl_verifier_type(pn),
					 tl_verifier_public_key(pn)), 0);
		known[1] = alias;
		ck_assert_int_eq(tl_note_verify(&n, known, 2, ok), TL_E_INPUT);
		ck_assert_ptr_nonnull(strstr(tl_error_message(), "one public key under two names"));
		tl_verifier_free(alias);
	}
	tl_verifier_free(pn);
	tl_verifier_free(er);
}
END_TEST

START_TEST(wrong_length_signature_by_known_key_rejects)
{
	/* PeterNeumann's key id followed by 3 bytes: well formed, but not an Ed25519 signature. */
	const char *msg = TEXT "\n\xe2\x80\x94 PeterNeumann x08go6usdQ==\n";

	ck_assert_int_eq(parse_str(msg), 0);
	ck_assert_int_eq(open_with(msg, strlen(msg), PN_VKEY), TL_E_UNAUTHORIZED);
}
END_TEST

START_TEST(malformed_notes)
{
	const char *cases[] = {
		"",
		TEXT,                                     /* no signatures */
		TEXT PN_LINE,                             /* missing blank line */
		TEXT "\n",                                /* blank line, no signatures */
		TEXT "\n" PN_LINE "\n",                   /* trailing blank line */
		TEXT "\n" PN_LINE "trailing",             /* trailing data without newline */
		TEXT "\n" PN_LINE "junk\n",               /* a line that is not a signature */
		TEXT "\n" "\xe2\x80\x93 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n", /* en dash */
		TEXT "\n" "- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
		TEXT "\n" "\xe2\x80\x94PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
		TEXT "\n" "\xe2\x80\x94 Peter+Neumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
		TEXT "\n" "\xe2\x80\x94  x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
		TEXT "\n" "\xe2\x80\x94 PeterNeumann\n",    /* no signature */
		TEXT "\n" "\xe2\x80\x94 PeterNeumann \n",   /* empty signature */
		TEXT "\n" "\xe2\x80\x94 PeterNeumann x08goA==\n", /* key id only */
		TEXT "\n" "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n", /* bad padding */
		TEXT "\n" "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM= \n",
		TEXT "\n" "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\r\n",
		"If you think\tcryptography is the answer\n\n" PN_LINE,  /* tab: a control character */
		"If you think \xff cryptography\n\n" PN_LINE,               /* not UTF-8 */
		"If you think \xc0\xa0 cryptography\n\n" PN_LINE,           /* overlong */
		"\n" PN_LINE,
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tl_note n;
		int err = tl_note_parse(&n, cases[i], strlen(cases[i]));

		ck_assert_msg(err == TL_E_INPUT, "case %zu parsed (err %d)", i, err);
		ck_assert_uint_eq(n.n_sigs, 0);
		ck_assert_str_ne(tl_error_message(), "");
	}
	/* A NUL byte is a control character too. */
	{
		char msg[] = "a\0b\n\n" PN_LINE;
		tl_note n;

		ck_assert_int_eq(tl_note_parse(&n, msg, sizeof(msg) - 1), TL_E_INPUT);
	}
	/* "\n\n" then signature: the text may be just a newline (as in Go). */
	ck_assert_int_eq(parse_str("\n\n" PN_LINE), 0);
}
END_TEST

START_TEST(signature_line_limit)
{
	tl_buf msg = tl_buf_make(TL_NOTE_MAX_SIZE);
	tl_note n;

	ck_assert_int_eq(tl_buf_append_str(&msg, TEXT "\n"), 0);
	for (int i = 0; i < TL_NOTE_MAX_SIGS; i++)
		ck_assert_int_eq(tl_buf_printf(&msg, "\xe2\x80\x94 unknown%d AAAAAAA=\n", i), 0);
	ck_assert_int_eq(tl_note_parse(&n, msg.data, msg.len), 0);
	ck_assert_uint_eq(n.n_sigs, TL_NOTE_MAX_SIGS);
	ck_assert_int_eq(tl_buf_append_str(&msg, PN_LINE), 0);
	ck_assert_int_eq(tl_note_parse(&n, msg.data, msg.len), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "more than 100"));
	tl_buf_free(&msg);
}
END_TEST

START_TEST(size_limit)
{
	size_t len = TL_NOTE_MAX_SIZE + 1;
	char *msg = malloc(len + 1);
	tl_note n;

	memset(msg, 'a', len);
	memcpy(msg + len - strlen("\n\n" PN_LINE), "\n\n" PN_LINE, strlen("\n\n" PN_LINE));
	ck_assert_int_eq(tl_note_parse(&n, msg, len), TL_E_INPUT);
	/* One byte less is within the limit. */
	ck_assert_int_eq(tl_note_parse(&n, msg + 1, len - 1), 0);
	free(msg);
}
END_TEST

START_TEST(large_unknown_signatures_parse)
{
	/* A post-quantum sized (2420-byte) signature by an unknown key is ignored, not refused. */
	tl_buf msg = tl_buf_make(TL_NOTE_MAX_SIZE);
	uint8_t big[2432];
	tl_note n;

	memset(big, 0x5a, sizeof(big));
	ck_assert_int_eq(tl_buf_append_str(&msg, TEXT "\n"), 0);
	ck_assert_int_eq(tl_note_write_sig_line(&msg, "pq.example", 10, 0x01020304, big, sizeof(big)), 0);
	ck_assert_int_eq(tl_buf_append_str(&msg, PN_LINE), 0);
	ck_assert_int_eq(tl_note_parse(&n, msg.data, msg.len), 0);
	ck_assert_uint_eq(n.sigs[0].key_id, 0x01020304u);
	ck_assert_int_eq(open_with((char *)msg.data, msg.len, PN_VKEY), 0);
	/* Padding in the middle of a long signature is refused. */
	{
		size_t at = (size_t)(n.sigs[0].b64 - (const char *)msg.data);

		msg.data[at + 1023] = '=';
		ck_assert_int_eq(tl_note_parse(&n, msg.data, msg.len), TL_E_INPUT);
		ck_assert_ptr_nonnull(strstr(tl_error_message(), "padding"));
	}
	tl_buf_free(&msg);
}
END_TEST

START_TEST(sign_multiple_and_add_signatures)
{
	/* The spec's example text has blank lines inside: the split is at the last one. */
	const char *text = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \xc3\xa8 subito sera.\n";
	tl_signer *a = NULL, *b = NULL, *w = NULL;
	tl_verifier *va = NULL, *vb = NULL;
	tl_buf out = tl_buf_make(TL_NOTE_MAX_SIZE), more = tl_buf_make(TL_NOTE_MAX_SIZE);
	const tl_signer *both[2];
	const tl_verifier *known[2];
	tl_note n, n2;
	int ok[2];

	ck_assert_int_eq(tl_signer_generate(&a, "quasimodo.example/salvatore"), 0);
	ck_assert_int_eq(tl_signer_generate(&b, "example.com/second"), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&va, a), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&vb, b), 0);
	both[0] = a;
	both[1] = b;
	known[0] = va;
	known[1] = vb;
	ck_assert_int_eq(tl_note_sign(&out, text, strlen(text), both, 1), 0);
	ck_assert_int_eq(tl_note_parse(&n, out.data, out.len), 0);
	ck_assert_uint_eq(n.text_len, strlen(text));
	ck_assert_int_eq(tl_note_verify(&n, known, 2, ok), 0);
	ck_assert(ok[0] && !ok[1]);
	/* Adding b's signature keeps a's line. */
	ck_assert_int_eq(tl_note_add_sigs(&more, &n, both + 1, 1), 0);
	ck_assert_int_eq(tl_note_parse(&n2, more.data, more.len), 0);
	ck_assert_uint_eq(n2.n_sigs, 2);
	ck_assert_int_eq(tl_note_verify(&n2, known, 2, ok), 0);
	ck_assert(ok[0] && ok[1]);
	ck_assert_int_eq(tl_note_find_sig(&n2, "example.com/second", tl_signer_key_id(b)), 1);
	ck_assert_int_eq(tl_note_find_sig(&n2, "example.com/third", tl_signer_key_id(b)), -1);
	/* Re-signing with a replaces its old line instead of duplicating it. */
	tl_buf_reset(&out);
	ck_assert_int_eq(tl_note_add_sigs(&out, &n2, both, 1), 0);
	ck_assert_int_eq(tl_note_parse(&n, out.data, out.len), 0);
	ck_assert_uint_eq(n.n_sigs, 2);
	ck_assert_int_eq(tl_note_find_sig(&n, "quasimodo.example/salvatore", tl_signer_key_id(a)), 1);
	/* Lines from elsewhere (a witness response) can be appended. */
	tl_buf_reset(&out);
	tl_buf_reset(&more);
	ck_assert_int_eq(tl_note_sign(&out, text, strlen(text), both, 1), 0);
	ck_assert_int_eq(tl_note_sign(&more, text, strlen(text), both + 1, 1), 0);
	ck_assert_int_eq(tl_note_parse(&n, out.data, out.len), 0);
	{
		const char *line = strstr((char *)more.data, "\xe2\x80\x94 ");

		ck_assert_int_eq(tl_note_add_sig_lines(&n, line, strlen(line)), 0);
		ck_assert_uint_eq(n.n_sigs, 2);
		ck_assert_int_eq(tl_note_verify(&n, known, 2, ok), 0);
		ck_assert(ok[0] && ok[1]);
		ck_assert_int_eq(tl_note_add_sig_lines(&n, "junk\n", 5), TL_E_INPUT);
		ck_assert_int_eq(tl_note_add_sig_lines(&n, "", 0), TL_E_INPUT);
		ck_assert_uint_eq(n.n_sigs, 2);
	}
	/* Refusals: text without final newline, control characters, a cosigner key, no signer. */
	tl_buf_reset(&out);
	ck_assert_int_eq(tl_note_sign(&out, "no newline", 10, both, 1), TL_E_INPUT);
	ck_assert_int_eq(tl_note_sign(&out, "tab\there\n", 9, both, 1), TL_E_INPUT);
	ck_assert_int_eq(tl_note_sign(&out, "", 0, both, 1), TL_E_INPUT);
	ck_assert_int_eq(tl_note_sign(&out, "fine\n", 5, both, 0), TL_E_INPUT);
	ck_assert_int_eq(tl_signer_generate_typed(&w, "witness.example", TL_KEY_TYPE_COSIGNATURE), 0);
	ck_assert_int_eq(tl_note_sign(&out, "fine\n", 5, (const tl_signer *const *)&w, 1), TL_E_INPUT);
	ck_assert_uint_eq(out.len, 0);
	tl_buf_free(&out);
	tl_buf_free(&more);
	tl_signer_free(a);
	tl_signer_free(b);
	tl_signer_free(w);
	tl_verifier_free(va);
	tl_verifier_free(vb);
}
END_TEST

static uint8_t *hex_bytes(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *out = malloc(n + 1);

	ck_assert_int_eq(tl_hex_decode(out, n, hex, 2 * n), 0);
	*len = n;
	return out;
}

START_TEST(research_signed_notes)
{
	const char *path = tu_research_path("tlog-vectors/signed_notes.json");
	json_t *root, *vec;
	size_t i;

	if (path == NULL)
		return;
	root = json_load_file(path, 0, NULL);
	ck_assert_ptr_nonnull(root);
	json_array_foreach(json_object_get(root, "vectors"), i, vec) {
		const char *msg = json_string_value(json_object_get(vec, "signed_note"));
		const char *vkey = json_string_value(json_object_get(vec, "vkey"));
		const char *skey = json_string_value(json_object_get(vec, "skey"));
		size_t text_len, sig_len, got;
		uint8_t *text = hex_bytes(json_string_value(json_object_get(vec, "note_text_signed_hex")), &text_len);
		uint8_t *sig = hex_bytes(json_string_value(json_object_get(vec, "signature_hex")), &sig_len);
		uint8_t raw[128];
		tl_verifier *v = vk(vkey);
		const tl_verifier *known[1] = { v };
		tl_note n;
		char bad[1024];

		ck_assert_int_eq(json_is_true(json_object_get(vec, "want_valid")), 1);
		ck_assert_int_eq(tl_note_open(&n, msg, strlen(msg), known, 1), 0);
		ck_assert_uint_eq(n.text_len, text_len);
		ck_assert_int_eq(memcmp(n.text, text, text_len), 0);
		ck_assert_int_eq(tl_note_sig_bytes(raw, sizeof(raw), &got, &n.sigs[0]), 0);
		ck_assert_uint_eq(got, sig_len);
		ck_assert_int_eq(memcmp(raw, sig, sig_len), 0);
		if (skey) {
			tl_signer *s = NULL;
			tl_buf out = tl_buf_make(TL_NOTE_MAX_SIZE);

			ck_assert_int_eq(tl_signer_parse(&s, skey, strlen(skey)), 0);
			ck_assert_int_eq(tl_note_sign(&out, text, text_len, (const tl_signer *const *)&s, 1), 0);
			ck_assert_str_eq((char *)out.data, msg);
			tl_buf_free(&out);
			tl_signer_free(s);
		}
		/* Negative beside each: one flipped bit in the text. */
		snprintf(bad, sizeof(bad), "%s", msg);
		bad[0] ^= 0x20;
		ck_assert_int_eq(tl_note_open(&n, bad, strlen(bad), known, 1), TL_E_UNAUTHORIZED);
		free(text);
		free(sig);
		tl_verifier_free(v);
	}
	json_decref(root);
}
END_TEST

START_TEST(utf8_decoder)
{
	uint32_t r = 0;

	ck_assert_uint_eq(tl_utf8_next(&r, (const uint8_t *)"\xe2\x80\x94", 3), 3);
	ck_assert_uint_eq(r, 0x2014);
	ck_assert_uint_eq(tl_utf8_next(&r, (const uint8_t *)"\xf0\x9f\x98\x80", 4), 4);
	ck_assert_uint_eq(r, 0x1f600);
	ck_assert_uint_eq(tl_utf8_next(&r, (const uint8_t *)"\xe2\x80", 2), 0);         /* truncated */
	ck_assert_uint_eq(tl_utf8_next(&r, (const uint8_t *)"\xe0\x80\x80", 3), 0);     /* overlong */
	ck_assert_uint_eq(tl_utf8_next(&r, (const uint8_t *)"\xf4\x90\x80\x80", 4), 0); /* > U+10FFFF */
	ck_assert_uint_eq(tl_utf8_next(&r, (const uint8_t *)"\x80", 1), 0);
	ck_assert_int_eq(tl_note_check_text((const uint8_t *)"a\nb", 3, 1), 0);
	ck_assert_int_eq(tl_note_check_text((const uint8_t *)"a\nb", 3, 0), TL_E_INPUT);
	ck_assert_int_eq(tl_note_check_text((const uint8_t *)"a\x7f", 2, 0), 0); /* DEL is not below U+0020 */
}
END_TEST

Suite *suite_note(void)
{
	Suite *s = suite_create("note");
	TCase *tc = tcase_create("note");

	tcase_add_test(tc, go_example_opens_and_resigns_byte_for_byte);
	tcase_add_test(tc, unknown_keys_are_ignored_known_bad_rejects);
	tcase_add_test(tc, wrong_length_signature_by_known_key_rejects);
	tcase_add_test(tc, malformed_notes);
	tcase_add_test(tc, signature_line_limit);
	tcase_add_test(tc, size_limit);
	tcase_add_test(tc, large_unknown_signatures_parse);
	tcase_add_test(tc, sign_multiple_and_add_signatures);
	tcase_add_test(tc, research_signed_notes);
	tcase_add_test(tc, utf8_decoder);
	suite_add_tcase(s, tc);
	return s;
}
