/*
 * The witness (translog/witness.h): the add-checkpoint request format, every status of the
 * spec, the state across restarts and processes, the spec's race, and refusing a state file
 * that does not verify. The trees are synthetic (leaf i of log `seed` is the hash of
 * "seed:i"), so two seeds give two logs that share a key and diverge: a fork.
 */
#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "translog/checkpoint.h"
#include "translog/cosig.h"
#include "translog/note.h"
#include "translog/proof.h"
#include "translog/witness.h"

#define ORIGIN "example.org/witnessed-log"
#define NOW 1700000000u

/* ---- synthetic trees ---- */

static void leaf(tl_hash *out, unsigned seed, uint64_t i)
{
	char e[64];
	int n = snprintf(e, sizeof(e), "%u:%" PRIu64, seed, i);

	tl_hash_leaf(out, e, (size_t)n);
}

/* The hash of complete node (level, index) of log `seed`, from its definition. */
static void node(tl_hash *out, unsigned seed, unsigned level, uint64_t index)
{
	tl_hash l, r;

	if (level == 0) {
		leaf(out, seed, index);
		return;
	}
	node(&l, seed, level - 1, 2 * index);
	node(&r, seed, level - 1, 2 * index + 1);
	tl_hash_node(out, &l, &r);
}

static int node_fn(tl_hash *out, void *ctx, unsigned level, uint64_t index)
{
	node(out, *(const unsigned *)ctx, level, index);
	return 0;
}

struct fixture {
	char *dir;
	tl_signer *log_key, *other_key, *witness_key;
	tl_verifier *log_vkey, *witness_vkey;
	tl_witness *w;
};

static void fx_open(struct fixture *fx)
{
	const tl_verifier *logs[1] = { fx->log_vkey };
	tl_witness_config cfg = { fx->witness_key, logs, 1, fx->dir };

	ck_assert_msg(tl_witness_open(&fx->w, &cfg) == 0, "%s", tl_error_message());
}

static void fx_init(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	ck_assert_ptr_nonnull(fx->dir = tu_mkdtemp());
	ck_assert_int_eq(tl_signer_generate(&fx->log_key, ORIGIN), 0);
	ck_assert_int_eq(tl_signer_generate(&fx->other_key, ORIGIN), 0);
	ck_assert_int_eq(tl_signer_generate_typed(&fx->witness_key, "witness.example/w1", TL_KEY_TYPE_COSIGNATURE), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&fx->log_vkey, fx->log_key), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&fx->witness_vkey, fx->witness_key), 0);
	fx_open(fx);
}

static void fx_free(struct fixture *fx)
{
	tl_witness_free(fx->w);
	tl_signer_free(fx->log_key);
	tl_signer_free(fx->other_key);
	tl_signer_free(fx->witness_key);
	tl_verifier_free(fx->log_vkey);
	tl_verifier_free(fx->witness_vkey);
	tu_rm_rf(fx->dir);
	free(fx->dir);
}

/* The body asking to cosign log `seed` at `size` (signed by `key`) from `old`, with the proof
 * from old to size in that log. */
static void body_for(tl_buf *body, const tl_signer *key, const char *origin, unsigned seed, uint64_t old,
	uint64_t size)
{
	tl_checkpoint cp = { .size = size };
	tl_hash proof[TL_MAX_PROOF_HASHES];
	tl_buf note = tl_buf_make(TL_NOTE_MAX_SIZE);
	size_t n = 0;

	snprintf(cp.origin, sizeof(cp.origin), "%s", origin);
	ck_assert_int_eq(tl_root_at(&cp.root, size, node_fn, &seed), 0);
	if (old <= size)
		ck_assert_int_eq(tl_proof_consistency(proof, &n, old, size, node_fn, &seed), 0);
	ck_assert_int_eq(tl_checkpoint_sign(&note, &cp, key), 0);
	tl_buf_reset(body);
	ck_assert_int_eq(tl_witness_request_write(body, old, proof, n, note.data, note.len), 0);
	tl_buf_free(&note);
}

/* Submits and returns the status; the reply is left in *reply. */
static unsigned submit(tl_buf *reply, struct fixture *fx, const tl_buf *body)
{
	unsigned status = 0;
	int err;

	tl_buf_reset(reply);
	err = tl_witness_add_checkpoint(reply, &status, fx->w, body->data, body->len, NOW);
	ck_assert_msg(err == 0 || status == 500, "err %d with status %u", err, status);
	return status;
}

static uint64_t latest(struct fixture *fx)
{
	uint64_t size = 99;

	ck_assert_msg(tl_witness_latest(&size, NULL, fx->w, ORIGIN) == 0, "%s", tl_error_message());
	return size;
}

/* The reply to `body` is a valid cosignature by the witness on body's checkpoint. */
static void assert_cosigned(struct fixture *fx, const tl_buf *body, const tl_buf *reply)
{
	tl_witness_request req;
	tl_note n;
	uint64_t ts = 0;

	ck_assert_int_eq(tl_witness_request_parse(&req, body->data, body->len), 0);
	ck_assert_int_eq(tl_note_parse(&n, req.note, req.note_len), 0);
	ck_assert_msg(tl_note_add_sig_lines(&n, reply->data, reply->len) == 0, "%s", tl_error_message());
	ck_assert_msg(tl_cosig_verify(&ts, &n, fx->witness_vkey) == 0, "%s", tl_error_message());
	ck_assert_uint_eq(ts, NOW);
}

START_TEST(request_round_trip_and_refusals)
{
	tl_hash proof[TL_WITNESS_MAX_PROOF + 1];
	tl_buf b = tl_buf_make(TL_WITNESS_MAX_REQUEST + 1);
	tl_witness_request r;
	const char *note = "o\n1\nAAAA\n\n\xe2\x80\x94 x y\n";
	static const char *const bad[] = {
		"old 01\n\nN",            /* leading zero */
		"old -1\n\nN",
		"old 1",                  /* no newline */
		"olds 1\n\nN",
		"old 1\n",                /* no blank line */
		"old 1\n\n",              /* no note */
		"old 1\nAAAA\n\nN",       /* short hash */
		"old 1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n\nN", /* pad bits: not canonical */
		"old 1\n AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nN",
		"old 18446744073709551616\n\nN",
	};

	for (size_t i = 0; i < TL_WITNESS_MAX_PROOF + 1; i++)
		memset(proof[i].b, (int)i, sizeof(proof[i].b));
	ck_assert_int_eq(tl_witness_request_write(&b, 7, proof, TL_WITNESS_MAX_PROOF, (const uint8_t *)note, strlen(note)), 0);
	ck_assert_int_eq(tl_witness_request_parse(&r, b.data, b.len), 0);
	ck_assert_uint_eq(r.old_size, 7);
	ck_assert_uint_eq(r.n_proof, TL_WITNESS_MAX_PROOF);
	ck_assert_int_eq(memcmp(r.proof, proof, sizeof(r.proof)), 0);
	ck_assert_uint_eq(r.note_len, strlen(note));
	ck_assert_int_eq(memcmp(r.note, note, r.note_len), 0);
	/* One proof line too many, by the writer and by the reader. */
	ck_assert_int_eq(tl_witness_request_write(&b, 7, proof, TL_WITNESS_MAX_PROOF + 1, (const uint8_t *)note, 5),
		TL_E_INPUT);
	tl_buf_reset(&b);
	ck_assert_int_eq(tl_buf_printf(&b, "old 7\n"), 0);
	for (size_t i = 0; i < TL_WITNESS_MAX_PROOF + 1; i++)
		ck_assert_int_eq(tl_buf_printf(&b, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), 0);
	ck_assert_int_eq(tl_buf_printf(&b, "\nN"), 0);
	ck_assert_int_eq(tl_witness_request_parse(&r, b.data, b.len), TL_E_INPUT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(tl_witness_request_parse(&r, (const uint8_t *)bad[i], strlen(bad[i])) == TL_E_INPUT,
			"accepted %s", bad[i]);
	/* The size body. */
	uint64_t size;
	tl_buf_reset(&b);
	ck_assert_int_eq(tl_witness_size_write(&b, 12345), 0);
	ck_assert_int_eq(tl_witness_size_parse(&size, b.data, b.len), 0);
	ck_assert_uint_eq(size, 12345);
	ck_assert_int_eq(tl_witness_size_parse(&size, (const uint8_t *)"012\n", 4), TL_E_INPUT);
	ck_assert_int_eq(tl_witness_size_parse(&size, (const uint8_t *)"12", 2), TL_E_INPUT);
	ck_assert_int_eq(tl_witness_size_parse(&size, (const uint8_t *)"\n", 1), TL_E_INPUT);
	tl_buf_free(&b);
}
END_TEST

START_TEST(every_status)
{
	struct fixture fx;
	tl_buf body = tl_buf_make(TL_WITNESS_MAX_REQUEST), reply = tl_buf_make(65536);
	tl_signer *stranger;

	fx_init(&fx);
	ck_assert_uint_eq(latest(&fx), 0);
	/* 200 from nothing, then forward with a proof. */
	body_for(&body, fx.log_key, ORIGIN, 1, 0, 5);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 200);
	assert_cosigned(&fx, &body, &reply);
	ck_assert_uint_eq(latest(&fx), 5);
	body_for(&body, fx.log_key, ORIGIN, 1, 5, 13);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 200);
	assert_cosigned(&fx, &body, &reply);
	ck_assert_uint_eq(latest(&fx), 13);
	/* The same checkpoint again is cosigned again. */
	body_for(&body, fx.log_key, ORIGIN, 1, 13, 13);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 200);
	assert_cosigned(&fx, &body, &reply);
	/* 409: a stale old size, with the size as the body; old 0 asks for it. */
	body_for(&body, fx.log_key, ORIGIN, 1, 5, 20);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 409);
	ck_assert_str_eq((const char *)reply.data, "13\n");
	body_for(&body, fx.log_key, ORIGIN, 1, 0, 20);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 409);
	ck_assert_str_eq((const char *)reply.data, "13\n");
	/* 409: the fork at the same size. */
	body_for(&body, fx.log_key, ORIGIN, 2, 13, 13);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 409);
	ck_assert_str_eq((const char *)reply.data, "13\n");
	/* 422: the fork further on (its own proof, from its own tree at 13). */
	body_for(&body, fx.log_key, ORIGIN, 2, 13, 20);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 422);
	ck_assert_uint_eq(latest(&fx), 13);
	/* 400: old above the size; garbage; a note that is no checkpoint. */
	body_for(&body, fx.log_key, ORIGIN, 1, 14, 13);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 400);
	tl_buf_reset(&body);
	ck_assert_int_eq(tl_buf_printf(&body, "old 13\n\nnot a note"), 0);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 400);
	ck_assert_ptr_nonnull(strstr((const char *)reply.data, "checkpoint"));
	/* 403: the right origin signed by another key; a bad signature by the known key. */
	body_for(&body, fx.other_key, ORIGIN, 1, 13, 20);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 403);
	body_for(&body, fx.log_key, ORIGIN, 1, 13, 20);
	/* Inside the signature's base64, away from its padding. */
	body.data[body.len - 20] = body.data[body.len - 20] == 'A' ? 'B' : 'A';
	ck_assert_uint_eq(submit(&reply, &fx, &body), 403);
	/* 404: an origin the witness does not know. */
	ck_assert_int_eq(tl_signer_generate(&stranger, "example.org/other-log"), 0);
	body_for(&body, stranger, "example.org/other-log", 1, 0, 3);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 404);
	tl_signer_free(stranger);
	ck_assert_uint_eq(latest(&fx), 13);
	/* 422: a wrong proof between correct checkpoints. */
	body_for(&body, fx.log_key, ORIGIN, 1, 13, 20);
	{
		tl_witness_request r;
		ck_assert_int_eq(tl_witness_request_parse(&r, body.data, body.len), 0);
		ck_assert_uint_gt(r.n_proof, 0);
		body.data[7] ^= 2; /* first proof line: base64 'A'..'Z' stay valid */
	}
	ck_assert_uint_eq(submit(&reply, &fx, &body), 422);
	ck_assert_uint_eq(latest(&fx), 13);
	tl_buf_free(&body);
	tl_buf_free(&reply);
	fx_free(&fx);
}
END_TEST

START_TEST(proof_must_be_empty_from_zero_and_equal_sizes)
{
	struct fixture fx;
	tl_buf body = tl_buf_make(TL_WITNESS_MAX_REQUEST), reply = tl_buf_make(65536), note = tl_buf_make(4096);
	tl_checkpoint cp = { .origin = ORIGIN, .size = 4 };
	unsigned seed = 1;
	tl_hash h;

	fx_init(&fx);
	ck_assert_int_eq(tl_root_at(&cp.root, 4, node_fn, &seed), 0);
	ck_assert_int_eq(tl_checkpoint_sign(&note, &cp, fx.log_key), 0);
	memset(h.b, 7, sizeof(h.b));
	ck_assert_int_eq(tl_witness_request_write(&body, 0, &h, 1, note.data, note.len), 0);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 422);
	ck_assert_uint_eq(latest(&fx), 0);
	tl_buf_reset(&body);
	ck_assert_int_eq(tl_witness_request_write(&body, 0, &h, 0, note.data, note.len), 0);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 200);
	tl_buf_reset(&body);
	ck_assert_int_eq(tl_witness_request_write(&body, 4, &h, 1, note.data, note.len), 0);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 422);
	tl_buf_free(&body);
	tl_buf_free(&reply);
	tl_buf_free(&note);
	fx_free(&fx);
}
END_TEST

START_TEST(restart_keeps_state_and_refuses_rollback)
{
	struct fixture fx;
	tl_buf body = tl_buf_make(TL_WITNESS_MAX_REQUEST), reply = tl_buf_make(65536), note = tl_buf_make(65536);
	tl_note n;
	uint64_t ts, size = 0;

	fx_init(&fx);
	body_for(&body, fx.log_key, ORIGIN, 1, 0, 8);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 200);
	tl_witness_free(fx.w);
	fx.w = NULL;
	fx_open(&fx);
	ck_assert_uint_eq(latest(&fx), 8);
	/* The stored note carries the log's signature and the witness's cosignature. */
	ck_assert_int_eq(tl_witness_latest(&size, &note, fx.w, ORIGIN), 0);
	ck_assert_int_eq(tl_note_parse(&n, note.data, note.len), 0);
	ck_assert_int_eq(tl_note_verify(&n, (const tl_verifier *const *)&fx.log_vkey, 1, NULL), 0);
	ck_assert_int_eq(tl_cosig_verify(&ts, &n, fx.witness_vkey), 0);
	/* A smaller checkpoint from 0 (a rollback) is refused with the size. */
	body_for(&body, fx.log_key, ORIGIN, 1, 0, 4);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 409);
	ck_assert_str_eq((const char *)reply.data, "8\n");
	ck_assert_uint_eq(latest(&fx), 8);
	tl_buf_free(&body);
	tl_buf_free(&reply);
	tl_buf_free(&note);
	fx_free(&fx);
}
END_TEST

/* A state file that does not verify: the witness refuses to start, and a witness that finds
 * one while running answers 500 and leaves the file alone. */
START_TEST(tampered_state_is_refused)
{
	struct fixture fx;
	tl_buf body = tl_buf_make(TL_WITNESS_MAX_REQUEST), reply = tl_buf_make(65536);
	const tl_verifier *logs[1];
	tl_witness_config cfg;
	tl_witness *w2 = NULL;
	char path[4096], name[128];
	uint8_t *file, *after;
	size_t len, after_len;
	tl_hash h;

	fx_init(&fx);
	body_for(&body, fx.log_key, ORIGIN, 1, 0, 8);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 200);
	tl_sha256(&h, ORIGIN, strlen(ORIGIN));
	tl_hex_encode(name, h.b, sizeof(h.b));
	snprintf(path, sizeof(path), "%s/%s.checkpoint", fx.dir, name);
	ck_assert_ptr_nonnull(file = tu_read_file(path, &len));
	/* Size 8 -> size 3: a rollback by someone who can write the directory. */
	ck_assert_ptr_nonnull(strstr((char *)file, "\n8\n"));
	strstr((char *)file, "\n8\n")[1] = '3';
	ck_assert_int_eq(tu_write_file(path, file, len), 0);
	body_for(&body, fx.log_key, ORIGIN, 1, 3, 9);
	ck_assert_uint_eq(submit(&reply, &fx, &body), 500);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "does not verify"));
	ck_assert_ptr_nonnull(after = tu_read_file(path, &after_len));
	ck_assert_uint_eq(after_len, len);
	ck_assert_int_eq(memcmp(after, file, len), 0);
	logs[0] = fx.log_vkey;
	cfg = (tl_witness_config){ fx.witness_key, logs, 1, fx.dir };
	ck_assert_int_eq(tl_witness_open(&w2, &cfg), TL_E_INTERNAL);
	ck_assert_ptr_null(w2);
	/* A file that is not a note at all, too. */
	ck_assert_int_eq(tu_write_file(path, "junk", 4), 0);
	ck_assert_int_eq(tl_witness_open(&w2, &cfg), TL_E_INTERNAL);
	free(file);
	free(after);
	tl_buf_free(&body);
	tl_buf_free(&reply);
	fx_free(&fx);
}
END_TEST

START_TEST(config_refusals)
{
	struct fixture fx;
	const tl_verifier *logs[2];
	tl_witness_config cfg;
	tl_witness *w = NULL;

	fx_init(&fx);
	logs[0] = logs[1] = fx.log_vkey;
	cfg = (tl_witness_config){ fx.witness_key, logs, 2, fx.dir };
	ck_assert_int_eq(tl_witness_open(&w, &cfg), TL_E_INPUT); /* the same key twice */
	cfg = (tl_witness_config){ fx.log_key, logs, 1, fx.dir };
	ck_assert_int_eq(tl_witness_open(&w, &cfg), TL_E_INPUT); /* not a cosignature key */
	logs[0] = fx.witness_vkey;
	cfg = (tl_witness_config){ fx.witness_key, logs, 1, fx.dir };
	ck_assert_int_eq(tl_witness_open(&w, &cfg), TL_E_INPUT); /* a witness key as log key */
	cfg = (tl_witness_config){ fx.witness_key, logs, 0, fx.dir };
	ck_assert_int_eq(tl_witness_open(&w, &cfg), TL_E_INPUT);
	ck_assert_ptr_null(w);
	fx_free(&fx);
}
END_TEST

/* The spec's race: requests from the same old size to different sizes at once. Exactly one
 * wins each round; the others get 409 with the winner's size, and the state never goes back.
 * Half the requests go through a second witness on the same directory, as a second process
 * would: only the flock serialises those. */
#define RACERS 6
#define ROUNDS 8

struct racer {
	struct fixture *fx;
	tl_witness *w;
	tl_buf body;
	unsigned status;
	uint64_t conflict_size;
	pthread_barrier_t *go;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	tl_buf reply = tl_buf_make(65536);

	pthread_barrier_wait(r->go);
	if (tl_witness_add_checkpoint(&reply, &r->status, r->w, r->body.data, r->body.len, NOW) != 0)
		r->status = 500;
	if (r->status == 409 && tl_witness_size_parse(&r->conflict_size, reply.data, reply.len) != 0)
		r->status = 0;
	tl_buf_free(&reply);
	return NULL;
}

START_TEST(concurrent_requests_never_roll_back)
{
	struct fixture fx;
	const tl_verifier *logs[1];
	tl_witness_config cfg;
	tl_witness *second;
	struct racer r[RACERS];
	pthread_t t[RACERS];
	pthread_barrier_t go;
	uint64_t size = 0;

	fx_init(&fx);
	logs[0] = fx.log_vkey;
	cfg = (tl_witness_config){ fx.witness_key, logs, 1, fx.dir };
	ck_assert_int_eq(tl_witness_open(&second, &cfg), 0);
	for (int round = 0; round < ROUNDS; round++) {
		uint64_t winner = 0;
		int wins = 0;

		ck_assert_int_eq(pthread_barrier_init(&go, NULL, RACERS), 0);
		for (int i = 0; i < RACERS; i++) {
			r[i] = (struct racer){ &fx, i % 2 ? second : fx.w, tl_buf_make(TL_WITNESS_MAX_REQUEST), 0, 0, &go };
			/* Sizes N and N + K: the larger ones must not be undone by the smaller. */
			body_for(&r[i].body, fx.log_key, ORIGIN, 1, size, size + 1 + (uint64_t)((i * 5 + round) % RACERS) * 3);
			ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
		}
		for (int i = 0; i < RACERS; i++)
			ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		pthread_barrier_destroy(&go);
		for (int i = 0; i < RACERS; i++) {
			tl_witness_request q;

			ck_assert_int_eq(tl_witness_request_parse(&q, r[i].body.data, r[i].body.len), 0);
			if (r[i].status == 200) {
				wins++;
				{
					tl_note n;
					tl_checkpoint cp;
					ck_assert_int_eq(tl_note_parse(&n, q.note, q.note_len), 0);
					ck_assert_int_eq(tl_checkpoint_parse(&cp, n.text, n.text_len), 0);
					winner = cp.size;
				}
			} else {
				ck_assert_uint_eq(r[i].status, 409);
			}
		}
		/* The racers' sizes all differ, so one wins. */
		ck_assert_int_eq(wins, 1);
		for (int i = 0; i < RACERS; i++)
			if (r[i].status == 409)
				ck_assert_uint_eq(r[i].conflict_size, winner);
		ck_assert_uint_eq(latest(&fx), winner);
		ck_assert_uint_gt(winner, size);
		size = winner;
		for (int i = 0; i < RACERS; i++)
			tl_buf_free(&r[i].body);
	}
	tl_witness_free(second);
	fx_free(&fx);
}
END_TEST

Suite *suite_witness(void)
{
	Suite *s = suite_create("witness");
	TCase *tc = tcase_create("witness");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, request_round_trip_and_refusals);
	tcase_add_test(tc, every_status);
	tcase_add_test(tc, proof_must_be_empty_from_zero_and_equal_sizes);
	tcase_add_test(tc, restart_keeps_state_and_refuses_rollback);
	tcase_add_test(tc, tampered_state_is_refused);
	tcase_add_test(tc, config_refusals);
	tcase_add_test(tc, concurrent_requests_never_roll_back);
	suite_add_tcase(s, tc);
	return s;
}
