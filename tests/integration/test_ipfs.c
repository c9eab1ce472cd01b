/*
 * The IPFS client and the pin queue against the real IPFS node that scripts/test.sh starts
 * (tests/ipfs/ipfs-node.sh; BUNDLED_TEST_IPFS_API names it): bundle-like files put and
 * pinned block by block, read back with cat and block/get, Kubo's own importer giving the
 * same root CID as ours (also for the sizes around every chunk and 174-link boundary), and the
 * node taken down in the middle of a queue and brought back on the same address.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundled/blockstore.h"
#include "bundled/ipfs.h"
#include "bundled/pinq.h"
#include "testbundle.h"
#include "testutil.h"

static bd_ipfs *client(long connect_ms, long total_ms)
{
	bd_ipfs_options o;
	bd_ipfs *c = NULL;

	memset(&o, 0, sizeof(o));
	o.api = getenv("BUNDLED_TEST_IPFS_API");
	ck_assert_ptr_nonnull(o.api);
	o.connect_timeout_ms = connect_ms;
	o.timeout_ms = total_ms;
	ck_assert_msg(bd_ipfs_open(&c, &o) == 0, "%s", tl_error_message());
	return c;
}

/* A bundle-like document: one JWK per line, different for every run and seed so that
 * nothing is already on the node. */
static uint8_t *bundle_like(size_t *len, unsigned keys, unsigned seed)
{
	size_t cap = (size_t)keys * 200 + 256, n = 0;
	char *t = malloc(cap);
	unsigned long run = (unsigned long)time(NULL) * 100003ul + (unsigned long)getpid();

	n += (size_t)snprintf(t + n, cap - n, "{\"spiffe_sequence\":%u,\"keys\":[\n", seed);
	for (unsigned i = 0; i < keys; i++)
		n += (size_t)snprintf(t + n, cap - n,
			"{\"use\":\"jwt-svid\",\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%lu-%u-%u\","
			"\"x\":\"%016lx%08x\",\"y\":\"%08x%016lx\"}%s\n", run, seed, i,
			run * 2654435761ul, i * 40503u + seed, (i ^ seed) * 2246822519u, run ^ i, i + 1 < keys ? "," : "");
	n += (size_t)snprintf(t + n, cap - n, "]}\n");
	*len = n;
	return (uint8_t *)t;
}

static void assert_cats_to(bd_ipfs *c, const bd_cid *root, const uint8_t *data, size_t len)
{
	tl_buf out = tl_buf_make(len);

	ck_assert_msg(bd_ipfs_cat(&out, c, root, len) == 0, "%s", tl_error_message());
	ck_assert_uint_eq(out.len, len);
	ck_assert(memcmp(out.data, data, len) == 0);
	tl_buf_free(&out);
}

static void assert_pinned(bd_ipfs *c, const bd_cid *root, int want)
{
	int pinned = -1;

	ck_assert_msg(bd_ipfs_pin_ls(&pinned, c, root) == 0, "%s", tl_error_message());
	ck_assert_int_eq(pinned, want);
}

START_TEST(the_node_speaks_the_api)
{
	bd_ipfs *c = client(2000, 10000);
	bd_ipfs_info v;

	ck_assert_msg(bd_ipfs_version(&v, c) == 0, "%s", tl_error_message());
	ck_assert_str_ne(v.version, "");
	ck_assert_str_eq(v.implementation, "kubo");
	bd_ipfs_close(c);
}
END_TEST

/* Puts and pins one file cut with `spec`, then reads it back every way. */
static void round_trip(const char *spec, unsigned keys, unsigned seed, size_t min_blocks)
{
	bd_ipfs *c = client(2000, 20000);
	size_t len;
	uint8_t *data = bundle_like(&len, keys, seed);
	bd_dag *dag = tu_dag_build(data, len, spec);
	const bd_cid *root = bd_dag_root(dag);
	bd_chunker ch;

	ck_assert_uint_ge(bd_dag_count(dag), min_blocks);
	assert_pinned(c, root, 0);
	ck_assert_msg(bd_ipfs_put_dag(c, dag) == 0, "%s", tl_error_message());
	ck_assert_msg(bd_ipfs_pin_add(c, root) == 0, "%s", tl_error_message());
	assert_pinned(c, root, 1);
	assert_cats_to(c, root, data, len);
	for (size_t i = 0; i < bd_dag_count(dag); i++) {
		const bd_block *b = bd_dag_block(dag, i);
		tl_buf out = tl_buf_make(BD_IPFS_MAX_BLOCK);

		ck_assert_msg(bd_ipfs_block_get(&out, c, &b->cid) == 0, "%s", tl_error_message());
		ck_assert_uint_eq(out.len, b->len);
		ck_assert(b->len == 0 || memcmp(out.data, b->data, b->len) == 0);
		tl_buf_free(&out);
	}
	/* The node's importer, given the same bytes and chunker, finds the same root. */
	ck_assert_int_eq(bd_chunker_parse(&ch, spec), 0);
	if (ch.kind == BD_CHUNK_FIXED) {
		bd_cid theirs;
		char a[BD_CID_TEXT_MAX], b[BD_CID_TEXT_MAX];

		ck_assert_msg(bd_ipfs_add(&theirs, c, data, len, &ch) == 0, "%s", tl_error_message());
		ck_assert_int_eq(bd_cid_format(a, sizeof(a), &theirs), 0);
		ck_assert_int_eq(bd_cid_format(b, sizeof(b), root), 0);
		ck_assert_str_eq(a, b);
	}
	/* Pins come off again; removing twice says it was not pinned. */
	ck_assert_msg(bd_ipfs_pin_rm(c, root) == 0, "%s", tl_error_message());
	assert_pinned(c, root, 0);
	ck_assert_int_eq(bd_ipfs_pin_rm(c, root), TL_E_NOTFOUND);
	bd_dag_free(dag);
	free(data);
	bd_ipfs_close(c);
}

START_TEST(put_pin_and_read_back_size_1024)
{
	round_trip("size-1024", 120, 1, 10);
}
END_TEST

START_TEST(put_pin_and_read_back_two_levels)
{
	/* More than 174 leaves: the root links to inner nodes. */
	round_trip("size-256", 420, 2, 177);
}
END_TEST

START_TEST(put_pin_and_read_back_lines)
{
	round_trip("lines", 400, 3, 3);
}
END_TEST

START_TEST(one_leaf_files_and_the_empty_file)
{
	bd_ipfs *c = client(2000, 10000);
	static const char *const texts[] = { "", "{\"keys\":[]}\n" };

	for (size_t i = 0; i < 2; i++) {
		size_t len = strlen(texts[i]);
		bd_dag *dag = tu_dag_build((const uint8_t *)texts[i], len, "size-1024");
		bd_chunker ch;
		bd_cid theirs;

		ck_assert_uint_eq(bd_dag_count(dag), 1);
		ck_assert_msg(bd_ipfs_put_dag(c, dag) == 0, "%s", tl_error_message());
		ck_assert_msg(bd_ipfs_pin_add(c, bd_dag_root(dag)) == 0, "%s", tl_error_message());
		assert_pinned(c, bd_dag_root(dag), 1);
		assert_cats_to(c, bd_dag_root(dag), (const uint8_t *)texts[i], len);
		ck_assert_int_eq(bd_chunker_parse(&ch, "size-1024"), 0);
		ck_assert_msg(bd_ipfs_add(&theirs, c, texts[i], len, &ch) == 0, "%s", tl_error_message());
		ck_assert(bd_cid_equal(&theirs, bd_dag_root(dag)));
		bd_dag_free(dag);
	}
	bd_ipfs_close(c);
}
END_TEST

/* Bytes different for every run (so the node has never seen them), from a xorshift stream. */
static uint8_t *noise(size_t len, unsigned seed)
{
	uint8_t *p = malloc(len ? len : 1);
	uint64_t x = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ ((uint64_t)seed << 40) ^ 0x9e3779b97f4a7c15ull;

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 24);
	}
	return p;
}

/* Kubo's importer (`ipfs add --cid-version=1 --raw-leaves --chunker=size-N`, through the RPC
 * call with exactly those parameters) and ours agree on the root of `len` bytes. */
static void assert_same_root_as_kubo(bd_ipfs *c, const char *spec, size_t len, unsigned seed)
{
	uint8_t *data = noise(len, seed);
	bd_dag *dag = tu_dag_build(data, len, spec);
	bd_chunker ch;
	bd_cid theirs;
	char a[BD_CID_TEXT_MAX], b[BD_CID_TEXT_MAX];

	ck_assert_int_eq(bd_chunker_parse(&ch, spec), 0);
	ck_assert_msg(bd_ipfs_add(&theirs, c, data, len, &ch) == 0, "%s %zu bytes: %s", spec, len, tl_error_message());
	ck_assert_int_eq(bd_cid_format(a, sizeof(a), &theirs), 0);
	ck_assert_int_eq(bd_cid_format(b, sizeof(b), bd_dag_root(dag)), 0);
	ck_assert_msg(strcmp(a, b) == 0, "%s, %zu bytes: Kubo says %s, bundled %s", spec, len, a, b);
	bd_dag_free(dag);
	free(data);
}

/* Around every boundary of the balanced layout: an empty file, one short and one full chunk,
 * two chunks, 174 leaves (the most one node links), 175 (a second level), 174 * 2 + 1, and
 * 174 * 174 leaves and one more (a third level). */
START_TEST(kubo_finds_our_roots_around_every_boundary)
{
	static const size_t chunks[] = { 256, 1000 };
	bd_ipfs *c = client(2000, 60000);
	unsigned seed = 0;

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		const size_t n = chunks[i];
		const size_t lens[] = { 0, 1, n - 1, n, n + 1, 2 * n, 173 * n + 1, 174 * n - 1, 174 * n, 174 * n + 1,
			175 * n, 2 * 174 * n + 1 };
		char spec[32];

		snprintf(spec, sizeof(spec), "size-%zu", n);
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++)
			assert_same_root_as_kubo(c, spec, lens[j], seed++);
	}
	/* Small chunks keep the third level to half a megabyte. */
	assert_same_root_as_kubo(c, "size-16", 174 * 174 * 16, seed++);
	assert_same_root_as_kubo(c, "size-16", 174 * 174 * 16 + 1, seed++);
	bd_ipfs_close(c);
}
END_TEST

START_TEST(a_block_the_node_lacks_times_out)
{
	bd_ipfs *c = client(2000, 1500);
	bd_cid missing;
	tl_buf out = tl_buf_make(BD_IPFS_MAX_BLOCK);
	char text[64];

	snprintf(text, sizeof(text), "never stored %ld %ld", (long)time(NULL), (long)getpid());
	bd_cid_of(&missing, BD_CODEC_RAW, text, strlen(text));
	ck_assert_int_eq(bd_ipfs_block_get(&out, c, &missing), TL_E_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "within 1500 ms"));
	tl_buf_free(&out);
	bd_ipfs_close(c);
}
END_TEST

/* ---- the queue across an outage ---- */

static const char *node_script(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s", tu_source_path("tests/ipfs/ipfs-node.sh"));
	return path;
}

/* Runs once after the outage test case, in the runner: whatever happened in the test,
 * the node is up again for the suites that follow. */
static void node_back_up(void)
{
	if (tu_system("'%s' start-daemon", node_script()) != 0)
		fprintf(stderr, "test_ipfs: could not restart the IPFS node\n");
}

struct queue_env {
	char *dir;
	tl_db *db;
	bd_blockstore *bs;
	bd_ipfs *ipfs;
	bd_pinq *q;
};

static void queue_open(struct queue_env *e)
{
	const char *cfs[] = { bd_blockstore_column_family, bd_pinq_column_family };
	bd_pinq_options o;
	bd_pinq_transport t;

	bd_pinq_options_default(&o);
	o.backoff_base_ms = 200;
	o.backoff_cap_ms = 1000;
	o.jitter_percent = 0;
	ck_assert_msg(tl_db_open(&e->db, e->dir, cfs, 2) == 0, "%s", tl_error_message());
	ck_assert_int_eq(bd_blockstore_open(&e->bs, e->db), 0);
	e->ipfs = client(1000, 10000);
	t = bd_pinq_transport_ipfs(e->ipfs);
	ck_assert_msg(bd_pinq_open(&e->q, e->db, e->bs, &t, &o) == 0, "%s", tl_error_message());
}

static void queue_close(struct queue_env *e)
{
	bd_pinq_close(e->q);
	bd_ipfs_close(e->ipfs);
	bd_blockstore_close(e->bs);
	tl_db_close(e->db);
}

START_TEST(the_queue_survives_a_node_outage_and_a_restart)
{
	static const char *const specs[] = { "size-1024", "lines", "size-256" };
	struct queue_env e;
	uint8_t *data[3];
	size_t len[3];
	bd_dag *dags[3];
	bd_pinq_counts counts;
	uint64_t now;
	size_t n;

	memset(&e, 0, sizeof(e));
	e.dir = tu_mkdtemp();
	ck_assert_ptr_nonnull(e.dir);
	queue_open(&e);
	for (int i = 0; i < 3; i++) {
		data[i] = bundle_like(&len[i], 250, 100 + (unsigned)i);
		dags[i] = tu_dag_build(data[i], len[i], specs[i]);
		ck_assert_int_eq(bd_blockstore_put_dag(e.bs, dags[i]), 0);
	}

	/* The node goes away; publishing goes on: enqueueing does not touch the network. */
	ck_assert_int_eq(tu_system("'%s' stop-daemon", node_script()), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(bd_pinq_enqueue(e.q, bd_dag_root(dags[i])) == 0, "%s", tl_error_message());
	now = bd_pinq_clock_system(NULL);
	ck_assert_int_eq(bd_pinq_run_once(e.q, now, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(bd_pinq_run_once(e.q, now + 1000, &n), 0);
	ck_assert_uint_eq(n, 3);
	for (int i = 0; i < 3; i++) {
		bd_pinq_item it;

		ck_assert_int_eq(bd_pinq_get(&it, e.q, bd_dag_root(dags[i])), 0);
		ck_assert_int_eq(it.state, BD_PIN_PENDING);
		ck_assert_uint_eq(it.attempts, 2);
		ck_assert_uint_eq(it.failures, 0);
		ck_assert_int_eq(it.last_error_code, TL_E_UNAVAILABLE);
		ck_assert_msg(strstr(it.last_error, "ipfs block/put") != NULL, "%s", it.last_error);
		ck_assert_uint_eq(it.next_try_ms, now + 1000 + 400);
	}

	/* bundled restarts while the node is still down: nothing is lost. */
	queue_close(&e);
	queue_open(&e);
	bd_pinq_counts_get(&counts, e.q);
	ck_assert_uint_eq(counts.pending, 3);
	ck_assert_uint_eq(counts.pinned, 0);

	/* The node comes back on the same address; the worker drains the queue. */
	ck_assert_int_eq(tu_system("'%s' start-daemon", node_script()), 0);
	ck_assert_int_eq(bd_pinq_start(e.q), 0);
	for (int i = 0; i < 300; i++) {
		struct timespec pause = { 0, 100 * 1000000L };

		bd_pinq_counts_get(&counts, e.q);
		if (counts.pinned == 3)
			break;
		nanosleep(&pause, NULL);
	}
	bd_pinq_stop(e.q);
	bd_pinq_counts_get(&counts, e.q);
	ck_assert_uint_eq(counts.pinned, 3);
	ck_assert_uint_eq(counts.pending, 0);
	for (int i = 0; i < 3; i++) {
		bd_pinq_item it;

		ck_assert_int_eq(bd_pinq_get(&it, e.q, bd_dag_root(dags[i])), 0);
		ck_assert_int_eq(it.state, BD_PIN_PINNED);
		ck_assert_str_eq(it.last_error, "");
		assert_pinned(e.ipfs, bd_dag_root(dags[i]), 1);
		assert_cats_to(e.ipfs, bd_dag_root(dags[i]), data[i], len[i]);
		bd_dag_free(dags[i]);
		free(data[i]);
	}
	queue_close(&e);
	tu_rm_rf(e.dir);
	free(e.dir);
}
END_TEST

Suite *suite_it_ipfs(void)
{
	Suite *s = suite_create("it_ipfs");
	TCase *tc = tcase_create("client");
	TCase *boundaries = tcase_create("boundaries");
	TCase *outage = tcase_create("outage");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, the_node_speaks_the_api);
	tcase_add_test(tc, put_pin_and_read_back_size_1024);
	tcase_add_test(tc, put_pin_and_read_back_two_levels);
	tcase_add_test(tc, put_pin_and_read_back_lines);
	tcase_add_test(tc, one_leaf_files_and_the_empty_file);
	tcase_add_test(tc, a_block_the_node_lacks_times_out);
	suite_add_tcase(s, tc);
	tcase_set_timeout(boundaries, 180);
	tcase_add_test(boundaries, kubo_finds_our_roots_around_every_boundary);
	suite_add_tcase(s, boundaries);
	tcase_set_timeout(outage, 90);
	tcase_add_unchecked_fixture(outage, NULL, node_back_up);
	tcase_add_test(outage, the_queue_survives_a_node_outage_and_a_restart);
	suite_add_tcase(s, outage);
	return s;
}
