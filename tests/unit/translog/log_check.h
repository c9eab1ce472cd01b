/*
 * What the crash and power-loss suites check after reopening a log that was stopped at a
 * random moment: the checkpoint verifies and is the head, its root is the root recomputed
 * from the stored entry bundles, and every acknowledged entry is there with its bytes.
 */
#ifndef TEST_LOG_CHECK_H
#define TEST_LOG_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "translog/checkpoint.h"
#include "translog/log.h"

/* One acknowledged entry: which writer run and sequence number made it, and where it went.
 * Its bytes are lc_make_entry(run, seq). */
struct lc_ack {
	uint64_t index;
	uint32_t run;
	uint32_t seq;
};

/* The entry of (run, seq): ~20 to ~420 bytes, so bundles fill unevenly. Returns its length. */
size_t lc_make_entry(char *buf, size_t cap, uint32_t run, uint32_t seq);

/* Most entries lc_append_batch appends at once. */
#define LC_MAX_BATCH 40

/* Appends n entries (1..LC_MAX_BATCH) of `run`, numbered from *seq on, in one batch and, once
 * the append returned, fills acks[0..n) and advances *seq. 0, or -1 with a message on stderr. */
int lc_append_batch(struct lc_ack *acks, tl_log *log, uint32_t run, uint32_t *seq, size_t n);

/* 0 if the log is whole and holds every acknowledged entry (its size in *size); -1 with one
 * line on stderr naming the first thing wrong. */
int lc_check_log(uint64_t *size, tl_log *log, const tl_verifier *v, const struct lc_ack *acks, size_t nacks);

/* A derived store riding in the log's commits, as bundled's publisher keeps its blocks, pins
 * and registry: the hook puts, in every commit, u64be(index) -> the entry's bytes into the
 * column family LC_RIDER_CF for each entry. Open the database with lc_column_families. */
#define LC_RIDER_CF "rider"
#define LC_COLUMN_FAMILY_COUNT (TL_LOG_COLUMN_FAMILY_COUNT + 1)
extern const char *const lc_column_families[LC_COLUMN_FAMILY_COUNT];
void lc_rider_hook(tl_log_hook *out, tl_db *db);

/* 0 if the rider holds exactly the log's first `size` entries with their bytes, nothing
 * missing and nothing beyond: what a commit wrote is all there or not at all. -1 with one
 * line on stderr otherwise. */
int lc_check_rider(tl_db *db, tl_log *log, uint64_t size);

#endif
