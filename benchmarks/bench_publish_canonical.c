/*
 * What accepting a new bundle version costs the publisher (bd_publish_bundle's derivation:
 * parse and check, set the sequence, write the canonical bytes, SHA-256, chunk and build
 * the UnixFS DAG), cold and with the certificate cache (bundle_cache.c) warmed by the
 * previous version, over the certifi history in CACERT_HISTORY_DIR (default
 * ../shared/research/cacert-history, or argv[1]):
 *
 *   cold        the newest version with an empty cache (every certificate fully checked)
 *   one new CA  the newest version with one CA replaced by a certificate never seen before,
 *               after the newest version was read once: the aim is <= 2 ms
 *   history     each version after its predecessor was read (real deltas), median and max
 *
 * Baseline in the same run: OpenSSL alone decoding the newest version's certificates
 * (d2i_X509 + X509_get_pubkey each: the cold floor). Prints the best of several runs.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "../bundled/src/bundle_internal.h"
#include "bundled/bundle.h"
#include "bundled/dag.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/synth.h"

#define MAX_VERSIONS 256
#define RUNS 5
#define VARIANTS 20

static void die(const char *what)
{
	fprintf(stderr, "bench_publish_canonical: %s: %s\n", what, tl_error_message());
	exit(1);
}

/* The publisher's derivation of one version; *canon_s gets the parse + canonical part. */
static double derive(const uint8_t *data, size_t len, uint64_t seq, double *canon_s)
{
	double t0 = bench_now_s(), t1;
	tl_buf canon = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	bd_bundle *b = NULL;
	bd_dag *dag = NULL;
	tl_hash sha;

	if (bd_bundle_parse(&b, data, len, NULL) != 0)
		die("parse");
	bd_bundle_set_sequence(b, seq);
	if (bd_bundle_write_canonical(&canon, b) != 0)
		die("canonical");
	t1 = bench_now_s();
	tl_sha256(&sha, canon.data, canon.len);
	if (bd_dag_build(&dag, canon.data, canon.len, NULL) != 0)
		die("dag");
	bd_dag_free(dag);
	bd_bundle_free(b);
	tl_buf_free(&canon);
	if (canon_s)
		*canon_s = t1 - t0;
	return bench_now_s() - t0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The OpenSSL floor: decode every certificate of a bundle and its key. */
static double openssl_floor(const bd_bundle *b)
{
	double t0 = bench_now_s();

	for (size_t i = 0; i < bd_bundle_count(b); i++) {
		size_t len = 0;
		const unsigned char *p = bd_authority_cert_der(bd_bundle_at(b, i), &len);
		X509 *x = d2i_X509(NULL, &p, (long)len);
		EVP_PKEY *k = x ? X509_get_pubkey(x) : NULL;

		if (k == NULL)
			die("openssl");
		EVP_PKEY_free(k);
		X509_free(x);
	}
	return bench_now_s() - t0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "../shared/research/cacert-history";
	char *names[MAX_VERSIONS];
	uint8_t *pem[MAX_VERSIONS];
	size_t len[MAX_VERSIONS], n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	struct bench_certs fresh = { 0 };
	tl_buf variant[VARIANTS];
	bd_bundle *newest = NULL;
	double best, canon_best, c, t, floor_best = 1e9, hist[MAX_VERSIONS];

	if (d == NULL) {
		printf("bench_publish_canonical: %s not found, skipped\n", dir);
		return 0;
	}
	while ((e = readdir(d)) != NULL && n < MAX_VERSIONS)
		if (strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".pem") == 0)
			names[n++] = strdup(e->d_name);
	closedir(d);
	if (n < 2) {
		printf("bench_publish_canonical: fewer than two versions in %s, skipped\n", dir);
		return 0;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if ((pem[i] = bench_read_file(path, BD_MAX_BUNDLE_SIZE, &len[i])) == NULL)
			die(path);
	}
	if (bd_bundle_parse(&newest, pem[n - 1], len[n - 1], NULL) != 0)
		die("parse newest");
	printf("bench_publish_canonical: %s, %zu versions; newest %s: %zu bytes, %zu CAs\n", dir, n, names[n - 1],
		len[n - 1], bd_bundle_count(newest));

	/* The variants: the newest version with its first CA replaced by a fresh one. */
	if (bench_synth_cas(&fresh, VARIANTS * 600) != 0 || fresh.n < VARIANTS)
		die("synthetic CAs");
	for (size_t v = 0; v < VARIANTS; v++) {
		bd_bundle *b = NULL;

		variant[v] = tl_buf_make(BD_MAX_BUNDLE_SIZE);
		if (bd_bundle_parse(&b, pem[n - 1], len[n - 1], NULL) != 0 ||
			bd_bundle_remove(b, bd_authority_fingerprint(bd_bundle_at(b, 0))) != 0 ||
			bd_bundle_add_x509_der(b, fresh.der[v], fresh.len[v]) != 0 || bd_bundle_write_pem(&variant[v], b) != 0)
			die("variant");
		bd_bundle_free(b);
	}

	for (int r = 0; r < RUNS; r++) {
		double f = openssl_floor(newest);

		floor_best = f < floor_best ? f : floor_best;
	}
	best = canon_best = 1e9;
	for (int r = 0; r < RUNS; r++) {
		bd_bundle__cache_clear();
		t = derive(pem[n - 1], len[n - 1], 1, &c);
		best = t < best ? t : best;
		canon_best = c < canon_best ? c : canon_best;
	}
	printf("  cold (empty cache)          %7.2f ms   (parse + canonical %6.2f ms; OpenSSL d2i floor %6.2f ms)\n",
		best * 1e3, canon_best * 1e3, floor_best * 1e3);

	/* Warm with the newest, then each variant brings one certificate never seen. */
	bd_bundle__cache_clear();
	(void)derive(pem[n - 1], len[n - 1], 1, NULL);
	{
		double all[VARIANTS], call[VARIANTS];

		for (size_t v = 0; v < VARIANTS; v++)
			all[v] = derive(variant[v].data, variant[v].len, 2, &call[v]);
		qsort(all, VARIANTS, sizeof(double), cmp_double);
		qsort(call, VARIANTS, sizeof(double), cmp_double);
		printf("  one new CA (warm)           %7.2f ms   (parse + canonical %6.2f ms) median of %d; max %.2f ms\n",
			all[VARIANTS / 2] * 1e3, call[VARIANTS / 2] * 1e3, VARIANTS, all[VARIANTS - 1] * 1e3);
	}
	/* The history, in order, each version after its predecessor. */
	bd_bundle__cache_clear();
	(void)derive(pem[0], len[0], 1, NULL);
	for (size_t i = 1; i < n; i++)
		hist[i - 1] = derive(pem[i], len[i], i + 1, NULL);
	qsort(hist, n - 1, sizeof(double), cmp_double);
	printf("  history, after predecessor  %7.2f ms   median of %zu versions; max %.2f ms\n", hist[(n - 1) / 2] * 1e3,
		n - 1, hist[n - 2] * 1e3);

	for (size_t v = 0; v < VARIANTS; v++)
		tl_buf_free(&variant[v]);
	for (size_t i = 0; i < n; i++) {
		free(pem[i]);
		free(names[i]);
	}
	bench_certs_free(&fresh);
	bd_bundle_free(newest);
	return 0;
}
