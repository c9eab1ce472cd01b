/* What the HTTP server's files share: reply helpers and the per-address connection count. */
#ifndef BUNDLED_HTTPD_INTERNAL_H
#define BUNDLED_HTTPD_INTERNAL_H

#include <pthread.h>
#include <sys/socket.h>

#include "bundled/httpd.h"

/* Frees a response's body (calling its release for borrowed bytes) and empties it. */
void bd_httpd__release_body(bd_httpd_response *res);
/* Reads a file body (bd_httpd_reply_file) into res->body and releases the file: for a
 * connection that cannot use sendfile (TLS). TL_E_IO if the read fails. */
int bd_httpd__file_to_memory(bd_httpd_response *res) TL_MUST_USE;
/* The JSON error for one of the server's own statuses (400, 408, 413, 414, 431, 429, 503...). */
void bd_httpd__reply_status_error(bd_httpd_response *res, unsigned status);
/* Whether a status carries a body (not 1xx, 204, 304). */
bool bd_httpd__has_body(unsigned status);
/* body_len values of bd_httpd__write_head for streamed bodies. */
#define BD_HTTPD__CHUNKED ((size_t)-1)     /* Transfer-Encoding: chunked */
#define BD_HTTPD__UNTIL_CLOSE ((size_t)-2) /* no length: the body ends with the connection */

/* Writes the status line and headers, ending with the empty line. */
int bd_httpd__write_head(tl_buf *out, const bd_httpd_response *res, size_t body_len, bool keep_alive,
	const char *date) TL_MUST_USE;
/* A streamed response's shared state (httpd_stream.c): referenced by the response and,
 * optionally, by the application. */
struct bd_httpd_stream {
	pthread_mutex_t mu;
	unsigned refs;
	void *conn;                 /* the connection sending it, set on its loop; NULL before and after */
	void (*queue)(bd_httpd_stream *s); /* puts it on the loop's woken list (mu held, conn set) */
	bool closed;                /* its response ended or its connection is gone */
	bool woken;                 /* a wake since the producer last ran */
	bool queued;                /* on the loop's list of woken streams (holds a reference) */
	bd_httpd_stream *next;
};

/* A stream with `refs` references. */
int bd_httpd__stream_new(bd_httpd_stream **out, unsigned refs) TL_MUST_USE;
/* Drops one reference; the last frees it. */
void bd_httpd__stream_unref(bd_httpd_stream *s);

/* Open connections per client address, under one lock (touched only on accept and close). */
typedef struct bd_httpd_addrs bd_httpd_addrs;

int bd_httpd__addrs_new(bd_httpd_addrs **out) TL_MUST_USE;
void bd_httpd__addrs_free(bd_httpd_addrs *a);
/* Counts one more connection from addr unless it already has `max`: then returns false. */
bool bd_httpd__addrs_take(bd_httpd_addrs *a, const struct sockaddr_storage *addr, unsigned max);
void bd_httpd__addrs_give(bd_httpd_addrs *a, const struct sockaddr_storage *addr);

#endif
