/*
 * Conditional requests and compressed variants for the daemon's immutable answers (full and
 * partial tiles, entry bundles, entries, raw blocks): one strong ETag per representation,
 * If-None-Match answered with 304 before anything is read, gzip for entry bundles (made once
 * per bundle and kept with the identity form in a file cache), and the file caches that
 * serve immutable bodies with sendfile.
 */
#ifndef BUNDLED_DAEMON_HTTP_CACHE_H
#define BUNDLED_DAEMON_HTTP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

#define HTTP_CACHE_CONTROL_IMMUTABLE "public, max-age=31536000, immutable"
#define HTTP_MAX_ETAG 200            /* bytes of an entity tag, quotes included */

/* Adds ETag (`etag`, quoted already) and the immutable Cache-Control to `res`, and `Vary:
 * Accept-Encoding` when `vary`. When the request's If-None-Match names `etag` (or is "*"),
 * answers 304 without a body and sets *done: the handler returns at once. */
int http_immutable(bool *done, bd_httpd_response *res, const struct http_request *req, const char *etag,
	bool vary) TL_MUST_USE;
/* The same with another Cache-Control (an answer that changes, such as a domain's newest
 * version, is revalidated: "no-cache"). */
int http_conditional(bool *done, bd_httpd_response *res, const struct http_request *req, const char *etag,
	const char *cache_control, bool vary) TL_MUST_USE;

/* Whether the client's Accept-Encoding takes gzip (listed, or "*", with a non-zero q). */
bool http_accepts_gzip(const struct http_request *req);

/* One gzip member (RFC 1952) of raw[0..len), at zlib's default level, in *out (malloc'ed, the
 * caller frees it). Entry bundles are compressed once and kept in the bundles' file cache
 * (routes_log.c), so this runs once per bundle while it stays cached. */
int http_gzip(uint8_t **out, size_t *out_len, const void *raw, size_t len) TL_MUST_USE;

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
 * CID, a bundle's index); a body is appended once and never changed, so responses may read it
 * while the cache moves on. `slots` bodies are indexed (direct-mapped by key), in at most two
 * files of `arena_bytes` each: the memory a cache holds is bounded by 2 * arena_bytes, plus
 * the files that responses still being sent hold after the cache let them go.
 */
#define HTTP_FILE_SLOTS 4096
#define HTTP_FILE_MAX_KEY 127
#define HTTP_FILE_ARENA_BYTES ((size_t)32 << 20)

/* A body lent from the cache: len bytes of fd from off, also mapped at data, until
 * http_file_release(ref). */
struct http_file_body {
	int fd;
	uint64_t off;
	size_t len;
	void *ref;
	const uint8_t *data;
};

struct http_file_cache;

/* A cache of HTTP_FILE_SLOTS bodies (http_file_cache_new_sized for another count). */
int http_file_cache_new(struct http_file_cache **out, size_t arena_bytes) TL_MUST_USE;
int http_file_cache_new_sized(struct http_file_cache **out, size_t arena_bytes, size_t slots) TL_MUST_USE;
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

/* Bodies from this size on are sent with sendfile, smaller ones (and all over TLS) are
 * written from the file's mapping with the head in one writev: measured on 6 KB, 33 KB and
 * 42 KB bodies, sendfile (a send of the head, then sendfile) cost 0.4-1.5 us more per answer
 * on average than the writev's copy; on 86 KB the two were even (benchmarks/README.md, "Third pass"). */
#define HTTP_FILE_SENDFILE_MIN ((size_t)64 << 10)

/* Answers 200 with the body kept under `key`, without copying it (sendfile, or lent from the
 * file's mapping: HTTP_FILE_SENDFILE_MIN, `tls`); false (and `res` untouched) when the cache
 * does not have it. */
bool http_file_reply(bd_httpd_response *res, struct http_file_cache *c, const char *key, const char *type, bool tls);
/* Keeps data[0..len) under `key` and answers it from the file as http_file_reply does: 0, or
 * the error of http_file_cache_put with `res` untouched (the caller answers from memory). */
int http_file_reply_put(bd_httpd_response *res, struct http_file_cache *c, const char *key, const char *type,
	const void *data, size_t len, bool tls) TL_MUST_USE;

/* What a cache holds and how it was used, for the metrics. */
struct http_file_cache_stats {
	uint64_t bytes;  /* appended to the indexed files (live and overwritten bodies) */
	uint64_t bodies; /* bodies indexed */
	uint64_t hits, misses; /* http_file_cache_get (and http_file_reply) found the key or not */
};
void http_file_cache_stats(struct http_file_cache_stats *out, struct http_file_cache *c);

#endif
