/*
 * Real `bundlectl agent` processes for the propagation benchmark: each follows one domain of
 * a benchmark daemon with its own state directory and output file (DIR/agents/out/<i>.json),
 * polling once an hour so that the watch stream is what wakes it, its log in
 * DIR/agents/<i>.log. The time each verified file lands is taken from inotify (the agent's
 * rename into the output directory: IN_MOVED_TO), on a thread of its own.
 */
#ifndef BUNDLED_BENCH_AGENTS_H
#define BUNDLED_BENCH_AGENTS_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

#include "daemon.h"

struct bench_agents {
	size_t n;
	pid_t *pids;
	double *at;        /* when agent i's file was last replaced (0: not since the watch began) */
	size_t landed;
	double deadline;
	int inotify;
	char out_dir[PATH_MAX + 16];
	pthread_t thread;
};

/* Starts n agents on td (the log's key read from GET /v1/log) and waits (at most `wait_s`)
 * until each has written its file and connected its watch stream. 0, or -1 (said on stderr). */
int bench_agents_start(struct bench_agents *a, const struct bench_daemon *d, const char *td, size_t n,
	double wait_s);
/* Starts timing: from now until every file was replaced once more, or until `deadline`. */
int bench_agents_watch(struct bench_agents *a, double deadline);
/* Waits for the timing thread; how many files landed. */
size_t bench_agents_wait(struct bench_agents *a);
/* SIGTERM to each, and reaps them. */
void bench_agents_stop(struct bench_agents *a);

#endif
