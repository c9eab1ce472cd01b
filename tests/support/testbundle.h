/*
 * The bundle vectors (tests/vectors/bundle/, made by its generate.sh) and the canonical form,
 * for the suites of the bundle readers and writers.
 */
#ifndef BUNDLED_TESTBUNDLE_H
#define BUNDLED_TESTBUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "bundled/bundle.h"

/* The bytes of tests/vectors/bundle/<name>, NUL-terminated (not counted); *len, unless
 * len is NULL, gets their count. Fails the test when the file cannot be read. */
uint8_t *tu_bundle_vector(const char *name, size_t *len);

/* The canonical form of b as a NUL-terminated string; fails the test if the writer refuses. */
char *tu_bundle_canonical(const bd_bundle *b);

#endif
