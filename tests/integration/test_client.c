/*
 * The client of bundled's own API against the real daemon on loopback (a log of 20 entries
 * and a file DAG, prepared through the libraries), and against sockets that misbehave: one
 * that listens but never answers, a port that refuses. What it reads is checked the way a
 * follower would: the checkpoint against the log's key, proofs against its root.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bundled/blockstore.h"
#include "bundled/client.h"
#include "bundled/dag.h"
#include "testdaemon.h"
#include "testpublish.h"
#include "testutil.h"
#include "translog/checkpoint.h"
#include "translog/db.h"
#include "translog/key.h"
#include "translog/log.h"
#include "translog/merkle.h"
#include "translog/proof.h"

enum { ENTRIES = 20, FILE_BYTES = 3000 };

static char *data_dir;
static struct tu_daemon daemon_under_test;
static bd_cid file_leaf;

static void entry_text(char *out, size_t cap, size_t i)
{
	tu_filler_entry(out, cap, "client", i);
}

/* DIR/log.key and DIR/db, as the daemon lays them out. */
static void prepare_data(void)
{
	const char *cfs[TL_LOG_COLUMN_FAMILY_COUNT + 1];
	char path[4200], texts[ENTRIES][TU_FILLER_ENTRY_MAX];
	const void *entries[ENTRIES];
	size_t lens[ENTRIES];
	uint8_t file[FILE_BYTES];
	tl_signer *key;
	tl_db *db;
	tl_log *log;
	bd_blockstore *bs;
	bd_dag *dag;
	bd_chunker ch;
	uint64_t first;

	ck_assert_ptr_nonnull(data_dir = tu_mkdtemp());
	snprintf(path, sizeof(path), "%s/log.key", data_dir);
	ck_assert_int_eq(tl_signer_generate(&key, "client.test/log"), 0);
	ck_assert_int_eq(tl_signer_save(key, path), 0);
	for (size_t i = 0; i < TL_LOG_COLUMN_FAMILY_COUNT; i++)
		cfs[i] = tl_log_column_families[i];
	cfs[TL_LOG_COLUMN_FAMILY_COUNT] = bd_blockstore_column_family;
	snprintf(path, sizeof(path), "%s/db", data_dir);
	ck_assert_int_eq(tl_db_open(&db, path, cfs, TL_LOG_COLUMN_FAMILY_COUNT + 1), 0);
	ck_assert_int_eq(tl_log_open(&log, db, key, NULL), 0);
	for (size_t i = 0; i < ENTRIES; i++) {
		entry_text(texts[i], sizeof(texts[i]), i);
		entries[i] = texts[i];
		lens[i] = strlen(texts[i]);
	}
	ck_assert_int_eq(tl_log_append_batch(&first, log, entries, lens, ENTRIES), 0);
	tl_log_close(log);
	for (size_t i = 0; i < FILE_BYTES; i++)
		file[i] = (uint8_t)(i * 13);
	ck_assert_int_eq(bd_chunker_parse(&ch, "size-1024"), 0);
	ck_assert_int_eq(bd_dag_build(&dag, file, FILE_BYTES, &ch), 0);
	file_leaf = bd_dag_block(dag, 0)->cid;
	ck_assert_int_eq(bd_blockstore_open(&bs, db), 0);
	ck_assert_int_eq(bd_blockstore_put_dag(bs, dag), 0);
	bd_blockstore_close(bs);
	bd_dag_free(dag);
	tl_db_close(db);
	tl_signer_free(key);
}

static void setup(void)
{
	prepare_data();
	ck_assert_int_eq(tu_daemon_start(&daemon_under_test, data_dir, NULL), 0);
}

static void teardown(void)
{
	ck_assert_int_eq(tu_daemon_stop(&daemon_under_test), 0);
	tu_rm_rf(data_dir);
	free(data_dir);
	data_dir = NULL;
}

static bd_client *client_at(const char *url, long timeout_ms)
{
	bd_client_options o;
	bd_client *c = NULL;

	memset(&o, 0, sizeof(o));
	o.url = url;
	o.timeout_ms = timeout_ms;
	ck_assert_msg(bd_client_open(&c, &o) == 0, "%s", tl_error_message());
	return c;
}

static bd_client *client(void)
{
	return client_at(daemon_under_test.base_url, 0);
}

/* The daemon's checkpoint, fetched through `fetch` and opened with the log's key. */
static tl_checkpoint checkpoint_via(int (*fetch)(void *ctx, const char *path, tl_buf *out), bd_client *c)
{
	tl_buf note = tl_buf_make(BD_CLIENT_MAX_CHECKPOINT);
	tl_verifier *v;
	tl_checkpoint cp;

	ck_assert_msg(fetch(c, "checkpoint", &note) == 0, "%s", tl_error_message());
	ck_assert_int_eq(tl_verifier_parse(&v, daemon_under_test.vkey, strlen(daemon_under_test.vkey)), 0);
	ck_assert_msg(tl_checkpoint_open(&cp, note.data, note.len, v) == 0, "%s", tl_error_message());
	tl_verifier_free(v);
	tl_buf_free(&note);
	return cp;
}

START_TEST(reads_what_a_follower_needs)
{
	bd_client *c = client();
	tl_checkpoint cp = checkpoint_via(bd_client_fetch, c);
	tl_buf tile = tl_buf_make(BD_CLIENT_MAX_TILE), bundle = { 0 }, entry = { 0 };
	tl_hash hashes[TL_MAX_PROOF_HASHES], leaf, root_10;
	tl_tile t = { false, 0, 0, ENTRIES };
	char want[TU_FILLER_ENTRY_MAX];
	size_t n;

	ck_assert_uint_eq(cp.size, ENTRIES);
	/* The level-0 tile holds the leaf hashes; the entry bundle the entries themselves. */
	ck_assert_msg(bd_client_tile(&tile, c, &t) == 0, "%s", tl_error_message());
	ck_assert_uint_eq(tile.len, ENTRIES * TL_HASH_SIZE);
	ck_assert_msg(bd_client_fetch(c, "tile/entries/000.p/20", &bundle) == 0, "%s", tl_error_message());
	entry_text(want, sizeof(want), 0);
	ck_assert_uint_eq(tl_load_u16be(bundle.data), strlen(want));
	ck_assert_int_eq(memcmp(bundle.data + 2, want, strlen(want)), 0);
	/* One entry, and its inclusion in the checkpoint's tree. */
	ck_assert_msg(bd_client_entry(&entry, c, 7) == 0, "%s", tl_error_message());
	entry_text(want, sizeof(want), 7);
	ck_assert_uint_eq(entry.len, strlen(want));
	ck_assert_int_eq(memcmp(entry.data, want, entry.len), 0);
	tl_hash_leaf(&leaf, entry.data, entry.len);
	ck_assert_int_eq(memcmp(tile.data + 7 * TL_HASH_SIZE, leaf.b, TL_HASH_SIZE), 0);
	ck_assert_msg(bd_client_inclusion_proof(hashes, &n, c, 7, ENTRIES) == 0, "%s", tl_error_message());
	ck_assert_int_eq(tl_verify_inclusion(&leaf, 7, ENTRIES, hashes, n, &cp.root), 0);
	/* Consistency from the tree of the first 10 leaves. */
	{
		tl_frontier f;
		tl_hash h;

		tl_frontier_init(&f);
		for (size_t i = 0; i < 10; i++) {
			memcpy(h.b, tile.data + i * TL_HASH_SIZE, TL_HASH_SIZE);
			tl_frontier_append(&f, &h, NULL, NULL);
		}
		tl_frontier_root(&f, &root_10);
	}
	ck_assert_msg(bd_client_consistency_proof(hashes, &n, c, 10, ENTRIES) == 0, "%s", tl_error_message());
	ck_assert_int_eq(tl_verify_consistency(10, ENTRIES, hashes, n, &root_10, &cp.root), 0);
	tl_buf_free(&tile);
	tl_buf_free(&bundle);
	tl_buf_free(&entry);
	bd_client_close(c);
}
END_TEST

START_TEST(reads_raw_blocks)
{
	bd_client *c = client();
	tl_buf out = { 0 };
	tl_hash h;

	ck_assert_msg(bd_client_block(&out, c, &file_leaf) == 0, "%s", tl_error_message());
	ck_assert_uint_eq(out.len, 1024);
	tl_sha256(&h, out.data, out.len);
	ck_assert(tl_hash_equal(&h, &file_leaf.digest));
	tl_buf_free(&out);
	bd_client_close(c);
}
END_TEST

START_TEST(missing_things_are_not_found)
{
	bd_client *c = client();
	tl_buf out = { 0 };
	tl_tile t = { false, 0, 1, 256 };
	bd_cid other;

	ck_assert_int_eq(bd_client_entry(&out, c, 1000), TL_E_NOTFOUND);
	ck_assert_msg(strncmp(tl_error_message(), "bundled GET /v1/log/entries/1000: 404: ", 39) == 0, "%s",
		tl_error_message());
	ck_assert_int_eq(bd_client_tile(&out, c, &t), TL_E_NOTFOUND);
	bd_cid_of(&other, BD_CODEC_RAW, "not in the store", 16);
	ck_assert_int_eq(bd_client_block(&out, c, &other), TL_E_NOTFOUND);
	ck_assert_uint_eq(out.len, 0);
	/* Only tlog-tiles paths go through the follower's transport. */
	ck_assert_int_eq(bd_client_fetch(c, "../v1/log/entries/1", &out), TL_E_INPUT);
	ck_assert_int_eq(bd_client_fetch(c, "tile/0/1", &out), TL_E_INPUT);
	ck_assert_int_eq(bd_client_fetch(c, "metrics", &out), TL_E_INPUT);
	ck_assert_uint_eq(out.len, 0);
	tl_buf_free(&out);
	bd_client_close(c);
}
END_TEST

START_TEST(replies_over_the_cap_are_refused)
{
	bd_client *c = client();
	tl_buf out = tl_buf_make(100);

	ck_assert_int_eq(tl_buf_append(&out, "kept", 4), 0);
	ck_assert_int_eq(bd_client_fetch(c, "tile/entries/000.p/20", &out), TL_E_INPUT);
	ck_assert_msg(strstr(tl_error_message(), "reply longer than 96 bytes") != NULL, "%s", tl_error_message());
	ck_assert_uint_eq(out.len, 4);
	ck_assert_int_eq(memcmp(out.data, "kept", 4), 0);
	tl_buf_free(&out);
	bd_client_close(c);
}
END_TEST

/* A loopback socket that listens (so connecting succeeds) but never accepts or answers. */
static int silent_socket(unsigned *port)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

START_TEST(a_silent_peer_times_out)
{
	char url[128];
	unsigned port;
	int fd = silent_socket(&port);
	tl_buf out = { 0 };
	bd_client *c;

	ck_assert_int_eq(listen(fd, 4), 0);
	snprintf(url, sizeof(url), "http://reader:s3cret-pw@127.0.0.1:%u/", port);
	c = client_at(url, 500);
	ck_assert_int_eq(bd_client_checkpoint(&out, c), TL_E_UNAVAILABLE);
	ck_assert_msg(strstr(tl_error_message(), "within 500 ms") != NULL, "%s", tl_error_message());
	ck_assert_msg(strstr(tl_error_message(), "s3cret") == NULL && strstr(tl_error_message(), "reader") == NULL,
		"%s", tl_error_message());
	bd_client_close(c);
	close(fd);
	tl_buf_free(&out);
}
END_TEST

START_TEST(a_closed_port_is_unavailable_and_credentials_stay_out)
{
	char url[128], url_shown[128];
	unsigned port;
	int fd = silent_socket(&port);
	tl_buf out = { 0 };
	bd_client *c;

	close(fd); /* bound but never listening, now closed: connecting is refused */
	snprintf(url, sizeof(url), "http://reader:s3cret-pw@127.0.0.1:%u", port);
	snprintf(url_shown, sizeof(url_shown), "http://127.0.0.1:%u", port);
	c = client_at(url, 0);
	ck_assert_str_eq(bd_client_url(c), url_shown);
	ck_assert_int_eq(bd_client_entry(&out, c, 0), TL_E_UNAVAILABLE);
	ck_assert_msg(strstr(tl_error_message(), url_shown) != NULL, "%s", tl_error_message());
	ck_assert_msg(strstr(tl_error_message(), "s3cret") == NULL && strstr(tl_error_message(), "reader") == NULL,
		"%s", tl_error_message());
	bd_client_close(c);
	tl_buf_free(&out);
}
END_TEST

START_TEST(credentials_stay_out_of_answers_from_the_daemon)
{
	char url[128];
	tl_buf out = tl_buf_make(16);
	bd_client *c;

	snprintf(url, sizeof(url), "http://reader:s3cret-pw@127.0.0.1:%u/", daemon_under_test.port);
	c = client_at(url, 0);
	ck_assert_int_eq(bd_client_entry(&out, c, 999), TL_E_NOTFOUND);
	ck_assert_msg(strstr(tl_error_message(), "s3cret") == NULL, "%s", tl_error_message());
	ck_assert_int_eq(bd_client_checkpoint(&out, c), TL_E_INPUT); /* over the 16-byte cap */
	ck_assert_msg(strstr(tl_error_message(), "s3cret") == NULL, "%s", tl_error_message());
	ck_assert_str_eq(bd_client_url(c), daemon_under_test.base_url);
	bd_client_close(c);
	tl_buf_free(&out);
}
END_TEST

START_TEST(open_checks_its_options)
{
	static const char *bad[] = {
		"", "127.0.0.1:8080", "ftp://127.0.0.1", "http://", "http:///x", "http://a b", "http://a/?x",
		"http://h\x7f", "https://", "http://user@", "http://user:pw@/path",
	};
	bd_client_options o;
	bd_client *c = NULL;

	memset(&o, 0, sizeof(o));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.url = bad[i];
		ck_assert_msg(bd_client_open(&c, &o) == TL_E_INPUT, "accepted %s", bad[i]);
		ck_assert_msg(strstr(tl_error_message(), "pw") == NULL, "%s", tl_error_message());
	}
	o.url = NULL;
	ck_assert_int_eq(bd_client_open(&c, &o), TL_E_INPUT);
	o.url = "https://log.example/base/";
	ck_assert_int_eq(bd_client_open(&c, &o), 0);
	ck_assert_str_eq(bd_client_url(c), "https://log.example/base");
	bd_client_close(c);
	o.timeout_ms = -1;
	ck_assert_int_eq(bd_client_open(&c, &o), TL_E_INPUT);
}
END_TEST

Suite *suite_client(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("daemon");
	TCase *peers = tcase_create("peers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, reads_what_a_follower_needs);
	tcase_add_test(tc, reads_raw_blocks);
	tcase_add_test(tc, missing_things_are_not_found);
	tcase_add_test(tc, replies_over_the_cap_are_refused);
	tcase_add_test(tc, credentials_stay_out_of_answers_from_the_daemon);
	suite_add_tcase(s, tc);
	tcase_set_timeout(peers, 20);
	tcase_add_test(peers, a_silent_peer_times_out);
	tcase_add_test(peers, a_closed_port_is_unavailable_and_credentials_stay_out);
	tcase_add_test(peers, open_checks_its_options);
	suite_add_tcase(s, peers);
	return s;
}
