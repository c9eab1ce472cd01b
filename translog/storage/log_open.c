/*
 * Opening a log: reading back the stored state and checking it before anything is served
 * (the edge tiles and bundle must be exactly as wide as the checkpoint says, the last full
 * tiles must hash to their parents, and the rebuilt frontier must give the signed root).
 */
#include "log_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

enum {
	DEFAULT_MAX_BATCH = 4096,
	DEFAULT_CACHE_TILES = 1024,
	MAX_NOTE_BYTES = 16384,
};

static int read_meta(char **value, size_t *len, tl_log *log, const char *name)
{
	return tl_db_get(value, len, log->db, log->cf_meta, name, strlen(name));
}

/* Loads the rightmost tile of each level and the rightmost bundle into the committer's
 * state, checking that they are exactly as wide as the tree size says and that the
 * entries hash to the level-0 tile. */
static int load_edges(tl_log *log, uint64_t size)
{
	tl_buf data = tl_buf_make(LOG_MAX_BUNDLE_BYTES);
	struct log_blob b;
	int err = 0;

	for (unsigned l = 0; l < LOG_LEVELS; l++) {
		struct log_edge *e = &log->stage[l];
		uint64_t hashes = size >> (TL_TILE_HEIGHT * l);

		memset(e, 0, sizeof(*e));
		e->index = hashes / TL_TILE_WIDTH;
		e->width = (unsigned)(hashes % TL_TILE_WIDTH);
		tl_buf_reset(&data);
		if ((err = tl_log__read_blob(&data, &b, log, false, l, e->index, TL_TILE_WIDTH)) != 0)
			goto out;
		if (b.full || b.units != e->width) {
			err = tl_error_set(TL_E_INTERNAL,
				"log storage is corrupt: tile %u/%llu holds %u hashes, tree size %llu needs %u", l,
				(unsigned long long)e->index, b.full ? TL_TILE_WIDTH : b.units,
				(unsigned long long)size, e->width);
			goto out;
		}
		if (data.len)
			memcpy(e->nodes, data.data, data.len);
		e->pieces = b.pieces;
		tl_tile_expand(e->nodes, 0, e->width);
		if (e->index > 0) {
			uint8_t key[LOG_TILE_KEY_MAX];
			char *v;
			size_t vlen;

			if ((err = tl_db_get(&v, &vlen, log->db, log->cf_tiles, key,
					     tl_log__tile_key(key, l, e->index - 1, -1))) != 0) {
				if (err == TL_E_NOTFOUND)
					err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: full tile %u/%llu is missing",
						l, (unsigned long long)e->index - 1);
				goto out;
			}
			free(v);
		}
	}

	log->bundle.index = size / TL_TILE_WIDTH;
	tl_buf_reset(&log->bundle.buf);
	if ((err = tl_log__read_blob(&log->bundle.buf, &b, log, true, 0, log->bundle.index, TL_TILE_WIDTH)) != 0)
		goto out;
	log->bundle.count = b.units;
	log->bundle.pieces = b.pieces;
	if (b.full || b.units != size % TL_TILE_WIDTH) {
		err = tl_error_set(TL_E_INTERNAL,
			"log storage is corrupt: entry bundle %llu holds %u entries, tree size %llu needs %u",
			(unsigned long long)log->bundle.index, b.units, (unsigned long long)size,
			(unsigned)(size % TL_TILE_WIDTH));
		goto out;
	}
	{
		tl_cursor c = tl_cursor_make(log->bundle.buf.data, log->bundle.buf.len);

		for (unsigned i = 0; i < log->bundle.count; i++) {
			uint16_t elen;
			const uint8_t *e;
			tl_hash leaf;

			if (tl_cursor_u16be(&elen, &c) != 0 || tl_cursor_take(&e, &c, elen) != 0) {
				err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: truncated entry bundle");
				goto out;
			}
			tl_hash_leaf(&leaf, e, elen);
			if (!tl_hash_equal(&leaf, &log->stage[0].nodes[i])) {
				err = tl_error_set(TL_E_INTERNAL,
					"log storage is corrupt: entry %llu does not hash to its tile",
					(unsigned long long)(log->bundle.index * TL_TILE_WIDTH + i));
				goto out;
			}
		}
	}
	if (log->bundle.index > 0) {
		uint8_t key[LOG_BUNDLE_KEY_MAX];
		char *v;
		size_t vlen;

		if ((err = tl_db_get(&v, &vlen, log->db, log->cf_entries, key,
				     tl_log__bundle_key(key, log->bundle.index - 1, -1))) != 0) {
			if (err == TL_E_NOTFOUND)
				err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: entry bundle %llu is missing",
					(unsigned long long)log->bundle.index - 1);
			goto out;
		}
		free(v);
	}
out:
	tl_buf_free(&data);
	return err;
}

/* The last full tile of each level is where a torn or damaged write would show first: its
 * inner nodes must follow from its base hashes, and its hash must be the one the level
 * above holds. 255 hashes per level. */
static int check_last_full_tiles(tl_log *log)
{
	tl_hash *fresh = malloc(TL_TILE_NODES * sizeof(tl_hash));
	int err = 0;

	if (fresh == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	for (unsigned l = 0; l + 1 < LOG_LEVELS; l++) {
		uint64_t n = log->stage[l].index;
		const uint8_t *stored;
		size_t len;
		void *pin;
		tl_hash top, above;
		bool same;

		if (n == 0)
			continue;
		if ((err = tl_log__pin_full(&stored, &len, &pin, log, false, l, n - 1)) != 0)
			goto out;
		memcpy(fresh, stored, TL_TILE_WIDTH * sizeof(tl_hash));
		tl_tile_expand(fresh, 0, TL_TILE_WIDTH);
		same = memcmp(stored, fresh, TL_TILE_NODES * sizeof(tl_hash)) == 0;
		tl_db_release(pin);
		tl_hash_node(&top, &fresh[tl_tile_node_slot(7, 0)], &fresh[tl_tile_node_slot(7, 1)]);
		if ((err = tl_log__node(&above, log, TL_TILE_HEIGHT * (l + 1), n - 1)) != 0)
			goto out;
		if (!same || !tl_hash_equal(&top, &above)) {
			err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: tile %u/%llu does not hash to its parent",
				l, (unsigned long long)(n - 1));
			goto out;
		}
	}
out:
	free(fresh);
	return err;
}

static bool cf_empty(tl_log *log, rocksdb_column_family_handle_t *cf)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(tl_db_rocks(log->db), tl_db_read(log->db), cf);
	bool empty;

	rocksdb_iter_seek_to_first(it);
	empty = !rocksdb_iter_valid(it);
	rocksdb_iter_destroy(it);
	return empty;
}

/* Reads and checks the stored state; a database without one gets an empty log. */
static int load(tl_log *log)
{
	char *note = NULL;
	size_t note_len = 0;
	int err;
	tl_checkpoint cp;
	tl_hash root;

	if ((err = read_meta(&note, &note_len, log, tl_log__meta_checkpoint)) == TL_E_NOTFOUND) {
		if (!cf_empty(log, log->cf_tiles) || !cf_empty(log, log->cf_entries)) {
			err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: tiles or entries without a checkpoint");
			goto out;
		}
		tl_frontier_init(&log->frontier);
		if ((err = load_edges(log, 0)) != 0)
			goto out;
		/* A replica has no checkpoint of its own to sign: it waits for the origin's. */
		if (log->key != NULL)
			err = tl_log__commit_empty(log);
		else
			tl_hash_empty(&log->root);
		goto out;
	}
	if (err)
		goto out;
	if ((err = tl_checkpoint_open(&cp, (const uint8_t *)note, note_len, log->verifier)) != 0) {
		err = tl_error_wrap(TL_E_CONFLICT, "the stored checkpoint does not verify with the key of %s",
			log->origin);
		goto out;
	}
	if (strcmp(cp.origin, log->origin) != 0) {
		err = tl_error_set(TL_E_CONFLICT, "the stored log is %s, not %s", cp.origin, log->origin);
		goto out;
	}
	if (cp.size >= TL_MAX_TREE_SIZE) {
		err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: checkpoint size %llu",
			(unsigned long long)cp.size);
		goto out;
	}
	if ((err = load_edges(log, cp.size)) != 0)
		goto out;
	log->size = cp.size;
	log->root = cp.root;
	tl_buf_reset(&log->checkpoint);
	if ((err = tl_buf_append(&log->checkpoint, note, note_len)) != 0)
		goto out;
	for (unsigned l = 0; l < LOG_LEVELS; l++)
		tl_log__edge_copy(&log->pub[l], &log->stage[l]);
	log->stats.size = cp.size;
	if ((err = check_last_full_tiles(log)) != 0)
		goto out;
	/* The frontier comes from the stored tiles, and must give the checkpoint's root. */
	if ((err = tl_frontier_load(&log->frontier, cp.size, tl_log__node, log)) != 0) {
		err = tl_error_wrap(TL_E_INTERNAL, "log storage is corrupt: rebuilding the frontier");
		goto out;
	}
	tl_frontier_root(&log->frontier, &root);
	if (!tl_hash_equal(&root, &cp.root))
		err = tl_error_set(TL_E_INTERNAL,
			"log storage is corrupt: the stored tiles do not give the checkpoint's root at size %llu",
			(unsigned long long)cp.size);
out:
	free(note);
	return err;
}

/* The log of `key` (a sequencer), or with key NULL of `v` (a replica). */
static int open_log(tl_log **out, tl_db *db, const tl_signer *key, const tl_verifier *v,
	const struct tl_log_options *opts)
{
	tl_log *log = calloc(1, sizeof(*log));
	size_t ncache = opts && opts->cache_tiles >= 4 ? opts->cache_tiles : DEFAULT_CACHE_TILES;
	const char *origin;
	size_t origin_len;
	int err = 0;

	if (log == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	pthread_mutex_init(&log->qlock, NULL);
	pthread_mutex_init(&log->commit_lock, NULL);
	pthread_cond_init(&log->qcond, NULL);
	pthread_rwlock_init(&log->lock, NULL);
	pthread_mutex_init(&log->cache_lock, NULL);
	log->db = db;
	log->key = key;
	log->max_batch = opts && opts->max_batch ? opts->max_batch : DEFAULT_MAX_BATCH;
	log->bundle.buf = tl_buf_make(LOG_MAX_BUNDLE_BYTES);
	log->note = tl_buf_make(MAX_NOTE_BYTES);
	log->checkpoint = tl_buf_make(MAX_NOTE_BYTES);
	log->cf_tiles = tl_db_cf(db, tl_log_column_families[0]);
	log->cf_entries = tl_db_cf(db, tl_log_column_families[1]);
	log->cf_meta = tl_db_cf(db, tl_log_column_families[2]);
	if (log->cf_tiles == NULL || log->cf_entries == NULL || log->cf_meta == NULL) {
		err = tl_error_set(TL_E_INTERNAL, "the database was opened without the log's column families");
		goto out;
	}
	if (key != NULL && (err = tl_verifier_from_signer(&log->own_verifier, key)) != 0)
		goto out;
	log->verifier = key != NULL ? log->own_verifier : v;
	origin = tl_verifier_name(log->verifier);
	if ((origin_len = strlen(origin)) > TL_MAX_ORIGIN) {
		err = tl_error_set(TL_E_INPUT, "log origin is longer than %d bytes", TL_MAX_ORIGIN);
		goto out;
	}
	memcpy(log->origin, origin, origin_len + 1);
	log->ncache = ncache;
	if ((log->cache = calloc(ncache, sizeof(*log->cache))) == NULL || (log->wb = rocksdb_writebatch_create()) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = load(log)) != 0)
		goto out;
	if (pthread_create(&log->committer, NULL, tl_log__committer_main, log) != 0) {
		err = tl_error_set(TL_E_INTERNAL, "cannot start the log committer thread");
		goto out;
	}
	log->committer_running = true;
out:
	if (err) {
		tl_log_close(log);
		return err;
	}
	*out = log;
	return 0;
}

int tl_log_open(tl_log **out, tl_db *db, const tl_signer *key, const struct tl_log_options *opts)
{
	assert(out != NULL && db != NULL && key != NULL);
	return open_log(out, db, key, NULL, opts);
}

int tl_log_open_replica(tl_log **out, tl_db *db, const tl_verifier *v, const struct tl_log_options *opts)
{
	assert(out != NULL && db != NULL && v != NULL);
	if (tl_verifier_type(v) != 0x01)
		return tl_error_set(TL_E_INPUT, "a log's verifier key is of type 0x01 (Ed25519), not 0x%02x",
			tl_verifier_type(v));
	return open_log(out, db, NULL, v, opts);
}

void tl_log_close(tl_log *log)
{
	if (log == NULL)
		return;
	if (log->committer_running) {
		pthread_mutex_lock(&log->qlock);
		log->stopping = true;
		pthread_cond_signal(&log->qcond);
		pthread_mutex_unlock(&log->qlock);
		pthread_join(log->committer, NULL);
	}
	pthread_mutex_destroy(&log->qlock);
	pthread_mutex_destroy(&log->commit_lock);
	pthread_cond_destroy(&log->qcond);
	pthread_rwlock_destroy(&log->lock);
	pthread_mutex_destroy(&log->cache_lock);
	if (log->wb)
		rocksdb_writebatch_destroy(log->wb);
	free(log->cache);
	tl_verifier_free(log->own_verifier);
	tl_buf_free(&log->bundle.buf);
	tl_buf_free(&log->note);
	tl_buf_free(&log->checkpoint);
	free(log);
}
