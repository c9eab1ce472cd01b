/* The daemon's HTTP handlers, grouped by what they serve. */
#ifndef BUNDLED_DAEMON_ROUTES_H
#define BUNDLED_DAEMON_ROUTES_H

#include <stdbool.h>
#include <stdint.h>

#include "bundled/entry.h"
#include "http.h"

struct daemon;

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

/* routes_domains.c: the log's identity, the registry, and every published version */
int route_log_info(bd_httpd_response *res, const struct http_request *req, void *app);
int route_domains_list(bd_httpd_response *res, const struct http_request *req, void *app);
int route_domain_get(bd_httpd_response *res, const struct http_request *req, void *app);
/* Whether a raw path under /v1/domains/ is a version's bytes (.../bundle, .../bundles/<seq>):
 * answered from memory or by RocksDB point reads, so on the event loops (routes.c). */
bool route_domain_on_loops(const char *path, size_t len);

/* routes_publish.c: registrations, key changes, versions and revocations */
int route_domain_register(bd_httpd_response *res, const struct http_request *req, void *app);
int route_domain_post(bd_httpd_response *res, const struct http_request *req, void *app);

/* routes_watch.c: Server-Sent Events of new versions and revocations */
int route_watch(bd_httpd_response *res, const struct http_request *req, void *app);

/* A path under /v1/domains/: the trust domain (checked as SPIFFE says) and what follows it
 * ("" or "/bundle", "/bundles/7/proof", ...). */
struct domain_path {
	char td[BD_MAX_DOMAIN + 1];
	const char *rest;
};
int domain_path_parse(struct domain_path *out, const char *path) TL_MUST_USE;

/* routes_log.c: {"<first>":a,"size":size,"hashes":["base64",...]}: a proof inside a JSON answer; NULL when
 * out of memory. */
struct json_t *route_proof_json(const char *first, uint64_t a, uint64_t size, const tl_hash *hashes, size_t n);

/* GET /v1/domains/<td>/diff (routes_diff.c), dispatched by route_domain_get. */
int route_domain_diff(bd_httpd_response *res, const struct http_request *req, struct daemon *d, const char *td)
	TL_MUST_USE;

/* An error answer that no tl_err category names (415, 429): {"error":{"code","message"}}. */
int route_reply_error(bd_httpd_response *res, unsigned status, const char *code, const char *message) TL_MUST_USE;

#endif
