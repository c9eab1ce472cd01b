/*
 * The state the HTTP handlers share: opened once at start, read by every loop and worker thread.
 * Each module behind it (log, block store, pin queue) does its own locking.
 */
#ifndef BUNDLED_DAEMON_H
#define BUNDLED_DAEMON_H

#include <time.h>

#include "auth.h"
#include "config.h"
#include "http.h"
#include "metrics.h"
#include "http_cache.h"
#include "translog/db.h"
#include "translog/key.h"
#include "translog/log.h"
#include "bundled/blockstore.h"
#include "bundled/ipfs.h"
#include "bundled/pinq.h"
#include "bundled/publish.h"
#include "bundled/registry.h"
#include "ratelimit.h"

struct daemon {
	struct config cfg;
	tl_db *db;
	tl_signer *key;
	tl_log *log;
	bd_blockstore *blocks;
	struct http_gzip_cache *gzip; /* entry bundles compressed once, for Accept-Encoding: gzip */
	struct http_file_cache *files; /* raw blocks in memory files, for sendfile */
	bd_ipfs *ipfs;   /* NULL when no IPFS API is configured */
	char ipfs_api_shown[CONFIG_MAX_STRING]; /* the API URL with any user-info redacted */
	bd_pinq *pins;   /* the durable pin queue; NULL when no IPFS API is configured */
	time_t started;
	bd_registry *registry;     /* derived from the log (bundled --rebuild-index) */
	bd_publisher *publisher;
	struct auth auth;          /* the operator's token */
	struct ratelimit *writes;  /* per-client limits on POST requests */
	struct metrics *metrics; /* every series /metrics shows; features register theirs here */
};

/* The route table of the daemon, in routes.c. */
extern const struct http_route daemon_routes[];
extern const size_t daemon_nroutes;

#endif
