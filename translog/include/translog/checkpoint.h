/*
 * Transparency log checkpoints (C2SP tlog-checkpoint): a signed note whose text is exactly
 *
 *     <origin>\n<tree size in decimal>\n<base64 of the 32-byte root hash>\n
 *
 * Strictness (docs/checkpoints.md): the origin is 1..TL_MAX_ORIGIN bytes of UTF-8 without
 * control characters (spaces are allowed: sum.golang.org's origin has them); the size has
 * no leading zeros; the root is canonical base64 of exactly 32 bytes. Extension lines are
 * REJECTED: our logs never write them, the spec calls them NOT RECOMMENDED and unauditable,
 * and this struct cannot carry them, so accepting them would silently drop signed content.
 */
#ifndef TRANSLOG_CHECKPOINT_H
#define TRANSLOG_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/error.h"
#include "translog/hash.h"
#include "translog/key.h"

#define TL_MAX_ORIGIN 255
/* The longest checkpoint text: origin, 20 digits, 44 base64 characters, three newlines. */
#define TL_MAX_CHECKPOINT_TEXT (TL_MAX_ORIGIN + 20 + 44 + 3)

typedef struct tl_checkpoint {
	char origin[TL_MAX_ORIGIN + 1];
	uint64_t size;
	tl_hash root;
} tl_checkpoint;

/* Appends the note text "origin\nsize\nbase64(root)\n". TL_E_INPUT if the origin is not
 * one that tl_checkpoint_parse would accept. */
int tl_checkpoint_format(tl_buf *out, const tl_checkpoint *cp) TL_MUST_USE;

/* Parses a checkpoint's note text (not the signed note: see tl_checkpoint_open). Strict,
 * as above. TL_E_INPUT naming the line that is wrong. */
int tl_checkpoint_parse(tl_checkpoint *out, const uint8_t *text, size_t len) TL_MUST_USE;

/* Appends a complete signed note of cp signed by s. The signer's name must equal the
 * origin (a checkpoint we sign must open with our own verifier key). */
int tl_checkpoint_sign(tl_buf *out, const tl_checkpoint *cp, const tl_signer *s) TL_MUST_USE;

/* Verifies the note has a valid signature by v (a type 0x01 key; unknown keys are ignored,
 * a bad signature by v rejects) and parses the checkpoint; the origin must equal the
 * verifier's name, and a size 0 must come with the empty tree's root (tl_hash_empty: any
 * other root is a signed falsehood). TL_E_INPUT for malformed notes or checkpoints,
 * TL_E_UNAUTHORIZED for a missing or bad signature, a foreign origin or a false empty root. */
int tl_checkpoint_open(tl_checkpoint *out, const uint8_t *note, size_t len, const tl_verifier *v) TL_MUST_USE;

#endif
