#include "http.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logging.h"
#include "translog/text.h"

struct http_server {
	struct MHD_Daemon *mhd;
	struct http_options opts;
};

/* Per-request state kept by libmicrohttpd between calls of the access handler. */
struct request_state {
	tl_buf body;
};

static uint64_t answered[6];

void http_counts(uint64_t by_class[6])
{
	for (int i = 0; i < 6; i++)
		by_class[i] = __atomic_load_n(&answered[i], __ATOMIC_RELAXED);
}

const char *http_query(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_client_addr(char *out, size_t cap, const struct http_request *req)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = info != NULL ? info->client_addr : NULL;
	const void *addr = NULL;

	if (sa != NULL && sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa != NULL && sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (addr == NULL || inet_ntop(sa->sa_family, addr, out, (socklen_t)cap) == NULL)
		snprintf(out, cap, "unknown");
	return out;
}

int http_query_u64(uint64_t *out, const struct http_request *req, const char *name)
{
	const char *v = http_query(req, name);

	if (v == NULL)
		return tl_error_set(TL_E_INPUT, "missing query parameter \"%s\"", name);
	if (tl_parse_u64(out, v, strlen(v)) != 0)
		return tl_error_set(TL_E_INPUT, "query parameter \"%s\" is not an unsigned decimal", name);
	return 0;
}

int http_reply(struct http_response *res, unsigned status, const char *type, const void *data, size_t len)
{
	res->status = status;
	res->content_type = type;
	tl_buf_reset(&res->body);
	return tl_buf_append(&res->body, data, len);
}

int http_add_header(struct http_response *res, const char *name, const char *fmt, ...)
{
	struct http_header *h;
	va_list ap;

	if (res->nheaders == HTTP_MAX_HEADERS)
		return tl_error_set(TL_E_INTERNAL, "too many response headers");
	h = &res->headers[res->nheaders++];
	h->name = name;
	va_start(ap, fmt);
	vsnprintf(h->value, sizeof(h->value), fmt, ap);
	va_end(ap);
	return 0;
}

int http_reply_json(struct http_response *res, unsigned status, json_t *doc)
{
	char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	int err;

	json_decref(doc);
	if (text == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory writing a JSON response");
	if ((err = http_reply(res, status, "application/json", text, strlen(text))) == 0)
		err = tl_buf_append(&res->body, "\n", 1);
	free(text);
	return err;
}

/* Without the memory for even this, the caller drops the connection. */
static int error_body(struct http_response *res, int err)
{
	const char *message = tl_error_message()[0] ? tl_error_message() : tl_err_name(err);

	res->nheaders = 0;
	return http_reply_json(res, (unsigned)tl_err_http_status(err),
		json_pack("{s:{s:s,s:s}}", "error", "code", tl_err_name(err), "message", message));
}

static const struct http_route *find_route(const struct http_server *srv, const char *method, const char *path,
	int *method_mismatch)
{
	*method_mismatch = 0;
	for (size_t i = 0; i < srv->opts.nroutes; i++) {
		const struct http_route *r = &srv->opts.routes[i];
		size_t n = strlen(r->path);
		int match = r->path[n - 1] == '/' ? strncmp(path, r->path, n) == 0 : strcmp(path, r->path) == 0;

		if (!match)
			continue;
		if (strcmp(method, r->method) == 0)
			return r;
		*method_mismatch = 1;
	}
	return NULL;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct http_response *res)
{
	struct MHD_Response *mr = MHD_create_response_from_buffer(res->body.len, res->body.data,
		MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (mr == NULL)
		return MHD_NO;
	if (res->content_type)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
	MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
	for (size_t i = 0; i < res->nheaders; i++)
		MHD_add_response_header(mr, res->headers[i].name, res->headers[i].value);
	rc = MHD_queue_response(conn, res->status, mr);
	MHD_destroy_response(mr);
	if (res->status >= 100 && res->status < 600)
		__atomic_add_fetch(&answered[res->status / 100], 1, __ATOMIC_RELAXED);
	return rc;
}

/* Answers 413 at once; libmicrohttpd then closes the connection instead of reading the rest. */
static enum MHD_Result reply_too_large(const struct http_server *srv, struct MHD_Connection *conn)
{
	struct http_response res = { 0, NULL, tl_buf_make(4096), 0, { { NULL, { 0 } } } };
	enum MHD_Result rc = MHD_NO;

	tl_error_set(TL_E_INPUT, "request body larger than %zu bytes", srv->opts.max_body);
	if (error_body(&res, TL_E_INPUT) == 0) {
		res.status = 413;
		rc = send_response(conn, &res);
	}
	tl_buf_free(&res.body);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct request_state *st = *con_cls;
	struct http_response res = { 200, NULL, tl_buf_make(64u << 20), 0, { { NULL, { 0 } } } };
	struct http_request req = { method, url, conn, NULL, 0 };
	const struct http_route *route;
	char safe_url[256], safe_method[32];
	int method_mismatch, err;
	enum MHD_Result rc;

	if (st == NULL) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		uint64_t declared;

		if ((st = calloc(1, sizeof(*st))) == NULL)
			return MHD_NO;
		st->body = tl_buf_make(srv->opts.max_body);
		*con_cls = st;
		/* Refuse a declared oversize body before reading a byte of it. */
		if (cl != NULL && (tl_parse_u64(&declared, cl, strlen(cl)) != 0 || declared > srv->opts.max_body))
			return reply_too_large(srv, conn);
		return MHD_YES;
	}
	if (*upload_size != 0) {
		/* A body without a declared length is refused once it passes the cap. */
		if (tl_buf_append(&st->body, upload_data, *upload_size) != 0)
			return reply_too_large(srv, conn);
		*upload_size = 0;
		return MHD_YES;
	}

	req.body = st->body.data;
	req.body_len = st->body.len;
	route = find_route(srv, method, url, &method_mismatch);
	tl_error_clear();
	if (route != NULL)
		err = route->handler(&res, &req, srv->opts.app);
	else if (method_mismatch)
		err = tl_error_set(TL_E_INPUT, "method %s not allowed on %s", method, url);
	else
		err = tl_error_set(TL_E_NOTFOUND, "no such endpoint: %s", url);
	tl_text_printable(safe_url, sizeof(safe_url), url, strlen(url));
	tl_text_printable(safe_method, sizeof(safe_method), method, strlen(method));
	if (err) {
		if (tl_err_http_status(err) >= 500)
			log_at(LOG_ERROR, "request failed", "method=%s path=\"%s\" error=\"%s\"", safe_method, safe_url,
				tl_error_message());
		if (error_body(&res, err) != 0) {
			rc = MHD_NO;
			goto out;
		}
		if (route == NULL && method_mismatch)
			res.status = 405;
	}
	rc = send_response(conn, &res);
	log_at(LOG_DEBUG, "request", "method=%s path=\"%s\" status=%u bytes=%zu", safe_method, safe_url, res.status,
		res.body.len);
out:
	tl_buf_free(&res.body);
	return rc;
}

/* libmicrohttpd's own diagnostics (clients that hang up, and the like) go to our log. */
static void on_mhd_message(void *cls, const char *fmt, va_list ap)
{
	char text[256], safe[256];

	vsnprintf(text, sizeof(text), fmt, ap);
	tl_text_printable(safe, sizeof(safe), text, strlen(text));
	log_at(LOG_DEBUG, "http server", "detail=\"%s\"", safe);
}

static void on_complete(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct request_state *st = *con_cls;

	if (st != NULL) {
		tl_buf_free(&st->body);
		free(st);
		*con_cls = NULL;
	}
}

int http_start(struct http_server **out, const struct http_options *opts)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;

	int err = 0;

	if (srv == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	srv->opts = *opts;
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, opts->host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)opts->port);
		sslen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, opts->host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)opts->port);
		sslen = sizeof(struct sockaddr_in6);
		flags |= MHD_USE_IPv6;
	} else {
		err = tl_error_set(TL_E_INPUT, "listen host \"%s\" is not a numeric IPv4 or IPv6 address", opts->host);
		goto out;
	}
	(void)sslen;
	srv->mhd = MHD_start_daemon(flags, (uint16_t)opts->port, NULL, NULL, on_request, srv,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, opts->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, opts->connection_timeout,
		MHD_OPTION_NOTIFY_COMPLETED, on_complete, srv,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_message, srv,
		MHD_OPTION_END);
	if (srv->mhd == NULL) {
		err = tl_error_set(TL_E_IO, "cannot listen on %s:%u (in use, or not an address of this host)",
			opts->host, opts->port);
		goto out;
	}
	*out = srv;
	srv = NULL;
out:
	free(srv);
	return err;
}

unsigned http_port(const struct http_server *srv)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : 0;
}

void http_stop(struct http_server *srv)
{
	if (srv == NULL)
		return;
	MHD_stop_daemon(srv->mhd);
	free(srv);
}
