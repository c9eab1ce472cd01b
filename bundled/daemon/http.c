#include "http.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "http_metrics.h"
#include "logging.h"
#include "translog/text.h"

struct http_server {
	bd_httpd *httpd;
	struct http_options opts;
	struct http_metrics *metrics; /* NULL when opts.metrics is */
};

int http_reply_json(bd_httpd_response *res, unsigned status, json_t *doc)
{
	char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	int err;

	json_decref(doc);
	if (text == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory writing a JSON response");
	if ((err = bd_httpd_reply(res, status, "application/json", text, strlen(text))) == 0)
		err = tl_buf_append(&res->body, "\n", 1);
	free(text);
	return err;
}

static bool route_matches(const struct http_route *r, const char *path, size_t len)
{
	size_t n = strlen(r->path);

	return r->path[n - 1] == '/' ? len > n && memcmp(path, r->path, n) == 0 :
				       len == n && memcmp(path, r->path, n) == 0;
}

/* The route for method and path; NULL with *allow listing the methods the path takes
 * ("" when no route has the path). */
static const struct http_route *find_route(const struct http_options *o, const char *method, const char *path,
	size_t len, char *allow, size_t allow_cap)
{
	size_t used = 0;

	allow[0] = '\0';
	for (size_t i = 0; i < o->nroutes; i++) {
		const struct http_route *r = &o->routes[i];

		if (!route_matches(r, path, len))
			continue;
		if (strcmp(method, r->method) == 0)
			return r;
		used += (size_t)snprintf(allow + used, allow_cap - used, "%s%s%s", used ? ", " : "", r->method,
			strcmp(r->method, "GET") == 0 ? ", HEAD" : "");
		if (used >= allow_cap)
			used = allow_cap - 1;
	}
	return NULL;
}

static int on_request(bd_httpd_response *res, const bd_httpd_request *raw, void *ctx)
{
	struct http_server *srv = ctx;
	struct http_request req = { .method = raw->method, .raw = raw, .operator_cert = raw->tls_client_verified };
	char path[BD_HTTPD_MAX_TARGET + 1], allow[64];
	const struct http_route *route;
	int err;

	memcpy(path, raw->target, raw->path_len);
	path[raw->path_len] = '\0';
	req.path = path;
	route = find_route(&srv->opts, raw->method, path, raw->path_len, allow, sizeof(allow));
	if (route == NULL && allow[0] != '\0') {
		tl_error_set(TL_E_INPUT, "method %s not allowed on %s (allowed: %s)", raw->method, path, allow);
		bd_httpd_reply_error(res, TL_E_INPUT);
		res->status = 405;
		return bd_httpd_add_header(res, "Allow", "%s", allow);
	}
	if (route == NULL)
		return tl_error_set(TL_E_NOTFOUND, "no such endpoint: %s", path);
	if (req.operator_cert && log_enabled(LOG_DEBUG)) {
		char subject[sizeof(raw->tls_client_subject) + 1];

		tl_text_printable(subject, sizeof(subject), raw->tls_client_subject, strlen(raw->tls_client_subject));
		log_at(LOG_DEBUG, "operator client certificate", "peer=%s subject=\"%s\" target=\"%s\"", raw->peer,
			subject, path);
	}
	if (raw->path_len < raw->target_len) {
		err = http_query_parse(&req, raw->target + raw->path_len + 1, raw->target_len - raw->path_len - 1,
			route->params);
		if (err != 0)
			return err;
	}
	if ((err = route->handler(res, &req, srv->opts.app)) != 0 && tl_err_http_status(err) >= 500) {
		char safe[256], message[512];

		tl_text_printable(safe, sizeof(safe), raw->target, raw->target_len);
		tl_text_printable(message, sizeof(message), tl_error_message(), strlen(tl_error_message()));
		log_at(LOG_ERROR, "request failed", "method=%s target=\"%s\" error=\"%s\"", raw->method, safe, message);
	}
	return err;
}

static bool is_blocking(const bd_httpd_request *raw, void *ctx)
{
	struct http_server *srv = ctx;
	char allow[64];
	const struct http_route *r = find_route(&srv->opts, raw->method, raw->target, raw->path_len, allow,
		sizeof(allow));

	return r != NULL && r->blocking && (r->on_loops == NULL || !r->on_loops(raw->target, raw->path_len));
}

/* Every answer, the server's own included: counted, and one debug line with the client's
 * bytes made printable. */
static void on_answer(const bd_httpd_request *req, const bd_httpd_response *res, uint64_t micros, void *ctx)
{
	struct http_server *srv = ctx;
	char target[256];

	if (srv->metrics != NULL) {
		char allow[64];
		const struct http_route *r = req == NULL ? NULL :
			find_route(&srv->opts, req->method, req->target, req->path_len, allow, sizeof(allow));

		http_metrics_count(srv->metrics, req != NULL, r != NULL ? (size_t)(r - srv->opts.routes) : srv->opts.nroutes,
			res->status, micros);
	}
	if (!log_enabled(LOG_DEBUG))
		return;
	if (req != NULL)
		tl_text_printable(target, sizeof(target), req->target, req->target_len);
	log_at(LOG_DEBUG, "request", "peer=%s method=%s target=\"%s\" status=%u bytes=%zu us=%llu",
		req ? req->peer : "-", req ? (req->head ? "HEAD" : req->method) : "-", req ? target : "-", res->status,
		res->borrowed != NULL ? res->borrowed_len : res->body.len, (unsigned long long)micros);
}

/* Room for max_connections descriptors besides the database's: the soft limit is raised
 * as far as the hard one allows, and an operator told when that is not enough. */
static void raise_nofile(unsigned max_connections)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)max_connections + 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		log_at(LOG_WARN, "the descriptor limit is below max_connections; raise it (ulimit -n)",
			"limit=%llu max_connections=%u", (unsigned long long)rl.rlim_cur, max_connections);
}

int http_start(struct http_server **out, const struct http_options *opts)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	bd_httpd_options o;
	int err;

	if (srv == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	srv->opts = *opts;
	raise_nofile(opts->max_connections);
	o = (bd_httpd_options){
		.host = opts->host,
		.port = opts->port,
		.loops = opts->loops,
		.workers = opts->workers,
		.max_connections = opts->max_connections,
		.max_per_address = opts->max_per_address,
		.request_timeout_ms = opts->request_timeout_ms,
		.idle_timeout_ms = opts->idle_timeout_ms,
		.write_timeout_ms = opts->write_timeout_ms,
		.max_body = opts->max_body,
		.tls_cert = opts->tls_cert,
		.tls_key = opts->tls_key,
		.tls_client_ca = opts->tls_client_ca,
		.handler = on_request,
		.blocking = is_blocking,
		.observe = on_answer,
		.ctx = srv,
	};
	if ((opts->metrics != NULL &&
		    (err = http_metrics_new(&srv->metrics, opts->metrics, opts->routes, opts->nroutes)) != 0) ||
	    (err = bd_httpd_start(&srv->httpd, &o)) != 0) {
		http_metrics_free(srv->metrics);
		free(srv);
		return err;
	}
	if (srv->metrics != NULL)
		http_metrics_attach(srv->metrics, srv->httpd);
	*out = srv;
	return 0;
}

unsigned http_port(const struct http_server *srv)
{
	return bd_httpd_port(srv->httpd);
}

void http_stop(struct http_server *srv)
{
	if (srv == NULL)
		return;
	bd_httpd_stop(srv->httpd);
	http_metrics_free(srv->metrics);
	free(srv);
}

const char *http_header(const struct http_request *req, const char *name)
{
	const bd_httpd_field *f = bd_httpd_field_get(req->raw, name);
	static _Thread_local char value[1024];

	if (f == NULL || f->value_len >= sizeof(value))
		return NULL;
	memcpy(value, f->value, f->value_len);
	value[f->value_len] = '\0';
	return value;
}

const char *http_client_addr(char *out, size_t cap, const struct http_request *req)
{
	snprintf(out, cap, "%s", req->raw->peer[0] != '\0' ? req->raw->peer : "unknown");
	return out;
}
