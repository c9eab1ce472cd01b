/*
 * The daemon's configuration: embedded defaults, then an optional JSON config file, then
 * command-line flags, each overriding the one before. Unknown keys in the file are errors,
 * so a typo never silently falls back to a default.
 */
#ifndef BUNDLED_DAEMON_CONFIG_H
#define BUNDLED_DAEMON_CONFIG_H

#include <stddef.h>

#include "config_http.h"
#include "config_mirror.h"
#include "config_witness.h"
#include "translog/error.h"

#define CONFIG_MAX_STRING 1024
#define CONFIG_MAX_FILE (64u << 10)

struct config {
	char listen_host[CONFIG_MAX_STRING]; /* numeric IPv4/IPv6 address */
	unsigned listen_port;
	char data_dir[CONFIG_MAX_STRING];
	char log_key[CONFIG_MAX_STRING]; /* private key file (created on first start if absent) or pkcs11: URI */
	char pkcs11_pin_file[CONFIG_MAX_STRING]; /* "" = $BUNDLED_PKCS11_PIN, if set */
	char log_name[CONFIG_MAX_STRING]; /* the log's origin and key name, used when creating the key */
	char ipfs_api[CONFIG_MAX_STRING]; /* "" = no IPFS pinning; never echoed with its user-info */
	char ipfs_api_auth_file[CONFIG_MAX_STRING]; /* "" = none; else the API's credentials */
	char log_level[16];
	struct config_http http;   /* the HTTP server's limits (config_http.c) */
	struct config_witness witness; /* witnesses asked to cosign (config_witness.c) */
	double write_rate;  /* writes a second per client address (0: unlimited) */
	double write_burst; /* writes a client may make at once */

	struct config_mirror mirror; /* read replica, git mirror (config_mirror.c) */
};

/* Fills in the embedded defaults: 127.0.0.1:8440, ./data, key data/log.key, no IPFS. */
void config_defaults(struct config *cfg);

/* Applies a JSON config file over what cfg holds. */
int config_load_file(struct config *cfg, const char *path) TL_MUST_USE;

/* Parses a rate or burst ("50", "0.5"): a finite number from 0 to 1e6. */
int config_set_rate(double *out, const char *text, const char *name) TL_MUST_USE;

/* Parses "host:port" or "[v6]:port" into listen_host and listen_port. */
int config_set_listen(struct config *cfg, const char *addr) TL_MUST_USE;

/* Fills derived defaults (the key path inside data_dir), checks ranges, and applies the
 * log level, so that every line logged after parsing honours it. */
int config_finish(struct config *cfg) TL_MUST_USE;

#endif
