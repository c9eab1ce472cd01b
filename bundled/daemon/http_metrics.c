/*
 * The HTTP series: requests and latency per route of the table (its pattern is the label,
 * never the raw path, so the series are bounded by the table), the server's own refusals by
 * reason, and connections. Every handle is registered at start, so counting an answer is a
 * few atomic additions.
 */
#include "http_metrics.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Status classes counted per route: 2xx..5xx (1xx is never a final answer). */
#define CLASSES 4

struct route_series {
	struct metric *by_class[CLASSES];
	struct metric *duration;
};

/* The server's own answers, without a parsed request: status -> reason. 429 and 503 there
 * are connection refusals, counted by bd_httpd_stats instead. */
static const struct {
	unsigned status;
	const char *reason;
} refusals[] = {
	{ 400, "malformed_request" },
	{ 408, "request_timeout" },
	{ 413, "body_too_large" },
	{ 414, "target_too_long" },
	{ 431, "head_too_large" },
	{ 501, "not_implemented" },
	{ 505, "http_version" },
};
#define NREFUSALS (sizeof(refusals) / sizeof(refusals[0]))

#define REFUSED_HELP "HTTP connections refused at accept, by the limit they hit."
#define NCONN_FIELDS 4 /* conn_fields below */

struct http_metrics;
struct conn_field {
	struct http_metrics *hm;
	size_t i;
};

struct http_metrics {
	const bd_httpd *httpd;
	struct conn_field conn[NCONN_FIELDS];
	size_t nroutes;
	struct route_series *routes; /* nroutes + 1: the last for requests no route took */
	struct metric *by_class[CLASSES];
	struct metric *refused[NREFUSALS + 1]; /* the last: any other status */
};

/* The server, once http_metrics_attach gave it: scrapes may come from other threads. */
static const bd_httpd *server_of(void *ctx)
{
	return __atomic_load_n(&((struct http_metrics *)ctx)->httpd, __ATOMIC_ACQUIRE);
}

static double read_open(void *ctx)
{
	const bd_httpd *h = server_of(ctx);

	return h != NULL ? bd_httpd_connections(h) : 0;
}

/* Connection counters of bd_httpd_stats, each one series. */
static const struct {
	const char *name, *help, *labels;
	size_t offset; /* of a uint64_t in bd_httpd_stats */
} conn_fields[] = {
	{ "bundled_http_connections_accepted_total", "HTTP connections accepted.", NULL,
		offsetof(bd_httpd_stats, accepted) },
	{ "bundled_http_connections_refused_total", REFUSED_HELP, "reason=\"max_connections\"",
		offsetof(bd_httpd_stats, refused_max_connections) },
	{ "bundled_http_connections_refused_total", REFUSED_HELP, "reason=\"max_per_address\"",
		offsetof(bd_httpd_stats, refused_max_per_address) },
	{ "bundled_http_connections_refused_total", REFUSED_HELP, "reason=\"out_of_descriptors\"",
		offsetof(bd_httpd_stats, shed_no_descriptors) },
};
_Static_assert(sizeof(conn_fields) / sizeof(conn_fields[0]) == NCONN_FIELDS, "one context per field");

static double read_conn_field(void *ctx)
{
	const struct conn_field *f = ctx;
	const bd_httpd *h = server_of(f->hm);
	bd_httpd_stats st = { 0 };
	uint64_t v;

	if (h != NULL)
		bd_httpd_stats_get(&st, h);
	memcpy(&v, (const char *)&st + conn_fields[f->i].offset, sizeof(v));
	return (double)v;
}

static int register_route(struct route_series *rs, struct metrics *m, const char *method, const char *pattern)
{
	char labels[METRICS_MAX_LABELS];
	int err;

	for (int c = 0; c < CLASSES; c++) {
		snprintf(labels, sizeof(labels), "route=\"%s\",method=\"%s\",code=\"%dxx\"", pattern, method, c + 2);
		if ((err = metrics_counter(&rs->by_class[c], m, "bundled_http_requests_total",
			     "Requests answered, by route pattern, method and status class.", labels)) != 0)
			return err;
	}
	snprintf(labels, sizeof(labels), "route=\"%s\",method=\"%s\"", pattern, method);
	return metrics_histogram(&rs->duration, m, "bundled_http_request_duration_seconds",
		"Time from a request's first byte to its answer being queued, by route pattern.", labels,
		metrics_latency_buckets, metrics_latency_nbuckets);
}

static int register_server(struct http_metrics *hm, struct metrics *m)
{
	char labels[METRICS_MAX_LABELS];
	int err;

	for (int c = 0; c < CLASSES; c++) {
		snprintf(labels, sizeof(labels), "class=\"%dxx\"", c + 2);
		if ((err = metrics_counter(&hm->by_class[c], m, "bundled_http_responses_total",
			     "HTTP responses by status class, the server's own answers included.", labels)) != 0)
			return err;
	}
	for (size_t i = 0; i <= NREFUSALS; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", i < NREFUSALS ? refusals[i].reason : "other");
		if ((err = metrics_counter(&hm->refused[i], m, "bundled_http_requests_refused_total",
			     "Requests the HTTP server answered itself before any route, by reason.", labels)) != 0)
			return err;
	}
	if ((err = metrics_sampled(m, METRIC_GAUGE, "bundled_http_connections_open", "HTTP connections open now.", NULL,
		     read_open, hm)) != 0)
		return err;
	for (size_t i = 0; i < NCONN_FIELDS; i++) {
		hm->conn[i] = (struct conn_field){ hm, i };
		if ((err = metrics_sampled(m, METRIC_COUNTER, conn_fields[i].name, conn_fields[i].help,
			     conn_fields[i].labels, read_conn_field, &hm->conn[i])) != 0)
			return err;
	}
	return 0;
}

int http_metrics_new(struct http_metrics **out, struct metrics *m, const struct http_route *routes, size_t nroutes)
{
	struct http_metrics *hm = calloc(1, sizeof(*hm));
	int err = 0;

	if (hm == NULL || (hm->routes = calloc(nroutes + 1, sizeof(*hm->routes))) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	hm->nroutes = nroutes;
	for (size_t i = 0; i < nroutes; i++)
		if ((err = register_route(&hm->routes[i], m, routes[i].method, routes[i].path)) != 0)
			goto out;
	if ((err = register_route(&hm->routes[nroutes], m, "any", "none")) != 0 || (err = register_server(hm, m)) != 0)
		goto out;
	*out = hm;
	hm = NULL;
out:
	http_metrics_free(hm);
	return err;
}

void http_metrics_attach(struct http_metrics *hm, const bd_httpd *httpd)
{
	__atomic_store_n(&hm->httpd, httpd, __ATOMIC_RELEASE);
}

void http_metrics_free(struct http_metrics *hm)
{
	if (hm == NULL)
		return;
	free(hm->routes);
	free(hm);
}

void http_metrics_count(struct http_metrics *hm, int parsed, size_t route, unsigned status, uint64_t micros)
{
	if (status < 200 || status >= 600)
		return;
	metric_inc(hm->by_class[status / 100 - 2]);
	if (parsed) {
		struct route_series *rs = &hm->routes[route < hm->nroutes ? route : hm->nroutes];

		metric_inc(rs->by_class[status / 100 - 2]);
		metric_observe(rs->duration, (double)micros / 1e6);
		return;
	}
	if (status == 429 || status == 503)
		return;
	for (size_t i = 0; i < NREFUSALS; i++)
		if (refusals[i].status == status) {
			metric_inc(hm->refused[i]);
			return;
		}
	metric_inc(hm->refused[NREFUSALS]);
}
