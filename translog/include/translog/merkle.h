/*
 * RFC 6962 / RFC 9162 Merkle tree math that needs no storage: the frontier that appends
 * leaves and yields the root incrementally, node coordinates, and the sizes of proofs.
 *
 * Nodes are named by (level, index): the node at (level, index) covers the leaves
 * [index << level, (index + 1) << level). A node is *complete* in a tree of `size` leaves when
 * (index + 1) << level <= size; only complete nodes are ever stored, because only they never
 * change as the log grows. The root of a tree whose size is not a power of two is not a
 * complete node: it is folded from the complete nodes on the right edge (see docs/proofs.md).
 */
#ifndef TRANSLOG_MERKLE_H
#define TRANSLOG_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "translog/hash.h"

/* Tree sizes are capped at 2^63 leaves: then every proof fits in 64 hashes (a consistency proof
 * can be one hash longer than the tree is high), and no coordinate arithmetic can overflow. */
#define TL_MAX_TREE_SIZE ((uint64_t)1 << 63)

/* A frontier (compact range [0, size)): the roots of the perfect subtrees on the right edge,
 * enough to append leaves and compute the root incrementally. nodes[0] is the largest subtree
 * (leftmost), nodes[n - 1] the smallest; there is one per set bit of size. */
typedef struct tl_frontier {
	uint64_t size;
	size_t n;
	tl_hash nodes[64];
} tl_frontier;

/* The empty tree. */
void tl_frontier_init(tl_frontier *f);

/* Appends one leaf hash. For every complete node the append creates (the leaf itself at level 0,
 * then each finished parent), calls on_node(ctx, level, index, hash), lowest level first, where
 * the node at (level, index) covers leaves [index<<level, (index+1)<<level). on_node may be NULL.
 * Over a whole log, every complete node is reported exactly once. The caller keeps f->size
 * below TL_MAX_TREE_SIZE (the storage layer refuses appends past it); at 2^64 - 1 this aborts. */
void tl_frontier_append(tl_frontier *f, const tl_hash *leaf,
		void (*on_node)(void *ctx, unsigned level, uint64_t index, const tl_hash *hash), void *ctx);

/* The root of the frontier's tree: tl_hash_empty for size 0. */
void tl_frontier_root(const tl_frontier *f, tl_hash *root);

/* Whether (level, index) is a complete node of a tree of `size` leaves. */
bool tl_node_complete(unsigned level, uint64_t index, uint64_t size);

/* The number of hashes in the inclusion proof of leaf `index` in a tree of `size` leaves
 * (RFC 9162 §2.1.3), or 0 if index >= size (a one-leaf tree's proof is also empty). */
size_t tl_inclusion_proof_size(uint64_t index, uint64_t size);

/* The number of hashes in the consistency proof from `old_size` to `size` (RFC 9162 §2.1.4):
 * 0 when old_size is 0 or equal to size, or when old_size > size. */
size_t tl_consistency_proof_size(uint64_t old_size, uint64_t size);

#endif
