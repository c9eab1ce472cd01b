/*
 * The HTTP series: requests and latency per route of the table (its pattern is the label,
 * never the raw path, so the series are bounded by the table), the server's own refusals by
 * reason, and connections. Every handle is registered at start, so counting an answer is a
 * few atomic additions.
 */
#include "http_metrics.h"

#include <stdio.h>
#include <stdlib.h>

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

struct http_metrics {
	const bd_httpd *httpd;
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

static bd_httpd_stats stats_of(void *ctx)
{
	const bd_httpd *h = server_of(ctx);
	bd_httpd_stats st = { 0 };

	if (h != NULL)
		bd_httpd_stats_get(&st, h);
	return st;
}

static double read_accepted(void *ctx)
{
	return (double)stats_of(ctx).accepted;
}

static double read_refused_max(void *ctx)
{
	return (double)stats_of(ctx).refused_max_connections;
}

static double read_refused_per_address(void *ctx)
{
	return (double)stats_of(ctx).refused_max_per_address;
}

static double read_shed(void *ctx)
{
	return (double)stats_of(ctx).shed_no_descriptors;
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
	static const struct {
		const char *reason;
		double (*read)(void *ctx);
	} conns[] = {
		{ "max_connections", read_refused_max },
		{ "max_per_address", read_refused_per_address },
		{ "out_of_descriptors", read_shed },
	};
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
		     read_open, hm)) != 0 ||
	    (err = metrics_sampled(m, METRIC_COUNTER, "bundled_http_connections_accepted_total",
		     "HTTP connections accepted.", NULL, read_accepted, hm)) != 0)
		return err;
	for (size_t i = 0; i < sizeof(conns) / sizeof(conns[0]); i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", conns[i].reason);
		if ((err = metrics_sampled(m, METRIC_COUNTER, "bundled_http_connections_refused_total",
			     "HTTP connections refused at accept, by the limit they hit.", labels, conns[i].read, hm)) != 0)
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
