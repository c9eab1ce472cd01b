#include "daemon.h"
#include "routes.h"

/* A path ending in '/' matches as a prefix; the handler parses the rest. */
const struct http_route daemon_routes[] = {
	{ "GET", "/healthz", route_healthz, false },
	{ "GET", "/metrics", route_metrics, false },
	{ "GET", "/checkpoint", route_checkpoint, false },
	{ "GET", "/tile/", route_tile, false },
	{ "GET", "/v1/log/entries/", route_log_entry, false },
	{ "GET", "/v1/log/proof/inclusion", route_inclusion_proof, false },
	{ "GET", "/v1/log/proof/consistency", route_consistency_proof, false },
	{ "GET", "/v1/pins", route_pins, false },
	{ "GET", "/ipfs/", route_ipfs_block, false },
	{ "GET", "/v1/log", route_log_info, false },
	{ "GET", "/v1/domains", route_domains_list, false },
	{ "GET", "/v1/domains/", route_domain_get, false },
	{ "POST", "/v1/domains", route_domain_register, true },
	{ "POST", "/v1/domains/", route_domain_post, true },
};

const size_t daemon_nroutes = sizeof(daemon_routes) / sizeof(daemon_routes[0]);
