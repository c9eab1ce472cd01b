/*
 * The publishing transaction at the library level (bd_publish_bundle, no HTTP): publishes/s
 * and publish-to-acknowledged latency (p50, p99) of small SPIFFE bundles (3 X.509 CAs) from
 * many concurrent publishers to many domains, on a real log, registry, block store and pin
 * queue in a temporary directory (deleted at the end). Entries are prepared and signed
 * before the clock starts: what is timed is the server's side (checks, re-derivation,
 * blocks, log append with its durable checkpoint, registry, pin). The daemon's end-to-end
 * figure (issue 9 §5) adds HTTP on top of this ceiling.
 *
 *   bench_publish [THREADS [DOMAINS [VERSIONS]]]   defaults 64 256 8
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/publish.h"
#include "util/clock.h"
#include "util/synth.h"

static void die(const char *what)
{
	fprintf(stderr, "bench_publish: %s: %s\n", what, tl_error_message());
	exit(1);
}

struct job {
	char *entry;
	size_t len;
	double latency;
};

struct worker {
	bd_publisher *p;
	struct job *jobs;
	size_t n;
	const uint8_t *bundle;
	size_t bundle_len;
};

static void *run(void *arg)
{
	struct worker *w = arg;

	for (size_t i = 0; i < w->n; i++) {
		bd_publish_result r;
		double t0 = bench_now_s();

		if (bd_publish_bundle(&r, w->p, (const uint8_t *)w->jobs[i].entry, w->jobs[i].len, w->bundle, w->bundle_len,
			    (uint64_t)time(NULL)) != 0)
			die("publish");
		w->jobs[i].latency = bench_now_s() - t0;
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int no_put(void *ctx, const bd_block *block)
{
	return tl_error_set(TL_E_UNAVAILABLE, "no IPFS node in this benchmark");
}

static int no_pin(void *ctx, const bd_cid *root)
{
	return tl_error_set(TL_E_UNAVAILABLE, "no IPFS node in this benchmark");
}

int main(int argc, char **argv)
{
	size_t threads = argc > 1 ? (size_t)atoi(argv[1]) : 64, domains = argc > 2 ? (size_t)atoi(argv[2]) : 256;
	size_t versions = argc > 3 ? (size_t)atoi(argv[3]) : 8, total = domains * versions;
	char dir[] = "/tmp/bench_publish.XXXXXX", cmd[64], vkey[BD_MAX_VKEY + 1];
	const char *cfs[TL_LOG_COLUMN_FAMILY_COUNT + 3];
	bd_pinq_transport t = { no_put, no_pin, NULL };
	struct bench_certs cas = { 0 };
	tl_buf pem = tl_buf_make(1 << 20), vk = tl_buf_make(TL_MAX_KEY_TEXT);
	bd_bundle *b = NULL;
	tl_signer *log_key = NULL, *pub = NULL;
	tl_db *db = NULL;
	tl_log *log = NULL;
	bd_registry *reg = NULL;
	bd_blockstore *bs = NULL;
	bd_pinq *pins = NULL;
	bd_publisher *p = NULL;
	bd_publish_options o = { 0 };
	struct job *jobs;
	struct worker *w;
	pthread_t *tid;
	double *lat, t0, secs;
	size_t ncf = 0;

	if (threads == 0 || domains == 0 || versions == 0 || domains % threads != 0) {
		fprintf(stderr, "usage: bench_publish [THREADS [DOMAINS [VERSIONS]]] (DOMAINS a multiple of THREADS)\n");
		return 2;
	}
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	for (size_t i = 0; i < TL_LOG_COLUMN_FAMILY_COUNT; i++)
		cfs[ncf++] = tl_log_column_families[i];
	cfs[ncf++] = BD_REGISTRY_COLUMN_FAMILY;
	cfs[ncf++] = bd_blockstore_column_family;
	cfs[ncf++] = bd_pinq_column_family;
	if (tl_signer_generate(&log_key, "bench.example/log") != 0 || tl_signer_generate(&pub, "publisher") != 0 ||
		tl_signer_vkey(&vk, pub) != 0)
		die("keys");
	memcpy(vkey, vk.data, vk.len + 1);
	if (tl_db_open(&db, dir, cfs, ncf) != 0 || tl_log_open(&log, db, log_key, NULL) != 0 ||
		bd_registry_open(&reg, db, log) != 0 || bd_blockstore_open(&bs, db) != 0 ||
		bd_pinq_open(&pins, db, bs, &t, NULL) != 0)
		die("open");
	o = (bd_publish_options){ log, reg, bs, pins, NULL };
	if (bd_publisher_new(&p, &o) != 0)
		die("publisher");

	/* A small bundle: three CAs (about 2 KB of canonical JSON). */
	if (bench_synth_cas(&cas, 1500) != 0 || cas.n < 3 || bd_bundle_new(&b) != 0)
		die("CAs");
	for (size_t i = 0; i < 3; i++)
		if (bd_bundle_add_x509_der(b, cas.der[i], cas.len[i]) != 0)
			die("add CA");
	if (bd_bundle_write_pem(&pem, b) != 0)
		die("pem");

	/* Domains registered, entries prepared and signed: job (d, v) is domain d's version v. */
	jobs = calloc(total, sizeof(*jobs));
	lat = calloc(total, sizeof(*lat));
	for (size_t d = 0; d < domains; d++) {
		char name[32];
		bd_publish_result r;

		snprintf(name, sizeof(name), "td%zu.example", d);
		if (bd_publish_register(&r, p, name, (const char *const[]){ vkey }, 1, (uint64_t)time(NULL)) != 0)
			die("register");
		for (size_t v = 0; v < versions; v++) {
			bd_entry *e = calloc(1, sizeof(*e));
			tl_buf text = tl_buf_make(BD_ENTRY_MAX_SIZE);

			e->kind = BD_ENTRY_BUNDLE;
			memcpy(e->domain, name, strlen(name) + 1);
			e->time = (uint64_t)time(NULL);
			if (bd_entry_set_version(e, NULL, NULL, b, v + 1, 300, NULL) != 0 ||
				bd_entry_sign(e, tl_log_origin(log), pub) != 0 || bd_entry_write(&text, e) != 0)
				die("entry");
			jobs[d * versions + v].entry = (char *)tl_buf_detach(&text, &jobs[d * versions + v].len);
			free(e);
		}
	}

	/* Thread i publishes its domains' versions in order, round robin over its domains. */
	w = calloc(threads, sizeof(*w));
	tid = calloc(threads, sizeof(*tid));
	for (size_t i = 0; i < threads; i++) {
		size_t per = domains / threads, k = 0;

		w[i] = (struct worker){ p, calloc(per * versions, sizeof(struct job)), per * versions, pem.data, pem.len };
		for (size_t v = 0; v < versions; v++)
			for (size_t d = i * per; d < (i + 1) * per; d++)
				w[i].jobs[k++] = jobs[d * versions + v];
	}
	t0 = bench_now_s();
	for (size_t i = 0; i < threads; i++)
		if (pthread_create(&tid[i], NULL, run, &w[i]) != 0)
			die("thread");
	for (size_t i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	secs = bench_now_s() - t0;
	for (size_t i = 0, k = 0; i < threads; i++)
		for (size_t j = 0; j < w[i].n; j++)
			lat[k++] = w[i].jobs[j].latency;
	qsort(lat, total, sizeof(double), cmp_double);
	printf("bench_publish: %zu publishers, %zu domains, %zu versions each, %zu-byte PEM of 3 CAs\n", threads,
		domains, versions, pem.len);
	printf("  %zu publishes in %.2f s: %.0f publishes/s; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", total, secs,
		(double)total / secs, lat[total / 2] * 1e3, lat[total * 99 / 100] * 1e3, lat[total - 1] * 1e3);

	for (size_t i = 0; i < threads; i++)
		free(w[i].jobs);
	for (size_t i = 0; i < total; i++)
		free(jobs[i].entry);
	free(jobs);
	free(lat);
	free(w);
	free(tid);
	bd_publisher_free(p);
	bd_pinq_close(pins);
	bd_blockstore_close(bs);
	bd_registry_close(reg);
	tl_log_close(log);
	tl_db_close(db);
	tl_signer_free(log_key);
	tl_signer_free(pub);
	bd_bundle_free(b);
	bench_certs_free(&cas);
	tl_buf_free(&pem);
	tl_buf_free(&vk);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
