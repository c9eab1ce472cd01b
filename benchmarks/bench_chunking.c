/*
 * The publishing pipeline on canonical bundles: parse + canonicalise + chunk + CID + UnixFS
 * DAG build, and how many leaves consecutive real CA bundle versions share once
 * canonicalised, for the "lines" leaf rule against Kubo's fixed-size chunkers (size-4096,
 * and size-262144, Kubo's default).
 *
 *   build/bench/bench_chunking [CACERT_HISTORY_DIR]
 *
 * CACERT_HISTORY_DIR (default ../shared/research/cacert-history) holds the certifi
 * cacert.pem versions, oldest first by name. Throughput runs on its newest version (as PEM,
 * as distributed, and as canonical SPIFFE JSON) and on a ~10 MB canonical bundle of
 * synthetic P-256 CAs (benchmarks/util/synth.h, as bench_canonical builds it). Sharing runs
 * on every consecutive pair of versions, canonicalised.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/bundle.h"
#include "bundled/chunker.h"
#include "bundled/dag.h"
#include "translog/hash.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/synth.h"

static const char *const specs[] = { "lines", "size-4096", "size-262144" };
#define NSPECS (sizeof(specs) / sizeof(specs[0]))
#define MAX_VERSIONS 256

static void die(const char *what)
{
	fprintf(stderr, "bench_chunking: %s: %s\n", what, tl_error_message());
	exit(1);
}

/* The canonical SPIFFE bundle of any bundle text (appended to `out`, which is reset first);
 * the number of authorities in *count if not NULL. */
static void canonicalise(tl_buf *out, const uint8_t *data, size_t len, size_t *count)
{
	bd_bundle_report report = { 0 };
	bd_bundle *b = NULL;

	tl_buf_reset(out);
	/* The CA history carries a certificate Go and bundled refuse (EC-ACC, 2020-2022): a
	 * publisher leaves it out, and so does the benchmark. */
	if (bd_bundle_parse(&b, data, len, BD_PARSE_SKIP_REFUSED, &report) != 0 || bd_bundle_write_canonical(out, b) != 0)
		die("canonicalise");
	bd_bundle_report_free(&report);
	if (count)
		*count = bd_bundle_count(b);
	bd_bundle_free(b);
}

/* ---- throughput ---- */

static void keep_best(double *best, double t0)
{
	double t = bench_now_s() - t0;

	if (t < *best)
		*best = t;
}

/* Every figure is the best of `reps` runs; the runs of all operations are interleaved so
 * that a burst of load on the shared machine hits them alike. */
static void throughput(const char *label, const uint8_t *in, size_t in_len, int reps)
{
	tl_buf canon = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	bd_chunker c[NSPECS];
	size_t count = 0, leaves[NSPECS] = { 0 }, blocks[NSPECS] = { 0 }, max_leaf[NSPECS] = { 0 };
	double t_canon = 1e9, t_sha = 1e9, t_cut[NSPECS], t_dag[NSPECS], t_all[NSPECS];
	char root[NSPECS][BD_CID_TEXT_MAX];
	tl_hash h;

	for (size_t s = 0; s < NSPECS; s++) {
		if (bd_chunker_parse(&c[s], specs[s]) != 0)
			die(specs[s]);
		t_cut[s] = t_dag[s] = t_all[s] = 1e9;
	}
	for (int r = 0; r < reps; r++) {
		double t0 = bench_now_s();

		canonicalise(&canon, in, in_len, &count);
		keep_best(&t_canon, t0);
		t0 = bench_now_s();
		tl_sha256(&h, canon.data, canon.len);
		keep_best(&t_sha, t0);
		for (size_t s = 0; s < NSPECS; s++) {
			bd_dag *dag = NULL;

			t0 = bench_now_s();
			leaves[s] = max_leaf[s] = 0;
			for (size_t off = 0, k; off < canon.len; off += k, leaves[s]++)
				if ((k = bd_chunker_next(&c[s], canon.data + off, canon.len - off)) > max_leaf[s])
					max_leaf[s] = k;
			keep_best(&t_cut[s], t0);
			t0 = bench_now_s();
			if (bd_dag_build(&dag, canon.data, canon.len, &c[s]) != 0)
				die("bd_dag_build");
			keep_best(&t_dag[s], t0);
			blocks[s] = bd_dag_count(dag);
			if (bd_cid_format(root[s], sizeof(root[s]), bd_dag_root(dag)) != 0)
				die("bd_cid_format");
			bd_dag_free(dag);
			dag = NULL;
			/* The whole pipeline timed as one: what a publisher does with a submitted bundle. */
			t0 = bench_now_s();
			canonicalise(&canon, in, in_len, NULL);
			if (bd_dag_build(&dag, canon.data, canon.len, &c[s]) != 0)
				die("bd_dag_build");
			keep_best(&t_all[s], t0);
			bd_dag_free(dag);
		}
	}
	printf("\n%s: %zu bytes in, %zu canonical, %zu authorities; best of %d\n", label, in_len, canon.len, count, reps);
	printf("  %-40s %9.2f ms\n", "parse + canonicalise", t_canon * 1e3);
	printf("  %-40s %9.2f ms  (%.0f MB/s)\n", "baseline: one SHA-256 of the canonical", t_sha * 1e3,
		(double)canon.len / t_sha / 1e6);
	printf("  %-12s %6s %6s %8s %8s %8s %8s %11s %8s  %s\n", "chunker", "leaves", "blocks", "max leaf", "cut MB/s",
		"DAG ms", "DAG MB/s", "pipeline ms", "MB/s in", "root");
	for (size_t s = 0; s < NSPECS; s++) {
		char cut[16] = "-";

		/* Fixed-size cutting is arithmetic: only the rule that reads the bytes has a speed. */
		if (c[s].kind == BD_CHUNK_LINES)
			snprintf(cut, sizeof(cut), "%.0f", (double)canon.len / t_cut[s] / 1e6);
		printf("  %-12s %6zu %6zu %8zu %8s %8.2f %8.0f %11.2f %8.1f  %s\n", specs[s], leaves[s], blocks[s], max_leaf[s],
			cut, t_dag[s] * 1e3, (double)canon.len / t_dag[s] / 1e6, t_all[s] * 1e3, (double)in_len / t_all[s] / 1e6,
			root[s]);
	}
	tl_buf_free(&canon);
}

/* ---- sharing across versions ---- */

struct version {
	char name[256];
	uint8_t *canon;
	size_t len, authorities;
};

struct pair_stats {
	size_t leaves, shared, bytes, shared_bytes, new_bytes, blocks;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_hash(const void *a, const void *b)
{
	return memcmp(((const tl_hash *)a)->b, ((const tl_hash *)b)->b, TL_HASH_SIZE);
}

/* True if `cid` names a block of `dag`. */
static int dag_has(const bd_dag *dag, const bd_cid *cid)
{
	for (size_t i = 0; i < bd_dag_count(dag); i++)
		if (bd_cid_equal(&bd_dag_block(dag, i)->cid, cid))
			return 1;
	return 0;
}

/* The sorted SHA-256s of the lines of a document (LF included); their number in *n. */
static tl_hash *line_hashes(const uint8_t *d, size_t len, size_t *n)
{
	tl_hash *h = malloc((len + 1) * sizeof(*h));
	size_t k = 0;

	if (h == NULL)
		abort();
	for (size_t off = 0; off < len;) {
		const uint8_t *nl = memchr(d + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (d + off)) + 1 : len - off;

		tl_sha256(&h[k++], d + off, l);
		off += l;
	}
	qsort(h, k, sizeof(*h), cmp_hash);
	*n = k;
	return h;
}

/* The floor for any chunker: bytes of the newer document's lines that the older one lacks
 * (an unchanged authority is an unchanged line). */
static size_t new_line_bytes(const struct version *old, const struct version *cur)
{
	size_t n, total = 0;
	tl_hash *h = line_hashes(old->canon, old->len, &n);

	for (size_t off = 0; off < cur->len;) {
		const uint8_t *nl = memchr(cur->canon + off, '\n', cur->len - off);
		size_t l = nl ? (size_t)(nl - (cur->canon + off)) + 1 : cur->len - off;
		tl_hash x;

		tl_sha256(&x, cur->canon + off, l);
		if (bsearch(&x, h, n, sizeof(*h), cmp_hash) == NULL)
			total += l;
		off += l;
	}
	free(h);
	return total;
}

/* Newer version `cur` against the older version's DAG `prev`. */
static void compare(struct pair_stats *st, const bd_dag *prev, const bd_dag *dag, const struct version *cur,
	const bd_chunker *c)
{
	memset(st, 0, sizeof(*st));
	/* Leaves in file order, repeats counted, as a reader fetches them. */
	for (size_t off = 0; off < cur->len;) {
		size_t k = bd_chunker_next(c, cur->canon + off, cur->len - off);
		bd_cid leaf;

		bd_cid_of(&leaf, BD_CODEC_RAW, cur->canon + off, k);
		st->leaves++;
		st->bytes += k;
		if (dag_has(prev, &leaf)) {
			st->shared++;
			st->shared_bytes += k;
		}
		off += k;
	}
	/* What a node holding the older version must fetch: the blocks (inner nodes included)
	 * it does not have. */
	for (size_t b = 0; b < bd_dag_count(dag); b++)
		if (!dag_has(prev, &bd_dag_block(dag, b)->cid))
			st->new_bytes += bd_dag_block(dag, b)->len;
	st->blocks = bd_dag_count(dag);
}

static void add(struct pair_stats *sum, const struct pair_stats *st)
{
	sum->leaves += st->leaves;
	sum->shared += st->shared;
	sum->bytes += st->bytes;
	sum->shared_bytes += st->shared_bytes;
	sum->new_bytes += st->new_bytes;
	sum->blocks += st->blocks;
}

static void print_row(const char *label, const struct pair_stats *st, size_t pairs)
{
	printf("  %-22s %6zu/%-6zu %6.1f%% %8zu/%-8zu %6.1f%% %11zu %8.1f\n", label, st->shared, st->leaves,
		100.0 * (double)st->shared / (double)st->leaves, st->shared_bytes, st->bytes,
		100.0 * (double)st->shared_bytes / (double)st->bytes, st->new_bytes / pairs, (double)st->blocks / (double)pairs);
}

static void sharing(const char *dir)
{
	static struct pair_stats per[MAX_VERSIONS][NSPECS];
	struct pair_stats sum[NSPECS];
	struct version *v;
	size_t n = 0, revert_at = 0, ideal = 0, ideal_revert = 0;
	char *names[MAX_VERSIONS];
	DIR *d = opendir(dir);
	struct dirent *e;
	tl_buf canon = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	double t0;

	if (d == NULL) {
		printf("\nsharing: %s not found, skipped\n", dir);
		tl_buf_free(&canon);
		return;
	}
	while ((e = readdir(d)) != NULL && n < MAX_VERSIONS)
		if (strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".pem") == 0)
			names[n++] = strdup(e->d_name);
	closedir(d);
	if (n < 2) {
		printf("\nsharing: fewer than two versions in %s, skipped\n", dir);
		goto out_names;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	if ((v = calloc(n, sizeof(*v))) == NULL)
		abort();
	t0 = bench_now_s();
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		size_t len;
		uint8_t *pem;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(v[i].name, sizeof(v[i].name), "%.3s", names[i]);
		if ((pem = bench_read_file(path, BD_MAX_BUNDLE_SIZE, &len)) == NULL)
			die(path);
		canonicalise(&canon, pem, len, &v[i].authorities);
		v[i].canon = tl_buf_detach(&canon, &v[i].len);
		canon = tl_buf_make(BD_MAX_BUNDLE_SIZE);
		free(pem);
		/* The revert: a version whose predecessor has one authority less and whose
		 * grandparent is byte-identical to it (026 removed a CA, 027 put it back). */
		if (i >= 2 && v[i].len == v[i - 2].len && memcmp(v[i].canon, v[i - 2].canon, v[i].len) == 0)
			revert_at = i;
	}
	printf("\nsharing: %zu consecutive pairs of %zu versions in %s, canonicalised (%.2f s for all %zu)\n", n - 1, n,
		dir, bench_now_s() - t0, n);

	memset(sum, 0, sizeof(sum));
	for (size_t s = 0; s < NSPECS; s++) {
		bd_chunker c;
		bd_dag *prev = NULL;

		if (bd_chunker_parse(&c, specs[s]) != 0)
			die(specs[s]);
		for (size_t i = 0; i < n; i++) {
			bd_dag *dag = NULL;

			if (bd_dag_build(&dag, v[i].canon, v[i].len, &c) != 0)
				die("bd_dag_build");
			if (prev != NULL) {
				compare(&per[i][s], prev, dag, &v[i], &c);
				add(&sum[s], &per[i][s]);
			}
			bd_dag_free(prev);
			prev = dag;
		}
		bd_dag_free(prev);
	}

	printf("  per pair: authorities old->new, bytes of new lines (the floor), then per chunker\n"
	       "  leaves shared/total and bytes to fetch\n");
	printf("  %-8s %9s %9s", "pair", "CAs", "new lines");
	for (size_t s = 0; s < NSPECS; s++)
		printf("  %-20s", specs[s]);
	printf("\n");
	for (size_t i = 1; i < n; i++) {
		size_t nl = new_line_bytes(&v[i - 1], &v[i]);
		char cas[32];

		ideal += nl;
		if (i == revert_at)
			ideal_revert = nl;
		snprintf(cas, sizeof(cas), "%zu->%zu", v[i - 1].authorities, v[i].authorities);
		printf("  %s-%s %9s %9zu", v[i - 1].name, v[i].name, cas, nl);
		for (size_t s = 0; s < NSPECS; s++) {
			char cell[64];

			snprintf(cell, sizeof(cell), "%zu/%zu %zu", per[i][s].shared, per[i][s].leaves, per[i][s].new_bytes);
			printf("  %-20s", cell);
		}
		printf("%s\n", i == revert_at ? "  (revert)" : "");
	}

	printf("\n  all %zu pairs, newer version vs older:\n", n - 1);
	printf("  %-22s %13s %7s %17s %7s %11s %8s\n", "chunker", "shared leaves", "%", "shared bytes", "%",
		"new B/ver", "blk/ver");
	for (size_t s = 0; s < NSPECS; s++)
		print_row(specs[s], &sum[s], n - 1);
	printf("  %-22s %46s %11zu\n", "floor: added lines", "", ideal / (n - 1));

	if (revert_at) {
		printf("\n  the revert %s-%s (re-adds the authority %s removed; %s is byte-identical to %s):\n",
			v[revert_at - 1].name, v[revert_at].name, v[revert_at - 1].name, v[revert_at].name,
			v[revert_at - 2].name);
		for (size_t s = 0; s < NSPECS; s++)
			print_row(specs[s], &per[revert_at][s], 1);
		printf("  %-22s %46s %11zu\n", "floor: added lines", "", ideal_revert);
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].canon);
	free(v);
out_names:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	tl_buf_free(&canon);
}

/* The newest version in the history directory (the last .pem by name), or NULL. */
static char *newest(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char best[256] = "", *path;

	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL)
		if (strlen(e->d_name) > 4 && strlen(e->d_name) < sizeof(best) &&
		    strcmp(e->d_name + strlen(e->d_name) - 4, ".pem") == 0 && strcmp(e->d_name, best) > 0)
			strcpy(best, e->d_name);
	closedir(d);
	if (best[0] == '\0' || (path = malloc(strlen(dir) + strlen(best) + 2)) == NULL)
		return NULL;
	sprintf(path, "%s/%s", dir, best);
	return path;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "../shared/research/cacert-history";
	char *path = newest(dir);
	struct bench_certs cas = { 0 };
	tl_buf der = tl_buf_make(BD_MAX_BUNDLE_SIZE), canon = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	double t0 = bench_now_s();

	printf("bench_chunking: parse + canonicalise + chunk + CID + UnixFS DAG, on canonical bundles\n");
	if (path != NULL) {
		size_t len;
		uint8_t *pem = bench_read_file(path, BD_MAX_BUNDLE_SIZE, &len);
		char label[512];

		if (pem == NULL)
			die(path);
		snprintf(label, sizeof(label), "%s (PEM as distributed)", strrchr(path, '/') + 1);
		throughput(label, pem, len, 30);
		canonicalise(&canon, pem, len, NULL);
		snprintf(label, sizeof(label), "%s (canonical SPIFFE JSON)", strrchr(path, '/') + 1);
		throughput(label, canon.data, canon.len, 30);
		free(pem);
		free(path);
	} else {
		printf("\nno .pem in %s: real-bundle throughput skipped\n", dir);
	}

	/* ~10 MB canonical bundle: the CAs as concatenated DER, read and written canonical. */
	{
		double t1 = bench_now_s();
		bd_bundle *b = NULL;

		if (bench_synth_cas(&cas, 10u * 1000 * 1000) != 0)
			die("bench_synth_cas");
		for (size_t i = 0; i < cas.n; i++)
			if (tl_buf_append(&der, cas.der[i], cas.len[i]) != 0)
				die("append");
		tl_buf_reset(&canon);
		if (bd_bundle_parse_der(&b, der.data, der.len, 0, NULL) != 0 || bd_bundle_write_canonical(&canon, b) != 0)
			die("synthetic bundle");
		bd_bundle_free(b);
		printf("\n(built %zu synthetic CAs in %.1f s)", cas.n, bench_now_s() - t1);
		throughput("10 MB synthetic (canonical SPIFFE JSON)", canon.data, canon.len, 2);
		bench_certs_free(&cas);
	}
	tl_buf_free(&der);
	tl_buf_free(&canon);

	sharing(dir);
	printf("\ntotal run time %.1f s\n", bench_now_s() - t0);
	return 0;
}
