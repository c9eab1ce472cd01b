/*
 * The log's storage: its key layout, the edge tiles, and the reads of stored tiles and bundles
 * with the cache of full tiles that proofs go through. Open and recovery are in log_open.c,
 * appends and reads in log.c, the committer in log_commit.c.
 *
 * Column families and keys (big-endian numbers; see docs/storage.md):
 *   tl_tiles    L(1) N(8)        a full tile: 256 base hashes, then its 254 inner nodes
 *               L(1) N(8) S(1)   a piece of the partial tile N: base hashes S.. added by one commit
 *   tl_entries  N(8)             a full entry bundle, exactly as served
 *               N(8) S(1)        a piece of the partial bundle N: entries S.. added by one commit
 *   tl_meta     "checkpoint"     the signed checkpoint note of the last commit
 *               "o" N(8)         where each entry of the full bundle N starts: 256 uint32 offsets
 *                                (not beside the bundle: a neighbouring 128 KB bundle would
 *                                share its data block and be read with it)
 * A full value sorts right before its pieces, so one iterator seek finds either. The
 * checkpoint is the one record of the tree size; the frontier is rebuilt from the tiles.
 */
#include "log_internal.h"

#include <string.h>

const char *const tl_log_column_families[TL_LOG_COLUMN_FAMILY_COUNT] = { "tl_tiles", "tl_entries", "tl_meta" };
const char tl_log__meta_checkpoint[] = "checkpoint";

size_t tl_log__tile_key(uint8_t *key, unsigned level, uint64_t index, int piece)
{
	key[0] = (uint8_t)level;
	tl_store_u64be(key + 1, index);
	if (piece < 0)
		return 9;
	key[9] = (uint8_t)piece;
	return 10;
}

size_t tl_log__bundle_key(uint8_t *key, uint64_t index, int piece)
{
	tl_store_u64be(key, index);
	if (piece < 0)
		return 8;
	key[8] = (uint8_t)piece;
	return 9;
}

size_t tl_log__offsets_key(uint8_t *key, uint64_t index)
{
	key[0] = 'o';
	tl_store_u64be(key + 1, index);
	return 9;
}

void tl_log__edge_copy(struct log_edge *dst, const struct log_edge *src)
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
int tl_log__bundle_walk(size_t *bytes, unsigned *found, const uint8_t *data, size_t len, unsigned want)
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

int tl_log__read_blob(tl_buf *out, struct log_blob *b, tl_log *log, bool entries, unsigned level, uint64_t index,
	unsigned want)
{
	uint8_t key[LOG_TILE_KEY_MAX];
	size_t klen = entries ? tl_log__bundle_key(key, index, -1) : tl_log__tile_key(key, level, index, -1);
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
			if ((err = tl_log__bundle_walk(&take, &n, v, vlen, want - b->units)) != 0)
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

int tl_log__pin_full(const uint8_t **v, size_t *vlen, void **pin, tl_log *log, bool entries, unsigned level,
	uint64_t index)
{
	uint8_t key[LOG_TILE_KEY_MAX];
	size_t klen = entries ? tl_log__bundle_key(key, index, -1) : tl_log__tile_key(key, level, index, -1);
	const char *what = entries ? "entry bundle" : "tile";
	int err = tl_db_get_pinned(v, vlen, pin, log->db, entries ? log->cf_entries : log->cf_tiles, key, klen);

	if (err == TL_E_NOTFOUND)
		return tl_error_set(TL_E_INTERNAL, "log storage is corrupt: full %s %u/%llu is missing", what, level,
			(unsigned long long)index);
	if (err)
		return tl_error_wrap(err, "log storage read failed (full %s)", what);
	if (!entries && *vlen != TL_TILE_NODES * TL_HASH_SIZE) {
		tl_db_release(*pin);
		return tl_error_set(TL_E_INTERNAL, "log storage is corrupt: full tile %u/%llu is %zu bytes", level,
			(unsigned long long)index, *vlen);
	}
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
	const uint8_t *v;
	size_t vlen;
	void *pin;
	int err;

	pthread_mutex_lock(&log->cache_lock);
	if (c->valid && c->level == level && c->index == index) {
		*out = c->nodes[slot];
		pthread_mutex_unlock(&log->cache_lock);
		return 0;
	}
	pthread_mutex_unlock(&log->cache_lock);

	if ((err = tl_log__pin_full(&v, &vlen, &pin, log, false, level, index)) != 0)
		return err;
	memcpy(out, v + slot * TL_HASH_SIZE, TL_HASH_SIZE);
	pthread_mutex_lock(&log->cache_lock);
	memcpy(c->nodes, v, sizeof(c->nodes));
	c->level = level;
	c->index = index;
	c->valid = true;
	pthread_mutex_unlock(&log->cache_lock);
	tl_db_release(pin);
	return 0;
}

/* tl_node_fn over the published state: the rightmost tile of each level is in memory,
 * every other tile is full and in the database. */
int tl_log__node(tl_hash *out, void *ctx, unsigned level, uint64_t index)
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
