/*
 * tl_log_verify_stored (the full check of a stored log with only the verifier key) and
 * tl_db_backup (an online copy while a writer keeps appending), against real RocksDB
 * databases: a log written in uneven batches (full and partial tiles and bundles, pieces,
 * a second tile level) verifies; each kind of damage is found; a copy taken while another
 * thread appends is either a consistent log or reported inconsistent, never silently wrong.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "translog/db.h"
#include "translog/key.h"
#include "translog/log.h"

enum { ENTRIES = 1000 };

static char *dir;
static tl_signer *key;
static tl_verifier *vkey;

/* "<dir>/<name>" in one of three buffers used in turn: one call may take three paths. */
static const char *path_in(const char *name)
{
	static char buf[3][4200];
	static int turn;

	turn = (turn + 1) % 3;
	snprintf(buf[turn], sizeof(buf[turn]), "%s/%s", dir, name);
	return buf[turn];
}

static tl_db *open_db(const char *name)
{
	tl_db *db;

	ck_assert_int_eq(tl_db_open(&db, path_in(name), tl_log_column_families, TL_LOG_COLUMN_FAMILY_COUNT), 0);
	return db;
}

/* Appends entries first .. first + n - 1 ("entry <i>", of varying lengths) in one commit. */
static void append_range(tl_log *log, size_t first, size_t n)
{
	char(*texts)[64] = calloc(n, 64);
	const void **entries = calloc(n, sizeof(*entries));
	size_t *lens = calloc(n, sizeof(*lens));
	uint64_t at;

	ck_assert(texts != NULL && entries != NULL && lens != NULL);
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(texts[i], 64, "entry %zu %.*s", first + i, (int)((first + i) % 23),
			"abcdefghijklmnopqrstuvw");

		entries[i] = texts[i];
		lens[i] = (size_t)len;
	}
	ck_assert_int_eq(tl_log_append_batch(&at, log, entries, lens, n), 0);
	ck_assert_uint_eq(at, first);
	free(texts);
	free(entries);
	free(lens);
}

/* A log of ENTRIES entries in database `name`, written in uneven commits. */
static void write_log(const char *name)
{
	static const size_t batches[] = { 1, 2, 253, 300, 7, 1, 436 };
	tl_db *db = open_db(name);
	tl_log *log;
	size_t done = 0;

	ck_assert_int_eq(tl_log_open(&log, db, key, NULL), 0);
	for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
		append_range(log, done, batches[i]);
		done += batches[i];
	}
	ck_assert_uint_eq(done, ENTRIES);
	tl_log_close(log);
	tl_db_close(db);
}

static int verify(const char *name, tl_checkpoint *cp)
{
	tl_db *db;
	int err;

	ck_assert_msg(tl_db_open_read_only(&db, path_in(name)) == 0, "%s", tl_error_message());
	err = tl_log_verify_stored(cp, NULL, db, vkey);
	tl_db_close(db);
	return err;
}

static void setup(void)
{
	ck_assert_ptr_nonnull(dir = tu_mkdtemp());
	ck_assert_int_eq(tl_signer_generate(&key, "verify.test/log"), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&vkey, key), 0);
}

static void teardown(void)
{
	tl_verifier_free(vkey);
	tl_signer_free(key);
	tu_rm_rf(dir);
	free(dir);
}

START_TEST(a_written_log_verifies)
{
	tl_checkpoint cp;

	write_log("db");
	ck_assert_int_eq(verify("db", &cp), 0);
	ck_assert_uint_eq(cp.size, ENTRIES);
	ck_assert_str_eq(cp.origin, "verify.test/log");
}
END_TEST

START_TEST(an_empty_log_verifies)
{
	tl_db *db = open_db("db");
	tl_log *log;
	tl_checkpoint cp;

	ck_assert_int_eq(tl_log_open(&log, db, key, NULL), 0);
	tl_log_close(log);
	tl_db_close(db);
	ck_assert_int_eq(verify("db", &cp), 0);
	ck_assert_uint_eq(cp.size, 0);
}
END_TEST

START_TEST(another_logs_key_is_refused)
{
	tl_signer *other;
	tl_verifier *ov;
	tl_db *db;
	tl_checkpoint cp;

	write_log("db");
	ck_assert_int_eq(tl_signer_generate(&other, "verify.test/log"), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&ov, other), 0);
	ck_assert_int_eq(tl_db_open_read_only(&db, path_in("db")), 0);
	ck_assert_int_eq(tl_log_verify_stored(&cp, NULL, db, ov), TL_E_UNAUTHORIZED);
	tl_db_close(db);
	tl_verifier_free(ov);
	tl_signer_free(other);
}
END_TEST

/* Damages the stored log through the raw database: one key of column family `cf` (the
 * `nth` in key order) is deleted (flip -1), or its value's byte `flip` is changed (LAST_BYTE:
 * the last one, inside the last entry of a bundle). */
enum { DELETE_KEY = -1, LAST_BYTE = -2 };
static void damage(const char *cf, int nth, long flip)
{
	tl_db *db = open_db("db");
	rocksdb_column_family_handle_t *h = tl_db_cf(db, cf);
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(tl_db_rocks(db), tl_db_read(db), h);
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	int i = 0;

	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it) && i < nth; rocksdb_iter_next(it))
		i++;
	ck_assert(rocksdb_iter_valid(it));
	{
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen), *v = rocksdb_iter_value(it, &vlen);
		char *copy = malloc(vlen + 1);

		ck_assert_ptr_nonnull(copy);
		memcpy(copy, v, vlen);
		if (flip == LAST_BYTE)
			flip = (long)vlen - 1;
		if (flip == DELETE_KEY) {
			rocksdb_writebatch_delete_cf(wb, h, k, klen);
		} else {
			ck_assert_uint_gt(vlen, (size_t)flip);
			copy[flip] ^= 0x01;
			rocksdb_writebatch_put_cf(wb, h, k, klen, copy, vlen);
		}
		free(copy);
	}
	rocksdb_iter_destroy(it);
	ck_assert_int_eq(tl_db_write(db, wb), 0);
	rocksdb_writebatch_destroy(wb);
	tl_db_close(db);
}

static void expect_inconsistent(const char *what)
{
	tl_checkpoint cp;

	ck_assert_int_eq(verify("db", &cp), TL_E_INPUT);
	ck_assert_msg(strstr(tl_error_message(), what) != NULL, "message: %s (want %s)", tl_error_message(), what);
}

START_TEST(a_missing_entry_bundle_is_found)
{
	write_log("db");
	damage("tl_entries", 1, DELETE_KEY);
	expect_inconsistent("inconsistent");
}
END_TEST

START_TEST(a_changed_entry_is_found)
{
	write_log("db");
	damage("tl_entries", 0, LAST_BYTE);
	expect_inconsistent("does not have the checkpoint's root");
}
END_TEST

START_TEST(a_changed_tile_hash_is_found)
{
	write_log("db");
	damage("tl_tiles", 1, 5);
	expect_inconsistent("differs from the one recomputed");
}
END_TEST

START_TEST(a_changed_inner_node_is_found)
{
	write_log("db");
	/* The first tile is full: its inner nodes follow its 256 base hashes. */
	damage("tl_tiles", 0, 256 * 32 + 3);
	expect_inconsistent("inner nodes");
}
END_TEST

/* Writes one raw change to column family `cf`: puts `value` at key `at`, or (value NULL)
 * deletes the keys from `at` up to `end`. */
static void raw_change(const char *cf, const void *at, size_t klen, const char *value, size_t vlen, const void *end,
	size_t end_len)
{
	tl_db *db = open_db("db");
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();

	if (value != NULL)
		rocksdb_writebatch_put_cf(wb, tl_db_cf(db, cf), at, klen, value, vlen);
	else
		rocksdb_writebatch_delete_range_cf(wb, tl_db_cf(db, cf), at, klen, end, end_len);
	ck_assert_int_eq(tl_db_write(db, wb), 0);
	rocksdb_writebatch_destroy(wb);
	tl_db_close(db);
}

START_TEST(a_missing_tile_is_found)
{
	static const uint8_t level1[9] = { 1 }, level2[1] = { 2 };

	write_log("db");
	/* Level 1, tile 0 (a partial one at 1000 entries, stored as pieces): drop them all. */
	raw_change("tl_tiles", level1, sizeof(level1), NULL, 0, level2, sizeof(level2));
	expect_inconsistent("missing");
}
END_TEST

START_TEST(data_beyond_the_checkpoint_is_found)
{
	static const uint8_t bundle9[8] = { 0, 0, 0, 0, 0, 0, 0, 9 };

	write_log("db");
	/* An entry bundle far past the last one. */
	raw_change("tl_entries", bundle9, sizeof(bundle9), "\x00\x01x", 3, NULL, 0);
	expect_inconsistent("beyond the checkpoint");
}
END_TEST

START_TEST(a_backup_copy_of_a_closed_log_verifies)
{
	tl_checkpoint cp;

	write_log("db");
	ck_assert_int_eq(tl_db_backup(path_in("copy"), path_in("db"), path_in("scratch")), 0);
	ck_assert_int_eq(verify("copy", &cp), 0);
	ck_assert_uint_eq(cp.size, ENTRIES);
	/* The scratch directory is gone, the destination is never overwritten. */
	ck_assert_int_ne(access(path_in("scratch"), F_OK), 0);
	ck_assert_int_eq(tl_db_backup(path_in("copy"), path_in("db"), path_in("scratch")), TL_E_CONFLICT);
	ck_assert_int_eq(tl_db_remove(path_in("copy")), 0);
	ck_assert_int_ne(access(path_in("copy"), F_OK), 0);
}
END_TEST

START_TEST(a_backup_of_no_database_fails_cleanly)
{
	ck_assert_int_eq(tl_db_backup(path_in("copy"), path_in("nothing"), path_in("scratch")), TL_E_IO);
	ck_assert_int_ne(access(path_in("copy"), F_OK), 0);
	ck_assert_int_ne(access(path_in("scratch"), F_OK), 0);
}
END_TEST

struct writer {
	tl_log *log;
	volatile int stop;
	size_t appended;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	while (!w->stop) {
		append_range(w->log, w->appended, 1);
		w->appended++;
	}
	return NULL;
}

/* The writer is another thread here, not another process: RocksDB treats a secondary
 * instance the same either way (it takes no lock and shares nothing with the primary). */
START_TEST(a_backup_taken_while_a_writer_appends_is_consistent_or_says_so)
{
	struct writer w = { 0 };
	tl_db *db = open_db("db");
	pthread_t t;
	uint64_t last = 0;
	int consistent = 0;

	ck_assert_int_eq(tl_log_open(&w.log, db, key, NULL), 0);
	append_range(w.log, 0, 300);
	w.appended = 300;
	ck_assert_int_eq(pthread_create(&t, NULL, writer_main, &w), 0);
	for (int i = 0; i < 8; i++) {
		char name[32];
		tl_checkpoint cp;
		int err;

		snprintf(name, sizeof(name), "copy%d", i);
		ck_assert_int_eq(tl_db_backup(path_in(name), path_in("db"), path_in("scratch")), 0);
		err = verify(name, &cp);
		ck_assert_msg(err == 0 || err == TL_E_INPUT, "copy %d: %s", i, tl_error_message());
		if (err == 0) {
			ck_assert_uint_ge(cp.size, last);
			last = cp.size;
			consistent++;
		}
	}
	w.stop = 1;
	pthread_join(t, NULL);
	tl_log_close(w.log);
	tl_db_close(db);
	ck_assert_int_gt(consistent, 0);
	ck_assert_uint_ge(last, 300);
}
END_TEST

Suite *suite_log_verify(void)
{
	Suite *s = suite_create("log_verify");
	TCase *tc = tcase_create("verify");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_written_log_verifies);
	tcase_add_test(tc, an_empty_log_verifies);
	tcase_add_test(tc, another_logs_key_is_refused);
	tcase_add_test(tc, a_missing_entry_bundle_is_found);
	tcase_add_test(tc, a_changed_entry_is_found);
	tcase_add_test(tc, a_changed_tile_hash_is_found);
	tcase_add_test(tc, a_changed_inner_node_is_found);
	tcase_add_test(tc, a_missing_tile_is_found);
	tcase_add_test(tc, data_beyond_the_checkpoint_is_found);
	tcase_add_test(tc, a_backup_copy_of_a_closed_log_verifies);
	tcase_add_test(tc, a_backup_of_no_database_fails_cleanly);
	tcase_add_test(tc, a_backup_taken_while_a_writer_appends_is_consistent_or_says_so);
	suite_add_tcase(s, tc);
	return s;
}
