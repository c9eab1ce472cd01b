#define _GNU_SOURCE /* memmem */
#include "agents.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "file.h"

#define MAX_LOG (1u << 20)

/* The log's verifier key from GET /v1/log, into vkey. */
static int log_vkey(char *vkey, size_t cap, const struct bench_daemon *d)
{
	CURL *curl = curl_easy_init();
	tl_buf body = tl_buf_make(1u << 16);
	const char *p, *end;
	int rc = -1;

	if (curl != NULL && bench_request(curl, d, "/v1/log", NULL, NULL, 0, &body) == 200 &&
	    tl_buf_append_u8(&body, 0) == 0 && (p = strstr((const char *)body.data, "\"vkey\":\"")) != NULL &&
	    (end = strchr(p += 8, '"')) != NULL && (size_t)(end - p) < cap) {
		memcpy(vkey, p, (size_t)(end - p));
		vkey[end - p] = '\0';
		rc = 0;
	}
	tl_buf_free(&body);
	curl_easy_cleanup(curl);
	return rc;
}

static pid_t spawn(const struct bench_agents *a, const struct bench_daemon *d, const char *td, const char *vkey,
	size_t i)
{
	char out[2 * PATH_MAX], state[PATH_MAX + 64], log[PATH_MAX + 64];
	const char *bin = bench_bin_path("bundlectl");
	pid_t pid;

	snprintf(out, sizeof(out), "%s/%zu.json", a->out_dir, i);
	snprintf(state, sizeof(state), "%s/agents/%zu.state", d->dir, i);
	snprintf(log, sizeof(log), "%s/agents/%zu.log", d->dir, i);
	if (bin == NULL || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(127);
		execl(bin, "bundlectl", "agent", "--server", d->url, "--domain", td, "--out", out, "--state", state,
			"--log-key", vkey, "--poll-interval", "1h", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Whether agent i has its file and its watch stream. */
static int ready(const struct bench_agents *a, const struct bench_daemon *d, size_t i)
{
	char path[PATH_MAX + 64];
	struct stat sb;
	uint8_t *log;
	size_t len;
	int yes;

	snprintf(path, sizeof(path), "%s/%zu.json", a->out_dir, i);
	if (stat(path, &sb) != 0)
		return 0;
	snprintf(path, sizeof(path), "%s/agents/%zu.log", d->dir, i);
	if ((log = bench_read_file(path, MAX_LOG, &len)) == NULL)
		return 0;
	yes = memmem(log, len, "watch: connected", 16) != NULL;
	free(log);
	return yes;
}

int bench_agents_start(struct bench_agents *a, const struct bench_daemon *d, const char *td, size_t n, double wait_s)
{
	char vkey[512], path[PATH_MAX + 64];
	double deadline = bench_now_s() + wait_s;
	size_t up = 0;

	memset(a, 0, sizeof(*a));
	a->inotify = -1;
	snprintf(path, sizeof(path), "%s/agents", d->dir);
	snprintf(a->out_dir, sizeof(a->out_dir), "%s/agents/out", d->dir);
	if ((a->pids = calloc(n ? n : 1, sizeof(pid_t))) == NULL || (a->at = calloc(n ? n : 1, sizeof(double))) == NULL ||
	    mkdir(path, 0700) != 0 || mkdir(a->out_dir, 0700) != 0 || log_vkey(vkey, sizeof(vkey), d) != 0) {
		fprintf(stderr, "bench agents: setting up %s failed\n", path);
		return -1;
	}
	for (a->n = 0; a->n < n; a->n++)
		if ((a->pids[a->n] = spawn(a, d, td, vkey, a->n)) < 0) {
			fprintf(stderr, "bench agents: cannot start agent %zu: %s\n", a->n, strerror(errno));
			return -1;
		}
	while (bench_now_s() < deadline) {
		for (up = 0; up < n && ready(a, d, up); up++)
			;
		if (up == n)
			return 0;
		usleep(100 * 1000);
	}
	fprintf(stderr, "bench agents: agent %zu not ready (file and watch) within %.0f s; see %s/agents/%zu.log\n", up,
		wait_s, d->dir, up);
	return -1;
}

static void *timing(void *arg)
{
	struct bench_agents *a = arg;
	char buf[64 * (sizeof(struct inotify_event) + 256)];

	while (a->landed < a->n && bench_now_s() < a->deadline) {
		struct pollfd p = { .fd = a->inotify, .events = POLLIN };
		ssize_t len;
		int ms = (int)((a->deadline - bench_now_s()) * 1000) + 1;

		if (poll(&p, 1, ms) <= 0 || (len = read(a->inotify, buf, sizeof(buf))) <= 0)
			continue;
		for (char *q = buf; q < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)q;
			char *end;
			size_t i;

			if (ev->len > 0 && (i = strtoul(ev->name, &end, 10), strcmp(end, ".json") == 0) && i < a->n &&
			    a->at[i] == 0) {
				a->at[i] = bench_now_s();
				a->landed++;
			}
			q += sizeof(*ev) + ev->len;
		}
	}
	return NULL;
}

int bench_agents_watch(struct bench_agents *a, double deadline)
{
	a->deadline = deadline;
	if ((a->inotify = inotify_init1(IN_CLOEXEC)) < 0 || inotify_add_watch(a->inotify, a->out_dir, IN_MOVED_TO) < 0 ||
	    pthread_create(&a->thread, NULL, timing, a) != 0) {
		fprintf(stderr, "bench agents: inotify on %s: %s\n", a->out_dir, strerror(errno));
		return -1;
	}
	return 0;
}

size_t bench_agents_wait(struct bench_agents *a)
{
	pthread_join(a->thread, NULL);
	return a->landed;
}

void bench_agents_stop(struct bench_agents *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->pids[i] > 0) {
			kill(a->pids[i], SIGTERM);
			waitpid(a->pids[i], NULL, 0);
		}
	if (a->inotify >= 0)
		close(a->inotify);
	free(a->pids);
	free(a->at);
	memset(a, 0, sizeof(*a));
	a->inotify = -1;
}
