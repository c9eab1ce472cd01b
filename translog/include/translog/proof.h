/*
 * RFC 6962 / RFC 9162 inclusion and consistency proofs: generation from stored complete
 * nodes, and verification by the RFC 9162 bit-walking algorithms.
 *
 * Proof hashes are in RFC 6962 §2.1.1 order: proof[0] is the leaf's sibling (or, for a
 * consistency proof, the lowest node), the last hash is nearest the root. Callers provide
 * arrays of TL_MAX_PROOF_HASHES, which holds every proof of a tree up to TL_MAX_TREE_SIZE.
 *
 * Sizes: every function refuses a size above TL_MAX_TREE_SIZE with TL_E_INPUT.
 * A consistency proof from size 0 is the empty proof and is valid against any tree: the empty
 * tree is a prefix of every tree (C2SP tlog-witness accepts `old 0` the same way). See
 * docs/proofs.md for this and the other decisions.
 */
#ifndef TRANSLOG_PROOF_H
#define TRANSLOG_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "translog/error.h"
#include "translog/hash.h"
#include "translog/merkle.h"

#define TL_MAX_PROOF_HASHES 64

/* Supplies the stored hash of the complete node (level, index); returns 0 or a tl_err (e.g.
 * TL_E_NOTFOUND, TL_E_IO). Generation asks only for nodes complete in the tree it works on,
 * never twice for one node in one call, and for the nodes of a proof in order from the leaf up,
 * so a source backed by tiles does well with a one-tile cache in ctx. */
typedef int (*tl_node_fn)(tl_hash *out, void *ctx, unsigned level, uint64_t index);

/* The root of the tree of `size` leaves (tl_hash_empty for 0), from popcount(size) nodes. */
int tl_root_at(tl_hash *root, uint64_t size, tl_node_fn get, void *ctx) TL_MUST_USE;

/* The inclusion proof of leaf `index` in the tree of `size` leaves into hashes[0..*n).
 * TL_E_INPUT if index >= size. Errors of `get` are passed on with context. Asks `get` for
 * exactly the complete nodes the proof is made of; a proof hash that stands for a partial
 * subtree on the right edge is folded here from the complete nodes below it. */
int tl_proof_inclusion(tl_hash *hashes, size_t *n, uint64_t index, uint64_t size,
		tl_node_fn get, void *ctx) TL_MUST_USE;

/* The consistency proof from the tree of `old_size` leaves to the tree of `size` leaves.
 * TL_E_INPUT if old_size > size; *n = 0 when old_size is 0 or equals size. */
int tl_proof_consistency(tl_hash *hashes, size_t *n, uint64_t old_size, uint64_t size,
		tl_node_fn get, void *ctx) TL_MUST_USE;

/* 0 if `proof` proves that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root
 * is `root` (RFC 9162 §2.1.3.2). TL_E_INPUT for index >= size or a proof of the wrong length,
 * TL_E_UNAUTHORIZED if the hashes do not lead to `root`; the message says which. */
int tl_verify_inclusion(const tl_hash *leaf_hash, uint64_t index, uint64_t size,
		const tl_hash *proof, size_t n, const tl_hash *root) TL_MUST_USE;

/* 0 if `proof` proves that the tree of `old_size` leaves with root `old_root` is a prefix of
 * the tree of `size` leaves with root `root` (RFC 9162 §2.1.4.2). TL_E_INPUT for
 * old_size > size or a proof of the wrong length, TL_E_UNAUTHORIZED if the hashes do not lead
 * to both roots. old_size == size needs an empty proof and equal roots. old_size == 0 needs an
 * empty proof and old_root equal to the empty tree's root (tl_hash_empty); `root` is then
 * unconstrained, since the empty tree is a prefix of every tree. */
int tl_verify_consistency(uint64_t old_size, uint64_t size, const tl_hash *proof, size_t n,
		const tl_hash *old_root, const tl_hash *root) TL_MUST_USE;

/* Rebuilds the frontier of the tree of `size` leaves from popcount(size) stored nodes, so a
 * log can resume appending after a restart without replaying its leaves. */
int tl_frontier_load(tl_frontier *f, uint64_t size, tl_node_fn get, void *ctx) TL_MUST_USE;

#endif
