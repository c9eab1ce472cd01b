/*
 * Prepares a data directory for bench_http.sh the way the daemon lays it out (DIR/log.key,
 * DIR/db), written through the libraries the daemon uses, so the benchmark starts at once:
 * a log of N entries (appended in batches, one commit each, as tl_log_append_batch does for
 * the daemon) and two raw blocks of 6 KB and 33 KB in the block store. Prints the blocks'
 * CIDs, one a line. Built by the script from the static libraries (not a bench_* program:
 * `make bench` does not run it).
 *
 *   fill DATA_DIR ENTRIES ENTRY_BYTES
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bundled/blockstore.h"
#include "bundled/cid.h"
#include "translog/db.h"
#include "translog/key.h"
#include "translog/log.h"

#define BATCH 65536u

static int fail(const char *what)
{
	fprintf(stderr, "fill: %s: %s\n", what, tl_error_message());
	return 1;
}

/* Entry i: text lines like bundled's entries (key SP value LF), with per-entry hex so the
 * bundles compress as real ones do, about `bytes` long. */
static size_t make_entry(char *out, size_t bytes, uint64_t i)
{
	uint64_t x = i * 0x9E3779B97F4A7C15ull + 1;
	size_t n = (size_t)snprintf(out, bytes, "version 1\nindex %llu\ndomain td%llu.example.org\n",
		(unsigned long long)i, (unsigned long long)(i % 5000));

	while (n + 72 < bytes) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		n += (size_t)snprintf(out + n, bytes - n, "sha256 %016llx%016llx%016llx%016llx\n",
			(unsigned long long)x, (unsigned long long)(x * 3), (unsigned long long)(x * 5),
			(unsigned long long)(x * 7));
	}
	return n;
}

int main(int argc, char **argv)
{
	const char *cfs[TL_LOG_COLUMN_FAMILY_COUNT + 1];
	char path[4200], text[BD_CID_TEXT_MAX];
	static const size_t block_sizes[] = { 6 * 1024, 33 * 1024 };
	tl_signer *key;
	tl_db *db;
	tl_log *log;
	bd_blockstore *bs;
	uint64_t n, bytes, first;
	char *texts;
	const void **entries;
	size_t *lens;

	if (argc != 4 || (n = strtoull(argv[2], NULL, 10)) == 0 || (bytes = strtoull(argv[3], NULL, 10)) < 100 ||
	    bytes > 8192) {
		fprintf(stderr, "usage: fill DATA_DIR ENTRIES ENTRY_BYTES (100..8192)\n");
		return 2;
	}
	if (mkdir(argv[1], 0700) != 0) {
		fprintf(stderr, "fill: mkdir %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/log.key", argv[1]);
	if (tl_signer_generate(&key, "bench.local/log") != 0 || tl_signer_save(key, path) != 0)
		return fail("log key");
	for (size_t i = 0; i < TL_LOG_COLUMN_FAMILY_COUNT; i++)
		cfs[i] = tl_log_column_families[i];
	cfs[TL_LOG_COLUMN_FAMILY_COUNT] = bd_blockstore_column_family;
	snprintf(path, sizeof(path), "%s/db", argv[1]);
	if (tl_db_open(&db, path, cfs, TL_LOG_COLUMN_FAMILY_COUNT + 1) != 0 || tl_log_open(&log, db, key, NULL) != 0)
		return fail("open");
	texts = malloc((size_t)BATCH * bytes);
	entries = malloc(BATCH * sizeof(*entries));
	lens = malloc(BATCH * sizeof(*lens));
	if (texts == NULL || entries == NULL || lens == NULL)
		return 1;
	for (uint64_t done = 0; done < n;) {
		size_t take = n - done < BATCH ? (size_t)(n - done) : BATCH;

		for (size_t i = 0; i < take; i++) {
			entries[i] = texts + i * bytes;
			lens[i] = make_entry(texts + i * bytes, bytes, done + i);
		}
		if (tl_log_append_batch(&first, log, entries, lens, take) != 0)
			return fail("append");
		done += take;
	}
	tl_log_close(log);
	if (bd_blockstore_open(&bs, db) != 0)
		return fail("block store");
	for (size_t b = 0; b < sizeof(block_sizes) / sizeof(block_sizes[0]); b++) {
		uint8_t *block = malloc(block_sizes[b]);
		bd_cid cid;

		if (block == NULL)
			return 1;
		for (size_t i = 0; i < block_sizes[b]; i++)
			block[i] = (uint8_t)(i * 31 + b + i / 97);
		bd_cid_of(&cid, BD_CODEC_RAW, block, block_sizes[b]);
		if (bd_blockstore_put(bs, &cid, block, block_sizes[b]) != 0 || bd_cid_format(text, sizeof(text), &cid) != 0)
			return fail("block");
		printf("%s\n", text);
		free(block);
	}
	bd_blockstore_close(bs);
	tl_db_close(db);
	tl_signer_free(key);
	free(texts);
	free(entries);
	free(lens);
	return 0;
}
