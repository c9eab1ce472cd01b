/*
 * The Go reference verifiers against the live daemon: tests/peers/cmd/tlogcheck, built on
 * golang.org/x/mod/sumdb (note, tlog), transparency-dev/formats and merkle and torchwood,
 * checks a log the daemon serves on loopback: every checkpoint it served, every tile and
 * entry bundle, every inclusion and consistency proof rebuilt from tiles against the JSON
 * proof endpoints, and tlog-proof files written by translog's writer. Then the same checker
 * must fail under a wrong verifier key, tampered proof files, and a tamperproxy that corrupts
 * one kind of answer at a time.
 *
 * The log is prepared the way the daemon suites do (the daemon cannot publish yet): 300
 * entries, the daemon serves its checkpoint, 200 more entries, the daemon serves again.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testdaemon.h"
#include "testpublish.h"
#include "testpeers.h"
#include "testrun.h"
#include "testutil.h"
#include "translog/db.h"
#include "translog/key.h"
#include "translog/log.h"
#include "translog/proof.h"
#include "translog/tlog_proof.h"

enum { FIRST = 300, TOTAL = 500 };

static char *data_dir, *work_dir;
static struct tu_daemon daemon_under_test;
/* "-proof FILE=ENTRY ..." for every proof file written, and the served old checkpoint. */
static tl_buf proof_args;
static char old_checkpoint[4200];

static void entry_text(char *out, size_t cap, size_t i)
{
	tu_filler_entry(out, cap, "peer", i);
}

/* Runs fn on the data directory's log (the daemon must not be running: it holds the database). */
static void with_log(tl_signer *key, void (*fn)(tl_log *log, void *ctx), void *ctx)
{
	tl_db *db = tu_daemon_db_open(data_dir);
	tl_log *log;

	ck_assert_int_eq(tl_log_open(&log, db, key, NULL), 0);
	fn(log, ctx);
	tl_log_close(log);
	tl_db_close(db);
}

static void append_to(tl_log *log, void *ctx)
{
	size_t to = *(const size_t *)ctx, from = (size_t)tl_log_size(log);
	char text[TU_FILLER_ENTRY_MAX];
	uint64_t index;

	for (size_t i = from; i < to; i++) {
		entry_text(text, sizeof(text), i);
		ck_assert_int_eq(tl_log_append(&index, log, text, strlen(text)), 0);
		ck_assert_uint_eq(index, i);
	}
}

struct proofs {
	const char *note; /* the checkpoint the proofs are for, as served */
	size_t note_len;
	uint64_t size;
	const size_t *indices;
	size_t count;
};

/* Writes <work>/proof-<size>-<index> with translog's tlog-proof writer, and the entry beside it. */
static void write_proofs(tl_log *log, void *ctx)
{
	const struct proofs *p = ctx;

	for (size_t k = 0; k < p->count; k++) {
		tl_hash hashes[TL_MAX_PROOF_HASHES];
		tl_buf file = tl_buf_make(1 << 20);
		char path[4200], entry[4200], text[TU_FILLER_ENTRY_MAX];
		size_t n;

		ck_assert_int_eq(tl_log_prove_inclusion(hashes, &n, log, p->indices[k], p->size), 0);
		ck_assert_int_eq(tl_tlog_proof_write(&file, NULL, 0, p->indices[k], hashes, n, (const uint8_t *)p->note,
					 p->note_len),
			0);
		snprintf(path, sizeof(path), "%s/proof-%llu-%zu", work_dir, (unsigned long long)p->size, p->indices[k]);
		snprintf(entry, sizeof(entry), "%s/entry-%zu", work_dir, p->indices[k]);
		ck_assert_int_eq(tu_write_file(path, file.data, file.len), 0);
		entry_text(text, sizeof(text), p->indices[k]);
		ck_assert_int_eq(tu_write_file(entry, text, strlen(text)), 0);
		ck_assert_int_eq(tl_buf_printf(&proof_args, " -proof '%s=%s'", path, entry), 0);
		tl_buf_free(&file);
	}
}

/* The daemon's current checkpoint, as it serves it (free it). */
static char *served_checkpoint(size_t *len)
{
	char *note;

	ck_assert_int_eq(tu_http_get(&daemon_under_test, "/checkpoint", &note, len), 200);
	return note;
}

static void setup(void)
{
	static const size_t at_first[] = { 0, 1, 150, 255, 256, 299 }, at_total[] = { 0, 299, 300, 499 };
	size_t first = FIRST, total = TOTAL, len;
	char path[4200];
	tl_signer *key;
	char *note;
	struct proofs p;

	proof_args = tl_buf_make(1 << 16);
	ck_assert_ptr_nonnull(data_dir = tu_mkdtemp());
	ck_assert_ptr_nonnull(work_dir = tu_mkdtemp());
	snprintf(path, sizeof(path), "%s/log.key", data_dir);
	ck_assert_int_eq(tl_signer_generate(&key, "peer.test/log"), 0);
	ck_assert_int_eq(tl_signer_save(key, path), 0);

	with_log(key, append_to, &first);
	ck_assert_int_eq(tu_daemon_start(&daemon_under_test, data_dir, NULL), 0);
	note = served_checkpoint(&len);
	ck_assert_int_eq(tu_daemon_stop(&daemon_under_test), 0);
	snprintf(old_checkpoint, sizeof(old_checkpoint), "%s/checkpoint-%d", work_dir, FIRST);
	ck_assert_int_eq(tu_write_file(old_checkpoint, note, len), 0);
	p = (struct proofs){ note, len, FIRST, at_first, sizeof(at_first) / sizeof(at_first[0]) };
	with_log(key, write_proofs, &p);
	free(note);

	with_log(key, append_to, &total);
	ck_assert_int_eq(tu_daemon_start(&daemon_under_test, data_dir, NULL), 0);
	note = served_checkpoint(&len);
	ck_assert_int_eq(tu_daemon_stop(&daemon_under_test), 0);
	p = (struct proofs){ note, len, TOTAL, at_total, sizeof(at_total) / sizeof(at_total[0]) };
	with_log(key, write_proofs, &p);
	free(note);
	ck_assert_int_eq(tl_buf_append_u8(&proof_args, 0), 0);
	tl_signer_free(key);
	ck_assert_int_eq(tu_daemon_start(&daemon_under_test, data_dir, NULL), 0);
}

static void teardown(void)
{
	ck_assert_int_eq(tu_daemon_stop(&daemon_under_test), 0);
	tu_rm_rf(data_dir);
	tu_rm_rf(work_dir);
	free(data_dir);
	free(work_dir);
	tl_buf_free(&proof_args);
	data_dir = work_dir = NULL;
}

/* Runs tlogcheck against `url` with `vkey` and `extra` arguments; returns its exit status. */
static int tlogcheck(struct tu_output *o, const char *url, const char *vkey, const char *extra)
{
	return tu_run(o, work_dir, tu_peer_path("tlogcheck"), "-url '%s' -vkey '%s' %s", url, vkey, extra);
}

static void expect_failure(const struct tu_output *o, int status, const char *what)
{
	ck_assert_msg(status == 1, "%s: tlogcheck exited %d, want 1: %s%s", what, status, o->out, o->err);
	ck_assert_msg(strstr(o->err, "tlogcheck: FAIL: ") != NULL, "%s: %s", what, o->err);
}

START_TEST(reference_verifiers_accept_the_live_log)
{
	struct tu_output o = { 0 };
	tl_buf extra = tl_buf_make(1 << 16);
	int status;

	ck_assert_int_eq(tl_buf_printf(&extra, "-checkpoint '%s' %s", old_checkpoint, (const char *)proof_args.data), 0);
	ck_assert_int_eq(tl_buf_append_u8(&extra, 0), 0);
	status = tlogcheck(&o, daemon_under_test.base_url, daemon_under_test.vkey, (const char *)extra.data);
	tl_buf_free(&extra);
	ck_assert_msg(status == 0, "tlogcheck exited %d: %s%s", status, o.out, o.err);
	ck_assert_ptr_nonnull(strstr(o.out, "ok: served checkpoint \"peer.test/log\" size 500 verified\n"));
	ck_assert_ptr_nonnull(strstr(o.out, "ok: 500 entries match the level-0 tiles"));
	ck_assert_ptr_nonnull(strstr(o.out, "ok: 500 inclusion proofs built from tiles verify and equal"));
	ck_assert_ptr_nonnull(strstr(o.out, "ok: 501 consistency proofs built from tiles verify and equal"));
	ck_assert_ptr_nonnull(strstr(o.out, "(size 300) verified and consistent with the served one"));
	/* Six proof files at size 300, four at 500: each verified and equal to torchwood's. */
	{
		size_t files = 0;

		for (const char *p = o.out; (p = strstr(p, "ok: tlog-proof ")) != NULL; p++)
			files++;
		ck_assert_uint_eq(files, 10);
	}
	tu_output_free(&o);
}
END_TEST

START_TEST(wrong_key_and_tampered_files_fail)
{
	struct tu_output o = { 0 };
	tl_signer *impostor;
	tl_buf vkey = tl_buf_make(512);
	char extra[9000], path[4200], bad[4200];
	uint8_t *data;
	size_t len;

	/* Same name, another key: the checkpoint's signature is not the impostor's. */
	ck_assert_int_eq(tl_signer_generate(&impostor, "peer.test/log"), 0);
	ck_assert_int_eq(tl_signer_vkey(&vkey, impostor), 0);
	ck_assert_int_eq(tl_buf_append_u8(&vkey, 0), 0);
	expect_failure(&o, tlogcheck(&o, daemon_under_test.base_url, (const char *)vkey.data, ""), "wrong key");
	ck_assert_ptr_nonnull(strstr(o.err, "served /checkpoint: formats/log: "));

	/* A proof file whose first hash changed. */
	snprintf(path, sizeof(path), "%s/proof-%d-150", work_dir, FIRST);
	snprintf(bad, sizeof(bad), "%s/tampered", work_dir);
	ck_assert_ptr_nonnull(data = tu_read_file(path, &len));
	{
		char *hash = strstr((char *)data, "index 150\n") + strlen("index 150\n");

		*hash = *hash == 'A' ? 'B' : 'A';
	}
	ck_assert_int_eq(tu_write_file(bad, data, len), 0);
	free(data);
	snprintf(extra, sizeof(extra), "-proof '%s=%s/entry-150'", bad, work_dir);
	expect_failure(&o, tlogcheck(&o, daemon_under_test.base_url, daemon_under_test.vkey, extra), "tampered proof");
	ck_assert_ptr_nonnull(strstr(o.err, "tlog record inclusion proof verification failed for index 150"));

	/* A good proof file for another entry. */
	snprintf(extra, sizeof(extra), "-proof '%s=%s/entry-1'", path, work_dir);
	expect_failure(&o, tlogcheck(&o, daemon_under_test.base_url, daemon_under_test.vkey, extra), "wrong entry");
	ck_assert_ptr_nonnull(strstr(o.err, "tlog record inclusion proof verification failed for index 150"));
	tu_output_free(&o);
	tl_buf_free(&vkey);
	tl_signer_free(impostor);
}
END_TEST

/* One corrupted kind of answer at a time, through the tamperproxy, and what the checker says. */
static const struct {
	const char *path, *reason;
} corrupted[] = {
	{ "/checkpoint", "served /checkpoint: formats/log: failed to verify signatures" },
	{ "/tile/0/", "downloaded inconsistent tile" },
	{ "/tile/1/", "downloaded inconsistent tile" },
	{ "/tile/entries/", "entries: hash mismatch for entry" },
	{ "/v1/log/proof/inclusion", "inclusion of 0 in 500: the JSON endpoint differs from the proof built from tiles" },
	{ "/v1/log/proof/consistency", "consistency from 1 to 500: the JSON endpoint differs from the proof built from tiles" },
};

START_TEST(tampered_answers_fail)
{
	struct tu_output o = { 0 };
	char url[128];
	pid_t proxy = tu_proxy_start(url, sizeof(url), work_dir, daemon_under_test.base_url, corrupted[_i].path);
	int status;

	status = tlogcheck(&o, url, daemon_under_test.vkey, "");
	tu_proxy_stop(proxy);
	expect_failure(&o, status, corrupted[_i].path);
	ck_assert_msg(strstr(o.err, corrupted[_i].reason) != NULL, "%s: %s", corrupted[_i].path, o.err);
	tu_output_free(&o);
}
END_TEST

Suite *suite_peer_tlog(void)
{
	Suite *s = suite_create("peer_tlog");
	TCase *tc = tcase_create("tlogcheck");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, reference_verifiers_accept_the_live_log);
	tcase_add_test(tc, wrong_key_and_tampered_files_fail);
	tcase_add_loop_test(tc, tampered_answers_fail, 0, (int)(sizeof(corrupted) / sizeof(corrupted[0])));
	suite_add_tcase(s, tc);
	return s;
}
