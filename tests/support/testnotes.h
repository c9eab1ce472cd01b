/*
 * The signed-note vectors in tests/vectors/notes/ (a 7-entry log, its checkpoints, proofs
 * and keys; see the README there), read for the suites that check notes, checkpoints,
 * cosignatures and proofs. Each helper fails the test when the vector is missing or does not
 * parse.
 */
#ifndef BUNDLED_TESTNOTES_H
#define BUNDLED_TESTNOTES_H

#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/key.h"
#include "translog/note.h"

/* The bytes of tests/vectors/notes/<name>, NUL-terminated (not counted in *len). */
uint8_t *tu_notes_vector(const char *name, size_t *len);

/* The signer key in vector file `name` ("log.key", "witness.key"). */
tl_signer *tu_notes_signer(const char *name);

/* The verifier key in vector file `name` ("log.vkey", "witness.vkey"). */
tl_verifier *tu_notes_verifier(const char *name);

/* The alias of verifier v: its type and public key under another name (so another key id). */
tl_verifier *tu_notes_alias(const tl_verifier *v, const char *name);

/* Writes note n to out with one more line: a copy of signature line `i` relabelled with the
 * alias's name and key id, as anyone can do, since a signature does not cover the name. */
void tu_notes_relabel(tl_buf *out, const tl_note *n, size_t i, const tl_verifier *alias);

#endif
