/*
 * The HTTP server's limits in the daemon's configuration: JSON keys and flags of their own,
 * kept apart from the rest of config.c. Timeouts are seconds (fractions allowed, to the
 * millisecond) in the file and on the command line.
 */
#ifndef BUNDLED_DAEMON_CONFIG_HTTP_H
#define BUNDLED_DAEMON_CONFIG_HTTP_H

#include <getopt.h>
#include <stddef.h>

#include "translog/error.h"

#define CONFIG_HTTP_MAX_PATH 1024

/* Memory for full entry bundles in memory files (routes_log.c): the default holds ~1,000
 * bundles of ~100 KB with their gzip forms, the recent ones readers follow; the minimum keeps
 * the largest bundle the daemon's entries make (256 x 8 KiB, 2 MiB) within a quarter of one of
 * its two files (http_cache.h), so every bundle and its gzip form are kept. */
#define CONFIG_HTTP_DEFAULT_BUNDLE_CACHE ((size_t)128 << 20)
#define CONFIG_HTTP_MIN_BUNDLE_CACHE ((size_t)32 << 20)
#define CONFIG_HTTP_MAX_BUNDLE_CACHE (64ull << 30)

struct json_t;

struct config_http {
	unsigned loops;              /* event-loop threads */
	unsigned workers;            /* threads for handlers that read storage */
	unsigned max_connections;    /* overall: one more is answered 503 */
	unsigned max_per_address;    /* per client address: one more is answered 429 */
	unsigned request_timeout_ms; /* a whole request (head and body) from its first byte: 408 */
	unsigned idle_timeout_ms;    /* a keep-alive connection between requests */
	unsigned write_timeout_ms;   /* a response the client takes nothing of */
	size_t max_body;             /* request bodies over this are refused (413) */
	unsigned watch_max;          /* open /v1/watch streams overall: one more is answered 503 */
	unsigned watch_max_per_client; /* per client address: one more is answered 429 */
	unsigned watch_keepalive_ms; /* a keep-alive comment on every stream this often */
	size_t bundle_cache;         /* bytes of entry bundles kept in memory files */
	/* TLS: PEM files, "" = none (plain HTTP). A verified client certificate from the client
	 * CA proves the operator role. */
	char tls_cert[CONFIG_HTTP_MAX_PATH];
	char tls_key[CONFIG_HTTP_MAX_PATH];
	char tls_client_ca[CONFIG_HTTP_MAX_PATH];
};

void config_http_defaults(struct config_http *h);

/* Applies one key of the JSON config file: 0 if it was an HTTP key and is valid, 1 if it is
 * not an HTTP key, or TL_E_INPUT. */
int config_http_key(struct config_http *h, const char *key, struct json_t *value) TL_MUST_USE;

/* The flags (--loops N, --request-timeout SECONDS, ...): getopt_long entries whose `val` is
 * CONFIG_HTTP_FLAG + index, ended by a zero entry; config_http_flag applies one. */
#define CONFIG_HTTP_FLAG 1024
extern const struct option config_http_flags[];
int config_http_flag(struct config_http *h, int val, const char *arg) TL_MUST_USE;

/* The --help lines of the flags and keys. */
extern const char config_http_usage[];

/* Checks the values together. */
int config_http_finish(const struct config_http *h) TL_MUST_USE;

#endif
