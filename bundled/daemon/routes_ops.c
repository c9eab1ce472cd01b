/* Operator endpoints: liveness and Prometheus metrics. */
#include <string.h>

#include "daemon.h"
#include "mirrors.h"
#include "routes.h"

int route_healthz(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	char text[512];
	bool ok;

	if (d->replica == NULL)
		return bd_httpd_reply(res, 200, "text/plain; charset=utf-8", "ok\n", 3);
	/* A replica whose primary forked still serves its last verified state, but is not
	 * healthy: the operator must look at the evidence. */
	mirrors_health(&ok, text, sizeof(text), d);
	if (!ok) /* an error like every other: JSON */
		return route_reply_error(res, 503, "replica_halted", text);
	return bd_httpd_reply(res, 200, "text/plain; charset=utf-8", text, strlen(text));
}

/* Every registered series (metrics.h); the response body is the caller's to free. */
int route_metrics(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;

	res->status = 200;
	res->content_type = "text/plain; version=0.0.4; charset=utf-8";
	tl_buf_reset(&res->body);
	return metrics_render(&res->body, d->metrics);
}
