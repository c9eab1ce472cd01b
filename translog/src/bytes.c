#include "translog/bytes.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tl_cursor_take(const uint8_t **out, tl_cursor *c, size_t n)
{
	if (n > tl_cursor_left(c))
		return tl_error_set(TL_E_INPUT, "truncated: need %zu bytes, %zu left", n, tl_cursor_left(c));
	*out = c->data + c->pos;
	c->pos += n;
	return 0;
}

int tl_cursor_copy(void *out, tl_cursor *c, size_t n)
{
	const uint8_t *p = NULL;
	int err = tl_cursor_take(&p, c, n);

	if (err)
		return err;
	if (n)
		memcpy(out, p, n);
	return 0;
}

int tl_cursor_u8(uint8_t *out, tl_cursor *c)
{
	return tl_cursor_copy(out, c, 1);
}

int tl_cursor_u16be(uint16_t *out, tl_cursor *c)
{
	const uint8_t *p = NULL;
	int err = tl_cursor_take(&p, c, 2);

	if (err)
		return err;
	*out = tl_load_u16be(p);
	return 0;
}

int tl_cursor_u32be(uint32_t *out, tl_cursor *c)
{
	const uint8_t *p = NULL;
	int err = tl_cursor_take(&p, c, 4);

	if (err)
		return err;
	*out = tl_load_u32be(p);
	return 0;
}

int tl_cursor_u64be(uint64_t *out, tl_cursor *c)
{
	const uint8_t *p = NULL;
	int err = tl_cursor_take(&p, c, 8);

	if (err)
		return err;
	*out = tl_load_u64be(p);
	return 0;
}

int tl_cursor_line(const uint8_t **line, size_t *line_len, tl_cursor *c, size_t max_len)
{
	size_t left = tl_cursor_left(c);
	size_t scan = left < max_len + 1 ? left : max_len + 1;
	const uint8_t *start = tl_cursor_here(c);
	const uint8_t *nl = memchr(start, '\n', scan);

	if (nl == NULL) {
		if (scan == max_len + 1)
			return tl_error_set(TL_E_INPUT, "line longer than %zu bytes", max_len);
		return tl_error_set(TL_E_INPUT, "line does not end with a newline");
	}
	*line = start;
	*line_len = (size_t)(nl - start);
	c->pos += *line_len + 1;
	return 0;
}

int tl_buf_reserve(tl_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : TL_BUF_DEFAULT_CAP;
	size_t need, alloc;
	uint8_t *p;

	/* One extra byte keeps the data NUL-terminated. */
	if (!tl_size_add(&need, b->len, n) || need > cap)
		return tl_error_set(TL_E_INPUT, "buffer limit of %zu bytes exceeded", cap);
	if (need + 1 <= b->alloc)
		return 0;
	alloc = b->alloc ? b->alloc : 64;
	while (alloc < need + 1)
		alloc = alloc > SIZE_MAX / 2 ? need + 1 : alloc * 2;
	p = realloc(b->data, alloc);
	if (p == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory growing a buffer to %zu bytes", alloc);
	b->data = p;
	b->alloc = alloc;
	return 0;
}

int tl_buf_append(tl_buf *b, const void *data, size_t n)
{
	int err = tl_buf_reserve(b, n);

	if (err)
		return err;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int tl_buf_append_str(tl_buf *b, const char *s)
{
	return tl_buf_append(b, s, strlen(s));
}

int tl_buf_append_u8(tl_buf *b, uint8_t v)
{
	return tl_buf_append(b, &v, 1);
}

int tl_buf_append_u16be(tl_buf *b, uint16_t v)
{
	uint8_t p[2];

	tl_store_u16be(p, v);
	return tl_buf_append(b, p, sizeof(p));
}

int tl_buf_append_u32be(tl_buf *b, uint32_t v)
{
	uint8_t p[4];

	tl_store_u32be(p, v);
	return tl_buf_append(b, p, sizeof(p));
}

int tl_buf_append_u64be(tl_buf *b, uint64_t v)
{
	uint8_t p[8];

	tl_store_u64be(p, v);
	return tl_buf_append(b, p, sizeof(p));
}

int tl_buf_printf(tl_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return tl_error_set(TL_E_INTERNAL, "bad format string");
	if ((err = tl_buf_reserve(b, (size_t)n)) != 0)
		return err;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void tl_buf_truncate(tl_buf *b, size_t len)
{
	assert(len <= b->len);
	b->len = len;
	if (b->data)
		b->data[len] = '\0';
}

uint8_t *tl_buf_detach(tl_buf *b, size_t *len)
{
	uint8_t *p = b->data;

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->alloc = 0;
	return p;
}

void tl_buf_reset(tl_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void tl_buf_free(tl_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->alloc = 0;
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int tl_base64_encode(tl_buf *out, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t groups = (len + 2) / 3, need;
	char quad[4];
	int err;

	if (!tl_size_mul(&need, groups, 4))
		return tl_error_set(TL_E_INPUT, "base64 input too large");
	if ((err = tl_buf_reserve(out, need)) != 0)
		return err;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;

		if (n > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		quad[0] = b64_alphabet[(v >> 18) & 63];
		quad[1] = b64_alphabet[(v >> 12) & 63];
		quad[2] = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
		quad[3] = n > 2 ? b64_alphabet[v & 63] : '=';
		if ((err = tl_buf_append(out, quad, 4)) != 0)
			return err;
	}
	if (len == 0)
		return tl_buf_append(out, "", 0);
	return 0;
}

/* The value of each base64 character, -1 for every other byte: one load per character
 * (PEM bundles of a few hundred KB are decoded on every publish). */
static const int8_t b64_values[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static int b64_value(char ch)
{
	return b64_values[(uint8_t)ch];
}

int tl_base64_decode(uint8_t *out, size_t out_cap, size_t *out_len, const char *in, size_t in_len)
{
	size_t n = 0, i = 0;

	if (in_len % 4 != 0)
		return tl_error_set(TL_E_INPUT, "base64 length %zu is not a multiple of 4", in_len);
	/* Every group but the last has no padding: decode those four characters at a time. */
	for (; i + 4 < in_len; i += 4) {
		const uint8_t *g = (const uint8_t *)in + i;
		int a = b64_values[g[0]], b = b64_values[g[1]], c = b64_values[g[2]], d = b64_values[g[3]];
		uint32_t v;

		/* A bad character: the careful loop below says which. */
		if ((a | b | c | d) < 0)
			break;
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		if (3 > out_cap - n)
			return tl_error_set(TL_E_INPUT, "base64 decodes to more than %zu bytes", out_cap);
		out[n++] = (uint8_t)(v >> 16);
		out[n++] = (uint8_t)(v >> 8);
		out[n++] = (uint8_t)v;
	}
	for (; i < in_len; i += 4) {
		int v[4], pad = 0;
		bool last = i + 4 == in_len;

		for (int j = 0; j < 4; j++) {
			char ch = in[i + (size_t)j];

			if (ch == '=' && last && j >= 2) {
				v[j] = 0;
				pad++;
				continue;
			}
			if (pad || (v[j] = b64_value(ch)) < 0)
				return tl_error_set(TL_E_INPUT, "invalid base64 character at offset %zu", i + (size_t)j);
		}
		uint32_t word = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		size_t bytes = 3 - (size_t)pad;

		if ((pad == 1 && (word & 0xff)) || (pad == 2 && (word & 0xffff)))
			return tl_error_set(TL_E_INPUT, "base64 has non-zero padding bits");
		if (bytes > out_cap - n)
			return tl_error_set(TL_E_INPUT, "base64 decodes to more than %zu bytes", out_cap);
		out[n++] = (uint8_t)(word >> 16);
		if (bytes > 1)
			out[n++] = (uint8_t)(word >> 8);
		if (bytes > 2)
			out[n++] = (uint8_t)word;
	}
	*out_len = n;
	return 0;
}

void tl_hex_encode(char *out, const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

int tl_hex_decode(uint8_t *out, size_t out_len, const char *in, size_t in_len)
{
	if (in_len != 2 * out_len)
		return tl_error_set(TL_E_INPUT, "hex string has %zu characters, want %zu", in_len, 2 * out_len);
	for (size_t i = 0; i < out_len; i++) {
		int hi = hex_value(in[2 * i]), lo = hex_value(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return tl_error_set(TL_E_INPUT, "invalid lowercase hex at offset %zu", 2 * i);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int tl_parse_u64(uint64_t *out, const char *s, size_t len)
{
	uint64_t v = 0;

	if (len == 0)
		return tl_error_set(TL_E_INPUT, "empty number");
	if (len > 1 && s[0] == '0')
		return tl_error_set(TL_E_INPUT, "number has a leading zero");
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return tl_error_set(TL_E_INPUT, "number has a non-digit");
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return tl_error_set(TL_E_INPUT, "number exceeds 2^64-1");
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}
