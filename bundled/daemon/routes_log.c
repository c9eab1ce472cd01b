/* The log as C2SP tlog-tiles (checkpoint, hash tiles, entry bundles) and as JSON proofs. */
#include <jansson.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "routes.h"
#include "translog/proof.h"

/* Strong ETags name the log (its key id) and the immutable object: a tile or entry bundle at
 * a given width, or an entry, never changes once served; its gzip form is another
 * representation with its own tag. */
static int log_etag(char etag[HTTP_MAX_ETAG], const struct daemon *d, const char *what, const char *suffix)
{
	int n = snprintf(etag, HTTP_MAX_ETAG, "\"%08x.%s%s\"", (unsigned)tl_verifier_key_id(d->log_vkey), what, suffix);

	if (n < 0 || n >= HTTP_MAX_ETAG)
		return tl_error_set(TL_E_INTERNAL, "entity tag for %s too long", what);
	return 0;
}

/* Whether the log of `size` entries has tile t (tl_log_tile's rule: at least `width` hashes
 * of the tile's level), decided before a conditional request is answered 304. */
static bool tile_exists(const tl_tile *t, uint64_t size)
{
	uint64_t hashes = t->level * 8u >= 64 ? 0 : size >> (t->level * 8u);

	return t->index <= (UINT64_MAX - t->width) / 256 && hashes >= t->index * 256 + t->width;
}

int route_checkpoint(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	int err;

	res->status = 200;
	res->content_type = "text/plain; charset=utf-8";
	if ((err = bd_cosigning_checkpoint(NULL, &res->body, d->cosigning, d->log, 0)) != 0)
		return err;
	return bd_httpd_add_header(res, "Cache-Control", "no-cache");
}

#define TILE_TYPE "application/octet-stream"

/* A full bundle's key in d->bundles: its index, and ".gz" for its gzip form. */
static const char *bundle_key(char key[32], uint64_t bundle, bool gzip)
{
	snprintf(key, 32, "%llu%s", (unsigned long long)bundle, gzip ? ".gz" : "");
	return key;
}

/* The gzip form of a bundle that the cache did not take, compressed for this answer alone. */
static void release_malloced(void *p)
{
	free(p);
}

/*
 * A full entry bundle, identity or gzip'ed, from the bundles' memory files: a hit costs a
 * lookup, no RocksDB read and no copy by the daemon (sendfile: no copy into the socket
 * either, nginx's cost for a static file; benchmarks/README.md, "Third pass"). A miss reads
 * the bundle pinned, compresses it for the gzip form, and keeps it.
 */
static int reply_full_bundle(bd_httpd_response *res, struct daemon *d, const tl_tile *t, bool gzip, bool tls)
{
	char key[32];
	const uint8_t *raw;
	uint8_t *gz = NULL;
	size_t len, gz_len;
	void *pin;
	int err;

	if (http_file_reply(res, d->bundles, bundle_key(key, t->index, gzip), TILE_TYPE, tls))
		goto out;
	if ((err = tl_log_tile_pinned(&raw, &len, &pin, d->log, t)) != 0)
		return err;
	if (!gzip) {
		if (http_file_reply_put(res, d->bundles, key, TILE_TYPE, raw, len, tls) == 0) {
			tl_db_release(pin);
			return 0;
		}
		tl_error_clear();
		return http_reply_pinned(res, TILE_TYPE, raw, len, pin);
	}
	err = http_gzip(&gz, &gz_len, raw, len);
	tl_db_release(pin);
	if (err != 0)
		return err;
	if (http_file_reply_put(res, d->bundles, key, TILE_TYPE, gz, gz_len, tls) == 0) {
		free(gz);
	} else {
		tl_error_clear();
		bd_httpd_reply_borrowed(res, 200, TILE_TYPE, gz, gz_len, release_malloced, gz);
	}
out:
	return gzip ? bd_httpd_add_header(res, "Content-Encoding", "gzip") : 0;
}

int route_tile(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	const char *path = req->path + 1; /* the tile path has no leading slash */
	char etag[HTTP_MAX_ETAG];
	bool gzip, done;
	tl_tile t;
	int err;

	if ((err = tl_tile_path_parse(&t, path, strlen(path))) != 0)
		return err;
	if (!tile_exists(&t, tl_log_size(d->log)))
		return tl_error_set(TL_E_NOTFOUND, "%s is beyond the log's size", path);
	/* Only full entry bundles are compressed: partial ones are read once or twice. */
	gzip = t.entries && t.width == 256 && http_accepts_gzip(req);
	if ((err = log_etag(etag, d, path, gzip ? ".gz" : "")) != 0 ||
	    (err = http_immutable(&done, res, req, etag, t.entries && t.width == 256)) != 0 || done)
		return err;
	if (t.entries && t.width == 256)
		return reply_full_bundle(res, d, &t, gzip, req->raw->tls);
	/* A full tile is lent from RocksDB's block cache, not copied (up to a cap). */
	if (t.width == 256) {
		const uint8_t *data;
		size_t len;
		void *pin;

		if ((err = tl_log_tile_pinned(&data, &len, &pin, d->log, &t)) != 0)
			return err;
		return http_reply_pinned(res, TILE_TYPE, data, len, pin);
	}
	res->status = 200;
	res->content_type = TILE_TYPE;
	return tl_log_tile(&res->body, d->log, &t);
}

/* Entry `index` lent from its full bundle when the bundles' cache holds it: no RocksDB read
 * (the entry's offsets and its bundle otherwise), 8-10 us per answer instead of 11-13 on a
 * 1M-entry log (benchmarks/README.md, "Third pass"). A miss does not fill the cache: only
 * bundle requests do, so random single entries cannot churn it. False when not kept. */
static bool reply_cached_entry(bd_httpd_response *res, struct daemon *d, uint64_t index)
{
	struct http_file_body f;
	tl_cursor c;
	const uint8_t *e;
	uint16_t n;
	char key[32];

	if (!http_file_cache_get(&f, d->bundles, bundle_key(key, index / 256, false)))
		return false;
	c = tl_cursor_make(f.data, f.len);
	for (unsigned i = 0; i <= index % 256; i++)
		if (tl_cursor_u16be(&n, &c) != 0 || tl_cursor_take(&e, &c, n) != 0) {
			http_file_release(f.ref);
			return false;
		}
	bd_httpd_reply_borrowed(res, 200, TILE_TYPE, e, n, http_file_release, f.ref);
	return true;
}

int route_log_entry(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	const char *text = req->path + strlen("/v1/log/entries/");
	char etag[HTTP_MAX_ETAG];
	uint64_t index;
	bool done;
	int err;

	if (tl_parse_u64(&index, text, strlen(text)) != 0)
		return tl_error_set(TL_E_INPUT, "entry index \"%s\" is not an unsigned decimal", text);
	if (index >= tl_log_size(d->log))
		return tl_error_set(TL_E_NOTFOUND, "entry %llu is beyond the log's size", (unsigned long long)index);
	if ((err = log_etag(etag, d, "entry.", text)) != 0 ||
	    (err = http_immutable(&done, res, req, etag, false)) != 0 || done)
		return err;
	if (index / 256 < tl_log_size(d->log) / 256 && reply_cached_entry(res, d, index))
		return 0;
	res->status = 200;
	res->content_type = "application/octet-stream";
	return tl_log_entry(&res->body, d->log, index);
}

/* {"<first>":F,"<second>":S,"hashes":["base64",...]} and a newline, as http_reply_json would
 * write it (schema/inclusion-proof.schema.json, schema/consistency-proof.schema.json), but
 * written straight into the reply: base64 needs no JSON escaping, and building a jansson
 * document cost a fifth of a proof's CPU (benchmarks/README.md, "HTTP"). */
static int proof_json(bd_httpd_response *res, const char *first, uint64_t a, const char *second, uint64_t b,
	const tl_hash *hashes, size_t n)
{
	tl_buf *out = &res->body;
	int err;

	res->status = 200;
	res->content_type = "application/json";
	if ((err = tl_buf_reserve(out, 64 + n * (TL_HASH_SIZE * 4 / 3 + 8))) != 0 ||
	    (err = tl_buf_printf(out, "{\"%s\":%llu,\"%s\":%llu,\"hashes\":[", first, (unsigned long long)a, second,
		     (unsigned long long)b)) != 0)
		return err;
	for (size_t i = 0; i < n; i++)
		if ((err = tl_buf_append_str(out, i ? ",\"" : "\"")) != 0 ||
		    (err = tl_base64_encode(out, hashes[i].b, TL_HASH_SIZE)) != 0 ||
		    (err = tl_buf_append_str(out, "\"")) != 0)
			return err;
	return tl_buf_append_str(out, "]}\n");
}

json_t *route_proof_json(const char *first, uint64_t a, uint64_t size, const tl_hash *hashes, size_t n)
{
	tl_buf b64 = tl_buf_make(64);
	json_t *list = json_array(), *doc = NULL;

	if (list == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		tl_buf_reset(&b64);
		if (tl_base64_encode(&b64, hashes[i].b, TL_HASH_SIZE) != 0 ||
		    json_array_append_new(list, json_stringn((const char *)b64.data, b64.len)) != 0)
			goto out;
	}
	doc = json_pack("{s:I,s:I,s:O}", first, (json_int_t)a, "size", (json_int_t)size, "hashes", list);
out:
	json_decref(list);
	tl_buf_free(&b64);
	return doc;
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
