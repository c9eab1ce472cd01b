/*
 * A naive reference of RFC 6962 §2.1 for the translog suites: MTH, PATH and
 * SUBPROOF transcribed from their recursive definitions, sharing nothing with translog's
 * implementation but tl_hash_leaf/tl_hash_node. MTH(D[lo:hi]) is memoised per range so that
 * exhaustive checks over every (index, size) stay fast; the memo does not change what is
 * computed. Each proof element also records the leaf range [lo, hi) it hashes.
 */
#ifndef TEST_MERKLE_REF_H
#define TEST_MERKLE_REF_H

#include <check.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "translog/bytes.h"
#include "translog/hash.h"

/* Check's ck_assert reports every passing assertion to its parent process (a syscall each);
 * loops that make millions of checks use these, which only speak up on failure. */
#define REQUIRE(expr, ...)                                                              \
	do {                                                                            \
		if (!(expr))                                                            \
			ck_abort_msg("Assertion '" #expr "' failed: " __VA_ARGS__);     \
	} while (0)
#define REQUIRE_INT_EQ(a, b)                                                            \
	do {                                                                            \
		intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);                        \
		if (a_ != b_)                                                           \
			ck_abort_msg("Assertion '%s == %s' failed: %jd != %jd", #a, #b, a_, b_); \
	} while (0)
#define REQUIRE_UINT_EQ(a, b)                                                           \
	do {                                                                            \
		uintmax_t a_ = (uintmax_t)(a), b_ = (uintmax_t)(b);                     \
		if (a_ != b_)                                                           \
			ck_abort_msg("Assertion '%s == %s' failed: %ju != %ju", #a, #b, a_, b_); \
	} while (0)

typedef struct ref_tree {
	size_t n;
	tl_hash *leaves;
	tl_hash *memo; /* (n + 1) * (n + 1) ranges */
	unsigned char *have;
} ref_tree;

typedef struct ref_elem {
	tl_hash hash;
	size_t lo, hi;
} ref_elem;

/* The entry of leaf i in the suites' synthetic logs: its index, 8 bytes big-endian, so all
 * leaves differ. */
static inline void ref_leaf_hash(tl_hash *out, uint64_t i)
{
	uint8_t be[8];

	for (int b = 0; b < 8; b++)
		be[b] = (uint8_t)(i >> (56 - 8 * b));
	tl_hash_leaf(out, be, sizeof(be));
}

static inline void ref_init_leaves(ref_tree *t, const tl_hash *leaves, size_t n)
{
	t->n = n;
	t->leaves = malloc((n ? n : 1) * sizeof(tl_hash));
	t->memo = malloc((n + 1) * (n + 1) * sizeof(tl_hash));
	t->have = calloc((n + 1) * (n + 1), 1);
	ck_assert(t->leaves != NULL && t->memo != NULL && t->have != NULL);
	for (size_t i = 0; i < n; i++) {
		if (leaves != NULL)
			t->leaves[i] = leaves[i];
		else
			ref_leaf_hash(&t->leaves[i], i);
	}
}

static inline void ref_init(ref_tree *t, size_t n)
{
	ref_init_leaves(t, NULL, n);
}

static inline void ref_free(ref_tree *t)
{
	free(t->leaves);
	free(t->memo);
	free(t->have);
}

static inline size_t ref_split(size_t n)
{
	size_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

/* MTH(D[lo:hi]). */
static inline const tl_hash *ref_mth(ref_tree *t, size_t lo, size_t hi)
{
	size_t slot = lo * (t->n + 1) + hi;

	REQUIRE(lo <= hi && hi <= t->n, "range [%zu, %zu) of %zu leaves", lo, hi, t->n);
	if (!t->have[slot]) {
		if (hi == lo) {
			tl_hash_empty(&t->memo[slot]);
		} else if (hi - lo == 1) {
			t->memo[slot] = t->leaves[lo];
		} else {
			size_t k = ref_split(hi - lo);

			tl_hash_node(&t->memo[slot], ref_mth(t, lo, lo + k), ref_mth(t, lo + k, hi));
		}
		t->have[slot] = 1;
	}
	return &t->memo[slot];
}

/* MTH(D[n]) of the n leaf hashes at `leaves`, without a ref_tree: nothing memoised or
 * allocated, for the large or changing trees of the log suites, where (n + 1)^2 memo slots
 * would not fit. */
static inline void ref_mth_of_leaves(tl_hash *out, const tl_hash *leaves, size_t n)
{
	size_t k;
	tl_hash l, r;

	if (n == 0) {
		tl_hash_empty(out);
		return;
	}
	if (n == 1) {
		*out = leaves[0];
		return;
	}
	k = ref_split(n);
	ref_mth_of_leaves(&l, leaves, k);
	ref_mth_of_leaves(&r, leaves + k, n - k);
	tl_hash_node(out, &l, &r);
}

static inline size_t ref_elem_put(ref_tree *t, ref_elem *out, size_t lo, size_t hi)
{
	out->hash = *ref_mth(t, lo, hi);
	out->lo = lo;
	out->hi = hi;
	return 1;
}

/* PATH(m, D[lo:hi]), m relative to lo. */
static inline size_t ref_path(ref_tree *t, ref_elem *out, size_t m, size_t lo, size_t hi)
{
	size_t k, c;

	if (hi - lo <= 1)
		return 0;
	k = ref_split(hi - lo);
	if (m < k) {
		c = ref_path(t, out, m, lo, lo + k);
		return c + ref_elem_put(t, &out[c], lo + k, hi);
	}
	c = ref_path(t, out, m - k, lo + k, hi);
	return c + ref_elem_put(t, &out[c], lo, lo + k);
}

/* SUBPROOF(m, D[lo:hi], b), m relative to lo. */
static inline size_t ref_subproof(ref_tree *t, ref_elem *out, size_t m, size_t lo, size_t hi, int b)
{
	size_t k, c;

	if (m == hi - lo)
		return b ? 0 : ref_elem_put(t, out, lo, hi);
	k = ref_split(hi - lo);
	if (m <= k) {
		c = ref_subproof(t, out, m, lo, lo + k, b);
		return c + ref_elem_put(t, &out[c], lo + k, hi);
	}
	c = ref_subproof(t, out, m - k, lo + k, hi, 0);
	return c + ref_elem_put(t, &out[c], lo, lo + k);
}

/* PROOF(m, D[n]), with our policy for m == 0 and m == n: the empty proof. */
static inline size_t ref_consistency(ref_tree *t, ref_elem *out, size_t m, size_t n)
{
	if (m == 0 || m == n)
		return 0;
	return ref_subproof(t, out, m, 0, n, 1);
}

/* Decodes lowercase hex of any even length into out (cap bytes); fails the test otherwise. */
static inline size_t ref_unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t len = strlen(hex);

	ck_assert_msg(len % 2 == 0 && len / 2 <= cap, "bad hex in vector: %s", hex);
	ck_assert_msg(tl_hex_decode(out, len / 2, hex, len) == 0, "bad hex in vector: %s", hex);
	return len / 2;
}

#endif
