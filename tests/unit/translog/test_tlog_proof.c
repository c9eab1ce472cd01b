#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testnotes.h"
#include "testutil.h"
#include "translog/checkpoint.h"
#include "translog/hash.h"
#include "translog/key.h"
#include "translog/note.h"
#include "translog/tlog_proof.h"

#define H1 "GvsBZ7lrmrXe5714amp/2VS/ezymD9UgjiKo0V38Cz4=\n"
#define H2 "39/yX0M9KnleaqHx95sdBitEUUmcbKP6/2BH2JZzrNs=\n"
#define H3 "l+0skS3jVcMtjVwU6eaHUS3HrtIYcNDfREwzRbQuqX4=\n"

/* The leaves of the vectors' 7-leaf tree. */
static void tree_leaf(tl_hash *out, size_t i)
{
	char entry[64];

	snprintf(entry, sizeof(entry), "bundled test entry %zu\n", i);
	tl_hash_leaf(out, entry, strlen(entry));
}

/* Parses "<prefix><checkpoint-7.note>". */
static int parse_with_checkpoint(const char *prefix)
{
	size_t len;
	uint8_t *note = tu_notes_vector("checkpoint-7.note", &len);
	tl_buf text = tl_buf_make(1 << 20);
	tl_tlog_proof p;
	int err;

	ck_assert_int_eq(tl_buf_append_str(&text, prefix), 0);
	ck_assert_int_eq(tl_buf_append(&text, note, len), 0);
	err = tl_tlog_proof_parse(&p, text.data, text.len);
	tl_buf_free(&text);
	free(note);
	return err;
}

START_TEST(own_vectors_parse_and_rewrite)
{
	size_t len, note_len, extra_len;
	uint8_t *file = tu_notes_vector("entry-5.tlog-proof", &len);
	uint8_t *note = tu_notes_vector("checkpoint-7.note", &note_len);
	tl_buf out = tl_buf_make(1 << 20);
	tl_tlog_proof p;
	tl_hash leaf4, leaf6;
	uint8_t extra[64];

	ck_assert_int_eq(tl_tlog_proof_parse(&p, file, len), 0);
	ck_assert_uint_eq(p.index, 5);
	ck_assert_ptr_null(p.extra_b64);
	ck_assert_uint_eq(p.n_hashes, 3);
	tree_leaf(&leaf4, 4);
	tree_leaf(&leaf6, 6);
	ck_assert(tl_hash_equal(&p.hashes[0], &leaf4));
	ck_assert(tl_hash_equal(&p.hashes[1], &leaf6));
	ck_assert_uint_eq(p.checkpoint_len, note_len);
	ck_assert_int_eq(memcmp(p.checkpoint, note, note_len), 0);
	ck_assert_int_eq(tl_tlog_proof_extra(extra, sizeof(extra), &extra_len, &p), 0);
	ck_assert_uint_eq(extra_len, 0);
	ck_assert_int_eq(tl_tlog_proof_write(&out, NULL, 0, p.index, p.hashes, p.n_hashes, p.checkpoint, p.checkpoint_len), 0);
	ck_assert_uint_eq(out.len, len);
	ck_assert_int_eq(memcmp(out.data, file, len), 0);
	free(file);

	file = tu_notes_vector("entry-5-extra.tlog-proof", &len);
	ck_assert_int_eq(tl_tlog_proof_parse(&p, file, len), 0);
	ck_assert_int_eq(tl_tlog_proof_extra(extra, sizeof(extra), &extra_len, &p), 0);
	ck_assert_uint_eq(extra_len, 20);
	ck_assert_int_eq(memcmp(extra, "bundle example.org 3", 20), 0);
	ck_assert_int_eq(tl_tlog_proof_extra(extra, 19, &extra_len, &p), TL_E_INPUT);
	tl_buf_reset(&out);
	ck_assert_int_eq(tl_tlog_proof_write(&out, extra, 20, p.index, p.hashes, p.n_hashes, p.checkpoint, p.checkpoint_len), 0);
	ck_assert_uint_eq(out.len, len);
	ck_assert_int_eq(memcmp(out.data, file, len), 0);
	free(file);
	free(note);
	tl_buf_free(&out);
}
END_TEST

START_TEST(malformed_proofs)
{
	char many[8192];
	size_t off;

	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nindex 5\n" H1 H2 H3 "\n"), 0);
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nindex 0\n\n"), 0); /* no hashes */
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v2\nindex 5\n" H1 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1 \nindex 5\n" H1 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_with_checkpoint("index 5\n" H1 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\n" H1 "\n"), TL_E_INPUT);          /* no index */
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nindex 05\n" H1 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nindex -5\n" H1 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nindex  5\n" H1 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nindex\n" H1 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nextra \nindex 5\n" H1 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nextra YWJj\nindex 5\n" H1 "\n"), 0);
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nextra YWJ\nindex 5\n" H1 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nindex 5\nextra YWJj\n" H1 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nextra YWJj\nextra YWJj\nindex 5\n\n"), TL_E_INPUT);
	/* hash lines: 43 characters, 31 bytes, 33 bytes, a space, CRLF */
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nindex 5\nGvsBZ7lrmrXe5714amp/2VS/ezymD9UgjiKo0V38Cz4\n\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nindex 5\nGvsBZ7lrmrXe5714amp/2VS/ezymD9UgjiKo0V38Cw==\n\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nindex 5\nGvsBZ7lrmrXe5714amp/2VS/ezymD9UgjiKo0V38Cz4AAA=\n\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nindex 5\n " H1 "\n"), TL_E_INPUT);
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\r\nindex 5\n" H1 "\n"), TL_E_INPUT);
	/* The spec's example elides signatures with "[...]": not base64, so refused. */
	ck_assert_int_eq(parse_with_checkpoint("c2sp.org/tlog-proof@v1\nindex 5\n" H1 "\n"
		"example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n"
		"\xe2\x80\x94 example.com/fancylog hI2DJw[...]1roloI=\n"), TL_E_INPUT);
	/* 64 hashes are the most. */
	off = (size_t)snprintf(many, sizeof(many), "c2sp.org/tlog-proof@v1\nindex 5\n");
	for (int i = 0; i < 64; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off, "%s", H1);
	snprintf(many + off, sizeof(many) - off, "\n");
	ck_assert_int_eq(parse_with_checkpoint(many), 0);
	snprintf(many + off, sizeof(many) - off, "%s\n", H1);
	ck_assert_int_eq(parse_with_checkpoint(many), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "more than 64"));
}
END_TEST

START_TEST(checkpoint_part_must_be_a_checkpoint_note)
{
	tl_tlog_proof p;
	const char *no_blank = "c2sp.org/tlog-proof@v1\nindex 5\n" H1;
	const char *unsigned_cp = "c2sp.org/tlog-proof@v1\nindex 5\n" H1 "\nexample.com/x\n7\n" "1kgSb+XYYqTIceBgjnDZ7hvCYxnqZCW8pbHf/nOndn4=\n";
	const char *not_cp = "c2sp.org/tlog-proof@v1\nindex 5\n" H1 "\nhello\n\n"
		"\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
	const char *trailing = "c2sp.org/tlog-proof@v1\nindex 5\n" H1 "\nexample.com/x\n7\n" "1kgSb+XYYqTIceBgjnDZ7hvCYxnqZCW8pbHf/nOndn4=\n\n"
		"\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\nextra";

	ck_assert_int_eq(tl_tlog_proof_parse(&p, (const uint8_t *)no_blank, strlen(no_blank)), TL_E_INPUT);
	ck_assert_int_eq(tl_tlog_proof_parse(&p, (const uint8_t *)unsigned_cp, strlen(unsigned_cp)), TL_E_INPUT);
	ck_assert_int_eq(tl_tlog_proof_parse(&p, (const uint8_t *)not_cp, strlen(not_cp)), TL_E_INPUT);
	ck_assert_int_eq(tl_tlog_proof_parse(&p, (const uint8_t *)trailing, strlen(trailing)), TL_E_INPUT);
	/* The syntax holds with the signature line of another key: signatures are checked when verifying. */
	{
		const char *ok = "c2sp.org/tlog-proof@v1\nindex 5\n" H1 "\nexample.com/x\n7\n" "1kgSb+XYYqTIceBgjnDZ7hvCYxnqZCW8pbHf/nOndn4=\n\n"
			"\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

		ck_assert_int_eq(tl_tlog_proof_parse(&p, (const uint8_t *)ok, strlen(ok)), 0);
	}
}
END_TEST

START_TEST(writer_refusals)
{
	tl_buf out = tl_buf_make(1 << 20);
	tl_hash h[65];
	uint8_t extra[TL_TLOG_PROOF_MAX_EXTRA + 1];
	size_t len;
	uint8_t *note = tu_notes_vector("checkpoint-7.note", &len);

	memset(h, 0, sizeof(h));
	memset(extra, 1, sizeof(extra));
	ck_assert_int_eq(tl_tlog_proof_write(&out, NULL, 0, 5, h, 65, note, len), TL_E_INPUT);
	ck_assert_int_eq(tl_tlog_proof_write(&out, extra, sizeof(extra), 5, h, 1, note, len), TL_E_INPUT);
	ck_assert_int_eq(tl_tlog_proof_write(&out, NULL, 0, 5, h, 1, (const uint8_t *)"not a note\n", 11), TL_E_INPUT);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(tl_tlog_proof_write(&out, extra, sizeof(extra) - 1, 5, h, 64, note, len), 0);
	free(note);
	tl_buf_free(&out);
}
END_TEST

START_TEST(hash_lists)
{
	size_t len, n = 9;
	uint8_t *file = tu_notes_vector("consistency-4-7.txt", &len);
	tl_hash h[70];
	tl_buf out = tl_buf_make(8192);
	const char *three = H1 H2 H3;

	ck_assert_int_eq(tl_tlog_proof_read_hashes(h, 70, &n, file, len), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(tl_tlog_proof_read_hashes(h, 70, &n, (const uint8_t *)"", 0), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(tl_tlog_proof_read_hashes(h, 70, &n, (const uint8_t *)three, strlen(three)), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(tl_tlog_proof_write_hashes(&out, h, n), 0);
	ck_assert_str_eq((char *)out.data, three);
	/* cap, missing final newline, blank line, junk */
	ck_assert_int_eq(tl_tlog_proof_read_hashes(h, 2, &n, (const uint8_t *)three, strlen(three)), TL_E_INPUT);
	ck_assert_int_eq(tl_tlog_proof_read_hashes(h, 70, &n, (const uint8_t *)three, strlen(three) - 1), TL_E_INPUT);
	ck_assert_int_eq(tl_tlog_proof_read_hashes(h, 70, &n, (const uint8_t *)H1 "\n", strlen(H1) + 1), TL_E_INPUT);
	ck_assert_int_eq(tl_tlog_proof_read_hashes(h, 70, &n, (const uint8_t *)"junk\n", 5), TL_E_INPUT);
	/* Never more than 64, whatever the cap. */
	tl_buf_reset(&out);
	for (int i = 0; i < 65; i++)
		ck_assert_int_eq(tl_buf_append_str(&out, H1), 0);
	ck_assert_int_eq(tl_tlog_proof_read_hashes(h, 70, &n, out.data, out.len), TL_E_INPUT);
	ck_assert_int_eq(tl_tlog_proof_read_hashes(h, 70, &n, out.data, out.len - strlen(H1)), 0);
	ck_assert_uint_eq(n, 64);
	free(file);
	tl_buf_free(&out);
}
END_TEST

START_TEST(verify_own_vectors)
{
	size_t len;
	uint8_t *file = tu_notes_vector("entry-5.tlog-proof", &len);
	tl_verifier *v = tu_notes_verifier("log.vkey"), *w = tu_notes_verifier("witness.vkey");
	tl_tlog_proof p, bad;
	tl_checkpoint cp;
	tl_hash leaf, other;

	tree_leaf(&leaf, 5);
	tree_leaf(&other, 4);
	ck_assert_int_eq(tl_tlog_proof_parse(&p, file, len), 0);
	ck_assert_int_eq(tl_tlog_proof_verify(&cp, &p, &leaf, v), 0);
	ck_assert_uint_eq(cp.size, 7);
	ck_assert_str_eq(cp.origin, "example.com/bundled-test-log");
	/* Negatives: another leaf, another key, a changed index, a changed or missing hash,
	 * an index outside the tree, an extra hash. */
	ck_assert_int_eq(tl_tlog_proof_verify(&cp, &p, &other, v), TL_E_UNAUTHORIZED);
	ck_assert_int_eq(tl_tlog_proof_verify(&cp, &p, &leaf, w), TL_E_INPUT);
	bad = p;
	bad.index = 4;
	ck_assert_int_ne(tl_tlog_proof_verify(&cp, &bad, &leaf, v), 0);
	bad = p;
	bad.hashes[1].b[0] ^= 1;
	ck_assert_int_ne(tl_tlog_proof_verify(&cp, &bad, &leaf, v), 0);
	bad = p;
	bad.n_hashes = 2;
	ck_assert_int_ne(tl_tlog_proof_verify(&cp, &bad, &leaf, v), 0);
	bad = p;
	bad.hashes[3] = p.hashes[0];
	bad.n_hashes = 4;
	ck_assert_int_ne(tl_tlog_proof_verify(&cp, &bad, &leaf, v), 0);
	bad = p;
	bad.index = 7;
	ck_assert_int_eq(tl_tlog_proof_verify(&cp, &bad, &leaf, v), TL_E_UNAUTHORIZED);
	free(file);
	tl_verifier_free(v);
	tl_verifier_free(w);
}
END_TEST

/* RFC 6962 PATH(m, D[lo:hi]), written out independently of translog's Merkle code. */
static void subtree_root(tl_hash *out, const tl_hash *leaves, size_t lo, size_t hi)
{
	size_t k = 1;
	tl_hash l, r;

	if (hi - lo == 1) {
		*out = leaves[lo];
		return;
	}
	while (k * 2 < hi - lo)
		k *= 2;
	subtree_root(&l, leaves, lo, lo + k);
	subtree_root(&r, leaves, lo + k, hi);
	tl_hash_node(out, &l, &r);
}

static void audit_path(tl_hash *out, size_t *n, const tl_hash *leaves, size_t m, size_t lo, size_t hi)
{
	size_t k = 1;

	if (hi - lo == 1)
		return;
	while (k * 2 < hi - lo)
		k *= 2;
	if (m < k) {
		audit_path(out, n, leaves, m, lo, lo + k);
		subtree_root(&out[(*n)++], leaves, lo + k, hi);
	} else {
		audit_path(out, n, leaves, m - k, lo + k, hi);
		subtree_root(&out[(*n)++], leaves, lo, lo + k);
	}
}

START_TEST(write_parse_verify_every_leaf_of_small_trees)
{
	tl_signer *s = NULL;
	tl_verifier *v = NULL;
	tl_hash leaves[20], path[8];
	tl_buf note = tl_buf_make(TL_NOTE_MAX_SIZE), file = tl_buf_make(1 << 20);
	tl_checkpoint cp;
	uint8_t seed[32] = { 7 };

	ck_assert_int_eq(tl_signer_from_seed(&s, "example.com/small", TL_KEY_TYPE_ED25519, seed), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&v, s), 0);
	for (size_t i = 0; i < 20; i++) {
		char entry[32];

		snprintf(entry, sizeof(entry), "entry %zu", i);
		tl_hash_leaf(&leaves[i], entry, strlen(entry));
	}
	for (size_t size = 1; size <= 20; size++) {
		memset(&cp, 0, sizeof(cp));
		strcpy(cp.origin, "example.com/small");
		cp.size = size;
		subtree_root(&cp.root, leaves, 0, size);
		tl_buf_reset(&note);
		ck_assert_int_eq(tl_checkpoint_sign(&note, &cp, s), 0);
		for (size_t m = 0; m < size; m++) {
			tl_tlog_proof p;
			size_t n = 0;

			audit_path(path, &n, leaves, m, 0, size);
			tl_buf_reset(&file);
			ck_assert_int_eq(tl_tlog_proof_write(&file, NULL, 0, m, path, n, note.data, note.len), 0);
			ck_assert_int_eq(tl_tlog_proof_parse(&p, file.data, file.len), 0);
			ck_assert_int_eq(tl_tlog_proof_verify(NULL, &p, &leaves[m], v), 0);
			ck_assert_int_ne(tl_tlog_proof_verify(NULL, &p, &leaves[(m + 1) % 20], v), 0);
		}
	}
	tl_buf_free(&note);
	tl_buf_free(&file);
	tl_signer_free(s);
	tl_verifier_free(v);
}
END_TEST

START_TEST(research_e2e_proof_text)
{
	const char *path = tu_research_path("tlog-vectors/e2e_checkpoint_inclusion.json");
	json_t *root, *hex;
	const char *text, *signed_cp;
	tl_tlog_proof p;
	size_t i;

	if (path == NULL)
		return;
	root = json_load_file(path, 0, NULL);
	ck_assert_ptr_nonnull(root);
	text = json_string_value(json_object_get(root, "tlog_proof_v1_text"));
	signed_cp = json_string_value(json_object_get(root, "signed_checkpoint"));
	ck_assert_int_eq(tl_tlog_proof_parse(&p, (const uint8_t *)text, strlen(text)), 0);
	ck_assert_uint_eq(p.index, (uint64_t)json_integer_value(json_object_get(root, "leaf_index")));
	ck_assert_uint_eq(p.n_hashes, json_array_size(json_object_get(root, "proof_hex")));
	json_array_foreach(json_object_get(root, "proof_hex"), i, hex) {
		char got[65];

		tl_hex_encode(got, p.hashes[i].b, 32);
		ck_assert_str_eq(got, json_string_value(hex));
	}
	ck_assert_uint_eq(p.checkpoint_len, strlen(signed_cp));
	ck_assert_int_eq(memcmp(p.checkpoint, signed_cp, p.checkpoint_len), 0);
	{
		const char *vkey = json_string_value(json_object_get(root, "vkey"));
		const char *input_hex = json_string_value(json_object_get(root, "leaf_input_hex"));
		uint8_t input[64];
		size_t input_len = strlen(input_hex) / 2;
		tl_verifier *v = NULL;
		tl_hash leaf;
		char leaf_hex[65];

		ck_assert_int_eq(tl_hex_decode(input, input_len, input_hex, 2 * input_len), 0);
		tl_hash_leaf(&leaf, input, input_len);
		tl_hex_encode(leaf_hex, leaf.b, 32);
		ck_assert_str_eq(leaf_hex, json_string_value(json_object_get(root, "leaf_hash_hex")));
		ck_assert_int_eq(tl_verifier_parse(&v, vkey, strlen(vkey)), 0);
		ck_assert_int_eq(tl_tlog_proof_verify(NULL, &p, &leaf, v), 0);
		leaf.b[31] ^= 1;
		ck_assert_int_eq(tl_tlog_proof_verify(NULL, &p, &leaf, v), TL_E_UNAUTHORIZED);
		tl_verifier_free(v);
	}
	json_decref(root);
}
END_TEST

Suite *suite_tlog_proof(void)
{
	Suite *s = suite_create("tlog_proof");
	TCase *tc = tcase_create("tlog_proof");

	tcase_add_test(tc, own_vectors_parse_and_rewrite);
	tcase_add_test(tc, malformed_proofs);
	tcase_add_test(tc, checkpoint_part_must_be_a_checkpoint_note);
	tcase_add_test(tc, writer_refusals);
	tcase_add_test(tc, hash_lists);
	tcase_add_test(tc, verify_own_vectors);
	tcase_add_test(tc, write_parse_verify_every_leaf_of_small_trees);
	tcase_add_test(tc, research_e2e_proof_text);
	suite_add_tcase(s, tc);
	return s;
}
