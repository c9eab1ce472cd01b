/*
 * The log: storage layout, open (with its consistency checks), appends, reads and proofs.
 * The committer is in log_commit.c.
 *
 * Column families and keys (big-endian numbers; see docs/storage.md):
 *   tl_tiles    L(1) N(8)        a full tile: 256 base hashes, then its 254 inner nodes
 *               L(1) N(8) S(1)   a piece of the partial tile N: base hashes S.. added by one commit
 *   tl_entries  N(8)             a full entry bundle, exactly as served
 *               N(8) S(1)        a piece of the partial bundle N: entries S.. added by one commit
 *   tl_meta     "checkpoint"     the signed checkpoint note of the last commit
 * A full value sorts right before its pieces, so one iterator seek finds either. The
 * checkpoint is the one record of the tree size; the frontier is rebuilt from the tiles.
 */
#include "log_internal.h"

#include <stdlib.h>
#include <string.h>

const char *const tl_log_column_families[TL_LOG_COLUMN_FAMILY_COUNT] = { "tl_tiles", "tl_entries", "tl_meta" };
const char log_meta_checkpoint[] = "checkpoint";

enum {
	DEFAULT_MAX_BATCH = 4096,
	DEFAULT_CACHE_TILES = 1024,
	/* A bundle of 256 entries of TL_LOG_MAX_ENTRY bytes with their length prefixes. */
	MAX_BUNDLE_BYTES = TL_TILE_WIDTH * (2 + TL_LOG_MAX_ENTRY),
	MAX_NOTE_BYTES = 16384,
	SMALL_APPEND = 16,
};

static void put_u64be(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

size_t log_tile_key(uint8_t *key, unsigned level, uint64_t index, int piece)
{
	key[0] = (uint8_t)level;
	put_u64be(key + 1, index);
	if (piece < 0)
		return 9;
	key[9] = (uint8_t)piece;
	return 10;
}

size_t log_bundle_key(uint8_t *key, uint64_t index, int piece)
{
	put_u64be(key, index);
	if (piece < 0)
		return 8;
	key[8] = (uint8_t)piece;
	return 9;
}

void log_edge_copy(struct log_edge *dst, const struct log_edge *src)
{
	/* Nodes below the old width are immutable, so only what the batch added is copied,
	 * unless the tile itself changed. */
	unsigned from = dst->index == src->index && dst->width <= src->width ? dst->width : 0;

	dst->index = src->index;
	dst->width = src->width;
	dst->pieces = src->pieces;
	for (unsigned s = 0; s < TL_TILE_HEIGHT; s++) {
		unsigned a = from >> s, b = src->width >> s;

		if (b > a)
			memcpy(&dst->nodes[tl_tile_node_slot(s, a)], &src->nodes[tl_tile_node_slot(s, a)],
				(size_t)(b - a) * sizeof(tl_hash));
	}
}

static int db_failed(const char *what, char *errptr)
{
	int err = tl_error_set(TL_E_IO, "log storage read failed (%s): %s", what, errptr);

	rocksdb_free(errptr);
	return err;
}

/* Walks at most `want` length-prefixed entries from the start of a bundle or piece:
 * *found gets how many there were, *bytes how many bytes they take. */
static int bundle_walk(size_t *bytes, unsigned *found, const uint8_t *data, size_t len, unsigned want)
{
	tl_cursor c = tl_cursor_make(data, len);
	unsigned n = 0;

	while (n < want && tl_cursor_left(&c) > 0) {
		uint16_t elen;
		const uint8_t *e;

		if (tl_cursor_u16be(&elen, &c) != 0 || tl_cursor_take(&e, &c, elen) != 0)
			return tl_error_set(TL_E_INTERNAL, "log storage is corrupt: truncated entry bundle");
		n++;
	}
	*bytes = c.pos;
	*found = n;
	return 0;
}

/* One tile or bundle as stored: its full value, or its pieces joined, through one iterator
 * so the read is a consistent snapshot even while the committer replaces pieces by the full
 * value. At most `want` units (hashes or entries) are copied to `out`. */
struct blob {
	bool full;
	unsigned units;
	log_pieces pieces;
};

static int read_blob(tl_buf *out, struct blob *b, tl_log *log, bool entries, unsigned level, uint64_t index,
	unsigned want)
{
	uint8_t key[LOG_TILE_KEY_MAX];
	size_t klen = entries ? log_bundle_key(key, index, -1) : log_tile_key(key, level, index, -1);
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(tl_db_rocks(log->db), tl_db_read(log->db),
		entries ? log->cf_entries : log->cf_tiles);
	char *errptr = NULL;
	int err = 0;

	memset(b, 0, sizeof(*b));
	for (rocksdb_iter_seek(it, (const char *)key, klen); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t ilen, vlen, take;
		const char *ikey = rocksdb_iter_key(it, &ilen);
		const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vlen);
		unsigned n;

		if (ilen < klen || memcmp(ikey, key, klen) != 0)
			break;
		if (ilen == klen) {
			b->full = true;
		} else if (ilen != klen + 1 || (uint8_t)ikey[klen] != b->units) {
			err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: %s %u/%llu has a stray piece",
				entries ? "bundle" : "tile", level, (unsigned long long)index);
			goto out;
		} else {
			log_pieces_set(&b->pieces, b->units);
		}
		if (entries) {
			if ((err = bundle_walk(&take, &n, v, vlen, want - b->units)) != 0)
				goto out;
		} else {
			if (b->full && vlen != TL_TILE_NODES * TL_HASH_SIZE)
				err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: full tile is %zu bytes", vlen);
			else if (vlen % TL_HASH_SIZE != 0 || vlen == 0)
				err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: tile piece is %zu bytes", vlen);
			if (err)
				goto out;
			n = b->full ? TL_TILE_WIDTH : (unsigned)(vlen / TL_HASH_SIZE);
			if (n > want - b->units)
				n = want - b->units;
			take = (size_t)n * TL_HASH_SIZE;
		}
		if ((err = tl_buf_append(out, v, take)) != 0)
			goto out;
		if (b->full) {
			b->units = n;
			break;
		}
		if (b->units + n > TL_TILE_WIDTH) {
			err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: pieces overflow a tile");
			goto out;
		}
		b->units += n;
		if (b->units >= want)
			break;
	}
	rocksdb_iter_get_error(it, &errptr);
	if (errptr != NULL)
		err = db_failed("tile iterator", errptr);
out:
	rocksdb_iter_destroy(it);
	return err;
}

static int read_meta(char **value, size_t *len, tl_log *log, const char *name)
{
	return tl_db_get(value, len, log->db, log->cf_meta, name, strlen(name));
}

/* Full tile (level, index), pinned in RocksDB's block cache: *nodes points at its 510
 * nodes until the slice is destroyed. */
static int pin_full_tile(rocksdb_pinnableslice_t **slice, const tl_hash **nodes, tl_log *log, unsigned level,
	uint64_t index)
{
	uint8_t key[LOG_TILE_KEY_MAX];
	size_t klen = log_tile_key(key, level, index, -1), vlen;
	char *errptr = NULL;
	rocksdb_pinnableslice_t *s = rocksdb_get_pinned_cf(tl_db_rocks(log->db), tl_db_read(log->db),
		log->cf_tiles, (const char *)key, klen, &errptr);
	const char *v;

	if (errptr != NULL)
		return db_failed("full tile", errptr);
	if (s == NULL)
		return tl_error_set(TL_E_INTERNAL, "log storage is corrupt: full tile %u/%llu is missing", level,
			(unsigned long long)index);
	v = rocksdb_pinnableslice_value(s, &vlen);
	if (vlen != TL_TILE_NODES * TL_HASH_SIZE) {
		rocksdb_pinnableslice_destroy(s);
		return tl_error_set(TL_E_INTERNAL, "log storage is corrupt: full tile %u/%llu is %zu bytes", level,
			(unsigned long long)index, vlen);
	}
	*slice = s;
	*nodes = (const tl_hash *)(const void *)v;
	return 0;
}

/* The cache is direct-mapped and split in two: a quarter for tiles of levels 1 and up, which
 * every proof passes through and which are few, so that level-0 tiles (one per proof, often
 * never asked for again) cannot evict them. */
static size_t cache_slot(const tl_log *log, unsigned level, uint64_t index)
{
	uint64_t h = (index ^ ((uint64_t)level << 56)) * UINT64_C(0x9e3779b97f4a7c15);
	size_t upper = log->ncache / 4;

	if (level > 0)
		return (size_t)(h >> 32) % upper;
	return upper + (size_t)(h >> 32) % (log->ncache - upper);
}

/* A node of a full tile, through the cache. */
static int full_tile_node(tl_hash *out, tl_log *log, unsigned level, uint64_t index, size_t slot)
{
	struct log_cache_slot *c = &log->cache[cache_slot(log, level, index)];
	rocksdb_pinnableslice_t *pinned;
	const tl_hash *nodes;
	int err;

	pthread_mutex_lock(&log->cache_lock);
	if (c->valid && c->level == level && c->index == index) {
		*out = c->nodes[slot];
		pthread_mutex_unlock(&log->cache_lock);
		return 0;
	}
	pthread_mutex_unlock(&log->cache_lock);

	if ((err = pin_full_tile(&pinned, &nodes, log, level, index)) != 0)
		return err;
	*out = nodes[slot];
	pthread_mutex_lock(&log->cache_lock);
	memcpy(c->nodes, nodes, sizeof(c->nodes));
	c->level = level;
	c->index = index;
	c->valid = true;
	pthread_mutex_unlock(&log->cache_lock);
	rocksdb_pinnableslice_destroy(pinned);
	return 0;
}

/* tl_node_fn over the published state: the rightmost tile of each level is in memory,
 * every other tile is full and in the database. */
static int node_fn(tl_hash *out, void *ctx, unsigned level, uint64_t index)
{
	tl_log *log = ctx;
	unsigned tl, sub, pos;
	uint64_t ti;
	const struct log_edge *e;
	bool in_edge = false;
	int err = 0;

	if (level >= TL_TILE_HEIGHT * LOG_LEVELS)
		return tl_error_set(TL_E_INPUT, "node level %u is above 63", level);
	tl_tile_locate(&tl, &ti, &sub, &pos, level, index);
	pthread_rwlock_rdlock(&log->lock);
	e = &log->pub[tl];
	if (ti > e->index || (ti == e->index && ((uint64_t)pos + 1) << sub > e->width))
		err = tl_error_set(TL_E_NOTFOUND, "node %u/%llu is not complete at size %llu", level,
			(unsigned long long)index, (unsigned long long)log->size);
	else if ((in_edge = ti == e->index))
		*out = e->nodes[tl_tile_node_slot(sub, pos)];
	pthread_rwlock_unlock(&log->lock);
	if (err || in_edge)
		return err;
	return full_tile_node(out, log, tl, ti, tl_tile_node_slot(sub, pos));
}

/* Loads the rightmost tile of each level and the rightmost bundle into the committer's
 * state, checking that they are exactly as wide as the tree size says and that the
 * entries hash to the level-0 tile. */
static int load_edges(tl_log *log, uint64_t size)
{
	tl_buf data = tl_buf_make(MAX_BUNDLE_BYTES);
	struct blob b;
	int err = 0;

	for (unsigned l = 0; l < LOG_LEVELS; l++) {
		struct log_edge *e = &log->stage[l];
		uint64_t hashes = size >> (TL_TILE_HEIGHT * l);

		memset(e, 0, sizeof(*e));
		e->index = hashes / TL_TILE_WIDTH;
		e->width = (unsigned)(hashes % TL_TILE_WIDTH);
		tl_buf_reset(&data);
		if ((err = read_blob(&data, &b, log, false, l, e->index, TL_TILE_WIDTH)) != 0)
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
					     log_tile_key(key, l, e->index - 1, -1))) != 0) {
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
	if ((err = read_blob(&log->bundle.buf, &b, log, true, 0, log->bundle.index, TL_TILE_WIDTH)) != 0)
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
				     log_bundle_key(key, log->bundle.index - 1, -1))) != 0) {
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
	for (unsigned l = 0; l + 1 < LOG_LEVELS && err == 0; l++) {
		uint64_t n = log->stage[l].index;
		rocksdb_pinnableslice_t *pinned;
		const tl_hash *stored;
		tl_hash top, above;
		bool same;

		if (n == 0)
			continue;
		if ((err = pin_full_tile(&pinned, &stored, log, l, n - 1)) != 0)
			break;
		memcpy(fresh, stored, TL_TILE_WIDTH * sizeof(tl_hash));
		tl_tile_expand(fresh, 0, TL_TILE_WIDTH);
		same = memcmp(stored, fresh, TL_TILE_NODES * sizeof(tl_hash)) == 0;
		rocksdb_pinnableslice_destroy(pinned);
		tl_hash_node(&top, &fresh[tl_tile_node_slot(7, 0)], &fresh[tl_tile_node_slot(7, 1)]);
		if ((err = node_fn(&above, log, TL_TILE_HEIGHT * (l + 1), n - 1)) != 0)
			break;
		if (!same || !tl_hash_equal(&top, &above))
			err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: tile %u/%llu does not hash to its parent",
				l, (unsigned long long)(n - 1));
	}
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
static int load(tl_log *log, const tl_verifier *v)
{
	char *note = NULL;
	size_t note_len = 0;
	int err;
	tl_checkpoint cp;
	tl_hash root;

	if ((err = read_meta(&note, &note_len, log, log_meta_checkpoint)) == TL_E_NOTFOUND) {
		if (!cf_empty(log, log->cf_tiles) || !cf_empty(log, log->cf_entries)) {
			err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: tiles or entries without a checkpoint");
			goto out;
		}
		tl_frontier_init(&log->frontier);
		if ((err = load_edges(log, 0)) != 0)
			goto out;
		err = log_commit_empty(log);
		goto out;
	}
	if (err)
		goto out;
	if ((err = tl_checkpoint_open(&cp, (const uint8_t *)note, note_len, v)) != 0) {
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
		log_edge_copy(&log->pub[l], &log->stage[l]);
	log->stats.size = cp.size;
	if ((err = check_last_full_tiles(log)) != 0)
		goto out;
	/* The frontier comes from the stored tiles, and must give the checkpoint's root. */
	if ((err = tl_frontier_load(&log->frontier, cp.size, node_fn, log)) != 0) {
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

int tl_log_open(tl_log **out, tl_db *db, const tl_signer *key, const struct tl_log_options *opts)
{
	tl_log *log = calloc(1, sizeof(*log));
	tl_buf vkey = tl_buf_make(4096);
	tl_verifier *v = NULL;
	const char *origin = tl_signer_name(key);
	size_t ncache = opts && opts->cache_tiles >= 4 ? opts->cache_tiles : DEFAULT_CACHE_TILES;
	int err = 0;

	if (log == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	pthread_mutex_init(&log->qlock, NULL);
	pthread_cond_init(&log->qcond, NULL);
	pthread_rwlock_init(&log->lock, NULL);
	pthread_mutex_init(&log->cache_lock, NULL);
	log->db = db;
	log->key = key;
	log->max_batch = opts && opts->max_batch ? opts->max_batch : DEFAULT_MAX_BATCH;
	log->bundle.buf = tl_buf_make(MAX_BUNDLE_BYTES);
	log->note = tl_buf_make(MAX_NOTE_BYTES);
	log->checkpoint = tl_buf_make(MAX_NOTE_BYTES);
	log->cf_tiles = tl_db_cf(db, tl_log_column_families[0]);
	log->cf_entries = tl_db_cf(db, tl_log_column_families[1]);
	log->cf_meta = tl_db_cf(db, tl_log_column_families[2]);
	if (log->cf_tiles == NULL || log->cf_entries == NULL || log->cf_meta == NULL) {
		err = tl_error_set(TL_E_INTERNAL, "the database was opened without the log's column families");
		goto out;
	}
	if (strlen(origin) > TL_MAX_ORIGIN) {
		err = tl_error_set(TL_E_INPUT, "log origin is longer than %d bytes", TL_MAX_ORIGIN);
		goto out;
	}
	strcpy(log->origin, origin);
	log->ncache = ncache;
	if ((log->cache = calloc(ncache, sizeof(*log->cache))) == NULL || (log->wb = rocksdb_writebatch_create()) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = tl_signer_vkey(&vkey, key)) != 0 || (err = tl_verifier_parse(&v, (const char *)vkey.data, vkey.len)) != 0)
		goto out;
	if ((err = load(log, v)) != 0)
		goto out;
	if (pthread_create(&log->committer, NULL, log_committer_main, log) != 0) {
		err = tl_error_set(TL_E_INTERNAL, "cannot start the log committer thread");
		goto out;
	}
	log->committer_running = true;
out:
	tl_verifier_free(v);
	tl_buf_free(&vkey);
	if (err) {
		tl_log_close(log);
		return err;
	}
	*out = log;
	return 0;
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
	pthread_cond_destroy(&log->qcond);
	pthread_rwlock_destroy(&log->lock);
	pthread_mutex_destroy(&log->cache_lock);
	if (log->wb)
		rocksdb_writebatch_destroy(log->wb);
	free(log->cache);
	tl_buf_free(&log->bundle.buf);
	tl_buf_free(&log->note);
	tl_buf_free(&log->checkpoint);
	free(log);
}

int tl_log_append_batch(uint64_t *first, tl_log *log, const void *const *entries, const size_t *lens, size_t n)
{
	tl_hash small[SMALL_APPEND], *leaves = small;
	struct log_request r;
	size_t bytes = 0;
	int err = 0;

	if (n == 0 || n > TL_LOG_MAX_APPEND)
		return tl_error_set(TL_E_INPUT, "a batch holds 1..%u entries, not %zu", TL_LOG_MAX_APPEND, n);
	for (size_t i = 0; i < n; i++) {
		if (lens[i] > TL_LOG_MAX_ENTRY)
			return tl_error_set(TL_E_INPUT, "entry %zu is %zu bytes, more than %u", i, lens[i],
				TL_LOG_MAX_ENTRY);
		if (entries[i] == NULL && lens[i] > 0)
			return tl_error_set(TL_E_INPUT, "entry %zu is NULL", i);
		if ((bytes += lens[i]) > TL_LOG_MAX_APPEND_BYTES)
			return tl_error_set(TL_E_INPUT, "a batch holds at most %u bytes of entries", TL_LOG_MAX_APPEND_BYTES);
	}
	if (n > SMALL_APPEND && (leaves = malloc(n * sizeof(*leaves))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	/* Hashing here spreads the leaf hashes over the appending threads. */
	for (size_t i = 0; i < n; i++)
		tl_hash_leaf(&leaves[i], entries[i], lens[i]);

	memset(&r, 0, sizeof(r));
	r.entries = entries;
	r.lens = lens;
	r.leaves = leaves;
	r.n = n;
	r.bytes = bytes;
	pthread_cond_init(&r.cond, NULL);
	pthread_mutex_lock(&log->qlock);
	if (log->failed || log->stopping) {
		err = tl_error_set(TL_E_UNAVAILABLE, "%s", log->failed ? log->failed_msg : "the log is closing");
		pthread_mutex_unlock(&log->qlock);
		goto out;
	}
	if (log->qtail)
		log->qtail->next = &r;
	else
		log->qhead = &r;
	log->qtail = &r;
	pthread_cond_signal(&log->qcond);
	while (!r.done)
		pthread_cond_wait(&r.cond, &log->qlock);
	pthread_mutex_unlock(&log->qlock);
	if (r.err)
		err = tl_error_set(r.err, "%s", r.msg);
	else
		*first = r.first;
out:
	pthread_cond_destroy(&r.cond);
	if (leaves != small)
		free(leaves);
	return err;
}

int tl_log_append(uint64_t *index, tl_log *log, const void *entry, size_t len)
{
	return tl_log_append_batch(index, log, &entry, &len, 1);
}

const char *tl_log_origin(const tl_log *log)
{
	return log->origin;
}

uint64_t tl_log_size(tl_log *log)
{
	uint64_t size;

	pthread_rwlock_rdlock(&log->lock);
	size = log->size;
	pthread_rwlock_unlock(&log->lock);
	return size;
}

int tl_log_head(uint64_t *size, tl_hash *root, tl_buf *note, tl_log *log)
{
	int err = 0;

	pthread_rwlock_rdlock(&log->lock);
	if (size)
		*size = log->size;
	if (root)
		*root = log->root;
	if (note)
		err = tl_buf_append(note, log->checkpoint.data, log->checkpoint.len);
	pthread_rwlock_unlock(&log->lock);
	return err;
}

int tl_log_tile(tl_buf *out, tl_log *log, const tl_tile *t)
{
	uint64_t size = tl_log_size(log);
	unsigned have = t->entries && t->level != 0 ? 0 : tl_tile_width_at(t->level, t->index, size);
	size_t start = out->len;
	struct blob b;
	int err;

	if (t->width < 1 || t->width > TL_TILE_WIDTH)
		return tl_error_set(TL_E_INPUT, "tile width %u is not in 1..256", t->width);
	if (have < t->width)
		return tl_error_set(TL_E_NOTFOUND, "%s %u/%llu of width %u is not in the tree of size %llu",
			t->entries ? "entry bundle" : "tile", t->level, (unsigned long long)t->index, t->width,
			(unsigned long long)size);
	if ((err = read_blob(out, &b, log, t->entries, t->level, t->index, t->width)) == 0 && b.units < t->width)
		err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: %s %u/%llu has %u of %u",
			t->entries ? "entry bundle" : "tile", t->level, (unsigned long long)t->index, b.units, t->width);
	if (err && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	return err;
}

int tl_log_entry(tl_buf *out, tl_log *log, uint64_t index)
{
	uint64_t size = tl_log_size(log);
	tl_buf data = tl_buf_make(MAX_BUNDLE_BYTES);
	unsigned pos = (unsigned)(index % TL_TILE_WIDTH);
	struct blob b;
	size_t skip;
	unsigned n;
	uint16_t elen;
	int err;

	if (index >= size)
		return tl_error_set(TL_E_NOTFOUND, "entry %llu is not in the log of size %llu",
			(unsigned long long)index, (unsigned long long)size);
	if ((err = read_blob(&data, &b, log, true, 0, index / TL_TILE_WIDTH, pos + 1)) != 0)
		goto out;
	if ((err = bundle_walk(&skip, &n, data.data, data.len, pos)) != 0)
		goto out;
	if (b.units != pos + 1 || n != pos || data.len - skip < 2 ||
	    (elen = (uint16_t)(data.data[skip] << 8 | data.data[skip + 1])) != data.len - skip - 2) {
		err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: entry %llu is missing",
			(unsigned long long)index);
		goto out;
	}
	err = tl_buf_append(out, data.data + skip + 2, elen);
out:
	tl_buf_free(&data);
	return err;
}

int tl_log_root(tl_hash *root, tl_log *log, uint64_t size)
{
	uint64_t cur;

	pthread_rwlock_rdlock(&log->lock);
	cur = log->size;
	if (size == cur)
		*root = log->root;
	pthread_rwlock_unlock(&log->lock);
	if (size > cur)
		return tl_error_set(TL_E_NOTFOUND, "tree size %llu is beyond the log's size %llu",
			(unsigned long long)size, (unsigned long long)cur);
	if (size == cur)
		return 0;
	return tl_root_at(root, size, node_fn, log);
}

int tl_log_prove_inclusion(tl_hash *hashes, size_t *n, tl_log *log, uint64_t index, uint64_t size)
{
	uint64_t cur = tl_log_size(log);

	if (size > cur)
		return tl_error_set(TL_E_NOTFOUND, "tree size %llu is beyond the log's size %llu",
			(unsigned long long)size, (unsigned long long)cur);
	if (index >= size)
		return tl_error_set(TL_E_INPUT, "leaf %llu is not in a tree of size %llu", (unsigned long long)index,
			(unsigned long long)size);
	return tl_proof_inclusion(hashes, n, index, size, node_fn, log);
}

int tl_log_prove_consistency(tl_hash *hashes, size_t *n, tl_log *log, uint64_t old_size, uint64_t size)
{
	uint64_t cur = tl_log_size(log);

	if (size > cur)
		return tl_error_set(TL_E_NOTFOUND, "tree size %llu is beyond the log's size %llu",
			(unsigned long long)size, (unsigned long long)cur);
	if (old_size > size)
		return tl_error_set(TL_E_INPUT, "old size %llu is above size %llu", (unsigned long long)old_size,
			(unsigned long long)size);
	return tl_proof_consistency(hashes, n, old_size, size, node_fn, log);
}

int tl_log_node(tl_hash *out, tl_log *log, unsigned level, uint64_t index)
{
	if (level >= TL_TILE_HEIGHT * LOG_LEVELS || index > (UINT64_MAX >> level))
		return tl_error_set(TL_E_INPUT, "node %u/%llu is outside any 64-bit tree", level,
			(unsigned long long)index);
	return node_fn(out, log, level, index);
}

void tl_log_stats(struct tl_log_stats *out, tl_log *log)
{
	pthread_rwlock_rdlock(&log->lock);
	*out = log->stats;
	pthread_rwlock_unlock(&log->lock);
}
