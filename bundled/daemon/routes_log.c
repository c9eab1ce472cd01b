/* The log as C2SP tlog-tiles (checkpoint, hash tiles, entry bundles) and as JSON proofs. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "daemon.h"
#include "routes.h"
#include "translog/proof.h"

/* Tiles and entry bundles never change once served (a partial tile is a prefix of every
 * later version of it), so caches and CDNs may keep them for good. */
#define IMMUTABLE "public, max-age=31536000, immutable"

int route_checkpoint(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	int err;

	res->status = 200;
	res->content_type = "text/plain; charset=utf-8";
	if ((err = tl_log_head(NULL, NULL, &res->body, d->log)) != 0)
		return err;
	return bd_httpd_add_header(res, "Cache-Control", "no-cache");
}

int route_tile(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	const char *path = req->path + 1; /* the tile path has no leading slash */
	tl_tile t;
	int err;

	if ((err = tl_tile_path_parse(&t, path, strlen(path))) != 0)
		return err;
	res->status = 200;
	res->content_type = "application/octet-stream";
	if ((err = tl_log_tile(&res->body, d->log, &t)) != 0)
		return err;
	return bd_httpd_add_header(res, "Cache-Control", IMMUTABLE);
}

int route_log_entry(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	const char *text = req->path + strlen("/v1/log/entries/");
	uint64_t index;
	int err;

	if (tl_parse_u64(&index, text, strlen(text)) != 0)
		return tl_error_set(TL_E_INPUT, "entry index \"%s\" is not an unsigned decimal", text);
	res->status = 200;
	res->content_type = "application/octet-stream";
	if ((err = tl_log_entry(&res->body, d->log, index)) != 0)
		return err;
	return bd_httpd_add_header(res, "Cache-Control", IMMUTABLE);
}

/* {"<first>":F,"<second>":S,"hashes":["base64",...]} (schema/inclusion-proof.schema.json,
 * schema/consistency-proof.schema.json) */
static int proof_json(bd_httpd_response *res, const char *first, uint64_t a, const char *second, uint64_t b,
	const tl_hash *hashes, size_t n)
{
	tl_buf b64 = tl_buf_make(64);
	json_t *list = json_array();
	int err = 0;

	/* Both numbers are at most the log's size (the proof was just made), so this is no
	 * limit in practice; JSON integers are signed 64-bit in jansson. */
	if (a > INT64_MAX || b > INT64_MAX) {
		err = tl_error_set(TL_E_INTERNAL, "proof bounds beyond 2^63");
		goto out;
	}
	if (list == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory writing a proof");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		tl_buf_reset(&b64);
		if ((err = tl_base64_encode(&b64, hashes[i].b, TL_HASH_SIZE)) != 0)
			goto out;
		if (json_array_append_new(list, json_stringn((const char *)b64.data, b64.len)) != 0) {
			err = tl_error_set(TL_E_NOMEM, "out of memory writing a proof");
			goto out;
		}
	}
	err = http_reply_json(res, 200, json_pack("{s:I,s:I,s:O}", first, (json_int_t)a, second, (json_int_t)b,
		"hashes", list));
out:
	json_decref(list);
	tl_buf_free(&b64);
	return err;
}

int route_inclusion_proof(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	tl_hash hashes[TL_MAX_PROOF_HASHES];
	uint64_t index, size;
	size_t n;
	int err;

	if ((err = http_query_u64(&index, req, "index")) != 0 || (err = http_query_u64(&size, req, "size")) != 0)
		return err;
	if ((err = tl_log_prove_inclusion(hashes, &n, d->log, index, size)) != 0)
		return err;
	return proof_json(res, "index", index, "size", size, hashes, n);
}

int route_consistency_proof(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	tl_hash hashes[TL_MAX_PROOF_HASHES];
	uint64_t old, size;
	size_t n;
	int err;

	if ((err = http_query_u64(&old, req, "old")) != 0 || (err = http_query_u64(&size, req, "size")) != 0)
		return err;
	if ((err = tl_log_prove_consistency(hashes, &n, d->log, old, size)) != 0)
		return err;
	return proof_json(res, "old", old, "size", size, hashes, n);
}
