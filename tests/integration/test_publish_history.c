/*
 * A trust domain's whole history through bundlectl against the real daemon and IPFS node:
 * register, publish every version of ../shared/research/cacert-history/ in order (or the
 * generated history), revoke an authority; read every version back by sequence (bytes,
 * ETag, CID header, conditional GET), by CID through the IPFS node, and verify every proof
 * with bundlectl verify-proof; restart the daemon, drop the registry, rebuild it with
 * --rebuild-index: every time the registry and every version are as before.
 */
#include <check.h>
#include <jansson.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundled/bundle.h"
#include "bundled/cid.h"
#include "bundled/ipfs.h"
#include "bundled/registry.h"
#include "testdaemon.h"
#include "testpublish.h"
#include "testrun.h"
#include "testutil.h"
#include "translog/db.h"
#include "translog/hash.h"

#define TD "history.test"
#define MAX_VERSIONS 48

struct version {
	uint64_t sequence;
	char sha256[2 * TL_HASH_SIZE + 1];
	char cid[BD_CID_TEXT_MAX];
	char proof[64], entry[64];
};

/* The JSON bundlectl --json printed: the version's facts. */
static void read_outcome(struct version *v, const char *out)
{
	json_t *doc = json_loads(out, 0, NULL);

	ck_assert_msg(doc != NULL, "not JSON: %s", out);
	v->sequence = (uint64_t)json_integer_value(json_object_get(doc, "sequence"));
	ck_assert_ptr_nonnull(json_string_value(json_object_get(doc, "sha256")));
	snprintf(v->sha256, sizeof(v->sha256), "%s", json_string_value(json_object_get(doc, "sha256")));
	snprintf(v->cid, sizeof(v->cid), "%s", json_string_value(json_object_get(doc, "cid")));
	ck_assert(json_is_integer(json_object_get(doc, "index")));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(doc, "checkpoint")), "\n\n"));
	json_decref(doc);
}

/* The version by sequence: its bytes hash to what was logged, its headers name it, and a
 * conditional GET with its ETag is a 304. Returns the bytes. */
static char *check_version(const struct tu_daemon *d, const struct version *v, size_t *len)
{
	char path[256], etag[80], inm[128], hex[2 * TL_HASH_SIZE + 1];
	const char *headers[] = { inm, NULL };
	struct tu_reply r;
	tl_hash h;
	char *bytes;

	snprintf(path, sizeof(path), "/v1/domains/" TD "/bundles/%llu", (unsigned long long)v->sequence);
	ck_assert_int_eq(tu_api(&r, d, "GET", path, NULL, NULL, 0, NULL), 200);
	tl_sha256(&h, r.body, r.len);
	tl_hex_encode(hex, h.b, TL_HASH_SIZE);
	ck_assert_str_eq(hex, v->sha256);
	snprintf(etag, sizeof(etag), "\"%s\"", v->sha256);
	ck_assert_str_eq(tu_reply_header(&r, "ETag"), etag);
	ck_assert_str_eq(tu_reply_header(&r, "X-Bundle-Cid"), v->cid);
	ck_assert_ptr_nonnull(strstr(tu_reply_header(&r, "Cache-Control"), "immutable"));
	ck_assert_str_eq(tu_reply_header(&r, "Content-Type"), "application/json");
	bytes = r.body;
	*len = r.len;
	free(r.headers);
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	ck_assert_int_eq(tu_api(&r, d, "GET", path, headers, NULL, 0, NULL), 304);
	ck_assert_uint_eq(r.len, 0);
	tu_reply_free(&r);
	return bytes;
}

static char *domains(const struct tu_daemon *d)
{
	char *body;

	ck_assert_int_eq(tu_http_get(d, "/v1/domains", &body, NULL), 200);
	return body;
}

/* Every version reads back as logged, and the registry is `want`. */
static void check_all(const struct tu_daemon *d, const struct version *v, size_t n, const char *want)
{
	char *now = domains(d);

	ck_assert_str_eq(now, want);
	free(now);
	for (size_t i = 0; i < n; i++) {
		size_t len;

		free(check_version(d, &v[i], &len));
	}
}

static void drop_registry(const char *data)
{
	tl_db *db = tu_daemon_db_open(data);
	char *err = NULL;

	ck_assert_ptr_nonnull(tl_db_cf(db, BD_REGISTRY_COLUMN_FAMILY));
	rocksdb_drop_column_family(tl_db_rocks(db), tl_db_cf(db, BD_REGISTRY_COLUMN_FAMILY), &err);
	ck_assert_msg(err == NULL, "drop: %s", err);
	tl_db_close(db);
}

/* Waits until the pin queue holds no pending item. */
static void wait_pinned(const struct tu_daemon *d)
{
	char *body = NULL;

	for (int i = 0; i < 600; i++) {
		struct timespec ts = { 0, 100 * 1000000L };

		free(body);
		ck_assert_int_eq(tu_http_get(d, "/v1/pins", &body, NULL), 200);
		if (strstr(body, "\"pending\"") == NULL && strstr(body, "\"failed\"") == NULL)
			break;
		nanosleep(&ts, NULL);
	}
	ck_assert_msg(strstr(body, "\"pending\"") == NULL && strstr(body, "\"failed\"") == NULL, "pins: %s", body);
	free(body);
}

/* The hex fingerprint of the first X.509 authority of a canonical bundle. */
static void first_x509(char *hex, const char *bytes, size_t len)
{
	bd_bundle *b;

	ck_assert_int_eq(bd_bundle_parse(&b, (const uint8_t *)bytes, len, 0, NULL), 0);
	ck_assert_uint_gt(bd_bundle_count(b), 1);
	tl_hex_encode(hex, bd_authority_fingerprint(bd_bundle_at(b, 0))->b, TL_HASH_SIZE);
	bd_bundle_free(b);
}

START_TEST(history_is_published_read_back_and_survives)
{
	const char *api = getenv("BUNDLED_TEST_IPFS_API");
	const char *args[] = { "--ipfs-api", api, NULL };
	char *dir = tu_mkdtemp(), data[4200], key[4200], vkey[512], key2[4200], vkey2[512], fp[2 * TL_HASH_SIZE + 1], *before, *body;
	static struct version v[MAX_VERSIONS];
	static struct tu_history h;
	char **canonical = calloc(MAX_VERSIONS, sizeof(char *));
	size_t *canonical_len = calloc(MAX_VERSIONS, sizeof(size_t));
	bd_ipfs_options io = { .api = api };
	bd_ipfs *ipfs;
	struct tu_output o = { 0 };
	struct tu_daemon d;
	struct tu_reply r;
	size_t n;

	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(key, sizeof(key), "%s/publisher.key", dir);
	ck_assert_int_eq(tu_daemon_start(&d, data, args), 0);
	ck_assert_int_eq(tu_run(&o, dir, "bundlectl", "keygen --name publisher.history.test --out '%s'", key), 0);
	ck_assert_uint_lt(o.out_len, sizeof(vkey));
	snprintf(vkey, sizeof(vkey), "%.*s", (int)o.out_len - 1, o.out);
	ck_assert_int_eq(tu_run(&o, dir, "bundlectl",
				 "domain register --server %s --operator-token '%s/operator.token' --domain " TD
				 " --publisher-key '%s'",
				 d.base_url, data, vkey),
		0);
	ck_assert_ptr_nonnull(strstr(o.out, "registered " TD));

	/* A second key comes and goes (two key changes in one second included); the last key
	 * cannot go, and a removed key signs nothing more. */
	snprintf(key2, sizeof(key2), "%s/second.key", dir);
	ck_assert_int_eq(tu_run(&o, dir, "bundlectl", "keygen --name second.history.test --out '%s'", key2), 0);
	snprintf(vkey2, sizeof(vkey2), "%.*s", (int)o.out_len - 1, o.out);
	ck_assert_msg(tu_run(&o, dir, "bundlectl", "domain add-key --server %s --key '%s' --domain " TD " --json '%s'",
			      d.base_url, key, vkey2) == 0, "add-key: %s", o.err);
	ck_assert_ptr_nonnull(strstr(o.out, "{\"domain\":\"" TD "\",\"index\":"));
	ck_assert_msg(tu_run(&o, dir, "bundlectl", "domain remove-key --server %s --key '%s' --domain " TD " '%s'",
			      d.base_url, key2, vkey2) == 0, "remove-key: %s", o.err);
	tu_assert_invalid(&o, tu_run(&o, dir, "bundlectl", "domain remove-key --server %s --key '%s' --domain " TD " '%s'",
				      d.base_url, key, vkey), "without a publisher key");
	tu_assert_invalid(&o, tu_run(&o, dir, "bundlectl", "domain add-key --server %s --key '%s' --domain " TD " '%s'",
				      d.base_url, key2, vkey2), "not a current publisher key");

	/* Every version in order, each proof written beside it. The real CA history carries a
	 * certificate Go and bundled refuse (EC-ACC's negative serial, 2020-2022): a publisher of
	 * that store leaves it out, with --skip-refused. */
	tu_history_load(&h, MAX_VERSIONS - 1);
	ck_assert_uint_ge(h.n, 3);
	for (n = 0; n < h.n; n++) {
		const char *file = tu_path_in(dir, h.name[n]);

		ck_assert_int_eq(tu_write_file(file, h.data[n], h.len[n]), 0);
		snprintf(v[n].proof, sizeof(v[n].proof), "proof-%zu", n);
		snprintf(v[n].entry, sizeof(v[n].entry), "entry-%zu", n);
		ck_assert_msg(tu_run(&o, dir, "bundlectl",
				      "publish --server %s --key '%s' --domain " TD
				      " --refresh-hint 300 --skip-refused --json --proof-out '%s' '%s'",
				      d.base_url, key, tu_path_in(dir, v[n].proof), file) == 0,
			"publish %s: %s", h.name[n], o.err);
		read_outcome(&v[n], o.out);
		ck_assert_uint_eq(v[n].sequence, n + 1);
	}

	/* Revoke the newest version's first CA: a new version without it. */
	canonical[n - 1] = check_version(&d, &v[n - 1], &canonical_len[n - 1]);
	first_x509(fp, canonical[n - 1], canonical_len[n - 1]);
	snprintf(v[n].proof, sizeof(v[n].proof), "proof-%zu", n);
	snprintf(v[n].entry, sizeof(v[n].entry), "entry-%zu", n);
	ck_assert_msg(tu_run(&o, dir, "bundlectl",
			      "revoke --server %s --key '%s' --domain " TD
			      " --authority %s --reason 'key compromise' --json --proof-out '%s'",
			      d.base_url, key, fp, tu_path_in(dir, v[n].proof)) == 0,
		"revoke: %s", o.err);
	read_outcome(&v[n], o.out);
	ck_assert_uint_eq(v[n].sequence, n + 1);
	n++;
	ck_assert_int_eq(tu_run(&o, dir, "bundlectl",
				 "revoke --server %s --key '%s' --domain " TD " --authority %s --reason again",
				 d.base_url, key, fp),
		2);
	ck_assert_ptr_nonnull(strstr(o.err, "no authority"));

	/* The federation endpoint serves the newest version, as a SPIFFE bundle. */
	ck_assert_int_eq(tu_api(&r, &d, "GET", "/v1/domains/" TD "/bundle", NULL, NULL, 0, NULL), 200);
	ck_assert_str_eq(tu_reply_header(&r, "Content-Type"), "application/json");
	ck_assert_ptr_nonnull(strstr(r.body, "\"spiffe_refresh_hint\":300"));
	ck_assert_ptr_null(strstr(r.body, fp));
	tu_reply_free(&r);

	/* Every version: bytes, entry, and its proof through verify-proof. */
	for (size_t i = 0; i < n; i++) {
		free(canonical[i]);
		canonical[i] = check_version(&d, &v[i], &canonical_len[i]);
		ck_assert_int_eq(tu_run(&o, dir, "bundlectl",
					 "get entry --server %s --domain " TD " --sequence %llu --out '%s'", d.base_url,
					 (unsigned long long)v[i].sequence, tu_path_in(dir, v[i].entry)),
			0);
		ck_assert_msg(tu_run(&o, dir, "bundlectl", "verify-proof --vkey '%s' --entry '%s' '%s'", d.vkey,
				      tu_path_in(dir, v[i].entry), tu_path_in(dir, v[i].proof)) == 0,
			"verify-proof %zu: %s", i, o.err);
	}
	/* A proof served now verifies too. */
	ck_assert_int_eq(tu_run(&o, dir, "bundlectl", "get proof --server %s --domain " TD " --sequence 1 --out '%s'",
				 d.base_url, tu_path_in(dir, "proof-now")),
		0);
	ck_assert_int_eq(tu_run(&o, dir, "bundlectl", "verify-proof --vkey '%s' --entry '%s' '%s'", d.vkey,
				 tu_path_in(dir, v[0].entry), tu_path_in(dir, "proof-now")),
		0);

	/* By CID, through the IPFS node: the canonical bytes. */
	wait_pinned(&d);
	ck_assert_int_eq(bd_ipfs_open(&ipfs, &io), 0);
	for (size_t i = 0; i < n; i++) {
		tl_buf cat = tl_buf_make(BD_MAX_BUNDLE_SIZE);
		bd_cid cid;

		ck_assert_int_eq(bd_cid_parse(&cid, v[i].cid, strlen(v[i].cid)), 0);
		ck_assert_int_eq(bd_ipfs_cat(&cat, ipfs, &cid, canonical_len[i]), 0);
		ck_assert_uint_eq(cat.len, canonical_len[i]);
		ck_assert(memcmp(cat.data, canonical[i], cat.len) == 0);
		tl_buf_free(&cat);
	}
	bd_ipfs_close(ipfs);

	/* Restart; drop the registry (rebuilt from the log on start); rebuild it on request. */
	before = domains(&d);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	ck_assert_int_eq(tu_daemon_start(&d, data, args), 0);
	check_all(&d, v, n, before);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	drop_registry(data);
	ck_assert_int_eq(tu_daemon_start(&d, data, args), 0);
	check_all(&d, v, n, before);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	ck_assert_int_eq(tu_system("'%s' --data '%s' --rebuild-index 2>'%s/rebuild.log'", tu_bin_path("bundled"), data,
				 dir),
		0);
	ck_assert_int_eq(tu_daemon_start(&d, data, args), 0);
	check_all(&d, v, n, before);
	ck_assert_int_eq(tu_run(&o, dir, "bundlectl", "status --server %s --domain " TD, d.base_url), 0);
	body = o.out;
	ck_assert_ptr_nonnull(strstr(body, "versions "));
	/* the same as one object: the daemon's two answers as it gave them */
	ck_assert_int_eq(tu_run(&o, dir, "bundlectl", "status --server %s --domain " TD " --json", d.base_url), 0);
	ck_assert_ptr_nonnull(strstr(o.out, "{\"log\":{\"origin\":"));
	ck_assert_ptr_nonnull(strstr(o.out, ",\"domain\":{\"domain\":\"" TD "\""));
	ck_assert_int_eq(tu_daemon_stop(&d), 0);

	for (size_t i = 0; i < n; i++)
		free(canonical[i]);
	free(canonical);
	free(canonical_len);
	free(before);
	tu_output_free(&o);
	tu_history_free(&h);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

Suite *suite_it_publish(void)
{
	Suite *s = suite_create("it_publish");
	TCase *tc = tcase_create("history");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, history_is_published_read_back_and_survives);
	suite_add_tcase(s, tc);
	return s;
}
