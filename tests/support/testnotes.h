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

#include "translog/key.h"

/* The bytes of tests/vectors/notes/<name>, NUL-terminated (not counted in *len). */
uint8_t *tu_notes_vector(const char *name, size_t *len);

/* The signer key in vector file `name` ("log.key", "witness.key"). */
tl_signer *tu_notes_signer(const char *name);

/* The verifier key in vector file `name` ("log.vkey", "witness.vkey"). */
tl_verifier *tu_notes_verifier(const char *name);

#endif
