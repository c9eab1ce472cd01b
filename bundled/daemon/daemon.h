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
#include "publish_metrics.h"
#include "translog/db.h"
#include "translog/key.h"
#include "translog/log.h"
#include "bundled/blockstore.h"
#include "bundled/gitmirror.h"
#include "bundled/cosigning.h"
#include "bundled/ipfs.h"
#include "bundled/pinq.h"
#include "bundled/publish.h"
#include "bundled/registry.h"
#include "bundled/replica.h"
#include "bundled/tiledir.h"
#include "ratelimit.h"
#include "version_cache.h"
#include "watch.h"

struct daemon {
	struct config cfg;
	tl_db *db;
	tl_signer *key;
	tl_log *log;
	bd_blockstore *blocks;
	struct http_file_cache *files; /* raw blocks and versions' bytes in memory files, for sendfile */
	/* Full entry bundles, identity ("<index>") and gzip'ed once ("<index>.gz"), in memory
	 * files of their own (cfg.http.bundle_cache), so they neither evict blocks nor are evicted
	 * by them. */
	struct http_file_cache *bundles;
	struct version_cache *versions; /* what version lookups learned (version_cache.h) */
	bd_ipfs *ipfs;   /* NULL when no IPFS API is configured */
	char ipfs_api_shown[CONFIG_MAX_STRING]; /* the API URL with any user-info redacted */
	bd_pinq *pins;   /* the durable pin queue; NULL when no IPFS API is configured */
	time_t started;
	bd_registry *registry;     /* derived from the log (bundled --rebuild-index) */
	bd_publisher *publisher;
	struct auth auth;          /* the operator's token */
	struct ratelimit *writes;  /* per-client limits on POST requests */
	struct diff_cache *diffs;  /* diffs between versions, made once (diff_cache.h) */
	struct metrics *metrics; /* every series /metrics shows; features register theirs here */
	struct publish_metrics publishes; /* the publish routes' answers, counted (publish_metrics.h) */

	/* Mirrors (mirrors.c). */
	tl_verifier *log_vkey;     /* the log's verifier key: the signer's, or a replica's primary's */
	bd_replica *replica;       /* NULL unless --replica-of */
	char replica_evidence[CONFIG_MAX_STRING + 32];
	int replica_last_err;      /* the follower's last round, for logging changes only */
	int replica_watch_state;   /* its watch of the primary: 0 not yet, 1 up, -1 down (logging) */
	bd_gitmirror *git;         /* NULL unless --git-mirror */
	bd_tiledir *tiles;         /* the log's full tiles on IPFS; NULL without --ipfs-api */
	char tiles_state[CONFIG_MAX_STRING + 32];
	/* The witness policy (witnesses.c); NULL without witnesses. The checkpoint every route
	 * serves comes from bd_cosigning_checkpoint. */
	bd_cosigning *cosigning;
	tl_verifier *witness_keys[CONFIG_MAX_WITNESSES];
	struct watch_hub *watch;   /* the /v1/watch streams; told of every committed version */
};

/* The route table of the daemon, in routes.c. */
extern const struct http_route daemon_routes[];
extern const size_t daemon_nroutes;

#endif
