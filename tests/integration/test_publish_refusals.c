/*
 * Publishing through raw HTTP, and everything the daemon must refuse: each refusal leaves
 * the log's size, the domain's registry state and the pin queue exactly as they were (and
 * the block store: its block count is the same after all the refusals), is answered with a
 * JSON error naming the problem, and is logged with the client's address.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundled/bundle.h"
#include "bundled/entry.h"
#include "testbundle.h"
#include "testdaemon.h"
#include "testentry.h"
#include "testpublish.h"
#include "testrun.h"
#include "testutil.h"
#include "translog/key.h"

#define TD "good.test"
#define OTHER "other.test"
/* A pin queue that exists but never reaches a node: its items stay pending. */
static const char *const daemon_args[] = { "--ipfs-api", "http://127.0.0.1:9", NULL };

struct fixture {
	char *dir;
	char data[4200];
	struct tu_daemon d;
	char origin[256];
	tl_signer *a, *b, *other, *stranger;
	char vkey_a[BD_MAX_VKEY + 1], vkey_b[BD_MAX_VKEY + 1], vkey_other[BD_MAX_VKEY + 1];
	uint8_t *v1, *v2, *leaf;
	size_t v1_len, v2_len, leaf_len;
};

static uint8_t *concat(size_t *len, const char *x, const char *y)
{
	size_t n1, n2;
	uint8_t *a = tu_bundle_vector(x, &n1), *b = tu_bundle_vector(y, &n2), *out = malloc(n1 + n2 + 1);

	memcpy(out, a, n1);
	memcpy(out + n1, b, n2);
	out[n1 + n2] = 0;
	*len = n1 + n2;
	free(a);
	free(b);
	return out;
}

/* POSTs a version of td signed by `k` (the entry made from `signed_bundle`, the body carrying
 * `sent_bundle`); returns the status and, if asked, the reply. */
static long publish(struct fixture *f, const char *td, uint64_t seq, const uint8_t *signed_bundle, size_t signed_len,
	const uint8_t *sent_bundle, size_t sent_len, const tl_signer *k, struct tu_reply *out)
{
	tl_buf text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1);
	bd_entry *e = calloc(1, sizeof(*e));
	char path[300], *body;
	struct tu_reply r;
	long status;

	tu_api_bundle_entry(&text, e, signed_bundle, signed_len, td, seq, f->origin, k, NULL);
	body = tu_bundle_body(&text, sent_bundle, sent_len);
	snprintf(path, sizeof(path), "/v1/domains/%s/bundles", td);
	status = tu_api_json(&r, &f->d, "POST", path, body, NULL);
	if (out != NULL)
		*out = r;
	else
		tu_reply_free(&r);
	free(body);
	free(e);
	tl_buf_free(&text);
	return status;
}

static void setup(struct fixture *f)
{
	const char *both[2];

	memset(f, 0, sizeof(*f));
	f->dir = tu_mkdtemp();
	snprintf(f->data, sizeof(f->data), "%s/data", f->dir);
	ck_assert_int_eq(tu_daemon_start(&f->d, f->data, daemon_args), 0);
	tu_log_origin(f->origin, sizeof(f->origin), &f->d);
	f->a = tu_signer(1, "a.good.test");
	f->b = tu_signer(2, "b.good.test");
	f->other = tu_signer(3, "publisher.other.test");
	f->stranger = tu_signer(4, "stranger.test");
	tu_vkey(f->vkey_a, f->a);
	tu_vkey(f->vkey_b, f->b);
	tu_vkey(f->vkey_other, f->other);
	both[0] = f->vkey_a;
	both[1] = f->vkey_b;
	tu_api_register(&f->d, f->data, TD, both, 2, 201);
	both[0] = f->vkey_other;
	tu_api_register(&f->d, f->data, OTHER, both, 1, 201);
	f->v1 = concat(&f->v1_len, "ca-p256.pem", "ca-rsa.pem");
	f->v2 = concat(&f->v2_len, "ca-p256.pem", "ca-p384.pem");
	f->leaf = tu_bundle_vector("leaf.pem", &f->leaf_len);
}

static void teardown(struct fixture *f)
{
	tu_daemon_stop(&f->d);
	tl_signer_free(f->a);
	tl_signer_free(f->b);
	tl_signer_free(f->other);
	tl_signer_free(f->stranger);
	free(f->v1);
	free(f->v2);
	free(f->leaf);
	tu_rm_rf(f->dir);
	free(f->dir);
}

/* The error answer: status, and a JSON error whose message contains `reason`. */
static void assert_refused(const struct tu_reply *r, long status, const char *reason)
{
	json_t *doc = json_loads(r->body, 0, NULL);
	const char *msg = json_string_value(json_object_get(json_object_get(doc, "error"), "message"));

	ck_assert_msg(r->status == status, "status %ld, want %ld: %s", r->status, status, r->body);
	ck_assert_msg(msg != NULL && strstr(msg, reason) != NULL, "message lacks \"%s\": %s", reason, r->body);
	if (getenv("SHOW_REFUSALS"))
		fprintf(stderr, "%ld %s\n", r->status, msg);
	json_decref(doc);
}

/* The JSON body of POST /v1/domains/<td>/revocations. Free with free(). */
static char *revocation_body(const tl_buf *rev_text, const tl_buf *text)
{
	json_t *doc = json_pack("{s:s%,s:s%}", "revocation", (const char *)rev_text->data, rev_text->len, "entry",
		(const char *)text->data, text->len);
	char *body = json_dumps(doc, JSON_COMPACT);

	ck_assert_ptr_nonnull(body);
	json_decref(doc);
	return body;
}

START_TEST(raw_http_publish_is_idempotent_and_proven)
{
	struct fixture f;
	struct tu_reply r1, r2;
	json_t *a;

	setup(&f);
	ck_assert_int_eq(publish(&f, TD, 1, f.v1, f.v1_len, f.v1, f.v1_len, f.a, &r1), 201);
	a = json_loads(r1.body, 0, NULL);
	ck_assert(json_is_false(json_object_get(a, "existing")));
	ck_assert_int_eq(json_integer_value(json_object_get(a, "sequence")), 1);
	ck_assert(json_is_array(json_object_get(json_object_get(a, "inclusion_proof"), "hashes")));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(a, "checkpoint")), f.origin));
	/* The registry moved on, and the version reads back. */
	ck_assert_int_eq(tu_api_json(&r2, &f.d, "GET", "/v1/domains", NULL, NULL), 200);
	tu_reply_free(&r2);
	ck_assert_int_eq(tu_api_json(&r2, &f.d, "GET", "/v1/log", NULL, NULL), 200);
	tu_reply_free(&r2);
	ck_assert_int_eq(tu_api_json(&r2, &f.d, "GET", "/v1/domains/" TD, NULL, NULL), 200);
	ck_assert_ptr_nonnull(strstr(r2.body, "\"sequence\":1,"));
	ck_assert_ptr_nonnull(strstr(r2.body, "\"next_sequence\":2"));
	tu_reply_free(&r2);
	ck_assert_int_eq(tu_api_json(&r2, &f.d, "GET", "/v1/domains/" TD "/bundles/1/entry", NULL, NULL), 200);
	ck_assert_ptr_nonnull(strstr(r2.body, "kind bundle\ndomain " TD "\nsequence 1\n"));
	tu_reply_free(&r2);
	teardown(&f);
	json_decref(a);
	tu_reply_free(&r1);
}
END_TEST

/* A revocation over plain HTTP, as any client would send it: the revocation entry and the
 * bundle entry of the version without the authority, both signed; then the new version's
 * tlog-proof, served by the daemon, verifies offline with the log's key. */
START_TEST(raw_http_revocation_is_logged_with_its_version)
{
	struct fixture f;
	struct tu_reply r;
	struct tu_output o = { 0 };
	tl_buf text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1), rev_text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1);
	bd_entry *e = calloc(1, sizeof(*e)), *rev = calloc(1, sizeof(*rev));
	uint8_t *p256, *rsa;
	size_t p256_len, rsa_len;
	bd_bundle *b;
	char *body;

	setup(&f);
	/* v1 holds the P-256 and the RSA CA; revoking the RSA one leaves the P-256 CA alone */
	ck_assert_int_eq(publish(&f, TD, 1, f.v1, f.v1_len, f.v1, f.v1_len, f.a, NULL), 201);
	p256 = tu_bundle_vector("ca-p256.pem", &p256_len);
	rsa = tu_bundle_vector("ca-rsa.pem", &rsa_len);
	tu_api_bundle_entry(&text, e, p256, p256_len, TD, 2, f.origin, f.a, NULL);
	ck_assert_int_eq(bd_bundle_parse(&b, rsa, rsa_len, 0, NULL), 0);
	rev->kind = BD_ENTRY_REVOCATION;
	snprintf(rev->domain, sizeof(rev->domain), TD);
	rev->authority_sha256 = *bd_authority_fingerprint(bd_bundle_at(b, 0));
	snprintf(rev->reason, sizeof(rev->reason), "key compromise");
	rev->sequence = 2;
	rev->sha256 = e->sha256;
	snprintf(rev->cid, sizeof(rev->cid), "%s", e->cid);
	rev->time = e->time;
	ck_assert_int_eq(bd_entry_sign(rev, f.origin, f.a), 0);
	ck_assert_int_eq(bd_entry_write(&rev_text, rev), 0);
	body = revocation_body(&rev_text, &text);
	ck_assert_msg(tu_api_json(&r, &f.d, "POST", "/v1/domains/" TD "/revocations", body, NULL) == 201, "%s", r.body);
	ck_assert_ptr_nonnull(strstr(r.body, "\"entries\":2,"));
	ck_assert_ptr_nonnull(strstr(r.body, "\"sequence\":2,"));
	tu_reply_free(&r);
	/* the version's entry and its proof against the newest checkpoint, checked by bundlectl */
	ck_assert_int_eq(tu_api(&r, &f.d, "GET", "/v1/domains/" TD "/bundles/2/entry", NULL, NULL, 0, NULL), 200);
	ck_assert_int_eq(tu_write_file(tu_path_in(f.dir, "v2.entry"), r.body, r.len), 0);
	ck_assert_str_eq(r.body, (const char *)text.data);
	tu_reply_free(&r);
	ck_assert_int_eq(tu_api(&r, &f.d, "GET", "/v1/domains/" TD "/bundles/2/proof", NULL, NULL, 0, NULL), 200);
	ck_assert_str_eq(tu_reply_header(&r, "Content-Type"), "text/plain; charset=utf-8");
	ck_assert_int_eq(tu_write_file(tu_path_in(f.dir, "v2.tlog-proof"), r.body, r.len), 0);
	tu_reply_free(&r);
	ck_assert_msg(tu_run(&o, f.dir, "bundlectl", "verify-proof --vkey '%s' --entry '%s/v2.entry' '%s/v2.tlog-proof'",
			      f.d.vkey, f.dir, f.dir) == 0,
		"%s", o.err);
	tu_output_free(&o);
	free(body);
	bd_bundle_free(b);
	free(p256);
	free(rsa);
	free(e);
	free(rev);
	tl_buf_free(&text);
	tl_buf_free(&rev_text);
	teardown(&f);
}
END_TEST

START_TEST(every_refusal_changes_nothing)
{
	struct fixture f;
	struct tu_state before, after;
	struct tu_reply r;
	tl_buf text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1), rev_text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1);
	bd_entry *e = calloc(1, sizeof(*e)), *rev = calloc(1, sizeof(*rev));
	size_t blocks_before;
	char *body, *big, path[BD_MAX_VKEY + 128];
	json_t *doc;

	setup(&f);
	ck_assert_int_eq(publish(&f, TD, 1, f.v1, f.v1_len, f.v1, f.v1_len, f.a, NULL), 201);
	ck_assert_int_eq(publish(&f, TD, 5, f.v2, f.v2_len, f.v2, f.v2_len, f.a, NULL), 201);
	/* The retry of a dropped connection: the very same request, answered with the entry. */
	tu_api_bundle_entry(&text, e, f.v2, f.v2_len, TD, 6, f.origin, f.a, NULL);
	body = tu_bundle_body(&text, f.v2, f.v2_len);
	ck_assert_int_eq(tu_api_json(&r, &f.d, "POST", "/v1/domains/" TD "/bundles", body, NULL), 201);
	tu_reply_free(&r);
	ck_assert_int_eq(tu_api_json(&r, &f.d, "POST", "/v1/domains/" TD "/bundles", body, NULL), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"existing\":true"));
	tu_reply_free(&r);
	free(body);
	/* Remove key b (signed by a): b can no longer publish. */
	memset(e, 0, sizeof(*e));
	e->kind = BD_ENTRY_DOMAIN;
	e->action = BD_DOMAIN_REMOVE_KEY;
	snprintf(e->domain, sizeof(e->domain), TD);
	e->n_keys = 1;
	snprintf(e->keys[0], sizeof(e->keys[0]), "%s", f.vkey_b);
	e->time = (uint64_t)time(NULL) + 1;
	ck_assert_int_eq(bd_entry_sign(e, f.origin, f.a), 0);
	tl_buf_reset(&text);
	ck_assert_int_eq(bd_entry_write(&text, e), 0);
	doc = json_pack("{s:s%}", "entry", (const char *)text.data, text.len);
	body = json_dumps(doc, JSON_COMPACT);
	ck_assert_int_eq(tu_api_json(&r, &f.d, "POST", "/v1/domains/" TD "/keys", body, NULL), 201);
	tu_reply_free(&r);
	free(body);
	json_decref(doc);

	ck_assert_int_eq(tu_daemon_stop(&f.d), 0);
	blocks_before = tu_block_count(f.data);
	ck_assert_uint_gt(blocks_before, 0);
	ck_assert_int_eq(tu_daemon_start(&f.d, f.data, daemon_args), 0);
	tu_state_get(&before, &f.d, TD);
	ck_assert_msg(before.pins[0] != '\0', "the versions were queued for pinning");

#define CASE(what, call, status, reason) \
	do { \
		call; \
		assert_refused(&r, status, reason); \
		tu_reply_free(&r); \
		tu_state_get(&after, &f.d, TD); \
		tu_state_assert_same(&before, &after, what); \
		tu_state_free(&after); \
	} while (0)

	CASE("malformed JSON", tu_api_json(&r, &f.d, "POST", "/v1/domains/" TD "/bundles", "{\"entry\":", NULL), 400,
		"not JSON");
	CASE("unknown member", tu_api_json(&r, &f.d, "POST", "/v1/domains/" TD "/bundles",
		"{\"entry\":\"x\",\"bundle\":\"AAAA\",\"admin\":true}", NULL), 400, "unknown member");
	{
		static const char *const plain[] = { "Content-Type: text/plain", NULL };

		CASE("wrong content type", tu_api(&r, &f.d, "POST", "/v1/domains/" TD "/bundles", plain, "{}", 2, NULL),
			415, "application/json");
	}
	big = malloc(2u << 20);
	memset(big, ' ', 2u << 20);
	CASE("oversized body", tu_api(&r, &f.d, "POST", "/v1/domains/" TD "/bundles", NULL, big, 2u << 20, NULL), 413,
		"larger than");
	free(big);
	CASE("invalid bundle", publish(&f, TD, 7, f.v1, f.v1_len, f.leaf, f.leaf_len, f.a, &r), 400, "not a CA");
	CASE("bundle other than signed", publish(&f, TD, 7, f.v1, f.v1_len, f.v2, f.v2_len, f.a, &r), 400,
		"canonical bytes");
	CASE("unknown key", publish(&f, TD, 7, f.v1, f.v1_len, f.v1, f.v1_len, f.stranger, &r), 401, "not a current");
	CASE("removed key", publish(&f, TD, 7, f.v1, f.v1_len, f.v1, f.v1_len, f.b, &r), 401, "not a current");
	CASE("other domain's key", publish(&f, TD, 7, f.v1, f.v1_len, f.v1, f.v1_len, f.other, &r), 401,
		"not a current");
	CASE("sequence rollback", publish(&f, TD, 2, f.v1, f.v1_len, f.v1, f.v1_len, f.a, &r), 409, "not above");
	CASE("sequence reuse", publish(&f, TD, 6, f.v1, f.v1_len, f.v1, f.v1_len, f.a, &r), 409, "already used");

	/* Signature over other bytes: the signed entry, one line changed afterwards. */
	tu_api_bundle_entry(&text, e, f.v1, f.v1_len, TD, 8, f.origin, f.a, NULL);
	{
		char *t = strndup((const char *)text.data, text.len), *s = strstr(t, "sequence 8\n");
		tl_buf changed = tl_buf_make(BD_ENTRY_MAX_SIZE + 1);

		ck_assert_ptr_nonnull(s);
		s[9] = '9';
		ck_assert_int_eq(tl_buf_append_str(&changed, t), 0);
		body = tu_bundle_body(&changed, f.v1, f.v1_len);
		CASE("signature over other bytes", tu_api_json(&r, &f.d, "POST", "/v1/domains/" TD "/bundles", body, NULL),
			401, "does not verify");
		free(body);
		free(t);
		tl_buf_free(&changed);
	}
	/* A bundle entry's signature replayed on a revocation with the same facts. */
	memset(rev, 0, sizeof(*rev));
	rev->kind = BD_ENTRY_REVOCATION;
	snprintf(rev->domain, sizeof(rev->domain), TD);
	rev->authority_is_kid = true;
	snprintf(rev->authority_kid, sizeof(rev->authority_kid), "k1");
	snprintf(rev->reason, sizeof(rev->reason), "replayed");
	rev->sequence = e->sequence;
	rev->sha256 = e->sha256;
	snprintf(rev->cid, sizeof(rev->cid), "%s", e->cid);
	rev->time = e->time;
	rev->key = e->key;
	rev->has_signature = true;
	memcpy(rev->signature, e->signature, sizeof(rev->signature));
	ck_assert_int_eq(bd_entry_write(&rev_text, rev), 0);
	body = revocation_body(&rev_text, &text);
	tu_expect_schema(f.dir, "revocation-request.schema.json", body);
	CASE("bundle signature as a revocation", tu_api_json(&r, &f.d, "POST", "/v1/domains/" TD "/revocations", body,
		NULL), 401, "does not verify");
	free(body);

	/* Odd trust domain names in the path. */
	{
		static const char *const paths[] = { "/v1/domains/..%2F..%2Fetc/bundles", "/v1/domains/%2E%2E/bundles",
			"/v1/domains/Good.Test/bundles", "/v1/domains/good%00.test/bundles",
			"/v1/domains/good%20test/bundles", "/v1/domains/spiffe:%2F%2Fgood.test/bundles",
			"/v1/domains//bundles", "/v1/domains/good.test:443/bundles" };

		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			tu_api_json(&r, &f.d, "POST", paths[i], "{}", NULL);
			ck_assert_msg(r.status == 400 || r.status == 404, "%s: %ld", paths[i], r.status);
			tu_reply_free(&r);
			tu_api_json(&r, &f.d, "GET", paths[i], NULL, NULL);
			ck_assert_msg(r.status == 400 || r.status == 404, "GET %s: %ld", paths[i], r.status);
			tu_reply_free(&r);
			tu_state_get(&after, &f.d, TD);
			tu_state_assert_same(&before, &after, paths[i]);
			tu_state_free(&after);
		}
	}

	/* The operator's token: missing, wrong. */
	snprintf(path, sizeof(path), "{\"domain\":\"new.test\",\"publisher_keys\":[\"%s\"]}", f.vkey_a);
	tu_expect_schema(f.dir, "register-request.schema.json", path);
	CASE("missing operator token", tu_api_json(&r, &f.d, "POST", "/v1/domains", path, NULL), 401, "operator token");
	{
		static const char *const wrong[] = { "Content-Type: application/json",
			"Authorization: Bearer 0000000000000000000000000000000000000000000000000000000000000000", NULL };

		CASE("wrong operator token", tu_api(&r, &f.d, "POST", "/v1/domains", wrong, path, strlen(path), NULL), 401,
			"wrong operator token");
	}
	ck_assert_int_eq(tu_http_get(&f.d, "/v1/domains/new.test", NULL, NULL), 404);
	tu_state_free(&before);
#undef CASE

	ck_assert_int_eq(tu_daemon_stop(&f.d), 0);
	ck_assert_uint_eq(tu_block_count(f.data), blocks_before);
	{
		size_t len;
		char *log = (char *)tu_read_file(f.d.log_path, &len);

		ck_assert_ptr_nonnull(strstr(log, "msg=\"write refused\" client=127.0.0.1"));
		ck_assert_ptr_nonnull(strstr(log, "wrong operator token"));
		free(log);
	}
	ck_assert_int_eq(tu_daemon_start(&f.d, f.data, daemon_args), 0);
	free(e);
	free(rev);
	tl_buf_free(&text);
	tl_buf_free(&rev_text);
	teardown(&f);
}
END_TEST

START_TEST(a_flood_of_writes_is_limited_per_client)
{
	/* One write per 100 s after a burst of 5: no token comes back while the test runs, however
	 * slow the machine, so exactly the first 5 pass. */
	const char *args[] = { "--write-rate", "0.01", "--write-burst", "5", NULL };
	char *dir = tu_mkdtemp(), data[4200];
	struct tu_daemon d;
	struct tu_reply r;
	int limited = 0, first_limited = -1;

	snprintf(data, sizeof(data), "%s/data", dir);
	ck_assert_int_eq(tu_daemon_start(&d, data, args), 0);
	for (int i = 0; i < 20; i++) {
		tu_api_json(&r, &d, "POST", "/v1/domains/flood.test/bundles", "{}", "127.0.0.1");
		if (r.status == 429) {
			limited++;
			if (first_limited < 0)
				first_limited = i;
			ck_assert_ptr_nonnull(tu_reply_header(&r, "Retry-After"));
			ck_assert_int_ge(atoi(tu_reply_header(&r, "Retry-After")), 1);
			ck_assert_int_le(atoi(tu_reply_header(&r, "Retry-After")), 100);
			ck_assert_ptr_nonnull(strstr(r.body, "\"rate_limited\""));
		} else {
			ck_assert_int_eq(r.status, 400);
		}
		tu_reply_free(&r);
	}
	ck_assert_int_eq(first_limited, 5);
	ck_assert_int_eq(limited, 15);
	/* Another client is not held back, and reads are never limited. */
	ck_assert_int_eq(tu_api_json(&r, &d, "POST", "/v1/domains/flood.test/bundles", "{}", "127.0.0.2"), 400);
	tu_reply_free(&r);
	ck_assert_int_eq(tu_api_json(&r, &d, "GET", "/v1/log", NULL, "127.0.0.1"), 200);
	tu_reply_free(&r);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	{
		size_t len;
		char *log = (char *)tu_read_file(d.log_path, &len);

		ck_assert_ptr_nonnull(strstr(log, "client=127.0.0.1 path=\"/v1/domains/flood.test/bundles\" "
						  "reason=\"too many writes from 127.0.0.1"));
		free(log);
	}
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

Suite *suite_publish_http(void)
{
	Suite *s = suite_create("publish_http");
	TCase *tc = tcase_create("refusals");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, raw_http_publish_is_idempotent_and_proven);
	tcase_add_test(tc, raw_http_revocation_is_logged_with_its_version);
	tcase_add_test(tc, every_refusal_changes_nothing);
	tcase_add_test(tc, a_flood_of_writes_is_limited_per_client);
	suite_add_tcase(s, tc);
	return s;
}
