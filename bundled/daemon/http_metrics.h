/* The HTTP server's series in the metric registry (http_metrics.c), fed by http.c. */
#ifndef BUNDLED_DAEMON_HTTP_METRICS_H
#define BUNDLED_DAEMON_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "metrics.h"

struct http_metrics;

/* Registers the series of every route of the table (and of requests no route took), of the
 * server's own refusals and of its connections. */
int http_metrics_new(struct http_metrics **out, struct metrics *m, const struct http_route *routes, size_t nroutes)
	TL_MUST_USE;
/* Gives the started server whose connection counts the scrapes read (0 until then). The
 * registry must not be rendered once the server is stopped. */
void http_metrics_attach(struct http_metrics *hm, const bd_httpd *httpd);
void http_metrics_free(struct http_metrics *hm);

/* Counts one answer: `parsed` when the request was parsed (and so routed: `route` is its
 * index in the table, or nroutes when none took it), otherwise one of the server's own. */
void http_metrics_count(struct http_metrics *hm, int parsed, size_t route, unsigned status, uint64_t micros);

#endif
