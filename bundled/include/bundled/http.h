/*
 * The HTTP transport that bundled's clients share (the IPFS RPC client, the client of
 * bundled's own API): one handle per peer over libcurl, one request at a time with a
 * deadline and a cap on the bytes it reads, and one mapping of what went wrong to tl_err.
 *
 * The base URL is checked once (http or https, a host, no space, control, non-ASCII, '?'
 * or '#', at most BD_HTTP_URL_MAX - 1 bytes). It may carry user-info ("http://u:p@host"),
 * which libcurl sends as basic auth, but no message this module writes ever contains it:
 * they name the URL as bd_http_url() gives it, with the user-info cut out.
 *
 * Errors (each message starts with "<name> <what>: ", name from the options):
 *   TL_E_UNAVAILABLE   cannot connect, timed out, the reply broke off, HTTP 5xx or 429
 *   TL_E_UNAUTHORIZED  HTTP 401/403
 *   TL_E_NOTFOUND      HTTP 404
 *   TL_E_CONFLICT      HTTP 409
 *   TL_E_INPUT         any other status but 200, a reply over the cap, a bad URL
 * bd_http_request leaves the status to its caller (r->status), which may read the error body
 * first; bd_http_status_err is the mapping.
 */
#ifndef BUNDLED_HTTP_H
#define BUNDLED_HTTP_H

#include <stddef.h>

#include "translog/bytes.h"
#include "translog/error.h"

#define BD_HTTP_CONNECT_TIMEOUT_MS 5000L
#define BD_HTTP_TIMEOUT_MS 30000L
/* Room for a base URL and for an Authorization header value. */
#define BD_HTTP_URL_MAX 512
#define BD_HTTP_AUTH_MAX 1024
/* Room for the path and query a request appends to the base URL. */
#define BD_HTTP_PATH_MAX 512
/* Room for a file name (CA, client certificate, client key). */
#define BD_HTTP_FILE_MAX 1024

typedef struct bd_http bd_http;

typedef struct bd_http_options {
	/* The peer's name in messages ("ipfs", "bundled"). Required; at most 15 bytes. */
	const char *name;
	/* Base URL, "http://127.0.0.1:5001"; trailing slashes are dropped. Required. */
	const char *url;
	/* Milliseconds; 0 takes BD_HTTP_CONNECT_TIMEOUT_MS / BD_HTTP_TIMEOUT_MS. The total
	 * timeout bounds each request from connect to the last byte. */
	long connect_timeout_ms;
	long timeout_ms;
	/* NULL, or the value of an Authorization header sent with every request. */
	const char *authorization;
	/* NULL: connect directly, ignoring http_proxy and friends in the environment.
	 * Otherwise a libcurl proxy URL. */
	const char *proxy;
	/* NULL: trust the system's CA store for https. Otherwise a PEM file of the only CA
	 * certificates trusted (the system store is then not used): a private CA, as for a
	 * bundled daemon started with --tls-cert. */
	const char *ca_file;
	/* NULL, or a PEM client certificate and its PEM key (both or neither), presented when
	 * the server asks (mTLS). */
	const char *client_cert;
	const char *client_key;
} bd_http_options;

/* Makes a handle; nothing is sent until the first request. TL_E_INPUT if an option is
 * bad (the message says which). */
int bd_http_open(bd_http **out, const bd_http_options *opts) TL_MUST_USE;
void bd_http_close(bd_http *h);

/* The base URL as given, less trailing slashes and any user-info: safe to print. */
const char *bd_http_url(const bd_http *h);


typedef struct bd_http_request {
	const char *method;   /* "GET" or "POST" */
	const char *what;     /* names the call in messages: "pin/add", "GET /checkpoint" */
	const char *path;     /* appended to the base URL: "/api/v0/version?x=1" */
	/* POST only: NULL for an empty body, or the one multipart file part ("file", named
	 * "data") that the IPFS RPC API's block/put and add take. */
	const void *upload;
	size_t upload_len;
	/* Extra header lines ("Accept: ..."), NULL-ended; may be NULL. */
	const char *const *headers;
	/* POST only, instead of `upload`: body_len bytes sent as they are (a tlog-witness
	 * request, a JSON body of bundled's API), with Content-Type `body_type` (NULL:
	 * text/plain). */
	const void *body;
	size_t body_len;
	const char *body_type;
} bd_http_request;

typedef struct bd_http_reply {
	tl_buf body;           /* the body read; its cap (set by the caller) caps the reply */
	long status;           /* the HTTP status, once one was read */
	int over;              /* the body went over the cap (the request then fails) */
	char stream_error[256]; /* a Kubo X-Stream-Error trailer, printable, or "" */
	size_t header_bytes;   /* the bytes of the status line and header lines read */
} bd_http_reply;

/* A reply whose body may grow to `cap` bytes (0: TL_BUF_DEFAULT_CAP). Free r->body with
 * tl_buf_free. */
bd_http_reply bd_http_reply_make(size_t cap);

/* Sends one request and reads the reply into r. Returns 0 when a whole reply was read,
 * whatever its status (r->status), and for a status other than 2xx whose body was over the
 * cap (the body then holds its first bytes, r->over is set): the status is the answer.
 * TL_E_INPUT if a 2xx reply was over the cap; TL_E_UNAVAILABLE if
 * the peer could not be reached or did not answer in time; TL_E_INPUT for a bad URL. One
 * request at a time per handle (others wait); the connection is kept for the next. */
int bd_http_request_send(bd_http_reply *r, bd_http *h, const bd_http_request *req) TL_MUST_USE;

/* A body that is not the peer's structured error, as one printable line for a message:
 * its first BD_HTTP_TEXT_MAX bytes less a final newline, or "(no message)". Returns out. */
#define BD_HTTP_TEXT_MAX 120
const char *bd_http_reply_text(char *out, size_t size, const bd_http_reply *r);

/* The tl_err category of a status other than 200 (see above). */
int bd_http_status_err(long status);

#endif
