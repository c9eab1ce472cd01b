/*
 * Internals of the follower (follow.c): fetching tiles and entry bundles through the
 * caller's transport, the per-call tile cache, and the tl_node_fn that reads Merkle nodes
 * of one tree size out of fetched hash tiles.
 */
#ifndef TRANSLOG_FOLLOW_TILES_H
#define TRANSLOG_FOLLOW_TILES_H

#include <stddef.h>
#include <stdint.h>

#include "translog/follow.h"

struct tl_follow__tile {
	unsigned level;
	uint64_t index;
	unsigned width;
	tl_hash hashes[TL_TILE_WIDTH];
};

/* The nodes of one tree size, read from hash tiles fetched during one call. */
typedef struct tl_follow__tiles {
	const tl_follow_config *cfg;
	uint64_t size;
	struct tl_follow__tile *tiles;
	size_t n, alloc;
	size_t evict; /* the slot replaced next once the cache is full */
	/* When not NULL, the nodes of level-0 tile `own_index` (laid out by tl_tile_expand) come
	 * from here instead of the log: leaf hashes computed from an entry bundle being proven. */
	const tl_hash *own;
	uint64_t own_index;
} tl_follow__tiles;

void tl_follow__tiles_init(tl_follow__tiles *t, const tl_follow_config *cfg, uint64_t size);
void tl_follow__tiles_free(tl_follow__tiles *t);

/* The tl_node_fn over a tl_follow__tiles (ctx): the complete node (level, index) of the tree
 * of t->size leaves. */
int tl_follow__node(tl_hash *out, void *ctx, unsigned level, uint64_t index) TL_MUST_USE;

/* Fetches the tile or bundle `t` (whose width is what the caller needs) into `out` (reset
 * first, capped at `cap`). If the log has no such partial tile, fetches the full tile:
 * *width gets the width of what was fetched (t->width or 256). */
int tl_follow__fetch_tile(tl_buf *out, unsigned *width, const tl_follow_config *cfg, const tl_tile *t,
	size_t cap) TL_MUST_USE;

/* Calls the transport for `path` with `out` reset and capped at `cap`, naming the path in
 * any error. */
int tl_follow__fetch(tl_buf *out, const tl_follow_config *cfg, const char *path, size_t cap) TL_MUST_USE;

#endif
