/*
 * The real daemon for the HTTP benchmarks: started from the build beside the benchmark
 * (build/bin/bundled) on a free loopback port with a data directory of its own, requests on
 * a reused curl handle (keep-alive), and the signed requests a publisher sends.
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
};

struct bench_request {
	char path[128];
	char *body;
	size_t len;
};

/* build/bin/<name> beside the running benchmark (a static buffer), or NULL. */
const char *bench_bin_path(const char *name);

/* Starts bundled with --data DIR/data --listen 127.0.0.1:0 and `extra` (NULL-ended, may be
 * NULL), its log in DIR/daemon.log, and waits until it listens and answers /v1/log (whose
 * origin it keeps). 0, or -1. */
int bench_daemon_start(struct bench_daemon *d, const char *const *extra);
void bench_daemon_stop(struct bench_daemon *d);

/* The CPU time the daemon's process has used so far, user and system, in seconds (/proc);
 * 0 when it cannot be read. */
double bench_daemon_cpu_s(const struct bench_daemon *d);

/* One request on `curl`; the status (or -1), the body appended to out. body NULL: GET. */
long bench_request(CURL *curl, const struct bench_daemon *d, const char *path, const char *auth, const char *body,
	size_t len, tl_buf *out);

/* Registers td with the key's verifier key (the operator's "Authorization: ..." line). */
int bench_register_domain(CURL *curl, const struct bench_daemon *d, const char *auth, const char *td,
	const tl_signer *key);

/* The signed request publishing `b` as version `seq` of td. */
int bench_make_request(struct bench_request *r, const struct bench_daemon *d, bd_bundle *b, const char *td,
	uint64_t seq, const tl_signer *key);

/* One publisher thread of a storm: its own keep-alive connection from its own loopback
 * address 127.0.0.<id + 1> (so per-client write limits apply to each as to a separate
 * client), sending its requests in order. */
struct bench_publisher {
	const struct bench_daemon *d;
	int id;
	struct bench_request *reqs; /* this publisher's, in order (unused with `make`) */
	size_t n;
	double *latency; /* seconds, one per request (filled by bench_publish), or NULL */
	size_t failed;   /* requests not answered 201 */
	/* When set, request i is made by make(r, i, ctx) just before it is sent, and its body
	 * freed after: for storms too long to sign beforehand (an entry's claimed time must be
	 * within 600 s of the daemon's clock). Not timed in `latency`. Nonzero: counted failed. */
	int (*make)(struct bench_request *r, size_t i, void *ctx);
	void *ctx;
};

/* The thread's body (pthread_create(..., bench_publish, publisher)). */
void *bench_publish(void *publisher);

/* "Authorization: Bearer <the operator token of DIR/data>" (free it), or NULL. */
char *bench_read_token(const struct bench_daemon *d);

#endif
