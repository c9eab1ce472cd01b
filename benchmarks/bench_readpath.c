/*
 * The storage read path the daemon serves from: single entries, full entry bundles, full
 * hash tiles, random inclusion proofs on a stored 1M-entry log, and raw blocks of 6 KB and
 * 33 KB from the block store, all with random keys so RocksDB's block cache matters.
 *
 *   bench_readpath DIR [--quick] [--reps R] [--cache-mb N] [--bloom BITS] [--compact]
 *
 * DIR keeps the database between runs: the first run fills it (1M entries of 500 bytes,
 * 2,000 blocks of each size, then a full compaction: a minute or two), later runs reuse it,
 * so runs of different builds or options read the same bytes (A/B/A/B). Each figure is the
 * median of R timed rounds (default 3) of the same operation, as wall and CPU time. The
 * options after --reps set tl_db_options (see translog/db.h; unset, the defaults apply);
 * --compact first rewrites every table file under them (bloom filters are built when a file
 * is written: compare filter settings on copies of DIR, each compacted under its own).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bundled/blockstore.h"
#include "translog/key.h"
#include "translog/log.h"
#include "translog/proof.h"
#include "util/clock.h"

enum { LOG_SIZE = 1000000, ENTRY = 500, BUILD_CALL = 4096, NBLOCKS = 2000, SMALL_BLOCK = 6 * 1024,
	LARGE_BLOCK = 33 * 1024, MAX_REPS = 15 };

static void die(const char *what)
{
	fprintf(stderr, "bench_readpath: %s: %s\n", what, tl_error_message());
	exit(1);
}

static uint64_t rnd64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Base64-like text, so compression gets the help it would get from real entries. */
static void fill(uint8_t *p, size_t len, uint64_t seed)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint64_t x = (seed + 1) * 0x9e3779b97f4a7c15u;

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)b64[rnd64(&x) & 63];
}

static void block_cid(bd_cid *cid, uint8_t *buf, size_t size, uint64_t i)
{
	fill(buf, size, i * 2 + (size == LARGE_BLOCK));
	bd_cid_of(cid, BD_CODEC_RAW, buf, size);
}

struct store {
	tl_db *db;
	tl_log *log;
	bd_blockstore *bs;
	bd_cid small[NBLOCKS], large[NBLOCKS];
};

static const char *const cfs[] = { "tl_tiles", "tl_entries", "tl_meta", "blocks" };

static void store_open(struct store *s, const char *dir, const tl_signer *key, const struct tl_db_options *opts)
{
	if (tl_db_open_with(&s->db, dir, cfs, 4, opts) != 0)
		die("db open");
	if (tl_log_open(&s->log, s->db, key, NULL) != 0)
		die("log open");
	if (bd_blockstore_open(&s->bs, s->db) != 0)
		die("blockstore open");
}

static void store_close(struct store *s)
{
	bd_blockstore_close(s->bs);
	tl_log_close(s->log);
	tl_db_close(s->db);
}

/* Rewrites every table file under the options in force (filters are built when a file is
 * written, so a store filled without them gets them only this way). */
static void compact(struct store *s)
{
	rocksdb_compactoptions_t *co = rocksdb_compactoptions_create();

	rocksdb_compactoptions_set_bottommost_level_compaction(co, 2 /* kForce */);
	for (size_t i = 0; i < sizeof(cfs) / sizeof(cfs[0]); i++)
		rocksdb_compact_range_cf_opt(tl_db_rocks(s->db), tl_db_cf(s->db, cfs[i]), co, NULL, 0, NULL, 0);
	rocksdb_compactoptions_destroy(co);
}

static void fill_store(struct store *s)
{
	static uint8_t bufs[BUILD_CALL][ENTRY];
	static const void *ptrs[BUILD_CALL];
	static size_t lens[BUILD_CALL];
	static uint8_t block[LARGE_BLOCK];
	uint64_t size = tl_log_size(s->log), first;
	double t0 = bench_now_s();

	while (size < LOG_SIZE) {
		size_t n = LOG_SIZE - size < BUILD_CALL ? (size_t)(LOG_SIZE - size) : BUILD_CALL;

		for (size_t k = 0; k < n; k++) {
			fill(bufs[k], ENTRY, size + k);
			ptrs[k] = bufs[k];
			lens[k] = ENTRY;
		}
		if (tl_log_append_batch(&first, s->log, ptrs, lens, n) != 0)
			die("append");
		size += n;
	}
	for (uint64_t i = 0; i < NBLOCKS; i++) {
		bd_cid cid;

		block_cid(&cid, block, SMALL_BLOCK, i);
		if (bd_blockstore_put(s->bs, &cid, block, SMALL_BLOCK) != 0)
			die("block put");
		block_cid(&cid, block, LARGE_BLOCK, i);
		if (bd_blockstore_put(s->bs, &cid, block, LARGE_BLOCK) != 0)
			die("block put");
	}
	compact(s);
	printf("filled %d entries of %d bytes and %d + %d blocks in %.1f s\n", LOG_SIZE, ENTRY, NBLOCKS, NBLOCKS,
		bench_now_s() - t0);
}

/* ---- the operations, each `ops` random reads ---- */

typedef void (*op_fn)(struct store *s, uint64_t *rng, size_t ops, const void *arg);

static void op_entry(struct store *s, uint64_t *rng, size_t ops, const void *arg)
{
	tl_buf out = tl_buf_make(1 << 20);

	for (size_t i = 0; i < ops; i++) {
		tl_buf_reset(&out);
		if (tl_log_entry(&out, s->log, rnd64(rng) % LOG_SIZE) != 0 || out.len != ENTRY)
			die("entry");
	}
	tl_buf_free(&out);
}

static void tile_op(struct store *s, uint64_t *rng, size_t ops, bool entries)
{
	tl_buf out = tl_buf_make(32 << 20);

	for (size_t i = 0; i < ops; i++) {
		tl_tile t = { .level = 0, .index = rnd64(rng) % (LOG_SIZE / TL_TILE_WIDTH), .width = TL_TILE_WIDTH,
			.entries = entries };

		tl_buf_reset(&out);
		if (tl_log_tile(&out, s->log, &t) != 0)
			die("tile");
	}
	tl_buf_free(&out);
}

static void op_bundle(struct store *s, uint64_t *rng, size_t ops, const void *arg)
{
	tile_op(s, rng, ops, true);
}

static void op_tile(struct store *s, uint64_t *rng, size_t ops, const void *arg)
{
	tile_op(s, rng, ops, false);
}

static void op_proof(struct store *s, uint64_t *rng, size_t ops, const void *arg)
{
	tl_hash proof[TL_MAX_PROOF_HASHES];
	size_t n;

	for (size_t i = 0; i < ops; i++)
		if (tl_log_prove_inclusion(proof, &n, s->log, rnd64(rng) % LOG_SIZE, LOG_SIZE) != 0)
			die("proof");
}

enum block_read { PLAIN, VERIFIED, PINNED };

struct block_case {
	const char *name;
	bool large;
	enum block_read how;
};

static void op_block(struct store *s, uint64_t *rng, size_t ops, const void *arg)
{
	const struct block_case *bc = arg;
	const bd_cid *cids = bc->large ? s->large : s->small;
	size_t size = bc->large ? LARGE_BLOCK : SMALL_BLOCK;

	for (size_t i = 0; i < ops; i++) {
		const bd_cid *cid = &cids[rnd64(rng) % NBLOCKS];
		const uint8_t *v;
		uint8_t *data;
		size_t len;
		void *pin;

		if (bc->how == PINNED) {
			if (bd_blockstore_get_pinned(&v, &len, &pin, s->bs, cid) != 0 || len != size)
				die("block get");
			tl_db_release(pin);
			continue;
		}
		if ((bc->how == VERIFIED ? bd_blockstore_get_verified : bd_blockstore_get)(&data, &len, s->bs, cid) != 0 ||
		    len != size)
			die("block get");
		free(data);
	}
}

static void op_absent(struct store *s, uint64_t *rng, size_t ops, const void *arg)
{
	for (size_t i = 0; i < ops; i++) {
		uint64_t x = rnd64(rng);
		bd_cid cid;

		bd_cid_of(&cid, BD_CODEC_RAW, &x, sizeof(x));
		if (bd_blockstore_has(s->bs, &cid) != 0)
			die("has");
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median wall and CPU microseconds per operation over `reps` rounds. */
static void measure(struct store *s, const char *name, op_fn fn, const void *arg, size_t ops, unsigned reps)
{
	double wall[MAX_REPS], cpu[MAX_REPS];
	uint64_t rng = 0x5eed1234abcdULL ^ ops;

	fn(s, &rng, ops / 4 + 1, arg); /* warm-up */
	for (unsigned r = 0; r < reps; r++) {
		double t0 = bench_now_s(), c0 = bench_cpu_s();

		fn(s, &rng, ops, arg);
		cpu[r] = (bench_cpu_s() - c0) * 1e6 / (double)ops;
		wall[r] = (bench_now_s() - t0) * 1e6 / (double)ops;
	}
	qsort(wall, reps, sizeof(wall[0]), cmp_double);
	qsort(cpu, reps, sizeof(cpu[0]), cmp_double);
	printf("%-10s %7zu ops  wall %8.2f us/op (%.2f-%.2f)  cpu %8.2f us/op (%.2f-%.2f)\n", name, ops,
		wall[reps / 2], wall[0], wall[reps - 1], cpu[reps / 2], cpu[0], cpu[reps - 1]);
	fflush(stdout);
}

static const struct block_case blocks[] = {
	{ "block6k", false, PLAIN },
	{ "block33k", true, PLAIN },
	{ "block6k-v", false, VERIFIED },
	{ "block33k-v", true, VERIFIED },
	{ "block6k-p", false, PINNED },
	{ "block33k-p", true, PINNED },
};

int main(int argc, char **argv)
{
	static struct store s;
	static uint8_t block[LARGE_BLOCK];
	struct tl_db_options opts = { 0 };
	unsigned reps = 3, div = 1;
	int recompact = 0;
	tl_signer *key;
	struct stat st;
	char probe[4200];

	if (argc < 2) {
		fprintf(stderr, "usage: bench_readpath DIR [--quick] [--reps R] [--cache-mb N] [--bloom BITS] [--compact]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			div = 10;
		else if (strcmp(argv[i], "--compact") == 0)
			recompact = 1;
		else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			reps = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--cache-mb") == 0 && i + 1 < argc)
			opts.cache_bytes = (size_t)atoi(argv[++i]) << 20;
		else if (strcmp(argv[i], "--bloom") == 0 && i + 1 < argc)
			opts.bloom_bits = atoi(argv[++i]);

		else {
			fprintf(stderr, "bench_readpath: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (reps < 1 || reps > MAX_REPS)
		reps = 3;
	/* A fixed key: every run opens the same log. */
	if (tl_signer_from_seed(&key, "bench.example/readpath", TL_KEY_TYPE_ED25519,
		(const uint8_t *)"0123456789abcdef0123456789abcdef") != 0)
		die("key");
	snprintf(probe, sizeof(probe), "%s/CURRENT", argv[1]);
	store_open(&s, argv[1], key, &opts);
	if (stat(probe, &st) != 0 || tl_log_size(s.log) < LOG_SIZE)
		fill_store(&s);
	else if (recompact)
		compact(&s);
	for (uint64_t i = 0; i < NBLOCKS; i++) {
		block_cid(&s.small[i], block, SMALL_BLOCK, i);
		block_cid(&s.large[i], block, LARGE_BLOCK, i);
	}
	printf("log of %llu entries; medians of %u rounds\n", (unsigned long long)tl_log_size(s.log), reps);
	measure(&s, "entry", op_entry, NULL, 20000 / div, reps);
	measure(&s, "bundle", op_bundle, NULL, 2000 / div, reps);
	measure(&s, "tile", op_tile, NULL, 10000 / div, reps);
	measure(&s, "proof", op_proof, NULL, 20000 / div, reps);
	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
		measure(&s, blocks[i].name, op_block, &blocks[i], (blocks[i].large ? 5000 : 10000) / div, reps);
	measure(&s, "absent", op_absent, NULL, 20000 / div, reps);
	store_close(&s);
	tl_signer_free(key);
	return 0;
}
