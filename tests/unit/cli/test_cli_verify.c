/*
 * Runs the built bundlectl (keygen and the verify-* commands) as a user would, and checks
 * exit codes (0 valid, 1 invalid, 2 usage/I-O), stdout and the one-line reason on stderr.
 *
 * The binary is $BUNDLECTL if set, else <build dir>/bin/bundlectl where <build dir> is the
 * directory above the running test binary (build/tests/run-tests -> build/bin/bundlectl,
 * build/san/tests/run-tests -> build/san/bin/bundlectl), so sanitizer runs test the
 * sanitizer build.
 */
#include <check.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "translog/checkpoint.h"
#include "translog/key.h"
#include "translog/note.h"

#define V "tests/vectors/notes/"
#define LOG_VKEY "example.com/bundled-test-log+578f23ed+AYQ+XzXUM6TwIx9igtXABvZIAmN07ox3x/NnJXJmWKrp"
#define WITNESS_VKEY "example.com/bundled-test-witness+00843002+BD2l4TXW4D+lkTCSIwiKzeqe9UxkFrBFcwDHyP7Dn+33"

static char cli[PATH_MAX];
static char *dir;
static char *out_text, *err_text;

static const char *bundlectl(void)
{
	const char *env = getenv("BUNDLECTL");
	char self[PATH_MAX];
	ssize_t n;

	if (env && env[0])
		return env;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	/* <build>/tests/run-tests */
	snprintf(cli, sizeof(cli), "%s/bin/bundlectl", dirname(dirname(self)));
	return cli;
}

static void setup(void)
{
	dir = tu_mkdtemp();
	ck_assert_ptr_nonnull(dir);
	out_text = err_text = NULL;
}

static void teardown(void)
{
	free(out_text);
	free(err_text);
	tu_rm_rf(dir);
	free(dir);
}

static char *slurp(const char *name)
{
	char path[PATH_MAX];
	size_t len;
	uint8_t *data;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	data = tu_read_file(path, &len);
	return data ? (char *)data : strdup("");
}

/* Runs "bundlectl <args>" (args is shell text; run from the source root) and returns its
 * exit status; stdout and stderr land in out_text and err_text. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char args[8192];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	free(out_text);
	free(err_text);
	status = tu_system("cd '%s' && '%s' %s >'%s/stdout' 2>'%s/stderr'", tu_source_path(""), bundlectl(), args, dir, dir);
	out_text = slurp("stdout");
	err_text = slurp("stderr");
	return status;
}

/* Exit 1 comes with exactly one line on stderr. */
static void assert_invalid(int status, const char *reason)
{
	ck_assert_int_eq(status, 1);
	ck_assert_msg(strstr(err_text, reason) != NULL, "stderr '%s' lacks '%s'", err_text, reason);
	ck_assert_ptr_eq(strchr(err_text, '\n'), err_text + strlen(err_text) - 1);
	ck_assert_str_eq(out_text, "");
}

static const char *tmp(const char *name)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
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

START_TEST(help_and_usage)
{
	const char *cmds[] = { "keygen", "verify-checkpoint", "verify-proof", "verify-consistency" };

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (i >= 2 && run("--help") == 0 && strstr(out_text, cmds[i]) == NULL)
			continue; /* command not built yet */
		ck_assert_int_eq(run("%s --help", cmds[i]), 0);
		ck_assert_ptr_nonnull(strstr(out_text, "usage: bundlectl"));
		ck_assert_ptr_nonnull(strstr(out_text, "exit status"));
		ck_assert_int_eq(run("%s", cmds[i]), 2);
		ck_assert_int_eq(run("%s --bogus", cmds[i]), 2);
	}
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
	ck_assert_int_eq(tl_verifier_parse(&v, out_text, strlen(out_text)), 0);
	ck_assert_str_eq(tl_verifier_name(v), "example.com/cli-test");
	ck_assert_uint_eq(tl_verifier_type(v), TL_KEY_TYPE_ED25519);
	ck_assert_int_eq(stat(tmp("log.key"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(tl_signer_load(&s, tmp("log.key")), 0);
	ck_assert_uint_eq(tl_signer_key_id(s), tl_verifier_key_id(v));
	/* Never overwritten. */
	before = tu_read_file(tmp("log.key"), &len);
	ck_assert_int_eq(run("keygen --name example.com/other --out '%s'", tmp("log.key")), 2);
	ck_assert_ptr_nonnull(strstr(err_text, "refusing to overwrite"));
	after = tu_read_file(tmp("log.key"), &len);
	ck_assert_str_eq((char *)before, (char *)after);
	/* Witness keys, bad names, missing options. */
	ck_assert_int_eq(run("keygen --cosigner --name witness.example --out '%s'", tmp("w.key")), 0);
	tl_verifier_free(v);
	v = NULL;
	ck_assert_int_eq(tl_verifier_parse(&v, out_text, strlen(out_text)), 0);
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
	snprintf(vkey, sizeof(vkey), "%s", out_text);
	vkey[strcspn(vkey, "\n")] = '\0';
	ck_assert_int_eq(tl_signer_load(&s, tmp("log.key")), 0);
	memset(&cp, 0, sizeof(cp));
	strcpy(cp.origin, "example.com/cli-log");
	cp.size = 42;
	tl_hash_empty(&cp.root);
	ck_assert_int_eq(tl_checkpoint_sign(&note, &cp, s), 0);
	write_tmp("cp.note", note.data, note.len);
	ck_assert_int_eq(run("verify-checkpoint --vkey '%s' '%s'", vkey, tmp("cp.note")), 0);
	ck_assert_str_eq(out_text, "ok: example.com/cli-log size 42 root 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
	tl_buf_free(&note);
	tl_signer_free(s);
}
END_TEST

START_TEST(verify_checkpoint)
{
	ck_assert_int_eq(run("verify-checkpoint --vkey '" LOG_VKEY "' " V "checkpoint-7.note"), 0);
	ck_assert_str_eq(out_text, "ok: example.com/bundled-test-log size 7 root 1kgSb+XYYqTIceBgjnDZ7hvCYxnqZCW8pbHf/nOndn4=\n");
	ck_assert_str_eq(err_text, "");
	ck_assert_int_eq(run("verify-checkpoint --vkey-file " V "log.vkey " V "checkpoint-4.note"), 0);
	ck_assert_int_eq(run("verify-checkpoint --vkey-file " V "log.vkey - < " V "checkpoint-7-cosigned.note"), 0);
	/* Witness policy. */
	ck_assert_int_eq(run("verify-checkpoint --vkey-file " V "log.vkey --witness '" WITNESS_VKEY "' " V "checkpoint-7-cosigned.note"), 0);
	ck_assert_ptr_nonnull(strstr(out_text, "cosigned by 1 of 1 witnesses"));
	assert_invalid(run("verify-checkpoint --vkey-file " V "log.vkey --witness '" WITNESS_VKEY "' " V "checkpoint-7.note"),
		"0 of 1 witnesses cosigned");
	ck_assert_int_eq(run("verify-checkpoint --vkey-file " V "log.vkey --witness '" WITNESS_VKEY "' --quorum 0 " V "checkpoint-7.note"), 0);
	ck_assert_int_eq(run("verify-checkpoint --vkey-file " V "log.vkey --witness '" LOG_VKEY "' " V "checkpoint-7.note"), 2);
	ck_assert_int_eq(run("verify-checkpoint --vkey-file " V "log.vkey --quorum 1 " V "checkpoint-7.note"), 2);
	tamper(V "checkpoint-7-cosigned.note", "bad-cosig.note", "\xe2\x80\x94 example.com/bundled-test-witness ", 60);
	assert_invalid(run("verify-checkpoint --vkey-file " V "log.vkey --witness '" WITNESS_VKEY "' '%s'", tmp("bad-cosig.note")),
		"invalid cosignature");
	/* Invalid: another key of the same name, a flipped signature bit, garbage, a witness key as log key. */
	ck_assert_int_eq(run("keygen --name example.com/bundled-test-log --out '%s'", tmp("imp.key")), 0);
	{
		char vkey[TL_MAX_KEY_TEXT];

		snprintf(vkey, sizeof(vkey), "%s", out_text);
		vkey[strcspn(vkey, "\n")] = '\0';
		assert_invalid(run("verify-checkpoint --vkey '%s' " V "checkpoint-7.note", vkey), "no signature by a known key");
	}
	tamper(V "checkpoint-7.note", "bad-sig.note", "\xe2\x80\x94 example.com/bundled-test-log ", 50);
	assert_invalid(run("verify-checkpoint --vkey '" LOG_VKEY "' '%s'", tmp("bad-sig.note")), "invalid signature");
	write_tmp("garbage.note", "hello\n", 6);
	assert_invalid(run("verify-checkpoint --vkey '" LOG_VKEY "' '%s'", tmp("garbage.note")), "no blank line");
	assert_invalid(run("verify-checkpoint --vkey '" LOG_VKEY "' " V "entry-5.tlog-proof"), "invalid signature");
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

Suite *suite_cli_verify(void)
{
	Suite *s = suite_create("cli_verify");
	TCase *tc = tcase_create("cli_verify");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, help_and_usage);
	tcase_add_test(tc, keygen_writes_a_private_key_once);
	tcase_add_test(tc, keygen_key_signs_checkpoints_that_verify);
	tcase_add_test(tc, verify_checkpoint);
	suite_add_tcase(s, tc);
	return s;
}
