/*
 * The follower against real logs (the storage API in a temp directory), read through a fetch
 * callback that serves the log's own checkpoint, tiles and entry bundles, and a tampering
 * callback on top of it for every way a server can lie.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testnotes.h"
#include "testutil.h"
#include "translog/cosig.h"
#include "translog/follow.h"
#include "translog/log.h"
#include "translog/note.h"

static const char *const ORIGIN = "example.org/follow-log";

struct served_log {
	char *dir;
	tl_db *db;
	tl_log *log;
	const char *prefix; /* entries are "<prefix> <index>" */
};

/* How the tampering fetch lies. */
enum lie {
	HONEST,
	FLIP_HASH_TILE,    /* flips a bit in the last hash of every hash tile */
	FLIP_BUNDLE,       /* flips a bit in the last byte of every entry bundle */
	TRUNCATE_TILE,     /* drops the last byte of every hash tile */
	NO_PARTIAL,        /* 404 for a partial tile or bundle once the full one exists */
	DOWN,              /* the peer cannot be reached */
	STALE_CHECKPOINT,  /* serves `note` instead of the log's checkpoint */
};

struct server {
	struct served_log *log;
	enum lie lie;
	const tl_buf *note;
	unsigned fetches;
};

static tl_signer *key;
static tl_verifier *verifier;

static void log_open(struct served_log *l, const char *prefix)
{
	memset(l, 0, sizeof(*l));
	l->prefix = prefix;
	ck_assert_ptr_nonnull(l->dir = tu_mkdtemp());
	ck_assert_msg(tl_db_open(&l->db, l->dir, tl_log_column_families, TL_LOG_COLUMN_FAMILY_COUNT) == 0, "%s",
		tl_error_message());
	ck_assert_msg(tl_log_open(&l->log, l->db, key, NULL) == 0, "%s", tl_error_message());
}

static void log_close(struct served_log *l)
{
	tl_log_close(l->log);
	tl_db_close(l->db);
	tu_rm_rf(l->dir);
	free(l->dir);
}

static size_t entry_text(char *out, size_t cap, const char *prefix, uint64_t i)
{
	/* Lengths vary so that bundle offsets are not regular. */
	int n = snprintf(out, cap, "%s %" PRIu64 " %.*s", prefix, i, (int)(i % 23), "abcdefghijklmnopqrstuvwxyz");

	return (size_t)n;
}

/* Appends entries until the log has `size` of them, in batches. */
static void log_grow(struct served_log *l, uint64_t size)
{
	enum { BATCH = 4096 };
	static char text[BATCH][64];
	const void *ptrs[BATCH];
	size_t lens[BATCH];
	uint64_t first;

	while (tl_log_size(l->log) < size) {
		uint64_t at = tl_log_size(l->log);
		size_t n = size - at < BATCH ? (size_t)(size - at) : BATCH;

		for (size_t k = 0; k < n; k++) {
			lens[k] = entry_text(text[k], sizeof(text[k]), l->prefix, at + k);
			ptrs[k] = text[k];
		}
		ck_assert_msg(tl_log_append_batch(&first, l->log, ptrs, lens, n) == 0, "%s", tl_error_message());
		ck_assert_uint_eq(first, at);
	}
}

/* Grows the log to `size` and follows it from `old` (NULL: first use) into *cp. */
static void grow_and_follow(tl_checkpoint *cp, tl_buf *note, struct served_log *l, const tl_follow_config *c,
	uint64_t size, const tl_checkpoint *old)
{
	log_grow(l, size);
	ck_assert_msg(tl_follow_update(cp, note, NULL, c, old) == 0, "%" PRIu64 ": %s", size, tl_error_message());
	ck_assert_uint_eq(cp->size, size);
}

static int serve(void *ctx, const char *path, tl_buf *out)
{
	struct server *s = ctx;
	tl_tile t;
	int err;

	s->fetches++;
	if (s->lie == DOWN)
		return tl_error_set(TL_E_UNAVAILABLE, "connection refused");
	if (strcmp(path, "checkpoint") == 0) {
		if (s->lie == STALE_CHECKPOINT)
			return tl_buf_append(out, s->note->data, s->note->len);
		return tl_log_head(NULL, NULL, out, s->log->log);
	}
	ck_assert_msg(tl_tile_path_parse(&t, path, strlen(path)) == 0, "%s: %s", path, tl_error_message());
	if (s->lie == NO_PARTIAL && t.width < TL_TILE_WIDTH) {
		tl_tile full = t;

		full.width = TL_TILE_WIDTH;
		if (tl_log_tile(out, s->log->log, &full) == 0) {
			tl_buf_reset(out);
			return tl_error_set(TL_E_NOTFOUND, "partial tile dropped");
		}
	}
	if ((err = tl_log_tile(out, s->log->log, &t)) != 0)
		return err;
	if (out->len > 0 && ((s->lie == FLIP_HASH_TILE && !t.entries) || (s->lie == FLIP_BUNDLE && t.entries)))
		out->data[out->len - 1] ^= 1;
	if (s->lie == TRUNCATE_TILE && !t.entries)
		tl_buf_truncate(out, out->len - 1);
	return 0;
}

static tl_follow_config config(struct server *s)
{
	tl_follow_config c = { .transport = { serve, s }, .log_key = verifier };

	return c;
}

struct expect {
	const char *prefix;
	uint64_t next;
};

static int check_entry(void *ctx, uint64_t index, const uint8_t *entry, size_t len)
{
	struct expect *e = ctx;
	char want[64];
	size_t n = entry_text(want, sizeof(want), e->prefix, index);

	ck_assert_uint_eq(index, e->next);
	ck_assert_uint_eq(len, n);
	ck_assert(memcmp(entry, want, n) == 0);
	e->next++;
	return 0;
}

/* For reads that must fail before any entry is handed out. */
static int no_entry(void *ctx, uint64_t index, const uint8_t *entry, size_t len)
{
	(void)ctx;
	(void)entry;
	(void)len;
	ck_abort_msg("entry %" PRIu64 " handed out by a read that had to fail", index);
	return 0;
}

static void check_inclusion(const tl_follow_config *c, const tl_checkpoint *cp, uint64_t index,
	const char *prefix)
{
	char text[64];
	size_t len = entry_text(text, sizeof(text), prefix, index);
	tl_hash leaf, proof[TL_MAX_PROOF_HASHES];
	size_t n;

	tl_hash_leaf(&leaf, text, len);
	ck_assert_msg(tl_follow_inclusion(proof, &n, c, cp, index, &leaf) == 0, "%" PRIu64 "/%" PRIu64 ": %s", index,
		cp->size, tl_error_message());
	ck_assert_uint_eq(n, tl_inclusion_proof_size(index, cp->size));
	/* The wrong entry at that index is refused. */
	leaf.b[0] ^= 1;
	ck_assert_int_eq(tl_follow_inclusion(proof, &n, c, cp, index, &leaf), TL_E_UNAUTHORIZED);
}

static void read_entries(const tl_follow_config *c, const tl_checkpoint *cp, uint64_t first, uint64_t count)
{
	struct expect e = { "entry", first };

	ck_assert_msg(tl_follow_entries(c, cp, first, count, check_entry, &e) == 0, "%" PRIu64 "+%" PRIu64 ": %s",
		first, count, tl_error_message());
	ck_assert_uint_eq(e.next, first + count);
}

static void setup(void)
{
	ck_assert_int_eq(tl_signer_generate(&key, ORIGIN), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&verifier, key), 0);
}

static void teardown(void)
{
	tl_verifier_free(verifier);
	tl_signer_free(key);
}

/* Follows one log from empty across tile boundaries and partial tiles, then proves every
 * checkpoint seen consistent with the last one, and reads every entry. */
START_TEST(follows_across_sizes)
{
	static const uint64_t sizes[] = { 0, 1, 2, 255, 256, 257, 300, 511, 512, 513, 4097, 65535, 65536, 65537, 70000 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	struct served_log l;
	struct server s = { &l, HONEST, NULL, 0 };
	tl_follow_config c = config(&s);
	tl_checkpoint seen[N], cp;
	tl_buf note = { 0 };

	log_open(&l, "entry");
	ck_assert_msg(tl_follow_update(&seen[0], &note, NULL, &c, NULL) == 0, "%s", tl_error_message());
	ck_assert_uint_eq(seen[0].size, 0);
	ck_assert_str_eq(seen[0].origin, ORIGIN);
	ck_assert_int_eq(tl_follow_verify_checkpoint(&cp, &c, note.data, note.len), 0);
	for (size_t i = 1; i < N; i++) {
		uint64_t size = sizes[i];

		tl_buf_reset(&note);
		grow_and_follow(&seen[i], &note, &l, &c, size, &seen[i - 1]);
		check_inclusion(&c, &seen[i], 0, "entry");
		check_inclusion(&c, &seen[i], size - 1, "entry");
		check_inclusion(&c, &seen[i], size / 2, "entry");
		read_entries(&c, &seen[i], size > 300 ? size - 300 : 0, size > 300 ? 300 : size);
		/* The same checkpoint again is consistent with itself. */
		ck_assert_int_eq(tl_follow_consistency(NULL, &c, &seen[i], &seen[i]), 0);
	}
	for (size_t i = 0; i < N; i++)
		ck_assert_msg(tl_follow_consistency(NULL, &c, &seen[i], &seen[N - 1]) == 0, "%" PRIu64 ": %s", sizes[i],
			tl_error_message());
	read_entries(&c, &seen[N - 1], 0, sizes[N - 1]);
	/* An older checkpoint's tiles are read as partial tiles of the log as it is now. */
	check_inclusion(&c, &seen[6], 299, "entry");
	read_entries(&c, &seen[6], 250, 50);

	/* Out of range. */
	{
		tl_hash leaf = { { 0 } }, proof[TL_MAX_PROOF_HASHES];
		size_t n;

		ck_assert_int_eq(tl_follow_inclusion(proof, &n, &c, &seen[3], 255, &leaf), TL_E_NOTFOUND);
		ck_assert_int_eq(tl_follow_entries(&c, &seen[3], 200, 56, no_entry, NULL), TL_E_NOTFOUND);
		ck_assert_int_eq(tl_follow_entries(&c, &seen[3], 1, UINT64_MAX, no_entry, NULL), TL_E_NOTFOUND);
		ck_assert_int_eq(tl_follow_entries(&c, &seen[3], 255, 0, no_entry, NULL), 0);
	}
	tl_buf_free(&note);
	log_close(&l);
}
END_TEST

/* A log that has dropped its partial tiles: the follower reads the full ones. */
START_TEST(falls_back_to_full_tiles)
{
	struct served_log l;
	struct server s = { &l, HONEST, NULL, 0 };
	tl_follow_config c = config(&s);
	tl_checkpoint old, cp;

	log_open(&l, "entry");
	grow_and_follow(&old, NULL, &l, &c, 300, NULL);
	grow_and_follow(&cp, NULL, &l, &c, 1000, &old);
	s.lie = NO_PARTIAL;
	/* At 300 every tile on the right edge is partial; at 1000 they are full by now. */
	check_inclusion(&c, &old, 299, "entry");
	read_entries(&c, &old, 256, 44);
	/* At 1000 the right edge's partial tiles are still served. */
	check_inclusion(&c, &cp, 999, "entry");
	read_entries(&c, &cp, 700, 300);
	ck_assert_int_eq(tl_follow_update(&cp, NULL, NULL, &c, &old), 0);
	log_close(&l);
}
END_TEST

START_TEST(refuses_lies)
{
	struct served_log l;
	struct server s = { &l, HONEST, NULL, 0 };
	tl_follow_config c = config(&s);
	tl_checkpoint old, cp, before;
	tl_buf old_note = { 0 };
	tl_follow_fork fork;
	tl_hash proof[TL_MAX_PROOF_HASHES];
	size_t n;
	tl_signer *other;
	tl_verifier *other_v;

	log_open(&l, "entry");
	grow_and_follow(&old, &old_note, &l, &c, 700, NULL);
	grow_and_follow(&cp, NULL, &l, &c, 1300, &old);

	/* A checkpoint signed by another key (same origin) is not the log's. */
	ck_assert_int_eq(tl_signer_generate(&other, ORIGIN), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&other_v, other), 0);
	c.log_key = other_v;
	ck_assert_int_eq(tl_follow_update(&before, NULL, NULL, &c, &old), TL_E_UNAUTHORIZED);
	c.log_key = verifier;

	s.lie = FLIP_HASH_TILE;
	before = old;
	ck_assert_int_eq(tl_follow_update(&before, NULL, &fork, &c, &old), TL_E_UNAUTHORIZED);
	ck_assert_uint_eq(before.size, old.size); /* unchanged on failure */
	{
		tl_hash leaf;
		char text[64];

		tl_hash_leaf(&leaf, text, entry_text(text, sizeof(text), "entry", 5));
		ck_assert_int_eq(tl_follow_inclusion(proof, &n, &c, &cp, 5, &leaf), TL_E_UNAUTHORIZED);
	}
	ck_assert_int_eq(tl_follow_entries(&c, &cp, 1000, 10, no_entry, NULL), TL_E_UNAUTHORIZED);

	s.lie = FLIP_BUNDLE;
	ck_assert_int_eq(tl_follow_entries(&c, &cp, 0, 10, no_entry, NULL), TL_E_UNAUTHORIZED);
	ck_assert_int_eq(tl_follow_entries(&c, &cp, 1290, 10, no_entry, NULL), TL_E_UNAUTHORIZED);

	s.lie = TRUNCATE_TILE;
	ck_assert_int_eq(tl_follow_update(&before, NULL, NULL, &c, &old), TL_E_INPUT);

	s.lie = DOWN;
	ck_assert_int_eq(tl_follow_update(&before, NULL, NULL, &c, &old), TL_E_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "connection refused"));
	ck_assert_int_eq(tl_follow_entries(&c, &cp, 0, 1, no_entry, NULL), TL_E_UNAVAILABLE);

	/* Rollback: the server hands out the older checkpoint again. */
	s.lie = STALE_CHECKPOINT;
	s.note = &old_note;
	memset(&fork, 0, sizeof(fork));
	ck_assert_int_eq(tl_follow_update(&before, NULL, &fork, &c, &cp), TL_E_CONFLICT);
	ck_assert(fork.rollback);
	ck_assert_uint_eq(fork.old.size, 1300);
	ck_assert_uint_eq(fork.new.size, 700);

	/* Caller errors. */
	{
		tl_checkpoint bad = old;

		bad.size = 0;
		ck_assert_int_eq(tl_follow_consistency(NULL, &c, &bad, &cp), TL_E_INPUT);
		bad = old;
		bad.origin[0] = 'X';
		ck_assert_int_eq(tl_follow_consistency(NULL, &c, &bad, &cp), TL_E_INPUT);
		c.quorum = 1;
		ck_assert_int_eq(tl_follow_verify_checkpoint(&bad, &c, old_note.data, old_note.len), TL_E_INPUT);
		c.quorum = 0;
	}

	tl_verifier_free(other_v);
	tl_signer_free(other);
	tl_buf_free(&old_note);
	log_close(&l);
}
END_TEST

/* Two logs under one key that agree on 600 entries and then diverge: what one signed and
 * what the other serves is a fork, with the evidence. */
START_TEST(detects_forks)
{
	struct served_log a, b;
	struct server sa = { &a, HONEST, NULL, 0 }, sb = { &b, HONEST, NULL, 0 };
	tl_follow_config ca = config(&sa), cb = config(&sb);
	tl_checkpoint at_a, at_b, common, out;
	tl_buf note = { 0 }, a_note = { 0 };
	tl_follow_fork fork;

	log_open(&a, "entry");
	log_open(&b, "entry");
	log_grow(&b, 600);
	grow_and_follow(&common, NULL, &a, &ca, 600, NULL);
	b.prefix = "fork";
	grow_and_follow(&at_a, &a_note, &a, &ca, 900, &common);
	grow_and_follow(&at_b, NULL, &b, &cb, 1200, &common);

	/* Following b after having seen a's 900. */
	memset(&fork, 0, sizeof(fork));
	out = at_a;
	ck_assert_int_eq(tl_follow_update(&out, &note, &fork, &cb, &at_a), TL_E_CONFLICT);
	ck_assert_int_eq(memcmp(&out, &at_a, sizeof(out)), 0);
	ck_assert(!fork.rollback);
	ck_assert_int_eq(memcmp(&fork.old, &at_a, sizeof(at_a)), 0);
	ck_assert_int_eq(memcmp(&fork.new, &at_b, sizeof(at_b)), 0);
	ck_assert(!tl_hash_equal(&fork.prefix_root, &at_a.root));
	ck_assert_uint_eq(fork.n_proof, tl_consistency_proof_size(900, 1200));
	ck_assert_int_eq(tl_verify_consistency(900, 1200, fork.proof, fork.n_proof, &fork.prefix_root, &at_b.root),
		0);
	/* The note handed back is the signed half of the evidence. */
	ck_assert_int_eq(tl_follow_verify_checkpoint(&out, &cb, note.data, note.len), 0);
	ck_assert_uint_eq(out.size, 1200);

	/* Same size, other root. */
	log_grow(&b, 1300);
	grow_and_follow(&at_a, NULL, &a, &ca, 1300, &at_a);
	memset(&fork, 0, sizeof(fork));
	ck_assert_int_eq(tl_follow_update(&out, NULL, &fork, &cb, &at_a), TL_E_CONFLICT);
	ck_assert_uint_eq(fork.new.size, 1300);
	ck_assert_uint_eq(fork.n_proof, 0);
	/* Both still extend what they had in common. */
	ck_assert_int_eq(tl_follow_update(&out, NULL, NULL, &cb, &common), 0);

	tl_buf_free(&note);
	tl_buf_free(&a_note);
	log_close(&a);
	log_close(&b);
}
END_TEST

/* Witness cosignatures: a quorum is required when configured. */
START_TEST(witness_quorum)
{
	struct served_log l;
	struct server s = { &l, STALE_CHECKPOINT, NULL, 0 };
	tl_follow_config c = config(&s);
	tl_signer *w1, *w2;
	tl_verifier *v[2];
	tl_buf plain = { 0 }, one = { 0 };
	tl_note n;
	tl_checkpoint cp;

	ck_assert_int_eq(tl_signer_generate_typed(&w1, "example.org/w1", TL_KEY_TYPE_COSIGNATURE), 0);
	ck_assert_int_eq(tl_signer_generate_typed(&w2, "example.org/w2", TL_KEY_TYPE_COSIGNATURE), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&v[0], w1), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&v[1], w2), 0);
	log_open(&l, "entry");
	log_grow(&l, 10);
	ck_assert_int_eq(tl_log_head(NULL, NULL, &plain, l.log), 0);
	ck_assert_int_eq(tl_note_parse(&n, plain.data, plain.len), 0);
	ck_assert_int_eq(tl_cosig_add(&one, &n, 1700000000, w1), 0);

	c.witnesses = (const tl_verifier *const *)v;
	c.n_witnesses = 2;
	c.quorum = 1;
	s.note = &plain;
	ck_assert_int_eq(tl_follow_update(&cp, NULL, NULL, &c, NULL), TL_E_UNAUTHORIZED);
	s.note = &one;
	ck_assert_msg(tl_follow_update(&cp, NULL, NULL, &c, NULL) == 0, "%s", tl_error_message());
	ck_assert_uint_eq(cp.size, 10);
	c.quorum = 2;
	ck_assert_int_eq(tl_follow_update(&cp, NULL, NULL, &c, NULL), TL_E_UNAUTHORIZED);
	/* Issue 8: w1 listed again under another name is still one witness, even when the note
	 * carries its line copied under that name. */
	{
		tl_verifier *dup[2] = { v[0], tu_notes_alias(v[0], "example.org/w1-again") };
		tl_buf twice = { 0 };

		ck_assert_int_eq(tl_note_parse(&n, one.data, one.len), 0);
		tu_notes_relabel(&twice, &n, n.n_sigs - 1, dup[1]);
		s.note = &twice;
		c.witnesses = (const tl_verifier *const *)dup;
		ck_assert_int_eq(tl_follow_update(&cp, NULL, NULL, &c, NULL), TL_E_INPUT);
		ck_assert_ptr_nonnull(strstr(tl_error_message(), "one public key under two names"));
		c.witnesses = (const tl_verifier *const *)v;
		s.note = &one;
		tl_verifier_free(dup[1]);
		tl_buf_free(&twice);
	}
	/* A bad cosignature by a configured witness rejects. */
	one.data[one.len - 3] ^= 1;
	c.quorum = 1;
	ck_assert_int_ne(tl_follow_update(&cp, NULL, NULL, &c, NULL), 0);

	tl_buf_free(&plain);
	tl_buf_free(&one);
	tl_verifier_free(v[0]);
	tl_verifier_free(v[1]);
	tl_signer_free(w1);
	tl_signer_free(w2);
	log_close(&l);
}
END_TEST

/* Issue 8: a signed checkpoint of size 0 whose root is not the empty tree's is refused,
 * even as the first checkpoint a follower sees (trust on first use). */
START_TEST(refuses_false_empty_checkpoint)
{
	struct served_log l;
	tl_buf forged = { 0 };
	struct server s = { &l, STALE_CHECKPOINT, &forged, 0 };
	tl_follow_config c = config(&s);
	tl_checkpoint cp, bogus;

	log_open(&l, "entry");
	memset(&bogus, 0, sizeof(bogus));
	strcpy(bogus.origin, ORIGIN);
	memset(bogus.root.b, 0x42, sizeof(bogus.root.b));
	ck_assert_int_eq(tl_checkpoint_sign(&forged, &bogus, key), 0);
	ck_assert_int_eq(tl_follow_update(&cp, NULL, NULL, &c, NULL), TL_E_UNAUTHORIZED);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "size 0"));
	ck_assert_int_eq(tl_follow_verify_checkpoint(&cp, &c, forged.data, forged.len), TL_E_UNAUTHORIZED);
	tl_buf_free(&forged);
	log_close(&l);
}
END_TEST

Suite *suite_follow(void)
{
	Suite *s = suite_create("follow");
	TCase *tc = tcase_create("follow");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, follows_across_sizes);
	tcase_add_test(tc, falls_back_to_full_tiles);
	tcase_add_test(tc, refuses_lies);
	tcase_add_test(tc, detects_forks);
	tcase_add_test(tc, witness_quorum);
	tcase_add_test(tc, refuses_false_empty_checkpoint);
	suite_add_tcase(s, tc);
	return s;
}
