#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/blockstore.h"
#include "testbundle.h"
#include "testutil.h"

static char *dir;
static tl_db *db;
static bd_blockstore *bs;

static void open_store(void)
{
	const char *cfs[] = { bd_blockstore_column_family };

	ck_assert_msg(tl_db_open(&db, dir, cfs, 1) == 0, "%s", tl_error_message());
	ck_assert_int_eq(bd_blockstore_open(&bs, db), 0);
}

static void close_store(void)
{
	bd_blockstore_close(bs);
	tl_db_close(db);
	bs = NULL;
	db = NULL;
}

static void setup(void)
{
	dir = tu_mkdtemp();
	ck_assert_ptr_nonnull(dir);
	open_store();
}

static void teardown(void)
{
	close_store();
	tu_rm_rf(dir);
	free(dir);
}

static uint64_t lcg(uint64_t *x)
{
	*x = *x * 6364136223846793005u + 1442695040888963407u;
	return *x;
}

static void assert_cats_to(const bd_cid *root, const uint8_t *data, size_t len)
{
	tl_buf out = tl_buf_make(len + 1);

	ck_assert_msg(bd_blockstore_cat(&out, bs, root) == 0, "%s", tl_error_message());
	ck_assert_uint_eq(out.len, len);
	ck_assert(len == 0 || memcmp(out.data, data, len) == 0);
	tl_buf_free(&out);
}

START_TEST(put_get_has)
{
	bd_cid cid, other;
	uint8_t *data = NULL;
	size_t len = 0;

	bd_cid_of(&cid, BD_CODEC_RAW, "hello world", 11);
	bd_cid_of(&other, BD_CODEC_RAW, "hello there", 11);
	ck_assert_int_eq(bd_blockstore_has(bs, &cid), 0);
	ck_assert_int_eq(bd_blockstore_get(&data, &len, bs, &cid), TL_E_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"));
	ck_assert_int_eq(bd_blockstore_put(bs, &cid, "hello world", 11), 0);
	ck_assert_int_eq(bd_blockstore_put(bs, &cid, "hello world", 11), 0); /* twice is fine */
	ck_assert_int_eq(bd_blockstore_has(bs, &cid), 1);
	ck_assert_int_eq(bd_blockstore_has(bs, &other), 0);
	ck_assert_int_eq(bd_blockstore_get(&data, &len, bs, &cid), 0);
	ck_assert_uint_eq(len, 11);
	ck_assert(memcmp(data, "hello world", 11) == 0);
	free(data);
	/* The empty block. */
	bd_cid_of(&cid, BD_CODEC_RAW, "", 0);
	ck_assert_int_eq(bd_blockstore_put(bs, &cid, "", 0), 0);
	ck_assert_int_eq(bd_blockstore_get(&data, &len, bs, &cid), 0);
	ck_assert_ptr_nonnull(data);
	ck_assert_uint_eq(len, 0);
	free(data);
	assert_cats_to(&cid, NULL, 0);
}
END_TEST

START_TEST(put_refuses_bytes_that_do_not_match)
{
	bd_cid cid;
	uint8_t *big;

	bd_cid_of(&cid, BD_CODEC_RAW, "hello world", 11);
	ck_assert_int_eq(bd_blockstore_put(bs, &cid, "hello World", 11), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "do not hash"));
	ck_assert_int_eq(bd_blockstore_has(bs, &cid), 0);
	/* Over the block limit: refused even with the right CID. */
	big = calloc(1, BD_BLOCK_MAX + 1);
	ck_assert_ptr_nonnull(big);
	bd_cid_of(&cid, BD_CODEC_RAW, big, BD_BLOCK_MAX + 1);
	ck_assert_int_eq(bd_blockstore_put(bs, &cid, big, BD_BLOCK_MAX + 1), TL_E_INPUT);
	ck_assert_int_eq(bd_blockstore_has(bs, &cid), 0);
	bd_cid_of(&cid, BD_CODEC_RAW, big, BD_BLOCK_MAX);
	ck_assert_int_eq(bd_blockstore_put(bs, &cid, big, BD_BLOCK_MAX), 0);
	free(big);
}
END_TEST

START_TEST(get_detects_corruption)
{
	rocksdb_column_family_handle_t *cf = tl_db_cf(db, bd_blockstore_column_family);
	uint8_t key[34] = { 0x12, 0x20 };
	uint8_t data[3000], *got = NULL;
	char *errptr = NULL;
	size_t len = 0;
	bd_dag *dag;
	uint64_t x = 3;
	tl_buf out = tl_buf_make(sizeof(data));

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(lcg(&x) >> 56);
	dag = tu_dag_build(data, sizeof(data), "size-1000");
	ck_assert_int_eq(bd_blockstore_put_dag(bs, dag), 0);
	assert_cats_to(bd_dag_root(dag), data, sizeof(data));
	/* Flip the stored bytes of the middle leaf behind the store's back. */
	memcpy(key + 2, bd_dag_block(dag, 1)->cid.digest.b, 32);
	rocksdb_put_cf(tl_db_rocks(db), tl_db_sync_write(db), cf, (const char *)key, sizeof(key), "garbage", 7, &errptr);
	ck_assert_ptr_null(errptr);
	ck_assert_int_eq(bd_blockstore_get_verified(&got, &len, bs, &bd_dag_block(dag, 1)->cid), TL_E_IO);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "corrupted"));
	ck_assert_int_eq(bd_blockstore_cat(&out, bs, bd_dag_root(dag)), TL_E_IO);
	/* The plain read trusts RocksDB's checksums, which the write above did not break... */
	ck_assert_int_eq(bd_blockstore_get(&got, &len, bs, &bd_dag_block(dag, 1)->cid), 0);
	ck_assert_uint_eq(len, 7);
	free(got);
	/* ...unless the store verifies every read, the pinned read too. */
	bd_blockstore_set_verify_reads(bs, 1);
	ck_assert_int_eq(bd_blockstore_get(&got, &len, bs, &bd_dag_block(dag, 1)->cid), TL_E_IO);
	{
		const uint8_t *v = NULL;
		void *pin = NULL;

		ck_assert_int_eq(bd_blockstore_get_pinned(&v, &len, &pin, bs, &bd_dag_block(dag, 1)->cid), TL_E_IO);
		ck_assert_int_eq(bd_blockstore_get_pinned(&v, &len, &pin, bs, &bd_dag_block(dag, 0)->cid), 0);
		ck_assert_uint_eq(len, bd_dag_block(dag, 0)->len);
		ck_assert(memcmp(v, bd_dag_block(dag, 0)->data, len) == 0);
		tl_db_release(pin);
	}
	/* The other blocks still read. */
	ck_assert_int_eq(bd_blockstore_get(&got, &len, bs, &bd_dag_block(dag, 0)->cid), 0);
	free(got);
	tl_buf_free(&out);
	bd_dag_free(dag);
}
END_TEST

START_TEST(pinned_reads_borrow_the_stored_bytes)
{
	uint8_t data[33 * 1024];
	const uint8_t *v[3];
	void *pin[3];
	size_t len;
	uint64_t x = 9;
	bd_cid cid[3];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(lcg(&x) >> 56);
	bd_cid_of(&cid[0], BD_CODEC_RAW, data, sizeof(data));
	bd_cid_of(&cid[1], BD_CODEC_RAW, data, 6 * 1024);
	bd_cid_of(&cid[2], BD_CODEC_RAW, "", 0);
	ck_assert_int_eq(bd_blockstore_get_pinned(&v[0], &len, &pin[0], bs, &cid[0]), TL_E_NOTFOUND);
	ck_assert_int_eq(bd_blockstore_put(bs, &cid[0], data, sizeof(data)), 0);
	ck_assert_int_eq(bd_blockstore_put(bs, &cid[1], data, 6 * 1024), 0);
	ck_assert_int_eq(bd_blockstore_put(bs, &cid[2], "", 0), 0);
	/* Several borrowed at once, from the memtable, then from table files after a flush;
	 * each stays valid until released, in any order. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 3; i++)
			ck_assert_msg(bd_blockstore_get_pinned(&v[i], &len, &pin[i], bs, &cid[i]) == 0, "%s",
				tl_error_message());
		if (round == 0) {
			rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
			char *errptr = NULL;

			rocksdb_flushoptions_set_wait(fo, 1);
			rocksdb_flush_cf(tl_db_rocks(db), fo, tl_db_cf(db, bd_blockstore_column_family), &errptr);
			ck_assert_ptr_null(errptr);
			rocksdb_flushoptions_destroy(fo);
		}
		ck_assert(memcmp(v[0], data, sizeof(data)) == 0);
		ck_assert(memcmp(v[1], data, 6 * 1024) == 0);
		ck_assert_ptr_nonnull(v[2]);
		tl_db_release(pin[1]);
		tl_db_release(pin[0]);
		tl_db_release(pin[2]);
	}
}
END_TEST

struct bad_seen {
	int n, unnamed;
	bd_cid cid;
	size_t len;
};

static void on_bad(void *ctx, const bd_cid *cid, size_t len, const char *problem)
{
	struct bad_seen *b = ctx;

	ck_assert_ptr_nonnull(problem);
	b->n++;
	if (cid == NULL) {
		b->unnamed++;
		return;
	}
	b->cid = *cid;
	b->len = len;
}

START_TEST(scrub_reports_every_bad_block)
{
	rocksdb_column_family_handle_t *cf = tl_db_cf(db, bd_blockstore_column_family);
	struct bd_blockstore_scrub_stats st;
	struct bad_seen bad = { 0 };
	uint8_t key[34] = { 0x12, 0x20 };
	uint8_t data[5000];
	char *errptr = NULL;
	uint64_t x = 5, total = 0;
	bd_dag *dag;

	ck_assert_int_eq(bd_blockstore_scrub(&st, bs, on_bad, &bad), 0);
	ck_assert_uint_eq(st.blocks, 0);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(lcg(&x) >> 56);
	dag = tu_dag_build(data, sizeof(data), "size-1000");
	ck_assert_int_eq(bd_blockstore_put_dag(bs, dag), 0);
	for (size_t i = 0; i < bd_dag_count(dag); i++)
		total += bd_dag_block(dag, i)->len;
	ck_assert_int_eq(bd_blockstore_scrub(&st, bs, on_bad, &bad), 0);
	ck_assert_uint_eq(st.blocks, bd_dag_count(dag));
	ck_assert_uint_eq(st.bytes, total);
	ck_assert_uint_eq(st.bad, 0);
	ck_assert_int_eq(bad.n, 0);
	/* One block's bytes replaced, and a stray key that is no multihash. */
	memcpy(key + 2, bd_dag_block(dag, 2)->cid.digest.b, 32);
	rocksdb_put_cf(tl_db_rocks(db), tl_db_sync_write(db), cf, (const char *)key, sizeof(key), "garbage", 7, &errptr);
	ck_assert_ptr_null(errptr);
	rocksdb_put_cf(tl_db_rocks(db), tl_db_sync_write(db), cf, "stray", 5, "x", 1, &errptr);
	ck_assert_ptr_null(errptr);
	ck_assert_int_eq(bd_blockstore_scrub(&st, bs, on_bad, &bad), 0);
	ck_assert_uint_eq(st.blocks, bd_dag_count(dag) + 1);
	ck_assert_uint_eq(st.bad, 2);
	ck_assert_int_eq(bad.n, 2);
	ck_assert_int_eq(bad.unnamed, 1);
	ck_assert(tl_hash_equal(&bad.cid.digest, &bd_dag_block(dag, 2)->cid.digest));
	ck_assert_uint_eq(bad.cid.codec, BD_CODEC_RAW);
	ck_assert_uint_eq(bad.len, 7);
	/* Without a callback it still counts. */
	ck_assert_int_eq(bd_blockstore_scrub(&st, bs, NULL, NULL), 0);
	ck_assert_uint_eq(st.bad, 2);
	bd_dag_free(dag);
}
END_TEST

START_TEST(cat_multi_level_dags_and_reopen)
{
	size_t len = 174 * 174 * 4 + 1; /* three levels at size-4 */
	uint8_t *data = malloc(len);
	uint64_t x = 11;
	bd_dag *dag;
	bd_cid root;

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(lcg(&x) >> 56);
	dag = tu_dag_build(data, len, "size-4");
	root = *bd_dag_root(dag);
	ck_assert_int_eq(bd_blockstore_has(bs, &root), 0);
	ck_assert_int_eq(bd_blockstore_put_dag(bs, dag), 0);
	assert_cats_to(&root, data, len);
	bd_dag_free(dag);
	/* The blocks survive closing and reopening the database. */
	close_store();
	open_store();
	ck_assert_int_eq(bd_blockstore_has(bs, &root), 1);
	assert_cats_to(&root, data, len);
	free(data);
}
END_TEST

START_TEST(cat_is_bounded_and_reports_missing_blocks)
{
	uint8_t data[5000];
	uint64_t x = 17;
	bd_dag *dag;
	tl_buf small = tl_buf_make(4999);

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(lcg(&x) >> 56);
	dag = tu_dag_build(data, sizeof(data), "size-1000");
	/* Every block but the third leaf. */
	for (size_t i = 0; i < bd_dag_count(dag); i++) {
		const bd_block *b = bd_dag_block(dag, i);

		if (i != 2)
			ck_assert_int_eq(bd_blockstore_put(bs, &b->cid, b->data, b->len), 0);
	}
	ck_assert_int_eq(bd_blockstore_cat(&small, bs, bd_dag_root(dag)), TL_E_INPUT); /* too big */
	tl_buf_reset(&small);
	small.cap = sizeof(data);
	ck_assert_int_eq(bd_blockstore_cat(&small, bs, bd_dag_root(dag)), TL_E_NOTFOUND);
	ck_assert_int_eq(bd_blockstore_put(bs, &bd_dag_block(dag, 2)->cid, bd_dag_block(dag, 2)->data,
				 bd_dag_block(dag, 2)->len), 0);
	tl_buf_reset(&small);
	ck_assert_int_eq(bd_blockstore_cat(&small, bs, bd_dag_root(dag)), 0);
	ck_assert(memcmp(small.data, data, sizeof(data)) == 0);
	tl_buf_free(&small);
	bd_dag_free(dag);
}
END_TEST

/* ---- hand-made dag-pb nodes, as other importers (Kubo without --raw-leaves) write them ---- */

static void pb_varint(tl_buf *b, uint64_t v)
{
	do {
		ck_assert_int_eq(tl_buf_append_u8(b, (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0))), 0);
		v >>= 7;
	} while (v);
}

static void pb_bytes(tl_buf *b, unsigned field, const void *data, size_t len)
{
	pb_varint(b, field << 3 | 2);
	pb_varint(b, len);
	ck_assert_int_eq(tl_buf_append(b, data, len), 0);
}

/* A UnixFS node of `type` holding `content` and links to `n` children of the given sizes. */
static void put_node(bd_cid *cid, uint64_t type, const char *content, const bd_cid *kids, const uint64_t *sizes,
	size_t n, int with_filesize)
{
	tl_buf node = tl_buf_make(4096), ufs = tl_buf_make(4096);
	uint64_t total = content ? strlen(content) : 0;

	for (size_t i = 0; i < n; i++) {
		tl_buf link = tl_buf_make(256);
		uint8_t bin[BD_CID_BYTES_MAX];
		size_t blen = 0;

		ck_assert_int_eq(bd_cid_to_bytes(bin, sizeof(bin), &blen, &kids[i]), 0);
		pb_bytes(&link, 1, bin, blen);
		pb_bytes(&link, 2, "", 0);
		pb_bytes(&node, 2, link.data, link.len);
		tl_buf_free(&link);
		total += sizes[i];
	}
	pb_varint(&ufs, 1 << 3);
	pb_varint(&ufs, type);
	if (content)
		pb_bytes(&ufs, 2, content, strlen(content));
	if (with_filesize) {
		pb_varint(&ufs, 3 << 3);
		pb_varint(&ufs, total);
	}
	for (size_t i = 0; i < n; i++) {
		pb_varint(&ufs, 4 << 3);
		pb_varint(&ufs, sizes[i]);
	}
	pb_bytes(&node, 1, ufs.data, ufs.len);
	bd_cid_of(cid, BD_CODEC_DAG_PB, node.data, node.len);
	ck_assert_int_eq(bd_blockstore_put(bs, cid, node.data, node.len), 0);
	tl_buf_free(&node);
	tl_buf_free(&ufs);
}

START_TEST(cat_reads_dag_pb_leaves_and_refuses_non_files)
{
	bd_cid leaves[2], root, bad, raw;
	uint64_t sizes[2] = { 6, 5 };
	tl_buf out = tl_buf_make(100);

	/* Leaves that are UnixFS nodes with Data (type File = 2, Raw = 0), and a parent with
	 * Data of its own. */
	put_node(&leaves[0], 2, "hello ", NULL, NULL, 0, 1);
	put_node(&leaves[1], 0, "world", NULL, NULL, 0, 0);
	put_node(&root, 2, ">> ", leaves, sizes, 2, 1);
	ck_assert_int_eq(bd_blockstore_cat(&out, bs, &root), 0);
	ck_assert_str_eq((const char *)out.data, ">> hello world");
	/* A directory is no file. */
	put_node(&bad, 1, NULL, NULL, NULL, 0, 0);
	tl_buf_reset(&out);
	ck_assert_int_eq(bd_blockstore_cat(&out, bs, &bad), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "not a file"));
	/* Blocksizes that lie about a child. */
	sizes[1] = 4;
	put_node(&bad, 2, NULL, leaves, sizes, 2, 1);
	tl_buf_reset(&out);
	ck_assert_int_eq(bd_blockstore_cat(&out, bs, &bad), TL_E_INPUT);
	/* Raw bytes under a dag-pb CID are not a dag-pb node. */
	bd_cid_of(&raw, BD_CODEC_DAG_PB, "hello world", 11);
	ck_assert_int_eq(bd_blockstore_put(bs, &raw, "hello world", 11), 0);
	tl_buf_reset(&out);
	ck_assert_int_eq(bd_blockstore_cat(&out, bs, &raw), TL_E_INPUT);
	/* Other codecs are refused before anything is read. */
	raw.codec = 0x71;
	ck_assert_int_eq(bd_blockstore_cat(&out, bs, &raw), TL_E_INPUT);
	tl_buf_free(&out);
}
END_TEST

/* Random files, both chunkers: what goes in comes out. */
START_TEST(random_files_round_trip)
{
	static const char *const specs[] = { "lines", "size-256", "size-262144" };
	uint64_t x = 77;

	for (int round = 0; round < 12; round++) {
		size_t len = (size_t)(lcg(&x) >> 40) % 300000;
		uint8_t *data = malloc(len + 1);
		bd_dag *dag;

		ck_assert_ptr_nonnull(data);
		for (size_t i = 0; i < len; i++)
			data[i] = (lcg(&x) >> 58) == 0 ? '\n' : (uint8_t)(' ' + (lcg(&x) >> 58));
		dag = tu_dag_build(data, len, specs[round % 3]);
		ck_assert_int_eq(bd_blockstore_put_dag(bs, dag), 0);
		assert_cats_to(bd_dag_root(dag), data, len);
		bd_dag_free(dag);
		free(data);
	}
}
END_TEST

START_TEST(open_needs_the_column_family)
{
	char *other = tu_mkdtemp();
	tl_db *plain = NULL;
	bd_blockstore *store = NULL;

	ck_assert_ptr_nonnull(other);
	ck_assert_int_eq(tl_db_open(&plain, other, NULL, 0), 0);
	ck_assert_int_eq(bd_blockstore_open(&store, plain), TL_E_INTERNAL);
	ck_assert_ptr_null(store);
	tl_db_close(plain);
	tu_rm_rf(other);
	free(other);
}
END_TEST

Suite *suite_blockstore(void)
{
	Suite *s = suite_create("blockstore");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, put_get_has);
	tcase_add_test(tc, put_refuses_bytes_that_do_not_match);
	tcase_add_test(tc, get_detects_corruption);
	tcase_add_test(tc, pinned_reads_borrow_the_stored_bytes);
	tcase_add_test(tc, scrub_reports_every_bad_block);
	tcase_add_test(tc, cat_multi_level_dags_and_reopen);
	tcase_add_test(tc, cat_is_bounded_and_reports_missing_blocks);
	tcase_add_test(tc, cat_reads_dag_pb_leaves_and_refuses_non_files);
	tcase_add_test(tc, random_files_round_trip);
	tcase_add_test(tc, open_needs_the_column_family);
	suite_add_tcase(s, tc);
	return s;
}
