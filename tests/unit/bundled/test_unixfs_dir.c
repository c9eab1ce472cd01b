/*
 * UnixFS directories (bd_unixfs__write_dir_node, bd_unixfs__read_any_node): the empty one
 * has the CID Kubo gives it, entries read back with their names and sizes, names must come
 * in byte order, and the file reader still takes no directory.
 */
#include <check.h>
#include <string.h>

#include "../../../bundled/src/unixfs.h"
#include "bundled/cid.h"

START_TEST(the_empty_directory_is_kubos)
{
	tl_buf b = tl_buf_make(1024);
	char text[BD_CID_TEXT_MAX];
	bd_cid cid;

	ck_assert_int_eq(bd_unixfs__write_dir_node(&b, NULL, 0), 0);
	bd_cid_of(&cid, BD_CODEC_DAG_PB, b.data, b.len);
	ck_assert_int_eq(bd_cid_format(text, sizeof(text), &cid), 0);
	/* `ipfs object new unixfs-dir`, as CIDv1: QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn */
	ck_assert_str_eq(text, "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354");
	tl_buf_free(&b);
}
END_TEST

START_TEST(entries_read_back_in_order)
{
	tl_buf b = tl_buf_make(4096);
	bd_unixfs__dirent e[3];
	bd_unixfs__node node;
	static const char *const names[3] = { "000", "x001", "entries" };

	/* "entries" < "x001" in byte order: out of order first. */
	for (int i = 0; i < 3; i++) {
		e[i].name = names[i];
		bd_cid_of(&e[i].cid, BD_CODEC_RAW, names[i], strlen(names[i]));
		e[i].tsize = 100u + (uint64_t)i;
	}
	ck_assert_int_eq(bd_unixfs__write_dir_node(&b, e, 3), TL_E_INTERNAL);
	e[1].name = "entries";
	e[2].name = "x001";
	tl_buf_reset(&b);
	ck_assert_int_eq(bd_unixfs__write_dir_node(&b, e, 3), 0);
	ck_assert_int_eq(bd_unixfs__read_any_node(&node, b.data, b.len), 0);
	ck_assert_uint_eq(node.type, BD_UNIXFS_TYPE_DIRECTORY);
	ck_assert_uint_eq(node.nlinks, 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_uint_eq(node.info[i].name_len, strlen(e[i].name));
		ck_assert(memcmp(node.info[i].name, e[i].name, node.info[i].name_len) == 0);
		ck_assert_uint_eq(node.info[i].tsize, e[i].tsize);
		ck_assert(bd_cid_equal(&node.links[i], &e[i].cid));
	}
	bd_unixfs__node_free(&node);
	ck_assert_int_eq(bd_unixfs__read_node(&node, b.data, b.len), TL_E_INPUT);
	e[0].name = "a/b";
	tl_buf_reset(&b);
	ck_assert_int_eq(bd_unixfs__write_dir_node(&b, e, 1), TL_E_INTERNAL);
	tl_buf_free(&b);
}
END_TEST

Suite *suite_unixfs_dir(void)
{
	Suite *s = suite_create("unixfs_dir");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, the_empty_directory_is_kubos);
	tcase_add_test(tc, entries_read_back_in_order);
	suite_add_tcase(s, tc);
	return s;
}
