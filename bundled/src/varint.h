/*
 * Unsigned LEB128 varints as multiformats (unsigned-varint) and protobuf use them
 * (internal to the bundled core). Readers insist on the minimal encoding, so one value has
 * one byte form, and on at most 9 bytes (values below 2^63), the multiformats limit; every
 * value a UnixFS node holds (sizes, lengths, field tags) is far below it.
 */
#ifndef BUNDLED_VARINT_H
#define BUNDLED_VARINT_H

#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"

#define BD_VARINT_MAX ((uint64_t)INT64_MAX)
#define BD_VARINT_BYTES_MAX 9

/* Writes v (<= BD_VARINT_MAX) to out (room for BD_VARINT_BYTES_MAX), returns its length. */
size_t bd_varint__put(uint8_t *out, uint64_t v);
size_t bd_varint__len(uint64_t v);

/* Reads one varint; TL_E_INPUT if truncated, longer than 9 bytes or not minimal. */
int bd_varint__read(uint64_t *out, tl_cursor *c) TL_MUST_USE;

#endif
