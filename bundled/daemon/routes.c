#include "daemon.h"
#include "routes.h"

/* A path ending in '/' matches as a prefix; the handler parses the rest. */
const struct http_route daemon_routes[] = {
	{ "GET", "/healthz", route_healthz },
	{ "GET", "/metrics", route_metrics },
	{ "GET", "/checkpoint", route_checkpoint },
	{ "GET", "/tile/", route_tile },
	{ "GET", "/v1/log/entries/", route_log_entry },
	{ "GET", "/v1/log/proof/inclusion", route_inclusion_proof },
	{ "GET", "/v1/log/proof/consistency", route_consistency_proof },
	{ "GET", "/v1/pins", route_pins },
	{ "GET", "/ipfs/", route_ipfs_block },
};

const size_t daemon_nroutes = sizeof(daemon_routes) / sizeof(daemon_routes[0]);
