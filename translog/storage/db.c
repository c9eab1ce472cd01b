#include "translog/db.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_COLUMN_FAMILIES = 32 };

struct tl_db {
	rocksdb_t *rocks;
	rocksdb_options_t *options;
	rocksdb_writeoptions_t *sync_write;
	rocksdb_readoptions_t *read;
	rocksdb_readoptions_t *scan_read;
	rocksdb_block_based_table_options_t *table;
	rocksdb_cache_t *cache;
	size_t ncf;
	char *cf_names[MAX_COLUMN_FAMILIES];
	rocksdb_column_family_handle_t *cfs[MAX_COLUMN_FAMILIES];
};

static int add_name(char **names, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(names[i], name) == 0)
			return 0;
	if (*n == MAX_COLUMN_FAMILIES)
		return tl_error_set(TL_E_INTERNAL, "more than %d column families", MAX_COLUMN_FAMILIES);
	if ((names[*n] = strdup(name)) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	(*n)++;
	return 0;
}

/* Block-based tables with one shared block cache and, unless turned off, full bloom filters
 * (so a point read skips the table files that cannot hold its key). */
static void set_table(tl_db *db, const struct tl_db_options *opts)
{
	size_t cache = opts && opts->cache_bytes ? opts->cache_bytes : TL_DB_DEFAULT_CACHE_BYTES;
	int bloom = opts && opts->bloom_bits ? opts->bloom_bits : 10;

	db->cache = rocksdb_cache_create_lru(cache);
	db->table = rocksdb_block_based_options_create();
	rocksdb_block_based_options_set_block_cache(db->table, db->cache);
	if (bloom > 0)
		/* The table options own the policy from here on. */
		rocksdb_block_based_options_set_filter_policy(db->table, rocksdb_filterpolicy_create_bloom_full(bloom));
	/* Pinned level-0 index and filter blocks and optimize_filters_for_hits were measured
	 * and left out: no gain, and the second loses the filters' gain on absent keys
	 * (docs/storage.md, "Block cache and filters"). */
	rocksdb_options_set_block_based_table_factory(db->options, db->table);
}

static int db_open(tl_db **out, const char *path, const char *const *cf_names, size_t n,
	const struct tl_db_options *opts, int read_only)
{
	tl_db *db = calloc(1, sizeof(*db));
	const rocksdb_options_t *cf_opts[MAX_COLUMN_FAMILIES];
	char **existing = NULL;
	size_t nexisting = 0;
	char *errptr = NULL;
	int err = 0;

	if (db == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	db->options = rocksdb_options_create();
	rocksdb_options_set_create_if_missing(db->options, !read_only);
	rocksdb_options_set_create_missing_column_families(db->options, !read_only);
	/* The log is small-write heavy; a modest write buffer keeps memory predictable. */
	rocksdb_options_set_write_buffer_size(db->options, 32u << 20);
	rocksdb_options_set_compression(db->options, rocksdb_lz4_compression);
	/* Check every table file's checksums as it is opened, and fail on any inconsistency
	 * rather than carry on (RocksDB's default, set so it stays so): together with the
	 * block checksums every read verifies, this is what lets readers trust stored bytes
	 * without re-hashing them (docs/storage.md, "Read-time verification"). */
	rocksdb_options_set_paranoid_checks(db->options, 1);
	set_table(db, opts);
	db->sync_write = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(db->sync_write, 1);
	db->read = rocksdb_readoptions_create();
	rocksdb_readoptions_set_verify_checksums(db->read, 1);
	db->scan_read = rocksdb_readoptions_create();
	rocksdb_readoptions_set_verify_checksums(db->scan_read, 1);
	rocksdb_readoptions_set_fill_cache(db->scan_read, 0);

	existing = rocksdb_list_column_families(db->options, path, &nexisting, &errptr);
	if (errptr != NULL && read_only) {
		err = tl_error_set(TL_E_IO, "opening database %s: %s", path, errptr);
		rocksdb_free(errptr);
		goto out;
	}
	if (errptr != NULL) {
		/* A database that does not exist yet has no column families to list. */
		rocksdb_free(errptr);
		errptr = NULL;
		nexisting = 0;
	}
	if ((err = add_name(db->cf_names, &db->ncf, "default")) != 0)
		goto out;
	for (size_t i = 0; i < nexisting; i++)
		if ((err = add_name(db->cf_names, &db->ncf, existing[i])) != 0)
			goto out;
	for (size_t i = 0; i < n; i++)
		if ((err = add_name(db->cf_names, &db->ncf, cf_names[i])) != 0)
			goto out;
	for (size_t i = 0; i < db->ncf; i++)
		cf_opts[i] = db->options;

	if (read_only)
		db->rocks = rocksdb_open_for_read_only_column_families(db->options, path, (int)db->ncf,
			(const char *const *)db->cf_names, cf_opts, db->cfs, 0, &errptr);
	else
		db->rocks = rocksdb_open_column_families(db->options, path, (int)db->ncf,
			(const char *const *)db->cf_names, cf_opts, db->cfs, &errptr);
	if (errptr != NULL) {
		err = tl_error_set(TL_E_IO, "opening database %s: %s", path, errptr);
		rocksdb_free(errptr);
		goto out;
	}
out:
	if (existing)
		rocksdb_list_column_families_destroy(existing, nexisting);
	if (err) {
		tl_db_close(db);
		return err;
	}
	*out = db;
	return 0;
}

int tl_db_open(tl_db **out, const char *path, const char *const *cf_names, size_t n)
{
	return db_open(out, path, cf_names, n, NULL, 0);
}

int tl_db_open_with(tl_db **out, const char *path, const char *const *cf_names, size_t n,
	const struct tl_db_options *opts)
{
	return db_open(out, path, cf_names, n, opts, 0);
}

int tl_db_open_read_only(tl_db **out, const char *path)
{
	return db_open(out, path, NULL, 0, NULL, 1);
}

rocksdb_column_family_handle_t *tl_db_cf(tl_db *db, const char *name)
{
	for (size_t i = 0; i < db->ncf; i++)
		if (strcmp(db->cf_names[i], name) == 0)
			return db->cfs[i];
	return NULL;
}

rocksdb_t *tl_db_rocks(tl_db *db)
{
	return db->rocks;
}

const rocksdb_writeoptions_t *tl_db_sync_write(tl_db *db)
{
	return db->sync_write;
}

const rocksdb_readoptions_t *tl_db_read(tl_db *db)
{
	return db->read;
}

int tl_db_write(tl_db *db, rocksdb_writebatch_t *batch)
{
	char *errptr = NULL;

	rocksdb_write(db->rocks, db->sync_write, batch, &errptr);
	if (errptr != NULL) {
		int err = tl_error_set(TL_E_IO, "database write failed: %s", errptr);

		rocksdb_free(errptr);
		return err;
	}
	return 0;
}

/* A point read that found nothing: TL_E_IO with RocksDB's message, or TL_E_NOTFOUND. */
static int read_failed(char *errptr)
{
	int err;

	if (errptr == NULL)
		return tl_error_set(TL_E_NOTFOUND, "key not found");
	err = tl_error_set(TL_E_IO, "database read failed: %s", errptr);
	rocksdb_free(errptr);
	return err;
}

int tl_db_get(char **value, size_t *len, tl_db *db, rocksdb_column_family_handle_t *cf,
	const void *key, size_t key_len)
{
	char *errptr = NULL;
	char *v = rocksdb_get_cf(db->rocks, db->read, cf, key, key_len, len, &errptr);

	if (errptr != NULL || v == NULL)
		return read_failed(errptr);
	*value = v;
	return 0;
}

int tl_db_get_pinned(const uint8_t **data, size_t *len, void **pin, tl_db *db, rocksdb_column_family_handle_t *cf,
	const void *key, size_t key_len)
{
	char *errptr = NULL;
	rocksdb_pinnableslice_t *s = rocksdb_get_pinned_cf(db->rocks, db->read, cf, key, key_len, &errptr);
	const char *v;

	if (errptr != NULL || s == NULL)
		return read_failed(errptr);
	v = rocksdb_pinnableslice_value(s, len);
	/* An empty value may come back as NULL: hand out a pointer all the same. */
	*data = v != NULL ? (const uint8_t *)v : (const uint8_t *)"";
	*pin = s;
	return 0;
}

void tl_db_release(void *pin)
{
	rocksdb_pinnableslice_destroy(pin);
}

const rocksdb_readoptions_t *tl_db_scan_read(tl_db *db)
{
	return db->scan_read;
}

void tl_db_close(tl_db *db)
{
	if (db == NULL)
		return;
	for (size_t i = 0; i < db->ncf; i++) {
		if (db->cfs[i])
			rocksdb_column_family_handle_destroy(db->cfs[i]);
		free(db->cf_names[i]);
	}
	if (db->rocks)
		rocksdb_close(db->rocks);
	rocksdb_readoptions_destroy(db->read);
	rocksdb_readoptions_destroy(db->scan_read);
	rocksdb_writeoptions_destroy(db->sync_write);
	rocksdb_options_destroy(db->options);
	rocksdb_block_based_options_destroy(db->table);
	if (db->cache)
		rocksdb_cache_destroy(db->cache);
	free(db);
}
