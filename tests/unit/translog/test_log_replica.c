/*
 * A replica's log (tl_log_open_replica, tl_log_append_signed): fed the origin's entries with
 * the origin's signed checkpoints, it serves the same checkpoint, tiles, entries and proofs
 * byte for byte, survives a reopen, and takes nothing the origin did not sign.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "translog/checkpoint.h"
#include "translog/key.h"
#include "translog/log.h"
#include "translog/proof.h"
#include "translog/tile.h"

static const char *const ORIGIN = "example.org/replicated-log";

struct side {
	char *dir;
	tl_db *db;
	tl_log *log;
};

struct fixture {
	tl_signer *key;
	tl_verifier *verifier;
	struct side origin, replica;
};

static void side_open(struct side *s, const tl_signer *key, const tl_verifier *v)
{
	ck_assert_msg(tl_db_open(&s->db, s->dir, tl_log_column_families, TL_LOG_COLUMN_FAMILY_COUNT) == 0, "%s",
		tl_error_message());
	if (key != NULL)
		ck_assert_msg(tl_log_open(&s->log, s->db, key, NULL) == 0, "%s", tl_error_message());
	else
		ck_assert_msg(tl_log_open_replica(&s->log, s->db, v, NULL) == 0, "%s", tl_error_message());
}

static void side_close(struct side *s)
{
	tl_log_close(s->log);
	tl_db_close(s->db);
	s->log = NULL;
	s->db = NULL;
}

static void fx_init(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	ck_assert_int_eq(tl_signer_generate(&fx->key, ORIGIN), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&fx->verifier, fx->key), 0);
	ck_assert_ptr_nonnull(fx->origin.dir = tu_mkdtemp());
	ck_assert_ptr_nonnull(fx->replica.dir = tu_mkdtemp());
	side_open(&fx->origin, fx->key, NULL);
	side_open(&fx->replica, NULL, fx->verifier);
}

static void fx_free(struct fixture *fx)
{
	struct side *sides[] = { &fx->origin, &fx->replica };

	for (size_t i = 0; i < 2; i++) {
		if (sides[i]->log != NULL)
			side_close(sides[i]);
		tu_rm_rf(sides[i]->dir);
		free(sides[i]->dir);
	}
	tl_verifier_free(fx->verifier);
	tl_signer_free(fx->key);
}

static size_t make_entry(char *buf, size_t cap, uint64_t i)
{
	int n = snprintf(buf, cap, "entry %llu %.*s\n", (unsigned long long)i, (int)(i * 7 % 300),
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");

	return (size_t)n;
}

/* Appends n entries to the origin in one batch. */
static void origin_append(struct fixture *fx, size_t n)
{
	char *bufs = malloc(n * 512);
	const void **entries = malloc(n * sizeof(*entries));
	size_t *lens = malloc(n * sizeof(*lens));
	uint64_t first, size = tl_log_size(fx->origin.log);

	for (size_t i = 0; i < n; i++) {
		entries[i] = bufs + i * 512;
		lens[i] = make_entry(bufs + i * 512, 512, size + i);
	}
	ck_assert_msg(tl_log_append_batch(&first, fx->origin.log, entries, lens, n) == 0, "%s", tl_error_message());
	free(bufs);
	free(entries);
	free(lens);
}

/* Copies what the replica lacks, with the origin's current checkpoint, as a follower would. */
static int replicate(struct fixture *fx)
{
	tl_buf note = tl_buf_make(1u << 16), all = tl_buf_make(1u << 26);
	uint64_t have = tl_log_size(fx->replica.log), size, first;
	size_t n, *offs, *lens;
	const void **entries;
	int err;

	ck_assert_int_eq(tl_log_head(&size, NULL, &note, fx->origin.log), 0);
	n = (size_t)(size - have);
	offs = calloc(n + 1, sizeof(*offs));
	lens = calloc(n + 1, sizeof(*lens));
	entries = calloc(n + 1, sizeof(*entries));
	for (size_t i = 0; i < n; i++) {
		offs[i] = all.len;
		ck_assert_int_eq(tl_log_entry(&all, fx->origin.log, have + i), 0);
		lens[i] = all.len - offs[i];
	}
	for (size_t i = 0; i < n; i++)
		entries[i] = all.data + offs[i];
	err = tl_log_append_signed(&first, fx->replica.log, entries, lens, n, note.data, note.len);
	if (err == 0 && n > 0)
		ck_assert_uint_eq(first, have);
	free(offs);
	free(lens);
	free(entries);
	tl_buf_free(&note);
	tl_buf_free(&all);
	return err;
}

static void expect_same_resource(struct fixture *fx, const tl_tile *t)
{
	tl_buf a = tl_buf_make(1u << 25), b = tl_buf_make(1u << 25);
	char path[TL_TILE_PATH_MAX];

	ck_assert_int_eq(tl_tile_path_format(path, t), 0);
	ck_assert_msg(tl_log_tile(&a, fx->origin.log, t) == 0, "origin %s: %s", path, tl_error_message());
	ck_assert_msg(tl_log_tile(&b, fx->replica.log, t) == 0, "replica %s: %s", path, tl_error_message());
	ck_assert_msg(a.len == b.len && memcmp(a.data, b.data, a.len) == 0, "%s differs", path);
	tl_buf_free(&a);
	tl_buf_free(&b);
}

/* The replica serves what the origin serves: head, every tile and bundle, some proofs. */
static void expect_same(struct fixture *fx)
{
	tl_buf a = tl_buf_make(1u << 16), b = tl_buf_make(1u << 16);
	uint64_t size;

	ck_assert_int_eq(tl_log_head(&size, NULL, &a, fx->origin.log), 0);
	ck_assert_int_eq(tl_log_head(NULL, NULL, &b, fx->replica.log), 0);
	ck_assert_msg(a.len == b.len && memcmp(a.data, b.data, a.len) == 0, "checkpoints differ");
	ck_assert_uint_eq(tl_log_size(fx->replica.log), size);
	for (unsigned level = 0; level < 3; level++)
		for (uint64_t n = 0; n * 256 < size >> (8 * level); n++) {
			tl_tile t = { .level = level, .index = n, .width = tl_tile_width_at(level, n, size) };

			expect_same_resource(fx, &t);
			t.entries = level == 0;
			expect_same_resource(fx, &t);
		}
	for (uint64_t i = 0; i < size; i += 97) {
		tl_hash ha[TL_MAX_PROOF_HASHES], hb[TL_MAX_PROOF_HASHES];
		size_t na, nb;

		ck_assert_int_eq(tl_log_prove_inclusion(ha, &na, fx->origin.log, i, size), 0);
		ck_assert_int_eq(tl_log_prove_inclusion(hb, &nb, fx->replica.log, i, size), 0);
		ck_assert(na == nb && memcmp(ha, hb, na * sizeof(tl_hash)) == 0);
		ck_assert_int_eq(tl_log_prove_consistency(ha, &na, fx->origin.log, i, size), 0);
		ck_assert_int_eq(tl_log_prove_consistency(hb, &nb, fx->replica.log, i, size), 0);
		ck_assert(na == nb && memcmp(ha, hb, na * sizeof(tl_hash)) == 0);
	}
	tl_buf_free(&a);
	tl_buf_free(&b);
}

START_TEST(replica_serves_the_origins_bytes_across_reopens)
{
	static const size_t batches[] = { 1, 3, 250, 2, 256, 600, 1, 0, 77 };
	struct fixture fx;
	tl_buf note = tl_buf_make(1024);

	fx_init(&fx);
	ck_assert_int_eq(tl_log_head(NULL, NULL, &note, fx.replica.log), TL_E_UNAVAILABLE);
	ck_assert_uint_eq(tl_log_size(fx.replica.log), 0);
	for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
		if (batches[i] > 0)
			origin_append(&fx, batches[i]);
		ck_assert_msg(replicate(&fx) == 0, "%s", tl_error_message());
		expect_same(&fx);
		if (i % 3 == 2) {
			side_close(&fx.replica);
			side_open(&fx.replica, NULL, fx.verifier);
			expect_same(&fx);
		}
	}
	tl_buf_free(&note);
	fx_free(&fx);
}
END_TEST

START_TEST(replica_takes_only_what_the_origin_signed)
{
	struct fixture fx;
	tl_signer *other;
	tl_verifier *other_v;
	tl_buf note = tl_buf_make(4096), forged = tl_buf_make(4096);
	const void *e = "forged entry\n";
	size_t len = 13;
	uint64_t first, size;
	tl_checkpoint cp;

	fx_init(&fx);
	origin_append(&fx, 5);
	ck_assert_int_eq(replicate(&fx), 0);
	/* A replica never appends on its own, and a sequencer takes no foreign checkpoint. */
	ck_assert_int_eq(tl_log_append(&first, fx.replica.log, e, len), TL_E_UNAVAILABLE);
	ck_assert_int_eq(tl_log_head(&size, NULL, &note, fx.origin.log), 0);
	ck_assert_int_eq(tl_log_append_signed(&first, fx.origin.log, &e, &len, 1, note.data, note.len), TL_E_INPUT);

	/* A checkpoint of another key over the replica's tree plus a forged entry. */
	ck_assert_int_eq(tl_signer_generate(&other, ORIGIN), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&other_v, other), 0);
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", ORIGIN);
	cp.size = size + 1;
	ck_assert_int_eq(tl_checkpoint_sign(&forged, &cp, other), 0);
	ck_assert_int_eq(tl_log_append_signed(&first, fx.replica.log, &e, &len, 1, forged.data, forged.len),
		TL_E_UNAUTHORIZED);
	/* The failed commit stopped the replica's log: nothing was written, reads go on. */
	ck_assert_int_eq(replicate(&fx), TL_E_UNAVAILABLE);
	ck_assert_uint_eq(tl_log_size(fx.replica.log), size);
	side_close(&fx.replica);
	side_open(&fx.replica, NULL, fx.verifier);
	expect_same(&fx);

	/* The origin's own checkpoint, but for a tree without the forged entry. */
	origin_append(&fx, 1);
	tl_buf_reset(&note);
	ck_assert_int_eq(tl_log_head(NULL, NULL, &note, fx.origin.log), 0);
	ck_assert_int_eq(tl_log_append_signed(&first, fx.replica.log, &e, &len, 1, note.data, note.len),
		TL_E_CONFLICT);
	side_close(&fx.replica);

	/* A replica's data opened with another key is another log's. */
	ck_assert_int_eq(tl_db_open(&fx.replica.db, fx.replica.dir, tl_log_column_families,
				 TL_LOG_COLUMN_FAMILY_COUNT), 0);
	ck_assert_int_eq(tl_log_open_replica(&fx.replica.log, fx.replica.db, other_v, NULL), TL_E_CONFLICT);
	tl_db_close(fx.replica.db);
	fx.replica.db = NULL;
	fx.replica.log = NULL;

	tl_verifier_free(other_v);
	tl_signer_free(other);
	tl_buf_free(&note);
	tl_buf_free(&forged);
	fx_free(&fx);
}
END_TEST

Suite *suite_log_replica(void)
{
	Suite *s = suite_create("log_replica");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, replica_serves_the_origins_bytes_across_reopens);
	tcase_add_test(tc, replica_takes_only_what_the_origin_signed);
	suite_add_tcase(s, tc);
	return s;
}
