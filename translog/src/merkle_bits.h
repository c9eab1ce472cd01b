/* Bit helpers shared by merkle.c and proof.c (internal, not installed). */
#ifndef TRANSLOG_MERKLE_BITS_H
#define TRANSLOG_MERKLE_BITS_H

#include <stdint.h>

/* The number of bits needed to write x: 0 for 0, 1 for 1, 64 for 2^63. */
static inline unsigned tl_bitlen(uint64_t x)
{
	return x == 0 ? 0 : 64u - (unsigned)__builtin_clzll(x);
}

static inline unsigned tl_popcount(uint64_t x)
{
	return (unsigned)__builtin_popcountll(x);
}

/* Trailing zero bits; x must not be 0. */
static inline unsigned tl_ctz(uint64_t x)
{
	return (unsigned)__builtin_ctzll(x);
}

#endif
