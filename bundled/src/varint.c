#include "varint.h"

size_t bd_varint__put(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

size_t bd_varint__len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

int bd_varint__read(uint64_t *out, tl_cursor *c)
{
	uint64_t v = 0;
	size_t start = c->pos;

	for (int i = 0; i < BD_VARINT_BYTES_MAX; i++) {
		uint8_t b;

		if (tl_cursor_u8(&b, c) != 0) {
			c->pos = start;
			return tl_error_set(TL_E_INPUT, "truncated varint");
		}
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0) {
			/* A last byte of zero (after the first) adds nothing: a longer form of a
			 * shorter varint. */
			if (b == 0 && i > 0) {
				c->pos = start;
				return tl_error_set(TL_E_INPUT, "varint is not minimally encoded");
			}
			*out = v;
			return 0;
		}
	}
	c->pos = start;
	return tl_error_set(TL_E_INPUT, "varint longer than %d bytes", BD_VARINT_BYTES_MAX);
}
