#include "http_cache.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "translog/db.h"

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* If-None-Match uses the weak comparison (RFC 9110 §13.1.2): "W/" is ignored on either side.
 * A malformed list matches nothing, so the client gets the full answer. */
static bool none_match_names(const bd_httpd_field *f, const char *etag)
{
	const char *v = f->value;
	size_t n = f->value_len, i = 0, tag_len = strlen(etag);

	if (n == 1 && v[0] == '*')
		return true;
	while (i < n) {
		size_t start;

		while (i < n && (is_ows(v[i]) || v[i] == ','))
			i++;
		if (i + 2 <= n && v[i] == 'W' && v[i + 1] == '/')
			i += 2;
		if (i >= n || v[i] != '"')
			return false;
		start = i++;
		while (i < n && v[i] != '"')
			i++;
		if (i >= n)
			return false;
		i++;
		if (i - start == tag_len && memcmp(v + start, etag, tag_len) == 0)
			return true;
	}
	return false;
}

int http_immutable(bool *done, bd_httpd_response *res, const struct http_request *req, const char *etag, bool vary)
{
	return http_conditional(done, res, req, etag, HTTP_CACHE_CONTROL_IMMUTABLE, vary);
}

int http_conditional(bool *done, bd_httpd_response *res, const struct http_request *req, const char *etag,
	const char *cache_control, bool vary)
{
	const bd_httpd_field *inm = bd_httpd_field_get(req->raw, "If-None-Match");
	int err;

	*done = false;
	if ((err = bd_httpd_add_header(res, "ETag", "%s", etag)) != 0 ||
	    (err = bd_httpd_add_header(res, "Cache-Control", "%s", cache_control)) != 0 ||
	    (vary && (err = bd_httpd_add_header(res, "Vary", "Accept-Encoding")) != 0))
		return err;
	if (inm != NULL && none_match_names(inm, etag)) {
		bd_httpd_reply_borrowed(res, 304, NULL, NULL, 0, NULL, NULL);
		*done = true;
	}
	return 0;
}

/* Reads "token[;q=...]" items; gzip (or x-gzip) wins or loses by its own q, else "*". */
bool http_accepts_gzip(const struct http_request *req)
{
	const bd_httpd_field *f = bd_httpd_field_get(req->raw, "Accept-Encoding");
	int gzip = -1, any = -1;

	if (f == NULL)
		return false;
	for (size_t i = 0; i < f->value_len;) {
		size_t tok, tok_len, item_end = i;
		int accepted = 1;

		while (item_end < f->value_len && f->value[item_end] != ',')
			item_end++;
		while (i < item_end && is_ows(f->value[i]))
			i++;
		tok = i;
		while (i < item_end && f->value[i] != ';' && !is_ows(f->value[i]))
			i++;
		tok_len = i - tok;
		/* q=0, q=0.0, q=0.00, q=0.000 refuse; any other weight accepts. */
		for (; i < item_end; i++)
			if (f->value[i] == '=' && i >= 1 && (f->value[i - 1] == 'q' || f->value[i - 1] == 'Q')) {
				size_t j = i + 1;

				accepted = 0;
				for (; j < item_end && !is_ows(f->value[j]); j++)
					if (f->value[j] != '0' && f->value[j] != '.')
						accepted = 1;
			}
		if ((tok_len == 4 && strncasecmp(f->value + tok, "gzip", 4) == 0) ||
		    (tok_len == 6 && strncasecmp(f->value + tok, "x-gzip", 6) == 0))
			gzip = accepted;
		else if (tok_len == 1 && f->value[tok] == '*')
			any = accepted;
		i = item_end + 1;
	}
	return gzip >= 0 ? gzip == 1 : any == 1;
}

/* The process serves one daemon: one count. */
static size_t lent_bytes;

struct lent {
	void *pin;
	size_t len;
};

static void lent_release(void *ctx)
{
	struct lent *l = ctx;

	__atomic_sub_fetch(&lent_bytes, l->len, __ATOMIC_RELAXED);
	tl_db_release(l->pin);
	free(l);
}

size_t http_lent_bytes(void)
{
	return __atomic_load_n(&lent_bytes, __ATOMIC_RELAXED);
}

int http_reply_pinned(bd_httpd_response *res, const char *type, const uint8_t *data, size_t len, void *pin)
{
	struct lent *l = malloc(sizeof(*l));
	int err;

	if (l != NULL && __atomic_add_fetch(&lent_bytes, len, __ATOMIC_RELAXED) <= HTTP_MAX_LENT_BYTES) {
		l->pin = pin;
		l->len = len;
		bd_httpd_reply_borrowed(res, 200, type, data, len, lent_release, l);
		return 0;
	}
	if (l != NULL)
		__atomic_sub_fetch(&lent_bytes, len, __ATOMIC_RELAXED);
	free(l);
	err = bd_httpd_reply(res, 200, type, data, len);
	tl_db_release(pin);
	return err;
}

int http_gzip(uint8_t **out, size_t *out_len, const void *raw, size_t len)
{
	z_stream z = { 0 };
	uLong bound;
	uint8_t *buf = NULL;
	int err = 0;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return tl_error_set(TL_E_NOMEM, "zlib: %s", z.msg ? z.msg : "cannot start deflate");
	bound = deflateBound(&z, (uLong)len);
	if (len > UINT32_MAX || (buf = malloc(bound)) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory compressing %zu bytes", len);
		goto out;
	}
	z.next_in = (Bytef *)(uintptr_t)raw;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		err = tl_error_set(TL_E_INTERNAL, "zlib: deflate did not finish within its bound");
		goto out;
	}
	*out = buf;
	*out_len = z.total_out;
	buf = NULL;
out:
	deflateEnd(&z);
	free(buf);
	return err;
}
