/*
 * The real daemon on loopback: a data directory prepared through the libraries (a log of 300
 * entries, a file DAG in the block store), then every endpoint checked from the outside the
 * way an auditor would: the checkpoint against the pinned verifier key, tiles against
 * independently computed hashes, proofs against the checkpoint's root.
 */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundled/blockstore.h"
#include "bundled/cid.h"
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

enum { ENTRIES = 300, FILE_BYTES = 5000 };

static char *data_dir;
static struct tu_daemon daemon_under_test;
static tl_hash leaves[ENTRIES];
static uint8_t file_bytes[FILE_BYTES];
static bd_cid file_root, first_leaf;

static void entry_text(char *out, size_t cap, size_t i)
{
	tu_filler_entry(out, cap, "daemon", i);
}

/* Fills a data directory the way the daemon lays it out: DIR/log.key and DIR/db. */
static void prepare_data(void)
{
	char path[4200];
	const void *entries[ENTRIES];
	size_t lens[ENTRIES];
	char *texts = malloc((size_t)ENTRIES * TU_FILLER_ENTRY_MAX);
	tl_signer *key;
	tl_db *db;
	tl_log *log;
	bd_blockstore *bs;
	bd_dag *dag;
	bd_chunker ch;
	uint64_t first;

	ck_assert_ptr_nonnull(texts);
	ck_assert_ptr_nonnull(data_dir = tu_mkdtemp());
	snprintf(path, sizeof(path), "%s/log.key", data_dir);
	ck_assert_int_eq(tl_signer_generate(&key, "daemon.test/log"), 0);
	ck_assert_int_eq(tl_signer_save(key, path), 0);
	db = tu_daemon_db_open(data_dir);
	ck_assert_int_eq(tl_log_open(&log, db, key, NULL), 0);
	for (size_t i = 0; i < ENTRIES; i++) {
		entry_text(texts + i * TU_FILLER_ENTRY_MAX, TU_FILLER_ENTRY_MAX, i);
		entries[i] = texts + i * TU_FILLER_ENTRY_MAX;
		lens[i] = strlen(texts + i * TU_FILLER_ENTRY_MAX);
		tl_hash_leaf(&leaves[i], entries[i], lens[i]);
	}
	ck_assert_int_eq(tl_log_append_batch(&first, log, entries, lens, ENTRIES), 0);
	ck_assert_uint_eq(first, 0);
	tl_log_close(log);

	for (size_t i = 0; i < FILE_BYTES; i++)
		file_bytes[i] = (uint8_t)(i * 7 + i / 251);
	ck_assert_int_eq(bd_chunker_parse(&ch, "size-1024"), 0);
	ck_assert_int_eq(bd_dag_build(&dag, file_bytes, FILE_BYTES, &ch), 0);
	file_root = *bd_dag_root(dag);
	first_leaf = bd_dag_block(dag, 0)->cid;
	ck_assert_int_eq(bd_blockstore_open(&bs, db), 0);
	ck_assert_int_eq(bd_blockstore_put_dag(bs, dag), 0);
	bd_blockstore_close(bs);
	bd_dag_free(dag);
	tl_db_close(db);
	tl_signer_free(key);
	free(texts);
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

static tl_hash root_of(size_t size)
{
	tl_frontier f;
	tl_hash root;

	tl_frontier_init(&f);
	for (size_t i = 0; i < size; i++)
		tl_frontier_append(&f, &leaves[i], NULL, NULL);
	tl_frontier_root(&f, &root);
	return root;
}

/* The response must match schema/<schema> (validated by ajv through tests/schema/). */
static void expect_schema(const char *schema, const char *body)
{
	char path[4200], schema_path[4200];

	snprintf(path, sizeof(path), "%s/response-%d.json", data_dir, (int)getpid());
	/* tu_source_path returns a buffer it reuses: keep a copy for the second call. */
	snprintf(schema_path, sizeof(schema_path), "%s", tu_source_path("schema"));
	ck_assert_int_eq(tu_write_file(path, body, strlen(body)), 0);
	ck_assert_msg(tu_system("%s %s/%s %s", tu_source_path("tests/schema/validate.sh"), schema_path, schema, path) == 0,
		"%s does not match schema/%s", body, schema);
	unlink(path);
}

/* GETs a path and checks the status; returns the body (free it). */
static char *get(const char *path, long want_status, size_t *len)
{
	char *body;
	size_t n;
	long status = tu_http_get(&daemon_under_test, path, &body, &n);

	ck_assert_msg(status == want_status, "GET %s: status %ld, want %ld: %s", path, status, want_status,
		body ? body : "");
	if (len)
		*len = n;
	return body;
}

/* An error answer is the one JSON shape with the expected code. */
static void expect_error(const char *path, long status, const char *code)
{
	char *body = get(path, status, NULL);
	json_t *doc = json_loads(body, 0, NULL);
	const char *got = json_string_value(json_object_get(json_object_get(doc, "error"), "code"));

	ck_assert_msg(got != NULL && strcmp(got, code) == 0, "GET %s: body %s, want code %s", path, body, code);
	ck_assert_ptr_nonnull(json_string_value(json_object_get(json_object_get(doc, "error"), "message")));
	expect_schema("error.schema.json", body);
	json_decref(doc);
	free(body);
}

START_TEST(checkpoint_verifies_under_the_pinned_key)
{
	size_t len;
	char *note = get("/checkpoint", 200, &len);
	tl_verifier *v;
	tl_checkpoint cp;
	tl_hash want = root_of(ENTRIES);

	ck_assert_int_eq(tl_verifier_parse(&v, daemon_under_test.vkey, strlen(daemon_under_test.vkey)), 0);
	ck_assert_int_eq(tl_checkpoint_open(&cp, (const uint8_t *)note, len, v), 0);
	ck_assert_str_eq(cp.origin, "daemon.test/log");
	ck_assert_uint_eq(cp.size, ENTRIES);
	ck_assert(tl_hash_equal(&cp.root, &want));
	tl_verifier_free(v);
	free(note);
}
END_TEST

START_TEST(tiles_and_entry_bundles_hold_the_leaves)
{
	size_t len;
	char *tile = get("/tile/0/000", 200, &len);
	char *partial;

	ck_assert_uint_eq(len, 256 * TL_HASH_SIZE);
	for (size_t i = 0; i < 256; i++)
		ck_assert(memcmp(tile + i * TL_HASH_SIZE, leaves[i].b, TL_HASH_SIZE) == 0);
	free(tile);
	partial = get("/tile/0/001.p/44", 200, &len);
	ck_assert_uint_eq(len, 44 * TL_HASH_SIZE);
	ck_assert(memcmp(partial, leaves[256].b, TL_HASH_SIZE) == 0);
	free(partial);

	/* Entry bundle 1: 44 entries, each with a uint16 big-endian length. */
	partial = get("/tile/entries/001.p/44", 200, &len);
	{
		size_t pos = 0, i = 256;
		char want[TU_FILLER_ENTRY_MAX];

		while (pos < len) {
			size_t n = (size_t)((uint8_t)partial[pos] << 8 | (uint8_t)partial[pos + 1]);

			entry_text(want, sizeof(want), i++);
			ck_assert_uint_eq(n, strlen(want));
			ck_assert(memcmp(partial + pos + 2, want, n) == 0);
			pos += 2 + n;
		}
		ck_assert_uint_eq(i, ENTRIES);
	}
	free(partial);
	expect_error("/tile/0/002", 404, "not_found");
	expect_error("/tile/0/x000", 400, "bad_input");
	expect_error("/tile/0/001.p/0", 400, "bad_input");
}
END_TEST

START_TEST(entries_by_index)
{
	size_t len;
	char *entry = get("/v1/log/entries/5", 200, &len);
	char want[TU_FILLER_ENTRY_MAX];

	entry_text(want, sizeof(want), 5);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert(memcmp(entry, want, len) == 0);
	free(entry);
	expect_error("/v1/log/entries/300", 404, "not_found");
	expect_error("/v1/log/entries/05", 400, "bad_input");
	expect_error("/v1/log/entries/-1", 400, "bad_input");
}
END_TEST

/* Decodes {"<a>":..,"<b>":..,"hashes":[...]} into hashes. */
static size_t proof_hashes(tl_hash *out, const char *body)
{
	json_t *doc = json_loads(body, 0, NULL);
	json_t *hashes = json_object_get(doc, "hashes");
	size_t n = json_array_size(hashes);

	ck_assert_ptr_nonnull(doc);
	ck_assert_uint_le(n, TL_MAX_PROOF_HASHES);
	for (size_t i = 0; i < n; i++) {
		const char *b64 = json_string_value(json_array_get(hashes, i));
		size_t got;

		ck_assert_ptr_nonnull(b64);
		ck_assert_int_eq(tl_base64_decode(out[i].b, TL_HASH_SIZE, &got, b64, strlen(b64)), 0);
		ck_assert_uint_eq(got, TL_HASH_SIZE);
	}
	json_decref(doc);
	return n;
}

START_TEST(proofs_verify_against_the_roots)
{
	tl_hash hashes[TL_MAX_PROOF_HASHES];
	tl_hash root = root_of(ENTRIES), old_root = root_of(100), mid_root = root_of(257);
	char *body;
	size_t n;

	body = get("/v1/log/proof/inclusion?index=5&size=300", 200, NULL);
	expect_schema("inclusion-proof.schema.json", body);
	n = proof_hashes(hashes, body);
	ck_assert_int_eq(tl_verify_inclusion(&leaves[5], 5, ENTRIES, hashes, n, &root), 0);
	ck_assert_int_ne(tl_verify_inclusion(&leaves[6], 5, ENTRIES, hashes, n, &root), 0);
	free(body);
	body = get("/v1/log/proof/inclusion?index=256&size=257", 200, NULL);
	n = proof_hashes(hashes, body);
	ck_assert_int_eq(tl_verify_inclusion(&leaves[256], 256, 257, hashes, n, &mid_root), 0);
	free(body);
	body = get("/v1/log/proof/consistency?old=100&size=300", 200, NULL);
	expect_schema("consistency-proof.schema.json", body);
	n = proof_hashes(hashes, body);
	ck_assert_int_eq(tl_verify_consistency(100, ENTRIES, hashes, n, &old_root, &root), 0);
	ck_assert_int_ne(tl_verify_consistency(100, ENTRIES, hashes, n, &mid_root, &root), 0);
	free(body);

	expect_error("/v1/log/proof/inclusion?index=300&size=300", 400, "bad_input");
	expect_error("/v1/log/proof/inclusion?index=1&size=301", 404, "not_found");
	expect_error("/v1/log/proof/inclusion?index=1", 400, "bad_input");
	expect_error("/v1/log/proof/inclusion?index=01&size=300", 400, "bad_input");
	expect_error("/v1/log/proof/consistency?old=301&size=300", 400, "bad_input");
}
END_TEST

START_TEST(gateway_serves_verified_raw_blocks)
{
	char path[200], text[BD_CID_TEXT_MAX];
	size_t len;
	char *block;
	bd_cid got;

	ck_assert_int_eq(bd_cid_format(text, sizeof(text), &first_leaf), 0);
	snprintf(path, sizeof(path), "/ipfs/%s?format=raw", text);
	block = get(path, 200, &len);
	ck_assert_uint_eq(len, 1024);
	ck_assert(memcmp(block, file_bytes, 1024) == 0);
	free(block);

	ck_assert_int_eq(bd_cid_format(text, sizeof(text), &file_root), 0);
	snprintf(path, sizeof(path), "/ipfs/%s?format=raw", text);
	block = get(path, 200, &len);
	bd_cid_of(&got, BD_CODEC_DAG_PB, block, len);
	ck_assert(bd_cid_equal(&got, &file_root));
	free(block);

	snprintf(path, sizeof(path), "/ipfs/%s?format=car", text);
	expect_error(path, 400, "bad_input");
	expect_error("/ipfs/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku?format=raw", 404, "not_found");
	expect_error("/ipfs/bafkNOTACID?format=raw", 400, "bad_input");
}
END_TEST

START_TEST(operator_endpoints)
{
	char *body = get("/healthz", 200, NULL);

	ck_assert_str_eq(body, "ok\n");
	free(body);
	body = get("/metrics", 200, NULL);
	ck_assert_ptr_nonnull(strstr(body, "\nbundled_log_size 300\n"));
	ck_assert_ptr_nonnull(strstr(body, "# TYPE bundled_http_responses_total counter"));
	free(body);
	expect_error("/no/such/thing", 404, "not_found");
}
END_TEST

START_TEST(methods_and_body_limits)
{
	size_t big_len = (1u << 20) + 1; /* one byte over the default max_body */
	char *big = calloc(1, big_len);
	char *body;

	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(tu_http_request(&daemon_under_test, "POST", "/healthz", "x", 1, &body, NULL), 405);
	ck_assert_ptr_nonnull(strstr(body, "\"bad_input\""));
	free(body);
	ck_assert_int_eq(tu_http_request(&daemon_under_test, "POST", "/checkpoint", big, big_len, &body, NULL), 413);
	ck_assert_ptr_nonnull(strstr(body, "larger than 1048576 bytes"));
	free(body);
	free(big);
	/* The daemon is still serving. */
	body = get("/healthz", 200, NULL);
	free(body);
}
END_TEST

START_TEST(restart_keeps_key_and_log)
{
	size_t len1, len2;
	char *before = get("/checkpoint", 200, &len1);
	char *after;
	char vkey[sizeof(daemon_under_test.vkey)];

	memcpy(vkey, daemon_under_test.vkey, sizeof(vkey));
	ck_assert_int_eq(tu_daemon_stop(&daemon_under_test), 0);
	ck_assert_int_eq(tu_daemon_start(&daemon_under_test, data_dir, NULL), 0);
	ck_assert_str_eq(daemon_under_test.vkey, vkey);
	after = get("/checkpoint", 200, &len2);
	ck_assert_uint_eq(len1, len2);
	ck_assert(memcmp(before, after, len1) == 0);
	free(before);
	free(after);
}
END_TEST

START_TEST(log_lines_quote_outside_text)
{
	char *dir = tu_mkdtemp();
	const char *args[] = { "--log-level", "debug", NULL };
	struct tu_daemon d;
	size_t len;
	char *log;

	/* The path arrives percent-decoded: a newline, a quote and a UTF-8 "é" that must not
	 * reach the log line raw (a forged line, a broken quoted value). */
	ck_assert_int_eq(tu_daemon_start(&d, dir, args), 0);
	ck_assert_int_eq(tu_http_get(&d, "/x%0Ay%22z%C3%A9", NULL, NULL), 404);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	log = (char *)tu_read_file(d.log_path, &len);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(strstr(log, "msg=\"request\" method=GET path=\"/x\\x0ay\\x22z\\xc3\\xa9\" status=404 ") != NULL,
		"no escaped request line in: %s", log);
	free(log);
	unlink(d.log_path);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(bad_configuration_is_refused)
{
	char *dir = tu_mkdtemp();
	char cfg[4200];
	const char *args[] = { "--config", cfg, NULL };
	struct tu_daemon d;

	snprintf(cfg, sizeof(cfg), "%s/bundled.json", dir);
	ck_assert_int_eq(tu_write_file(cfg, "{\"listen\":\"127.0.0.1:0\",\"lisen\":1}", 34), 0);
	ck_assert_int_ne(tu_daemon_start(&d, dir, args), 0);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

Suite *suite_daemon(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("http");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, checkpoint_verifies_under_the_pinned_key);
	tcase_add_test(tc, tiles_and_entry_bundles_hold_the_leaves);
	tcase_add_test(tc, entries_by_index);
	tcase_add_test(tc, proofs_verify_against_the_roots);
	tcase_add_test(tc, gateway_serves_verified_raw_blocks);
	tcase_add_test(tc, operator_endpoints);
	tcase_add_test(tc, methods_and_body_limits);
	tcase_add_test(tc, restart_keeps_key_and_log);
	suite_add_tcase(s, tc);
	tc = tcase_create("config");
	tcase_add_test(tc, bad_configuration_is_refused);
	tcase_add_test(tc, log_lines_quote_outside_text);
	suite_add_tcase(s, tc);
	return s;
}
