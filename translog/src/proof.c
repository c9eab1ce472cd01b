#include "translog/proof.h"

#include <inttypes.h>

#include "merkle_bits.h"

/* Fetches one complete node. The thread's message is cleared first so that a source that fails
 * without setting one does not get a stale message attached to its error. */
static int fetch(tl_hash *out, tl_node_fn get, void *ctx, unsigned level, uint64_t index)
{
	int rc;

	tl_error_clear();
	rc = get(out, ctx, level, index);
	if (rc == 0)
		return 0;
	if (rc > 0)
		return tl_error_set(TL_E_INTERNAL, "node source returned %d for node (%u, %" PRIu64 ")",
				rc, level, index);
	return tl_error_wrap(rc, "node (%u, %" PRIu64 ")", level, index);
}

/* Appends the hashes that prove the complete node (level, index) is in the tree of `size`
 * leaves, in RFC 6962 order. With fork = the highest node on the path that is still complete,
 * they are: the siblings below the fork, then the fork's right sibling (the partial subtree
 * [end, size), folded from its complete nodes), then the perfect subtrees left of the fork,
 * lowest first. Every complete node is asked for once and nothing else is. */
static int path_hashes(tl_hash *out, size_t *n, unsigned level, uint64_t index, uint64_t size,
		tl_node_fn get, void *ctx)
{
	/* index < size >> level, so they part at a bit where size has the one: the fork. */
	unsigned inner = tl_bitlen(index ^ (size >> level)) - 1;
	unsigned fork_level = level + inner;
	uint64_t begin = (index >> inner) << fork_level;
	uint64_t end = begin + ((uint64_t)1 << fork_level);
	uint64_t rest, pos;
	unsigned i;
	int rc;

	if (*n + inner + (end < size) + tl_popcount(begin) > TL_MAX_PROOF_HASHES)
		return tl_error_set(TL_E_INTERNAL, "proof of node (%u, %" PRIu64 ") in tree %" PRIu64
				" exceeds %d hashes", level, index, size, TL_MAX_PROOF_HASHES);
	for (i = 0; i < inner; i++)
		if ((rc = fetch(&out[(*n)++], get, ctx, level + i, (index >> i) ^ 1)) != 0)
			return rc;
	/* The right part is shorter than the fork, so it decomposes into subtrees below fork_level;
	 * taking them smallest (rightmost) first folds them right to left as MTH does. */
	if (end < size) {
		tl_hash *acc = &out[(*n)++];
		tl_hash h;
		int first = 1;

		rest = size - end;
		pos = size;
		while (rest != 0) {
			unsigned l = tl_ctz(rest);

			pos -= (uint64_t)1 << l;
			rest &= rest - 1;
			if ((rc = fetch(first ? acc : &h, get, ctx, l, pos >> l)) != 0)
				return rc;
			if (!first)
				tl_hash_node(acc, &h, acc);
			first = 0;
		}
	}
	/* begin has no bits at or below fork_level, so these are all above the fork. */
	pos = begin;
	while (pos != 0) {
		unsigned l = tl_ctz(pos);

		if ((rc = fetch(&out[(*n)++], get, ctx, l, (pos >> l) - 1)) != 0)
			return rc;
		pos &= pos - 1;
	}
	return 0;
}

int tl_frontier_load(tl_frontier *f, uint64_t size, tl_node_fn get, void *ctx)
{
	uint64_t start = 0;
	int rc;

	tl_frontier_init(f);
	if (size > TL_MAX_TREE_SIZE)
		return tl_error_set(TL_E_INPUT, "tree size %" PRIu64 " exceeds the maximum %" PRIu64,
				size, TL_MAX_TREE_SIZE);
	for (unsigned l = 64; l-- > 0;) {
		if (!(size >> l & 1))
			continue;
		if ((rc = fetch(&f->nodes[f->n], get, ctx, l, start >> l)) != 0) {
			tl_frontier_init(f);
			return tl_error_wrap(rc, "frontier of tree %" PRIu64, size);
		}
		f->n++;
		start += (uint64_t)1 << l;
	}
	f->size = size;
	return 0;
}

int tl_root_at(tl_hash *root, uint64_t size, tl_node_fn get, void *ctx)
{
	tl_frontier f;
	int rc;

	if ((rc = tl_frontier_load(&f, size, get, ctx)) != 0)
		return tl_error_wrap(rc, "root of tree %" PRIu64, size);
	tl_frontier_root(&f, root);
	return 0;
}

int tl_proof_inclusion(tl_hash *hashes, size_t *n, uint64_t index, uint64_t size,
		tl_node_fn get, void *ctx)
{
	int rc;

	*n = 0;
	if (size > TL_MAX_TREE_SIZE)
		return tl_error_set(TL_E_INPUT, "inclusion proof: tree size %" PRIu64
				" exceeds the maximum %" PRIu64, size, TL_MAX_TREE_SIZE);
	if (index >= size)
		return tl_error_set(TL_E_INPUT, "inclusion proof: leaf index %" PRIu64
				" is not below tree size %" PRIu64, index, size);
	if ((rc = path_hashes(hashes, n, 0, index, size, get, ctx)) != 0) {
		*n = 0;
		return tl_error_wrap(rc, "inclusion proof of leaf %" PRIu64 " in tree %" PRIu64,
				index, size);
	}
	return 0;
}

int tl_proof_consistency(tl_hash *hashes, size_t *n, uint64_t old_size, uint64_t size,
		tl_node_fn get, void *ctx)
{
	unsigned level;
	uint64_t index;
	int rc;

	*n = 0;
	if (size > TL_MAX_TREE_SIZE)
		return tl_error_set(TL_E_INPUT, "consistency proof: tree size %" PRIu64
				" exceeds the maximum %" PRIu64, size, TL_MAX_TREE_SIZE);
	if (old_size > size)
		return tl_error_set(TL_E_INPUT, "consistency proof: old size %" PRIu64
				" is larger than new size %" PRIu64, old_size, size);
	if (old_size == 0 || old_size == size)
		return 0;
	/* The last perfect subtree of the old tree; proving it is in the new tree proves the whole
	 * old tree is, because everything left of it is shared. */
	level = tl_ctz(old_size);
	index = (old_size - 1) >> level;
	/* When it is the whole old tree, the verifier already holds it as the old root. */
	if (index != 0 && (rc = fetch(&hashes[(*n)++], get, ctx, level, index)) != 0)
		goto fail;
	if ((rc = path_hashes(hashes, n, level, index, size, get, ctx)) != 0)
		goto fail;
	return 0;
fail:
	*n = 0;
	return tl_error_wrap(rc, "consistency proof from %" PRIu64 " to %" PRIu64, old_size, size);
}

/* The verifiers' walk up from a node (fn) of the tree whose last node is sn (RFC 9162
 * §2.1.3.2, §2.1.4.2): where the path meets the right edge as a left child it has no right
 * sibling, so those levels hash nothing. Climbs until fn is a right child or the root. */
static void skip_levels_without_sibling(uint64_t *fn, uint64_t *sn)
{
	while (!(*fn & 1) && *fn != 0) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

int tl_verify_inclusion(const tl_hash *leaf_hash, uint64_t index, uint64_t size,
		const tl_hash *proof, size_t n, const tl_hash *root)
{
	uint64_t fn, sn;
	size_t want;
	tl_hash r;

	if (size > TL_MAX_TREE_SIZE)
		return tl_error_set(TL_E_INPUT, "inclusion proof: tree size %" PRIu64
				" exceeds the maximum %" PRIu64, size, TL_MAX_TREE_SIZE);
	if (index >= size)
		return tl_error_set(TL_E_INPUT, "inclusion proof: leaf index %" PRIu64
				" is not below tree size %" PRIu64, index, size);
	want = tl_inclusion_proof_size(index, size);
	if (n != want)
		return tl_error_set(TL_E_INPUT, "inclusion proof: %zu hashes given, leaf %" PRIu64
				" of tree %" PRIu64 " needs %zu", n, index, size, want);
	/* RFC 9162 §2.1.3.2: fn walks the leaf's path, sn the right edge. */
	fn = index;
	sn = size - 1;
	r = *leaf_hash;
	for (size_t i = 0; i < n; i++) {
		if (sn == 0)
			return tl_error_set(TL_E_UNAUTHORIZED, "inclusion proof: hash %zu is past the root", i);
		if ((fn & 1) || fn == sn) {
			tl_hash_node(&r, &proof[i], &r);
			skip_levels_without_sibling(&fn, &sn);
		} else {
			tl_hash_node(&r, &r, &proof[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return tl_error_set(TL_E_UNAUTHORIZED, "inclusion proof: the hashes end below the root");
	if (!tl_hash_equal(&r, root))
		return tl_error_set(TL_E_UNAUTHORIZED, "inclusion proof: leaf %" PRIu64 " of tree %" PRIu64
				" does not lead to the tree's root", index, size);
	return 0;
}

int tl_verify_consistency(uint64_t old_size, uint64_t size, const tl_hash *proof, size_t n,
		const tl_hash *old_root, const tl_hash *root)
{
	uint64_t fn, sn;
	tl_hash fr, sr;
	size_t want, i;

	if (size > TL_MAX_TREE_SIZE)
		return tl_error_set(TL_E_INPUT, "consistency proof: tree size %" PRIu64
				" exceeds the maximum %" PRIu64, size, TL_MAX_TREE_SIZE);
	if (old_size > size)
		return tl_error_set(TL_E_INPUT, "consistency proof: old size %" PRIu64
				" is larger than new size %" PRIu64, old_size, size);
	if (old_size == size || old_size == 0) {
		tl_hash empty;

		if (n != 0)
			return tl_error_set(TL_E_INPUT, "consistency proof: %zu hashes given from %" PRIu64
					" to %" PRIu64 ", which needs none", n, old_size, size);
		if (old_size == size && !tl_hash_equal(old_root, root))
			return tl_error_set(TL_E_UNAUTHORIZED, "consistency proof: two different roots for "
					"tree size %" PRIu64, size);
		tl_hash_empty(&empty);
		if (old_size == 0 && !tl_hash_equal(old_root, &empty))
			return tl_error_set(TL_E_UNAUTHORIZED, "consistency proof: old root of size 0 is "
					"not the empty tree's root");
		return 0;
	}
	want = tl_consistency_proof_size(old_size, size);
	if (n != want)
		return tl_error_set(TL_E_INPUT, "consistency proof: %zu hashes given from %" PRIu64
				" to %" PRIu64 ", which needs %zu", n, old_size, size, want);
	/* RFC 9162 §2.1.4.2. A power-of-two old tree is its own last perfect subtree, so the
	 * proof leaves it out and the old root stands in for it. */
	i = 0;
	if ((old_size & (old_size - 1)) == 0)
		fr = *old_root;
	else
		fr = proof[i++];
	sr = fr;
	fn = old_size - 1;
	sn = size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < n; i++) {
		if (sn == 0)
			return tl_error_set(TL_E_UNAUTHORIZED, "consistency proof: hash %zu is past the root", i);
		if ((fn & 1) || fn == sn) {
			tl_hash_node(&fr, &proof[i], &fr);
			tl_hash_node(&sr, &proof[i], &sr);
			skip_levels_without_sibling(&fn, &sn);
		} else {
			tl_hash_node(&sr, &sr, &proof[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return tl_error_set(TL_E_UNAUTHORIZED, "consistency proof: the hashes end below the root");
	if (!tl_hash_equal(&fr, old_root))
		return tl_error_set(TL_E_UNAUTHORIZED, "consistency proof from %" PRIu64 " to %" PRIu64
				": the hashes do not lead to the old root", old_size, size);
	if (!tl_hash_equal(&sr, root))
		return tl_error_set(TL_E_UNAUTHORIZED, "consistency proof from %" PRIu64 " to %" PRIu64
				": the hashes do not lead to the new root", old_size, size);
	return 0;
}
