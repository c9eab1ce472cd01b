/*
 * C2SP tlog-tiles geometry: tile and entry-bundle paths, which tile holds a Merkle node, and
 * the Merkle nodes inside a tile.
 *
 * A tile at level L holds up to 256 consecutive hashes of tree level 8L (its "base"); the
 * 8 tree levels 8L..8L+7 are the tile's sub-levels 0..7, and the hash of a full tile is the
 * node at tree level 8(L+1), which is a base hash of the tile above. An entry bundle holds the
 * entries whose leaf hashes form the level-0 tile of the same index, each prefixed by its
 * length as a big-endian uint16 (so no entry can exceed 65535 bytes).
 *
 * Node (level, index) of the tree covers leaves [index << level, (index + 1) << level).
 */
#ifndef TRANSLOG_TILE_H
#define TRANSLOG_TILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "translog/error.h"
#include "translog/hash.h"

#define TL_TILE_WIDTH 256u        /* hashes in a full tile, entries in a full bundle */
#define TL_TILE_HEIGHT 8u         /* tree levels per tile */
#define TL_TILE_MAX_LEVEL 63u     /* the spec's bound on <L> in a path */
#define TL_TILE_FULL_BYTES (TL_TILE_WIDTH * TL_HASH_SIZE)
#define TL_TILE_MAX_ENTRY 65535u  /* the uint16 length prefix of entry bundles */
/* Nodes of sub-levels 0..7 of a tile: 256 + 128 + ... + 2. */
#define TL_TILE_NODES (2 * TL_TILE_WIDTH - 2)
/* Longest path tl_tile_path_format writes, with its NUL: "tile/entries/" + 7 groups of
 * "x123/" for a 64-bit index + ".p/255". */
#define TL_TILE_PATH_MAX 64

/* A tile or an entry bundle, as named by a path. */
typedef struct tl_tile {
	bool entries;   /* tile/entries/...: an entry bundle; level is then 0 */
	unsigned level; /* 0..TL_TILE_MAX_LEVEL */
	uint64_t index; /* N: the tile's position within its level */
	unsigned width; /* 1..256; 256 is a full tile (no ".p/<W>" suffix) */
} tl_tile;

/* Writes the canonical path "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]" (no
 * leading slash) into out[TL_TILE_PATH_MAX]. Fails with TL_E_INPUT if the tile is out of
 * range (level above 63, width 0 or above 256, an entry bundle with a level). */
int tl_tile_path_format(char *out, const tl_tile *t) TL_MUST_USE;

/* Parses a path (no leading slash, exactly "tile/...", len bytes, no NUL needed). Strict:
 * only the canonical form of each number is accepted (3-digit groups, "x" on all but the
 * last, no leading "x000" group, levels and widths without leading zeros, width 1..255
 * after ".p/"), at most 7 groups, and nothing else before or after. TL_E_INPUT otherwise. */
int tl_tile_path_parse(tl_tile *out, const char *path, size_t len) TL_MUST_USE;

/* The width of tile (level, index) in a tree of `size` leaves, 1..256, or 0 when that tile
 * does not exist at that size (empty tiles are never served). Entry bundles have the widths
 * of level 0. */
unsigned tl_tile_width_at(unsigned level, uint64_t index, uint64_t size);

/* Where node (level, index) of the tree lives: the tile (level / 8, ...) and, inside it, the
 * sub-level (level % 8) and the position within that sub-level (0 .. (256 >> sub) - 1).
 * level must be below 64. */
void tl_tile_locate(unsigned *tile_level, uint64_t *tile_index, unsigned *sub, unsigned *pos,
	unsigned level, uint64_t index);

/* Where the node at (sub, pos) sits in a tile's node array (see tl_tile_expand). */
static inline size_t tl_tile_node_slot(unsigned sub, unsigned pos)
{
	return (size_t)(2 * TL_TILE_WIDTH - (2 * TL_TILE_WIDTH >> sub)) + pos;
}

/* The node at (sub, pos) of a tile from its first `width` base hashes, hashing only the
 * (1 << sub) - 1 nodes below it. Fails with TL_E_INPUT if sub > 7 or the node is not
 * complete within `width` hashes. */
int tl_tile_node(tl_hash *out, const tl_hash *base, unsigned width, unsigned sub, unsigned pos) TL_MUST_USE;

/* Fills nodes[TL_TILE_NODES] with every complete node of sub-levels 0..7 of a tile whose
 * first `width` (0..256) base hashes are in nodes[0..width): sub-level s starts at
 * tl_tile_node_slot(s, 0). Slots of nodes not complete at that width are left as they are.
 * `from` (0..width) says how many base hashes were already expanded before, so that a growing
 * partial tile only hashes its new nodes. */
void tl_tile_expand(tl_hash *nodes, unsigned from, unsigned width);

#endif
