#include "testpublish.h"

#include <check.h>
#include <curl/curl.h>
#include <dirent.h>
#include <jansson.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bundled/blockstore.h"
#include "bundled/bundle.h"
#include "testbundle.h"
#include "testhttp.h"
#include "testrun.h"
#include "testutil.h"
#include "translog/db.h"
#include "translog/hash.h"

struct grow {
	char *data;
	size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct grow *g = ctx;
	size_t n = size * nmemb;
	char *bigger = realloc(g->data, g->len + n + 1);

	if (bigger == NULL)
		return 0;
	memcpy(bigger + g->len, ptr, n);
	g->data = bigger;
	g->len += n;
	g->data[g->len] = '\0';
	return n;
}

long tu_api(struct tu_reply *r, const struct tu_daemon *d, const char *method, const char *path,
	const char *const *headers, const void *body, size_t len, const char *from)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *list = NULL;
	struct grow b = { calloc(1, 1), 0 }, h = { calloc(1, 1), 0 };
	char url[4096], iface[64];

	ck_assert_ptr_nonnull(curl);
	memset(r, 0, sizeof(*r));
	r->status = -1;
	snprintf(url, sizeof(url), "%s%s", d->base_url, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	list = curl_slist_append(list, "Expect:");
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
		list = curl_slist_append(list, headers[i]);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
	if (body != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	if (from != NULL) {
		snprintf(iface, sizeof(iface), "host!%s", from);
		curl_easy_setopt(curl, CURLOPT_INTERFACE, iface);
	}
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &h);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (d->is_bundled && r->status > 0) {
		struct th_exchange x = { .method = method, .target = path, .status = r->status, .body = b.data,
			.len = b.len, .request = body, .request_len = len };

		curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &x.type);
		th_record(&x);
	}
	curl_slist_free_all(list);
	curl_easy_cleanup(curl);
	r->body = b.data;
	r->len = b.len;
	r->headers = h.data;
	return r->status;
}

long tu_api_json(struct tu_reply *r, const struct tu_daemon *d, const char *method, const char *path,
	const char *body, const char *from)
{
	static const char *const json[] = { "Content-Type: application/json", NULL };

	return tu_api(r, d, method, path, json, body, body ? strlen(body) : 0, from);
}

const char *tu_reply_header(const struct tu_reply *r, const char *name)
{
	static char value[512];
	size_t n = strlen(name);

	for (const char *p = r->headers; p != NULL && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1, *end = strpbrk(v, "\r\n");

			while (*v == ' ')
				v++;
			snprintf(value, sizeof(value), "%.*s", (int)(end ? end - v : (long)strlen(v)), v);
			return value;
		}
	}
	return NULL;
}

void tu_reply_free(struct tu_reply *r)
{
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof(*r));
}

char *tu_operator_token(const char *data_dir)
{
	size_t len;
	char *t = (char *)tu_read_file(tu_path_in(data_dir, "operator.token"), &len);

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(len, 65);
	t[64] = '\0';
	return t;
}

void tu_api_register(const struct tu_daemon *d, const char *data_dir, const char *td, const char *const *vkeys,
	size_t n, long want)
{
	char *token = tu_operator_token(data_dir), auth[128], *body;
	const char *headers[] = { "Content-Type: application/json", auth, NULL };
	json_t *doc = json_pack("{s:s,s:[]}", "domain", td, "publisher_keys");
	struct tu_reply r;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(json_object_get(doc, "publisher_keys"), json_string(vkeys[i]));
	body = json_dumps(doc, JSON_COMPACT);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	tu_api(&r, d, "POST", "/v1/domains", headers, body, strlen(body), NULL);
	ck_assert_msg(r.status == want, "register %s: %ld %s", td, r.status, r.body);
	tu_reply_free(&r);
	free(body);
	json_decref(doc);
	free(token);
}

void tu_api_bundle_entry(tl_buf *text, bd_entry *e, const uint8_t *bundle, size_t len, const char *td,
	uint64_t sequence, const char *origin, const tl_signer *key, tl_buf *canonical)
{
	tl_buf canon = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	bd_bundle *b;

	ck_assert_int_eq(bd_bundle_parse(&b, bundle, len, 0, NULL), 0);
	memset(e, 0, sizeof(*e));
	e->kind = BD_ENTRY_BUNDLE;
	snprintf(e->domain, sizeof(e->domain), "%s", td);
	e->time = (uint64_t)time(NULL);
	ck_assert_int_eq(bd_entry_set_version(e, &canon, NULL, b, sequence, 0, NULL), 0);
	ck_assert_int_eq(bd_entry_sign(e, origin, key), 0);
	tl_buf_reset(text);
	ck_assert_int_eq(bd_entry_write(text, e), 0);
	if (canonical != NULL) {
		tl_buf_reset(canonical);
		ck_assert_int_eq(tl_buf_append(canonical, canon.data, canon.len), 0);
	}
	bd_bundle_free(b);
	tl_buf_free(&canon);
}

char *tu_bundle_body(const tl_buf *entry, const uint8_t *bundle, size_t len)
{
	tl_buf b64 = tl_buf_make(BD_MAX_BUNDLE_SIZE * 2);
	json_t *doc;
	char *body;

	ck_assert_int_eq(tl_base64_encode(&b64, bundle, len), 0);
	doc = json_pack("{s:s%,s:s%}", "entry", (const char *)entry->data, entry->len, "bundle",
		(const char *)b64.data, b64.len);
	ck_assert_ptr_nonnull(doc);
	body = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	tl_buf_free(&b64);
	return body;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Versions made of the bundle vectors' CAs: each adds one CA and, from the third on, drops
 * the oldest, as CA bundles change over time. */
static void history_generated(struct tu_history *h, size_t max)
{
	static const char *const cas[] = { "ca-p256.pem", "ca-rsa.pem", "ca-p384.pem", "ca-ed25519.pem",
		"ca-p521.pem", "root-v1.pem", "utf8-ca.pem" };
	const size_t n_cas = sizeof(cas) / sizeof(cas[0]);

	for (size_t v = 0; v + 1 < n_cas && h->n < max; v++) {
		tl_buf pem = tl_buf_make(1u << 20);

		for (size_t i = v >= 2 ? v - 1 : 0; i <= v + 1; i++) {
			size_t len;
			uint8_t *data = tu_bundle_vector(cas[i], &len);

			ck_assert_int_eq(tl_buf_append(&pem, data, len), 0);
			free(data);
		}
		snprintf(h->name[h->n], sizeof(h->name[0]), "generated-%zu.pem", v + 1);
		h->data[h->n] = tl_buf_detach(&pem, &h->len[h->n]);
		h->n++;
	}
}

void tu_history_load(struct tu_history *h, size_t max)
{
	/* A checkout beside ../shared finds the history itself; another (a worktree) may name it. */
	const char *dir = getenv("BUNDLED_TEST_HISTORY_DIR") ? getenv("BUNDLED_TEST_HISTORY_DIR") :
							       tu_research_path("cacert-history");
	char *names[64];
	size_t n = 0;
	struct dirent *de;
	DIR *dp;

	memset(h, 0, sizeof(*h));
	if (max > 64)
		max = 64;
	if (dir == NULL || (dp = opendir(dir)) == NULL) {
		history_generated(h, max);
		return;
	}
	while ((de = readdir(dp)) != NULL && n < 64)
		if (strlen(de->d_name) > 4 && strcmp(de->d_name + strlen(de->d_name) - 4, ".pem") == 0)
			names[n++] = strdup(de->d_name);
	closedir(dp);
	qsort(names, n, sizeof(names[0]), by_name);
	for (size_t i = 0; i < n; i++) {
		if (h->n < max) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			snprintf(h->name[h->n], sizeof(h->name[0]), "%s", names[i]);
			ck_assert_ptr_nonnull(h->data[h->n] = tu_read_file(path, &h->len[h->n]));
			h->n++;
		}
		free(names[i]);
	}
}

void tu_history_free(struct tu_history *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->data[i]);
	memset(h, 0, sizeof(*h));
}

void tu_log_origin(char *out, size_t cap, const struct tu_daemon *d)
{
	char *body;
	json_t *doc;

	ck_assert_int_eq(tu_http_get(d, "/v1/log", &body, NULL), 200);
	doc = json_loads(body, 0, NULL);
	ck_assert_ptr_nonnull(json_string_value(json_object_get(doc, "origin")));
	snprintf(out, cap, "%s", json_string_value(json_object_get(doc, "origin")));
	json_decref(doc);
	free(body);
}

/* The roots in the pin queue, one per line: what a write adds. (Attempts and times change
 * on their own while the worker retries.) */
static char *pin_roots(const struct tu_daemon *d)
{
	char *body, *out;
	json_t *doc, *items;
	tl_buf roots = tl_buf_make(1u << 24);
	size_t len;

	ck_assert_int_eq(tu_http_get(d, "/v1/pins", &body, NULL), 200);
	doc = json_loads(body, 0, NULL);
	items = json_object_get(doc, "items");
	ck_assert(json_is_array(items));
	for (size_t i = 0; i < json_array_size(items); i++)
		ck_assert_int_eq(tl_buf_printf(&roots, "%s\n", json_string_value(json_object_get(json_array_get(items, i),
			"cid"))), 0);
	ck_assert_int_eq(tl_buf_append(&roots, "", 1), 0);
	out = (char *)tl_buf_detach(&roots, &len);
	json_decref(doc);
	free(body);
	return out;
}

void tu_state_get(struct tu_state *s, const struct tu_daemon *d, const char *td)
{
	char path[512], *body;
	json_t *doc;

	ck_assert_int_eq(tu_http_get(d, "/v1/log", &body, NULL), 200);
	doc = json_loads(body, 0, NULL);
	s->size = (uint64_t)json_integer_value(json_object_get(doc, "size"));
	json_decref(doc);
	free(body);
	snprintf(path, sizeof(path), "/v1/domains/%s", td);
	tu_http_get(d, path, &s->domain, NULL);
	s->pins = pin_roots(d);
}

void tu_state_assert_same(const struct tu_state *a, const struct tu_state *b, const char *what)
{
	ck_assert_msg(a->size == b->size, "%s: log size %llu -> %llu", what, (unsigned long long)a->size,
		(unsigned long long)b->size);
	ck_assert_msg(strcmp(a->domain, b->domain) == 0, "%s: registry changed: %s -> %s", what, a->domain, b->domain);
	ck_assert_msg(strcmp(a->pins, b->pins) == 0, "%s: pin queue changed", what);
}

void tu_state_free(struct tu_state *s)
{
	free(s->domain);
	free(s->pins);
	memset(s, 0, sizeof(*s));
}

size_t tu_block_count(const char *data_dir)
{
	tl_db *db = tu_daemon_db_open(data_dir);
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(tl_db_rocks(db), tl_db_read(db),
		tl_db_cf(db, bd_blockstore_column_family));
	size_t n = 0;

	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it))
		n++;
	rocksdb_iter_destroy(it);
	tl_db_close(db);
	return n;
}

void tu_filler_entry(char *out, size_t cap, const char *suite, size_t i)
{
	static const uint8_t seed[TL_ED25519_SEED_SIZE] = { 7 };
	tl_buf vkey = tl_buf_make(BD_MAX_VKEY + 1);
	tl_signer *s;
	int n;

	ck_assert_int_eq(tl_signer_from_seed(&s, "filler.test", TL_KEY_TYPE_ED25519, seed), 0);
	ck_assert_int_eq(tl_signer_vkey(&vkey, s), 0);
	n = snprintf(out, cap,
		"bundled-entry v1\nkind domain\ndomain %zu.%s.test\naction register\npublisher-key %.*s\ntime 1\n"
		"authorized-by operator\n",
		i, suite, (int)vkey.len, (const char *)vkey.data);
	ck_assert(n > 0 && (size_t)n < cap);
	tl_signer_free(s);
	tl_buf_free(&vkey);
}

void tu_expect_schema(const char *dir, const char *schema, const char *doc)
{
	char path[4200], schema_dir[4200];

	snprintf(path, sizeof(path), "%s/schema-doc.json", dir);
	snprintf(schema_dir, sizeof(schema_dir), "%s", tu_source_path("schema"));
	ck_assert_int_eq(tu_write_file(path, doc, strlen(doc)), 0);
	ck_assert_msg(tu_system("%s %s/%s %s", tu_source_path("tests/schema/validate.sh"), schema_dir, schema, path) == 0,
		"%s does not match schema/%s", doc, schema);
}
