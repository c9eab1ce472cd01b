#include "bundled/client.h"

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/http.h"
#include "translog/text.h"

struct bd_client {
	bd_http *http;
	uint64_t received; /* bytes of replies (head and body) so far */
};

int bd_client_open(bd_client **out, const bd_client_options *opts)
{
	bd_http_options ho = *opts;
	bd_client *c;
	int err;

	ho.name = "bundled";
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((err = bd_http_open(&c->http, &ho)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	free(c);
	return err;
}

void bd_client_close(bd_client *c)
{
	if (c == NULL)
		return;
	bd_http_close(c->http);
	free(c);
}

const char *bd_client_url(const bd_client *c)
{
	return bd_http_url(c->http);
}

/* A failed status as one message: the daemon's {"error":{"code","message"}} body gives the
 * message; anything else is quoted as text. */
static int status_failure(const char *what, const bd_http_reply *r)
{
	char msg[300];
	json_t *j = json_loadb((const char *)r->body.data, r->body.len, JSON_REJECT_DUPLICATES, NULL);
	json_t *m = json_object_get(json_object_get(j, "error"), "message");

	if (json_is_string(m))
		tl_text_printable(msg, sizeof(msg), json_string_value(m), json_string_length(m));
	else
		bd_http_reply_text(msg, sizeof(msg), r);
	json_decref(j);
	return tl_error_set(bd_http_status_err(r->status), "bundled %s: %ld: %s", what, r->status, msg);
}

/* GET <path>, or POST <path> with a JSON body when `body` is not NULL: appends the body of a
 * 200 (or, for a POST, 201) reply to out, reading at most `max` bytes and no more than out
 * has room for. */
static int call(tl_buf *out, bd_client *c, const char *path, size_t max, const char *const *headers, const void *body,
	size_t body_len)
{
	char what[BD_HTTP_PATH_MAX + 8];
	size_t room = tl_buf_room(out);
	bd_http_request req;
	bd_http_reply r;
	int err;

	snprintf(what, sizeof(what), "%s %s", body ? "POST" : "GET", path);
	if (room == 0)
		return tl_error_set(TL_E_INPUT, "bundled %s: the buffer is full", what);
	r = bd_http_reply_make(room < max ? room : max);
	memset(&req, 0, sizeof(req));
	req.method = body ? "POST" : "GET";
	req.what = what;
	req.path = path;
	req.headers = body ? NULL : headers;
	req.body = body;
	req.body_len = body_len;
	req.body_type = "application/json";
	if ((err = bd_http_request_send(&r, c->http, &req)) != 0)
		goto out;
	c->received += r.header_bytes + r.body.len;
	if (r.status != 200 && !(body != NULL && r.status == 201)) {
		err = status_failure(what, &r);
		goto out;
	}
	err = tl_buf_append(out, r.body.data ? r.body.data : (const uint8_t *)"", r.body.len);
out:
	tl_buf_free(&r.body);
	return err;
}

uint64_t bd_client_received(const bd_client *c)
{
	return c->received;
}

static int get(tl_buf *out, bd_client *c, const char *path, size_t max, const char *const *headers)
{
	return call(out, c, path, max, headers, NULL, 0);
}

int bd_client_get(tl_buf *out, bd_client *c, const char *path, size_t max)
{
	return get(out, c, path, max, NULL);
}

int bd_client_get_headers(tl_buf *out, bd_client *c, const char *path, const char *const *headers, size_t max)
{
	return get(out, c, path, max, headers);
}

int bd_client_post_json(tl_buf *out, bd_client *c, const char *path, const void *body, size_t len)
{
	return call(out, c, path, BD_CLIENT_MAX_REPLY, NULL, len ? body : "", len);
}

int bd_client_checkpoint(tl_buf *out, bd_client *c)
{
	return get(out, c, "/checkpoint", BD_CLIENT_MAX_CHECKPOINT, NULL);
}

int bd_client_tile(tl_buf *out, bd_client *c, const tl_tile *t)
{
	char path[1 + TL_TILE_PATH_MAX];
	int err;

	path[0] = '/';
	if ((err = tl_tile_path_format(path + 1, t)) != 0)
		return err;
	return get(out, c, path, t->entries ? t->width * (2 + (size_t)TL_TILE_MAX_ENTRY) : t->width * (size_t)TL_HASH_SIZE,
		NULL);
}

int bd_client_entry(tl_buf *out, bd_client *c, uint64_t index)
{
	char path[64];

	snprintf(path, sizeof(path), "/v1/log/entries/%llu", (unsigned long long)index);
	return get(out, c, path, BD_CLIENT_MAX_ENTRY, NULL);
}

/* A member that must be the unsigned integer `want`. */
static int expect_u64(const json_t *doc, const char *name, uint64_t want)
{
	const json_t *v = json_object_get(doc, name);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return tl_error_set(TL_E_INPUT, "proof reply without an unsigned integer \"%s\"", name);
	if ((uint64_t)json_integer_value(v) != want)
		return tl_error_set(TL_E_INPUT, "proof reply for %s %lld, asked for %llu", name,
			(long long)json_integer_value(v), (unsigned long long)want);
	return 0;
}

/* {"<first>":a,"size":size,"hashes":["base64",...]}, exactly. */
static int read_proof(tl_hash *hashes, size_t *n, const char *first, uint64_t a, uint64_t size, const tl_buf *body)
{
	json_error_t e;
	json_t *doc = json_loadb((const char *)body->data, body->len, JSON_REJECT_DUPLICATES, &e), *list;
	int err;

	if (doc == NULL || !json_is_object(doc) || json_object_size(doc) != 3) {
		err = tl_error_set(TL_E_INPUT, "proof reply is not a JSON object of three members");
		goto out;
	}
	if ((err = expect_u64(doc, first, a)) != 0 || (err = expect_u64(doc, "size", size)) != 0)
		goto out;
	list = json_object_get(doc, "hashes");
	if (!json_is_array(list) || json_array_size(list) > TL_MAX_PROOF_HASHES) {
		err = tl_error_set(TL_E_INPUT, "proof reply without an array of at most %d \"hashes\"",
			TL_MAX_PROOF_HASHES);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(list); i++) {
		const json_t *h = json_array_get(list, i);
		size_t len = 0;

		if (!json_is_string(h) || tl_base64_decode(hashes[i].b, TL_HASH_SIZE, &len, json_string_value(h),
				json_string_length(h)) != 0 || len != TL_HASH_SIZE) {
			err = tl_error_set(TL_E_INPUT, "proof hash %zu is not base64 of %d bytes", i, TL_HASH_SIZE);
			goto out;
		}
	}
	*n = json_array_size(list);
out:
	json_decref(doc);
	return err;
}

static int get_proof(tl_hash *hashes, size_t *n, bd_client *c, const char *kind, const char *first, uint64_t a,
	uint64_t size)
{
	char path[128];
	tl_buf body = tl_buf_make(BD_CLIENT_MAX_JSON);
	int err;

	snprintf(path, sizeof(path), "/v1/log/proof/%s?%s=%llu&size=%llu", kind, first, (unsigned long long)a,
		(unsigned long long)size);
	if ((err = get(&body, c, path, BD_CLIENT_MAX_JSON, NULL)) != 0)
		goto out;
	if ((err = read_proof(hashes, n, first, a, size, &body)) != 0)
		err = tl_error_wrap(err, "bundled GET %s", path);
out:
	tl_buf_free(&body);
	return err;
}

int bd_client_inclusion_proof(tl_hash *hashes, size_t *n, bd_client *c, uint64_t index, uint64_t size)
{
	return get_proof(hashes, n, c, "inclusion", "index", index, size);
}

int bd_client_consistency_proof(tl_hash *hashes, size_t *n, bd_client *c, uint64_t old_size, uint64_t size)
{
	return get_proof(hashes, n, c, "consistency", "old", old_size, size);
}

int bd_client_block(tl_buf *out, bd_client *c, const bd_cid *cid)
{
	static const char *const accept[] = { "Accept: application/vnd.ipld.raw", NULL };
	char text[BD_CID_TEXT_MAX], path[BD_CID_TEXT_MAX + 32];
	size_t start = out->len;
	tl_hash h;
	int err;

	if ((err = bd_cid_format(text, sizeof(text), cid)) != 0)
		return err;
	snprintf(path, sizeof(path), "/ipfs/%s?format=raw", text);
	if ((err = get(out, c, path, BD_CLIENT_MAX_BLOCK, accept)) != 0)
		return err;
	tl_sha256(&h, out->data ? out->data + start : (const uint8_t *)"", out->len - start);
	if (!tl_hash_equal(&h, &cid->digest)) {
		err = tl_error_set(TL_E_CONFLICT, "bundled GET %s: %zu bytes that do not hash to the CID", path,
			out->len - start);
		tl_buf_truncate(out, start);
	}
	return err;
}

int bd_client_fetch(void *ctx, const char *path, tl_buf *out)
{
	char shown[80];
	bd_client *c = ctx;
	tl_tile t;

	assert(c != NULL && path != NULL && out != NULL);
	if (strcmp(path, "checkpoint") == 0)
		return bd_client_checkpoint(out, c);
	if (strncmp(path, "tile/", 5) == 0 && tl_tile_path_parse(&t, path, strlen(path)) == 0)
		return bd_client_tile(out, c, &t);
	return tl_error_set(TL_E_INPUT, "bundled: \"%s\" is not a tlog-tiles path",
		tl_text_printable(shown, sizeof(shown), path, strlen(path)));
}
