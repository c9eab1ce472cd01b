/*
 * The daemon's mirrors: a read replica's follower (bundled/replica.h) with its refusal of
 * writes, health and metrics, and the git mirror. Kept out of main.c: main calls these at
 * the points of its start and stop.
 */
#ifndef BUNDLED_DAEMON_MIRRORS_H
#define BUNDLED_DAEMON_MIRRORS_H

#include <stdbool.h>

#include "daemon.h"

/* Whether the daemon is a read replica (--replica-of). */
bool mirrors_is_replica(const struct daemon *d);

/* The log's verifier key into d->log_vkey: the replica's configured key, or the signer's. */
int mirrors_open_log_key(struct daemon *d) TL_MUST_USE;

/* Makes the replica's follower (after the log, blocks and registry are open). */
int mirrors_open(struct daemon *d) TL_MUST_USE;

/* Registers the mirrors' series in /metrics. */
int mirrors_metrics_register(struct daemon *d) TL_MUST_USE;

/* Starts the follower thread (once the server listens). */
int mirrors_start(struct daemon *d) TL_MUST_USE;

/* Stops the replica's follower, which tells the watch hub and the diff cache of the
 * versions it takes: before they are freed. Harmless when there is none or it stopped. */
void mirrors_stop(struct daemon *d);

/* Stops and frees what mirrors_open made. */
void mirrors_close(struct daemon *d);

/* A replica's answer to a write: 503 {"error":{"code":"read_only_replica","message":
 * "read-only replica of URL: send writes to the primary"}}. */
int mirrors_refuse_write(bd_httpd_response *res, const struct daemon *d) TL_MUST_USE;

/* /healthz of a replica: 0 with *ok and a one-line text, forked or not. */
void mirrors_health(bool *ok, char *text, size_t cap, struct daemon *d);

#endif
