#include "translog/tile.h"

#include <stdio.h>
#include <string.h>

/* A 64-bit index has at most 20 decimal digits: 7 groups of 3. */
enum { MAX_INDEX_GROUPS = 7 };

/* The path reader and writer share one grammar:
 *   path    = "tile/" ( level / "entries" ) "/" index [ ".p/" width ]
 *   index   = *( "x" 3DIGIT "/" ) 3DIGIT        ; first group not "x000"
 */
int tl_tile_path_format(char *out, const tl_tile *t)
{
	char groups[MAX_INDEX_GROUPS][4];
	size_t ng = 0;
	uint64_t n = t->index;
	int len;

	if (t->width < 1 || t->width > TL_TILE_WIDTH)
		return tl_error_set(TL_E_INPUT, "tile width %u is not in 1..256", t->width);
	if (t->entries ? t->level != 0 : t->level > TL_TILE_MAX_LEVEL)
		return tl_error_set(TL_E_INPUT, "tile level %u is out of range", t->level);
	do {
		snprintf(groups[ng++], sizeof(groups[0]), "%03u", (unsigned)(n % 1000));
		n /= 1000;
	} while (n > 0);
	if (t->entries)
		len = snprintf(out, TL_TILE_PATH_MAX, "tile/entries/");
	else
		len = snprintf(out, TL_TILE_PATH_MAX, "tile/%u/", t->level);
	while (ng > 1)
		len += snprintf(out + len, TL_TILE_PATH_MAX - (size_t)len, "x%s/", groups[--ng]);
	len += snprintf(out + len, TL_TILE_PATH_MAX - (size_t)len, "%s", groups[0]);
	if (t->width < TL_TILE_WIDTH)
		snprintf(out + len, TL_TILE_PATH_MAX - (size_t)len, ".p/%u", t->width);
	return 0;
}

/* A canonical decimal in [0, max] of at most 3 digits, no leading zeros. */
static int parse_small(unsigned *out, const char *s, size_t len, unsigned max, const char *what)
{
	unsigned v = 0;

	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return tl_error_set(TL_E_INPUT, "tile path: %s is not a canonical number", what);
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return tl_error_set(TL_E_INPUT, "tile path: %s is not a number", what);
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return tl_error_set(TL_E_INPUT, "tile path: %s %u is above %u", what, v, max);
	*out = v;
	return 0;
}

static bool three_digits(const char *s)
{
	return s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9';
}

int tl_tile_path_parse(tl_tile *out, const char *path, size_t len)
{
	tl_tile t = { .width = TL_TILE_WIDTH };
	const char *p = path, *end = path + len, *slash;
	uint64_t n = 0;
	size_t ng = 0;
	int err;

	if (len < 5 || memcmp(p, "tile/", 5) != 0)
		return tl_error_set(TL_E_INPUT, "tile path does not start with \"tile/\"");
	p += 5;
	if ((slash = memchr(p, '/', (size_t)(end - p))) == NULL)
		return tl_error_set(TL_E_INPUT, "tile path has no index");
	if ((size_t)(slash - p) == 7 && memcmp(p, "entries", 7) == 0)
		t.entries = true;
	else if ((err = parse_small(&t.level, p, (size_t)(slash - p), TL_TILE_MAX_LEVEL, "level")) != 0)
		return err;
	p = slash + 1;

	for (;;) {
		bool last = p < end && *p != 'x';
		size_t left = (size_t)(end - p);

		if (++ng > MAX_INDEX_GROUPS)
			return tl_error_set(TL_E_INPUT, "tile path: index has more than %d groups", MAX_INDEX_GROUPS);
		if (!last) {
			/* "xDDD/" */
			if (left < 5 || !three_digits(p + 1) || p[4] != '/')
				return tl_error_set(TL_E_INPUT, "tile path: index group is not \"x\" and 3 digits");
			if (ng == 1 && memcmp(p + 1, "000", 3) == 0)
				return tl_error_set(TL_E_INPUT, "tile path: index has a leading zero group");
		} else if (left < 3 || !three_digits(p)) {
			return tl_error_set(TL_E_INPUT, "tile path: last index group is not 3 digits");
		}
		{
			const char *d = last ? p : p + 1;
			uint64_t g = (uint64_t)(d[0] - '0') * 100 + (uint64_t)(d[1] - '0') * 10 + (uint64_t)(d[2] - '0');

			if (n > (UINT64_MAX - g) / 1000)
				return tl_error_set(TL_E_INPUT, "tile path: index exceeds 2^64-1");
			n = n * 1000 + g;
		}
		if (last) {
			p += 3;
			break;
		}
		p += 5;
	}
	t.index = n;

	if (p < end) {
		if ((size_t)(end - p) < 4 || memcmp(p, ".p/", 3) != 0)
			return tl_error_set(TL_E_INPUT, "tile path: unexpected bytes after the index");
		p += 3;
		if ((err = parse_small(&t.width, p, (size_t)(end - p), TL_TILE_WIDTH - 1, "width")) != 0)
			return err;
		if (t.width == 0)
			return tl_error_set(TL_E_INPUT, "tile path: width 0");
	}
	*out = t;
	return 0;
}

unsigned tl_tile_width_at(unsigned level, uint64_t index, uint64_t size)
{
	uint64_t hashes, full;

	if (level >= TL_TILE_HEIGHT)
		return 0; /* tree level 8L >= 64: no 64-bit tree has a hash there */
	hashes = size >> (TL_TILE_HEIGHT * level);
	full = hashes / TL_TILE_WIDTH;
	if (index < full)
		return TL_TILE_WIDTH;
	if (index == full)
		return (unsigned)(hashes % TL_TILE_WIDTH);
	return 0;
}

void tl_tile_locate(unsigned *tile_level, uint64_t *tile_index, unsigned *sub, unsigned *pos,
	unsigned level, uint64_t index)
{
	unsigned s = level % TL_TILE_HEIGHT;
	unsigned shift = TL_TILE_HEIGHT - s; /* log2 of nodes per sub-level row */

	*tile_level = level / TL_TILE_HEIGHT;
	*sub = s;
	*tile_index = index >> shift;
	*pos = (unsigned)(index & ((UINT64_C(1) << shift) - 1));
}

int tl_tile_node(tl_hash *out, const tl_hash *base, unsigned width, unsigned sub, unsigned pos)
{
	tl_hash row[TL_TILE_WIDTH / 2];
	unsigned n;

	if (sub >= TL_TILE_HEIGHT || width > TL_TILE_WIDTH || pos >= (TL_TILE_WIDTH >> sub) ||
	    ((pos + 1u) << sub) > width)
		return tl_error_set(TL_E_INPUT, "tile node (%u, %u) is not complete in %u hashes", sub, pos, width);
	if (sub == 0) {
		*out = base[pos];
		return 0;
	}
	base += (size_t)pos << sub;
	n = 1u << (sub - 1);
	for (unsigned i = 0; i < n; i++)
		tl_hash_node(&row[i], &base[2 * i], &base[2 * i + 1]);
	for (; n > 1; n /= 2)
		for (unsigned i = 0; i < n / 2; i++)
			tl_hash_node(&row[i], &row[2 * i], &row[2 * i + 1]);
	*out = row[0];
	return 0;
}

void tl_tile_expand(tl_hash *nodes, unsigned from, unsigned width)
{
	for (unsigned s = 1; s < TL_TILE_HEIGHT; s++) {
		tl_hash *below = nodes + tl_tile_node_slot(s - 1, 0);
		tl_hash *row = nodes + tl_tile_node_slot(s, 0);

		for (unsigned p = from >> s; p < (width >> s); p++)
			tl_hash_node(&row[p], &below[2 * p], &below[2 * p + 1]);
	}
}
