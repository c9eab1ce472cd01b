/* The log as C2SP tlog-tiles (checkpoint, hash tiles, entry bundles) and as JSON proofs. */
#include <string.h>

#include "daemon.h"
#include "routes.h"
#include "translog/proof.h"

/* Tiles and entry bundles never change once served (a partial tile is a prefix of every
 * later version of it), so caches and CDNs may keep them for good. */
#define IMMUTABLE "public, max-age=31536000, immutable"

int route_checkpoint(struct http_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	int err;

	res->status = 200;
	res->content_type = "text/plain; charset=utf-8";
	if ((err = tl_log_head(NULL, NULL, &res->body, d->log)) != 0)
		return err;
	return http_add_header(res, "Cache-Control", "no-cache");
}

int route_tile(struct http_response *res, const struct http_request *req, void *app)
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
	return http_add_header(res, "Cache-Control", IMMUTABLE);
}

int route_log_entry(struct http_response *res, const struct http_request *req, void *app)
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
	return http_add_header(res, "Cache-Control", IMMUTABLE);
}

/* {"<first>":F,"<second>":S,"hashes":["base64",...]} */
static int proof_json(struct http_response *res, const char *first, uint64_t a, const char *second, uint64_t b,
	const tl_hash *hashes, size_t n)
{
	tl_buf *out = &res->body;
	int err;

	res->status = 200;
	res->content_type = "application/json";
	tl_buf_reset(out);
	err = tl_buf_printf(out, "{\"%s\":%llu,\"%s\":%llu,\"hashes\":[", first, (unsigned long long)a, second,
		(unsigned long long)b);
	for (size_t i = 0; i < n && !err; i++) {
		err = tl_buf_append_str(out, i ? ",\"" : "\"");
		err = err ? err : tl_base64_encode(out, hashes[i].b, TL_HASH_SIZE);
		err = err ? err : tl_buf_append_str(out, "\"");
	}
	return err ? err : tl_buf_append_str(out, "]}\n");
}

int route_inclusion_proof(struct http_response *res, const struct http_request *req, void *app)
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

int route_consistency_proof(struct http_response *res, const struct http_request *req, void *app)
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
