/*
 * Conditional requests and compressed variants for the daemon's immutable answers (full and
 * partial tiles, entry bundles, entries, raw blocks): one strong ETag per representation,
 * If-None-Match answered with 304 before anything is read, and gzip for entry bundles made
 * once per bundle and kept in a bounded cache the handlers borrow from.
 */
#ifndef BUNDLED_DAEMON_HTTP_CACHE_H
#define BUNDLED_DAEMON_HTTP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

#define HTTP_CACHE_CONTROL_IMMUTABLE "public, max-age=31536000, immutable"
#define HTTP_MAX_ETAG 200            /* bytes of an entity tag, quotes included */
#define HTTP_GZIP_SLOTS 1024         /* compressed bundles kept (direct-mapped by key) */
#define HTTP_GZIP_MAX_BYTES ((size_t)64 << 20) /* and their compressed bytes, at most */

/* Adds ETag (`etag`, quoted already) and the immutable Cache-Control to `res`, and `Vary:
 * Accept-Encoding` when `vary`. When the request's If-None-Match names `etag` (or is "*"),
 * answers 304 without a body and sets *done: the handler returns at once. */
int http_immutable(bool *done, bd_httpd_response *res, const struct http_request *req, const char *etag,
	bool vary) TL_MUST_USE;

/* Whether the client's Accept-Encoding takes gzip (listed, or "*", with a non-zero q). */
bool http_accepts_gzip(const struct http_request *req);

/* A gzip'ed representation kept by the cache; reference-counted, so a response can borrow
 * its bytes while the cache replaces it. */
struct http_gzip {
	uint8_t *data;
	size_t len;
	uint64_t key;
	unsigned refs;
};

struct http_gzip_cache;

int http_gzip_cache_new(struct http_gzip_cache **out) TL_MUST_USE;
void http_gzip_cache_free(struct http_gzip_cache *c);

/* The compressed bytes kept under `key`, referenced (NULL when absent). */
struct http_gzip *http_gzip_cache_get(struct http_gzip_cache *c, uint64_t key);
/* Compresses raw[0..len) once, keeps it under `key` (unless over the byte bound) and returns
 * it referenced. */
int http_gzip_cache_put(struct http_gzip **out, struct http_gzip_cache *c, uint64_t key, const void *raw,
	size_t len) TL_MUST_USE;
/* Drops a reference (a bd_httpd_reply_borrowed release function). */
void http_gzip_release(void *gz);

/*
 * RocksDB values lent to responses (tl_db_get_pinned and the reads built on it) stay pinned
 * in the block cache until the client has them all; a cache full of pinned blocks, held by
 * slow clients, admits nothing new and every other read misses. So the bytes lent at once
 * are capped: past HTTP_MAX_LENT_BYTES a value is copied into its response and unpinned at
 * once (the copy costs the same memory, but malloc's, not the cache's).
 */
#define HTTP_MAX_LENT_BYTES ((size_t)32 << 20) /* a quarter of the default block cache */

/* Answers 200 with data[0..len), pinned by `pin`: lent while the bytes lent stay within
 * HTTP_MAX_LENT_BYTES, copied otherwise. `pin` is released either way (now, or once sent). */
int http_reply_pinned(bd_httpd_response *res, const char *type, const uint8_t *data, size_t len, void *pin)
	TL_MUST_USE;
/* The bytes lent to responses now (for the metrics). */
size_t http_lent_bytes(void);

/*
 * Immutable bodies in memory files, sent with sendfile (http_filecache.c). Keyed by text (a
 * CID); a body is appended once and never changed, so responses may read it while the cache
 * moves on. HTTP_FILE_SLOTS bodies are indexed (direct-mapped by key), in at most two files
 * of `arena_bytes` each.
 */
#define HTTP_FILE_SLOTS 4096
#define HTTP_FILE_MAX_KEY 127
#define HTTP_FILE_ARENA_BYTES ((size_t)32 << 20)

/* A body lent from the cache: len bytes of fd from off, until http_file_release(ref). */
struct http_file_body {
	int fd;
	uint64_t off;
	size_t len;
	void *ref;
};

struct http_file_cache;

int http_file_cache_new(struct http_file_cache **out, size_t arena_bytes) TL_MUST_USE;
void http_file_cache_free(struct http_file_cache *c);
/* The body kept under `key`, referenced; false when absent. */
bool http_file_cache_get(struct http_file_body *out, struct http_file_cache *c, const char *key);
/* Keeps data[0..len) under `key` (or finds it kept) and lends it, referenced. TL_E_INPUT
 * for a body too large for the cache (over a quarter of an arena) or an empty one: the
 * caller serves it from memory instead. */
int http_file_cache_put(struct http_file_body *out, struct http_file_cache *c, const char *key, const void *data,
	size_t len) TL_MUST_USE;
/* Drops a body's reference (a bd_httpd_reply_file release function). */
void http_file_release(void *ref);

#endif
