/*
 * One RocksDB database per bundled data directory, shared by the transparency log and the
 * bundled core (block store, pin queue): each module keeps its keys in its own column
 * family, so the daemon needs one database, one WAL and one fsync per group commit.
 *
 * Part of libtranslog-storage (pkg-config translog-storage), the RocksDB-backed half of
 * translog; the rest of translog links without RocksDB.
 */
#ifndef TRANSLOG_DB_H
#define TRANSLOG_DB_H

#include <stddef.h>

#include <rocksdb/c.h>

#include "translog/error.h"

typedef struct tl_db tl_db;

/* Opens (creating if needed) the database in directory `path`. Every column family already
 * in the database is opened, and those named in `cf_names` (n of them) are created if
 * missing, so modules can be added to an existing data directory. */
int tl_db_open(tl_db **out, const char *path, const char *const *cf_names, size_t n) TL_MUST_USE;

/* The handle of a column family opened or created by tl_db_open, or NULL. */
rocksdb_column_family_handle_t *tl_db_cf(tl_db *db, const char *name);

/* The raw RocksDB handle, for reads and write batches. */
rocksdb_t *tl_db_rocks(tl_db *db);

/* Write options that sync the WAL before returning (durable), and read options. */
const rocksdb_writeoptions_t *tl_db_sync_write(tl_db *db);
const rocksdb_readoptions_t *tl_db_read(tl_db *db);

/* Applies a batch durably (one fsync). */
int tl_db_write(tl_db *db, rocksdb_writebatch_t *batch) TL_MUST_USE;

/* Reads a value; *value is malloc'ed (free it). TL_E_NOTFOUND if absent. */
int tl_db_get(char **value, size_t *len, tl_db *db, rocksdb_column_family_handle_t *cf,
	const void *key, size_t key_len) TL_MUST_USE;

void tl_db_close(tl_db *db);

#endif
