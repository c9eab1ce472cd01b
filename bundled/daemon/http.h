/*
 * A small HTTP layer over libmicrohttpd: a route table, request bodies capped before they
 * are read, and responses that are either bytes or JSON. Every JSON the daemon sends, the
 * error shape {"error":{"code":"...","message":"..."}} derived from a tl_err included, is a
 * jansson document written by http_reply_json: no JSON is built with printf.
 */
#ifndef BUNDLED_DAEMON_HTTP_H
#define BUNDLED_DAEMON_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"

struct MHD_Connection;
struct json_t;

#define HTTP_MAX_HEADERS 8

struct http_request {
	const char *method;
	const char *path; /* without the query string */
	struct MHD_Connection *conn;
	const uint8_t *body;
	size_t body_len;
};

struct http_header {
	const char *name;
	char value[256];
};

struct http_response {
	unsigned status;
	const char *content_type;
	tl_buf body;
	size_t nheaders;
	struct http_header headers[HTTP_MAX_HEADERS];
};

/* Fills `res` and returns 0, or returns a tl_err: the server then answers with the JSON
 * error whose status fits the category, and the message recorded with the error. */
typedef int (*http_handler)(struct http_response *res, const struct http_request *req, void *app);

struct http_route {
	const char *method;
	const char *path; /* exact path, or a prefix when it ends with '/' */
	http_handler handler;
	/* The handler may wait on storage (a publish waits for its durable checkpoint): a server
	 * with a worker pool runs it there, never on its event loop. */
	bool blocking;
};

struct http_server;

struct http_options {
	const char *host;
	unsigned port;
	size_t max_body;
	unsigned max_connections;
	unsigned connection_timeout;
	const struct http_route *routes;
	size_t nroutes;
	void *app;
};

int http_start(struct http_server **out, const struct http_options *opts) TL_MUST_USE;
/* The port actually bound (useful when opts->port was 0). */
unsigned http_port(const struct http_server *srv);
/* Stops accepting, waits for requests in flight, frees the server. */
void http_stop(struct http_server *srv);

/* A request header (name matched without regard to case), or NULL. */
const char *http_header(const struct http_request *req, const char *name);

/* The client's address as text ("127.0.0.1", "::1"), into out (cap bytes); "unknown" if the
 * connection has none. Returns out. */
const char *http_client_addr(char *out, size_t cap, const struct http_request *req);

/* A query argument of the request, or NULL. */
const char *http_query(const struct http_request *req, const char *name);

/* Parses a query argument as a canonical unsigned decimal; TL_E_INPUT naming it otherwise
 * (TL_E_INPUT "missing" when absent). */
int http_query_u64(uint64_t *out, const struct http_request *req, const char *name) TL_MUST_USE;

/* Response helpers: they set status and type and copy the bytes. */
int http_reply(struct http_response *res, unsigned status, const char *type, const void *data, size_t len) TL_MUST_USE;
/* Answers `doc` (a jansson document, whose reference this call takes, NULL included: a failed
 * json_pack is an out-of-memory error) as application/json: compact, keys in the order they
 * were set, one '\n' after it. */
int http_reply_json(struct http_response *res, unsigned status, struct json_t *doc) TL_MUST_USE;
int http_add_header(struct http_response *res, const char *name, const char *fmt, ...) TL_PRINTF(3, 4) TL_MUST_USE;

/* Counters for /metrics: requests answered by status class (index 1..5 for 1xx..5xx). */
void http_counts(uint64_t by_class[6]);

#endif
