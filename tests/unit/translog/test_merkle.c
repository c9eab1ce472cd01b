#include <check.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "merkle_ref.h"
#include "testutil.h"
#include "translog/merkle.h"
#include "translog/proof.h"

enum { FRONTIER_MAX = 1000 };

/* What one append reported through on_node. */
typedef struct emitted {
	size_t n;
	unsigned level[64];
	uint64_t index[64];
	tl_hash hash[64];
} emitted;

static void record(void *ctx, unsigned level, uint64_t index, const tl_hash *hash)
{
	emitted *e = ctx;

	ck_assert_uint_lt(e->n, 64);
	e->level[e->n] = level;
	e->index[e->n] = index;
	e->hash[e->n] = *hash;
	e->n++;
}

START_TEST(frontier_root_and_nodes_match_reference)
{
	ref_tree t;
	tl_frontier f;
	tl_hash root, leaf;
	emitted e;
	size_t total = 0, want_total = 0;

	ref_init(&t, FRONTIER_MAX);
	tl_frontier_init(&f);
	tl_frontier_root(&f, &root);
	ck_assert(tl_hash_equal(&root, ref_mth(&t, 0, 0)));
	for (uint64_t size = 1; size <= FRONTIER_MAX; size++) {
		ref_leaf_hash(&leaf, size - 1);
		e.n = 0;
		tl_frontier_append(&f, &leaf, record, &e);
		ck_assert_uint_eq(f.size, size);
		tl_frontier_root(&f, &root);
		ck_assert_msg(tl_hash_equal(&root, ref_mth(&t, 0, size)), "root of size %" PRIu64, size);
		/* Exactly the nodes that end at the new size become complete: one per level up to
		 * the trailing zeros of size, lowest first; none of them can have been reported
		 * before, since a node ends at one size only. */
		ck_assert_uint_eq(e.n, (size_t)__builtin_ctzll(size) + 1);
		for (size_t i = 0; i < e.n; i++) {
			uint64_t index = (size >> i) - 1;

			ck_assert_uint_eq(e.level[i], i);
			ck_assert_uint_eq(e.index[i], index);
			ck_assert(tl_node_complete(e.level[i], e.index[i], size));
			ck_assert(!tl_node_complete(e.level[i], e.index[i], size - 1));
			ck_assert_msg(tl_hash_equal(&e.hash[i], ref_mth(&t, index << i, (index + 1) << i)),
					"node (%zu, %" PRIu64 ")", i, index);
		}
		total += e.n;
	}
	/* Every complete node of the final tree, once. */
	for (unsigned l = 0; l < 64; l++)
		want_total += (uint64_t)FRONTIER_MAX >> l;
	ck_assert_uint_eq(total, want_total);
	ref_free(&t);
}
END_TEST

START_TEST(frontier_without_callback)
{
	tl_frontier a, b;
	tl_hash leaf, ra, rb;
	emitted e = { 0 };

	tl_frontier_init(&a);
	tl_frontier_init(&b);
	for (uint64_t i = 0; i < 37; i++) {
		ref_leaf_hash(&leaf, i);
		tl_frontier_append(&a, &leaf, NULL, NULL);
		tl_frontier_append(&b, &leaf, record, &e);
		e.n = 0;
	}
	tl_frontier_root(&a, &ra);
	tl_frontier_root(&b, &rb);
	ck_assert(tl_hash_equal(&ra, &rb));
	ck_assert_uint_eq(a.n, 3); /* 37 = 100101b */
}
END_TEST

typedef struct ref_source {
	ref_tree *t;
	uint64_t size;
	size_t calls;
} ref_source;

static int ref_get(tl_hash *out, void *ctx, unsigned level, uint64_t index)
{
	ref_source *s = ctx;

	ck_assert_msg(tl_node_complete(level, index, s->size), "node (%u, %" PRIu64 ") is not complete",
			level, index);
	s->calls++;
	*out = *ref_mth(s->t, index << level, (index + 1) << level);
	return 0;
}

static int failing_get(tl_hash *out, void *ctx, unsigned level, uint64_t index)
{
	(void)out;
	(void)ctx;
	(void)level;
	(void)index;
	return tl_error_set(TL_E_IO, "tile read failed");
}

START_TEST(frontier_load_matches_appends)
{
	ref_tree t;
	tl_frontier f, g;
	tl_hash leaf, r1, r2;

	ref_init(&t, FRONTIER_MAX);
	tl_frontier_init(&f);
	for (uint64_t size = 0; size <= FRONTIER_MAX; size++) {
		ref_source s = { &t, size, 0 };

		ck_assert_int_eq(tl_frontier_load(&g, size, ref_get, &s), 0);
		ck_assert_uint_eq(s.calls, (size_t)__builtin_popcountll(size));
		ck_assert_uint_eq(g.size, f.size);
		ck_assert_uint_eq(g.n, f.n);
		ck_assert_int_eq(memcmp(g.nodes, f.nodes, f.n * sizeof(tl_hash)), 0);
		s.calls = 0;
		ck_assert_int_eq(tl_root_at(&r1, size, ref_get, &s), 0);
		ck_assert_uint_eq(s.calls, (size_t)__builtin_popcountll(size));
		tl_frontier_root(&f, &r2);
		ck_assert(tl_hash_equal(&r1, &r2));
		/* A loaded frontier keeps appending like the original. */
		ref_leaf_hash(&leaf, size);
		if (size < FRONTIER_MAX) {
			tl_frontier_append(&f, &leaf, NULL, NULL);
			tl_frontier_append(&g, &leaf, NULL, NULL);
			tl_frontier_root(&g, &r1);
			ck_assert(tl_hash_equal(&r1, ref_mth(&t, 0, size + 1)));
		}
	}
	ref_free(&t);
}
END_TEST

START_TEST(frontier_load_errors)
{
	tl_frontier f;
	tl_hash root;

	ck_assert_int_eq(tl_frontier_load(&f, 5, failing_get, NULL), TL_E_IO);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "tile read failed"));
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "frontier of tree 5"));
	ck_assert_uint_eq(f.size, 0);
	ck_assert_uint_eq(f.n, 0);
	ck_assert_int_eq(tl_root_at(&root, 3, failing_get, NULL), TL_E_IO);
	ck_assert_int_eq(tl_frontier_load(&f, TL_MAX_TREE_SIZE + 1, failing_get, NULL), TL_E_INPUT);
	/* Size 0 needs no node at all. */
	ck_assert_int_eq(tl_root_at(&root, 0, failing_get, NULL), 0);
}
END_TEST

START_TEST(node_completeness)
{
	ck_assert(tl_node_complete(0, 0, 1));
	ck_assert(!tl_node_complete(0, 1, 1));
	ck_assert(!tl_node_complete(0, 0, 0));
	ck_assert(tl_node_complete(3, 0, 8));
	ck_assert(!tl_node_complete(3, 1, 15));
	ck_assert(tl_node_complete(3, 1, 16));
	ck_assert(tl_node_complete(63, 0, TL_MAX_TREE_SIZE));
	ck_assert(!tl_node_complete(63, 1, UINT64_MAX));
	ck_assert(!tl_node_complete(64, 0, UINT64_MAX));
	ck_assert(!tl_node_complete(0, UINT64_MAX, UINT64_MAX));
	ck_assert(tl_node_complete(0, UINT64_MAX - 1, UINT64_MAX));
}
END_TEST

/* The formulas against the reference are checked exhaustively in the proof suite; here the
 * extremes, where the largest proofs must still fit TL_MAX_PROOF_HASHES. */
START_TEST(proof_sizes_at_the_extremes)
{
	const uint64_t max = TL_MAX_TREE_SIZE;

	ck_assert_uint_eq(tl_inclusion_proof_size(0, 1), 0);
	ck_assert_uint_eq(tl_inclusion_proof_size(1, 1), 0);
	ck_assert_uint_eq(tl_inclusion_proof_size(0, max), 63);
	ck_assert_uint_eq(tl_inclusion_proof_size(max - 1, max), 63);
	ck_assert_uint_eq(tl_inclusion_proof_size(0, max - 1), 63);
	ck_assert_uint_eq(tl_inclusion_proof_size(max - 2, max - 1), 62);
	ck_assert_uint_eq(tl_consistency_proof_size(0, max), 0);
	ck_assert_uint_eq(tl_consistency_proof_size(max, max), 0);
	ck_assert_uint_eq(tl_consistency_proof_size(max, 1), 0);
	ck_assert_uint_eq(tl_consistency_proof_size(1, max), 63);
	/* The longest: an odd old size whose last leaf sits deepest: 63 levels plus the seed. */
	ck_assert_uint_eq(tl_consistency_proof_size(max - 1, max), 64);
	ck_assert_uint_eq(tl_consistency_proof_size(3, 5), 4);
	for (uint64_t old = max - 64; old < max; old++)
		ck_assert_uint_le(tl_consistency_proof_size(old, max), TL_MAX_PROOF_HASHES);
}
END_TEST

/* A store of the nodes on_node reported, per level, for the tree vectors. */
typedef struct node_store {
	size_t cap;
	tl_hash *lv[64];
	uint64_t count[64];
} node_store;

static void store_node(void *ctx, unsigned level, uint64_t index, const tl_hash *hash)
{
	node_store *s = ctx;

	ck_assert_uint_lt(index, s->cap);
	ck_assert_uint_eq(index, s->count[level]); /* reported in order, each once */
	s->lv[level][index] = *hash;
	s->count[level]++;
}

/* Checks a tree file (rfc6962_tree8.json layout): every node hash the frontier reports, and
 * the root after each append. */
static void check_tree_file(const char *path)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr);
	json_t *inputs, *levels, *roots;
	node_store s = { 0 };
	tl_frontier f;
	size_t n;

	ck_assert_msg(doc != NULL, "%s: %s", path, jerr.text);
	inputs = json_object_get(doc, "leaf_inputs_hex");
	levels = json_object_get(doc, "node_hashes_by_level_hex");
	roots = json_object_get(doc, "root_hash_by_tree_size_hex");
	ck_assert(json_is_array(inputs) && json_is_array(levels) && json_is_array(roots));
	n = json_array_size(inputs);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(json_array_size(roots), n + 1);
	s.cap = n;
	for (unsigned l = 0; l < 64; l++)
		ck_assert_ptr_nonnull(s.lv[l] = calloc(n, sizeof(tl_hash)));

	tl_frontier_init(&f);
	for (size_t size = 0; size <= n; size++) {
		json_t *r = json_array_get(roots, size);
		tl_hash want, got;

		if (size > 0) {
			uint8_t entry[256];
			size_t len = ref_unhex(entry, sizeof(entry),
					json_string_value(json_array_get(inputs, size - 1)));
			tl_hash leaf;

			tl_hash_leaf(&leaf, entry, len);
			tl_frontier_append(&f, &leaf, store_node, &s);
		}
		ck_assert_uint_eq(json_integer_value(json_object_get(r, "tree_size")), size);
		ck_assert_uint_eq(ref_unhex(want.b, sizeof(want.b),
					json_string_value(json_object_get(r, "root_hex"))), TL_HASH_SIZE);
		tl_frontier_root(&f, &got);
		ck_assert_msg(tl_hash_equal(&got, &want), "%s: root of size %zu", path, size);
	}
	ck_assert_uint_eq(s.count[json_array_size(levels)], 0);
	for (size_t l = 0; l < json_array_size(levels); l++) {
		json_t *row = json_array_get(levels, l);

		ck_assert_uint_eq(s.count[l], json_array_size(row));
		for (size_t i = 0; i < json_array_size(row); i++) {
			tl_hash want;

			ck_assert_uint_eq(ref_unhex(want.b, sizeof(want.b),
						json_string_value(json_array_get(row, i))), TL_HASH_SIZE);
			ck_assert_msg(tl_hash_equal(&s.lv[l][i], &want), "%s: node (%zu, %zu)", path, l, i);
		}
	}
	for (unsigned l = 0; l < 64; l++)
		free(s.lv[l]);
	json_decref(doc);
}

START_TEST(own_tree_vectors)
{
	check_tree_file(tu_source_path("tests/vectors/merkle/tree.json"));
}
END_TEST

START_TEST(rfc6962_tree8_vectors)
{
	const char *path = tu_research_path("tlog-vectors/rfc6962_tree8.json");

	if (path == NULL)
		return; /* research data is not part of every checkout */
	check_tree_file(path);
}
END_TEST

Suite *suite_merkle(void)
{
	Suite *s = suite_create("merkle");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, frontier_root_and_nodes_match_reference);
	tcase_add_test(tc, frontier_without_callback);
	tcase_add_test(tc, frontier_load_matches_appends);
	tcase_add_test(tc, frontier_load_errors);
	tcase_add_test(tc, node_completeness);
	tcase_add_test(tc, proof_sizes_at_the_extremes);
	tcase_add_test(tc, own_tree_vectors);
	tcase_add_test(tc, rfc6962_tree8_vectors);
	suite_add_tcase(s, tc);
	return s;
}
