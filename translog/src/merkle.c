#include "translog/merkle.h"

#include <stdlib.h>

#include "merkle_bits.h"

void tl_frontier_init(tl_frontier *f)
{
	f->size = 0;
	f->n = 0;
}

void tl_frontier_append(tl_frontier *f, const tl_hash *leaf,
		void (*on_node)(void *ctx, unsigned level, uint64_t index, const tl_hash *hash), void *ctx)
{
	uint64_t index = f->size;
	unsigned level = 0;
	tl_hash h = *leaf;

	/* One subtree per set bit of size is the invariant every step below relies on; a frontier
	 * that breaks it (or would wrap around) would make us write past nodes[]. */
	if (f->size == UINT64_MAX || f->n != (size_t)tl_popcount(f->size))
		abort();
	if (on_node != NULL)
		on_node(ctx, 0, index, &h);
	/* Each trailing one bit of the old size is a finished left sibling on the stack: merging
	 * with it completes the parent, exactly as binary increment carries. */
	while (index & 1) {
		f->n--;
		tl_hash_node(&h, &f->nodes[f->n], &h);
		index >>= 1;
		level++;
		if (on_node != NULL)
			on_node(ctx, level, index, &h);
	}
	f->nodes[f->n++] = h;
	f->size++;
}

void tl_frontier_root(const tl_frontier *f, tl_hash *root)
{
	size_t i;

	if (f->n == 0) {
		tl_hash_empty(root);
		return;
	}
	/* RFC 6962's MTH splits at the largest power of two, so the root of an unbalanced tree is
	 * the right-to-left fold of its perfect subtrees. */
	*root = f->nodes[f->n - 1];
	for (i = f->n - 1; i > 0; i--)
		tl_hash_node(root, &f->nodes[i - 1], root);
}

bool tl_node_complete(unsigned level, uint64_t index, uint64_t size)
{
	/* (index + 1) << level <= size, without the shift overflowing. */
	return level < 64 && index < (size >> level);
}

size_t tl_inclusion_proof_size(uint64_t index, uint64_t size)
{
	unsigned inner;

	if (index >= size)
		return 0;
	/* Below the level where index and size - 1 part, the path has a sibling at every level;
	 * above it, only where index has a one bit (a left sibling on the right edge). */
	inner = tl_bitlen(index ^ (size - 1));
	return inner + tl_popcount(index >> inner);
}

size_t tl_consistency_proof_size(uint64_t old_size, uint64_t size)
{
	unsigned shift;
	uint64_t index, shifted;

	if (old_size == 0 || old_size >= size)
		return 0;
	/* The proof is the inclusion proof of the last perfect subtree of the old tree, plus that
	 * subtree itself unless it is the whole old tree (the verifier then has it as old root). */
	shift = tl_ctz(old_size);
	index = (old_size - 1) >> shift;
	shifted = ((size - 1) >> shift) + 1;
	return tl_inclusion_proof_size(index, shifted) + (index != 0);
}
