/*
 * bundlectl agent against the real daemon: several agents (every output format, one and two
 * domains, a pinned log key and TOFU, the daemon's own trustless gateway) follow two domains
 * through the bundle history (../shared/research/cacert-history/, or the generated one) and
 * their files equal each newest canonical version after every publish (and what each update
 * downloaded is printed); then the agent starts again from the states a kill -9 can leave,
 * from a real kill -9 of a running agent, and after the server was down. A running agent
 * takes new versions from the watch stream and rides out a daemon restart; a hostile stream
 * does not make it spin; against real witnesses it takes a cosigned checkpoint and refuses
 * one short of its quorum.
 */
#include <arpa/inet.h>
#include <check.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bundled/bundle.h"
#include "testagent.h"
#include "testutil.h"

#define ALPHA "alpha.agent.test"
#define BETA "beta.agent.test"

/* The newest version of td as an agent writes it in `format`. */
static uint8_t *expected(const struct tu_world *w, const char *td, const char *format, size_t *len)
{
	size_t n;
	uint8_t *canon = tu_world_newest(w, td, &n);
	tl_buf out = tl_buf_make(4 * (size_t)BD_MAX_BUNDLE_SIZE);
	bd_bundle *b;

	if (strcmp(format, "spiffe") == 0) {
		*len = n;
		return canon;
	}
	ck_assert_int_eq(bd_bundle_parse(&b, canon, n, 0, NULL), 0);
	ck_assert_int_eq(strcmp(format, "pem") == 0 ? bd_bundle_write_pem(&out, b) : bd_bundle_write_der(&out, b), 0);
	bd_bundle_free(b);
	free(canon);
	return tl_buf_detach(&out, len);
}

static void assert_file(const struct tu_world *w, const char *td, const char *format, const char *path)
{
	size_t want_len, have_len;
	uint8_t *want = expected(w, td, format, &want_len), *have = tu_read_file(path, &have_len);

	ck_assert_msg(have != NULL, "%s is missing", path);
	ck_assert_msg(have_len == want_len && memcmp(have, want, want_len) == 0, "%s is not the newest %s of %s", path,
		format, td);
	free(want);
	free(have);
}

/* The number N before `after` in an agent's "installed" line (" bytes downloaded,": what
 * the update downloaded; " bytes; ": the version's canonical size). */
static uint64_t number_before(const char *log, const char *after)
{
	const char *p = strstr(log, after);
	uint64_t n = 0, scale = 1;

	ck_assert_ptr_nonnull(p);
	while (p > log && p[-1] >= '0' && p[-1] <= '9') {
		n += scale * (uint64_t)(*--p - '0');
		scale *= 10;
	}
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

START_TEST(agents_follow_the_history_in_every_format)
{
	static const char *const domains[] = { ALPHA, BETA };
	struct tu_world w;
	struct tu_output o = { 0 };
	size_t diffs = 0, hooks_len, full = 0;
	uint64_t downloaded[sizeof(w.h.len) / sizeof(w.h.len[0])], response[sizeof(w.h.len) / sizeof(w.h.len[0])];
	char *hooks, other[512];

	tu_world_start(&w, domains, 2, NULL, NULL);
	for (size_t v = 0; v < w.h.n; v++) {
		tu_world_publish(&w, ALPHA, v);
		if (v % 3 == 0)
			tu_world_publish(&w, BETA, v);
		/* spiffe, one domain, pinned key, a hook */
		ck_assert_msg(tu_agent_once(&o, w.dir, w.d.base_url,
				      "--domain " ALPHA " --out '%s/a.json' --state '%s/a' --log-key '%s' "
				      "--on-update 'echo $BUNDLED_DOMAIN $BUNDLED_SEQUENCE >>%s/hooks'",
				      w.dir, w.dir, w.d.vkey, w.dir) == 0,
			"agent a, version %zu: %s", v, o.err);
		if (strstr(o.err, "from a diff") != NULL) {
			full += number_before(o.err, " bytes; ");
			response[diffs] = number_before(o.err, " of them the diff response");
			downloaded[diffs++] = number_before(o.err, " bytes downloaded,");
		}
		assert_file(&w, ALPHA, "spiffe", tu_path_in(w.dir, "a.json"));
		/* pem, two domains into a directory, TOFU */
		ck_assert_msg(tu_agent_once(&o, w.dir, w.d.base_url,
				      "--domain " ALPHA " --domain " BETA " --out '%s/b' --state '%s/bs' --tofu --format pem",
				      w.dir, w.dir) == 0,
			"agent b, version %zu: %s", v, o.err);
		assert_file(&w, ALPHA, "pem", tu_path_in(w.dir, "b/" ALPHA ".pem"));
		assert_file(&w, BETA, "pem", tu_path_in(w.dir, "b/" BETA ".pem"));
		/* der, the daemon as the IPFS gateway for whole versions */
		ck_assert_msg(tu_agent_once(&o, w.dir, w.d.base_url,
				      "--domain " BETA " --out '%s/c.der' --state '%s/c' --log-key '%s' --format der "
				      "--ipfs-gateway %s",
				      w.dir, w.dir, w.d.vkey, w.d.base_url) == 0,
			"agent c, version %zu: %s", v, o.err);
		assert_file(&w, BETA, "der", tu_path_in(w.dir, "c.der"));
	}
	/* The first version came whole, every later one as a diff; the hook ran once a version.
	 * What each diff update downloaded (diff response, entry bundles, checkpoint), beside the
	 * whole bundle, for benchmarks/README.md. */
	ck_assert_uint_eq(diffs, w.h.n - 1);
	qsort(downloaded, diffs, sizeof(uint64_t), cmp_u64);
	qsort(response, diffs, sizeof(uint64_t), cmp_u64);
	fprintf(stderr, "agent: %zu updates by diff; bytes downloaded per update: median %" PRIu64 ", max %" PRIu64
		" (the diff response's body alone: median %" PRIu64 ", max %" PRIu64 "); the versions' canonical bytes: mean %zu "
		"(%.0fx the median update, %.0fx the median diff response body)\n", diffs, downloaded[diffs / 2],
		downloaded[diffs - 1], response[diffs / 2], response[diffs - 1], full / diffs,
		(double)(full / diffs) / (double)downloaded[diffs / 2], (double)(full / diffs) / (double)response[diffs / 2]);
	ck_assert_ptr_nonnull(hooks = (char *)tu_read_file(tu_path_in(w.dir, "hooks"), &hooks_len));
	ck_assert_ptr_nonnull(strstr(hooks, ALPHA " 1\n"));
	for (size_t i = 0, lines = 0; i <= hooks_len; i++)
		if (i == hooks_len)
			ck_assert_uint_eq(lines, w.h.n);
		else if (hooks[i] == '\n')
			lines++;
	free(hooks);
	/* The JSON form of the diff endpoint, in each status, as its schema says. */
	{
		static const char *const queries[] = { "from=1&size=3", "from=0", "from=2&to=2&size=1" };
		static const char *const statuses[] = { "\"status\":\"patch\"", "\"status\":\"unknown_base\"",
			"\"status\":\"current\"" };
		char path[256], *body;

		for (size_t i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "/v1/domains/" ALPHA "/diff?%s", queries[i]);
			ck_assert_int_eq(tu_http_get(&w.d, path, &body, NULL), 200);
			ck_assert_msg(strstr(body, statuses[i]) != NULL, "%s: %s", path, body);
			tu_expect_schema(w.dir, "diff-response.schema.json", body);
			free(body);
		}
		ck_assert_int_eq(tu_http_get(&w.d, "/v1/domains/" ALPHA "/diff?from=3&to=2", &body, NULL), 400);
		free(body);
		ck_assert_int_eq(tu_http_get(&w.d, "/v1/domains/" ALPHA "/bundle?from=1", &body, NULL), 400);
		free(body);
	}
	/* Nothing new: a round changes no file and exits 0. */
	ck_assert_int_eq(tu_agent_once(&o, w.dir, w.d.base_url, "--domain " ALPHA " --out '%s/a.json' --state '%s/a' --log-key '%s'",
				 w.dir, w.dir, w.d.vkey), 0);
	/* A domain followed later: its keys are somewhere in the log already replayed, which is
	 * replayed again for it. */
	ck_assert_msg(tu_agent_once(&o, w.dir, w.d.base_url,
			      "--domain " ALPHA " --domain " BETA " --out '%s/a2' --state '%s/a' --log-key '%s'", w.dir,
			      w.dir, w.d.vkey) == 0, "%s", o.err);
	assert_file(&w, BETA, "spiffe", tu_path_in(w.dir, "a2/" BETA ".json"));
	assert_file(&w, ALPHA, "spiffe", tu_path_in(w.dir, "a2/" ALPHA ".json"));
	/* A state pinned to one log key refuses another. */
	ck_assert_int_eq(tu_run(&o, w.dir, "bundlectl", "keygen --name other.test/log --out '%s/other.key'", w.dir), 0);
	snprintf(other, sizeof(other), "%.*s", (int)o.out_len - 1, o.out);
	ck_assert_int_eq(tu_agent_once(&o, w.dir, w.d.base_url,
				 "--domain " ALPHA " --out '%s/a.json' --state '%s/a' --log-key '%s'", w.dir, w.dir, other), 1);
	ck_assert_ptr_nonnull(strstr(o.err, "pinned to another log key"));
	tu_output_free(&o);
	tu_world_stop(&w);
}
END_TEST

/* `bundlectl agent` running (not --once) on one domain, its stderr into DIR/agent.log, with
 * `extra` (a flag, or NULL); its pid. */
static pid_t start_agent(const struct tu_world *w, const char *td, const char *out, const char *state,
	const char *interval, const char *extra)
{
	const char *args[] = { "agent", "--server", w->d.base_url, "--domain", td, "--out", out, "--state", state,
		"--log-key", w->d.vkey, "--poll-interval", interval, extra, NULL };
	pid_t pid = tu_spawn("bundlectl", args, tu_path_in(w->dir, "agent.log"));

	ck_assert_int_ge(pid, 0);
	return pid;
}

static void copy(const char *from, const char *to)
{
	ck_assert_int_eq(tu_system("cp -a '%s' '%s'", from, to), 0);
}

START_TEST(agent_restarts_after_kill_and_outage)
{
	static const char *const domains[] = { ALPHA };
	struct tu_world w;
	struct tu_output o = { 0 };
	struct tu_agent_files before, after;
	char out[4200], state[4200];
	pid_t pid;

	tu_world_start(&w, domains, 1, NULL, NULL);
	ck_assert_uint_ge(w.h.n, 4);
	snprintf(out, sizeof(out), "%s/out.json", w.dir);
	snprintf(state, sizeof(state), "%s/state", w.dir);
#define AGENT(...) tu_agent_once(&o, w.dir, w.d.base_url, "--domain " ALPHA " --out '%s' --state '%s' --log-key '%s' " __VA_ARGS__, out, state, w.d.vkey)
	/* From an empty state. */
	tu_world_publish(&w, ALPHA, 0);
	ck_assert_msg(AGENT() == 0, "%s", o.err);
	assert_file(&w, ALPHA, "spiffe", out);

	/* Killed after the state's commit, before the file's: the next start writes the file. */
	copy(out, tu_path_in(w.dir, "out.v1"));
	tu_world_publish(&w, ALPHA, 1);
	ck_assert_msg(AGENT() == 0, "%s", o.err);
	copy(tu_path_in(w.dir, "out.v1"), out);
	ck_assert_int_eq(tu_write_file(tu_path_in(w.dir, "out.json.new"), "half", 4), 0);
	ck_assert_msg(AGENT() == 0, "%s", o.err);
	ck_assert_ptr_nonnull(strstr(o.err, "interrupted update"));
	assert_file(&w, ALPHA, "spiffe", out);

	/* Killed before the state's commit (the new version's bytes and a temporary state
	 * written): the old state holds, and the update is made again. */
	copy(state, tu_path_in(w.dir, "state.v2"));
	copy(out, tu_path_in(w.dir, "out.v2"));
	tu_world_publish(&w, ALPHA, 2);
	ck_assert_msg(AGENT() == 0, "%s", o.err);
	ck_assert_int_eq(tu_system("cp '%s/state' '%s/state.v2/state.tmp' && rm -rf '%s' && mv '%s/state.v2' '%s' && cp '%s/out.v2' '%s'",
				 state, w.dir, state, w.dir, state, w.dir, out), 0);
	ck_assert_msg(AGENT() == 0, "%s", o.err);
	assert_file(&w, ALPHA, "spiffe", out);

	/* A real kill -9 of a running agent, at some point of its work. */
	tu_world_publish(&w, ALPHA, 3);
	pid = start_agent(&w, ALPHA, out, state, "1s", NULL);
	nanosleep(&(struct timespec){ 0, 30 * 1000000L }, NULL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ck_assert_msg(AGENT() == 0, "%s", o.err);
	assert_file(&w, ALPHA, "spiffe", out);

	/* The server down: nothing changes, the agent says so; staleness is reported. */
	tu_agent_files_get(&before, out, state);
	ck_assert_int_eq(tu_daemon_stop(&w.d), 0);
	sleep(2);
	ck_assert_int_eq(AGENT("--max-stale 1s"), 2);
	ck_assert_ptr_nonnull(strstr(o.err, "did not answer"));
	ck_assert_ptr_nonnull(strstr(o.err, "STALE"));
	tu_agent_files_get(&after, out, state);
	tu_agent_files_assert_same(&before, &after, "server down");
	tu_agent_files_free(&after);
	/* Back up (same data), with a newer version: the agent catches up. */
	ck_assert_int_eq(tu_daemon_start(&w.d, w.data, NULL), 0);
	tu_world_publish(&w, ALPHA, w.h.n - 1);
	ck_assert_msg(AGENT("--max-stale 1h") == 0, "%s", o.err);
	assert_file(&w, ALPHA, "spiffe", out);
#undef AGENT
#undef AGENT_STALE
	tu_agent_files_free(&before);
	tu_output_free(&o);
	tu_world_stop(&w);
}
END_TEST

/* Whether `path` holds exactly the newest version of td, within `seconds`. */
static bool becomes_newest(const struct tu_world *w, const char *td, const char *path, int seconds)
{
	for (int i = 0; i < 10 * seconds; i++) {
		size_t want_len, have_len;
		uint8_t *want = tu_world_newest(w, td, &want_len), *have = tu_read_file(path, &have_len);
		bool same = have != NULL && have_len == want_len && memcmp(have, want, want_len) == 0;

		free(want);
		free(have);
		if (same)
			return true;
		nanosleep(&(struct timespec){ 0, 100 * 1000000L }, NULL);
	}
	return false;
}

/* The agent's log holds `text`. */
static bool log_says(const struct tu_world *w, const char *text)
{
	size_t n;
	char *log = (char *)tu_read_file(tu_path_in(w->dir, "agent.log"), &n);
	bool yes = log != NULL && strstr(log, text) != NULL;

	free(log);
	return yes;
}

/* A running agent polling once an hour takes each new version from the watch stream (the
 * bounds only catch hangs: no timing is asserted), and after the daemon restarted (same
 * address, same data) it reconnects and still converges. */
START_TEST(running_agent_follows_the_watch_stream)
{
	static const char *const domains[] = { ALPHA };
	struct tu_world w;
	char out[4200], state[4200], listen[64];
	const char *again[] = { "--listen", listen, NULL };
	pid_t pid;
	int status;

	tu_world_start(&w, domains, 1, NULL, NULL);
	ck_assert_uint_ge(w.h.n, 3);
	snprintf(out, sizeof(out), "%s/out.json", w.dir);
	snprintf(state, sizeof(state), "%s/state", w.dir);
	tu_world_publish(&w, ALPHA, 0);
	pid = start_agent(&w, ALPHA, out, state, "1h", NULL);
	ck_assert_msg(becomes_newest(&w, ALPHA, out, 60), "the first round did not write the file");
	for (int i = 0; i < 600 && !log_says(&w, "watch: connected"); i++)
		nanosleep(&(struct timespec){ 0, 100 * 1000000L }, NULL);
	if (!log_says(&w, "watch: connected"))
		tu_system("cat '%s/agent.log' >&2", w.dir);
	ck_assert_msg(log_says(&w, "watch: connected"), "the agent holds no watch stream");
	tu_world_publish(&w, ALPHA, 1);
	ck_assert_msg(becomes_newest(&w, ALPHA, out, 60), "the watch event did not bring the new version");
	ck_assert(log_says(&w, ALPHA ": woken"));

	/* The daemon restarts on the same address: the agent reconnects (back-off, resume). */
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", (int)w.d.port);
	ck_assert_int_eq(tu_daemon_stop(&w.d), 0);
	ck_assert_int_eq(tu_daemon_start(&w.d, w.data, again), 0);
	tu_world_publish(&w, ALPHA, 2);
	ck_assert_msg(becomes_newest(&w, ALPHA, out, 120), "after the restart, the agent did not converge");
	ck_assert(log_says(&w, "watch: connection lost"));
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	tu_world_stop(&w);
}
END_TEST

/* ---- a hostile watch stream ---- */

/* A server that floods /v1/watch with events announcing versions that are not there (a new
 * sequence each millisecond) and answers every other request 404, counting them. */
struct hostile {
	int fd;
	unsigned port;
	atomic_bool stop;
	atomic_uint requests, events;
	pthread_t thread;
};

struct hostile_conn {
	struct hostile *h;
	int fd;
};

static void *hostile_conn(void *arg)
{
	struct hostile_conn *c = arg;
	struct hostile *h = c->h;
	static const char not_found[] = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 49\r\n"
					"Connection: close\r\n\r\n{\"error\":{\"code\":\"not_found\",\"message\":\"no\"}}";
	static const char stream[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\r\n";
	char req[4096], ev[1024];
	ssize_t n = read(c->fd, req, sizeof(req) - 1);

	if (n > 0 && (req[n] = '\0', strncmp(req, "GET /v1/watch", 13) == 0)) {
		bool ok = send(c->fd, stream, sizeof(stream) - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof(stream) - 1);

		for (unsigned k = 1; ok && !atomic_load(&h->stop); k++) {
			int len = snprintf(ev, sizeof(ev), "event: version\nid: %u\ndata: {\"kind\":\"version\",\"domain\":\"" ALPHA
				"\",\"sequence\":%u,\"sha256\":\"%064u\",\"cid\":\"bafkqaaa\",\"index\":%u,\"tree_size\":%u}\n\n",
				k, 1000 + k, k, k, k + 1);

			ok = send(c->fd, ev, (size_t)len, MSG_NOSIGNAL) == len;
			atomic_fetch_add(&h->events, 1);
			nanosleep(&(struct timespec){ 0, 1000000L }, NULL);
		}
	} else if (n > 0) {
		atomic_fetch_add(&h->requests, 1);
		if (send(c->fd, not_found, sizeof(not_found) - 1, MSG_NOSIGNAL) < 0) {
			/* the agent went away: nothing to answer */
		}
	}
	close(c->fd);
	free(c);
	return NULL;
}

static void *hostile_accept(void *arg)
{
	struct hostile *h = arg;

	while (!atomic_load(&h->stop)) {
		struct pollfd p = { .fd = h->fd, .events = POLLIN };
		struct hostile_conn *c;
		pthread_t t;

		if (poll(&p, 1, 50) <= 0 || (c = malloc(sizeof(*c))) == NULL)
			continue;
		c->h = h;
		if ((c->fd = accept(h->fd, NULL, NULL)) < 0 || pthread_create(&t, NULL, hostile_conn, c) != 0) {
			if (c->fd >= 0)
				close(c->fd);
			free(c);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

static void hostile_start(struct hostile *h)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	memset(h, 0, sizeof(*h));
	ck_assert_int_ge(h->fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(bind(h->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(h->fd, 16), 0);
	ck_assert_int_eq(getsockname(h->fd, (struct sockaddr *)&a, &len), 0);
	h->port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&h->thread, NULL, hostile_accept, h), 0);
}

static void hostile_stop(struct hostile *h)
{
	atomic_store(&h->stop, true);
	pthread_join(h->thread, NULL);
	close(h->fd);
	nanosleep(&(struct timespec){ 0, 100 * 1000000L }, NULL); /* the streams see stop */
}

/* A stream announcing a new version every millisecond, none of them real: the agent does not
 * spin. Its woken polls find nothing, so their gap doubles; over 4 s the thousands of events
 * cost a handful of requests (each one a poll that fails, as the server has nothing). */
START_TEST(a_hostile_watch_stream_does_not_make_the_agent_spin)
{
	struct hostile h;
	char *dir = tu_mkdtemp(), url[64], out[4200], state[4200], log[4200], vkey[512];
	const char *args[] = { "agent", "--server", url, "--domain", ALPHA, "--out", out, "--state", state, "--log-key",
		vkey, "--poll-interval", "1h", NULL };
	tl_signer *key;
	tl_buf text = tl_buf_make(sizeof(vkey));
	pid_t pid;
	int status;

	ck_assert_int_eq(tl_signer_generate(&key, "hostile.agent.test/log"), 0);
	ck_assert_int_eq(tl_signer_vkey(&text, key), 0);
	snprintf(vkey, sizeof(vkey), "%.*s", (int)text.len, (const char *)text.data);
	tl_buf_free(&text);
	tl_signer_free(key);
	hostile_start(&h);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", h.port);
	snprintf(out, sizeof(out), "%s/out.json", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(log, sizeof(log), "%s/agent.log", dir);
	ck_assert_int_gt(pid = tu_spawn("bundlectl", args, log), 0);
	sleep(4);
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	hostile_stop(&h);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the agent did not stop cleanly: %d", status);
	ck_assert_msg(atomic_load(&h.events) >= 500, "only %u events sent", atomic_load(&h.events));
	ck_assert_msg(tu_file_count(log, ALPHA ": woken") >= 1, "the stream woke nothing");
	ck_assert_msg(atomic_load(&h.requests) <= 20, "%u requests for %u events", atomic_load(&h.requests),
		atomic_load(&h.events));
	fprintf(stderr, "agent: a hostile stream sent %u events in 4 s; the agent made %u requests\n",
		atomic_load(&h.events), atomic_load(&h.requests));
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

/* A running agent polls at once when woken (SIGHUP: bd_agent_wake), stops cleanly on
 * SIGTERM; and a checkpoint without the witness quorum asked for is refused. */
START_TEST(running_agent_wakes_and_stops)
{
	static const char *const domains[] = { ALPHA };
	struct tu_world w;
	struct tu_output o = { 0 };
	struct stat sb;
	char out[4200], state[4200], witness[512];
	pid_t pid;
	int status;

	tu_world_start(&w, domains, 1, NULL, NULL);
	snprintf(out, sizeof(out), "%s/out.json", w.dir);
	snprintf(state, sizeof(state), "%s/state", w.dir);
	tu_world_publish(&w, ALPHA, 0);
	pid = start_agent(&w, ALPHA, out, state, "1h", "--no-watch");
	ck_assert_msg(becomes_newest(&w, ALPHA, out, 20), "the first round did not write the file");
	tu_world_publish(&w, ALPHA, 1);
	kill(pid, SIGHUP);
	ck_assert_msg(becomes_newest(&w, ALPHA, out, 20), "woken, the agent did not take the new version");
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	ck_assert_int_eq(tu_run(&o, w.dir, "bundlectl", "keygen --cosigner --name witness.agent.test --out '%s/w.key'", w.dir), 0);
	snprintf(witness, sizeof(witness), "%.*s", (int)o.out_len - 1, o.out);
	ck_assert_int_eq(tu_agent_once(&o, w.dir, w.d.base_url,
				 "--domain " ALPHA " --out '%s/w.json' --state '%s/w' --log-key '%s' --witness '%s' "
				 "--witness-quorum 1",
				 w.dir, w.dir, w.d.vkey, witness), 1);
	ck_assert_msg(strstr(o.err, "checkpoint refused") != NULL, "%s", o.err);
	ck_assert_int_ne(stat(tu_path_in(w.dir, "w.json"), &sb), 0);
	ck_assert_int_ne(stat(tu_path_in(w.dir, "w/state"), &sb), 0);
	tu_output_free(&o);
	tu_world_stop(&w);
}
END_TEST

/* Witnesses end to end: bundled restarted with three real `bundlectl witness serve`
 * processes (quorum 2, policy "serve": the newest checkpoint is served with what cosigned
 * it). An agent asking for 2 of the 3 cosignatures takes the cosigned checkpoint and the new
 * version; with two witnesses down, what is served has one cosignature, and the agent refuses
 * it and keeps its file and its state. */
START_TEST(agent_with_witnesses)
{
	static const char *const domains[] = { ALPHA };
	struct tu_world w;
	struct tu_output o = { 0 };
	struct tu_daemon wit[3];
	struct tu_agent_files before, after;
	char wvkey[3][512], spec[3][600], out[4200], state[4200], name[64];
	const char *args[16];
	size_t n = 0;
	int rc = -1;

	tu_world_start(&w, domains, 1, NULL, NULL);
	snprintf(out, sizeof(out), "%s/out.json", w.dir);
	snprintf(state, sizeof(state), "%s/state", w.dir);
	for (int i = 0; i < 3; i++) {
		const char *wargs[] = { "witness", "serve", "--key", NULL, "--log", w.d.vkey, "--state", NULL, "--listen",
			"127.0.0.1:0", NULL };
		char key[4200], wstate[4200];

		snprintf(key, sizeof(key), "%s/w%d.key", w.dir, i);
		snprintf(wstate, sizeof(wstate), "%s/w%d-state", w.dir, i);
		ck_assert_int_eq(tu_run(&o, w.dir, "bundlectl", "keygen --cosigner --name w%d.agent.test --out '%s'", i,
					 key), 0);
		snprintf(wvkey[i], sizeof(wvkey[i]), "%.*s", (int)o.out_len - 1, o.out);
		wargs[3] = key;
		wargs[7] = wstate;
		snprintf(name, sizeof(name), "w%d.log", i);
		ck_assert_int_eq(tu_server_start(&wit[i], "bundlectl", wargs, tu_path_in(w.dir, name)), 0);
		snprintf(spec[i], sizeof(spec[i]), "http://127.0.0.1:%u=%s", wit[i].port, wvkey[i]);
		args[n++] = "--witness";
		args[n++] = spec[i];
	}
	args[n++] = "--witness-quorum";
	args[n++] = "2";
	args[n++] = "--witness-policy";
	args[n++] = "serve";
	args[n++] = "--witness-refresh";
	args[n++] = "1";
	args[n] = NULL;
	ck_assert_int_eq(tu_daemon_stop(&w.d), 0);
	ck_assert_int_eq(tu_daemon_start(&w.d, w.data, args), 0);
#define AGENT_STALE(extra) tu_agent_once(&o, w.dir, w.d.base_url, "--domain " ALPHA " --out '%s' --state '%s' " \
	"--log-key '%s' --witness '%s' --witness '%s' --witness '%s' --witness-quorum 2 %s", out, state, \
	w.d.vkey, wvkey[0], wvkey[1], wvkey[2], extra)
#define AGENT() AGENT_STALE("")
	/* Accepted once the served checkpoint includes the version and is cosigned (the
	 * witnesses' round follows the commit: until then the agent refuses or holds). */
	tu_world_publish(&w, ALPHA, 0);
	for (int i = 0; i < 100; i++) {
		size_t have_len, want_len;
		uint8_t *have, *want = tu_world_newest(&w, ALPHA, &want_len);
		bool same;

		rc = AGENT();
		have = tu_read_file(out, &have_len);
		same = have != NULL && have_len == want_len && memcmp(have, want, want_len) == 0;
		free(have);
		free(want);
		if (rc == 0 && same)
			break;
		rc = -1;
		nanosleep(&(struct timespec){ 0, 200 * 1000000L }, NULL);
	}
	ck_assert_msg(rc == 0, "the agent never accepted the cosigned checkpoint: %s", o.err);
	assert_file(&w, ALPHA, "spiffe", out);
	/* Re-cosigned every second: fresh. */
	rc = AGENT_STALE("--max-stale 30s");
	ck_assert_msg(rc == 0, "exit %d: %s", rc, o.err);

	/* A daemon that stops asking its witnesses (a re-cosigning every hour) keeps answering
	 * with the same checkpoint, which verifies, but its cosignatures age: STALE. */
	args[n - 1] = "3600";
	ck_assert_int_eq(tu_daemon_stop(&w.d), 0);
	ck_assert_int_eq(tu_daemon_start(&w.d, w.data, args), 0);
	for (int i = 0; i < 100 && (rc = AGENT_STALE("--max-stale 30s")) != 0; i++)
		nanosleep(&(struct timespec){ 0, 200 * 1000000L }, NULL);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, o.err);
	sleep(4);
	rc = AGENT_STALE("--max-stale 3s");
	ck_assert_msg(rc == 3, "exit %d: %s", rc, o.err);
	ck_assert_msg(strstr(o.err, "STALE") != NULL && strstr(o.err, "refused") == NULL, "%s", o.err);

	/* Two witnesses down: the quorum is unmet, the agent refuses and keeps everything. */
	ck_assert_int_eq(tu_daemon_stop(&wit[1]), 0);
	ck_assert_int_eq(tu_daemon_stop(&wit[2]), 0);
	tu_agent_files_get(&before, out, state);
	tu_world_publish(&w, ALPHA, 1);
	for (int i = 0; i < 100 && (rc = AGENT()) == 0; i++)
		nanosleep(&(struct timespec){ 0, 200 * 1000000L }, NULL);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, o.err);
	ck_assert_msg(strstr(o.err, "checkpoint refused") != NULL, "%s", o.err);
	tu_agent_files_get(&after, out, state);
	tu_agent_files_assert_same(&before, &after, "witness quorum unmet");
#undef AGENT
#undef AGENT_STALE
	tu_agent_files_free(&before);
	tu_agent_files_free(&after);
	ck_assert_int_eq(tu_daemon_stop(&wit[0]), 0);
	tu_output_free(&o);
	tu_world_stop(&w);
}
END_TEST

Suite *suite_it_agent(void)
{
	Suite *s = suite_create("it_agent");
	TCase *tc = tcase_create("agent");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, agents_follow_the_history_in_every_format);
	tcase_add_test(tc, agent_restarts_after_kill_and_outage);
	tcase_add_test(tc, running_agent_wakes_and_stops);
	suite_add_tcase(s, tc);
	tc = tcase_create("agent_watch");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, running_agent_follows_the_watch_stream);
	suite_add_tcase(s, tc);
	tc = tcase_create("agent_hostile_watch");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_hostile_watch_stream_does_not_make_the_agent_spin);
	suite_add_tcase(s, tc);
	tc = tcase_create("agent_witnesses");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, agent_with_witnesses);
	suite_add_tcase(s, tc);
	return s;
}
