/*
 * A file as a DAG of blocks, built exactly as Kubo builds it with `ipfs add --cid-version=1
 * --raw-leaves` (balanced layout, at most 174 links per node): leaves are raw blocks
 * (CIDv1 0x55), inner nodes are UnixFS file nodes (CIDv1 dag-pb 0x70). A file of one leaf
 * is just that raw leaf; the empty file is the raw leaf of zero bytes.
 */
#ifndef BUNDLED_DAG_H
#define BUNDLED_DAG_H

#include <stddef.h>
#include <stdint.h>

#include "bundled/chunker.h"
#include "bundled/cid.h"
#include "translog/error.h"

/* Limits of bd_dag_build: the largest input, and the most leaves it may be cut into. */
#define BD_DAG_MAX_INPUT ((size_t)1 << 30)
#define BD_DAG_MAX_LEAVES ((size_t)1 << 22)

typedef struct bd_block {
	bd_cid cid;
	const uint8_t *data; /* owned by the DAG */
	size_t len;
} bd_block;

typedef struct bd_dag bd_dag;

/* Cuts `len` bytes of `data` with `chunker` (NULL: the default "lines" rule) and builds
 * the file's DAG. The DAG keeps its own copy of every block's bytes. TL_E_INPUT if the
 * input is over BD_DAG_MAX_INPUT or would make more than BD_DAG_MAX_LEAVES leaves. */
int bd_dag_build(bd_dag **out, const uint8_t *data, size_t len, const bd_chunker *chunker) TL_MUST_USE;

/* The root's CID: what `ipfs add` prints and `ipfs cat` takes. */
const bd_cid *bd_dag_root(const bd_dag *dag);

/* The number of distinct blocks (a leaf that repeats is listed once). */
size_t bd_dag_count(const bd_dag *dag);

/* Block i, 0 <= i < count (NULL past the end): every block comes after all of its
 * children, and the root is the last. The pointer lives as long as the DAG. */
const bd_block *bd_dag_block(const bd_dag *dag, size_t i);

/* The number of leaves the chunker made (repeats counted), and the file's size. */
size_t bd_dag_leaf_count(const bd_dag *dag);
size_t bd_dag_file_size(const bd_dag *dag);

void bd_dag_free(bd_dag *dag);

#endif
