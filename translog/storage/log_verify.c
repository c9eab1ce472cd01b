/*
 * A full check of a stored log with only its verifier key: what `bundlectl admin
 * verify-backup` runs on a backup. tl_log_open checks O(log n) things and needs the private
 * key; this reads everything once: the checkpoint's signature, every entry (the tree is
 * recomputed from them and its root compared with the checkpoint's), and every stored hash
 * tile (compared with the recomputed nodes), and that exactly the tiles and bundles the
 * checkpoint's size implies are stored, no fewer and no more. Layout: log_store.c.
 */
#include "log_internal.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STORED_TILE_BYTES ((size_t)TL_TILE_NODES * TL_HASH_SIZE)

/* The recomputed nodes at tree level 8 * L for each tile level L: the tiles' base hashes. */
struct verify_state {
	tl_hash *nodes[LOG_LEVELS];
	uint64_t count[LOG_LEVELS], cap[LOG_LEVELS];
	int err;
};

/* A run of stored records for one tile or bundle: a full value or pieces from 0 up. */
struct group {
	bool open;
	unsigned level;
	uint64_t index;
	unsigned covered; /* hashes or entries the records so far hold */
	bool full;
};

static int inconsistent(const char *fmt, unsigned level, uint64_t index)
{
	return tl_error_set(TL_E_INPUT, "log storage is inconsistent: %s (level %u, index %llu)", fmt, level,
		(unsigned long long)index);
}

static void on_node(void *ctx, unsigned level, uint64_t index, const tl_hash *hash)
{
	struct verify_state *vs = ctx;
	unsigned l = level / TL_TILE_HEIGHT;

	if (vs->err || level % TL_TILE_HEIGHT != 0 || l >= LOG_LEVELS)
		return;
	assert(index == vs->count[l]); /* the frontier reports each level in order */
	if (vs->count[l] == vs->cap[l]) {
		uint64_t cap = vs->cap[l] ? vs->cap[l] * 2 : 1024;
		tl_hash *p = cap <= SIZE_MAX / sizeof(tl_hash) ? realloc(vs->nodes[l], (size_t)cap * sizeof(tl_hash)) : NULL;

		if (p == NULL) {
			vs->err = tl_error_set(TL_E_NOMEM, "out of memory for %llu hashes", (unsigned long long)cap);
			return;
		}
		vs->nodes[l] = p;
		vs->cap[l] = cap;
	}
	vs->nodes[l][vs->count[l]++] = *hash;
}

/* The tile or bundle stored after (level, index) for a tree of `size`, or level LOG_LEVELS. */
static void next_expected(unsigned *level, uint64_t *index, uint64_t size, bool tiles)
{
	if (tl_tile_width_at(*level, *index + 1, size) > 0) {
		(*index)++;
		return;
	}
	*index = 0;
	*level = tiles && *level + 1 < LOG_LEVELS && tl_tile_width_at(*level + 1, 0, size) > 0 ? *level + 1 : LOG_LEVELS;
}

/* Starts the group for the record at (level, index), checking it is the one expected next,
 * after checking that the group before it was complete. */
static int group_begin(struct group *g, unsigned *exp_level, uint64_t *exp_index, unsigned level, uint64_t index,
	uint64_t size, bool tiles)
{
	if (g->open && g->level == level && g->index == index)
		return 0;
	if (g->open) {
		if (g->covered != tl_tile_width_at(g->level, g->index, size))
			return inconsistent(tiles ? "a partial tile is incomplete" : "a partial entry bundle is incomplete",
				g->level, g->index);
		next_expected(exp_level, exp_index, size, tiles);
	}
	if (*exp_level == LOG_LEVELS || level != *exp_level || index != *exp_index)
		return inconsistent(level > *exp_level || (level == *exp_level && index > *exp_index) ?
			"a tile or bundle the checkpoint needs is missing before this one" :
			"a tile or bundle beyond the checkpoint's tree is stored", level, index);
	g->open = true;
	g->level = level;
	g->index = index;
	g->covered = 0;
	g->full = false;
	return 0;
}

/* After the last record: the last group is complete and nothing expected is left. */
static int groups_end(const struct group *g, unsigned exp_level, uint64_t exp_index, uint64_t size, bool tiles)
{
	if (g->open) {
		if (g->covered != tl_tile_width_at(g->level, g->index, size))
			return inconsistent("the last partial tile or bundle is incomplete", g->level, g->index);
		next_expected(&exp_level, &exp_index, size, tiles);
	}
	if (exp_level != LOG_LEVELS)
		return inconsistent("a tile or bundle the checkpoint needs is missing", exp_level, exp_index);
	return 0;
}

/* Takes a full bundle or a piece into the group and the recomputed tree. */
static int take_entries(struct group *g, tl_frontier *f, struct verify_state *vs, const uint8_t *v, size_t len,
	int piece, uint64_t size)
{
	unsigned width = tl_tile_width_at(0, g->index, size);
	tl_cursor c = tl_cursor_make(v, len);

	if (g->full || (piece < 0 && g->covered != 0) || (piece >= 0 && (unsigned)piece != g->covered))
		return inconsistent("entry bundle pieces overlap or leave a hole", 0, g->index);
	while (tl_cursor_left(&c) > 0) {
		const uint8_t *e;
		uint16_t elen;
		tl_hash leaf;

		if (tl_cursor_u16be(&elen, &c) != 0 || tl_cursor_take(&e, &c, elen) != 0)
			return inconsistent("a truncated entry bundle", 0, g->index);
		if (g->covered >= width)
			return inconsistent("entries beyond the checkpoint's size are stored", 0, g->index);
		tl_hash_leaf(&leaf, e, elen);
		tl_frontier_append(f, &leaf, on_node, vs);
		if (vs->err)
			return vs->err;
		g->covered++;
	}
	if (piece < 0 && g->covered != TL_TILE_WIDTH)
		return inconsistent("a full entry bundle holds fewer than 256 entries", 0, g->index);
	g->full = piece < 0;
	return 0;
}

static int check_entries(struct verify_state *vs, tl_db *db, const tl_checkpoint *cp)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(tl_db_rocks(db), tl_db_read(db), tl_db_cf(db, "tl_entries"));
	struct group g = { 0 };
	unsigned exp_level = tl_tile_width_at(0, 0, cp->size) > 0 ? 0 : LOG_LEVELS;
	uint64_t exp_index = 0;
	tl_frontier f;
	tl_hash root;
	char *errptr = NULL;
	int err = 0;

	tl_frontier_init(&f);
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it, &klen);
		const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vlen);

		if (klen != 8 && klen != 9) {
			err = tl_error_set(TL_E_INPUT, "log storage is inconsistent: an entry key of %zu bytes", klen);
			goto out;
		}
		if ((err = group_begin(&g, &exp_level, &exp_index, 0, tl_load_u64be(k), cp->size, false)) != 0 ||
		    (err = take_entries(&g, &f, vs, v, vlen, klen == 9 ? k[8] : -1, cp->size)) != 0)
			goto out;
	}
	rocksdb_iter_get_error(it, &errptr);
	if (errptr != NULL) {
		err = tl_error_set(TL_E_IO, "reading the log's entries: %s", errptr);
		rocksdb_free(errptr);
		goto out;
	}
	if ((err = groups_end(&g, exp_level, exp_index, cp->size, false)) != 0)
		goto out;
	tl_frontier_root(&f, &root);
	if (f.size != cp->size || !tl_hash_equal(&root, &cp->root))
		err = tl_error_set(TL_E_INPUT, "log storage is inconsistent: the tree of the %llu stored entries does not "
			"have the checkpoint's root", (unsigned long long)f.size);
out:
	rocksdb_iter_destroy(it);
	return err;
}

/* Takes a full tile or a piece: every hash must be the recomputed node. */
static int take_tile(struct group *g, const struct verify_state *vs, const uint8_t *v, size_t len, int piece,
	uint64_t size)
{
	unsigned width = tl_tile_width_at(g->level, g->index, size), n;
	uint64_t first = g->index * TL_TILE_WIDTH;
	tl_hash nodes[TL_TILE_NODES];

	if (g->full || (piece < 0 && g->covered != 0) || (piece >= 0 && (unsigned)piece != g->covered))
		return inconsistent("tile pieces overlap or leave a hole", g->level, g->index);
	if (piece < 0 ? len != STORED_TILE_BYTES || width != TL_TILE_WIDTH : len % TL_HASH_SIZE != 0 || len == 0)
		return inconsistent("a stored tile has the wrong size", g->level, g->index);
	n = piece < 0 ? TL_TILE_WIDTH : (unsigned)(len / TL_HASH_SIZE);
	if (n > width - g->covered)
		return inconsistent("a tile holds hashes beyond the checkpoint's size", g->level, g->index);
	memcpy(nodes, v, piece < 0 ? STORED_TILE_BYTES : len);
	for (unsigned i = 0; i < n; i++)
		if (!tl_hash_equal(&nodes[i], &vs->nodes[g->level][first + g->covered + i]))
			return inconsistent("a stored tile hash differs from the one recomputed from the entries", g->level,
				g->index);
	if (piece < 0) {
		tl_hash expanded[TL_TILE_NODES];

		memcpy(expanded, nodes, TL_TILE_WIDTH * sizeof(tl_hash));
		tl_tile_expand(expanded, 0, TL_TILE_WIDTH);
		if (memcmp(expanded, nodes, sizeof(nodes)) != 0)
			return inconsistent("a full tile's inner nodes are wrong", g->level, g->index);
	}
	g->covered += n;
	g->full = piece < 0;
	return 0;
}

static int check_tiles(const struct verify_state *vs, tl_db *db, const tl_checkpoint *cp)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(tl_db_rocks(db), tl_db_read(db), tl_db_cf(db, "tl_tiles"));
	struct group g = { 0 };
	unsigned exp_level = tl_tile_width_at(0, 0, cp->size) > 0 ? 0 : LOG_LEVELS;
	uint64_t exp_index = 0;
	char *errptr = NULL;
	int err = 0;

	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it, &klen);
		const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vlen);

		if ((klen != 9 && klen != 10) || k[0] >= LOG_LEVELS) {
			err = tl_error_set(TL_E_INPUT, "log storage is inconsistent: a tile key of %zu bytes", klen);
			goto out;
		}
		if ((err = group_begin(&g, &exp_level, &exp_index, k[0], tl_load_u64be(k + 1), cp->size, true)) != 0 ||
		    (err = take_tile(&g, vs, v, vlen, klen == 10 ? k[9] : -1, cp->size)) != 0)
			goto out;
	}
	rocksdb_iter_get_error(it, &errptr);
	if (errptr != NULL) {
		err = tl_error_set(TL_E_IO, "reading the log's tiles: %s", errptr);
		rocksdb_free(errptr);
		goto out;
	}
	err = groups_end(&g, exp_level, exp_index, cp->size, true);
out:
	rocksdb_iter_destroy(it);
	return err;
}

int tl_log_verify_stored(tl_checkpoint *out, tl_buf *note_out, tl_db *db, const tl_verifier *v)
{
	struct verify_state vs;
	tl_checkpoint cp;
	char *note = NULL;
	size_t len = 0;
	int err;

	memset(&vs, 0, sizeof(vs));
	for (size_t i = 0; i < TL_LOG_COLUMN_FAMILY_COUNT; i++)
		if (tl_db_cf(db, tl_log_column_families[i]) == NULL)
			return tl_error_set(TL_E_INPUT, "no log in this database (no column family %s)",
				tl_log_column_families[i]);
	if ((err = tl_db_get(&note, &len, db, tl_db_cf(db, "tl_meta"), tl_log__meta_checkpoint,
		     strlen(tl_log__meta_checkpoint))) != 0) {
		err = err == TL_E_NOTFOUND ? tl_error_set(TL_E_INPUT, "the log has no checkpoint") :
					     tl_error_wrap(err, "reading the log's checkpoint");
		goto out;
	}
	if ((err = tl_checkpoint_open(&cp, (const uint8_t *)note, len, v)) != 0) {
		err = tl_error_wrap(err, "the stored checkpoint");
		goto out;
	}
	if ((err = check_entries(&vs, db, &cp)) != 0 || (err = check_tiles(&vs, db, &cp)) != 0)
		goto out;
	if (note_out != NULL && (err = tl_buf_append(note_out, note, len)) != 0)
		goto out;
	*out = cp;
out:
	for (unsigned l = 0; l < LOG_LEVELS; l++)
		free(vs.nodes[l]);
	free(note);
	return err;
}
