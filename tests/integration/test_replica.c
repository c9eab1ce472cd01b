/*
 * Read replicas, two real daemons on loopback: a replica (bundled --replica-of) of a primary
 * that registers domains, changes keys and publishes versions serves the very bytes the
 * primary serves on every read endpoint, refuses writes naming the primary, keeps up while
 * the primary goes on and after its own restart; it tells its own watchers of the primary's
 * versions (resume included) and serves each at its federation endpoint once they are told
 * (its version cache follows), serves diffs that turn one version into the next, and an agent
 * that follows it with the primary's log key converges; a replica that only polls, slowly,
 * still follows at once through its watch of the primary; and a primary that forks (another log under
 * the same key on the same address) halts it: it keeps serving its last verified state,
 * says so on /healthz and /metrics, and saves evidence that bundlectl verify-consistency
 * rejects.
 */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundled/watch.h"
#include "testagent.h"
#include "translog/db.h"
#include "testdaemon.h"
#include "testpublish.h"
#include "testrun.h"
#include "testutil.h"

#define INTERVAL "50"

struct world {
	char *dir;
	char primary_data[4096], replica_data[4096], key[4096], key2[4096];
	char vkey[512];
	struct tu_daemon primary, replica;
	struct tu_history h;
	size_t published;
	struct tu_output o;
};

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void start_replica(struct world *w)
{
	const char *args[] = { "--replica-of", w->primary.base_url, "--replica-log-key", w->primary.vkey,
		"--replica-interval", INTERVAL, NULL };

	ck_assert_int_eq(tu_daemon_start(&w->replica, w->replica_data, args), 0);
}

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	ck_assert_ptr_nonnull(w->dir = tu_mkdtemp());
	snprintf(w->primary_data, sizeof(w->primary_data), "%s/primary", w->dir);
	snprintf(w->replica_data, sizeof(w->replica_data), "%s/replica", w->dir);
	snprintf(w->key, sizeof(w->key), "%s/publisher.key", w->dir);
	snprintf(w->key2, sizeof(w->key2), "%s/second.key", w->dir);
	tu_history_load(&w->h, 8);
	ck_assert_uint_ge(w->h.n, 4);
	ck_assert_int_eq(tu_daemon_start(&w->primary, w->primary_data, NULL), 0);
	ck_assert_int_eq(tu_run(&w->o, w->dir, "bundlectl", "keygen --name publisher.replica.test --out '%s'", w->key),
		0);
	snprintf(w->vkey, sizeof(w->vkey), "%.*s", (int)w->o.out_len - 1, w->o.out);
}

static void world_free(struct world *w)
{
	/* A replica stops cleanly, its follower and watch threads with it. */
	if (w->replica.pid > 0)
		ck_assert_int_eq(tu_daemon_stop(&w->replica), 0);
	if (w->primary.pid > 0)
		tu_daemon_stop(&w->primary);
	tu_output_free(&w->o);
	tu_history_free(&w->h);
	tu_rm_rf(w->dir);
	free(w->dir);
}

/* Runs bundlectl; it must succeed. */
#define BUNDLECTL_OK(w, ...) \
	ck_assert_msg(tu_run(&(w)->o, (w)->dir, "bundlectl", __VA_ARGS__) == 0, "bundlectl: %s", (w)->o.err)

static void register_domain(struct world *w, const char *td)
{
	BUNDLECTL_OK(w, "domain register --server %s --operator-token '%s/operator.token' --domain %s --publisher-key '%s'",
		w->primary.base_url, w->primary_data, td, w->vkey);
}

static void publish(struct world *w, const char *td)
{
	const char *file = tu_path_in(w->dir, w->h.name[w->published % w->h.n]);

	ck_assert_int_eq(tu_write_file(file, w->h.data[w->published % w->h.n], w->h.len[w->published % w->h.n]), 0);
	BUNDLECTL_OK(w, "publish --server %s --key '%s' --domain %s --skip-refused '%s'", w->primary.base_url, w->key, td,
		file);
	w->published++;
}

/* Waits (at most 30 s) until the replica serves the primary's checkpoint. */
static void wait_level(struct world *w)
{
	for (int i = 0; i < 600; i++) {
		char *a = NULL, *b = NULL;
		long sa = tu_http_get(&w->primary, "/checkpoint", &a, NULL);
		long sb = tu_http_get(&w->replica, "/checkpoint", &b, NULL);
		int same = sa == 200 && sb == 200 && strcmp(a, b) == 0;

		free(a);
		free(b);
		if (same)
			return;
		sleep_ms(50);
	}
	ck_abort_msg("the replica did not reach the primary's checkpoint in 30 s");
}

/* Both daemons answer `path` with the same status and bytes; returns the status. */
static long expect_same(struct world *w, const char *path)
{
	char *a = NULL, *b = NULL;
	size_t la = 0, lb = 0;
	long sa = tu_http_get(&w->primary, path, &a, &la), sb = tu_http_get(&w->replica, path, &b, &lb);

	ck_assert_msg(sa == sb, "%s: primary %ld, replica %ld", path, sa, sb);
	ck_assert_msg(la == lb && (la == 0 || memcmp(a, b, la) == 0), "%s: the replica's bytes differ", path);
	free(a);
	free(b);
	return sa;
}

/* Every read endpoint, for every entry, version and tile of the primary's current log. */
static void expect_same_everything(struct world *w, const char *const *domains, size_t n_domains)
{
	char path[256], *body = NULL;
	unsigned long long size = 0;

	ck_assert_int_eq(expect_same(w, "/checkpoint"), 200);
	ck_assert_int_eq(expect_same(w, "/v1/log"), 200);
	ck_assert_int_eq(expect_same(w, "/v1/domains"), 200);
	ck_assert_int_eq(tu_http_get(&w->primary, "/checkpoint", &body, NULL), 200);
	ck_assert_int_eq(sscanf(strchr(body, '\n') + 1, "%llu", &size), 1);
	free(body);
	for (unsigned long long i = 0; i < size; i++) {
		snprintf(path, sizeof(path), "/v1/log/entries/%llu", i);
		ck_assert_int_eq(expect_same(w, path), 200);
		snprintf(path, sizeof(path), "/v1/log/proof/inclusion?index=%llu&size=%llu", i, size);
		ck_assert_int_eq(expect_same(w, path), 200);
		snprintf(path, sizeof(path), "/v1/log/proof/consistency?old=%llu&size=%llu", i, size);
		ck_assert_int_eq(expect_same(w, path), 200);
	}
	snprintf(path, sizeof(path), "/tile/0/000.p/%llu", size % 256);
	ck_assert_int_eq(expect_same(w, path), size % 256 ? 200 : 404);
	snprintf(path, sizeof(path), "/tile/entries/000.p/%llu", size % 256);
	ck_assert_int_eq(expect_same(w, path), size % 256 ? 200 : 404);
	for (size_t d = 0; d < n_domains; d++) {
		snprintf(path, sizeof(path), "/v1/domains/%s", domains[d]);
		ck_assert_int_eq(expect_same(w, path), 200);
		snprintf(path, sizeof(path), "/v1/domains/%s/bundle", domains[d]);
		ck_assert_int_eq(expect_same(w, path), 200);
		for (unsigned seq = 1; seq <= 3; seq++) {
			static const char *const rest[] = { "", "/proof", "/entry" };

			for (size_t k = 0; k < 3; k++) {
				snprintf(path, sizeof(path), "/v1/domains/%s/bundles/%u%s", domains[d], seq, rest[k]);
				expect_same(w, path);
			}
		}
	}
}

static long replica_metric(struct world *w, const char *series)
{
	return tu_metric(&w->replica, series);
}

START_TEST(a_replica_serves_the_primarys_bytes_and_refuses_writes)
{
	static const char *const domains[] = { "a.replica.test", "b.replica.test" };
	struct world w;
	struct tu_reply r;
	char *body = NULL, vkey2[512];

	world_init(&w);
	register_domain(&w, domains[0]);
	register_domain(&w, domains[1]);
	publish(&w, domains[0]);
	publish(&w, domains[1]);
	/* A key change, and versions on both sides of it. */
	ck_assert_int_eq(tu_run(&w.o, w.dir, "bundlectl", "keygen --name second.replica.test --out '%s'", w.key2), 0);
	snprintf(vkey2, sizeof(vkey2), "%.*s", (int)w.o.out_len - 1, w.o.out);
	BUNDLECTL_OK(&w, "domain add-key --server %s --key '%s' --domain %s '%s'", w.primary.base_url, w.key, domains[0],
		vkey2);
	publish(&w, domains[0]);

	start_replica(&w);
	wait_level(&w);
	expect_same_everything(&w, domains, 2);
	ck_assert_int_eq(replica_metric(&w, "bundled_mirror_lag_entries{mirror=\"replica\"}"), 0);
	ck_assert_int_eq(replica_metric(&w, "bundled_replica_halted"), 0);
	ck_assert_int_eq(tu_http_get(&w.replica, "/healthz", &body, NULL), 200);
	ck_assert_ptr_nonnull(strstr(body, "replica of"));
	free(body);

	/* Writes are the primary's: the replica names it, and nothing changes. */
	ck_assert_int_eq(tu_api_json(&r, &w.replica, "POST", "/v1/domains/a.replica.test/bundles", "{}", NULL), 503);
	ck_assert_ptr_nonnull(strstr(r.body, "read_only_replica"));
	ck_assert_ptr_nonnull(strstr(r.body, w.primary.base_url));
	tu_reply_free(&r);
	ck_assert_int_eq(tu_api_json(&r, &w.replica, "POST", "/v1/domains", "{}", NULL), 503);
	ck_assert_ptr_nonnull(strstr(r.body, "read-only replica of"));
	tu_reply_free(&r);

	/* The primary goes on; the replica follows, and after its own restart too. */
	publish(&w, domains[1]);
	publish(&w, domains[0]);
	wait_level(&w);
	expect_same_everything(&w, domains, 2);
	ck_assert_int_eq(tu_daemon_stop(&w.replica), 0);
	publish(&w, domains[1]);
	start_replica(&w);
	wait_level(&w);
	expect_same_everything(&w, domains, 2);
	world_free(&w);
}
END_TEST

/* ---- a watcher of the replica: the library's client on a thread of its own ---- */

struct heard {
	bd_watch *w;
	pthread_t thread;
	bool connected, done; /* atomic */
	bd_watch_event ev;    /* the first event, its strings copied */
	char domain[BD_MAX_DOMAIN + 1], sha256[65];
};

static int heard_event(void *ctx, const bd_watch_event *ev)
{
	struct heard *h = ctx;

	h->ev = *ev;
	snprintf(h->domain, sizeof(h->domain), "%s", ev->domain);
	snprintf(h->sha256, sizeof(h->sha256), "%s", ev->sha256);
	h->ev.domain = h->domain;
	h->ev.sha256 = h->sha256;
	h->ev.cid = h->ev.json = NULL;
	__atomic_store_n(&h->done, true, __ATOMIC_RELEASE);
	return 1; /* one is enough: the run ends */
}

static void heard_state(void *ctx, bool connected, const char *why)
{
	(void)why;
	if (connected)
		__atomic_store_n(&((struct heard *)ctx)->connected, true, __ATOMIC_RELEASE);
}

static void *heard_main(void *arg)
{
	int rc = bd_watch_run(((struct heard *)arg)->w);

	(void)rc; /* 1 from heard_event, or 0 when stopped */
	return NULL;
}

/* Watches td on the daemon, from its next event (resume: after `after`). */
static void heard_start(struct heard *h, const struct tu_daemon *d, const char *const *td, bool resume, uint64_t after)
{
	bd_watch_options o = { .http = { .name = "replica", .url = d->base_url }, .domains = td, .n_domains = 1,
		.resume = resume, .after = after, .on_event = heard_event, .on_state = heard_state };

	memset(h, 0, sizeof(*h));
	o.ctx = h;
	ck_assert_int_eq(bd_watch_new(&h->w, &o), 0);
	ck_assert_int_eq(pthread_create(&h->thread, NULL, heard_main, h), 0);
}

/* Waits (at most 30 s) for `flag`; then ends the watch. */
static bool heard_wait(struct heard *h, bool *flag)
{
	for (int i = 0; i < 600 && !__atomic_load_n(flag, __ATOMIC_ACQUIRE); i++)
		sleep_ms(50);
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

static void heard_stop(struct heard *h)
{
	bd_watch_stop(h->w);
	pthread_join(h->thread, NULL);
	bd_watch_free(h->w);
}

/* The size of the checkpoint the daemon serves. */
static unsigned long long served_size(const struct tu_daemon *d)
{
	char *body = NULL;
	unsigned long long size = 0;

	ck_assert_int_eq(tu_http_get(d, "/checkpoint", &body, NULL), 200);
	ck_assert_int_eq(sscanf(strchr(body, '\n') + 1, "%llu", &size), 1);
	free(body);
	return size;
}

/* Whether the replica's database holds the diff of td from..to, made without a request
 * (the key of bundled/daemon/diff_cache.c: the domain, a NUL, to and from big-endian), read
 * beside the running daemon; waits at most 10 s for its background thread. */
static bool diff_precomputed(struct world *w, const char *td, uint64_t from, uint64_t to)
{
	char path[4200], key[300], *value = NULL;
	size_t n = strlen(td), len;
	bool found = false;
	tl_db *db;

	snprintf(path, sizeof(path), "%s/db", w->replica_data);
	memcpy(key, td, n + 1);
	tl_store_u64be((uint8_t *)key + n + 1, to);
	tl_store_u64be((uint8_t *)key + n + 9, from);
	for (int i = 0; i < 200 && !found; i++) {
		if (tl_db_open_read_only(&db, path) != 0)
			continue;
		found = tl_db_get(&value, &len, db, tl_db_cf(db, "diffs"), key, n + 17) == 0;
		free(value);
		value = NULL;
		tl_db_close(db);
		if (!found)
			sleep_ms(50);
	}
	return found;
}

/* `bundlectl diff apply` of the replica's diff from..to onto the replica's version `from`
 * must be the primary's version `to`, byte for byte. */
static void expect_patch(struct world *w, const char *td, unsigned from, unsigned to)
{
	char path[256], *body = NULL, *old = NULL, *want = NULL;
	size_t old_len, want_len, patch_len;
	json_t *doc;
	const char *b64;
	uint8_t *patch;

	snprintf(path, sizeof(path), "/v1/domains/%s/diff?from=%u&to=%u", td, from, to);
	ck_assert_int_eq(tu_http_get(&w->replica, path, &body, NULL), 200);
	ck_assert_ptr_nonnull(doc = json_loads(body, 0, NULL));
	ck_assert_msg(strcmp(json_string_value(json_object_get(doc, "status")), "patch") == 0, "%s: %s", path, body);
	ck_assert_ptr_nonnull(b64 = json_string_value(json_object_get(doc, "patch")));
	ck_assert_ptr_nonnull(patch = malloc(strlen(b64)));
	ck_assert_int_eq(tl_base64_decode(patch, strlen(b64), &patch_len, b64, strlen(b64)), 0);
	ck_assert_int_eq(tu_write_file(tu_path_in(w->dir, "patch"), patch, patch_len), 0);
	snprintf(path, sizeof(path), "/v1/domains/%s/bundles/%u", td, from);
	ck_assert_int_eq(tu_http_get(&w->replica, path, &old, &old_len), 200);
	ck_assert_int_eq(tu_write_file(tu_path_in(w->dir, "old"), old, old_len), 0);
	snprintf(path, sizeof(path), "/v1/domains/%s/bundles/%u", td, to);
	ck_assert_int_eq(tu_http_get(&w->primary, path, &want, &want_len), 200);
	BUNDLECTL_OK(w, "diff apply '%s/old' '%s/patch'", w->dir, w->dir);
	ck_assert_msg(w->o.out_len == want_len && memcmp(w->o.out, want, want_len) == 0,
		"the patched version %u is not the primary's", to);
	json_decref(doc);
	free(patch);
	free(body);
	free(old);
	free(want);
}

/* `bundlectl agent --once` following the replica with the primary's log key: its output is
 * the primary's newest version of td. Returns whether it came as a diff. */
static bool agent_converges(struct world *w, const char *td)
{
	char path[256], *want = NULL, *have;
	size_t want_len, have_len;
	bool diff;

	ck_assert_msg(tu_agent_once(&w->o, w->dir, w->replica.base_url,
			      "--domain %s --out '%s/agent.json' --state '%s/agent' --log-key '%s'", td, w->dir, w->dir,
			      w->primary.vkey) == 0,
		"agent: %s", w->o.err);
	diff = strstr(w->o.err, "from a diff") != NULL;
	snprintf(path, sizeof(path), "/v1/domains/%s/bundle", td);
	ck_assert_int_eq(tu_http_get(&w->primary, path, &want, &want_len), 200);
	ck_assert_ptr_nonnull(have = (char *)tu_read_file(tu_path_in(w->dir, "agent.json"), &have_len));
	ck_assert_msg(have_len == want_len && memcmp(have, want, want_len) == 0,
		"the agent's file is not the primary's newest version of %s", td);
	free(want);
	free(have);
	return diff;
}

/* The replica's federation endpoint serves version `sequence` of td, as the primary's does. */
static void expect_newest(struct world *w, const char *td, const char *sequence)
{
	struct tu_reply r;
	char path[256];

	snprintf(path, sizeof(path), "/v1/domains/%s/bundle", td);
	ck_assert_int_eq(tu_api(&r, &w->replica, "GET", path, NULL, NULL, 0, NULL), 200);
	ck_assert_str_eq(tu_reply_header(&r, "X-Bundle-Sequence"), sequence);
	tu_reply_free(&r);
	ck_assert_int_eq(expect_same(w, path), 200);
}

START_TEST(a_replica_tells_its_watchers_serves_diffs_and_feeds_agents)
{
	static const char *const td[] = { "w.replica.test" };
	struct world w;
	struct heard h, again;
	unsigned long long size;

	world_init(&w);
	register_domain(&w, td[0]);
	publish(&w, td[0]);
	start_replica(&w);
	wait_level(&w);
	ck_assert(!agent_converges(&w, td[0]));

	/* A version published on the primary reaches a watcher of the replica, as the primary's
	 * own watchers see it: the entry's leaf index, a tree that includes it. */
	heard_start(&h, &w.replica, td, false, 0);
	ck_assert_msg(heard_wait(&h, &h.connected), "the watcher did not connect to the replica");
	expect_newest(&w, td[0], "1"); /* and kept by the replica's version cache */
	publish(&w, td[0]);
	size = served_size(&w.primary);
	ck_assert_msg(heard_wait(&h, &h.done), "no event from the replica in 30 s");
	heard_stop(&h);
	ck_assert_str_eq(h.ev.domain, td[0]);
	ck_assert(!h.ev.revocation);
	ck_assert_uint_eq(h.ev.sequence, 2);
	ck_assert_uint_eq(h.ev.index, size - 1);
	ck_assert_uint_eq(h.ev.tree_size, size);
	/* Once its watchers are told, its federation endpoint serves the new version. */
	expect_newest(&w, td[0], "2");
	/* Last-Event-ID replay on the replica: resuming just before it gets it again. */
	heard_start(&again, &w.replica, td, true, h.ev.index - 1);
	ck_assert_msg(heard_wait(&again, &again.done), "no replayed event from the replica in 30 s");
	heard_stop(&again);
	ck_assert_uint_eq(again.ev.index, h.ev.index);
	ck_assert_str_eq(again.ev.sha256, h.ev.sha256);

	/* Its diffs turn one version into the next, made once it took the version; the agent
	 * takes them and converges. */
	wait_level(&w);
	ck_assert_msg(diff_precomputed(&w, td[0], 1, 2), "the replica did not precompute the diff from 1 to 2");
	expect_patch(&w, td[0], 1, 2);
	ck_assert(agent_converges(&w, td[0]));
	publish(&w, td[0]);
	wait_level(&w);
	expect_patch(&w, td[0], 2, 3);
	expect_patch(&w, td[0], 1, 3);
	ck_assert(agent_converges(&w, td[0]));

	/* Still read-only. */
	ck_assert_int_eq(tu_http_request(&w.replica, "POST", "/v1/domains", "{}", 2, NULL, NULL), 503);
	world_free(&w);
}
END_TEST

/* Polling every 60 s, the replica still follows a publish at once: through its watch. */
START_TEST(a_replica_follows_the_primarys_events_not_its_interval)
{
	static const char *const td = "e.replica.test";
	struct world w;
	const char *args[] = { "--replica-of", NULL, "--replica-log-key", NULL, "--replica-interval", "60000", NULL };
	unsigned long long size;
	int i;

	world_init(&w);
	register_domain(&w, td);
	publish(&w, td);
	args[1] = w.primary.base_url;
	args[3] = w.primary.vkey;
	ck_assert_int_eq(tu_daemon_start(&w.replica, w.replica_data, args), 0);
	wait_level(&w); /* the first round, at start */
	/* Until the replica's watch of the primary is up (its metric counts no connections:
	 * publish until one is followed). */
	for (i = 0; i < 20; i++) {
		publish(&w, td);
		size = served_size(&w.primary);
		for (int k = 0; k < 40 && served_size(&w.replica) < size; k++)
			sleep_ms(50);
		if (served_size(&w.replica) >= size)
			break;
	}
	ck_assert_msg(i < 20, "the replica did not follow a publish within 2 s, 20 times");
	/* And again, now that it is connected: each within 2 s, not 60. */
	for (int k = 0; k < 3; k++) {
		publish(&w, td);
		size = served_size(&w.primary);
		for (int n = 0; n < 40 && served_size(&w.replica) < size; n++)
			sleep_ms(50);
		ck_assert_uint_eq(served_size(&w.replica), size);
	}
	world_free(&w);
}
END_TEST

/* Whether the daemon serves a checkpoint cosigned by the test's witness (and as large as
 * `level_with`'s, unless NULL), waiting at most 30 s. */
static bool serves_cosigned(const struct tu_daemon *d, const struct tu_daemon *level_with)
{
	for (int i = 0; i < 600; i++) {
		char *cp = NULL;
		bool ok;

		ck_assert_int_eq(tu_http_get(d, "/checkpoint", &cp, NULL), 200);
		ok = strstr(cp, "\u2014 witness.replica.test ") != NULL &&
		     (level_with == NULL || served_size(d) >= served_size(level_with));
		free(cp);
		if (ok)
			return true;
		sleep_ms(50);
	}
	return false;
}

/* A primary with a witness serves cosigned checkpoints: the replica stores and serves the
 * same note, cosignature included (a new note of the same tree is taken too). */
START_TEST(a_replica_serves_the_primarys_cosigned_checkpoint)
{
	static const char *const td = "c.replica.test";
	struct world w;
	struct tu_daemon witness = { 0 };
	char wkey[4200], wstate[4200], wvkey[512], spec[1024];
	const char *wargs[] = { "witness", "serve", "--key", wkey, "--log", NULL, "--state", wstate, "--listen",
		"127.0.0.1:0", NULL };
	const char *pargs[] = { "--witness", spec, "--witness-quorum", "1", NULL };

	world_init(&w);
	snprintf(wkey, sizeof(wkey), "%s/w.key", w.dir);
	snprintf(wstate, sizeof(wstate), "%s/w-state", w.dir);
	BUNDLECTL_OK(&w, "keygen --cosigner --name witness.replica.test --out '%s'", wkey);
	snprintf(wvkey, sizeof(wvkey), "%.*s", (int)w.o.out_len - 1, w.o.out);
	wargs[5] = w.primary.vkey;
	ck_assert_int_eq(tu_server_start(&witness, "bundlectl", wargs, tu_path_in(w.dir, "witness.log")), 0);
	snprintf(spec, sizeof(spec), "http://127.0.0.1:%u=%s", witness.port, wvkey);
	ck_assert_int_eq(tu_daemon_stop(&w.primary), 0);
	ck_assert_int_eq(tu_daemon_start(&w.primary, w.primary_data, pargs), 0);
	register_domain(&w, td);
	publish(&w, td);
	ck_assert_msg(serves_cosigned(&w.primary, NULL), "the primary never served a cosigned checkpoint");
	start_replica(&w);
	wait_level(&w); /* byte for byte: the cosignature too */
	ck_assert(serves_cosigned(&w.replica, NULL));
	/* A new version: the replica follows, and takes its cosigned note as it comes. */
	publish(&w, td);
	ck_assert_msg(serves_cosigned(&w.replica, &w.primary), "the replica never served the cosigned checkpoint of the new tree");
	wait_level(&w);
	tu_daemon_stop(&witness);
	world_free(&w);
}
END_TEST

START_TEST(a_forked_primary_halts_the_replica_with_evidence)
{
	static const char *const domains[] = { "a.replica.test" };
	struct world w;
	char fork_data[4096], listen[64], *old_cp = NULL, *cp = NULL, *body = NULL, *key = NULL;
	const char *args[] = { "--listen", listen, NULL };
	size_t key_len;
	struct stat st;

	world_init(&w);
	register_domain(&w, domains[0]);
	publish(&w, domains[0]);
	publish(&w, domains[0]);
	start_replica(&w);
	wait_level(&w);
	ck_assert_int_eq(tu_http_get(&w.replica, "/checkpoint", &old_cp, NULL), 200);

	/* Another log under the same key, on the same address, longer than the first. */
	ck_assert_int_eq(tu_daemon_stop(&w.primary), 0);
	snprintf(fork_data, sizeof(fork_data), "%s/fork", w.dir);
	ck_assert_int_eq(mkdir(fork_data, 0700), 0);
	ck_assert_ptr_nonnull(key = (char *)tu_read_file(tu_path_in(w.primary_data, "log.key"), &key_len));
	ck_assert_int_eq(tu_write_file(tu_path_in(fork_data, "log.key"), key, key_len), 0);
	ck_assert_int_eq(chmod(tu_path_in(fork_data, "log.key"), 0600), 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", w.primary.port);
	snprintf(w.primary_data, sizeof(w.primary_data), "%s", fork_data);
	/* Built elsewhere first, so that the replica sees the longer log at once: a fork, not a
	 * rollback on the way. */
	ck_assert_int_eq(tu_daemon_start(&w.primary, fork_data, NULL), 0);
	for (int i = 0; i < 5; i++) {
		char td[64];

		snprintf(td, sizeof(td), "f%d.replica.test", i);
		register_domain(&w, td);
	}
	ck_assert_int_eq(tu_daemon_stop(&w.primary), 0);
	ck_assert_int_eq(tu_daemon_start(&w.primary, fork_data, args), 0);

	/* The replica sees it, halts, says so, and keeps what it had verified. */
	for (int i = 0; i < 600 && replica_metric(&w, "bundled_replica_halted") != 1; i++)
		sleep_ms(50);
	ck_assert_int_eq(replica_metric(&w, "bundled_replica_halted"), 1);
	ck_assert_int_eq(tu_http_get(&w.replica, "/healthz", &body, NULL), 503);
	ck_assert_msg(strstr(body, "halted: the primary") != NULL && strstr(body, "forked") != NULL, "%s", body);
	free(body);
	ck_assert_int_eq(tu_http_get(&w.replica, "/checkpoint", &cp, NULL), 200);
	ck_assert_str_eq(cp, old_cp);
	free(cp);
	ck_assert_int_eq(tu_http_get(&w.replica, "/v1/domains/a.replica.test/bundles/2", NULL, NULL), 200);

	/* The evidence convinces a third party: the two checkpoints are not consistent. */
	ck_assert_int_eq(tu_run(&w.o, w.dir, "bundlectl",
				 "verify-checkpoint --vkey '%s' '%s/replica-fork/primary-new.checkpoint'",
				 w.primary.vkey, w.replica_data),
		0);
	tu_assert_invalid(&w.o,
		tu_run(&w.o, w.dir, "bundlectl",
			"verify-consistency --vkey '%s' '%s/replica-fork/primary-old.checkpoint' "
			"'%s/replica-fork/primary-new.checkpoint' '%s/replica-fork/primary-consistency.proof'",
			w.primary.vkey, w.replica_data, w.replica_data, w.replica_data),
		"");

	/* Halted it stays, across a restart, until an operator has looked. */
	ck_assert_int_eq(tu_daemon_stop(&w.replica), 0);
	start_replica(&w);
	ck_assert_int_eq(tu_http_get(&w.replica, "/healthz", &body, NULL), 503);
	free(body);
	sleep_ms(300);
	ck_assert_int_eq(tu_http_get(&w.replica, "/checkpoint", &cp, NULL), 200);
	ck_assert_str_eq(cp, old_cp);
	ck_assert_int_eq(stat(tu_path_in(w.replica_data, "replica-fork/primary-fork.txt"), &st), 0);
	free(cp);
	free(old_cp);
	free(key);
	world_free(&w);
}
END_TEST

START_TEST(a_replica_needs_the_primarys_key)
{
	struct world w;
	char out[4096], *text;
	size_t len;

	world_init(&w);
	snprintf(out, sizeof(out), "%s/r.log", w.dir);
	ck_assert_int_eq(tu_system("'%s' --data '%s' --replica-of http://127.0.0.1:9 2>'%s'", tu_bin_path("bundled"),
				 w.replica_data, out),
		2);
	ck_assert_ptr_nonnull(text = (char *)tu_read_file(out, &len));
	ck_assert_ptr_nonnull(strstr(text, "replica_log_key"));
	free(text);
	world_free(&w);
}
END_TEST

Suite *suite_replica(void)
{
	Suite *s = suite_create("replica");
	TCase *tc = tcase_create("two daemons");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, a_replica_serves_the_primarys_bytes_and_refuses_writes);
	tcase_add_test(tc, a_replica_tells_its_watchers_serves_diffs_and_feeds_agents);
	tcase_add_test(tc, a_replica_follows_the_primarys_events_not_its_interval);
	tcase_add_test(tc, a_replica_serves_the_primarys_cosigned_checkpoint);
	tcase_add_test(tc, a_forked_primary_halts_the_replica_with_evidence);
	tcase_add_test(tc, a_replica_needs_the_primarys_key);
	suite_add_tcase(s, tc);
	return s;
}
