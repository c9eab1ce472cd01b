/*
 * The daemon's route table over the bundled HTTP server (bundled/httpd.h): routing on the
 * raw request path (never percent-decoded: every path has exactly one accepted spelling),
 * one strict query-string parser, HEAD on every GET route, 405 with Allow for a wrong
 * method, responses counted by status class for /metrics, and one access-log line per
 * answer. Handlers fill a bd_httpd_response (copied, borrowed or streamed body); every JSON
 * the daemon sends is a jansson document written by http_reply_json.
 */
#ifndef BUNDLED_DAEMON_HTTP_H
#define BUNDLED_DAEMON_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundled/httpd.h"
#include "translog/bytes.h"

struct json_t;
struct metrics;

#define HTTP_MAX_PARAMS 4        /* query parameters a route may name */
#define HTTP_MAX_PARAM_VALUE 256 /* bytes of one decoded query value */

struct http_param {
	const char *name; /* the route's own name for it (a static string) */
	char value[HTTP_MAX_PARAM_VALUE];
};

struct http_request {
	const char *method;              /* "GET" (also for HEAD), "POST", ... */
	const char *path;                /* the raw path, without the query, NUL-terminated */
	const bd_httpd_request *raw;     /* headers, peer, body */
	bool operator_cert;              /* a TLS client certificate verified against tls_client_ca: proves the operator role (subject in raw->tls_client_subject) */
	size_t nparams;
	struct http_param params[HTTP_MAX_PARAMS];
};

typedef int (*http_handler)(bd_httpd_response *res, const struct http_request *req, void *app);

struct http_route {
	const char *method;
	const char *path;                /* exact raw path, or a prefix when it ends with '/' */
	http_handler handler;
	const char *const *params;       /* query parameter names it takes (NULL-ended; NULL: none) */
	int blocking;                    /* may wait on something slow: runs in the worker pool, off the loops */
	/* NULL, or which raw paths of a blocking route do not wait (memory and RocksDB point
	 * reads only): those run on the loops. */
	bool (*on_loops)(const char *path, size_t len);
};

struct http_server;

struct http_options {
	const char *host;
	unsigned port;
	size_t max_body;
	unsigned loops, workers, max_connections, max_per_address;
	unsigned request_timeout_ms, idle_timeout_ms, write_timeout_ms;
	const char *tls_cert, *tls_key, *tls_client_ca; /* NULL: plain HTTP / no client certificates */
	const struct http_route *routes;
	size_t nroutes;
	void *app;
	struct metrics *metrics;         /* where to register the HTTP series; NULL: none */
};

int http_start(struct http_server **out, const struct http_options *opts) TL_MUST_USE;
/* The port actually bound (useful when opts->port was 0). */
unsigned http_port(const struct http_server *srv);
/* Stops accepting, lets handlers in flight finish, closes every connection, frees. */
void http_stop(struct http_server *srv);

/* Parses a raw query string (without the '?') against the names a route takes: name=value
 * pairs joined by '&', names exactly as listed (no escapes), values percent-decoded. An
 * unknown or repeated name, an empty pair, a missing '=', a bad escape, a decoded NUL or
 * invalid UTF-8, or a value over HTTP_MAX_PARAM_VALUE bytes is TL_E_INPUT. */
int http_query_parse(struct http_request *req, const char *query, size_t len, const char *const *allowed)
	TL_MUST_USE;

/* A request header (name matched without regard to case), or NULL. */
const char *http_header(const struct http_request *req, const char *name);

/* The client's address as text ("127.0.0.1", "::1"), into out (cap bytes); "unknown" if the
 * connection has none. Returns out. */
const char *http_client_addr(char *out, size_t cap, const struct http_request *req);

/* A query argument of the request (decoded), or NULL. */
const char *http_query(const struct http_request *req, const char *name);

/* Parses a query argument as a canonical unsigned decimal; TL_E_INPUT naming it otherwise
 * (TL_E_INPUT "missing" when absent). */
int http_query_u64(uint64_t *out, const struct http_request *req, const char *name) TL_MUST_USE;

/* Answers `doc` (a jansson document, whose reference this call takes, NULL included: a failed
 * json_pack is an out-of-memory error) as application/json: compact, keys in the order they
 * were set, one '\n' after it. */
int http_reply_json(bd_httpd_response *res, unsigned status, struct json_t *doc) TL_MUST_USE;

#endif
