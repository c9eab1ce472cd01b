/*
 * Runs the built bundlectl (keygen and the verify-* commands) as a user would, and checks
 * exit codes (0 valid, 1 invalid, 2 usage/I-O), stdout and the one-line reason on stderr.
 *
 * The binary is tu_bin_path("bundlectl"): build/bin/bundlectl beside build/tests/run-tests,
 * build/san/bin/bundlectl in sanitizer runs, so sanitizer runs test the sanitizer build.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testdaemon.h"
#include "testrun.h"
#include "testnotes.h"
#include "testutil.h"
#include "translog/checkpoint.h"
#include "translog/key.h"
#include "translog/note.h"
#include "translog/tlog_proof.h"

#define V "tests/vectors/notes/"
#define LOG_VKEY "example.com/bundled-test-log+578f23ed+AYQ+XzXUM6TwIx9igtXABvZIAmN07ox3x/NnJXJmWKrp"
#define WITNESS_VKEY "example.com/bundled-test-witness+00843002+BD2l4TXW4D+lkTCSIwiKzeqe9UxkFrBFcwDHyP7Dn+33"

static char *dir;
static struct tu_output ran; /* the last run's output */

static void setup(void)
{
	dir = tu_mkdtemp();
	ck_assert_ptr_nonnull(dir);
	tu_output_free(&ran);
}

static void teardown(void)
{
	tu_output_free(&ran);
	tu_rm_rf(dir);
	free(dir);
}

/* Runs "bundlectl <args>" (shell text, from the source root) into `ran`; returns its exit status. */
#define run(...) tu_run(&ran, dir, "bundlectl", __VA_ARGS__)

/* A path in the temp dir; a few calls may share one argument list. */
static const char *tmp(const char *name)
{
	return tu_path_in(dir, name);
}

static void write_tmp(const char *name, const void *data, size_t len)
{
	ck_assert_int_eq(tu_write_file(tmp(name), data, len), 0);
}

/* Copies a vector to the temp dir with one byte changed. */
static void tamper(const char *vector, const char *name, const char *find, size_t offset)
{
	size_t len;
	uint8_t *data = tu_read_file(tu_source_path(vector), &len);
	char *at;

	ck_assert_ptr_nonnull(data);
	at = strstr((char *)data, find);
	ck_assert_ptr_nonnull(at);
	at[offset] = at[offset] == 'A' ? 'B' : 'A';
	write_tmp(name, data, len);
	free(data);
}

/* A fresh key by `bundlectl keygen` under the vectors' log name, as VKEY text: the name
 * matches, the key does not, so no vector carries a signature by it. */
static void impostor_vkey(char vkey[TL_MAX_KEY_TEXT])
{
	ck_assert_int_eq(run("keygen --name example.com/bundled-test-log --out '%s'", tmp("imp.key")), 0);
	snprintf(vkey, TL_MAX_KEY_TEXT, "%s", ran.out);
	vkey[strcspn(vkey, "\n")] = '\0';
}

START_TEST(help_and_usage)
{
	const char *cmds[] = { "keygen", "verify-checkpoint", "verify-proof", "verify-consistency" };

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		ck_assert_int_eq(run("%s --help", cmds[i]), 0);
		ck_assert_ptr_nonnull(strstr(ran.out, "usage: bundlectl"));
		ck_assert_ptr_nonnull(strstr(ran.out, "exit status"));
		ck_assert_int_eq(run("%s", cmds[i]), 2);
	}
	ck_assert_int_eq(run("verify-checkpoint --bogus " V "checkpoint-7.note"), 2);
}
END_TEST

START_TEST(keygen_writes_a_private_key_once)
{
	tl_verifier *v = NULL;
	tl_signer *s = NULL;
	struct stat st;
	size_t len;
	uint8_t *before, *after;

	ck_assert_int_eq(run("keygen --name example.com/cli-test --out '%s'", tmp("log.key")), 0);
	ck_assert_int_eq(tl_verifier_parse(&v, ran.out, strlen(ran.out)), 0);
	ck_assert_str_eq(tl_verifier_name(v), "example.com/cli-test");
	ck_assert_uint_eq(tl_verifier_type(v), TL_KEY_TYPE_ED25519);
	ck_assert_int_eq(stat(tmp("log.key"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(tl_signer_load(&s, tmp("log.key")), 0);
	ck_assert_uint_eq(tl_signer_key_id(s), tl_verifier_key_id(v));
	/* Never overwritten. */
	before = tu_read_file(tmp("log.key"), &len);
	ck_assert_int_eq(run("keygen --name example.com/other --out '%s'", tmp("log.key")), 2);
	ck_assert_ptr_nonnull(strstr(ran.err, "refusing to overwrite"));
	after = tu_read_file(tmp("log.key"), &len);
	ck_assert_str_eq((char *)before, (char *)after);
	/* Witness keys, bad names, missing options. */
	ck_assert_int_eq(run("keygen --cosigner --name witness.example --out '%s'", tmp("w.key")), 0);
	tl_verifier_free(v);
	v = NULL;
	ck_assert_int_eq(tl_verifier_parse(&v, ran.out, strlen(ran.out)), 0);
	ck_assert_uint_eq(tl_verifier_type(v), TL_KEY_TYPE_COSIGNATURE);
	ck_assert_int_eq(run("keygen --name 'bad name' --out '%s'", tmp("bad.key")), 2);
	ck_assert_int_ne(access(tmp("bad.key"), F_OK), 0);
	ck_assert_int_eq(run("keygen --name example.com/x"), 2);
	ck_assert_int_eq(run("keygen --out '%s'", tmp("x.key")), 2);
	ck_assert_int_eq(run("keygen --name example.com/x --out '%s'", tmp("no/such/dir.key")), 2);
	free(before);
	free(after);
	tl_verifier_free(v);
	tl_signer_free(s);
}
END_TEST

START_TEST(keygen_key_signs_checkpoints_that_verify)
{
	tl_signer *s = NULL;
	tl_checkpoint cp;
	tl_buf note = tl_buf_make(TL_NOTE_MAX_SIZE);
	char vkey[TL_MAX_KEY_TEXT];

	ck_assert_int_eq(run("keygen --name example.com/cli-log --out '%s'", tmp("log.key")), 0);
	snprintf(vkey, sizeof(vkey), "%s", ran.out);
	vkey[strcspn(vkey, "\n")] = '\0';
	ck_assert_int_eq(tl_signer_load(&s, tmp("log.key")), 0);
	memset(&cp, 0, sizeof(cp));
	strcpy(cp.origin, "example.com/cli-log");
	cp.size = 42;
	tl_hash_empty(&cp.root);
	ck_assert_int_eq(tl_checkpoint_sign(&note, &cp, s), 0);
	write_tmp("cp.note", note.data, note.len);
	ck_assert_int_eq(run("verify-checkpoint --vkey '%s' '%s'", vkey, tmp("cp.note")), 0);
	ck_assert_str_eq(ran.out, "ok: example.com/cli-log size 42 root 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
	tl_buf_free(&note);
	tl_signer_free(s);
}
END_TEST

START_TEST(verify_checkpoint)
{
	ck_assert_int_eq(run("verify-checkpoint --vkey '" LOG_VKEY "' " V "checkpoint-7.note"), 0);
	ck_assert_str_eq(ran.out, "ok: example.com/bundled-test-log size 7 root 1kgSb+XYYqTIceBgjnDZ7hvCYxnqZCW8pbHf/nOndn4=\n");
	ck_assert_str_eq(ran.err, "");
	ck_assert_int_eq(run("verify-checkpoint --vkey-file " V "log.vkey " V "checkpoint-4.note"), 0);
	ck_assert_int_eq(run("verify-checkpoint --vkey-file " V "log.vkey - < " V "checkpoint-7-cosigned.note"), 0);
	/* Witness policy. */
	ck_assert_int_eq(run("verify-checkpoint --vkey-file " V "log.vkey --witness '" WITNESS_VKEY "' " V "checkpoint-7-cosigned.note"), 0);
	ck_assert_ptr_nonnull(strstr(ran.out, "cosigned by 1 of 1 witnesses"));
	tu_assert_invalid(&ran, run("verify-checkpoint --vkey-file " V "log.vkey --witness '" WITNESS_VKEY "' " V "checkpoint-7.note"),
		"0 of 1 witnesses cosigned");
	ck_assert_int_eq(run("verify-checkpoint --vkey-file " V "log.vkey --witness '" WITNESS_VKEY "' --quorum 0 " V "checkpoint-7.note"), 0);
	ck_assert_int_eq(run("verify-checkpoint --vkey-file " V "log.vkey --witness '" LOG_VKEY "' " V "checkpoint-7.note"), 2);
	ck_assert_int_eq(run("verify-checkpoint --vkey-file " V "log.vkey --quorum 1 " V "checkpoint-7.note"), 2);
	tamper(V "checkpoint-7-cosigned.note", "bad-cosig.note", "\xe2\x80\x94 example.com/bundled-test-witness ", 60);
	tu_assert_invalid(&ran, run("verify-checkpoint --vkey-file " V "log.vkey --witness '" WITNESS_VKEY "' '%s'", tmp("bad-cosig.note")),
		"invalid cosignature");
	/* Issue 8: the witness listed again under another name, with its line copied under that
	 * name, met a quorum of 2 alone. Now refused as a usage error. */
	{
		tl_verifier *wv = tu_notes_verifier("witness.vkey");
		tl_verifier *alias = tu_notes_alias(wv, "example.com/another-witness");
		size_t len;
		uint8_t *note = tu_notes_vector("checkpoint-7-cosigned.note", &len);
		tl_buf out = tl_buf_make(TL_NOTE_MAX_SIZE), alias_text = tl_buf_make(TL_MAX_KEY_TEXT);
		tl_note n;

		ck_assert_int_eq(tl_verifier_format(&alias_text, alias), 0);
		ck_assert_int_eq(tl_buf_append(&alias_text, "", 1), 0);
		ck_assert_int_eq(tl_note_parse(&n, note, len), 0);
		tu_notes_relabel(&out, &n, n.n_sigs - 1, alias);
		write_tmp("twice.note", out.data, out.len);
		ck_assert_int_eq(run("verify-checkpoint --vkey-file " V "log.vkey --witness '" WITNESS_VKEY "' --witness '%s' '%s'",
			(char *)alias_text.data, tmp("twice.note")), 2);
		ck_assert_ptr_nonnull(strstr(ran.err, "one public key under two names"));
		ck_assert_int_eq(run("verify-proof --vkey '" LOG_VKEY "' --witness '" WITNESS_VKEY "' --witness '%s' --quorum 1 --entry " V "entry-5.txt " V "entry-5.tlog-proof",
			(char *)alias_text.data), 2);
		/* The alias alone is a different name for a real cosigner: its copied line verifies. */
		ck_assert_int_eq(run("verify-checkpoint --vkey-file " V "log.vkey --witness '%s' '%s'", (char *)alias_text.data,
			tmp("twice.note")), 0);
		free(note);
		tl_buf_free(&out);
		tl_buf_free(&alias_text);
		tl_verifier_free(wv);
		tl_verifier_free(alias);
	}
	/* Invalid: another key of the same name, a flipped signature bit, garbage, a witness key as log key. */
	{
		char vkey[TL_MAX_KEY_TEXT];

		impostor_vkey(vkey);
		tu_assert_invalid(&ran, run("verify-checkpoint --vkey '%s' " V "checkpoint-7.note", vkey), "no signature by a known key");
	}
	tamper(V "checkpoint-7.note", "bad-sig.note", "\xe2\x80\x94 example.com/bundled-test-log ", 50);
	tu_assert_invalid(&ran, run("verify-checkpoint --vkey '" LOG_VKEY "' '%s'", tmp("bad-sig.note")), "invalid signature");
	write_tmp("garbage.note", "hello\n", 6);
	tu_assert_invalid(&ran, run("verify-checkpoint --vkey '" LOG_VKEY "' '%s'", tmp("garbage.note")), "no blank line");
	tu_assert_invalid(&ran, run("verify-checkpoint --vkey '" LOG_VKEY "' " V "entry-5.tlog-proof"), "invalid signature");
	ck_assert_int_eq(run("verify-checkpoint --vkey '" WITNESS_VKEY "' " V "checkpoint-7.note"), 2);
	/* Usage and I/O: missing file, bad key, both key options, two files. */
	ck_assert_int_eq(run("verify-checkpoint --vkey '" LOG_VKEY "' '%s'", tmp("missing.note")), 2);
	ck_assert_int_eq(run("verify-checkpoint --vkey 'example.com/x+00000000+AAAA' " V "checkpoint-7.note"), 2);
	ck_assert_int_eq(run("verify-checkpoint --vkey-file '%s' " V "checkpoint-7.note", tmp("missing.vkey")), 2);
	ck_assert_int_eq(run("verify-checkpoint --vkey '" LOG_VKEY "' --vkey-file " V "log.vkey " V "checkpoint-7.note"), 2);
	ck_assert_int_eq(run("verify-checkpoint --vkey '" LOG_VKEY "' " V "checkpoint-7.note " V "checkpoint-4.note"), 2);
	ck_assert_int_eq(run("verify-checkpoint " V "checkpoint-7.note"), 2);
}
END_TEST

/* Writes a checkpoint of the vectors' log, signed by its key, to the temp dir. */
static void write_checkpoint(const char *name, uint64_t size, uint8_t root_byte)
{
	tl_signer *s = tu_notes_signer("log.key");
	tl_buf note = tl_buf_make(TL_NOTE_MAX_SIZE);
	tl_checkpoint cp;

	memset(&cp, 0, sizeof(cp));
	strcpy(cp.origin, "example.com/bundled-test-log");
	cp.size = size;
	if (size == 0 && root_byte == 0)
		tl_hash_empty(&cp.root);
	else
		memset(cp.root.b, root_byte, sizeof(cp.root.b));
	ck_assert_int_eq(tl_checkpoint_sign(&note, &cp, s), 0);
	write_tmp(name, note.data, note.len);
	tl_buf_free(&note);
	tl_signer_free(s);
}

static void replace_in_copy(const char *vector, const char *name, const char *from, const char *to)
{
	size_t len;
	uint8_t *data = tu_read_file(tu_source_path(vector), &len);
	tl_buf b = tl_buf_make(1 << 20);
	char *at;

	ck_assert_ptr_nonnull(data);
	at = strstr((char *)data, from);
	ck_assert_ptr_nonnull(at);
	ck_assert_int_eq(tl_buf_append(&b, data, (size_t)(at - (char *)data)), 0);
	ck_assert_int_eq(tl_buf_append_str(&b, to), 0);
	ck_assert_int_eq(tl_buf_append_str(&b, at + strlen(from)), 0);
	write_tmp(name, b.data, b.len);
	tl_buf_free(&b);
	free(data);
}

START_TEST(verify_proof)
{
	ck_assert_int_eq(run("verify-proof --vkey '" LOG_VKEY "' --entry " V "entry-5.txt " V "entry-5.tlog-proof"), 0);
	ck_assert_str_eq(ran.out, "ok: entry 5 is in example.com/bundled-test-log at size 7\n");
	ck_assert_str_eq(ran.err, "");
	ck_assert_int_eq(run("verify-proof --vkey-file " V "log.vkey --entry " V "entry-5.txt - < " V "entry-5-extra.tlog-proof"), 0);
	/* Another entry, another key, a changed hash, an index outside the tree, a changed index. */
	write_tmp("entry-6.txt", "bundled test entry 6\n", 21);
	tu_assert_invalid(&ran, run("verify-proof --vkey '" LOG_VKEY "' --entry '%s' " V "entry-5.tlog-proof", tmp("entry-6.txt")),
		"not proven");
	{
		char vkey[TL_MAX_KEY_TEXT];

		impostor_vkey(vkey);
		tu_assert_invalid(&ran, run("verify-proof --vkey '%s' --entry " V "entry-5.txt " V "entry-5.tlog-proof", vkey),
			"no signature by a known key");
	}
	tamper(V "entry-5.tlog-proof", "bad-hash.tlog-proof", "39/yX0M9", 3);
	tu_assert_invalid(&ran, run("verify-proof --vkey '" LOG_VKEY "' --entry " V "entry-5.txt '%s'", tmp("bad-hash.tlog-proof")),
		"not proven");
	replace_in_copy(V "entry-5.tlog-proof", "index9.tlog-proof", "index 5\n", "index 9\n");
	tu_assert_invalid(&ran, run("verify-proof --vkey '" LOG_VKEY "' --entry " V "entry-5.txt '%s'", tmp("index9.tlog-proof")),
		"not in the tree");
	replace_in_copy(V "entry-5.tlog-proof", "index4.tlog-proof", "index 5\n", "index 4\n");
	tu_assert_invalid(&ran, run("verify-proof --vkey '" LOG_VKEY "' --entry " V "entry-5.txt '%s'", tmp("index4.tlog-proof")),
		"not proven");
	replace_in_copy(V "entry-5.tlog-proof", "v2.tlog-proof", "@v1", "@v2");
	tu_assert_invalid(&ran, run("verify-proof --vkey '" LOG_VKEY "' --entry " V "entry-5.txt '%s'", tmp("v2.tlog-proof")),
		"tlog-proof line 1");
	tu_assert_invalid(&ran, run("verify-proof --vkey '" LOG_VKEY "' --entry " V "entry-5.txt " V "checkpoint-7.note"),
		"tlog-proof line 1");
	/* Usage and I/O. */
	ck_assert_int_eq(run("verify-proof --vkey '" LOG_VKEY "' " V "entry-5.tlog-proof"), 2);
	ck_assert_int_eq(run("verify-proof --vkey '" LOG_VKEY "' --entry '%s' " V "entry-5.tlog-proof", tmp("missing")), 2);
	ck_assert_int_eq(run("verify-proof --vkey '" LOG_VKEY "' --entry " V "entry-5.txt '%s'", tmp("missing")), 2);
	ck_assert_int_eq(run("verify-proof --entry " V "entry-5.txt " V "entry-5.tlog-proof"), 2);
}
END_TEST

START_TEST(verify_proof_with_witnesses)
{
	size_t len, note_len;
	uint8_t *file = tu_read_file(tu_source_path(V "entry-5.tlog-proof"), &len);
	uint8_t *note = tu_read_file(tu_source_path(V "checkpoint-7-cosigned.note"), &note_len);
	tl_buf out = tl_buf_make(1 << 20);
	tl_tlog_proof p;

	ck_assert_ptr_nonnull(file);
	ck_assert_ptr_nonnull(note);
	ck_assert_int_eq(tl_tlog_proof_parse(&p, file, len), 0);
	ck_assert_int_eq(tl_tlog_proof_write(&out, NULL, 0, p.index, p.hashes, p.n_hashes, note, note_len), 0);
	write_tmp("cosigned.tlog-proof", out.data, out.len);
	ck_assert_int_eq(run("verify-proof --vkey '" LOG_VKEY "' --witness '" WITNESS_VKEY "' --entry " V "entry-5.txt '%s'",
		tmp("cosigned.tlog-proof")), 0);
	ck_assert_str_eq(ran.out, "ok: entry 5 is in example.com/bundled-test-log at size 7, cosigned by 1 of 1 witnesses\n");
	tu_assert_invalid(&ran, run("verify-proof --vkey '" LOG_VKEY "' --witness '" WITNESS_VKEY "' --entry " V "entry-5.txt " V "entry-5.tlog-proof"),
		"0 of 1 witnesses cosigned");
	ck_assert_int_eq(run("verify-proof --vkey '" LOG_VKEY "' --witness '" WITNESS_VKEY "' --quorum 2 --entry " V "entry-5.txt " V "entry-5.tlog-proof"), 2);
	free(file);
	free(note);
	tl_buf_free(&out);
}
END_TEST

START_TEST(verify_consistency)
{
	ck_assert_int_eq(run("verify-consistency --vkey '" LOG_VKEY "' " V "checkpoint-4.note " V "checkpoint-7.note " V "consistency-4-7.txt"), 0);
	ck_assert_str_eq(ran.out, "ok: example.com/bundled-test-log size 4 is consistent with size 7\n");
	ck_assert_int_eq(run("verify-consistency --vkey-file " V "log.vkey " V "checkpoint-4.note " V "checkpoint-7-cosigned.note - < " V "consistency-4-7.txt"), 0);
	/* Equal checkpoints with an empty proof; every tree extends the empty tree. */
	write_tmp("empty.txt", "", 0);
	ck_assert_int_eq(run("verify-consistency --vkey '" LOG_VKEY "' " V "checkpoint-7.note " V "checkpoint-7.note '%s'", tmp("empty.txt")), 0);
	write_checkpoint("cp0.note", 0, 0);
	ck_assert_int_eq(run("verify-consistency --vkey '" LOG_VKEY "' '%s' " V "checkpoint-7.note '%s'", tmp("cp0.note"), tmp("empty.txt")), 0);
	tu_assert_invalid(&ran, run("verify-consistency --vkey '" LOG_VKEY "' '%s' " V "checkpoint-7.note " V "consistency-4-7.txt", tmp("cp0.note")),
		"which needs none");
	/* Issue 8: an old checkpoint of size 0 must have the empty tree's root (docs/proofs.md);
	 * the command skipped that check and accepted any root. */
	write_checkpoint("cp0-forged.note", 0, 0x42);
	tu_assert_invalid(&ran, run("verify-consistency --vkey '" LOG_VKEY "' '%s' " V "checkpoint-7.note '%s'", tmp("cp0-forged.note"), tmp("empty.txt")),
		"size 0");
	tu_assert_invalid(&ran, run("verify-checkpoint --vkey '" LOG_VKEY "' '%s'", tmp("cp0-forged.note")), "size 0");
	/* Invalid: reversed, an empty or tampered proof, a fork at the same size, a forked old tree. */
	tu_assert_invalid(&ran, run("verify-consistency --vkey '" LOG_VKEY "' " V "checkpoint-7.note " V "checkpoint-4.note " V "consistency-4-7.txt"),
		"is larger than new size");
	tu_assert_invalid(&ran, run("verify-consistency --vkey '" LOG_VKEY "' " V "checkpoint-4.note " V "checkpoint-7.note '%s'", tmp("empty.txt")), "");
	tamper(V "consistency-4-7.txt", "bad.txt", "YS2m", 2);
	tu_assert_invalid(&ran, run("verify-consistency --vkey '" LOG_VKEY "' " V "checkpoint-4.note " V "checkpoint-7.note '%s'", tmp("bad.txt")), "");
	write_checkpoint("fork7.note", 7, 0x42);
	tu_assert_invalid(&ran, run("verify-consistency --vkey '" LOG_VKEY "' " V "checkpoint-7.note '%s' '%s'", tmp("fork7.note"), tmp("empty.txt")),
		"two different roots");
	write_checkpoint("fork4.note", 4, 0x42);
	tu_assert_invalid(&ran, run("verify-consistency --vkey '" LOG_VKEY "' '%s' " V "checkpoint-7.note " V "consistency-4-7.txt", tmp("fork4.note")), "");
	write_tmp("junk.txt", "not base64\n", 11);
	tu_assert_invalid(&ran, run("verify-consistency --vkey '" LOG_VKEY "' " V "checkpoint-4.note " V "checkpoint-7.note '%s'", tmp("junk.txt")),
		"proof hash line 1");
	tu_assert_invalid(&ran, run("verify-consistency --vkey '" LOG_VKEY "' " V "entry-5.tlog-proof " V "checkpoint-7.note " V "consistency-4-7.txt"),
		"old checkpoint");
	{
		char vkey[TL_MAX_KEY_TEXT];

		impostor_vkey(vkey);
		tu_assert_invalid(&ran, run("verify-consistency --vkey '%s' " V "checkpoint-4.note " V "checkpoint-7.note " V "consistency-4-7.txt", vkey),
			"no signature by a known key");
	}
	/* Usage and I/O. */
	ck_assert_int_eq(run("verify-consistency --vkey '" LOG_VKEY "' " V "checkpoint-4.note " V "checkpoint-7.note"), 2);
	ck_assert_int_eq(run("verify-consistency --vkey '" LOG_VKEY "' " V "checkpoint-4.note " V "checkpoint-7.note '%s'", tmp("missing")), 2);
	ck_assert_int_eq(run("verify-consistency " V "checkpoint-4.note " V "checkpoint-7.note " V "consistency-4-7.txt"), 2);
}
END_TEST

Suite *suite_cli_verify(void)
{
	Suite *s = suite_create("cli_verify");
	TCase *tc = tcase_create("cli_verify");

	/* Each case starts bundlectl a dozen or more times; under ASan a start takes ~0.1-0.3 s. */
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, help_and_usage);
	tcase_add_test(tc, keygen_writes_a_private_key_once);
	tcase_add_test(tc, keygen_key_signs_checkpoints_that_verify);
	tcase_add_test(tc, verify_checkpoint);
	tcase_add_test(tc, verify_proof);
	tcase_add_test(tc, verify_proof_with_witnesses);
	tcase_add_test(tc, verify_consistency);
	suite_add_tcase(s, tc);
	return s;
}
