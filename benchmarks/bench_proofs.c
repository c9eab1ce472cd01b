/*
 * Proof generation and verification at 1M and 10M leaves.
 *
 * The node source is in memory: every complete node of a 10,000,000-leaf tree, one array per
 * level (about 640 MB), so generation is timed without storage. The 1,000,000-leaf tree is
 * a prefix of the same log, and a prefix's complete nodes are the big tree's, so both sizes
 * share the arrays. Sizes are not powers of two, so right-edge subtrees are folded.
 *
 * A second source keeps only the levels tlog-tiles stores (0, 8, 16, ...) and computes every
 * other node from the row below it, uncached: what generation costs if storage serves `get`
 * from bare tiles. It shows why storage should keep (or cache) the inner levels of its tiles.
 *
 * Baseline: "target < 20 µs generation (issue aim)".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "translog/proof.h"

#define BIG_SIZE 10000000ULL
#define SMALL_SIZE 1000000ULL
#define OPS 100000
#define TILE_OPS 5000
#define TARGET_GEN_US 20.0

static tl_hash *levels[64];
static uint64_t level_len[64];
static unsigned nlevels;

typedef struct source {
	uint64_t size;
	uint64_t calls;
} source;

static int mem_get(tl_hash *out, void *ctx, unsigned level, uint64_t index)
{
	source *s = ctx;

	/* Generation must only ask for complete nodes; a bench that silently served others would
	 * time a different algorithm. */
	if (!tl_node_complete(level, index, s->size) || level >= nlevels || index >= level_len[level])
		abort();
	s->calls++;
	*out = levels[level][index];
	return 0;
}

/* Only every 8th level is stored, as in tlog-tiles; the levels between are hashed up from the
 * stored row each time (at most 127 hashes for a node 7 levels above its tile's row). */
static int tile_get(tl_hash *out, void *ctx, unsigned level, uint64_t index)
{
	source *s = ctx;
	unsigned base = level & ~7u, up = level - base;
	uint64_t first = index << up, width = (uint64_t)1 << up;
	tl_hash row[128];

	if (!tl_node_complete(level, index, s->size) || first + width > level_len[base])
		abort();
	s->calls++;
	memcpy(row, &levels[base][first], width * sizeof(tl_hash));
	for (; width > 1; width /= 2)
		for (uint64_t i = 0; i < width / 2; i++)
			tl_hash_node(&row[i], &row[2 * i], &row[2 * i + 1]);
	*out = row[0];
	return 0;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void build(void)
{
	double t0 = now_us();

	level_len[0] = BIG_SIZE;
	levels[0] = malloc(BIG_SIZE * sizeof(tl_hash));
	if (levels[0] == NULL)
		abort();
	for (uint64_t i = 0; i < BIG_SIZE; i++) {
		uint8_t be[8];

		for (int b = 0; b < 8; b++)
			be[b] = (uint8_t)(i >> (56 - 8 * b));
		tl_hash_leaf(&levels[0][i], be, sizeof(be));
	}
	for (nlevels = 1; (BIG_SIZE >> nlevels) > 0; nlevels++) {
		uint64_t n = BIG_SIZE >> nlevels;

		level_len[nlevels] = n;
		levels[nlevels] = malloc(n * sizeof(tl_hash));
		if (levels[nlevels] == NULL)
			abort();
		for (uint64_t i = 0; i < n; i++)
			tl_hash_node(&levels[nlevels][i], &levels[nlevels - 1][2 * i], &levels[nlevels - 1][2 * i + 1]);
	}
	printf("built %" PRIu64 " leaves, %u levels of complete nodes in %.1f s\n", (uint64_t)BIG_SIZE, nlevels,
			(now_us() - t0) / 1e6);
}

static void line(const char *what, uint64_t size, double us, uint64_t ops, double per_op_extra, const char *extra)
{
	printf("  %-22s %9" PRIu64 " leaves  %7.2f us/op", what, size, us / (double)ops);
	if (extra != NULL)
		printf("  (%s %.1f)", extra, per_op_extra);
	printf("\n");
}

/* Proofs of the ops, kept for the verification pass (at these sizes no proof exceeds 32). */
#define SLOT 32
static tl_hash *pool;
static size_t lens[OPS];
static uint64_t picks[OPS];
static tl_hash old_roots[OPS];

static void keep(size_t i, const tl_hash *proof, size_t n)
{
	if (n > SLOT)
		abort();
	memcpy(&pool[i * SLOT], proof, n * sizeof(tl_hash));
	lens[i] = n;
}

static void bench_size(uint64_t size)
{
	source s = { size, 0 };
	uint64_t state = size, hashes = 0;
	tl_hash root, proof[TL_MAX_PROOF_HASHES];
	double t0, gen_incl, gen_cons;
	size_t n;

	if (tl_root_at(&root, size, mem_get, &s) != 0)
		abort();
	for (size_t i = 0; i < OPS; i++)
		picks[i] = next_random(&state) % size;

	s.calls = 0;
	t0 = now_us();
	for (size_t i = 0; i < OPS; i++)
		if (tl_proof_inclusion(proof, &n, picks[i], size, mem_get, &s) != 0)
			abort();
	gen_incl = now_us() - t0;
	line("inclusion gen", size, gen_incl, OPS, (double)s.calls / OPS, "gets/proof");
	for (size_t i = 0; i < OPS; i++) {
		if (tl_proof_inclusion(proof, &n, picks[i], size, mem_get, &s) != 0)
			abort();
		keep(i, proof, n);
		hashes += n;
	}
	t0 = now_us();
	for (size_t i = 0; i < OPS; i++)
		if (tl_verify_inclusion(&levels[0][picks[i]], picks[i], size, &pool[i * SLOT], lens[i], &root) != 0)
			abort();
	line("inclusion verify", size, now_us() - t0, OPS, (double)hashes / OPS, "proof hashes");

	/* Old sizes 1..size-1; their roots are the verifier's input, computed outside the timing. */
	for (size_t i = 0; i < OPS; i++) {
		picks[i] = picks[i] % (size - 1) + 1;
		if (tl_root_at(&old_roots[i], picks[i], mem_get, &s) != 0)
			abort();
	}
	s.calls = 0;
	hashes = 0;
	t0 = now_us();
	for (size_t i = 0; i < OPS; i++)
		if (tl_proof_consistency(proof, &n, picks[i], size, mem_get, &s) != 0)
			abort();
	gen_cons = now_us() - t0;
	line("consistency gen", size, gen_cons, OPS, (double)s.calls / OPS, "gets/proof");
	for (size_t i = 0; i < OPS; i++) {
		if (tl_proof_consistency(proof, &n, picks[i], size, mem_get, &s) != 0)
			abort();
		keep(i, proof, n);
		hashes += n;
	}
	t0 = now_us();
	for (size_t i = 0; i < OPS; i++)
		if (tl_verify_consistency(picks[i], size, &pool[i * SLOT], lens[i], &old_roots[i], &root) != 0)
			abort();
	line("consistency verify", size, now_us() - t0, OPS, (double)hashes / OPS, "proof hashes");
	printf("  baseline: target < %.0f us generation (issue aim): inclusion %s, consistency %s\n",
			TARGET_GEN_US, gen_incl / OPS < TARGET_GEN_US ? "met" : "MISSED",
			gen_cons / OPS < TARGET_GEN_US ? "met" : "MISSED");
}

static void bench_tiles(uint64_t size)
{
	source s = { size, 0 };
	uint64_t state = 7;
	tl_hash proof[TL_MAX_PROOF_HASHES];
	size_t n;
	double t0 = now_us(), us;

	for (size_t i = 0; i < TILE_OPS; i++)
		if (tl_proof_inclusion(proof, &n, next_random(&state) % size, size, tile_get, &s) != 0)
			abort();
	us = now_us() - t0;
	line("inclusion gen, bare", size, us, TILE_OPS, (double)s.calls / TILE_OPS, "gets/proof");
	printf("  baseline: target < %.0f us generation (issue aim): %s from bare tiles\n", TARGET_GEN_US,
			us / TILE_OPS < TARGET_GEN_US ? "met" : "MISSED");
}

int main(void)
{
	tl_hash probe;

	/* Warm the hash context so the first timing does not pay for OpenSSL's setup. */
	tl_hash_empty(&probe);
	build();
	if ((pool = malloc((size_t)OPS * SLOT * sizeof(tl_hash))) == NULL)
		abort();
	printf("in-memory node source (every complete node stored), %d random proofs each:\n", OPS);
	bench_size(SMALL_SIZE);
	bench_size(BIG_SIZE);
	printf("bare tlog-tiles source (levels 0, 8, 16 stored, others rehashed per get, no cache), %d proofs:\n",
			TILE_OPS);
	bench_tiles(BIG_SIZE);
	for (unsigned l = 0; l < nlevels; l++)
		free(levels[l]);
	free(pool);
	return 0;
}
