/*
 * Witness cosignatures, C2SP tlog-cosignature "cosignature/v1" (Ed25519, key type 0x04).
 *
 * A cosignature is a signed-note signature line on a checkpoint:
 *     — <witness name> base64(key id || timestamp (8 bytes, big-endian) || Ed25519 signature)
 * where the Ed25519 signature covers
 *     "cosignature/v1\n" "time <timestamp in decimal>\n" <the checkpoint's note text>
 * (the text includes any extension lines and the final newline, no signature lines).
 * The key id is SHA-256(name || "\n" || 0x04 || public key)[:4], so a witness key and a
 * log key never stand in for each other. Timestamps are POSIX seconds, at most 2^63-1.
 */
#ifndef TRANSLOG_COSIG_H
#define TRANSLOG_COSIG_H

#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/error.h"
#include "translog/key.h"
#include "translog/note.h"

/* TL_COSIG_HEADER, TL_COSIG_MAX_TIMESTAMP, tl_cosig_message and tl_cosig_verify_raw, the
 * raw cosignature primitives, are declared in key.h: note.c checks cosignatures with them
 * without depending on this file. */

/* Appends one cosignature line "— name base64(...)\n" over a checkpoint's note text
 * `body` (it must parse as a checkpoint, see checkpoint.h: a witness only cosigns
 * checkpoints). The cosigner must be a type 0x04 key. */
int tl_cosig_sign(tl_buf *line, const uint8_t *body, size_t len, uint64_t timestamp, const tl_signer *cosigner) TL_MUST_USE;

/* Appends note n with a cosignature by `cosigner` at `timestamp` added after its lines
 * (an older line by the same key is dropped, so re-cosigning replaces). */
int tl_cosig_add(tl_buf *out, const tl_note *n, uint64_t timestamp, const tl_signer *cosigner) TL_MUST_USE;

/* Finds and checks the cosignature of `witness` (type 0x04) on n. 0 and *timestamp set
 * (the largest if the witness signed more than once) when every line by that key
 * verifies; TL_E_NOTFOUND when no line carries the witness's name and key id;
 * TL_E_UNAUTHORIZED when one does not verify. */
int tl_cosig_verify(uint64_t *timestamp, const tl_note *n, const tl_verifier *witness) TL_MUST_USE;

/* Counts the witnesses (n_witnesses of them) with a valid cosignature on n, for quorum
 * policies. Missing cosignatures are not errors; an invalid cosignature by one of these
 * witnesses is (TL_E_UNAUTHORIZED), as the signed-note spec recommends. */
int tl_cosig_count(size_t *count, const tl_note *n, const tl_verifier *const *witnesses, size_t n_witnesses) TL_MUST_USE;

/* tl_cosig_count, then TL_E_UNAUTHORIZED ("k of n witnesses cosigned, quorum is q") when
 * fewer than `quorum` witnesses cosigned. *count (if not NULL) gets the count. */
int tl_cosig_check_quorum(size_t *count, const tl_note *n, const tl_verifier *const *witnesses, size_t n_witnesses,
	size_t quorum) TL_MUST_USE;

#endif
