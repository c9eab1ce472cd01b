/*
 * Propagation (issue 10, §5): how long a committed version takes to reach N idle watchers of
 * GET /v1/watch and M real `bundlectl agent` processes, and what they cost the daemon.
 *
 * Starts the real daemon (build/bin/bundled, its watcher and connection bounds raised to N),
 * registers a domain, then holds N Server-Sent Events connections from this one thread (epoll,
 * non-blocking sockets spread over the loopback addresses 127.0.2.1, 127.0.2.2, ...; the
 * descriptor limit raised as far as the hard limit allows), each counted as watching once its
 * first bytes arrive. It then publishes one version (a signed request prepared before the
 * clock starts) from another thread and records, for every watcher, when its "event: version"
 * arrived: p50/p99/max from the publish's acknowledgement (the 201 reaching the publisher) and
 * from the request's sending. The daemon's RSS (VmRSS, /proc/PID/status) is read before the
 * watchers connect, with all of them idle, and after the event.
 *
 * Before the watchers connect, a first version is published and M agents (util/agents.c) are
 * started on the domain, each with its own state and output file and a poll interval of an
 * hour, and the benchmark waits until each has verified that version and holds its watch
 * stream. The timed version then reaches them as a watch event, a diff, and a full
 * verification; each agent's time is when its file's rename lands (inotify), from the same
 * acknowledgement.
 *
 *   build/bench/bench_watch [N [M]]    (default 10000 watchers, 100 agents)
 *
 * Aim (issue 10): every watcher within 1 s (p99), every agent's verified file within 2 s
 * (p99), the daemon under 512 MB RSS.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundled/bundle.h"
#include "util/agents.h"
#include "util/clock.h"
#include "util/daemon.h"
#include "util/stats.h"
#include "util/file.h"

#define TD "watched.bench.test"
#define PER_ADDRESS 2000       /* watchers per loopback source address */
#define CONNECT_BATCH 256      /* connections started before the loop reads again */
#define EVENT_TIMEOUT_S 30.0

static const char needle[] = "event: version\n";

enum state { W_CONNECTING, W_SENT, W_WATCHING, W_GOT, W_FAILED };

struct watcher {
	int fd;
	enum state state;
	unsigned matched; /* bytes of needle matched so far */
	double at;        /* when the event arrived */
};

static int fail(const char *what)
{
	fprintf(stderr, "bench_watch: %s\n", what);
	return 1;
}

/* The daemon's resident set, in KB, or 0. */
static unsigned long rss_kb(pid_t pid)
{
	char path[64], line[256];
	unsigned long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static unsigned raise_nofile(unsigned want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return (unsigned)rl.rlim_cur;
}

static int watcher_connect(struct watcher *w, int ep, size_t i, unsigned port)
{
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN };

	w->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (w->fd < 0)
		return -1;
	src.sin_addr.s_addr = htonl(0x7f000201u + (uint32_t)(i / PER_ADDRESS)); /* 127.0.2.1, ... */
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	dst.sin_port = htons((uint16_t)port);
	if (bind(w->fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
	    (connect(w->fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 && errno != EINPROGRESS))
		return -1;
	ev.data.u64 = i;
	w->state = W_CONNECTING;
	return epoll_ctl(ep, EPOLL_CTL_ADD, w->fd, &ev);
}

/* Reads what a watcher has: the response head and greeting make it watching; the needle
 * (matched across reads) is its event. */
static void watcher_read(struct watcher *w, int ep, double now)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		if (w->state == W_SENT) {
			if (n < 12 || memcmp(buf, "HTTP/1.1 200", 12) != 0) {
				w->state = W_FAILED;
				return;
			}
			w->state = W_WATCHING;
		}
		for (ssize_t i = 0; i < n && w->state == W_WATCHING; i++) {
			w->matched = buf[i] == needle[w->matched] ? w->matched + 1 : buf[i] == needle[0];
			if (w->matched == sizeof(needle) - 1) {
				w->state = W_GOT;
				w->at = now;
			}
		}
	}
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		w->state = w->state == W_GOT ? W_GOT : W_FAILED;
		epoll_ctl(ep, EPOLL_CTL_DEL, w->fd, NULL);
	}
}

static void on_ready(struct watcher *w, int ep, uint32_t events, const char *request, size_t len, double now)
{
	if (w->state == W_CONNECTING && (events & EPOLLOUT)) {
		if (write(w->fd, request, len) != (ssize_t)len) {
			w->state = W_FAILED;
			return;
		}
		w->state = W_SENT;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		watcher_read(w, ep, now);
}

/* Runs the loop until every watcher is past `until` (watching, or got the event) or failed,
 * or the deadline passes; returns how many reached it. */
static size_t run_until(struct watcher *ws, size_t n, int ep, enum state until, const char *request, size_t len,
	double deadline, size_t *next_connect, unsigned port)
{
	struct epoll_event evs[512];

	for (;;) {
		size_t reached = 0, failed = 0;
		int k;

		/* Connect in batches, so the accept queue keeps up. */
		for (size_t started = 0; *next_connect < n && started < CONNECT_BATCH; started++, (*next_connect)++)
			if (watcher_connect(&ws[*next_connect], ep, *next_connect, port) != 0)
				ws[*next_connect].state = W_FAILED;
		k = epoll_wait(ep, evs, 512, 10);
		for (int i = 0; i < k; i++) {
			struct watcher *w = &ws[evs[i].data.u64];
			bool was_connecting = w->state == W_CONNECTING;

			on_ready(w, ep, evs[i].events, request, len, bench_now_s());
			if (was_connecting && w->state == W_SENT) {
				struct epoll_event ev = { .events = EPOLLIN, .data.u64 = evs[i].data.u64 };

				epoll_ctl(ep, EPOLL_CTL_MOD, w->fd, &ev);
			}
		}
		for (size_t i = 0; i < n; i++) {
			reached += ws[i].state >= until && ws[i].state != W_FAILED;
			failed += ws[i].state == W_FAILED;
		}
		if (reached + failed == n || bench_now_s() > deadline)
			return reached;
	}
}

struct publisher {
	struct bench_daemon *d;
	struct bench_request req;
	double sent, ack;
	long status;
};

static void *publish_timed(void *arg)
{
	struct publisher *p = arg;
	CURL *curl = curl_easy_init();
	tl_buf out = tl_buf_make(1u << 20);

	p->sent = bench_now_s();
	p->status = bench_request(curl, p->d, p->req.path, NULL, p->req.body, p->req.len, &out);
	p->ack = bench_now_s();
	tl_buf_free(&out);
	curl_easy_cleanup(curl);
	return NULL;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* p50/p99/max of v[0..n) (sorted here), in ms. */
static void print_latency(const char *what, double *v, size_t n, const char *aim)
{
	if (n == 0)
		return;
	bench_sort(v, n);
	printf("  %s: p50 %.1f ms, p99 %.1f ms, max %.1f ms%s\n", what, v[n / 2] * 1e3, v[n * 99 / 100] * 1e3,
		v[n - 1] * 1e3, aim);
}

static int run(struct bench_daemon *d, size_t n, size_t m)
{
	char nbuf[3][32], request[256];
	const char *args[] = { "--watch-max", nbuf[0], "--watch-max-per-client", nbuf[1],
		"--max-connections", nbuf[2], "--max-per-address", nbuf[1], NULL };
	struct watcher *ws = calloc(n, sizeof(*ws));
	double *lat_ack = calloc(n, sizeof(double)), *lat_sent = calloc(n, sizeof(double));
	struct publisher pub = { .d = d };
	struct bench_request first = { 0 };
	struct bench_agents agents = { 0 };
	double *lat_agent = calloc(m ? m : 1, sizeof(double));
	tl_buf answer = tl_buf_make(1u << 20);
	size_t next = 0, watching, got, landed = 0, len;
	unsigned long rss0, rss1, rss2;
	unsigned port = 0;
	uint8_t *file;
	bd_bundle *b = NULL;
	tl_signer *key = NULL;
	char *auth = NULL;
	CURL *curl = curl_easy_init();
	pthread_t t;
	double t0, connect_s;
	int ep = epoll_create1(0);

	snprintf(nbuf[0], sizeof(nbuf[0]), "%zu", n + m + 16); /* the agents watch too */
	snprintf(nbuf[1], sizeof(nbuf[1]), "%zu", n + 16);
	snprintf(nbuf[2], sizeof(nbuf[2]), "%zu", n + m + 1024);
	if (bench_daemon_start(d, args) != 0)
		return fail("starting the daemon");
	sscanf(d->url, "http://127.0.0.1:%u", &port);
	if ((file = bench_read_file("tests/vectors/bundle/valid.json", 1u << 20, &len)) == NULL ||
	    bd_bundle_parse(&b, file, len, 0, NULL) != 0)
		return fail("tests/vectors/bundle/valid.json (run from the source root)");
	if ((auth = bench_read_token(d)) == NULL || tl_signer_generate(&key, TD) != 0 ||
	    bench_register_domain(curl, d, auth, TD, key) != 0 || bench_make_request(&first, d, b, TD, 1, key) != 0 ||
	    bench_make_request(&pub.req, d, b, TD, 2, key) != 0)
		return fail("registering the domain and signing two versions");
	if (m > 0) {
		/* The version the agents start from, then the agents (ready: file and stream). */
		if (bench_request(curl, d, first.path, NULL, first.body, first.len, &answer) != 201)
			return fail("publishing the first version");
		if (bench_agents_start(&agents, d, TD, m, 120) != 0)
			return fail("starting the agents");
	}
	snprintf(request, sizeof(request), "GET /v1/watch?domains=%s HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n",
		TD);
	rss0 = rss_kb(d->pid);

	t0 = bench_now_s();
	watching = run_until(ws, n, ep, W_WATCHING, request, strlen(request), t0 + 120, &next, port);
	connect_s = bench_now_s() - t0;
	sleep(1); /* let the daemon settle (its allocator, the loops' buffers) */
	rss1 = rss_kb(d->pid);

	if (m > 0 && bench_agents_watch(&agents, bench_now_s() + EVENT_TIMEOUT_S) != 0)
		return fail("timing the agents");
	pthread_create(&t, NULL, publish_timed, &pub);
	got = run_until(ws, n, ep, W_GOT, request, strlen(request), bench_now_s() + EVENT_TIMEOUT_S, &next, port);
	pthread_join(t, NULL);
	if (m > 0) {
		bench_agents_wait(&agents);
		for (size_t i = 0; i < m; i++)
			if (agents.at[i] != 0)
				lat_agent[landed++] = agents.at[i] - pub.ack;
		bench_agents_stop(&agents);
	}
	rss2 = rss_kb(d->pid);

	len = 0;
	for (size_t i = 0; i < n; i++)
		if (ws[i].state == W_GOT) {
			lat_ack[len] = ws[i].at - pub.ack;
			lat_sent[len++] = ws[i].at - pub.sent;
		}
	printf("watch propagation: %zu watchers (%zu watching after %.1f s of connecting) and %zu agents, publish "
	       "answered %ld in %.1f ms\n", n, watching, connect_s, m, pub.status, (pub.ack - pub.sent) * 1e3);
	print_latency("event after the publish's ack ", lat_ack, len, "  (aim: p99 <= 1000 ms)");
	print_latency("event after the publish's send", lat_sent, len, "");
	printf("  %zu of %zu watchers got the event within %.0f s\n", got, n, EVENT_TIMEOUT_S);
	if (m > 0) {
		print_latency("agent's verified file after the ack", lat_agent, landed, "  (aim: p99 <= 2000 ms)");
		printf("  %zu of %zu agents replaced their file within %.0f s\n", landed, m, EVENT_TIMEOUT_S);
	}
	printf("  daemon RSS: %.1f MB before, %.1f MB with the watchers idle (%.1f KB each), %.1f MB after the event"
	       "  (aim: <= 512 MB)\n", rss0 / 1024.0, rss1 / 1024.0, n ? (double)(rss1 - rss0) / (double)n : 0.0,
		rss2 / 1024.0);
	for (size_t i = 0; i < next; i++)
		if (ws[i].fd > 0)
			close(ws[i].fd);
	bench_daemon_stop(d);
	close(ep);
	free(ws);
	free(lat_ack);
	free(lat_sent);
	free(lat_agent);
	tl_buf_free(&answer);
	free(first.body);
	free(pub.req.body);
	free(file);
	bd_bundle_free(b);
	tl_signer_free(key);
	free(auth);
	curl_easy_cleanup(curl);
	return got == n && landed == m && pub.status == 201 ? 0 : 1;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000, m = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
	struct bench_daemon d = { 0 };
	char tmpl[] = "/tmp/bench-watch-XXXXXX";
	unsigned limit;
	int rc;

	if (n == 0 || n > 1000000 || m > 1000)
		return fail("usage: bench_watch [N [M]]  (1 .. 1000000 watchers, 0 .. 1000 agents)");
	if ((limit = raise_nofile((unsigned)n + 1024)) < n + 64) {
		fprintf(stderr, "bench_watch: the descriptor limit is %u; %zu watchers need %zu (ulimit -n)\n", limit, n,
			n + 1024);
		return 1;
	}
	if (mkdtemp(tmpl) == NULL)
		return 1;
	curl_global_init(CURL_GLOBAL_ALL);
	snprintf(d.dir, sizeof(d.dir), "%s", tmpl);
	rc = run(&d, n, m);
	bench_daemon_stop(&d); /* when it failed with the daemon still up */
	nftw(tmpl, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	curl_global_cleanup();
	return rc;
}
