/*
 * Publishing end to end over HTTP, against the real daemon (build/bin/bundled) at its default
 * settings in a fresh data directory:
 *  1. publishes/s and publish-to-acknowledged latency (p50, p99): many publishers (threads,
 *     one keep-alive connection each, each from its own loopback address 127.0.0.N so the
 *     per-client write limit applies as to separate clients), many domains, small SPIFFE
 *     bundles (tests/vectors/bundle/valid.json: 11 X.509 and JWT authorities). Requests are
 *     signed before the clock starts: only the daemon's work is timed.
 *  2. bytes on disk per published version of a ~280 KB CA bundle: the versions of
 *     CACERT_HISTORY_DIR (default ../shared/research/cacert-history) or, when absent,
 *     synthetic versions that each replace one CA of a ~280 KB bundle.
 *
 *   build/bench/bench_publish_http [CACERT_HISTORY_DIR | --throughput-only]
 *
 * (--throughput-only runs the first part alone, e.g. under perf.)
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <curl/curl.h>
#include <stdbool.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rocksdb/c.h>

#include "bundled/blockstore.h"
#include "bundled/bundle.h"
#include "bundled/pinq.h"
#include "bundled/registry.h"
#include "bundled/request.h"
#include "translog/db.h"
#include "translog/log.h"
#include "util/clock.h"
#include "util/daemon.h"
#include "util/stats.h"
#include "util/file.h"
#include "util/synth.h"

enum { PUBLISHERS = 32, DOMAINS = 64, VERSIONS = 40, HISTORY_MAX = 64, SYNTH_VERSIONS = 20 };

static int fail(const char *what)
{
	fprintf(stderr, "bench_publish_http: %s: %s\n", what, tl_error_message());
	return 1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static uint64_t disk_bytes;

static int add_size(const char *path, const struct stat *st, int flag)
{
	if (flag == FTW_F)
		disk_bytes += (uint64_t)st->st_blocks * 512u;
	return 0;
}

/* What the data directory holds at rest: every column family compacted (a stopped daemon's
 * WAL and memtables still hold every write, duplicates included). */
static uint64_t du(const char *dir)
{
	const char *cfs[TL_LOG_COLUMN_FAMILY_COUNT + 3];
	char path[PATH_MAX + 8];
	size_t n = 0;
	tl_db *db;

	for (size_t i = 0; i < TL_LOG_COLUMN_FAMILY_COUNT; i++)
		cfs[n++] = tl_log_column_families[i];
	cfs[n++] = bd_blockstore_column_family;
	cfs[n++] = bd_pinq_column_family;
	cfs[n++] = BD_REGISTRY_COLUMN_FAMILY;
	snprintf(path, sizeof(path), "%s/db", dir);
	if (tl_db_open(&db, path, cfs, n) == 0) {
		for (size_t i = 0; i < n; i++)
			rocksdb_compact_range_cf(tl_db_rocks(db), tl_db_cf(db, cfs[i]), NULL, 0, NULL, 0);
		tl_db_close(db);
	}
	disk_bytes = 0;
	ftw(dir, add_size, 16);
	return disk_bytes;
}

static int throughput(struct bench_daemon *d)
{
	static struct bench_publisher pubs[PUBLISHERS];
	static struct bench_request reqs[DOMAINS][VERSIONS];
	tl_signer *keys[DOMAINS];
	pthread_t threads[PUBLISHERS];
	uint8_t *file;
	size_t len, total = 0, failed = 0;
	double *all, t0, wall, cpu0, cpu;
	bd_bundle *b = NULL;
	CURL *curl = curl_easy_init();
	char *auth;

	if (bench_daemon_start(d, NULL) != 0 || (auth = bench_read_token(d)) == NULL)
		return fail("starting the daemon");
	if ((file = bench_read_file("tests/vectors/bundle/valid.json", 1u << 20, &len)) == NULL ||
	    bd_bundle_parse(&b, file, len, 0, NULL) != 0)
		return fail("tests/vectors/bundle/valid.json (run from the source root)");
	for (int k = 0; k < DOMAINS; k++) {
		char td[64];

		snprintf(td, sizeof(td), "d%d.bench.test", k);
		if (tl_signer_generate(&keys[k], td) != 0 || bench_register_domain(curl, d, auth, td, keys[k]) != 0)
			return fail("registering");
		for (int v = 0; v < VERSIONS; v++)
			if (bench_make_request(&reqs[k][v], d, b, td, (uint64_t)v + 1, keys[k]) != 0)
				return fail("signing");
	}
	/* Publisher i serves domains i, i + PUBLISHERS, ... in turn, each version in order. */
	for (int i = 0; i < PUBLISHERS; i++) {
		size_t per = (DOMAINS / PUBLISHERS) * VERSIONS, n = 0;

		pubs[i] = (struct bench_publisher){ d, i, calloc(per, sizeof(struct bench_request)), 0, calloc(per, sizeof(double)), 0, NULL, NULL };
		for (int v = 0; v < VERSIONS; v++)
			for (int k = i; k < DOMAINS; k += PUBLISHERS)
				pubs[i].reqs[n++] = reqs[k][v];
		pubs[i].n = n;
	}
	cpu0 = bench_daemon_cpu_s(d);
	t0 = bench_now_s();
	for (int i = 0; i < PUBLISHERS; i++)
		pthread_create(&threads[i], NULL, bench_publish, &pubs[i]);
	for (int i = 0; i < PUBLISHERS; i++)
		pthread_join(threads[i], NULL);
	wall = bench_now_s() - t0;
	cpu = bench_daemon_cpu_s(d) - cpu0;
	all = calloc((size_t)DOMAINS * VERSIONS, sizeof(double));
	for (int i = 0; i < PUBLISHERS; i++) {
		memcpy(all + total, pubs[i].latency, pubs[i].n * sizeof(double));
		total += pubs[i].n;
		failed += pubs[i].failed;
		free(pubs[i].reqs);
		free(pubs[i].latency);
	}
	bench_sort(all, total);
	printf("publish throughput: %zu publishes (%d publishers, %d domains, %zu-byte SPIFFE bundle, %zu failed)\n",
		total, PUBLISHERS, DOMAINS, len, failed);
	printf("  %.0f publishes/s; publish-to-ack p50 %.1f ms, p99 %.1f ms, max %.1f ms  (aim: >= 2000/s, p99 <= 50 ms)\n",
		(double)total / wall, all[total / 2] * 1e3, all[total * 99 / 100] * 1e3, all[total - 1] * 1e3);
	/* What the daemon's threads used: unlike the rates, hardly moved by the machine's load. */
	printf("  daemon CPU (user + system): %.2f ms per publish\n", cpu * 1e3 / (double)total);
	{
		static const char *const names[] = { "\nbundled_log_appends_total ", "\nbundled_log_commits_total ",
			"\nbundled_log_commit_duration_seconds_sum " };
		tl_buf m = tl_buf_make(1u << 20);
		const char *v[3] = { NULL, NULL, NULL };

		if (bench_request(curl, d, "/metrics", NULL, NULL, 0, &m) == 200 && tl_buf_append(&m, "", 1) == 0)
			for (int i = 0; i < 3; i++)
				if ((v[i] = strstr((const char *)m.data, names[i])) != NULL)
					v[i] += strlen(names[i]);
		if (v[0] && v[1] && v[2])
			printf("  daemon: %.*s entries appended in %.*s group commits taking %.*s s in all\n",
				(int)strcspn(v[0], "\n"), v[0], (int)strcspn(v[1], "\n"), v[1], (int)strcspn(v[2], "\n"), v[2]);
		tl_buf_free(&m);
	}
	bench_daemon_stop(d);
	for (int k = 0; k < DOMAINS; k++) {
		tl_signer_free(keys[k]);
		for (int v = 0; v < VERSIONS; v++)
			free(reqs[k][v].body);
	}
	free(all);
	free(auth);
	free(file);
	bd_bundle_free(b);
	curl_easy_cleanup(curl);
	return failed ? 1 : 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The history's files, or synthetic PEM versions each replacing one CA of ~280 KB. */
static size_t load_versions(uint8_t **files, size_t *lens, const char *dir)
{
	struct bench_certs certs = { 0 };
	char *names[HISTORY_MAX];
	size_t n = 0, count = 0;
	struct dirent *de;
	DIR *dp = opendir(dir);

	if (dp != NULL) {
		while ((de = readdir(dp)) != NULL && n < HISTORY_MAX)
			if (strlen(de->d_name) > 4 && strcmp(de->d_name + strlen(de->d_name) - 4, ".pem") == 0)
				names[n++] = strdup(de->d_name);
		closedir(dp);
		qsort(names, n, sizeof(names[0]), by_name);
		for (size_t i = 0; i < n; i++) {
			char path[PATH_MAX + 256];

			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			if ((files[count] = bench_read_file(path, 16u << 20, &lens[count])) != NULL)
				count++;
			free(names[i]);
		}
		return count;
	}
	if (bench_synth_cas(&certs, (280u << 10) + SYNTH_VERSIONS * 1024u) != 0)
		return 0;
	for (size_t v = 0; v < SYNTH_VERSIONS && v + certs.n - SYNTH_VERSIONS < certs.n; v++) {
		tl_buf pem = tl_buf_make(16u << 20);
		bd_bundle *b;

		if (bd_bundle_new(&b) != 0)
			break;
		for (size_t i = v; i < v + certs.n - SYNTH_VERSIONS; i++)
			if (bd_bundle_add_x509_der(b, certs.der[i], certs.len[i]) != 0)
				break;
		if (bd_bundle_write_pem(&pem, b) == 0)
			files[count] = tl_buf_detach(&pem, &lens[count]), count++;
		bd_bundle_free(b);
		tl_buf_free(&pem);
	}
	bench_certs_free(&certs);
	return count;
}

static int disk_per_version(struct bench_daemon *d, const char *history)
{
	static uint8_t *files[HISTORY_MAX];
	static size_t lens[HISTORY_MAX];
	DIR *real = opendir(history);
	size_t n = load_versions(files, lens, history), canonical = 0;
	CURL *curl = curl_easy_init();
	tl_signer *key;
	uint64_t before, after;
	char *auth, data[PATH_MAX + 8];
	double t0, wall;

	snprintf(data, sizeof(data), "%s/data", d->dir);
	if (n == 0)
		return fail("no versions to publish");
	if (bench_daemon_start(d, NULL) != 0 || (auth = bench_read_token(d)) == NULL || tl_signer_generate(&key, "history.bench.test") != 0 ||
	    bench_register_domain(curl, d, auth, "history.bench.test", key) != 0)
		return fail("starting the daemon");
	bench_daemon_stop(d);
	before = du(data);
	if (bench_daemon_start(d, NULL) != 0)
		return fail("restarting the daemon");
	t0 = bench_now_s();
	for (size_t i = 0; i < n; i++) {
		struct bench_request r;
		bd_bundle *b;
		tl_buf out = tl_buf_make(1u << 20), canon = tl_buf_make(BD_MAX_BUNDLE_SIZE);
		bd_bundle_report report = { 0 };

		/* As a publisher of the public CA store must: leave out what Go refuses (EC-ACC). */
		if (bd_bundle_parse(&b, files[i], lens[i], BD_PARSE_SKIP_REFUSED, &report) != 0 ||
		    bench_make_request(&r, d, b, "history.bench.test", i + 1, key) != 0)
			return fail("a history version");
		bd_bundle_set_sequence(b, i + 1);
		if (bd_bundle_write_canonical(&canon, b) == 0)
			canonical += canon.len;
		if (bench_request(curl, d, r.path, NULL, r.body, r.len, &out) != 201)
			return fail("publishing a history version");
		free(r.body);
		bd_bundle_report_free(&report);
		bd_bundle_free(b);
		tl_buf_free(&out);
		tl_buf_free(&canon);
	}
	wall = bench_now_s() - t0;
	bench_daemon_stop(d);
	after = du(data);
	printf("bytes on disk: %zu versions of a %.0f KB CA bundle (%s; canonical %.0f KB on average), %.1f ms per "
	       "publish one at a time\n",
		n, (double)lens[n - 1] / 1024, real ? history : "synthetic, one CA replaced per version",
		(double)canonical / n / 1024, wall / n * 1e3);
	printf("  data directory grew %.1f KB per version after a clean stop (canonical bytes: %.1f KB per version)\n",
		(double)(after - before) / n / 1024, (double)canonical / n / 1024);
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	if (real != NULL)
		closedir(real);
	free(auth);
	tl_signer_free(key);
	curl_easy_cleanup(curl);
	return 0;
}

int main(int argc, char **argv)
{
	const char *history = argc > 1 ? argv[1] : "../shared/research/cacert-history";
	bool only_throughput = strcmp(history, "--throughput-only") == 0;
	struct bench_daemon d = { 0 };
	char tmpl[] = "/tmp/bench-publish-XXXXXX";
	int rc;

	if (mkdtemp(tmpl) == NULL)
		return 1;
	curl_global_init(CURL_GLOBAL_ALL);
	snprintf(d.dir, sizeof(d.dir), "%s/throughput", tmpl);
	mkdir(d.dir, 0700);
	rc = throughput(&d);
	bench_daemon_stop(&d); /* when a phase failed with the daemon still up */
	if (!only_throughput) {
		snprintf(d.dir, sizeof(d.dir), "%s/history", tmpl);
		mkdir(d.dir, 0700);
		rc |= disk_per_version(&d, history);
		bench_daemon_stop(&d);
	}
	nftw(tmpl, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	curl_global_cleanup();
	return rc;
}
