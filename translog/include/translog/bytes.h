/*
 * Bounded byte handling for everything that comes from outside (HTTP bodies, entries, notes,
 * proofs, bundles, IPFS replies): a read cursor that can never run past its end, and a
 * growable buffer with a hard cap and overflow-checked growth.
 *
 * Both are plain structs so they can live on the stack; neither owns the bytes it reads.
 */
#ifndef TRANSLOG_BYTES_H
#define TRANSLOG_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "translog/error.h"

/* A read-only window over bytes someone else owns. Reads advance `pos`; a read that would
 * pass `len` fails with TL_E_INPUT and leaves the cursor where it was. */
typedef struct tl_cursor {
	const uint8_t *data;
	size_t len;
	size_t pos;
} tl_cursor;

static inline tl_cursor tl_cursor_make(const void *data, size_t len)
{
	tl_cursor c = { (const uint8_t *)data, len, 0 };
	return c;
}

static inline size_t tl_cursor_left(const tl_cursor *c)
{
	return c->len - c->pos;
}

static inline const uint8_t *tl_cursor_here(const tl_cursor *c)
{
	return c->data + c->pos;
}

/* Takes exactly n bytes: *out points into the cursor's data. */
int tl_cursor_take(const uint8_t **out, tl_cursor *c, size_t n) TL_MUST_USE;
int tl_cursor_copy(void *out, tl_cursor *c, size_t n) TL_MUST_USE;
int tl_cursor_u8(uint8_t *out, tl_cursor *c) TL_MUST_USE;
int tl_cursor_u16be(uint16_t *out, tl_cursor *c) TL_MUST_USE;
int tl_cursor_u32be(uint32_t *out, tl_cursor *c) TL_MUST_USE;
int tl_cursor_u64be(uint64_t *out, tl_cursor *c) TL_MUST_USE;

/* Takes the bytes up to (not including) the next '\n' and consumes the '\n'. Fails if there
 * is no '\n' before the end, or if the line is longer than max_len. */
int tl_cursor_line(const uint8_t **line, size_t *line_len, tl_cursor *c, size_t max_len) TL_MUST_USE;

/* Big-endian integers in place, for fixed-layout records whose length is already checked
 * (a tile hash count, a storage key). Outside bytes go through tl_cursor_u*be instead. */
static inline uint16_t tl_load_u16be(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t tl_load_u32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t tl_load_u64be(const uint8_t *p)
{
	return (uint64_t)tl_load_u32be(p) << 32 | tl_load_u32be(p + 4);
}

static inline void tl_store_u16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void tl_store_u32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void tl_store_u64be(uint8_t *p, uint64_t v)
{
	tl_store_u32be(p, (uint32_t)(v >> 32));
	tl_store_u32be(p + 4, (uint32_t)v);
}

/* What a zero-initialised tl_buf may grow to. Buffers that hold outside bytes name their own
 * limit with tl_buf_make(cap); the default only keeps `tl_buf b = {0}` from being a buffer
 * that refuses every append. */
#define TL_BUF_DEFAULT_CAP ((size_t)16 << 20)

/* A growable buffer that refuses to grow past `cap` bytes (TL_BUF_DEFAULT_CAP when `cap` is
 * 0, so a zero-initialised buffer is ready to use). `data` is always NUL-terminated after a
 * successful append, so text can be handed to C string functions; the NUL is not counted in
 * `len`. */
typedef struct tl_buf {
	uint8_t *data;
	size_t len;
	size_t alloc;
	size_t cap;
} tl_buf;

static inline tl_buf tl_buf_make(size_t cap)
{
	tl_buf b = { NULL, 0, 0, cap };
	return b;
}

/* How many more bytes the buffer accepts before it reaches its cap. */
static inline size_t tl_buf_room(const tl_buf *b)
{
	size_t cap = b->cap ? b->cap : TL_BUF_DEFAULT_CAP;

	return cap > b->len ? cap - b->len : 0;
}

int tl_buf_append(tl_buf *b, const void *data, size_t n) TL_MUST_USE;
int tl_buf_append_str(tl_buf *b, const char *s) TL_MUST_USE;
int tl_buf_append_u8(tl_buf *b, uint8_t v) TL_MUST_USE;
int tl_buf_append_u16be(tl_buf *b, uint16_t v) TL_MUST_USE;
int tl_buf_append_u32be(tl_buf *b, uint32_t v) TL_MUST_USE;
int tl_buf_append_u64be(tl_buf *b, uint64_t v) TL_MUST_USE;
int tl_buf_printf(tl_buf *b, const char *fmt, ...) TL_PRINTF(2, 3) TL_MUST_USE;
/* Makes room for n more bytes without changing len. */
int tl_buf_reserve(tl_buf *b, size_t n) TL_MUST_USE;
/* Hands the bytes to the caller (who frees them) and resets the buffer. */
/* Cuts the buffer back to `len` bytes (len <= b->len): how a writer that failed half-way
 * takes back what it appended, after remembering `size_t start = b->len`. */
void tl_buf_truncate(tl_buf *b, size_t len);
uint8_t *tl_buf_detach(tl_buf *b, size_t *len);
void tl_buf_reset(tl_buf *b);
void tl_buf_free(tl_buf *b);

/* a + b, or false if it would overflow. */
static inline bool tl_size_add(size_t *out, size_t a, size_t b)
{
	return !__builtin_add_overflow(a, b, out);
}

static inline bool tl_size_mul(size_t *out, size_t a, size_t b)
{
	return !__builtin_mul_overflow(a, b, out);
}

/* Standard base64 (RFC 4648 §4, with padding). Decoding is strict: no whitespace, correct
 * padding, zero pad bits, and at most out_cap bytes of output. */
int tl_base64_encode(tl_buf *out, const void *data, size_t len) TL_MUST_USE;
int tl_base64_decode(uint8_t *out, size_t out_cap, size_t *out_len, const char *in, size_t in_len) TL_MUST_USE;

/* Lowercase hex. Decoding accepts lowercase only (canonical forms are lowercase). */
void tl_hex_encode(char *out, const void *data, size_t len); /* out holds 2*len+1 */
int tl_hex_decode(uint8_t *out, size_t out_len, const char *in, size_t in_len) TL_MUST_USE;

/* Parses a canonical unsigned decimal: no sign, no leading zeros (except "0"), no spaces,
 * at most UINT64_MAX. */
int tl_parse_u64(uint64_t *out, const char *s, size_t len) TL_MUST_USE;

#endif
