/*
 * Backup and restore against the real daemon, as docs/operations.md tells an operator to do
 * them: `bundlectl admin backup` while bundled runs and holds its database, `bundlectl admin
 * verify-backup` on the result (and on damaged copies of it), then a restore into a fresh
 * data directory with the log key put back from its own backup, a second daemon started on
 * it, and the same checkpoint, tiles, entry bundles and blocks served by both.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundled/cid.h"
#include "bundled/dag.h"
#include "bundled/registry.h"
#include "testbundle.h"
#include "testdaemon.h"
#include "testentry.h"
#include "testpublish.h"
#include "testrun.h"
#include "testutil.h"
#include "translog/db.h"

enum { ENTRIES = 300, FILE_BYTES = 3000 };

static char *dir;
static struct tu_daemon live;
static struct tu_output ran;
static char root_cid[BD_CID_TEXT_MAX];

#define run(...) tu_run(&ran, dir, "bundlectl", __VA_ARGS__)

/* The data directory the daemon runs on: DIR/data with a key, a log of ENTRIES entries in two
 * commits (so it ends with partial tiles made of pieces) and a file's blocks. */
static void prepare_data(const char *data)
{
	static char texts[ENTRIES][48];
	const void *entries[ENTRIES];
	size_t lens[ENTRIES];
	uint8_t bytes[FILE_BYTES];
	bd_dag *dag;

	for (size_t i = 0; i < ENTRIES; i++) {
		lens[i] = (size_t)snprintf(texts[i], sizeof(texts[i]), "backup suite entry %zu", i);
		entries[i] = texts[i];
	}
	for (size_t i = 0; i < FILE_BYTES; i++)
		bytes[i] = (uint8_t)(i * 13 + i / 97); /* no period: no two chunks alike */
	dag = tu_dag_build(bytes, FILE_BYTES, "size-1024");
	ck_assert_int_eq(bd_cid_format(root_cid, sizeof(root_cid), bd_dag_root(dag)), 0);
	tu_daemon_prepare(data, "backup.test/log", entries, lens, ENTRIES, 200, dag);
	bd_dag_free(dag);
}

static void setup(void)
{
	ck_assert_ptr_nonnull(dir = tu_mkdtemp());
	prepare_data(tu_path_in(dir, "data"));
	ck_assert_int_eq(tu_daemon_start(&live, tu_path_in(dir, "data"), NULL), 0);
}

static void teardown(void)
{
	ck_assert_int_eq(tu_daemon_stop(&live), 0);
	tu_output_free(&ran);
	tu_rm_rf(dir);
	free(dir);
}

static char *get(const struct tu_daemon *d, const char *path, size_t *len)
{
	char *body = NULL;
	long status = tu_http_get(d, path, &body, len);

	ck_assert_msg(status == 200, "GET %s: %ld", path, status);
	return body;
}

/* Takes a backup of the running daemon's data directory into DIR/<name>. */
static void backup(const char *name, const char *extra)
{
	int status = run("admin backup --data '%s' --out '%s' %s", tu_path_in(dir, "data"), tu_path_in(dir, name), extra);

	ck_assert_msg(status == 0, "backup: %d: %s", status, ran.err);
	ck_assert_ptr_nonnull(strstr(ran.out, "log backup.test/log size "));
}

static int verify(const char *name)
{
	return run("admin verify-backup --vkey '%s' '%s'", live.vkey, tu_path_in(dir, name));
}

START_TEST(a_backup_of_the_running_daemon_verifies)
{
	struct stat st;

	backup("b", "");
	ck_assert_int_eq(verify("b"), 0);
	ck_assert_ptr_nonnull(strstr(ran.out, "log: backup.test/log size 300"));
	ck_assert_msg(strstr(ran.out, "blocks: 4 blocks") != NULL, "%s", ran.out);
	ck_assert_ptr_nonnull(strstr(ran.out, "key: not in the backup"));
	/* The private key stays out unless asked for, the backup is the owner's only. */
	ck_assert_int_ne(access(tu_path_in(dir, "b/log.key"), F_OK), 0);
	ck_assert_int_eq(stat(tu_path_in(dir, "b"), &st), 0);
	ck_assert_int_eq(st.st_mode & 077, 0);
	/* The daemon kept serving throughout and still does. */
	ck_assert_int_eq(run("admin health --server '%s'", live.base_url), 0);
}
END_TEST

START_TEST(the_key_is_in_the_backup_only_when_asked)
{
	struct stat st;

	backup("b", "--include-key");
	ck_assert_int_eq(stat(tu_path_in(dir, "b/log.key"), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(verify("b"), 0);
	ck_assert_ptr_nonnull(strstr(ran.out, "key: log.key is the log's key"));
	ck_assert_int_eq(chmod(tu_path_in(dir, "b/log.key"), 0640), 0);
	tu_assert_invalid(&ran, verify("b"), "mode 0600");
}
END_TEST

START_TEST(a_backup_never_overwrites)
{
	backup("b", "");
	ck_assert_int_eq(run("admin backup --data '%s' --out '%s'", tu_path_in(dir, "data"), tu_path_in(dir, "b")), 2);
	ck_assert_int_eq(verify("b"), 0);
}
END_TEST

START_TEST(damaged_backups_are_refused)
{
	uint8_t *text;
	size_t len;

	backup("b", "");
	/* Another log's key. */
	ck_assert_int_eq(run("keygen --name backup.test/log --out '%s'", tu_path_in(dir, "other.key")), 0);
	ran.out[strcspn(ran.out, "\n")] = '\0';
	{
		char other[512];

		snprintf(other, sizeof(other), "%s", ran.out);
		tu_assert_invalid(&ran, run("admin verify-backup --vkey '%s' '%s'", other, tu_path_in(dir, "b")),
			"another log");
	}
	/* A checkpoint file that is not the log's. */
	ck_assert_ptr_nonnull(text = tu_read_file(tu_path_in(dir, "b/checkpoint"), &len));
	text[len / 2] ^= 1;
	ck_assert_int_eq(tu_write_file(tu_path_in(dir, "b/checkpoint"), text, len), 0);
	free(text);
	tu_assert_invalid(&ran, verify("b"), "checkpoint");
	/* No backup at all. */
	ck_assert_int_eq(verify("nothing"), 2);
}
END_TEST

/* Overwrites, in the backup's database, the value of the first registry key that starts
 * with `prefix` (one byte flipped), as damage or tampering would. */
static void alter_registry(const char *name, char prefix)
{
	tl_db *db;
	rocksdb_column_family_handle_t *cf;
	rocksdb_iterator_t *it;
	rocksdb_writeoptions_t *w = rocksdb_writeoptions_create();
	char *key = NULL, *value = NULL, *err = NULL;
	size_t klen = 0, vlen = 0;

	ck_assert_int_eq(tl_db_open(&db, tu_path_in(dir, name), NULL, 0), 0);
	ck_assert_ptr_nonnull(cf = tl_db_cf(db, BD_REGISTRY_COLUMN_FAMILY));
	it = rocksdb_create_iterator_cf(tl_db_rocks(db), tl_db_read(db), cf);
	rocksdb_iter_seek(it, &prefix, 1);
	ck_assert(rocksdb_iter_valid(it));
	{
		const char *k = rocksdb_iter_key(it, &klen), *v = rocksdb_iter_value(it, &vlen);

		ck_assert(klen > 0 && k[0] == prefix && vlen > 0);
		ck_assert_ptr_nonnull(key = malloc(klen));
		ck_assert_ptr_nonnull(value = malloc(vlen));
		memcpy(key, k, klen);
		memcpy(value, v, vlen);
	}
	rocksdb_iter_destroy(it);
	value[vlen - 1] ^= 1;
	rocksdb_put_cf(tl_db_rocks(db), w, cf, key, klen, value, vlen, &err);
	ck_assert_msg(err == NULL, "%s", err);
	rocksdb_writeoptions_destroy(w);
	tl_db_close(db);
	free(key);
	free(value);
}

START_TEST(a_backup_whose_registry_is_not_the_logs_is_refused)
{
	tl_signer *k = tu_signer(1, "publisher.registry.test");
	char vkey[BD_MAX_VKEY + 1];
	const char *keys[1] = { vkey };

	tu_vkey(vkey, k);
	tu_api_register(&live, tu_path_in(dir, "data"), "registry.test", keys, 1, 201);
	backup("b", "");
	ck_assert_int_eq(verify("b"), 0);
	ck_assert_msg(strstr(ran.out, "registry: 1 domains, the one the log rebuilds") != NULL, "%s", ran.out);
	/* A domain's record changed in the registry alone: the log rebuilds another one. */
	alter_registry("b/db", 'D');
	tu_assert_invalid(&ran, verify("b"), "the stored registry is not the one the log rebuilds");
	ck_assert_ptr_nonnull(strstr(ran.err, "registry: "));
	/* The check changed nothing: the backup is still as altered, and still refused. */
	tu_assert_invalid(&ran, verify("b"), "the stored registry is not the one the log rebuilds");
	tl_signer_free(k);
}
END_TEST

START_TEST(a_restored_backup_serves_the_same_log_and_blocks)
{
	static const char *const paths[] = { "/checkpoint", "/tile/0/000", "/tile/0/001.p/44", "/tile/1/000.p/1",
		"/tile/entries/000", "/tile/entries/001.p/44", "/v1/log/entries/299" };
	struct tu_daemon restored;
	char block_path[256];
	uint8_t *cp;
	size_t cp_len;

	backup("b", "");
	/* The documented restore: the backup's db into a fresh data directory, the key from its
	 * own backup (here: the original file). */
	ck_assert_int_eq(mkdir(tu_path_in(dir, "r"), 0700), 0);
	ck_assert_int_eq(tu_system("cp -a '%s' '%s'", tu_path_in(dir, "b/db"), tu_path_in(dir, "r/db")), 0);
	ck_assert_int_eq(tu_system("cp -p '%s' '%s'", tu_path_in(dir, "data/log.key"), tu_path_in(dir, "r/log.key")), 0);
	ck_assert_int_eq(tu_daemon_start(&restored, tu_path_in(dir, "r"), NULL), 0);
	ck_assert_str_eq(restored.vkey, live.vkey);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		size_t a_len, b_len;
		char *a = get(&live, paths[i], &a_len), *b = get(&restored, paths[i], &b_len);

		ck_assert_msg(a_len == b_len && memcmp(a, b, a_len) == 0, "%s differs after the restore", paths[i]);
		free(a);
		free(b);
	}
	/* The checkpoint served is the one the backup recorded. */
	ck_assert_ptr_nonnull(cp = tu_read_file(tu_path_in(dir, "b/checkpoint"), &cp_len));
	{
		size_t len;
		char *served = get(&restored, "/checkpoint", &len);

		ck_assert(len == cp_len && memcmp(served, cp, len) == 0);
		free(served);
	}
	free(cp);
	snprintf(block_path, sizeof(block_path), "/ipfs/%s?format=raw", root_cid);
	{
		size_t a_len, b_len;
		char *a = get(&live, block_path, &a_len), *b = get(&restored, block_path, &b_len);

		ck_assert(a_len == b_len && a_len > 0 && memcmp(a, b, a_len) == 0);
		free(a);
		free(b);
	}
	ck_assert_int_eq(tu_daemon_stop(&restored), 0);
}
END_TEST

Suite *suite_admin_backup(void)
{
	Suite *s = suite_create("admin_backup");
	TCase *tc = tcase_create("backup");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, a_backup_of_the_running_daemon_verifies);
	tcase_add_test(tc, the_key_is_in_the_backup_only_when_asked);
	tcase_add_test(tc, a_backup_never_overwrites);
	tcase_add_test(tc, damaged_backups_are_refused);
	tcase_add_test(tc, a_backup_whose_registry_is_not_the_logs_is_refused);
	tcase_add_test(tc, a_restored_backup_serves_the_same_log_and_blocks);
	suite_add_tcase(s, tc);
	return s;
}
