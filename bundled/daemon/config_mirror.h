/*
 * The mirrors in the daemon's configuration (read replica, git mirror): JSON keys and flags
 * of their own, kept apart from config.c as config_http.c keeps the HTTP server's.
 */
#ifndef BUNDLED_DAEMON_CONFIG_MIRROR_H
#define BUNDLED_DAEMON_CONFIG_MIRROR_H

#include <getopt.h>
#include <stdbool.h>

#include "translog/error.h"

#define CONFIG_MIRROR_MAX_STRING 1024

struct json_t;

struct config_mirror {
	/* A read replica of this primary's base URL ("" = the daemon is a primary), whose log
	 * key (a verifier key, as GET /v1/log shows it) signs what it follows. */
	char replica_of[CONFIG_MIRROR_MAX_STRING];
	char replica_log_key[CONFIG_MIRROR_MAX_STRING];
	/* PEM file of the CA of an https primary ("" = the system's). */
	char replica_ca_file[CONFIG_MIRROR_MAX_STRING];
	unsigned replica_interval_ms; /* between rounds of the follower */
	bool replica_watch;           /* a round on each watch event of the primary, too */
	/* The git mirror's bare repository ("" = none). */
	char git_mirror[CONFIG_MIRROR_MAX_STRING];
};

void config_mirror_defaults(struct config_mirror *m);

/* Applies one key of the JSON config file: 0 if it was a mirror key and is valid, 1 if it
 * is not one, or TL_E_INPUT. */
int config_mirror_key(struct config_mirror *m, const char *key, struct json_t *value) TL_MUST_USE;

/* The flags: getopt_long entries whose `val` is CONFIG_MIRROR_FLAG + index, ended by a zero
 * entry; config_mirror_flag applies one. */
#define CONFIG_MIRROR_FLAG 2048
extern const struct option config_mirror_flags[];
int config_mirror_flag(struct config_mirror *m, int val, const char *arg) TL_MUST_USE;

extern const char config_mirror_usage[];

/* Checks the values together. */
int config_mirror_finish(const struct config_mirror *m) TL_MUST_USE;

#endif
