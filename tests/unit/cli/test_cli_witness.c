/*
 * `bundlectl witness serve` as a real process on loopback, asked to cosign by the library's
 * witness client (bundled/witness_client.h) for a log built with the storage API: a sequence
 * of checkpoints with consistency proofs is cosigned by two witnesses and meets a 2-of-2
 * quorum; a fork of the log (a second log with the same key) is refused and leaves the state
 * file as it was; a foreign key is 403, an unknown origin 404, a stale old size 409 with the
 * size; a restarted witness remembers what it cosigned.
 */
#include <check.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundled/witness_client.h"
#include "testdaemon.h"
#include "testrun.h"
#include "testutil.h"
#include "translog/checkpoint.h"
#include "translog/cosig.h"
#include "translog/db.h"
#include "translog/log.h"
#include "translog/note.h"
#include "translog/proof.h"
#include "translog/witness.h"

#define ORIGIN "example.org/witnessed-log"

struct log {
	tl_db *db;
	tl_log *log;
};

static void log_open(struct log *l, const char *dir, const char *name, const tl_signer *key)
{
	ck_assert_msg(tl_db_open(&l->db, tu_path_in(dir, name), tl_log_column_families, TL_LOG_COLUMN_FAMILY_COUNT) == 0,
		"%s", tl_error_message());
	ck_assert_msg(tl_log_open(&l->log, l->db, key, NULL) == 0, "%s", tl_error_message());
}

static void log_close(struct log *l)
{
	tl_log_close(l->log);
	tl_db_close(l->db);
}

/* Appends n entries "<tag> <i>" and returns the new checkpoint note in *note. */
static void log_grow(tl_buf *note, struct log *l, const char *tag, size_t n)
{
	char text[32][32];
	const void *e[32];
	size_t lens[32];
	uint64_t first;

	ck_assert_uint_le(n, 32);
	for (size_t i = 0; i < n; i++) {
		lens[i] = (size_t)snprintf(text[i], sizeof(text[i]), "%s %" PRIu64 " %zu", tag, tl_log_size(l->log), i);
		e[i] = text[i];
	}
	ck_assert_msg(tl_log_append_batch(&first, l->log, e, lens, n) == 0, "%s", tl_error_message());
	tl_buf_reset(note);
	ck_assert_int_eq(tl_log_head(NULL, NULL, note, l->log), 0);
}

static int prove(tl_hash *proof, size_t *n, void *ctx, uint64_t old_size, uint64_t size)
{
	return tl_log_prove_consistency(proof, n, ((struct log *)ctx)->log, old_size, size);
}

/* Starts `bundlectl witness serve` on a free port, its log in <state>.log. */
static void witness_start(struct tu_daemon *d, const char *key_file, const char *log_vkey, const char *state)
{
	const char *args[] = { "witness", "serve", "--key", key_file, "--log", log_vkey, "--state", state, "--listen",
		"127.0.0.1:0", NULL };
	char log_path[4200];

	snprintf(log_path, sizeof(log_path), "%s.log", state);
	ck_assert_msg(tu_server_start(d, "bundlectl", args, log_path) == 0, "the witness did not start");
}

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	return tl_buf_append(ctx, ptr, size * nmemb) == 0 ? size * nmemb : 0;
}

/* POSTs body to the witness's /add-checkpoint with libcurl directly, to see the status and
 * the Content-Type the client does not show. */
static long post_raw(tl_buf *reply, char *type, size_t type_cap, const struct tu_daemon *d, const tl_buf *body)
{
	CURL *c = curl_easy_init();
	char url[128];
	char *ct = NULL;
	long status = -1;

	ck_assert_ptr_nonnull(c);
	snprintf(url, sizeof(url), "%s/add-checkpoint", d->base_url);
	tl_buf_reset(reply);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body->data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body->len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (curl_easy_perform(c) == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		snprintf(type, type_cap, "%s", ct ? ct : "");
	}
	curl_easy_cleanup(c);
	return status;
}

struct fixture {
	char *dir;
	tl_signer *log_key, *w_key[2];
	tl_verifier *w_vkey[2];
	char log_vkey[512], w_key_file[2][4096], state[2][4096];
	struct tu_daemon w[2];
	bd_witness_client *c[2];
	struct log a;
};

static void client_open(struct fixture *fx, int i)
{
	bd_witness_client_options o = { .url = fx->w[i].base_url, .key = fx->w_vkey[i], .timeout_ms = 10000, .connect_timeout_ms = 2000 };

	ck_assert_msg(bd_witness_client_open(&fx->c[i], &o) == 0, "%s", tl_error_message());
}

static void fx_init(struct fixture *fx)
{
	tl_buf vkey = tl_buf_make(sizeof(fx->log_vkey) - 1);

	memset(fx, 0, sizeof(*fx));
	ck_assert_ptr_nonnull(fx->dir = tu_mkdtemp());
	ck_assert_int_eq(tl_signer_generate(&fx->log_key, ORIGIN), 0);
	ck_assert_int_eq(tl_signer_vkey(&vkey, fx->log_key), 0);
	memcpy(fx->log_vkey, vkey.data, vkey.len);
	tl_buf_free(&vkey);
	for (int i = 0; i < 2; i++) {
		char name[64];

		snprintf(name, sizeof(name), "witness.example/w%d", i + 1);
		ck_assert_int_eq(tl_signer_generate_typed(&fx->w_key[i], name, TL_KEY_TYPE_COSIGNATURE), 0);
		ck_assert_int_eq(tl_verifier_from_signer(&fx->w_vkey[i], fx->w_key[i]), 0);
		snprintf(fx->w_key_file[i], sizeof(fx->w_key_file[i]), "%s/w%d.key", fx->dir, i + 1);
		snprintf(fx->state[i], sizeof(fx->state[i]), "%s/state%d", fx->dir, i + 1);
		ck_assert_int_eq(tl_signer_save(fx->w_key[i], fx->w_key_file[i]), 0);
		witness_start(&fx->w[i], fx->w_key_file[i], fx->log_vkey, fx->state[i]);
		client_open(fx, i);
	}
	log_open(&fx->a, fx->dir, "log-a", fx->log_key);
}

static void fx_free(struct fixture *fx)
{
	for (int i = 0; i < 2; i++) {
		bd_witness_client_close(fx->c[i]);
		if (fx->w[i].pid > 0)
			ck_assert_int_eq(tu_daemon_stop(&fx->w[i]), 0); /* a clean exit on SIGTERM */
		tl_signer_free(fx->w_key[i]);
		tl_verifier_free(fx->w_vkey[i]);
	}
	log_close(&fx->a);
	tl_signer_free(fx->log_key);
	tu_rm_rf(fx->dir);
	free(fx->dir);
}

/* The bytes of witness i's state file for ORIGIN. */
static uint8_t *state_file(struct fixture *fx, int i, size_t *len)
{
	char path[4200], hex[65];
	tl_hash h;
	uint8_t *data;

	tl_sha256(&h, ORIGIN, strlen(ORIGIN));
	tl_hex_encode(hex, h.b, sizeof(h.b));
	snprintf(path, sizeof(path), "%s/%s.checkpoint", fx->state[i], hex);
	ck_assert_ptr_nonnull(data = tu_read_file(path, len));
	return data;
}

/* Both witnesses cosign `note`; the note with both lines meets a 2-of-2 quorum. */
static void cosign_both(struct fixture *fx, const tl_buf *note)
{
	const tl_verifier *ws[2] = { fx->w_vkey[0], fx->w_vkey[1] };
	tl_buf lines[2] = { tl_buf_make(65536), tl_buf_make(65536) };
	tl_note n;
	size_t count = 0;
	uint64_t ts;

	ck_assert_int_eq(tl_note_parse(&n, note->data, note->len), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_msg(bd_witness_client_cosign(&lines[i], fx->c[i], note->data, note->len, prove, &fx->a) == 0, "%s",
			tl_error_message());
		ck_assert_int_eq(tl_note_add_sig_lines(&n, lines[i].data, lines[i].len), 0);
		ck_assert_int_eq(tl_cosig_verify(&ts, &n, fx->w_vkey[i]), 0);
		ck_assert_uint_le(ts, (uint64_t)time(NULL));
		ck_assert_uint_ge(ts + 60, (uint64_t)time(NULL));
	}
	ck_assert_msg(tl_cosig_check_quorum(&count, &n, ws, 2, 2) == 0, "%s", tl_error_message());
	ck_assert_uint_eq(count, 2);
	ck_assert_uint_eq(bd_witness_client_known_size(fx->c[0]), tl_log_size(fx->a.log));
	tl_buf_free(&lines[0]);
	tl_buf_free(&lines[1]);
}

START_TEST(sequence_is_cosigned_by_a_quorum)
{
	struct fixture fx;
	tl_buf note = tl_buf_make(TL_NOTE_MAX_SIZE);

	fx_init(&fx);
	for (int round = 0; round < 5; round++) {
		log_grow(&note, &fx.a, "a", (size_t)(1 + round * 7));
		cosign_both(&fx, &note);
	}
	ck_assert_uint_eq(tl_log_size(fx.a.log), 5 + 7 * 10);
	tl_buf_free(&note);
	fx_free(&fx);
}
END_TEST

START_TEST(refusals_leave_the_state_alone)
{
	struct fixture fx;
	struct log b;
	tl_buf note = tl_buf_make(TL_NOTE_MAX_SIZE), fork_note = tl_buf_make(TL_NOTE_MAX_SIZE),
	       lines = tl_buf_make(65536);
	tl_hash proof[TL_MAX_PROOF_HASHES];
	tl_checkpoint cp;
	tl_signer *impostor, *stranger;
	uint8_t *before, *after;
	size_t n, before_len, after_len;
	uint64_t known = 0, size;

	fx_init(&fx);
	log_grow(&note, &fx.a, "a", 6);
	cosign_both(&fx, &note);
	log_grow(&note, &fx.a, "a", 5);
	cosign_both(&fx, &note);
	size = tl_log_size(fx.a.log);
	before = state_file(&fx, 0, &before_len);

	/* The fork: the same key, other entries. At the same size: 409 with the size. */
	log_open(&b, fx.dir, "log-b", fx.log_key);
	log_grow(&fork_note, &b, "b", (size_t)size);
	ck_assert_int_eq(bd_witness_client_add_checkpoint(&lines, NULL, &known, fx.c[0], size, NULL, 0, fork_note.data,
				 fork_note.len), TL_E_CONFLICT);
	ck_assert_uint_eq(known, size);
	/* Further on, with the fork's own proof: 422. */
	log_grow(&fork_note, &b, "b", 4);
	ck_assert_int_eq(tl_log_prove_consistency(proof, &n, b.log, size, tl_log_size(b.log)), 0);
	ck_assert_int_eq(bd_witness_client_add_checkpoint(&lines, NULL, &known, fx.c[0], size, proof, n, fork_note.data,
				 fork_note.len), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "422"));
	/* And through the retrying path, from the size the client knows. */
	ck_assert_int_ne(bd_witness_client_cosign(&lines, fx.c[1], fork_note.data, fork_note.len, prove, &b), 0);
	log_close(&b);

	/* 403: the log's origin signed by another key. */
	ck_assert_int_eq(tl_signer_generate(&impostor, ORIGIN), 0);
	{
		tl_note parsed;
		tl_buf signed_note = tl_buf_make(TL_NOTE_MAX_SIZE);

		ck_assert_int_eq(tl_note_parse(&parsed, note.data, note.len), 0);
		ck_assert_int_eq(tl_checkpoint_parse(&cp, parsed.text, parsed.text_len), 0);
		cp.size += 1;
		ck_assert_int_eq(tl_checkpoint_sign(&signed_note, &cp, impostor), 0);
		ck_assert_int_eq(bd_witness_client_add_checkpoint(&lines, NULL, NULL, fx.c[0], size, NULL, 0, signed_note.data,
					 signed_note.len), TL_E_UNAUTHORIZED);
		/* 404: a log the witness does not know. */
		ck_assert_int_eq(tl_signer_generate(&stranger, "example.org/unknown-log"), 0);
		snprintf(cp.origin, sizeof(cp.origin), "example.org/unknown-log");
		tl_buf_reset(&signed_note);
		ck_assert_int_eq(tl_checkpoint_sign(&signed_note, &cp, stranger), 0);
		ck_assert_int_eq(bd_witness_client_add_checkpoint(&lines, NULL, NULL, fx.c[0], 0, NULL, 0, signed_note.data,
					 signed_note.len), TL_E_NOTFOUND);
		tl_buf_free(&signed_note);
	}
	tl_signer_free(impostor);
	tl_signer_free(stranger);

	/* 409: a stale old size, with the size the witness knows. */
	known = 0;
	ck_assert_int_eq(tl_log_prove_consistency(proof, &n, fx.a.log, 6, size), 0);
	ck_assert_int_eq(bd_witness_client_add_checkpoint(&lines, NULL, &known, fx.c[0], 6, proof, n, note.data, note.len),
		TL_E_CONFLICT);
	ck_assert_uint_eq(known, size);
	ck_assert_uint_eq(lines.len, 0); /* no refusal handed out a line */

	/* On the wire: 409 is "<size>\n" as text/x.tlog.size; the same checkpoint again is 200. */
	{
		tl_buf body = tl_buf_make(TL_WITNESS_MAX_REQUEST), reply = tl_buf_make(65536);
		char type[128], want[32];

		ck_assert_int_eq(tl_witness_request_write(&body, 6, proof, n, note.data, note.len), 0);
		ck_assert_int_eq(post_raw(&reply, type, sizeof(type), &fx.w[0], &body), 409);
		ck_assert_str_eq(type, "text/x.tlog.size");
		snprintf(want, sizeof(want), "%" PRIu64 "\n", size);
		ck_assert_str_eq((const char *)reply.data, want);
		tl_buf_reset(&body);
		ck_assert_int_eq(tl_witness_request_write(&body, size, NULL, 0, note.data, note.len), 0);
		ck_assert_int_eq(post_raw(&reply, type, sizeof(type), &fx.w[0], &body), 200);
		ck_assert_ptr_nonnull(strstr(type, "text/plain"));
		ck_assert_int_eq(memcmp(reply.data, "\xe2\x80\x94 witness.example/w1 ", strlen("\xe2\x80\x94 witness.example/w1 ")), 0);
		tl_buf_free(&body);
		tl_buf_free(&reply);
	}

	after = state_file(&fx, 0, &after_len);
	ck_assert_uint_eq(after_len, before_len);
	ck_assert_int_eq(memcmp(before, after, before_len), 0);
	free(before);
	free(after);
	tl_buf_free(&note);
	tl_buf_free(&fork_note);
	tl_buf_free(&lines);
	fx_free(&fx);
}
END_TEST

START_TEST(restart_keeps_the_state)
{
	struct fixture fx;
	tl_buf note = tl_buf_make(TL_NOTE_MAX_SIZE), lines = tl_buf_make(65536);
	uint64_t known = 0, size;

	fx_init(&fx);
	log_grow(&note, &fx.a, "a", 9);
	cosign_both(&fx, &note);
	size = tl_log_size(fx.a.log);
	bd_witness_client_close(fx.c[0]);
	ck_assert_int_eq(tu_daemon_stop(&fx.w[0]), 0);
	witness_start(&fx.w[0], fx.w_key_file[0], fx.log_vkey, fx.state[0]);
	client_open(&fx, 0);
	/* A new client knows nothing; the witness still knows the size. */
	ck_assert_int_eq(bd_witness_client_add_checkpoint(&lines, NULL, &known, fx.c[0], 0, NULL, 0, note.data, note.len),
		TL_E_CONFLICT);
	ck_assert_uint_eq(known, size);
	/* cosign learns it from the 409 and goes on from there. */
	log_grow(&note, &fx.a, "a", 3);
	cosign_both(&fx, &note);
	tl_buf_free(&note);
	tl_buf_free(&lines);
	fx_free(&fx);
}
END_TEST

/* What stops `witness serve` before it listens: missing options, a log key as the witness
 * key, and a state file that does not verify (exit 2, the reason on stderr). */
START_TEST(serve_refuses_to_start)
{
	struct fixture fx;
	struct tu_output o = { 0 };
	tl_buf note = tl_buf_make(TL_NOTE_MAX_SIZE);
	char log_key_file[4200];
	uint8_t *file;
	size_t len;

	fx_init(&fx);
	ck_assert_int_eq(tu_run(&o, fx.dir, "bundlectl", "witness serve --key '%s' --state '%s'", fx.w_key_file[0],
		fx.state[0]), 2);
	ck_assert_ptr_nonnull(strstr(o.err, "--log"));
	ck_assert_int_eq(tu_run(&o, fx.dir, "bundlectl", "witness serve --key '%s' --log '%s' --state '%s' --listen nowhere",
		fx.w_key_file[0], fx.log_vkey, fx.state[0]), 2);
	ck_assert_int_eq(tu_run(&o, fx.dir, "bundlectl", "witness serve --key '%s' --log 'not a key' --state '%s'",
		fx.w_key_file[0], fx.state[0]), 2);
	snprintf(log_key_file, sizeof(log_key_file), "%s/log.key", fx.dir);
	ck_assert_int_eq(tl_signer_save(fx.log_key, log_key_file), 0);
	ck_assert_int_eq(tu_run(&o, fx.dir, "bundlectl", "witness serve --key '%s' --log '%s' --state '%s' --listen 127.0.0.1:0",
		log_key_file, fx.log_vkey, fx.state[0]), 2);
	ck_assert_ptr_nonnull(strstr(o.err, "type 0x04"));
	ck_assert_int_eq(tu_run(&o, fx.dir, "bundlectl", "witness x"), 2);

	/* A state file edited behind the witness's back: it will not start on it. */
	log_grow(&note, &fx.a, "a", 4);
	cosign_both(&fx, &note);
	bd_witness_client_close(fx.c[1]);
	fx.c[1] = NULL;
	ck_assert_int_eq(tu_daemon_stop(&fx.w[1]), 0);
	file = state_file(&fx, 1, &len);
	ck_assert_ptr_nonnull(strstr((char *)file, "\n4\n"));
	strstr((char *)file, "\n4\n")[1] = '2';
	{
		char path[4200], hex[65];
		tl_hash h;

		tl_sha256(&h, ORIGIN, strlen(ORIGIN));
		tl_hex_encode(hex, h.b, sizeof(h.b));
		snprintf(path, sizeof(path), "%s/%s.checkpoint", fx.state[1], hex);
		ck_assert_int_eq(tu_write_file(path, file, len), 0);
	}
	ck_assert_int_eq(tu_run(&o, fx.dir, "bundlectl", "witness serve --key '%s' --log '%s' --state '%s' --listen 127.0.0.1:0",
		fx.w_key_file[1], fx.log_vkey, fx.state[1]), 2);
	ck_assert_ptr_nonnull(strstr(o.err, "does not verify"));
	free(file);
	tl_buf_free(&note);
	tu_output_free(&o);
	fx_free(&fx);
}
END_TEST

Suite *suite_cli_witness(void)
{
	Suite *s = suite_create("cli_witness");
	TCase *tc = tcase_create("cli_witness");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, sequence_is_cosigned_by_a_quorum);
	tcase_add_test(tc, refusals_leave_the_state_alone);
	tcase_add_test(tc, restart_keeps_the_state);
	tcase_add_test(tc, serve_refuses_to_start);
	suite_add_tcase(s, tc);
	return s;
}
