/*
 * The federation endpoint (GET /v1/domains/<td>/bundle) and versions by sequence
 * (.../bundles/<seq>) as the daemon serves them from its version cache and memory files
 * (bundled/daemon/versions.c), against a real daemon that bundlectl publishes to: each new
 * version is the newest at once when its publish returns, also to readers that kept asking
 * during the publish (never an older one than a publish already acknowledged, never going
 * back); a version by sequence is the content of its CID and never changes; ETags and
 * conditional requests answer 304 only for the version's own tag. (A replica's cache
 * following its primary is checked by the replica suite, which reads every domain's newest
 * before the primary goes on.)
 */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/cid.h"
#include "bundled/dag.h"
#include "testdaemon.h"
#include "testpublish.h"
#include "testrun.h"
#include "testutil.h"
#include "translog/hash.h"

#define TD "versions.test"
#define VERSIONS 5

struct world {
	char *dir;
	char data[4096], key[4096];
	struct tu_daemon d;
	struct tu_history h;
	struct tu_output o;
	uint64_t sequence[VERSIONS];
	char sha256[VERSIONS][2 * TL_HASH_SIZE + 1];
	char cid[VERSIONS][BD_CID_TEXT_MAX];
	size_t published, next_file;
};

static void world_init(struct world *w)
{
	char vkey[512];

	memset(w, 0, sizeof(*w));
	ck_assert_ptr_nonnull(w->dir = tu_mkdtemp());
	snprintf(w->data, sizeof(w->data), "%s/data", w->dir);
	snprintf(w->key, sizeof(w->key), "%s/publisher.key", w->dir);
	/* The real history's versions 005-013 hold a CA the strict parser refuses (EC-ACC's
	 * negative serial): load past them. */
	tu_history_load(&w->h, VERSIONS + 16);
	ck_assert_uint_ge(w->h.n, VERSIONS);
	ck_assert_int_eq(tu_daemon_start(&w->d, w->data, NULL), 0);
	ck_assert_int_eq(tu_run(&w->o, w->dir, "bundlectl", "keygen --name publisher.versions.test --out '%s'", w->key), 0);
	snprintf(vkey, sizeof(vkey), "%.*s", (int)w->o.out_len - 1, w->o.out);
	ck_assert_msg(tu_run(&w->o, w->dir, "bundlectl",
			      "domain register --server %s --operator-token '%s/operator.token' --domain " TD
			      " --publisher-key '%s'",
			      w->d.base_url, w->data, vkey) == 0,
		"register: %s", w->o.err);
}

static void world_free(struct world *w)
{
	ck_assert_int_eq(tu_daemon_stop(&w->d), 0);
	tu_output_free(&w->o);
	tu_history_free(&w->h);
	tu_rm_rf(w->dir);
	free(w->dir);
}

/* Publishes the next history file that the strict parser takes; records what was logged. */
static void publish_next(struct world *w)
{
	char file[4096];
	json_t *doc;

	/* A copy: tu_path_in's buffers rotate, and the reader thread's calls use them too. */
	snprintf(file, sizeof(file), "%s", tu_path_in(w->dir, "next.pem"));

	/* A file the strict parser refuses (an authority it does not take) is passed over. */
	for (;; w->next_file++) {
		ck_assert_msg(w->next_file < w->h.n, "no file left to publish; the last: %s", w->o.err);
		ck_assert_int_eq(tu_write_file(file, w->h.data[w->next_file], w->h.len[w->next_file]), 0);
		if (tu_run(&w->o, w->dir, "bundlectl", "publish --json --server %s --key '%s' --domain " TD " '%s'",
			    w->d.base_url, w->key, file) == 0)
			break;
	}
	w->next_file++;
	ck_assert_ptr_nonnull(doc = json_loads(w->o.out, 0, NULL));
	w->sequence[w->published] = (uint64_t)json_integer_value(json_object_get(doc, "sequence"));
	snprintf(w->sha256[w->published], sizeof(w->sha256[0]), "%s", json_string_value(json_object_get(doc, "sha256")));
	snprintf(w->cid[w->published], sizeof(w->cid[0]), "%s", json_string_value(json_object_get(doc, "cid")));
	json_decref(doc);
	w->published++;
}

/* GET path with an optional If-None-Match; the status. */
static long get(struct tu_reply *r, const struct world *w, const char *path, const char *inm)
{
	char line[256];
	const char *headers[] = { line, NULL };

	snprintf(line, sizeof(line), "If-None-Match: %s", inm != NULL ? inm : "");
	return tu_api(r, &w->d, "GET", path, inm != NULL ? headers : NULL, NULL, 0, NULL);
}

/* The answer is version i of the world: its sequence, tag, CID, and bytes that hash to them. */
static void expect_version(const struct world *w, const struct tu_reply *r, size_t i)
{
	char etag[2 * TL_HASH_SIZE + 3], hex[2 * TL_HASH_SIZE + 1], seq[24], cid[BD_CID_TEXT_MAX];
	bd_dag *dag;
	tl_hash h;

	snprintf(etag, sizeof(etag), "\"%s\"", w->sha256[i]);
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)w->sequence[i]);
	ck_assert_str_eq(tu_reply_header(r, "X-Bundle-Sequence"), seq);
	ck_assert_str_eq(tu_reply_header(r, "ETag"), etag);
	ck_assert_str_eq(tu_reply_header(r, "X-Bundle-Cid"), w->cid[i]);
	ck_assert_str_eq(tu_reply_header(r, "Content-Type"), "application/json");
	tl_sha256(&h, r->body, r->len);
	tl_hex_encode(hex, h.b, TL_HASH_SIZE);
	ck_assert_str_eq(hex, w->sha256[i]);
	/* The bytes are the content of the version's CID (the daemon's DAG of them). */
	ck_assert_int_eq(bd_dag_build(&dag, (const uint8_t *)r->body, r->len, NULL), 0);
	ck_assert_int_eq(bd_cid_format(cid, sizeof(cid), bd_dag_root(dag)), 0);
	ck_assert_str_eq(cid, w->cid[i]);
	bd_dag_free(dag);
}

/* ---- a reader that keeps asking for the newest while versions are published ---- */

struct reader {
	const struct world *w;
	uint64_t acknowledged; /* the sequence of the last publish that returned (atomic) */
	bool stop;             /* atomic */
	unsigned long asked, older, backwards;
	pthread_t thread;
};

static void *read_newest(void *arg)
{
	struct reader *rd = arg;
	uint64_t last = 0;

	while (!__atomic_load_n(&rd->stop, __ATOMIC_ACQUIRE)) {
		uint64_t ack = __atomic_load_n(&rd->acknowledged, __ATOMIC_ACQUIRE);
		unsigned long long seq;
		const char *header;
		struct tu_reply r;

		if (get(&r, rd->w, "/v1/domains/" TD "/bundle", NULL) == 200 &&
		    (header = tu_reply_header(&r, "X-Bundle-Sequence")) != NULL && sscanf(header, "%llu", &seq) == 1) {
			rd->asked++;
			rd->older += seq < ack;
			rd->backwards += seq < last;
			last = seq;
		}
		tu_reply_free(&r);
	}
	return NULL;
}

START_TEST(the_newest_is_served_at_once_after_each_publish)
{
	struct world w;
	struct reader rd = { .w = &w };
	struct tu_reply r;
	char old_etag[2 * TL_HASH_SIZE + 3] = "", etag[2 * TL_HASH_SIZE + 3];

	world_init(&w);
	ck_assert_int_eq(get(&r, &w, "/v1/domains/" TD "/bundle", NULL), 404);
	tu_reply_free(&r);
	publish_next(&w);
	ck_assert_int_eq(pthread_create(&rd.thread, NULL, read_newest, &rd), 0);
	for (size_t i = 0; i < VERSIONS; i++) {
		if (i > 0)
			publish_next(&w);
		__atomic_store_n(&rd.acknowledged, w.sequence[i], __ATOMIC_RELEASE);
		/* At once: the first read after the publish returned, and every one after it. */
		for (int k = 0; k < 3; k++) {
			ck_assert_int_eq(get(&r, &w, "/v1/domains/" TD "/bundle", NULL), 200);
			expect_version(&w, &r, i);
			ck_assert_str_eq(tu_reply_header(&r, "Cache-Control"), "no-cache");
			tu_reply_free(&r);
		}
		/* The tag of the version before is no longer current; this one's is. */
		snprintf(etag, sizeof(etag), "\"%s\"", w.sha256[i]);
		if (old_etag[0] != '\0') {
			ck_assert_int_eq(get(&r, &w, "/v1/domains/" TD "/bundle", old_etag), 200);
			expect_version(&w, &r, i);
			tu_reply_free(&r);
		}
		ck_assert_int_eq(get(&r, &w, "/v1/domains/" TD "/bundle", etag), 304);
		ck_assert_uint_eq(r.len, 0);
		ck_assert_str_eq(tu_reply_header(&r, "ETag"), etag);
		tu_reply_free(&r);
		memcpy(old_etag, etag, sizeof(etag));
	}
	__atomic_store_n(&rd.stop, true, __ATOMIC_RELEASE);
	pthread_join(rd.thread, NULL);
	ck_assert_uint_gt(rd.asked, 0);
	ck_assert_msg(rd.older == 0, "%lu of %lu answers were older than an acknowledged publish", rd.older, rd.asked);
	ck_assert_msg(rd.backwards == 0, "%lu of %lu answers went back to an older version", rd.backwards, rd.asked);
	world_free(&w);
}
END_TEST

START_TEST(versions_by_sequence_are_their_content_and_answer_conditionals)
{
	struct world w;
	struct tu_reply r, again;
	char path[128], etag[2 * TL_HASH_SIZE + 3], weak[2 * TL_HASH_SIZE + 8], list[4 * TL_HASH_SIZE + 16];

	world_init(&w);
	for (size_t i = 0; i < 3; i++)
		publish_next(&w);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/v1/domains/" TD "/bundles/%llu", (unsigned long long)w.sequence[i]);
		snprintf(etag, sizeof(etag), "\"%s\"", w.sha256[i]);
		snprintf(weak, sizeof(weak), "W/%s", etag);
		snprintf(list, sizeof(list), "\"%064d\", %s", 0, etag);
		/* A miss, then hits: the same bytes, the version's own. */
		ck_assert_int_eq(get(&r, &w, path, NULL), 200);
		expect_version(&w, &r, i);
		ck_assert_str_eq(tu_reply_header(&r, "Cache-Control"), "public, max-age=31536000, immutable");
		for (int k = 0; k < 3; k++) {
			ck_assert_int_eq(get(&again, &w, path, NULL), 200);
			ck_assert_uint_eq(again.len, r.len);
			ck_assert(memcmp(again.body, r.body, r.len) == 0);
			tu_reply_free(&again);
		}
		tu_reply_free(&r);
		/* 304 for its tag (strong, weak, in a list, "*"), the full answer for another. */
		ck_assert_int_eq(get(&r, &w, path, etag), 304);
		ck_assert_uint_eq(r.len, 0);
		ck_assert_str_eq(tu_reply_header(&r, "ETag"), etag);
		tu_reply_free(&r);
		ck_assert_int_eq(get(&r, &w, path, weak), 304);
		tu_reply_free(&r);
		ck_assert_int_eq(get(&r, &w, path, list), 304);
		tu_reply_free(&r);
		ck_assert_int_eq(get(&r, &w, path, "*"), 304);
		tu_reply_free(&r);
		ck_assert_int_eq(get(&r, &w, path, "\"not-this-version\""), 200);
		expect_version(&w, &r, i);
		tu_reply_free(&r);
	}
	/* The older versions stay what they were after newer ones (read again, now cached). */
	snprintf(path, sizeof(path), "/v1/domains/" TD "/bundles/%llu", (unsigned long long)w.sequence[0]);
	ck_assert_int_eq(get(&r, &w, path, NULL), 200);
	expect_version(&w, &r, 0);
	tu_reply_free(&r);
	/* Unknown versions and domains are 404, also when asked again. */
	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "/v1/domains/" TD "/bundles/%llu", (unsigned long long)w.sequence[2] + 1);
		ck_assert_int_eq(get(&r, &w, path, NULL), 404);
		tu_reply_free(&r);
		ck_assert_int_eq(get(&r, &w, "/v1/domains/unknown.versions.test/bundle", NULL), 404);
		tu_reply_free(&r);
	}
	world_free(&w);
}
END_TEST

Suite *suite_versions(void)
{
	Suite *s = suite_create("versions");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, the_newest_is_served_at_once_after_each_publish);
	tcase_add_test(tc, versions_by_sequence_are_their_content_and_answer_conditionals);
	suite_add_tcase(s, tc);
	return s;
}
