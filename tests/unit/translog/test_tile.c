#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "merkle_ref.h"
#include "testutil.h"
#include "translog/tile.h"

static json_t *load_json(const char *path)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);

	ck_assert_msg(j != NULL, "%s: %s", path, jerr.text);
	return j;
}

static void check_round_trip(const char *path, const tl_tile *want)
{
	tl_tile got;
	char out[TL_TILE_PATH_MAX];

	ck_assert_msg(tl_tile_path_parse(&got, path, strlen(path)) == 0, "%s: %s", path, tl_error_message());
	ck_assert_int_eq(got.entries, want->entries);
	ck_assert_uint_eq(got.level, want->level);
	ck_assert_uint_eq(got.index, want->index);
	ck_assert_uint_eq(got.width, want->width);
	ck_assert_int_eq(tl_tile_path_format(out, want), 0);
	ck_assert_str_eq(out, path);
}

START_TEST(paths_from_own_vectors)
{
	json_t *j = load_json(tu_source_path("tests/vectors/tiles/paths.json"));
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(j, "valid"), i, v) {
		json_t *ji = json_object_get(v, "index");
		tl_tile t = {
			.entries = json_is_true(json_object_get(v, "entries")),
			.level = (unsigned)json_integer_value(json_object_get(v, "level")),
			.index = (uint64_t)json_integer_value(ji),
			.width = (unsigned)json_integer_value(json_object_get(v, "width")),
		};

		/* jansson's integers are signed 64-bit: larger indices are strings. */
		if (json_is_string(ji))
			t.index = strtoull(json_string_value(ji), NULL, 10);
		check_round_trip(json_string_value(json_object_get(v, "path")), &t);
	}
	json_array_foreach(json_object_get(j, "invalid"), i, v) {
		const char *p = json_string_value(json_object_get(v, "path"));
		tl_tile t;

		ck_assert_msg(tl_tile_path_parse(&t, p, strlen(p)) == TL_E_INPUT, "accepted \"%s\" (%s)", p,
			json_string_value(json_object_get(v, "why")));
		ck_assert_str_ne(tl_error_message(), "");
	}
	json_decref(j);
}
END_TEST

START_TEST(paths_from_c2sp_examples)
{
	const char *rp = tu_research_path("tlog-vectors/tiles_and_notes_misc.json");
	json_t *j, *v;
	size_t i, n = 0;

	if (rp == NULL)
		return; /* research data absent in this checkout */
	j = load_json(rp);
	json_array_foreach(json_object_get(json_object_get(j, "c2sp_tlog_tiles"), "path_examples"), i, v) {
		json_t *ei = json_object_get(v, "entries_index");
		json_t *w = json_object_get(v, "width");
		tl_tile t = {
			.entries = ei != NULL,
			.level = ei ? 0 : (unsigned)json_integer_value(json_object_get(v, "level")),
			.index = (uint64_t)json_integer_value(ei ? ei : json_object_get(v, "index")),
			.width = w ? (unsigned)json_integer_value(w) : TL_TILE_WIDTH,
		};

		check_round_trip(json_string_value(json_object_get(v, "path")), &t);
		n++;
	}
	ck_assert_uint_ge(n, 4);
	/* The sumdb scheme has a height element and "data": not ours, so its paths must not
	 * parse as something else by accident. */
	json_array_foreach(json_object_get(json_object_get(j, "golang_sumdb_tile_paths"), "examples"), i, v) {
		const char *p = json_string_value(json_object_get(v, "path"));
		tl_tile t;

		ck_assert_msg(tl_tile_path_parse(&t, p, strlen(p)) == TL_E_INPUT, "accepted sumdb path %s", p);
	}
	json_decref(j);
}
END_TEST

START_TEST(path_parse_is_bounded_by_len)
{
	const char full[] = "tile/0/x001/x234/067.p/112";
	const char nul[] = "tile/0/000\0.p/5";
	tl_tile t;

	/* A prefix of a valid path is parsed as exactly those bytes. */
	ck_assert_int_eq(tl_tile_path_parse(&t, full, strlen("tile/0/x001/x234/067")), 0);
	ck_assert_uint_eq(t.index, 1234067);
	ck_assert_uint_eq(t.width, 256);
	ck_assert_int_eq(tl_tile_path_parse(&t, full, strlen("tile/0/x001/x234/067.p/11")), 0);
	ck_assert_uint_eq(t.width, 11);
	ck_assert_int_eq(tl_tile_path_parse(&t, full, strlen("tile/0/x001/x234/06")), TL_E_INPUT);
	ck_assert_int_eq(tl_tile_path_parse(&t, full, 0), TL_E_INPUT);
	ck_assert_int_eq(tl_tile_path_parse(&t, nul, sizeof(nul) - 1), TL_E_INPUT);
}
END_TEST

START_TEST(path_format_refuses_out_of_range)
{
	char out[TL_TILE_PATH_MAX];
	tl_tile bad[] = {
		{ .level = 0, .index = 1, .width = 0 },
		{ .level = 0, .index = 1, .width = 257 },
		{ .level = 64, .index = 1, .width = 256 },
		{ .entries = true, .level = 1, .index = 1, .width = 256 },
	};
	tl_tile longest = { .entries = true, .index = UINT64_MAX, .width = 255 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(tl_tile_path_format(out, &bad[i]), TL_E_INPUT);
	ck_assert_int_eq(tl_tile_path_format(out, &longest), 0);
	ck_assert_str_eq(out, "tile/entries/x018/x446/x744/x073/x709/x551/615.p/255");
}
END_TEST

START_TEST(widths_of_the_70000_leaf_example)
{
	/* C2SP: 273 full level-0 tiles and one of width 112, one full level-1 tile and one of
	 * width 17, one level-2 tile of width 1. */
	const uint64_t s = 70000;

	ck_assert_uint_eq(tl_tile_width_at(0, 0, s), 256);
	ck_assert_uint_eq(tl_tile_width_at(0, 272, s), 256);
	ck_assert_uint_eq(tl_tile_width_at(0, 273, s), 112);
	ck_assert_uint_eq(tl_tile_width_at(0, 274, s), 0);
	ck_assert_uint_eq(tl_tile_width_at(1, 0, s), 256);
	ck_assert_uint_eq(tl_tile_width_at(1, 1, s), 17);
	ck_assert_uint_eq(tl_tile_width_at(1, 2, s), 0);
	ck_assert_uint_eq(tl_tile_width_at(2, 0, s), 1);
	ck_assert_uint_eq(tl_tile_width_at(2, 1, s), 0);
	ck_assert_uint_eq(tl_tile_width_at(3, 0, s), 0);
	/* A tree of 256: one full level-0 tile and a level-1 tile of width 1. */
	ck_assert_uint_eq(tl_tile_width_at(0, 0, 256), 256);
	ck_assert_uint_eq(tl_tile_width_at(0, 1, 256), 0);
	ck_assert_uint_eq(tl_tile_width_at(1, 0, 256), 1);
	ck_assert_uint_eq(tl_tile_width_at(0, 0, 0), 0);
	ck_assert_uint_eq(tl_tile_width_at(7, 0, UINT64_MAX), 255);
	ck_assert_uint_eq(tl_tile_width_at(8, 0, UINT64_MAX), 0);
	ck_assert_uint_eq(tl_tile_width_at(63, 0, UINT64_MAX), 0);
}
END_TEST

START_TEST(locate_nodes)
{
	unsigned tl, sub, pos;
	uint64_t ti;

	tl_tile_locate(&tl, &ti, &sub, &pos, 0, 1234067);
	ck_assert_uint_eq(tl, 0);
	ck_assert_uint_eq(ti, 1234067 / 256);
	ck_assert_uint_eq(sub, 0);
	ck_assert_uint_eq(pos, 1234067 % 256);
	/* Level 7 node 5 covers leaves [640, 768): tile 0/2, sub-level 7, position 1. */
	tl_tile_locate(&tl, &ti, &sub, &pos, 7, 5);
	ck_assert_uint_eq(tl, 0);
	ck_assert_uint_eq(ti, 2);
	ck_assert_uint_eq(sub, 7);
	ck_assert_uint_eq(pos, 1);
	/* Level 8 is the base of level-1 tiles. */
	tl_tile_locate(&tl, &ti, &sub, &pos, 8, 300);
	ck_assert_uint_eq(tl, 1);
	ck_assert_uint_eq(ti, 1);
	ck_assert_uint_eq(sub, 0);
	ck_assert_uint_eq(pos, 44);
	tl_tile_locate(&tl, &ti, &sub, &pos, 63, 1);
	ck_assert_uint_eq(tl, 7);
	ck_assert_uint_eq(ti, 0);
	ck_assert_uint_eq(sub, 7);
	ck_assert_uint_eq(pos, 1);
	ck_assert_uint_eq(tl_tile_node_slot(0, 0), 0);
	ck_assert_uint_eq(tl_tile_node_slot(1, 0), 256);
	ck_assert_uint_eq(tl_tile_node_slot(7, 1), TL_TILE_NODES - 1);
}
END_TEST

START_TEST(nodes_from_base_hashes)
{
	tl_hash base[TL_TILE_WIDTH], nodes[TL_TILE_NODES], got, want;

	for (unsigned i = 0; i < TL_TILE_WIDTH; i++)
		tl_hash_leaf(&base[i], &i, sizeof(i));
	memcpy(nodes, base, sizeof(base));
	/* Expanding in steps gives the same as expanding at once. */
	tl_tile_expand(nodes, 0, 3);
	tl_tile_expand(nodes, 3, 100);
	tl_tile_expand(nodes, 100, 256);
	for (unsigned sub = 0; sub < TL_TILE_HEIGHT; sub++)
		for (unsigned pos = 0; pos < (TL_TILE_WIDTH >> sub); pos++) {
			ref_mth_of_leaves(&want, base + ((size_t)pos << sub), (size_t)1 << sub);
			ck_assert_int_eq(tl_tile_node(&got, base, TL_TILE_WIDTH, sub, pos), 0);
			ck_assert(tl_hash_equal(&got, &want));
			ck_assert(tl_hash_equal(&nodes[tl_tile_node_slot(sub, pos)], &want));
		}
	/* Complete within a partial width, and not beyond it. */
	ck_assert_int_eq(tl_tile_node(&got, base, 200, 7, 0), 0);
	ck_assert_int_eq(tl_tile_node(&got, base, 200, 6, 2), 0);
	ck_assert_int_eq(tl_tile_node(&got, base, 200, 6, 3), TL_E_INPUT);
	ck_assert_int_eq(tl_tile_node(&got, base, 200, 7, 1), TL_E_INPUT);
	ck_assert_int_eq(tl_tile_node(&got, base, 200, 0, 200), TL_E_INPUT);
	ck_assert_int_eq(tl_tile_node(&got, base, 256, 8, 0), TL_E_INPUT);
	ck_assert_int_eq(tl_tile_node(&got, base, 256, 7, 2), TL_E_INPUT);
}
END_TEST

Suite *suite_tile(void)
{
	Suite *s = suite_create("tile");
	TCase *tc = tcase_create("tile");

	tcase_add_test(tc, paths_from_own_vectors);
	tcase_add_test(tc, paths_from_c2sp_examples);
	tcase_add_test(tc, path_parse_is_bounded_by_len);
	tcase_add_test(tc, path_format_refuses_out_of_range);
	tcase_add_test(tc, widths_of_the_70000_leaf_example);
	tcase_add_test(tc, locate_nodes);
	tcase_add_test(tc, nodes_from_base_hashes);
	suite_add_tcase(s, tc);
	return s;
}
