/*
 * The durable log: append throughput at several batch sizes, append-to-checkpoint latency
 * under a steady offered load, proof generation and verification on real stored logs of 1M
 * and 10M leaves, and bytes on disk per entry. Everything runs in a temporary directory
 * that is removed at the end.
 *
 *   bench_translog [--quick] [--proofs-only | --appends-only]
 *     --quick: 1/10 of the sizes and durations (a smoke run); --proofs-only: only the proofs;
 *     --appends-only: no proofs (what benchmarks/bench_tessera.sh compares with Tessera)
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "translog/key.h"
#include "translog/log.h"
#include "translog/proof.h"
#include "util/clock.h"

static void die(const char *what)
{
	fprintf(stderr, "bench_translog: %s: %s\n", what, tl_error_message());
	exit(1);
}

static uint64_t dir_bytes(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	uint64_t total = 0;
	char p[4096];
	struct stat st;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (lstat(p, &st) != 0)
			continue;
		total += S_ISDIR(st.st_mode) ? dir_bytes(p) : (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

static void rm_rf(const char *path)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_translog: could not remove %s\n", path);
}

struct bench_log {
	char dir[4096];
	tl_db *db;
	tl_log *log;
};

static void bl_open(struct bench_log *b, const char *base, const char *name, const tl_signer *key)
{
	struct tl_log_options opts = { .max_batch = 4096 };

	snprintf(b->dir, sizeof(b->dir), "%s/%s", base, name);
	if (tl_db_open(&b->db, b->dir, tl_log_column_families, TL_LOG_COLUMN_FAMILY_COUNT) != 0)
		die("db open");
	if (tl_log_open(&b->log, b->db, key, &opts) != 0)
		die("log open");
}

static void bl_flush(struct bench_log *b)
{
	rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
	char *err = NULL;

	rocksdb_flushoptions_set_wait(fo, 1);
	for (size_t i = 0; i < TL_LOG_COLUMN_FAMILY_COUNT; i++) {
		rocksdb_flush_cf(tl_db_rocks(b->db), fo, tl_db_cf(b->db, tl_log_column_families[i]), &err);
		if (err) {
			fprintf(stderr, "flush: %s\n", err);
			rocksdb_free(err);
			err = NULL;
		}
	}
	rocksdb_flushoptions_destroy(fo);
}

/* What a long-lived log settles to: compaction drops the pieces that full tiles and bundles
 * replaced. */
static void bl_compact(struct bench_log *b)
{
	for (size_t i = 0; i < TL_LOG_COLUMN_FAMILY_COUNT; i++)
		rocksdb_compact_range_cf(tl_db_rocks(b->db), tl_db_cf(b->db, tl_log_column_families[i]), NULL, 0,
			NULL, 0);
}

static void bl_close(struct bench_log *b)
{
	tl_log_close(b->log);
	tl_db_close(b->db);
}

/* ---- throughput ---- */

enum { ENTRY = 500, MAX_CALL = 1024 };

struct appender {
	tl_log *log;
	size_t per_call;
	double until;
	uint64_t done;
	unsigned id;
};

/* Entries are text like the real ones (keys, hashes and signatures in base64), so the
 * storage's compression gets no more help than it would in production. */
static void fill_entry(char *e, size_t len, uint64_t seq, unsigned id)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int n = snprintf(e, len, "appender %u entry %llu ", id, (unsigned long long)seq);
	uint64_t x = (seq + 1) * 0x9e3779b97f4a7c15u ^ id;

	for (size_t i = (size_t)n; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		e[i] = b64[x & 63];
	}
}

static void *appender_main(void *arg)
{
	struct appender *a = arg;
	char (*bufs)[ENTRY] = malloc(MAX_CALL * sizeof(*bufs));
	const void **ptrs = malloc(MAX_CALL * sizeof(*ptrs));
	size_t *lens = malloc(MAX_CALL * sizeof(*lens));
	uint64_t seq = 0, first;

	if (!bufs || !ptrs || !lens)
		exit(1);
	while (bench_now_s() < a->until) {
		for (size_t k = 0; k < a->per_call; k++) {
			fill_entry(bufs[k], ENTRY, seq++, a->id);
			ptrs[k] = bufs[k];
			lens[k] = ENTRY;
		}
		if (tl_log_append_batch(&first, a->log, ptrs, lens, a->per_call) != 0)
			die("append");
		a->done += a->per_call;
	}
	free(bufs);
	free(ptrs);
	free(lens);
	return NULL;
}

static void throughput(tl_log *log, const char *label, unsigned threads, size_t per_call, double seconds)
{
	struct appender a[64];
	pthread_t th[64];
	struct tl_log_stats before, after;
	uint64_t total = 0;
	double t0 = bench_now_s(), t1, c0 = bench_cpu_s(), c1;

	tl_log_stats(&before, log);
	for (unsigned t = 0; t < threads; t++) {
		a[t] = (struct appender){ log, per_call, t0 + seconds, 0, t };
		pthread_create(&th[t], NULL, appender_main, &a[t]);
	}
	for (unsigned t = 0; t < threads; t++) {
		pthread_join(th[t], NULL);
		total += a[t].done;
	}
	t1 = bench_now_s();
	c1 = bench_cpu_s();
	tl_log_stats(&after, log);
	{
		uint64_t commits = after.commits - before.commits;

		printf("  %-44s %9.0f appends/s  (%llu commits, %.1f entries/commit, %.2f ms/commit, %.1f us CPU/append)\n",
			label, (double)total / (t1 - t0), (unsigned long long)commits,
			commits ? (double)(after.appends - before.appends) / (double)commits : 0.0,
			commits ? (double)(after.commit_us_total - before.commit_us_total) / (double)commits / 1000.0 : 0.0,
			total ? (c1 - c0) * 1e6 / (double)total : 0.0);
	}
}

/* ---- latency at an offered rate ---- */

struct paced {
	tl_log *log;
	double start, interval;
	unsigned id, stride;
	size_t count;
	double *lat; /* seconds, per arrival */
};

static void sleep_until(double t)
{
	double d = t - bench_now_s();

	if (d > 0) {
		struct timespec ts = { (time_t)d, (long)((d - (double)(time_t)d) * 1e9) };

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
}

/* Arrival k is due at start + k*interval; thread id handles k = id, id+stride, ...; its
 * latency runs from the due time (so a backlog counts) to the durable acknowledgement. */
static void *paced_main(void *arg)
{
	struct paced *p = arg;
	char e[ENTRY];
	uint64_t idx;

	for (size_t k = p->id; k < p->count; k += p->stride) {
		double due = p->start + (double)k * p->interval;

		sleep_until(due);
		fill_entry(e, sizeof(e), k, 999);
		if (tl_log_append(&idx, p->log, e, sizeof(e)) != 0)
			die("append");
		p->lat[k] = bench_now_s() - due;
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void latency(tl_log *log, double rate, double seconds)
{
	enum { THREADS = 48 };
	size_t count = (size_t)(rate * seconds);
	double *lat = calloc(count, sizeof(double));
	struct paced p[THREADS];
	pthread_t th[THREADS];
	double start = bench_now_s() + 0.05;
	double sum = 0;

	for (unsigned t = 0; t < THREADS; t++) {
		p[t] = (struct paced){ log, start, 1.0 / rate, t, THREADS, count, lat };
		pthread_create(&th[t], NULL, paced_main, &p[t]);
	}
	for (unsigned t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	for (size_t i = 0; i < count; i++)
		sum += lat[i];
	qsort(lat, count, sizeof(double), cmp_double);
	printf("  offered %.0f appends/s for %.0f s (%zu appends, %d appender threads):\n", rate, seconds, count,
		THREADS);
	printf("    append -> durable signed checkpoint: p50 %.2f ms  p99 %.2f ms  max %.2f ms  mean %.2f ms\n",
		lat[count / 2] * 1e3, lat[count * 99 / 100] * 1e3, lat[count - 1] * 1e3, sum / (double)count * 1e3);
	free(lat);
}

/* ---- building a large log and timing proofs on it ---- */

enum { SMALL_ENTRY = 64, BUILD_CALL = 4096 };

static void grow(tl_log *log, uint64_t to)
{
	static char bufs[BUILD_CALL][SMALL_ENTRY];
	static const void *ptrs[BUILD_CALL];
	static size_t lens[BUILD_CALL];
	uint64_t size = tl_log_size(log), first;

	while (size < to) {
		size_t n = to - size < BUILD_CALL ? (size_t)(to - size) : BUILD_CALL;

		for (size_t k = 0; k < n; k++) {
			fill_entry(bufs[k], SMALL_ENTRY, size + k, 7);
			ptrs[k] = bufs[k];
			lens[k] = SMALL_ENTRY;
		}
		if (tl_log_append_batch(&first, log, ptrs, lens, n) != 0)
			die("append");
		size += n;
	}
}

static uint64_t rnd64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void proofs(tl_log *log, uint64_t size, size_t reps)
{
	tl_hash proof[TL_MAX_PROOF_HASHES], root, old_root, leaf;
	size_t n;
	uint64_t s = 0x9e3779b97f4a7c15u;
	double t, gen_inc = 0, ver_inc = 0, gen_con = 0, ver_con = 0;
	double *each = calloc(reps, sizeof(double));
	size_t hashes = 0;

	if (tl_log_root(&root, log, size) != 0)
		die("root");
	for (size_t r = 0; r < reps; r++) {
		uint64_t i = rnd64(&s) % size;

		t = bench_now_s();
		if (tl_log_prove_inclusion(proof, &n, log, i, size) != 0)
			die("inclusion proof");
		each[r] = bench_now_s() - t;
		gen_inc += each[r];
		hashes += n;
		if (tl_log_node(&leaf, log, 0, i) != 0)
			die("leaf");
		t = bench_now_s();
		if (tl_verify_inclusion(&leaf, i, size, proof, n, &root) != 0)
			die("inclusion proof does not verify");
		ver_inc += bench_now_s() - t;
	}
	qsort(each, reps, sizeof(double), cmp_double);
	printf("    %zu random proofs of each kind, real stored log, tiles read from RocksDB:\n", reps);
	printf("    inclusion   generate %6.2f us mean  (p50 %.2f, p99 %.2f)   verify %6.2f us   %.1f hashes\n",
		gen_inc / (double)reps * 1e6, each[reps / 2] * 1e6, each[reps * 99 / 100] * 1e6,
		ver_inc / (double)reps * 1e6, (double)hashes / (double)reps);
	hashes = 0;
	for (size_t r = 0; r < reps; r++) {
		uint64_t old = 1 + rnd64(&s) % (size - 1);

		if (tl_log_root(&old_root, log, old) != 0)
			die("old root");
		t = bench_now_s();
		if (tl_log_prove_consistency(proof, &n, log, old, size) != 0)
			die("consistency proof");
		each[r] = bench_now_s() - t;
		gen_con += each[r];
		hashes += n;
		t = bench_now_s();
		if (tl_verify_consistency(old, size, proof, n, &old_root, &root) != 0)
			die("consistency proof does not verify");
		ver_con += bench_now_s() - t;
	}
	qsort(each, reps, sizeof(double), cmp_double);
	printf("    consistency generate %6.2f us mean  (p50 %.2f, p99 %.2f)   verify %6.2f us   %.1f hashes\n",
		gen_con / (double)reps * 1e6, each[reps / 2] * 1e6, each[reps * 99 / 100] * 1e6,
		ver_con / (double)reps * 1e6, (double)hashes / (double)reps);
	free(each);
}

int main(int argc, char **argv)
{
	int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	int proofs_only = argc > 1 && strcmp(argv[argc - 1], "--proofs-only") == 0;
	int appends_only = argc > 1 && strcmp(argv[argc - 1], "--appends-only") == 0;
	double scale = quick ? 0.1 : 1.0;
	const char *tmp = getenv("TMPDIR");
	char base[4096];
	tl_signer *key;
	struct bench_log b;
	uint64_t sizes[2] = { 1000000, 10000000 };
	double t0;

	snprintf(base, sizeof(base), "%s/bench-translog-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (tl_signer_generate(&key, "bench.example.org/log") != 0)
		die("key");
	printf("bench_translog: durable log on RocksDB (group commit, one synced write batch per commit)\n");
	printf("  data in %s (removed at the end)%s\n\n", base, quick ? "; --quick: sizes and durations / 10" : "");

	if (proofs_only)
		goto proofs;
	printf("durable appends, %d-byte entries (an append returns once a synced signed checkpoint covers it):\n",
		ENTRY);
	bl_open(&b, base, "throughput", key);
	throughput(b.log, "batch 1: one appender, tl_log_append", 1, 1, 5 * scale);
	throughput(b.log, "batch 64: one appender, tl_log_append_batch", 1, 64, 5 * scale);
	throughput(b.log, "batch 1024: one appender, tl_log_append_batch", 1, 1024, 5 * scale);
	throughput(b.log, "batch 1024: two appenders (pipelined)", 2, 1024, 5 * scale);
	throughput(b.log, "64 concurrent single appenders (group commit)", 64, 1, 5 * scale);
	bl_flush(&b);
	printf("  bytes on disk per %d-byte entry: %.0f after flush", ENTRY,
		(double)dir_bytes(b.dir) / (double)tl_log_size(b.log));
	bl_compact(&b);
	printf(", %.0f after compaction (%llu entries)\n\n", (double)dir_bytes(b.dir) / (double)tl_log_size(b.log),
		(unsigned long long)tl_log_size(b.log));
	bl_close(&b);

	printf("latency (p99 aim < 50 ms; Tessera averages ~3 s append-to-checkpoint):\n");
	bl_open(&b, base, "latency", key);
	latency(b.log, 1000, 10 * scale);
	bl_close(&b);
	printf("\n");
	if (appends_only)
		goto out;

proofs:
	printf("proofs (aim: generation < 20 us):\n");
	bl_open(&b, base, "proofs", key);
	t0 = bench_now_s();
	for (int i = 0; i < 2; i++) {
		uint64_t size = (uint64_t)((double)sizes[i] * scale);
		double t;

		grow(b.log, size);
		t = bench_now_s() - t0;
		printf("  built %llu leaves of %d bytes in %.1f s (%.0f appends/s at batch %d)\n",
			(unsigned long long)size, SMALL_ENTRY, t, (double)size / t, BUILD_CALL);
		printf("  %llu leaves, just built (RocksDB still flushing and compacting):\n", (unsigned long long)size);
		proofs(b.log, size, 20000);
		if (i == 1) {
			bl_flush(&b);
			printf("  bytes on disk per %d-byte entry: %.0f after flush", SMALL_ENTRY,
				(double)dir_bytes(b.dir) / (double)size);
			bl_compact(&b);
			printf(", %.0f after compaction\n", (double)dir_bytes(b.dir) / (double)size);
			printf("  %llu leaves, settled (after a full compaction):\n", (unsigned long long)size);
			proofs(b.log, size, 20000);
		}
	}
	bl_close(&b);

	printf("\n");
out:
	printf("baselines: aim >= 100,000 durable appends/s at large batches, proof generation < 20 us,\n"
	       "  p99 append-to-checkpoint < 50 ms; Tessera ~10,000 appends/s (7 cores, NVMe);\n"
	       "  Trillian on MySQL 400-500 appends/s; Tessera ~3 s average append-to-checkpoint.\n");
	tl_signer_free(key);
	rm_rf(base);
	return 0;
}
