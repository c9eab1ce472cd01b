#include "daemon.h"
#include "routes.h"

static const char *const domain_reads[] = { "from", "to", "size", NULL }; /* .../diff only */
static const char *const proof_inclusion[] = { "index", "size", NULL };
static const char *const proof_consistency[] = { "old", "size", NULL };
static const char *const gateway[] = { "format", NULL };
static const char *const watch[] = { "domains", "after", NULL };

/* A path ending in '/' matches as a prefix; the handler parses the rest, raw. The log's reads
 * and the gateway run on the event loops: they are served from memory or by RocksDB point
 * reads that the block cache (and the page cache under it) answers in microseconds, as nginx
 * reads its files on its own loops; handing each of them to the worker pool cost 4-9 us of
 * CPU per request (25-50 %) in context switches (benchmarks/README.md, "HTTP"). The pool
 * keeps what can wait on something slower: the pin queue. A version's bytes (the federation
 * endpoint .../bundle and .../bundles/<seq>) run on the loops too: a hit in the version cache
 * and the file cache is memory only, and a miss is RocksDB point reads (the registry, which
 * takes no lock on reads, the entry, the DAG's few blocks); the rest of /v1/domains/ (diffs,
 * which may wait for one being made, proofs, entries) stays in the pool. */
const struct http_route daemon_routes[] = {
	{ "GET", "/healthz", route_healthz, NULL, 0, NULL },
	{ "GET", "/metrics", route_metrics, NULL, 0, NULL },
	{ "GET", "/checkpoint", route_checkpoint, NULL, 0, NULL },
	{ "GET", "/tile/", route_tile, NULL, 0, NULL },
	{ "GET", "/v1/log/entries/", route_log_entry, NULL, 0, NULL },
	{ "GET", "/v1/log/proof/inclusion", route_inclusion_proof, proof_inclusion, 0, NULL },
	{ "GET", "/v1/log/proof/consistency", route_consistency_proof, proof_consistency, 0, NULL },
	{ "GET", "/v1/pins", route_pins, NULL, 1, NULL },
	{ "GET", "/ipfs/", route_ipfs_block, gateway, 0, NULL },
	{ "GET", "/v1/log", route_log_info, NULL, 1, NULL },
	{ "GET", "/v1/domains", route_domains_list, NULL, 1, NULL },
	{ "GET", "/v1/domains/", route_domain_get, domain_reads, 1, route_domain_on_loops },
	{ "POST", "/v1/domains", route_domain_register, NULL, 1, NULL },
	{ "POST", "/v1/domains/", route_domain_post, NULL, 1, NULL },
	{ "GET", "/v1/watch", route_watch, watch, 1, NULL },
};

const size_t daemon_nroutes = sizeof(daemon_routes) / sizeof(daemon_routes[0]);
