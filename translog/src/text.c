#include "translog/text.h"

#include <assert.h>
#include <string.h>

size_t tl_utf8_next(uint32_t *rune, const uint8_t *s, size_t len)
{
	uint32_t r;
	size_t n;

	if (s[0] < 0x80) {
		*rune = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		r = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		r = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		r = s[0] & 0x07;
	} else {
		return 0; /* continuation byte, 0xc0/0xc1 (overlong) or 0xf5.. */
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		r = r << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && r < 0x800) || (n == 4 && (r < 0x10000 || r > 0x10ffff)) || (r >= 0xd800 && r <= 0xdfff))
		return 0;
	*rune = r;
	return n;
}

int tl_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int is_plain(uint8_t ch, int quoted)
{
	return ch >= 0x20 && ch < 0x7f && (!quoted || (ch != '"' && ch != '\\'));
}

/* quoted: the result stands inside double quotes, so '"' and '\\' are escaped too. */
static const char *printable(char *out, size_t out_size, const void *s, size_t n, int quoted)
{
	static const char hex[] = "0123456789abcdef";
	static const char more[] = "...";
	const uint8_t *p = s;
	size_t need = 0, room, pos = 0, i;

	assert(out != NULL && out_size >= 1);
	for (i = 0; i < n; i++)
		need += is_plain(p[i], quoted) ? 1 : 4;
	/* Leave room for the "..." when something will be cut and the "..." fits at all. */
	room = out_size - 1;
	if (need > room && room >= sizeof(more) - 1)
		room -= sizeof(more) - 1;
	for (i = 0; i < n; i++) {
		if (is_plain(p[i], quoted)) {
			if (pos + 1 > room)
				break;
			out[pos++] = (char)p[i];
		} else {
			if (pos + 4 > room)
				break;
			out[pos++] = '\\';
			out[pos++] = 'x';
			out[pos++] = hex[p[i] >> 4];
			out[pos++] = hex[p[i] & 15];
		}
	}
	if (i < n && out_size - 1 - pos >= sizeof(more) - 1) {
		memcpy(out + pos, more, sizeof(more) - 1);
		pos += sizeof(more) - 1;
	}
	out[pos] = '\0';
	return out;
}

const char *tl_text_printable(char *out, size_t out_size, const void *s, size_t n)
{
	return printable(out, out_size, s, n, 1);
}

const char *tl_text_printable_line(char *out, size_t out_size, const void *s, size_t n)
{
	return printable(out, out_size, s, n, 0);
}

uint64_t tl_text_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull; /* the offset basis */

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}
