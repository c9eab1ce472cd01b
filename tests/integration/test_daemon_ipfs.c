/*
 * The daemon pins to the real IPFS node: a root queued in its data directory is put and
 * pinned by the daemon's worker, visible through GET /v1/pins and /metrics, and the node
 * then serves exactly the file's bytes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundled/blockstore.h"
#include "bundled/chunker.h"
#include "bundled/dag.h"
#include "bundled/ipfs.h"
#include "bundled/pinq.h"
#include "testdaemon.h"
#include "testutil.h"

enum { FILE_BYTES = 3000 };

START_TEST(queued_root_is_pinned_by_the_daemon)
{
	const char *api = getenv("BUNDLED_TEST_IPFS_API");
	const char *cfs[] = { bd_blockstore_column_family, bd_pinq_column_family };
	const char *args[] = { "--ipfs-api", api, NULL };
	char *dir = tu_mkdtemp();
	char path[4200], cid_text[BD_CID_TEXT_MAX], needle[200];
	uint8_t bytes[FILE_BYTES];
	bd_ipfs_options io = { .api = api };
	bd_ipfs *ipfs;
	bd_pinq_transport transport;
	bd_blockstore *bs;
	bd_pinq *q;
	bd_dag *dag;
	bd_chunker ch;
	bd_cid root;
	tl_db *db;
	struct tu_daemon d;
	tl_buf cat = tl_buf_make(FILE_BYTES + 1);
	char *body = NULL;
	int pinned = 0;

	ck_assert_ptr_nonnull(dir);
	/* Bytes no other suite uses, so the node has never seen this root. */
	snprintf((char *)bytes, sizeof(bytes), "%ld", (long)time(NULL));
	for (size_t i = 16; i < FILE_BYTES; i++)
		bytes[i] = (uint8_t)(i * 31 + (size_t)getpid());
	ck_assert_int_eq(bd_chunker_parse(&ch, "size-1024"), 0);
	ck_assert_int_eq(bd_dag_build(&dag, bytes, FILE_BYTES, &ch), 0);
	root = *bd_dag_root(dag);
	ck_assert_int_eq(bd_cid_format(cid_text, sizeof(cid_text), &root), 0);

	/* Queue the root the way a publish does: blocks in the store, then one durable enqueue. */
	snprintf(path, sizeof(path), "%s/db", dir);
	ck_assert_int_eq(tl_db_open(&db, path, cfs, 2), 0);
	ck_assert_int_eq(bd_blockstore_open(&bs, db), 0);
	ck_assert_int_eq(bd_blockstore_put_dag(bs, dag), 0);
	ck_assert_int_eq(bd_ipfs_open(&ipfs, &io), 0);
	transport = bd_pinq_transport_ipfs(ipfs);
	ck_assert_int_eq(bd_pinq_open(&q, db, bs, &transport, NULL), 0);
	ck_assert_int_eq(bd_pinq_enqueue(q, &root), 0);
	bd_pinq_close(q);
	bd_blockstore_close(bs);
	tl_db_close(db);

	ck_assert_int_eq(tu_daemon_start(&d, dir, args), 0);
	snprintf(needle, sizeof(needle), "\"cid\":\"%s\",\"state\":\"pinned\"", cid_text);
	for (int i = 0; i < 300 && !pinned; i++) {
		struct timespec ts = { 0, 100 * 1000000L };

		free(body);
		ck_assert_int_eq(tu_http_get(&d, "/v1/pins", &body, NULL), 200);
		pinned = strstr(body, needle) != NULL;
		if (!pinned)
			nanosleep(&ts, NULL);
	}
	ck_assert_msg(pinned, "not pinned after 30 s: %s", body);
	free(body);
	ck_assert_int_eq(tu_http_get(&d, "/metrics", &body, NULL), 200);
	ck_assert_ptr_nonnull(strstr(body, "bundled_pin_queue_items{state=\"pinned\"} 1\n"));
	free(body);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);

	/* The node itself holds the pin and serves the file's bytes. */
	ck_assert_int_eq(bd_ipfs_pin_ls(&pinned, ipfs, &root), 0);
	ck_assert(pinned);
	ck_assert_int_eq(bd_ipfs_cat(&cat, ipfs, &root, FILE_BYTES), 0);
	ck_assert_uint_eq(cat.len, FILE_BYTES);
	ck_assert(memcmp(cat.data, bytes, FILE_BYTES) == 0);
	ck_assert_int_eq(bd_ipfs_pin_rm(ipfs, &root), 0);
	tl_buf_free(&cat);
	bd_ipfs_close(ipfs);
	bd_dag_free(dag);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(pins_endpoint_says_when_pinning_is_off)
{
	char *dir = tu_mkdtemp();
	struct tu_daemon d;
	char *body;

	ck_assert_int_eq(tu_daemon_start(&d, dir, NULL), 0);
	ck_assert_int_eq(tu_http_get(&d, "/v1/pins", &body, NULL), 404);
	ck_assert_ptr_nonnull(strstr(body, "--ipfs-api"));
	free(body);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

Suite *suite_it_daemon_ipfs(void)
{
	Suite *s = suite_create("it_daemon_ipfs");
	TCase *tc = tcase_create("pinning");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, queued_root_is_pinned_by_the_daemon);
	tcase_add_test(tc, pins_endpoint_says_when_pinning_is_off);
	suite_add_tcase(s, tc);
	return s;
}
