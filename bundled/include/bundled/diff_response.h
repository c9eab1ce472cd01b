/*
 * The answer to GET /v1/domains/<td>/diff (the "diff response"): everything an agent needs to
 * move from the version it holds (A) to version B and verify the result without trusting the
 * server: the patch (bundled/diff.h, or none), B's log entry and leaf index, the inclusion
 * proof of that entry against the daemon's current signed checkpoint, that checkpoint, and
 * the consistency proof from the tree size the agent last verified. One reader and one writer
 * (diff_response.c); the framing is in docs/formats.md ("Diff responses").
 *
 * Binary framing, version 1 (integers big-endian, no padding, nothing after the patch):
 *   magic "BDDR" | version u8 = 1 | status u8 | reserved u16 = 0 |
 *   from u64 | to u64 | index u64 | size u64 | old_size u64 |
 *   entry_len u16 | entry | checkpoint_len u32 | checkpoint |
 *   n_inclusion u8 | n_inclusion * 32 | n_consistency u8 | n_consistency * 32 |
 *   patch_len u32 | patch
 * `size` is the checkpoint's tree size (the agent checks it against the signed note),
 * `old_size` the size the consistency proof starts from. The patch is present exactly when
 * the status is BD_DIFF_STATUS_PATCH.
 */
#ifndef BUNDLED_DIFF_RESPONSE_H
#define BUNDLED_DIFF_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "bundled/diff.h"
#include "bundled/entry.h"
#include "translog/bytes.h"
#include "translog/error.h"
#include "translog/hash.h"
#include "translog/note.h"
#include "translog/proof.h"

#define BD_DIFF_RESPONSE_MAGIC "BDDR"
#define BD_DIFF_RESPONSE_VERSION 1u
#define BD_DIFF_RESPONSE_FIXED 48u /* bytes before the entry */
/* The largest patch a response carries: a diff of two versions at their limit can only be
 * larger than the new version by zstd's frame overhead, bounded well below 1 MiB. */
#define BD_DIFF_RESPONSE_MAX_PATCH ((size_t)BD_DIFF_HEADER_SIZE + BD_DIFF_MAX_VERSION_SIZE + (1u << 20))
#define BD_DIFF_RESPONSE_MAX_CHECKPOINT TL_NOTE_MAX_SIZE
/* The largest response: what a client caps its read at. */
#define BD_DIFF_RESPONSE_MAX_SIZE                                                                                   \
	((size_t)BD_DIFF_RESPONSE_FIXED + 2 + BD_ENTRY_MAX_SIZE + 4 + BD_DIFF_RESPONSE_MAX_CHECKPOINT +              \
		2 * (1 + (size_t)TL_MAX_PROOF_HASHES * TL_HASH_SIZE) + 4 + BD_DIFF_RESPONSE_MAX_PATCH)
#define BD_DIFF_RESPONSE_MEDIA_TYPE "application/vnd.bundled.diff-response"

typedef enum bd_diff_status {
	BD_DIFF_STATUS_PATCH = 0,     /* the patch from A to B follows */
	BD_DIFF_STATUS_CURRENT = 1,   /* A is B: nothing to apply (the proofs still refresh the checkpoint) */
	BD_DIFF_STATUS_UNKNOWN = 2,   /* the server has no version A of the domain: fetch B whole */
	BD_DIFF_STATUS_TOO_OLD = 3,   /* A is too far behind B to keep a diff for: fetch B whole */
} bd_diff_status;
#define BD_DIFF_STATUS_LAST BD_DIFF_STATUS_TOO_OLD

/* "patch", "current", "unknown_base", "base_too_old": the JSON form's names. */
const char *bd_diff_status_name(bd_diff_status s);

/* A response; the reader's byte fields point into the bytes it read (valid as long as they
 * are). */
typedef struct bd_diff_response {
	bd_diff_status status;
	uint64_t from, to;       /* sequences of A and B */
	uint64_t index;          /* B's leaf index */
	uint64_t size;           /* the checkpoint's tree size */
	uint64_t old_size;       /* where the consistency proof starts (0: no proof needed) */
	const uint8_t *entry;    /* B's entry text */
	size_t entry_len;
	const uint8_t *checkpoint; /* the signed checkpoint note */
	size_t checkpoint_len;
	size_t n_inclusion, n_consistency;
	tl_hash inclusion[TL_MAX_PROOF_HASHES];
	tl_hash consistency[TL_MAX_PROOF_HASHES];
	const uint8_t *patch;    /* NULL unless status is BD_DIFF_STATUS_PATCH */
	size_t patch_len;
} bd_diff_response;

/* Appends the binary framing of `r`. TL_E_INPUT if a field is over its limit, or the patch's
 * presence does not match the status (the reader would refuse it). */
int bd_diff_response_write(tl_buf *out, const bd_diff_response *r) TL_MUST_USE;

/* Reads a whole response (exactly `len` bytes). Checks the framing and limits only (magic,
 * version, status, reserved zero, lengths within their MAX_*, index < size, old_size <= size,
 * patch present exactly for BD_DIFF_STATUS_PATCH, nothing trailing): TL_E_INPUT naming the
 * field. Verifying the signature, the proofs, the entry and the patch is the caller's. */
int bd_diff_response_read(bd_diff_response *out, const uint8_t *data, size_t len) TL_MUST_USE;

#endif
