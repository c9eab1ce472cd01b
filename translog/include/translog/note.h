/*
 * C2SP signed notes (c2sp.org/signed-note): a UTF-8 text ending in a newline, a blank line,
 * then one or more signature lines "— <key name> <base64(key id || signature)>\n" (the dash
 * is the em dash U+2014). The text is everything up to and including the newline before
 * the LAST blank line, so the text itself may contain blank lines.
 *
 * Reading is strict: the whole note must be valid UTF-8 without ASCII control characters
 * other than newline, at most TL_NOTE_MAX_SIZE bytes and TL_NOTE_MAX_SIGS signature lines,
 * each line well formed (valid key name, canonical base64 of at least 5 bytes).
 *
 * Verification follows the spec: signatures by keys the caller does not know (by name AND
 * key id) are ignored; every signature by a known key is verified and one failure rejects
 * the whole note; a note without a verified signature by a known key is rejected.
 *
 * Known keys of type 0x01 verify Ed25519 over the text. Keys of type 0x04 verify
 * tlog-cosignature cosignature/v1 signatures (an 8-byte timestamp, then Ed25519 over
 * "cosignature/v1\ntime <T>\n" || text); see cosig.h for making and inspecting those.
 */
#ifndef TRANSLOG_NOTE_H
#define TRANSLOG_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/error.h"
#include "translog/key.h"

/* The largest note read or written: 100 post-quantum signatures (about 3.3 KB of base64
 * each) fit with room to spare, and a checkpoint is under 400 bytes of text. */
#define TL_NOTE_MAX_SIZE (1u << 20)
/* The most signature lines a note may carry (the spec asks for at least 16; Go uses 100). */
#define TL_NOTE_MAX_SIGS 100

/* One signature line. The pointers borrow from the bytes that were parsed. */
typedef struct tl_note_sig {
	const char *name; /* not NUL-terminated */
	size_t name_len;
	uint32_t key_id;  /* the first four bytes of the decoded signature, big-endian */
	const char *b64;  /* base64(key id || signature), not NUL-terminated */
	size_t b64_len;
} tl_note_sig;

/* A parsed (not yet verified) note. Borrows from the parsed bytes: keep them alive. Every
 * signature line is kept, in order, duplicates included, so tl_note_write reproduces the
 * input exactly. */
typedef struct tl_note {
	const uint8_t *text; /* the signed text, including its final newline */
	size_t text_len;
	size_t n_sigs;
	tl_note_sig sigs[TL_NOTE_MAX_SIGS];
} tl_note;

/* 0 if s is valid note text material: valid UTF-8 with no ASCII control character other
 * than '\n' (and none at all when allow_newline is 0). TL_E_INPUT with the offset if not. */
int tl_note_check_text(const uint8_t *s, size_t len, int allow_newline) TL_MUST_USE;

/* Parses a signed note's syntax (see the top of this file). TL_E_INPUT if malformed. */
int tl_note_parse(tl_note *out, const void *msg, size_t len) TL_MUST_USE;

/* Parses more signature lines (each "— name base64\n", e.g. a tlog-witness add-checkpoint
 * response) and appends them to n; the lines borrow from `lines`. At least one line is
 * required. TL_E_INPUT if a line is malformed or the note would pass TL_NOTE_MAX_SIGS;
 * n is unchanged on failure. */
int tl_note_add_sig_lines(tl_note *n, const void *lines, size_t len) TL_MUST_USE;

/* Verifies n against the known keys (n_known of them; an entry may be NULL). Returns 0 if
 * at least one known key's signature verified and none failed; TL_E_UNAUTHORIZED if a
 * signature by a known key fails or no known key signed. If `verified` is not NULL it
 * gets n_known flags: verified[i] = 1 when known[i] has a valid signature on n. Two known
 * keys with the same name and key id are refused (TL_E_INPUT): that configuration is
 * ambiguous. */
int tl_note_verify(const tl_note *n, const tl_verifier *const *known, size_t n_known, int *verified) TL_MUST_USE;

/* tl_note_parse then tl_note_verify. */
int tl_note_open(tl_note *out, const void *msg, size_t len, const tl_verifier *const *known, size_t n_known) TL_MUST_USE;

/* Appends a signed note: text (which must end in '\n' and be valid note text), a blank
 * line, and one signature line per signer, in order. Signers must be of type 0x01
 * (cosignatures need a timestamp: see tl_cosig_sign). */
int tl_note_sign(tl_buf *out, const void *text, size_t len, const tl_signer *const *signers, size_t n) TL_MUST_USE;

/* Appends n re-signed by more signers (type 0x01): n's existing signature lines are kept,
 * except those by a key (name and key id) that is signing now, then the new ones follow. */
int tl_note_add_sigs(tl_buf *out, const tl_note *n, const tl_signer *const *signers, size_t n_signers) TL_MUST_USE;

/* Appends n in the wire format: text, blank line, its signature lines. The writer of what
 * tl_note_parse reads. */
int tl_note_write(tl_buf *out, const tl_note *n) TL_MUST_USE;

/* Appends one signature line "— name base64(key id || sig)\n". name must be a valid key
 * name and sig non-empty. */
int tl_note_write_sig_line(tl_buf *out, const char *name, size_t name_len, uint32_t key_id, const uint8_t *sig,
	size_t sig_len) TL_MUST_USE;

/* Decodes a signature line's bytes after the key id into out (cap bytes). TL_E_INPUT if
 * they do not fit. */
int tl_note_sig_bytes(uint8_t *out, size_t cap, size_t *len, const tl_note_sig *s) TL_MUST_USE;

/* The index in n->sigs of the first line by this key (name and key id), or -1. */
int tl_note_find_sig(const tl_note *n, const char *name, uint32_t key_id);

#endif
