/* The daemon's HTTP handlers, grouped by what they serve. */
#ifndef BUNDLED_DAEMON_ROUTES_H
#define BUNDLED_DAEMON_ROUTES_H

#include "http.h"

/* routes_ops.c */
int route_healthz(bd_httpd_response *res, const struct http_request *req, void *app);
int route_metrics(bd_httpd_response *res, const struct http_request *req, void *app);

/* routes_log.c: C2SP tlog-tiles and the JSON proof API */
int route_checkpoint(bd_httpd_response *res, const struct http_request *req, void *app);
int route_tile(bd_httpd_response *res, const struct http_request *req, void *app);
int route_log_entry(bd_httpd_response *res, const struct http_request *req, void *app);
int route_inclusion_proof(bd_httpd_response *res, const struct http_request *req, void *app);
int route_consistency_proof(bd_httpd_response *res, const struct http_request *req, void *app);

/* routes_pins.c: the pin queue */
int route_pins(bd_httpd_response *res, const struct http_request *req, void *app);

/* routes_ipfs.c: the trustless gateway */
int route_ipfs_block(bd_httpd_response *res, const struct http_request *req, void *app);

#endif
