#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../../bundled/src/unixfs.h"
#include "bundled/dag.h"
#include "testbundle.h"
#include "testutil.h"

static uint64_t lcg(uint64_t *x)
{
	*x = *x * 6364136223846793005u + 1442695040888963407u;
	return *x;
}

/* Blocks sorted by CID, so links are found by binary search. */
struct index_entry {
	bd_cid cid;
	size_t i;
};

static int cmp_entry(const void *a, const void *b)
{
	const struct index_entry *x = a, *y = b;

	if (x->cid.codec != y->cid.codec)
		return x->cid.codec < y->cid.codec ? -1 : 1;
	return memcmp(x->cid.digest.b, y->cid.digest.b, TL_HASH_SIZE);
}

static struct index_entry *block_index;
static size_t block_index_len;

static void index_blocks(const bd_dag *dag)
{
	block_index_len = bd_dag_count(dag);
	block_index = malloc(block_index_len * sizeof(*block_index));
	ck_assert_ptr_nonnull(block_index);
	for (size_t i = 0; i < block_index_len; i++) {
		block_index[i].cid = bd_dag_block(dag, i)->cid;
		block_index[i].i = i;
	}
	qsort(block_index, block_index_len, sizeof(*block_index), cmp_entry);
	/* Distinct blocks only. */
	for (size_t i = 1; i < block_index_len; i++)
		ck_assert_int_ne(cmp_entry(&block_index[i - 1], &block_index[i]), 0);
}

static size_t find_block(const bd_cid *cid)
{
	struct index_entry key = { *cid, 0 };
	const struct index_entry *e = bsearch(&key, block_index, block_index_len, sizeof(key), cmp_entry);

	ck_assert_msg(e != NULL, "link to a block the DAG does not list");
	return e->i;
}

/* Reassembles the content under block `i` into out, checking on the way that each block's
 * CID is its hash, links point to earlier blocks, and Tsize/blocksizes add up. Returns the
 * content length; *tsize gets the subtree's bytes. */
static size_t reassemble(uint8_t *out, const bd_dag *dag, size_t i, uint64_t *tsize)
{
	const bd_block *b = bd_dag_block(dag, i);
	bd_unixfs__node node;
	bd_cid check;
	size_t n = 0;

	bd_cid_of(&check, b->cid.codec, b->data, b->len);
	ck_assert(bd_cid_equal(&check, &b->cid));
	*tsize = b->len;
	if (b->cid.codec == BD_CODEC_RAW) {
		memcpy(out, b->data, b->len);
		return b->len;
	}
	ck_assert(b->cid.codec == BD_CODEC_DAG_PB);
	ck_assert_int_eq(bd_unixfs__read_node(&node, b->data, b->len), 0);
	ck_assert_uint_eq(node.type, BD_UNIXFS_TYPE_FILE);
	ck_assert_uint_eq(node.data_len, 0);
	ck_assert_uint_ge(node.nlinks, 1);
	ck_assert_uint_le(node.nlinks, 174);
	for (size_t k = 0; k < node.nlinks; k++) {
		size_t child = find_block(&node.links[k]);
		uint64_t sub = 0;
		size_t got;

		ck_assert_uint_lt(child, i);
		got = reassemble(out + n, dag, child, &sub);
		ck_assert_uint_eq(got, node.blocksizes[k]);
		n += got;
		*tsize += sub;
	}
	ck_assert(node.has_filesize);
	ck_assert_uint_eq(node.filesize, n);
	bd_unixfs__node_free(&node);
	return n;
}

static void check_dag(const bd_dag *dag, const uint8_t *data, size_t len)
{
	uint8_t *out = malloc(len + 1);
	uint64_t tsize = 0;

	ck_assert_ptr_nonnull(out);
	ck_assert_uint_ge(bd_dag_count(dag), 1);
	index_blocks(dag);
	ck_assert(bd_cid_equal(bd_dag_root(dag), &bd_dag_block(dag, bd_dag_count(dag) - 1)->cid));
	ck_assert_ptr_null(bd_dag_block(dag, bd_dag_count(dag)));
	ck_assert_uint_eq(reassemble(out, dag, bd_dag_count(dag) - 1, &tsize), len);
	ck_assert(len == 0 || memcmp(out, data, len) == 0);
	ck_assert_uint_eq(bd_dag_file_size(dag), len);
	free(block_index);
	free(out);
}

START_TEST(kubo_known_answers)
{
	uint8_t data[2500];
	uint64_t x = 99;
	bd_dag *dag;

	dag = tu_dag_build("", 0, "size-262144");
	tu_assert_cid_text(bd_dag_root(dag), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
	ck_assert_uint_eq(bd_dag_count(dag), 1);
	ck_assert_uint_eq(bd_dag_block(dag, 0)->len, 0);
	bd_dag_free(dag);
	/* The default chunker agrees on single-leaf files. */
	ck_assert_int_eq(bd_dag_build(&dag, (const uint8_t *)"", 0, NULL), 0);
	tu_assert_cid_text(bd_dag_root(dag), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
	bd_dag_free(dag);
	dag = tu_dag_build("hello world", 11, "size-262144");
	tu_assert_cid_text(bd_dag_root(dag), "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
	bd_dag_free(dag);
	ck_assert_int_eq(bd_dag_build(&dag, (const uint8_t *)"hello world", 11, NULL), 0);
	tu_assert_cid_text(bd_dag_root(dag), "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
	bd_dag_free(dag);

	/* 2,500 bytes at size-1024: three leaves and a 151-byte root, whatever the content. */
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(lcg(&x) >> 56);
	dag = tu_dag_build(data, sizeof(data), "size-1024");
	ck_assert_uint_eq(bd_dag_count(dag), 4);
	ck_assert_uint_eq(bd_dag_leaf_count(dag), 3);
	ck_assert_uint_eq(bd_dag_block(dag, 0)->len, 1024);
	ck_assert_uint_eq(bd_dag_block(dag, 2)->len, 452);
	ck_assert_uint_eq(bd_dag_block(dag, 3)->len, 151);
	ck_assert(bd_dag_root(dag)->codec == BD_CODEC_DAG_PB);
	check_dag(dag, data, sizeof(data));
	bd_dag_free(dag);
}
END_TEST

/* The exact bytes of the 2,500-byte example's root, field by field. */
START_TEST(file_node_bytes_are_kubos)
{
	uint8_t data[2500] = { 0 };
	uint8_t cid[BD_CID_BYTES_MAX];
	const bd_block *root;
	size_t cid_len = 0, o = 0;
	bd_dag *dag = tu_dag_build(data, sizeof(data), "size-1024");

	root = bd_dag_block(dag, bd_dag_count(dag) - 1);
	for (size_t k = 0; k < 3; k++) {
		static const uint8_t tsize[3][2] = { { 0x80, 0x08 }, { 0x80, 0x08 }, { 0xc4, 0x03 } };
		/* The two 1024-byte zero leaves are one block: link 1 repeats link 0's CID. */
		const bd_block *leaf = bd_dag_block(dag, k < 2 ? 0 : 1);

		ck_assert_int_eq(bd_cid_to_bytes(cid, sizeof(cid), &cid_len, &leaf->cid), 0);
		ck_assert_uint_eq(root->data[o++], 0x12); /* Links */
		ck_assert_uint_eq(root->data[o++], 43);
		ck_assert_uint_eq(root->data[o++], 0x0a); /* Hash */
		ck_assert_uint_eq(root->data[o++], 36);
		ck_assert(memcmp(root->data + o, cid, 36) == 0);
		o += 36;
		ck_assert_uint_eq(root->data[o++], 0x12); /* Name, empty */
		ck_assert_uint_eq(root->data[o++], 0x00);
		ck_assert_uint_eq(root->data[o++], 0x18); /* Tsize */
		ck_assert_uint_eq(root->data[o++], tsize[k][0]);
		ck_assert_uint_eq(root->data[o++], tsize[k][1]);
	}
	{
		static const uint8_t tail[] = { 0x0a, 14, 0x08, 0x02, 0x18, 0xc4, 0x13, 0x20, 0x80, 0x08,
			0x20, 0x80, 0x08, 0x20, 0xc4, 0x03 };

		ck_assert_uint_eq(root->len, o + sizeof(tail));
		ck_assert(memcmp(root->data + o, tail, sizeof(tail)) == 0);
	}
	ck_assert_uint_eq(bd_dag_count(dag), 3);
	bd_dag_free(dag);
}
END_TEST

START_TEST(levels_at_174_and_175_leaves)
{
	size_t len = 175 * 64;
	uint8_t *data = malloc(len);
	uint64_t x = 5;
	bd_unixfs__node node;
	const bd_block *root;
	bd_dag *dag;

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(lcg(&x) >> 56);
	/* 174 leaves: one node over all of them. */
	dag = tu_dag_build(data, 174 * 64, "size-64");
	ck_assert_uint_eq(bd_dag_count(dag), 175);
	root = bd_dag_block(dag, 174);
	ck_assert_int_eq(bd_unixfs__read_node(&node, root->data, root->len), 0);
	ck_assert_uint_eq(node.nlinks, 174);
	bd_unixfs__node_free(&node);
	check_dag(dag, data, 174 * 64);
	bd_dag_free(dag);
	/* 175: a root over the full node and a node with one link. */
	dag = tu_dag_build(data, len, "size-64");
	ck_assert_uint_eq(bd_dag_count(dag), 178);
	root = bd_dag_block(dag, 177);
	ck_assert_int_eq(bd_unixfs__read_node(&node, root->data, root->len), 0);
	ck_assert_uint_eq(node.nlinks, 2);
	ck_assert_uint_eq(node.blocksizes[0], 174 * 64);
	ck_assert_uint_eq(node.blocksizes[1], 64);
	ck_assert_uint_eq(node.filesize, len);
	bd_unixfs__node_free(&node);
	root = bd_dag_block(dag, 176);
	ck_assert_int_eq(bd_unixfs__read_node(&node, root->data, root->len), 0);
	ck_assert_uint_eq(node.nlinks, 1);
	bd_unixfs__node_free(&node);
	check_dag(dag, data, len);
	bd_dag_free(dag);
	free(data);
}
END_TEST

/* Inputs as tests/vectors/cid/dag.json describes them. */
static uint8_t *generate(json_t *c, size_t *len)
{
	const char *gen = json_string_value(json_object_get(c, "gen"));
	uint64_t x = (uint64_t)json_integer_value(json_object_get(c, "seed"));
	uint64_t mask = (uint64_t)json_integer_value(json_object_get(c, "nl_mask"));
	uint8_t fill = (uint8_t)json_integer_value(json_object_get(c, "byte"));
	size_t n = (size_t)json_integer_value(json_object_get(c, "size"));
	uint8_t *d = malloc(n + 1);

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(gen);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(gen, "fill") == 0) {
			d[i] = fill;
			continue;
		}
		lcg(&x);
		if (strcmp(gen, "lcg") == 0)
			d[i] = (uint8_t)(x >> 56);
		else if (strcmp(gen, "lcg-text") == 0)
			d[i] = ((x >> 32) & mask) == 0 ? '\n' : (uint8_t)('a' + (x >> 56) % 26);
		else
			ck_abort_msg("unknown generator %s", gen);
	}
	*len = n;
	return d;
}

START_TEST(vectors_from_the_js_importer)
{
	json_error_t jerr;
	json_t *root = json_load_file(tu_source_path("tests/vectors/cid/dag.json"), 0, &jerr);
	json_t *cases = json_object_get(root, "cases");

	ck_assert_msg(root != NULL, "dag.json: %s", jerr.text);
	ck_assert_uint_ge(json_array_size(cases), 10);
	for (size_t i = 0; i < json_array_size(cases); i++) {
		json_t *c = json_array_get(cases, i);
		size_t len = 0;
		uint8_t *data = generate(c, &len);
		bd_dag *dag = tu_dag_build(data, len, json_string_value(json_object_get(c, "chunker")));
		const bd_block *last = bd_dag_block(dag, bd_dag_count(dag) - 1);
		char text[BD_CID_TEXT_MAX];

		ck_assert_int_eq(bd_cid_format(text, sizeof(text), bd_dag_root(dag)), 0);
		ck_assert_msg(strcmp(text, json_string_value(json_object_get(c, "root"))) == 0, "%s: %s",
			json_string_value(json_object_get(c, "name")), text);
		ck_assert_uint_eq(bd_dag_count(dag), (size_t)json_integer_value(json_object_get(c, "blocks")));
		ck_assert_uint_eq(last->len, (size_t)json_integer_value(json_object_get(c, "root_len")));
		check_dag(dag, data, len);
		bd_dag_free(dag);
		free(data);
	}
	json_decref(root);
}
END_TEST

/* Random inputs of every shape, both chunkers: the DAG reassembles to the input, every
 * block's CID is its hash, children come first. */
START_TEST(random_inputs_agree)
{
	static const char *const specs[] = { "lines", "size-1", "size-100", "size-4096", "size-262144" };
	uint64_t x = 2024;

	for (int round = 0; round < 60; round++) {
		size_t len = (size_t)(lcg(&x) >> 40) % (round % 10 == 0 ? 600000 : 40000);
		uint64_t nl = (uint64_t)1 << (lcg(&x) >> 60); /* a newline every 1..32768 bytes */
		uint8_t *data = malloc(len + 1);
		bd_dag *dag;

		ck_assert_ptr_nonnull(data);
		for (size_t i = 0; i < len; i++)
			data[i] = (lcg(&x) >> 20) % nl == 0 ? '\n' : (uint8_t)(lcg(&x) >> 56);
		dag = tu_dag_build(data, len, specs[round % 5]);
		check_dag(dag, data, len);
		bd_dag_free(dag);
		free(data);
	}
}
END_TEST

START_TEST(limits_are_enforced)
{
	bd_chunker c;
	bd_dag *dag = NULL;
	uint8_t *big;

	ck_assert_int_eq(bd_chunker_parse(&c, "size-1"), 0);
	ck_assert_int_eq(bd_dag_build(&dag, (const uint8_t *)"", BD_DAG_MAX_INPUT + 1, &c), TL_E_INPUT);
	big = calloc(1, BD_DAG_MAX_LEAVES + 1);
	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(bd_dag_build(&dag, big, BD_DAG_MAX_LEAVES + 1, &c), TL_E_INPUT);
	ck_assert_ptr_null(dag);
	free(big);
}
END_TEST

Suite *suite_dag(void)
{
	Suite *s = suite_create("dag");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, kubo_known_answers);
	tcase_add_test(tc, file_node_bytes_are_kubos);
	tcase_add_test(tc, levels_at_174_and_175_leaves);
	tcase_add_test(tc, vectors_from_the_js_importer);
	tcase_add_test(tc, random_inputs_agree);
	tcase_add_test(tc, limits_are_enforced);
	suite_add_tcase(s, tc);
	return s;
}
