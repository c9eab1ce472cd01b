/*
 * Runs the real bundled daemon for integration suites: on a free loopback port, with its own
 * data directory, its log on a file the test can read, stopped with SIGTERM like an operator
 * would.
 */
#ifndef BUNDLED_TESTDAEMON_H
#define BUNDLED_TESTDAEMON_H

#include <stddef.h>
#include <sys/types.h>

struct tu_daemon {
	pid_t pid;
	unsigned port;
	char base_url[64];  /* http://127.0.0.1:PORT */
	char vkey[512];     /* the log's verifier key, from its "log open" line */
	char log_path[4096];
	int is_bundled;     /* the daemon (not another server): its exchanges are recorded (testhttp.h) */
};

/* The path of a binary built beside the test runner (build/bin/NAME, or build/san/bin/NAME
 * for the sanitizer build). */
const char *tu_bin_path(const char *name);

/* Opens DATA_DIR/db with the column families the daemon's database holds (the log's and the
 * block store's), so a suite can prepare a data directory for the daemon. Fails the test
 * otherwise. */
struct tl_db *tu_daemon_db_open(const char *data_dir);

/* Fills DATA_DIR (created, mode 0700) the way the daemon lays it out: log.key, a new key
 * named `origin`, and db/ with a log of the
 * n entries, appended in commits of at most `per_commit` entries (0: one commit), and the
 * blocks of `dag` (may be NULL). Fails the test otherwise. */
struct bd_dag;
void tu_daemon_prepare(const char *data_dir, const char *origin, const void *const *entries, const size_t *lens,
	size_t n, size_t per_commit, const struct bd_dag *dag);

/* Starts bundled with --data DATA_DIR --listen 127.0.0.1:0 plus `extra_args` (a NULL-ended
 * list, may be NULL) and waits (at most 20 s) for it to listen. 0 on success. */
int tu_daemon_start(struct tu_daemon *d, const char *data_dir, const char *const *extra_args);

/* Starts build/bin/<bin_name> with `args` (NULL-ended, may be NULL; at most 30), its stderr
 * into a new file at log_path (what an earlier run wrote there is gone first), and returns
 * its pid (-1 if fork failed) without waiting: the caller signals and reaps it. */
pid_t tu_spawn(const char *bin_name, const char *const *args, const char *log_path);

/* Starts build/bin/<bin_name> with `args` (NULL-ended, may be NULL), its stderr into
 * log_path, and waits (at most 20 s) for its logfmt line msg="listening" addr=HOST:PORT
 * (and a vkey=, if any, into d->vkey): how tu_daemon_start runs bundled, for any server the
 * project builds (`bundlectl witness serve`). 0 on success. */
int tu_server_start(struct tu_daemon *d, const char *bin_name, const char *const *args, const char *log_path);
/* SIGTERM, then waits for the exit; returns the exit status (or -1 if it had to be killed). */
int tu_daemon_stop(struct tu_daemon *d);

/* GETs base_url + path; the exchange is recorded for the schema check (th_record) when d
 * is a bundled daemon. Returns the HTTP status (or -1); the body is malloc'ed into *body
 * (NUL-terminated, may be NULL if not wanted). */
long tu_http_get(const struct tu_daemon *d, const char *path, char **body, size_t *len);

/* The value of the series `series` (with its labels, as /metrics writes them:
 * 'name{label="v"}') in the daemon's /metrics, or -1 if it has none. */
long tu_metric(const struct tu_daemon *d, const char *series);

/* The same with any method and an optional request body (data may be NULL). */
long tu_http_request(const struct tu_daemon *d, const char *method, const char *path, const void *data,
	size_t data_len, char **body, size_t *len);

/* The same for any URL (another peer's HTTP API on loopback). */
long tu_http_fetch(const char *method, const char *url, const void *data, size_t data_len, char **body,
	size_t *len);

#endif
