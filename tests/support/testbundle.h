/*
 * Helpers for the suites of the bundled core: the bundle vectors (tests/vectors/bundle/, made
 * by its generate.sh), the canonical form, CIDs as text and UnixFS DAGs built by the library.
 */
#ifndef BUNDLED_TESTBUNDLE_H
#define BUNDLED_TESTBUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "bundled/bundle.h"
#include "bundled/cid.h"
#include "bundled/dag.h"

/* The bytes of tests/vectors/bundle/<name>, NUL-terminated (not counted); *len, unless
 * len is NULL, gets their count. Fails the test when the file cannot be read. */
uint8_t *tu_bundle_vector(const char *name, size_t *len);

/* The canonical form of b as a NUL-terminated string; fails the test if the writer refuses. */
char *tu_bundle_canonical(const bd_bundle *b);

/* Asserts that bd_cid_format writes cid as the text `want`. */
void tu_assert_cid_text(const bd_cid *cid, const char *want);

/* The library's DAG of `data` under chunker `spec` ("lines", "size-N"); fails the test if
 * the spec or the build is refused. The caller frees it with bd_dag_free. */
bd_dag *tu_dag_build(const void *data, size_t len, const char *spec);

#endif
