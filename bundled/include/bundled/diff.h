/*
 * Binary diffs between two versions of a bundle's canonical bytes: a zstd frame made with the
 * old version as its reference prefix (as `zstd --patch-from` makes one), inside a small
 * versioned header that carries both versions' sizes and SHA-256. Applying checks the old
 * version's hash before and the new one's after, so a wrong base or a corrupted patch is an
 * error, never wrong bytes. One reader and one writer (diff.c); the format is in
 * docs/formats.md ("Diffs").
 *
 * Header (88 bytes, integers big-endian), then the zstd frame to the end:
 *   magic "BDIF" | version 1 | flags 0 | window_log | 0 | from_size u64 | from_sha256[32] |
 *   to_size u64 | to_sha256[32]
 */
#ifndef BUNDLED_DIFF_H
#define BUNDLED_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/error.h"
#include "translog/hash.h"

#define BD_DIFF_HEADER_SIZE 88u
#define BD_DIFF_MAX_VERSION_SIZE (16u << 20) /* either version's bytes (BD_MAX_BUNDLE_SIZE) */
#define BD_DIFF_MAX_WINDOW_LOG 26u           /* 64 MiB: covers both versions at their limit */
#define BD_DIFF_MIN_WINDOW_LOG 10u
#define BD_DIFF_LEVEL 19                     /* zstd level: diffs are made once and kept */

typedef struct bd_diff_header {
	unsigned window_log;
	uint64_t from_size;
	tl_hash from_sha256;
	uint64_t to_size;
	tl_hash to_sha256;
} bd_diff_header;

/* Appends the diff that turns `from` into `to`. TL_E_INPUT if a version is over
 * BD_DIFF_MAX_VERSION_SIZE. */
int bd_diff_make(tl_buf *out, const uint8_t *from, size_t from_len, const uint8_t *to, size_t to_len) TL_MUST_USE;

/* Reads and checks a diff's header (magic, version, zero flags and reserved byte, window
 * within the limits, sizes within BD_DIFF_MAX_VERSION_SIZE): TL_E_INPUT naming the field. */
int bd_diff_read_header(bd_diff_header *out, const uint8_t *diff, size_t len) TL_MUST_USE;

/* Applies `diff` to `from` and appends the new version to `out`. TL_E_CONFLICT when `from` is
 * not the version the diff was made from (size or SHA-256); TL_E_INPUT when the header is bad
 * or the patch does not produce exactly the promised bytes. Memory is bounded by the
 * header's window and to_size, both capped above. On failure `out` is unchanged. */
int bd_diff_apply(tl_buf *out, const uint8_t *from, size_t from_len, const uint8_t *diff, size_t diff_len) TL_MUST_USE;

#endif
