/*
 * The real daemon for the benchmarks that measure it over HTTP: started from the build tree
 * beside the benchmark (build/bin/bundled) in a data directory of the benchmark's, its port
 * read from its "listening" log line, stopped with SIGTERM; and the requests they make of it
 * (libcurl, keep-alive), the operator's registrations and signed versions to publish.
 */
#ifndef BUNDLED_BENCH_DAEMON_H
#define BUNDLED_BENCH_DAEMON_H

#include <curl/curl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bundled/bundle.h"
#include "translog/bytes.h"
#include "translog/key.h"

struct bench_daemon {
	pid_t pid;
	char url[64], dir[PATH_MAX], origin[256];
	char *auth; /* "Authorization: Bearer <the operator token>" */
};

/* Starts bundled --data DIR/data --listen 127.0.0.1:0 plus `extra` (NULL-ended, may be NULL),
 * its log in DIR/daemon.log, and waits for it to answer GET /v1/log. 0 or -1. */
int bench_daemon_start(struct bench_daemon *d, const char *const *extra);
void bench_daemon_stop(struct bench_daemon *d);

/* One request on `curl` (reused: keep-alive); the status (-1 if none), the body into out. A
 * body makes it a POST of application/json; `auth` is a header line or NULL. */
long bench_request(CURL *curl, const struct bench_daemon *d, const char *path, const char *auth, const char *body,
	size_t len, tl_buf *out);

/* Registers td with the key's verifier key (as the operator). 0 or -1. */
int bench_register_domain(CURL *curl, const struct bench_daemon *d, const char *td, const tl_signer *key);

/* A signed request publishing bundle `b` as version `seq` of td. */
struct bench_publish {
	char path[128];
	char *body; /* free() */
	size_t len;
};
int bench_publish_make(struct bench_publish *r, const struct bench_daemon *d, bd_bundle *b, const char *td,
	uint64_t seq, const tl_signer *key);

#endif
