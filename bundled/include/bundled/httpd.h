/*
 * An HTTP/1.1 server for bundled's daemon and for the witness: event-driven (epoll, a few
 * loop threads, no thread per connection), with a small worker pool for handlers that block,
 * strict request parsing (one accepted spelling of everything, see httpd_parse.c), limits per
 * client address and overall, a deadline for receiving a whole request, an idle timeout, and
 * responses that can borrow their body (no copy) or stream it.
 *
 * Every answer the server gives by itself (a malformed request, a limit) is the one JSON error
 * shape {"error":{"code":"...","message":"..."}}, and is counted like the handlers' answers.
 */
#ifndef BUNDLED_HTTPD_H
#define BUNDLED_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/error.h"

/* Limits of the request head the parser accepts. */
#define BD_HTTPD_MAX_TARGET 4096  /* request-target bytes: longer is 414 */
#define BD_HTTPD_MAX_HEAD 16384   /* request line + headers: longer is 431 */
#define BD_HTTPD_MAX_HEADERS 64   /* header fields: more is 431 */
#define BD_HTTPD_MAX_RESPONSE_HEADERS 12
#define BD_HTTPD_MAX_RESPONSE ((size_t)64 << 20) /* bytes a handler's copied body may grow to */
#define BD_HTTPD_STREAM_CHUNK 65536                /* bytes a producer may add per call */

typedef struct bd_httpd_field {
	const char *name; /* as sent (names compare case-insensitively) */
	size_t name_len;
	const char *value; /* without leading and trailing white space */
	size_t value_len;
} bd_httpd_field;

/* A parsed request. All pointers point into the connection's buffer and stay valid until
 * the handler returns (or, for a handler run by the worker pool, until it finishes). */
typedef struct bd_httpd_request {
	const char *method;  /* "GET" (also for HEAD: the server leaves the body out), "POST", ... */
	bool head;           /* the client sent HEAD */
	const char *target;  /* the raw request-target, never percent-decoded; NUL-terminated */
	size_t target_len;
	size_t path_len;     /* target[0..path_len) is the path; a '?' and the raw query may follow */
	int minor_version;   /* HTTP/1.minor_version: 0 or 1 */
	size_t nfields;
	bd_httpd_field fields[BD_HTTPD_MAX_HEADERS];
	const uint8_t *body; /* the whole body, de-chunked; len 0 when there is none */
	size_t body_len;
	char peer[64];       /* the client's address, printable ("127.0.0.1", "::1") */
	bool tls;            /* the request came over TLS */
	/* The client presented a certificate that verified against opts.tls_client_ca; its
	 * subject (OpenSSL's one-line form, e.g. "/CN=operator", printable) follows. */
	bool tls_client_verified;
	char tls_client_subject[256];
} bd_httpd_request;

/* A streamed body's producer: appends what it has to `out` (which refuses to grow past its
 * cap) and returns 1 while more may follow, 0 once the body is complete, or a negative tl_err
 * to cut the connection. Returning 1 with nothing appended pauses the stream until
 * bd_httpd_stream_wake. Runs on the connection's event loop: it must not block. */
typedef int (*bd_httpd_producer)(tl_buf *out, void *ctx);

/* The application's handle on a streamed response, to push data from another thread. */
typedef struct bd_httpd_stream bd_httpd_stream;

typedef struct bd_httpd_response {
	unsigned status;
	const char *content_type; /* static string, or NULL */
	size_t nheaders;
	struct {
		const char *name; /* static string */
		char value[256];
	} headers[BD_HTTPD_MAX_RESPONSE_HEADERS];
	/* The body: either `body`, owned by the response, or bytes borrowed until the server
	 * has sent them, then handed to release(release_ctx). */
	tl_buf body;
	const void *borrowed;
	size_t borrowed_len;
	void (*release)(void *release_ctx);
	void *release_ctx;
	/* Or borrowed_len bytes of a file from body_off (bd_httpd_reply_file), sent with
	 * sendfile: the kernel hands the file's pages to the socket without copying them. */
	bool body_file;
	int body_fd;
	uint64_t body_off;
	/* Or a streamed body (bd_httpd_reply_stream): sent with chunked transfer-coding (to an
	 * HTTP/1.0 client: until the connection closes) as produce(.., release_ctx) makes it. */
	bd_httpd_producer produce;
	bd_httpd_stream *stream;
} bd_httpd_response;

/* Fills `res` and returns 0, or returns a tl_err: the server then answers the JSON error
 * whose status fits the category (tl_err_http_status), with the message recorded with it. */
typedef int (*bd_httpd_handler)(bd_httpd_response *res, const bd_httpd_request *req, void *ctx);

/* Called once for every answer, from the thread that sent it: for metrics and access logs.
 * `req` is NULL when the request could not be parsed. May be NULL. */
typedef void (*bd_httpd_observer)(const bd_httpd_request *req, const bd_httpd_response *res, uint64_t micros,
	void *ctx);

typedef struct bd_httpd_options {
	const char *host;            /* numeric IPv4 or IPv6 address */
	unsigned port;               /* 0: any free port (see bd_httpd_port) */
	unsigned loops;              /* event-loop threads (default: 2) */
	unsigned workers;            /* worker threads for blocking handlers (default: 4) */
	unsigned max_connections;    /* overall (default 16384) */
	unsigned max_per_address;    /* per client address (default 256) */
	unsigned request_timeout_ms; /* whole head and body, from their first byte (default 10 s) */
	unsigned idle_timeout_ms;    /* keep-alive wait for the next request (default 60 s) */
	unsigned write_timeout_ms;   /* a response not accepted by the client by then (default 30 s) */
	size_t max_body;             /* request bodies, Content-Length or chunked (default 1 MiB) */
	/* TLS (PEM files; NULL: plain HTTP). Every connection then starts with a handshake, which
	 * must finish within request_timeout_ms of the accept, and the first request within the
	 * same deadline. tls_client_ca asks clients for a certificate from that CA (not required:
	 * see bd_httpd_request.tls_client_verified). */
	const char *tls_cert;        /* certificate chain, the server's first */
	const char *tls_key;         /* refused if group or others can access it, like the log key */
	const char *tls_client_ca;
	bd_httpd_handler handler;
	/* Whether a request's handler may block (and so runs in the worker pool rather than
	 * on an event loop). NULL: every handler runs on the loops. */
	bool (*blocking)(const bd_httpd_request *req, void *ctx);
	bd_httpd_observer observe;
	void *ctx;
} bd_httpd_options;

typedef struct bd_httpd bd_httpd;

/* Binds, listens and starts the threads. TL_E_IO if the address cannot be bound, TL_E_INPUT
 * naming the file if a TLS file cannot be used. */
int bd_httpd_start(bd_httpd **out, const bd_httpd_options *opts) TL_MUST_USE;
/* The port bound (useful when opts->port was 0). */
unsigned bd_httpd_port(const bd_httpd *srv);
/* Stops accepting, lets handlers in flight finish (queued ones are not started), closes
 * every connection, frees. Streams' handles stay valid until released. */
void bd_httpd_stop(bd_httpd *srv);

/* How many connections are open now. */
unsigned bd_httpd_connections(const bd_httpd *srv);
/* How many TLS handshakes failed (bad or no TLS, a refused certificate, a client that did not
 * finish in time); plain HTTP sent to the TLS port is among them. */
uint64_t bd_httpd_tls_failures(const bd_httpd *srv);

/* Connection counts since start, for metrics. A refused connection gets its answer (503 or
 * 429, through the observer with a NULL request) and is not counted as accepted. */
typedef struct bd_httpd_stats {
	uint64_t accepted;              /* connections taken */
	uint64_t refused_max_connections; /* over max_connections */
	uint64_t refused_max_per_address; /* over max_per_address */
	uint64_t shed_no_descriptors;   /* closed unanswered: the process was out of descriptors */
	uint64_t loop_connections_min;  /* connections of the event loop with the fewest now */
	uint64_t loop_connections_max;  /* and of the one with the most */
} bd_httpd_stats;
void bd_httpd_stats_get(bd_httpd_stats *out, const bd_httpd *srv);

/* Response helpers for handlers. reply copies the bytes; reply_borrowed hands them over
 * without a copy: release(release_ctx) is called exactly once (normally on an event loop),
 * after the last byte was written, when the connection failed, or at once for HEAD and for
 * statuses without a body (and when a later reply or an error replaces the body). */
int bd_httpd_reply(bd_httpd_response *res, unsigned status, const char *type, const void *data, size_t len) TL_MUST_USE;
void bd_httpd_reply_borrowed(bd_httpd_response *res, unsigned status, const char *type, const void *data, size_t len,
	void (*release)(void *release_ctx), void *release_ctx);
/* The same for `len` bytes of the file `fd` from `off`, sent with sendfile on plain
 * connections (read into the response on TLS ones, which sendfile cannot serve). The bytes
 * must not change until release(release_ctx): the kernel may still send them from the file's
 * pages after the call returned, so only append-only files of immutable bytes qualify. */
void bd_httpd_reply_file(bd_httpd_response *res, unsigned status, const char *type, int fd, uint64_t off, size_t len,
	void (*release)(void *release_ctx), void *release_ctx);
int bd_httpd_add_header(bd_httpd_response *res, const char *name, const char *fmt, ...) TL_PRINTF(3, 4) TL_MUST_USE;
/* Answers a streamed body: the server calls produce(out, ctx) whenever the client can take
 * more, and release(ctx) once when the response ends or the connection closes. With `handle`
 * non-NULL the application gets a reference to the stream, valid until it calls
 * bd_httpd_stream_release, for bd_httpd_stream_wake from any thread. */
int bd_httpd_reply_stream(bd_httpd_response *res, unsigned status, const char *type, bd_httpd_producer produce,
	void (*release)(void *ctx), void *ctx, bd_httpd_stream **handle) TL_MUST_USE;
/* Makes the server call the producer again (it paused, or has more now). Thread-safe; does
 * nothing once the connection is gone. */
void bd_httpd_stream_wake(bd_httpd_stream *s);
/* False once the streamed response ended or its connection closed. */
bool bd_httpd_stream_open(bd_httpd_stream *s);
/* Drops the application's reference. */
void bd_httpd_stream_release(bd_httpd_stream *s);
/* Turns `res` into the JSON error for `err` and the current error message. */
void bd_httpd_reply_error(bd_httpd_response *res, int err);

/* A request header's value (first of that name, case-insensitive), or NULL. */
const bd_httpd_field *bd_httpd_field_get(const bd_httpd_request *req, const char *name);

/* --- The request parser (httpd_parse.c), exposed for the fuzz target and the tests. --- */

typedef enum bd_httpd_parse_state {
	BD_HTTPD_PARSE_MORE = 0,  /* the head is not complete yet */
	BD_HTTPD_PARSE_DONE = 1,  /* head parsed; *head_len bytes used */
} bd_httpd_parse_state;

/* What the head says about the body that follows. */
typedef struct bd_httpd_framing {
	bool chunked;
	uint64_t content_length; /* when !chunked */
	bool keep_alive;
	bool expect_continue;
} bd_httpd_framing;

/* Parses a request head from buf[0..len). Returns BD_HTTPD_PARSE_MORE when the head is not
 * complete, BD_HTTPD_PARSE_DONE with *head_len set, or a negative tl_err (TL_E_INPUT) with
 * *status set to the HTTP status to answer (400, 414, 431, 501, 505) and a message that names
 * the problem. `req->target` is NUL-terminated in place: buf must be writable. */
int bd_httpd_parse_head(bd_httpd_request *req, bd_httpd_framing *framing, size_t *head_len, unsigned *status,
	char *buf, size_t len) TL_MUST_USE;

/* Where a chunked body's decoding stands; zero-initialise before the first call. */
typedef struct bd_httpd_chunked {
	size_t in;        /* bytes of input consumed */
	size_t out;       /* de-chunked bytes written, at the start of the same buffer */
	uint64_t left;    /* data bytes left in the current chunk */
	int state;
} bd_httpd_chunked;

/* De-chunks a chunked body in place: buf[0..len) holds the bytes after the head, and more
 * may follow in later calls (with the same buf, longer len). Returns BD_HTTPD_PARSE_MORE
 * until the last chunk and the empty trailer section are in, then BD_HTTPD_PARSE_DONE: the
 * body is buf[0..st->out) and st->in bytes were used. Fails with *status 400 for bad framing
 * (chunk extensions and trailer fields are refused) and 413 past max_body. */
int bd_httpd_parse_chunked(bd_httpd_chunked *st, unsigned *status, uint8_t *buf, size_t len, size_t max_body)
	TL_MUST_USE;

#endif
