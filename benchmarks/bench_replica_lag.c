/*
 * Read-replica lag under a publish storm, two real daemons on loopback: a primary
 * (build/bin/bundled, default settings) and a replica of it (--replica-of, polling every
 * INTERVAL ms). 16 publisher threads publish 40 versions of each of 32 domains as fast as the
 * primary takes them (signed before the clock starts), while a sampler reads both
 * checkpoints every 5 ms. A mode "MS" polls only (--replica-no-watch); "MS+watch" also
 * holds a watch of the primary and runs a round on each event (the default of bundled), so
 * the two are compared in the same run. Reported:
 *   - the primary's publishes/s during the storm (with the replica reading from it);
 *   - the replica's lag in time: for every primary checkpoint the sampler saw, how long until
 *     the replica served a checkpoint at least as large (p50, p99, max);
 *   - the replica's lag in entries (max), and how long it took to be level after the storm;
 *   - the replica's failed rounds (bundled_replica_failed_rounds_total).
 *
 *   build/bench/bench_replica_lag [INTERVAL_MS[+watch]|none ...]
 *                        (default: none 50 50+watch 1000 1000+watch)
 *
 * "none" is the baseline of the same run: the storm on a primary without a replica.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <curl/curl.h>
#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundled/bundle.h"
#include "util/clock.h"
#include "util/daemon.h"
#include "util/stats.h"
#include "util/file.h"

enum { PUBLISHERS = 16, DOMAINS = 32, VERSIONS = 40, MAX_SAMPLES = 200000 };

struct sample {
	double t;
	unsigned long long primary, replica;
};

struct sampler {
	const struct bench_daemon *primary, *replica;
	struct sample *s;
	volatile size_t n; /* written by the sampler only */
	volatile int stop;
};

static int fail(const char *what)
{
	fprintf(stderr, "bench_replica_lag: %s\n", what);
	return 1;
}

/* The size of the checkpoint a daemon serves now (0 if none). */
static unsigned long long checkpoint_size(CURL *curl, const struct bench_daemon *d, tl_buf *b)
{
	const char *nl;

	tl_buf_reset(b);
	if (bench_request(curl, d, "/checkpoint", NULL, NULL, 0, b) != 200 || tl_buf_append(b, "", 1) != 0 ||
	    (nl = strchr((const char *)b->data, '\n')) == NULL)
		return 0;
	return strtoull(nl + 1, NULL, 10);
}

static void *sample(void *arg)
{
	struct sampler *s = arg;
	CURL *a = curl_easy_init(), *b = curl_easy_init();
	tl_buf buf = tl_buf_make(1u << 16);

	while (!s->stop && s->n < MAX_SAMPLES) {
		struct sample *x = &s->s[s->n];

		x->t = bench_now_s();
		x->primary = checkpoint_size(a, s->primary, &buf);
		x->replica = checkpoint_size(b, s->replica, &buf);
		s->n++;
		usleep(5000);
	}
	tl_buf_free(&buf);
	curl_easy_cleanup(a);
	curl_easy_cleanup(b);
	return NULL;
}

static long metric(const struct bench_daemon *d, const char *name)
{
	CURL *curl = curl_easy_init();
	tl_buf m = tl_buf_make(1u << 20);
	char want[128];
	const char *p;
	long v = -1;

	snprintf(want, sizeof(want), "\n%s ", name);
	if (bench_request(curl, d, "/metrics", NULL, NULL, 0, &m) == 200 && tl_buf_append(&m, "", 1) == 0 &&
	    (p = strstr((const char *)m.data, want)) != NULL)
		v = strtol(p + strlen(want), NULL, 10);
	tl_buf_free(&m);
	curl_easy_cleanup(curl);
	return v;
}

/* The primary's verifier key, from GET /v1/log. */
static int log_vkey(char *out, size_t cap, const struct bench_daemon *d)
{
	CURL *curl = curl_easy_init();
	tl_buf b = tl_buf_make(1u << 16);
	json_t *doc = NULL;
	int rc = -1;

	if (bench_request(curl, d, "/v1/log", NULL, NULL, 0, &b) == 200 &&
	    (doc = json_loadb((const char *)b.data, b.len, 0, NULL)) != NULL &&
	    json_string_value(json_object_get(doc, "vkey")) != NULL) {
		snprintf(out, cap, "%s", json_string_value(json_object_get(doc, "vkey")));
		rc = 0;
	}
	json_decref(doc);
	tl_buf_free(&b);
	curl_easy_cleanup(curl);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int run(const char *base, const char *interval)
{
	static struct bench_request reqs[DOMAINS][VERSIONS];
	static struct bench_publisher pubs[PUBLISHERS];
	static struct sample samples[MAX_SAMPLES];
	static double lags[MAX_SAMPLES];
	struct bench_daemon primary = { 0 }, replica = { 0 };
	struct sampler sm = { &primary, &replica, samples, 0, 0 };
	pthread_t threads[PUBLISHERS], sampler;
	static tl_signer *keys[DOMAINS];
	char vkey[512], *auth = NULL, ms[32];
	bool watch = strstr(interval, "+watch") != NULL;
	const char *args[] = { "--replica-of", primary.url, "--replica-log-key", vkey, "--replica-interval", ms,
		watch ? NULL : "--replica-no-watch", NULL };
	CURL *curl = curl_easy_init();
	uint8_t *file;
	size_t len, nlags = 0, failed = 0, total = 0;
	unsigned long long final = 0, max_entries = 0;
	double t0, wall, level_at = -1;
	bd_bundle *b = NULL;
	bool with_replica = strcmp(interval, "none") != 0;
	int rc = 1;

	snprintf(ms, sizeof(ms), "%.*s", (int)strcspn(interval, "+"), interval);
	snprintf(primary.dir, sizeof(primary.dir), "%s/primary-%s", base, interval);
	snprintf(replica.dir, sizeof(replica.dir), "%s/replica-%s", base, interval);
	mkdir(primary.dir, 0700);
	mkdir(replica.dir, 0700);
	if (bench_daemon_start(&primary, NULL) != 0 || (auth = bench_read_token(&primary)) == NULL ||
	    log_vkey(vkey, sizeof(vkey), &primary) != 0 || (with_replica && bench_daemon_start(&replica, args) != 0)) {
		fail("starting the daemons");
		goto out;
	}
	if ((file = bench_read_file("tests/vectors/bundle/valid.json", 1u << 20, &len)) == NULL ||
	    bd_bundle_parse(&b, file, len, 0, NULL) != 0) {
		fail("tests/vectors/bundle/valid.json (run from the source root)");
		goto out;
	}
	free(file);
	for (int k = 0; k < DOMAINS; k++) {
		char td[64];

		snprintf(td, sizeof(td), "d%d.lag.bench.test", k);
		if (tl_signer_generate(&keys[k], td) != 0 || bench_register_domain(curl, &primary, auth, td, keys[k]) != 0) {
			fail("registering");
			goto out;
		}
		for (int v = 0; v < VERSIONS; v++)
			if (bench_make_request(&reqs[k][v], &primary, b, td, (uint64_t)v + 1, keys[k]) != 0) {
				fail("signing");
				goto out;
			}
	}
	for (int i = 0; i < PUBLISHERS; i++) {
		size_t n = 0;

		pubs[i] = (struct bench_publisher){ &primary, i,
			calloc((DOMAINS / PUBLISHERS) * VERSIONS, sizeof(struct bench_request)), 0,
			calloc((DOMAINS / PUBLISHERS) * VERSIONS, sizeof(double)), 0, NULL, NULL };
		for (int v = 0; v < VERSIONS; v++)
			for (int k = i; k < DOMAINS; k += PUBLISHERS)
				pubs[i].reqs[n++] = reqs[k][v];
		pubs[i].n = n;
	}
	if (with_replica)
		pthread_create(&sampler, NULL, sample, &sm);
	t0 = bench_now_s();
	for (int i = 0; i < PUBLISHERS; i++)
		pthread_create(&threads[i], NULL, bench_publish, &pubs[i]);
	for (int i = 0; i < PUBLISHERS; i++) {
		pthread_join(threads[i], NULL);
		total += pubs[i].n;
		failed += pubs[i].failed;
		free(pubs[i].reqs);
		free(pubs[i].latency);
	}
	wall = bench_now_s() - t0;
	if (!with_replica) {
		printf("no replica: %zu publishes in %.1f s (%.0f/s, %zu failed)\n", total, wall, (double)total / wall, failed);
		rc = failed > 0;
		goto out;
	}
	/* Until the replica is level, at most 60 s. */
	while (bench_now_s() - t0 < wall + 60) {
		size_t n = sm.n;

		if (n > 0 && samples[n - 1].primary > 0 && samples[n - 1].replica == samples[n - 1].primary &&
		    samples[n - 1].t > t0 + wall) {
			level_at = samples[n - 1].t - (t0 + wall);
			final = samples[n - 1].primary;
			break;
		}
		usleep(10000);
	}
	sm.stop = 1;
	pthread_join(sampler, NULL);
	/* For each primary size seen during the storm, when the replica first had it. */
	for (size_t i = 0, j = 0; i < sm.n; i++) {
		if (samples[i].t < t0 || (i > 0 && samples[i].primary == samples[i - 1].primary))
			continue;
		if (samples[i].primary > samples[i].replica && samples[i].primary - samples[i].replica > max_entries)
			max_entries = samples[i].primary - samples[i].replica;
		for (j = j > i ? j : i; j < sm.n && samples[j].replica < samples[i].primary; j++)
			;
		if (j < sm.n)
			lags[nlags++] = samples[j].t - samples[i].t;
	}
	bench_sort(lags, nlags);
	printf("replica polling every %s ms%s: %zu publishes in %.1f s (%.0f/s, %zu failed), final size %llu\n",
		ms, watch ? " and watching" : " (no watch)", total, wall, (double)total / wall, failed, final);
	if (nlags > 0)
		printf("  lag behind the primary's checkpoint: p50 %.0f ms, p99 %.0f ms, max %.0f ms (%zu checkpoints); "
		       "at most %llu entries behind; level %.0f ms after the storm; %ld failed rounds\n",
			lags[nlags / 2] * 1e3, lags[nlags * 99 / 100] * 1e3, lags[nlags - 1] * 1e3, nlags, max_entries,
			level_at * 1e3, metric(&replica, "bundled_replica_failed_rounds_total"));
	rc = level_at < 0 || failed > 0 ? 1 : 0;
out:
	bench_daemon_stop(&replica);
	bench_daemon_stop(&primary);
	for (int k = 0; k < DOMAINS; k++) {
		for (int v = 0; v < VERSIONS; v++) {
			free(reqs[k][v].body);
			reqs[k][v].body = NULL;
		}
		tl_signer_free(keys[k]);
		keys[k] = NULL;
	}
	bd_bundle_free(b);
	free(auth);
	curl_easy_cleanup(curl);
	return rc;
}

int main(int argc, char **argv)
{
	static const char *const defaults[] = { "none", "50", "50+watch", "1000", "1000+watch" };
	char tmpl[] = "/tmp/bench-replica-XXXXXX";
	int rc = 0;

	if (mkdtemp(tmpl) == NULL)
		return 1;
	curl_global_init(CURL_GLOBAL_ALL);
	if (argc > 1)
		for (int i = 1; i < argc; i++)
			rc |= run(tmpl, argv[i]);
	else
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			rc |= run(tmpl, defaults[i]);
	nftw(tmpl, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	curl_global_cleanup();
	return rc;
}
