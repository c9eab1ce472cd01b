/*
 * Proof files, C2SP tlog-proof (c2sp.org/tlog-proof@v1, stored as *.tlog-proof):
 *
 *     c2sp.org/tlog-proof@v1
 *     extra <base64 of opaque data>      (optional; omitted when there is none)
 *     index <leaf index in decimal>
 *     <base64 hash>                      (zero or more: the RFC 6962 inclusion proof,
 *     ...                                 leaf's sibling first)
 *                                        (an empty line)
 *     <the signed checkpoint note, verbatim, with any cosignatures>
 *
 * Also here: lists of base64 hashes one per line (the body of consistency-proof files
 * given to `bundlectl verify-consistency` and of tlog-witness requests).
 *
 * Parsing checks syntax and the checkpoint note's syntax; tl_tlog_proof_verify checks the
 * log's signature and the inclusion of a leaf.
 */
#ifndef TRANSLOG_TLOG_PROOF_H
#define TRANSLOG_TLOG_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/checkpoint.h"
#include "translog/error.h"
#include "translog/hash.h"
#include "translog/key.h"

#define TL_TLOG_PROOF_HEADER "c2sp.org/tlog-proof@v1"
/* An inclusion or consistency proof in a tree of at most 2^64-1 leaves has at most 64
 * hashes (the same bound as TL_MAX_PROOF_HASHES in proof.h). */
#define TL_TLOG_PROOF_MAX_HASHES 64
/* The most opaque extra data a proof may carry (decoded). */
#define TL_TLOG_PROOF_MAX_EXTRA 4096
/* The largest proof file: the header lines, 64 hashes and a note of TL_NOTE_MAX_SIZE. */
#define TL_TLOG_PROOF_MAX_SIZE ((1u << 20) + 16384)

typedef struct tl_tlog_proof {
	const char *extra_b64; /* NULL when absent; borrows from the parsed text */
	size_t extra_b64_len;
	uint64_t index;
	size_t n_hashes;
	tl_hash hashes[TL_TLOG_PROOF_MAX_HASHES];
	const uint8_t *checkpoint; /* the signed checkpoint note; borrows from the parsed text */
	size_t checkpoint_len;
} tl_tlog_proof;

/* Parses a proof file. Strict: exact header, canonical index, canonical base64 of exactly
 * 32 bytes per hash line, at most TL_TLOG_PROOF_MAX_HASHES of them, a non-empty extra when
 * the line is present, and a syntactically valid signed note whose text is a checkpoint.
 * TL_E_INPUT naming the line otherwise. */
int tl_tlog_proof_parse(tl_tlog_proof *out, const uint8_t *text, size_t len) TL_MUST_USE;

/* Appends a proof file: extra is omitted when extra_len is 0; `checkpoint_note` must be a
 * signed note whose text is a checkpoint. The writer of what tl_tlog_proof_parse reads. */
int tl_tlog_proof_write(tl_buf *out, const uint8_t *extra, size_t extra_len, uint64_t index, const tl_hash *hashes,
	size_t n_hashes, const uint8_t *checkpoint_note, size_t note_len) TL_MUST_USE;

/* Decodes the extra data (0 bytes when absent) into out (cap bytes). */
int tl_tlog_proof_extra(uint8_t *out, size_t cap, size_t *len, const tl_tlog_proof *p) TL_MUST_USE;

/* Opens p's checkpoint with the log's key (as tl_checkpoint_open: the origin must be the
 * key's name), then checks that leaf_hash is at p->index in that tree. On success *cp (if
 * not NULL) holds the checkpoint. TL_E_UNAUTHORIZED if a signature or the proof fails. */
int tl_tlog_proof_verify(tl_checkpoint *cp, const tl_tlog_proof *p, const tl_hash *leaf_hash,
	const tl_verifier *log_key) TL_MUST_USE;

/* Reads a whole text of base64 hashes, one per line, each line ending in '\n' (an empty
 * text is an empty list). At most `cap` hashes (and never more than
 * TL_TLOG_PROOF_MAX_HASHES). */
int tl_tlog_proof_read_hashes(tl_hash *out, size_t cap, size_t *n, const uint8_t *text, size_t len) TL_MUST_USE;

/* Appends hashes as base64 lines, each ending in '\n'. */
int tl_tlog_proof_write_hashes(tl_buf *out, const tl_hash *hashes, size_t n) TL_MUST_USE;

#endif
