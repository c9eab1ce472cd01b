#include "bundled/chunker.h"

#include <stdio.h>
#include <string.h>

#include "translog/bytes.h"
#include "translog/hash.h"

bd_chunker bd_chunker_default(void)
{
	bd_chunker c = { BD_CHUNK_LINES, 0 };

	return c;
}

int bd_chunker_parse(bd_chunker *out, const char *spec)
{
	uint64_t n = 0;

	if (strcmp(spec, "lines") == 0) {
		*out = bd_chunker_default();
		return 0;
	}
	if (strncmp(spec, "size-", 5) != 0)
		return tl_error_set(TL_E_INPUT, "chunker '%.40s': want 'lines' or 'size-N'", spec);
	if (tl_parse_u64(&n, spec + 5, strlen(spec + 5)) != 0 || n == 0 || n > BD_CHUNK_SIZE_MAX)
		return tl_error_set(TL_E_INPUT, "chunker '%.40s': N must be a decimal from 1 to %u",
			spec, BD_CHUNK_SIZE_MAX);
	out->kind = BD_CHUNK_FIXED;
	out->size = (size_t)n;
	return 0;
}

int bd_chunker_format(char *out, size_t cap, const bd_chunker *c)
{
	int n = c->kind == BD_CHUNK_FIXED ? snprintf(out, cap, "size-%zu", c->size)
					  : snprintf(out, cap, "lines");

	if (n < 0 || (size_t)n >= cap)
		return tl_error_set(TL_E_INPUT, "chunker spec does not fit in %zu bytes", cap);
	return 0;
}

/* The next unit of the "lines" rule: up to and including the next '\n', or to the end,
 * but at most BD_LINES_MAX bytes. */
static size_t next_unit(const uint8_t *data, size_t len)
{
	size_t limit = len < BD_LINES_MAX ? len : BD_LINES_MAX;
	const uint8_t *nl = memchr(data, '\n', limit);

	return nl ? (size_t)(nl - data) + 1 : limit;
}

/* The unit's "draw": the first BD_LINES_SCALE_BITS bits of SHA-256(unit). A unit of L bytes
 * ends a leaf when draw < L, i.e. with probability L / 2^13 (always once L >= 8192), so
 * boundaries fall about every 8 KiB whatever the line lengths, and depend on nothing but
 * the unit's own bytes. */
static int unit_ends_leaf(const uint8_t *unit, size_t len)
{
	tl_hash h;
	uint32_t draw;

	if (len >= (1u << BD_LINES_SCALE_BITS))
		return 1;
	tl_sha256(&h, unit, len);
	draw = (uint32_t)tl_load_u16be(h.b) >> (16 - BD_LINES_SCALE_BITS);
	return draw < len;
}

static size_t next_lines(const uint8_t *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t u = next_unit(data + off, len - off);

		/* A unit that would overflow the leaf starts the next one. */
		if (off + u > BD_LINES_MAX)
			return off;
		off += u;
		if (off >= BD_LINES_MIN && unit_ends_leaf(data + off - u, u))
			return off;
	}
	return len;
}

size_t bd_chunker_next(const bd_chunker *c, const uint8_t *data, size_t len)
{
	if (c->kind == BD_CHUNK_FIXED)
		return len < c->size ? len : c->size;
	return next_lines(data, len);
}
