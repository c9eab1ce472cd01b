/*
 * Chunking and content addressing: throughput of the "lines" rule against Kubo's fixed-size
 * chunkers, and how many leaves consecutive real CA bundle versions share under each.
 *
 *   build/bench/bench_chunking [CACERT_HISTORY_DIR]
 *
 * Throughput runs on synthetic line-structured text shaped like canonical bundles (one
 * ~2-3 KB base64-ish line per authority). Sharing runs on Mozilla's CA bundle history
 * (default ../shared/research/cacert-history: 37 PEM versions), chunked as raw PEM and as
 * one JSON line per certificate (a stand-in for the canonical JWK form).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundled/chunker.h"
#include "bundled/dag.h"
#include "translog/hash.h"

static const char *const specs[] = { "lines", "size-4096", "size-262144" };
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t lcg(uint64_t *x)
{
	*x = *x * 6364136223846793005u + 1442695040888963407u;
	return *x >> 33;
}

/* Lines of 1,800..3,200 base64 characters, like a JWK with an x5c certificate. */
static uint8_t *synthetic(size_t len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t *d = malloc(len);
	uint64_t x = 1;
	size_t o = 0;

	if (d == NULL)
		abort();
	while (o < len) {
		size_t line = 1800 + lcg(&x) % 1400;

		for (size_t j = 0; j + 1 < line && o < len; j++)
			d[o++] = (uint8_t)b64[lcg(&x) % 64];
		if (o < len)
			d[o++] = '\n';
	}
	return d;
}

static void throughput(const char *label, const uint8_t *data, size_t len, int reps)
{
	printf("\n%s (%zu bytes, best of %d)\n", label, len, reps);
	printf("  %-12s %10s %12s %12s %8s %8s\n", "chunker", "leaves", "chunk MB/s", "DAG MB/s", "blocks", "ms/DAG");
	for (size_t s = 0; s < NSPECS; s++) {
		bd_chunker c;
		double best_chunk = 1e9, best_dag = 1e9;
		size_t leaves = 0, blocks = 0;

		if (bd_chunker_parse(&c, specs[s]) != 0)
			abort();
		for (int r = 0; r < reps; r++) {
			double t0 = now(), t1;
			bd_dag *dag = NULL;

			leaves = 0;
			for (size_t off = 0; off < len; leaves++)
				off += bd_chunker_next(&c, data + off, len - off);
			t1 = now();
			if (t1 - t0 < best_chunk)
				best_chunk = t1 - t0;
			t0 = now();
			if (bd_dag_build(&dag, data, len, &c) != 0)
				abort();
			t1 = now();
			if (t1 - t0 < best_dag)
				best_dag = t1 - t0;
			blocks = bd_dag_count(dag);
			bd_dag_free(dag);
		}
		/* Fixed-size cutting is arithmetic: only the rule that reads the bytes has a speed. */
		if (c.kind == BD_CHUNK_LINES)
			printf("  %-12s %10zu %12.0f %12.0f %8zu %8.2f\n", specs[s], leaves, (double)len / best_chunk / 1e6,
				(double)len / best_dag / 1e6, blocks, best_dag * 1e3);
		else
			printf("  %-12s %10zu %12s %12.0f %8zu %8.2f\n", specs[s], leaves, "-", (double)len / best_dag / 1e6,
				blocks, best_dag * 1e3);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *d;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		abort();
	d = malloc((size_t)n + 1);
	if (d == NULL || fread(d, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	*len = (size_t)n;
	return d;
}

static int cmp_line(const void *a, const void *b)
{
	const tl_hash *x = a, *y = b;

	return memcmp(x->b, y->b, TL_HASH_SIZE);
}

/* A stand-in for the canonical JWK form until bundle.h lands: one JSON line per
 * certificate ({"use":"x509-svid","x5c":["<base64 DER>"]}), sorted by the SHA-256 of the
 * line, so that, as in a canonical bundle, one authority is one ~2 KB line and an added
 * one lands at a content-determined place. */
struct jwk_line {
	tl_hash key;
	char *text;
};

static uint8_t *jwk_proxy(const uint8_t *pem, size_t len, size_t *out_len)
{
	struct jwk_line *lines = NULL;
	size_t n = 0, alloc = 0, o = 0, total = 16;
	char *cur = NULL;
	size_t cur_len = 0;
	uint8_t *out;

	for (size_t off = 0; off < len;) {
		const uint8_t *nl = memchr(pem + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (pem + off)) : len - off;

		if (l >= 11 && memcmp(pem + off, "-----BEGIN ", 11) == 0) {
			cur = malloc(len + 64);
			cur_len = (size_t)sprintf(cur, "{\"use\":\"x509-svid\",\"x5c\":[\"");
		} else if (l >= 9 && memcmp(pem + off, "-----END ", 9) == 0 && cur != NULL) {
			cur_len += (size_t)sprintf(cur + cur_len, "\"]}");
			if (n == alloc && (lines = realloc(lines, (alloc = alloc ? 2 * alloc : 64) * sizeof(*lines))) == NULL)
				abort();
			tl_sha256(&lines[n].key, cur, cur_len);
			lines[n++].text = cur;
			total += cur_len + 2;
			cur = NULL;
		} else if (cur != NULL) {
			memcpy(cur + cur_len, pem + off, l);
			cur_len += l;
		}
		off += l + 1;
	}
	free(cur);
	qsort(lines, n, sizeof(*lines), cmp_line);
	if ((out = malloc(total)) == NULL)
		abort();
	o += (size_t)sprintf((char *)out, "{\"keys\":[\n");
	for (size_t i = 0; i < n; i++) {
		o += (size_t)sprintf((char *)out + o, "%s%s\n", lines[i].text, i + 1 < n ? "," : "");
		free(lines[i].text);
	}
	o += (size_t)sprintf((char *)out + o, "]}\n");
	free(lines);
	*out_len = o;
	return out;
}

/* True if `cid` names a block of `dag`. */
static int dag_has(const bd_dag *dag, const bd_cid *cid)
{
	for (size_t i = 0; i < bd_dag_count(dag); i++)
		if (bd_cid_equal(&bd_dag_block(dag, i)->cid, cid))
			return 1;
	return 0;
}

static void sharing(const char *dir, int as_jwk)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *names[256];
	size_t n = 0;

	if (d == NULL) {
		printf("\nsharing: %s not found, skipped\n", dir);
		return;
	}
	while ((e = readdir(d)) != NULL && n < 256)
		if (strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".pem") == 0)
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	printf("\nsharing across %zu consecutive pairs of %s (%s; newer version vs older)\n", n ? n - 1 : 0, dir,
		as_jwk ? "one sorted JSON line per certificate, a canonical-form stand-in" : "raw PEM, 64-byte lines");
	printf("  %-12s %14s %8s %16s %8s %14s %12s\n", "chunker", "shared leaves", "%", "shared bytes", "%",
		"new bytes/ver", "blocks/ver");
	for (size_t s = 0; s < NSPECS; s++) {
		bd_chunker c;
		bd_dag *prev = NULL;
		size_t leaves = 0, shared = 0, bytes = 0, shared_bytes = 0, new_bytes = 0, blocks = 0;

		if (bd_chunker_parse(&c, specs[s]) != 0)
			abort();
		for (size_t i = 0; i < n; i++) {
			char path[4096];
			size_t len = 0;
			uint8_t *data;
			bd_dag *dag = NULL;

			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			data = read_file(path, &len);
			if (as_jwk) {
				size_t plen = len;
				uint8_t *pem = data;

				data = jwk_proxy(pem, plen, &len);
				free(pem);
			}
			if (bd_dag_build(&dag, data, len, &c) != 0)
				abort();
			if (prev != NULL) {
				/* Leaves in file order, repeats counted, as a reader fetches them. */
				size_t off = 0;

				while (off < len) {
					size_t k = bd_chunker_next(&c, data + off, len - off);
					bd_cid leaf;

					bd_cid_of(&leaf, BD_CODEC_RAW, data + off, k);
					leaves++;
					bytes += k;
					if (dag_has(prev, &leaf)) {
						shared++;
						shared_bytes += k;
					}
					off += k;
				}
				/* What a node holding the older version must fetch: the blocks (inner nodes
				 * included) it does not have. */
				for (size_t b = 0; b < bd_dag_count(dag); b++)
					if (!dag_has(prev, &bd_dag_block(dag, b)->cid))
						new_bytes += bd_dag_block(dag, b)->len;
				blocks += bd_dag_count(dag);
			}
			bd_dag_free(prev);
			prev = dag;
			free(data);
		}
		bd_dag_free(prev);
		if (n > 1)
			printf("  %-12s %7zu/%-6zu %7.1f%% %8zu/%-8zu %6.1f%% %14zu %12.1f\n", specs[s], shared, leaves,
				100.0 * (double)shared / (double)leaves, shared_bytes, bytes,
				100.0 * (double)shared_bytes / (double)bytes, new_bytes / (n - 1),
				(double)blocks / (double)(n - 1));
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "../shared/research/cacert-history";
	size_t small = 300 * 1000, big = 10 * 1000 * 1000;
	uint8_t *data = synthetic(big);

	printf("bench_chunking: chunk + CID + UnixFS DAG build; input: synthetic JWK-like lines\n");
	throughput("300 KB (a large bundle)", data, small, 50);
	throughput("10 MB", data, big, 5);
	free(data);
	sharing(dir, 0);
	sharing(dir, 1);
	return 0;
}
