/*
 * How a file's bytes are cut into leaves. Two rules:
 *
 *  - "lines" (the default, for bundles): content-defined boundaries at line starts, so a
 *    new bundle version that adds or removes one authority (one line of the canonical
 *    document) shares every other leaf with its predecessor. A line's bytes alone decide
 *    whether a boundary follows it; see docs/formats.md, "Content addressing", for the
 *    exact rule, which is part of bundled's wire contract (it fixes the CIDs).
 *  - "size-N": fixed N-byte leaves (the last one shorter), as Kubo's --chunker=size-N, so
 *    the root CID equals `ipfs add --cid-version=1 --raw-leaves --chunker=size-N`.
 *
 * The chunker is a plain value, kept on the stack; it holds no state between leaves.
 */
#ifndef BUNDLED_CHUNKER_H
#define BUNDLED_CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#include "translog/error.h"

/* Parameters of the "lines" rule (changing one changes every bundle's CID). */
#define BD_LINES_MIN 1024u       /* no content-defined boundary before a leaf has this many bytes */
#define BD_LINES_MAX 65536u      /* no leaf is longer; longer lines are cut into MAX-byte units */
#define BD_LINES_SCALE_BITS 13   /* a unit of L bytes ends a leaf with probability L / 2^13 */

/* The largest fixed leaf size, Kubo's chunker limit (1 MiB). */
#define BD_CHUNK_SIZE_MAX (1u << 20)

typedef enum bd_chunk_kind {
	BD_CHUNK_LINES = 0,
	BD_CHUNK_FIXED = 1,
} bd_chunk_kind;

typedef struct bd_chunker {
	bd_chunk_kind kind;
	size_t size; /* BD_CHUNK_FIXED: bytes per leaf, 1..BD_CHUNK_SIZE_MAX; unused for lines */
} bd_chunker;

/* The default, "lines". */
bd_chunker bd_chunker_default(void);

/* Reads a chunker spec: "lines" or "size-N" (N canonical decimal, 1..1048576), as Kubo
 * writes its --chunker option. Anything else is TL_E_INPUT. */
int bd_chunker_parse(bd_chunker *out, const char *spec) TL_MUST_USE;

/* Writes the spec of `c` ("lines", "size-262144") with a NUL; TL_E_INPUT if cap is short. */
int bd_chunker_format(char *out, size_t cap, const bd_chunker *c) TL_MUST_USE;

/* The length of the leaf that starts at `data` when `len` bytes remain (len > 0):
 * between 1 and len. Call again at data + result for the next leaf. `c` must be valid
 * (as bd_chunker_parse makes it). */
size_t bd_chunker_next(const bd_chunker *c, const uint8_t *data, size_t len);

#endif
