#include "follow_tiles.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "translog/array.h"

void tl_follow__tiles_init(tl_follow__tiles *t, const tl_follow_config *cfg, uint64_t size)
{
	memset(t, 0, sizeof(*t));
	t->cfg = cfg;
	t->size = size;
}

void tl_follow__tiles_free(tl_follow__tiles *t)
{
	free(t->tiles);
	t->tiles = NULL;
	t->n = t->alloc = 0;
}

int tl_follow__fetch(tl_buf *out, const tl_follow_config *cfg, const char *path, size_t cap)
{
	int err;

	tl_buf_free(out);
	*out = tl_buf_make(cap);
	tl_error_clear();
	err = cfg->transport.fetch(cfg->transport.ctx, path, out);
	if (err > 0)
		return tl_error_set(TL_E_INTERNAL, "fetch %s returned %d", path, err);
	if (err < 0)
		return tl_error_wrap(err, "fetch %s", path);
	/* The transport may have swapped the buffer: the cap is ours to enforce. */
	if (out->len > cap)
		return tl_error_set(TL_E_INPUT, "fetch %s: %zu bytes, more than %zu", path, out->len, cap);
	return 0;
}

int tl_follow__fetch_tile(tl_buf *out, unsigned *width, const tl_follow_config *cfg, const tl_tile *t,
	size_t cap)
{
	char path[TL_TILE_PATH_MAX];
	tl_tile full = *t;
	int err;

	if ((err = tl_tile_path_format(path, t)) != 0)
		return err;
	err = tl_follow__fetch(out, cfg, path, cap);
	if (err != TL_E_NOTFOUND || t->width == TL_TILE_WIDTH) {
		*width = t->width;
		return err;
	}
	/* C2SP tlog-tiles: a partial tile may be gone once the full tile exists, and the full
	 * tile begins with the same hashes (or entries). */
	full.width = TL_TILE_WIDTH;
	if ((err = tl_tile_path_format(path, &full)) != 0)
		return err;
	*width = TL_TILE_WIDTH;
	return tl_follow__fetch(out, cfg, path, cap);
}

/* The slot for a new tile: a fresh one while the cache may grow, then round robin. */
static int cache_slot(struct tl_follow__tile **slot, tl_follow__tiles *t)
{
	int err;

	if (t->n < TL_FOLLOW_MAX_CACHED_TILES) {
		if ((err = tl_array_grow(&t->tiles, &t->alloc, t->n + 1, sizeof(*t->tiles),
			     TL_FOLLOW_MAX_CACHED_TILES)) != 0)
			return err;
		*slot = &t->tiles[t->n++];
		return 0;
	}
	*slot = &t->tiles[t->evict];
	t->evict = (t->evict + 1) % TL_FOLLOW_MAX_CACHED_TILES;
	return 0;
}

/* The hash tile (level, index) at the width the tree size implies, from the cache or the log. */
static int get_tile(const struct tl_follow__tile **out, tl_follow__tiles *t, unsigned level, uint64_t index)
{
	tl_tile want = { .level = level, .index = index, .width = tl_tile_width_at(level, index, t->size) };
	struct tl_follow__tile *slot;
	tl_buf body = { 0 };
	unsigned got;
	int err;

	/* The proof code asks only for nodes complete at t->size, which lie in existing tiles. */
	assert(want.width > 0);
	for (size_t i = 0; i < t->n; i++) {
		if (t->tiles[i].level == level && t->tiles[i].index == index) {
			*out = &t->tiles[i];
			return 0;
		}
	}
	if ((err = tl_follow__fetch_tile(&body, &got, t->cfg, &want, TL_TILE_FULL_BYTES)) != 0)
		goto out;
	if (body.len != (size_t)got * TL_HASH_SIZE) {
		err = tl_error_set(TL_E_INPUT, "tile %u/%" PRIu64 ": %zu bytes, expected %u hashes", level, index,
			body.len, got);
		goto out;
	}
	if ((err = cache_slot(&slot, t)) != 0)
		goto out;
	slot->level = level;
	slot->index = index;
	slot->width = want.width;
	memcpy(slot->hashes, body.data, (size_t)want.width * TL_HASH_SIZE);
	*out = slot;
out:
	tl_buf_free(&body);
	return err;
}

int tl_follow__node(tl_hash *out, void *ctx, unsigned level, uint64_t index)
{
	tl_follow__tiles *t = ctx;
	const struct tl_follow__tile *tile = NULL;
	unsigned tile_level, sub, pos;
	uint64_t tile_index;
	int err;

	tl_tile_locate(&tile_level, &tile_index, &sub, &pos, level, index);
	if (t->own != NULL && tile_level == 0 && tile_index == t->own_index) {
		*out = t->own[tl_tile_node_slot(sub, pos)];
		return 0;
	}
	if ((err = get_tile(&tile, t, tile_level, tile_index)) != 0)
		return err;
	return tl_tile_node(out, tile->hashes, tile->width, sub, pos);
}
