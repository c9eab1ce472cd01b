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
#include <stdint.h>

#include <rocksdb/c.h>

#include "translog/error.h"

typedef struct tl_db tl_db;

/* Default size of the block cache shared by every column family (see docs/storage.md,
 * "Read path", for how it was chosen). */
#define TL_DB_DEFAULT_CACHE_BYTES ((size_t)128 << 20)

/* How the database is tuned; zero-initialise and set what differs from the defaults. */
struct tl_db_options {
	/* Bytes of RocksDB's LRU block cache, shared by every column family: 0 means
	 * TL_DB_DEFAULT_CACHE_BYTES. It holds uncompressed data blocks, index and filter
	 * blocks: the reads of tiles, bundles and blocks that miss it pay a read and an LZ4
	 * decompression of a whole data block. */
	size_t cache_bytes;
	/* Bits per key of the full bloom filters kept per table file: 0 means the default
	 * (10, about 1 % false positives), negative means no filters. */
	int bloom_bits;
};

/* Opens (creating if needed) the database in directory `path`. Every column family already
 * in the database is opened, and those named in `cf_names` (n of them) are created if
 * missing, so modules can be added to an existing data directory. Default tuning. */
int tl_db_open(tl_db **out, const char *path, const char *const *cf_names, size_t n) TL_MUST_USE;

/* Opens the database in directory `path` read-only, with every column family it has:
 * nothing is created or written (TL_E_IO if there is no database there). For checking a
 * copy, such as a backup; a database another process is writing is copied with
 * tl_db_backup instead. Writes through it fail. */
int tl_db_open_read_only(tl_db **out, const char *path) TL_MUST_USE;

/* Copies a consistent snapshot of the database in `src` into a new database in `dst`
 * (which must not exist yet; its parent must), while another process may hold `src` open
 * and keep writing to it: `src` is opened as a RocksDB secondary instance (which takes no
 * lock), caught up with the writer once, and every column family is copied key by key
 * through one implicit snapshot, then the copy is synced. The secondary instance keeps its
 * own small files in `scratch` (a directory that must not exist; it is removed again).
 *
 * The copy is what the writer had written at one instant, except in one rare race: if the
 * writer flushes and deletes a write-ahead log while the secondary instance opens, writes
 * from that log can be missing from the copy (RocksDB's secondary instances offer no
 * stronger guarantee). Callers check the copy and take it again if it is inconsistent
 * (bundlectl admin backup does). */
int tl_db_backup(const char *dst, const char *src, const char *scratch) TL_MUST_USE;

/* Deletes the database in `path` and its directory: a copy that failed its checks. */
int tl_db_remove(const char *path) TL_MUST_USE;

/* The same with explicit tuning; `opts` may be NULL (the defaults). */
int tl_db_open_with(tl_db **out, const char *path, const char *const *cf_names, size_t n,
	const struct tl_db_options *opts) TL_MUST_USE;

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

/* Reads a value without copying it: *data points at the value where RocksDB holds it (its
 * block cache or memtable) and stays valid, unchanged, until tl_db_release(*pin), which must
 * be called exactly once (before tl_db_close). The signature fits a borrowed HTTP reply's
 * release callback (bd_httpd_reply_borrowed(res, ..., data, len, tl_db_release, pin)).
 * TL_E_NOTFOUND if absent (nothing to release). */
int tl_db_get_pinned(const uint8_t **data, size_t *len, void **pin, tl_db *db, rocksdb_column_family_handle_t *cf,
	const void *key, size_t key_len) TL_MUST_USE;
void tl_db_release(void *pin);

/* Read options for a full scan (a scrub, a backup): checksums verified, and what is read
 * does not push the hot blocks out of the block cache. */
const rocksdb_readoptions_t *tl_db_scan_read(tl_db *db);

void tl_db_close(tl_db *db);

#endif
