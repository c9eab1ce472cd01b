/*
 * An online copy of a database that another process (the daemon) holds open and writes.
 *
 * Why not RocksDB's checkpoint API (rocksdb_checkpoint_create): it must run on a handle of
 * the database, and from a second process that can only be a read-only or secondary
 * instance. Tried against a live writer, a checkpoint taken that way hard-links the
 * writer's live write-ahead log into the backup (which then keeps changing after it was
 * "taken") and fails with ENOENT whenever the writer deletes a log or table file between
 * listing and linking it (a third of the attempts under a flushing writer). A key-by-key copy
 * through a secondary instance has neither problem: the instance opens every table file when
 * it opens (max_open_files -1), so files the writer deletes afterwards stay readable, and
 * the copy owns every byte it holds. See docs/operations.md, "Backup and restore".
 */
#include "translog/db.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_BACKUP_CFS = 32, BACKUP_PATH_MAX = 4096 };
/* Bytes per write batch of the copy: bounds the copier's memory, whatever the values. */
#define BACKUP_BATCH_BYTES (4u << 20)

static int rocks_failed(const char *what, const char *path, char *errptr)
{
	int err = tl_error_set(TL_E_IO, "backup: %s %s: %s", what, path, errptr);

	rocksdb_free(errptr);
	return err;
}

/* Removes `dir` and the plain files in it (a secondary instance's info logs). */
static void remove_scratch(const char *dir)
{
	char path[BACKUP_PATH_MAX];
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < sizeof(path))
			(void)unlink(path);
	}
	closedir(d);
	(void)rmdir(dir);
}

/* Copies one column family of `src` into its namesake in `dst`, in batches. */
static int copy_cf(rocksdb_t *dst, rocksdb_column_family_handle_t *dcf, rocksdb_t *src,
	rocksdb_column_family_handle_t *scf, const rocksdb_readoptions_t *ro, const rocksdb_writeoptions_t *wo,
	const char *name)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(src, ro, scf);
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	size_t pending = 0;
	char *errptr = NULL;
	int err = 0;

	if (it == NULL || wb == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen), *v = rocksdb_iter_value(it, &vlen);

		rocksdb_writebatch_put_cf(wb, dcf, k, klen, v, vlen);
		pending += klen + vlen;
		if (pending >= BACKUP_BATCH_BYTES) {
			rocksdb_write(dst, wo, wb, &errptr);
			if (errptr != NULL) {
				err = rocks_failed("writing column family", name, errptr);
				goto out;
			}
			rocksdb_writebatch_clear(wb);
			pending = 0;
		}
	}
	rocksdb_iter_get_error(it, &errptr);
	if (errptr != NULL) {
		err = rocks_failed("reading column family", name, errptr);
		goto out;
	}
	rocksdb_write(dst, wo, wb, &errptr);
	if (errptr != NULL)
		err = rocks_failed("writing column family", name, errptr);
out:
	if (wb != NULL)
		rocksdb_writebatch_destroy(wb);
	if (it != NULL)
		rocksdb_iter_destroy(it);
	return err;
}

int tl_db_backup(const char *dst, const char *src, const char *scratch)
{
	rocksdb_options_t *sopts = rocksdb_options_create(), *dopts = rocksdb_options_create();
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create(), *wsync = rocksdb_writeoptions_create();
	rocksdb_column_family_handle_t *scfs[MAX_BACKUP_CFS] = { 0 }, *dcfs[MAX_BACKUP_CFS] = { 0 };
	const rocksdb_options_t *cf_opts[MAX_BACKUP_CFS];
	rocksdb_writebatch_t *empty = rocksdb_writebatch_create();
	rocksdb_t *s = NULL, *d = NULL;
	char **names = NULL;
	size_t n = 0;
	char *errptr = NULL;
	int err = 0, made_scratch = 0;
	struct stat st;

	if (sopts == NULL || dopts == NULL || ro == NULL || wo == NULL || wsync == NULL || empty == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if (stat(dst, &st) == 0 || errno != ENOENT) {
		err = tl_error_set(TL_E_CONFLICT, "backup: %s already exists", dst);
		goto out;
	}
	if (mkdir(scratch, 0700) != 0) {
		err = tl_error_set(TL_E_IO, "backup: creating %s: %s", scratch, strerror(errno));
		goto out;
	}
	made_scratch = 1;
	names = rocksdb_list_column_families(sopts, src, &n, &errptr);
	if (errptr != NULL) {
		err = rocks_failed("no database at", src, errptr);
		goto out;
	}
	if (n > MAX_BACKUP_CFS) {
		err = tl_error_set(TL_E_INPUT, "backup: %s has %zu column families, more than %d", src, n, MAX_BACKUP_CFS);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		cf_opts[i] = sopts;
	/* A secondary instance must keep every table file open: the writer may delete them. */
	rocksdb_options_set_max_open_files(sopts, -1);
	s = rocksdb_open_as_secondary_column_families(sopts, src, scratch, (int)n, (const char *const *)names, cf_opts,
		scfs, &errptr);
	if (errptr == NULL)
		rocksdb_try_catch_up_with_primary(s, &errptr);
	if (errptr != NULL) {
		err = rocks_failed("opening", src, errptr);
		goto out;
	}

	rocksdb_options_set_create_if_missing(dopts, 1);
	rocksdb_options_set_create_missing_column_families(dopts, 1);
	rocksdb_options_set_error_if_exists(dopts, 1);
	rocksdb_options_set_compression(dopts, rocksdb_lz4_compression);
	for (size_t i = 0; i < n; i++)
		cf_opts[i] = dopts;
	d = rocksdb_open_column_families(dopts, dst, (int)n, (const char *const *)names, cf_opts, dcfs, &errptr);
	if (errptr != NULL) {
		err = rocks_failed("creating", dst, errptr);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((err = copy_cf(d, dcfs[i], s, scfs[i], ro, wo, names[i])) != 0)
			goto out;
	/* One synced write makes every write before it durable (the log is sequential). */
	rocksdb_writeoptions_set_sync(wsync, 1);
	rocksdb_write(d, wsync, empty, &errptr);
	if (errptr != NULL)
		err = rocks_failed("syncing", dst, errptr);
out:
	for (size_t i = 0; i < n && i < MAX_BACKUP_CFS; i++) {
		if (dcfs[i] != NULL)
			rocksdb_column_family_handle_destroy(dcfs[i]);
		if (scfs[i] != NULL)
			rocksdb_column_family_handle_destroy(scfs[i]);
	}
	if (d != NULL)
		rocksdb_close(d);
	if (s != NULL)
		rocksdb_close(s);
	if (err && d != NULL) {
		/* A partial copy must not look like a backup; the first error is the one reported. */
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", tl_error_message());
		if (tl_db_remove(dst) != 0)
			err = tl_error_set(err, "%s (and the partial copy %s could not be removed)", msg, dst);
		else
			(void)tl_error_set(err, "%s", msg);
	}
	if (names != NULL)
		rocksdb_list_column_families_destroy(names, n);
	if (made_scratch)
		remove_scratch(scratch);
	if (empty != NULL)
		rocksdb_writebatch_destroy(empty);
	rocksdb_writeoptions_destroy(wsync);
	rocksdb_writeoptions_destroy(wo);
	rocksdb_readoptions_destroy(ro);
	rocksdb_options_destroy(dopts);
	rocksdb_options_destroy(sopts);
	return err;
}

int tl_db_remove(const char *path)
{
	rocksdb_options_t *opts = rocksdb_options_create();
	char *errptr = NULL;
	int err = 0;

	if (opts == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	rocksdb_destroy_db(opts, path, &errptr);
	if (errptr != NULL)
		err = rocks_failed("removing", path, errptr);
	else if (rmdir(path) != 0 && errno != ENOENT)
		err = tl_error_set(TL_E_IO, "removing %s: %s", path, strerror(errno));
	rocksdb_options_destroy(opts);
	return err;
}
