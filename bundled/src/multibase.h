/*
 * The two multibase alphabets bundled reads (internal to the bundled core; the fuzz target
 * reaches the decoders directly). Decoders are strict so each byte string has exactly one
 * text form per base: no padding, no whitespace, no stray trailing bits.
 */
#ifndef BUNDLED_MULTIBASE_H
#define BUNDLED_MULTIBASE_H

#include <stddef.h>
#include <stdint.h>

#include "translog/error.h"

/* Lower-case RFC 4648 base32 without padding. `out` holds at least
 * bd_multibase__base32_encoded_len(len) + 1 bytes (a NUL is written). */
size_t bd_multibase__base32_encoded_len(size_t len);
void bd_multibase__base32_encode(char *out, const uint8_t *data, size_t len);

/* Decodes `in_len` characters; fails (TL_E_INPUT) on a character outside the lower-case
 * alphabet, an impossible length, non-zero trailing bits, or more than `cap` bytes of output. */
int bd_multibase__base32_decode(uint8_t *out, size_t cap, size_t *out_len, const char *in, size_t in_len) TL_MUST_USE;

/* Bitcoin's base58 alphabet. Leading '1's are leading zero bytes. Input is capped at
 * BD_BASE58_MAX_TEXT characters to keep the quadratic decoder bounded. */
#define BD_BASE58_MAX_TEXT 128
int bd_multibase__base58btc_decode(uint8_t *out, size_t cap, size_t *out_len, const char *in, size_t in_len)
	TL_MUST_USE;
/* Encodes at most 64 bytes; `out` holds at least 2 * len + 1 bytes (a NUL is written). */
int bd_multibase__base58btc_encode(char *out, size_t cap, const uint8_t *data, size_t len) TL_MUST_USE;

#endif
