#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/chunker.h"
#include "bundled/dag.h"
#include "testutil.h"
#include "translog/hash.h"

static uint64_t lcg(uint64_t *x)
{
	*x = *x * 6364136223846793005u + 1442695040888963407u;
	return *x >> 33;
}

/* Text of `n` lines of 1..maxline bytes (LF included), random letters. */
static uint8_t *random_lines(size_t *len, uint64_t *seed, size_t n, size_t maxline)
{
	size_t cap = n * maxline + 1, o = 0;
	uint8_t *t = malloc(cap);

	ck_assert_ptr_nonnull(t);
	for (size_t i = 0; i < n; i++) {
		size_t l = 1 + (size_t)(lcg(seed) % maxline);

		for (size_t j = 0; j + 1 < l; j++)
			t[o++] = (uint8_t)('a' + lcg(seed) % 26);
		t[o++] = '\n';
	}
	*len = o;
	return t;
}

/* The leaf lengths the chunker cuts `data` into. */
static size_t cut(size_t *lens, size_t max, const bd_chunker *c, const uint8_t *data, size_t len)
{
	size_t n = 0;

	for (size_t off = 0; off < len; n++) {
		size_t k = bd_chunker_next(c, data + off, len - off);

		ck_assert_uint_ge(k, 1);
		ck_assert_uint_le(k, len - off);
		ck_assert_uint_lt(n, max);
		lens[n] = k;
		off += k;
	}
	return n;
}

/* The next unit of the "lines" rule at data[0..len). */
static size_t unit_len(const uint8_t *data, size_t len)
{
	size_t n = 0;

	while (n < len && n < BD_LINES_MAX)
		if (data[n++] == '\n')
			break;
	return n;
}

/* Checks every documented property of a "lines" cut of `data`. */
static void check_lines_cut(const uint8_t *data, size_t len)
{
	bd_chunker c = bd_chunker_default();
	size_t *lens = malloc((len + 1) * sizeof(*lens));
	size_t n, off = 0;

	ck_assert_ptr_nonnull(lens);
	n = cut(lens, len + 1, &c, data, len);
	for (size_t i = 0; i < n; i++) {
		size_t end = off + lens[i];

		ck_assert_uint_le(lens[i], BD_LINES_MAX);
		if (end < len) {
			/* A boundary is a line start, or a MAX split inside a long line. */
			int in_long_line = end >= BD_LINES_MAX && memchr(data + end - BD_LINES_MAX, '\n', BD_LINES_MAX) == NULL;

			ck_assert_msg(data[end - 1] == '\n' || in_long_line, "boundary at %zu is not a line start", end);
			/* Short leaves only where the next unit would not have fit. */
			if (lens[i] < BD_LINES_MIN)
				ck_assert_uint_gt(lens[i] + unit_len(data + end, len - end), BD_LINES_MAX);
		}
		off = end;
	}
	ck_assert_uint_eq(off, len);
	free(lens);
}

START_TEST(parse_accepts_kubo_sizes_and_lines)
{
	static const char *const good[] = { "lines", "size-1", "size-262144", "size-1048576" };
	static const char *const bad[] = { "", "line", "lines ", "LINES", "size-", "size-0", "size-01",
		"size-1048577", "size--1", "size-1k", "size- 1", "rabin", "buzhash", "size-18446744073709551616" };
	char text[32];
	bd_chunker c;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_int_eq(bd_chunker_parse(&c, good[i]), 0);
		ck_assert_int_eq(bd_chunker_format(text, sizeof(text), &c), 0);
		ck_assert_str_eq(text, good[i]);
	}
	ck_assert_int_eq(bd_chunker_parse(&c, "size-4096"), 0);
	ck_assert(c.kind == BD_CHUNK_FIXED && c.size == 4096);
	ck_assert_int_eq(bd_chunker_format(text, 9, &c), TL_E_INPUT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(bd_chunker_parse(&c, bad[i]) == TL_E_INPUT, "accepted '%s'", bad[i]);
	c = bd_chunker_default();
	ck_assert(c.kind == BD_CHUNK_LINES);
}
END_TEST

START_TEST(fixed_size_cuts_exact_leaves)
{
	static uint8_t data[10000];
	size_t lens[16];
	bd_chunker c;

	ck_assert_int_eq(bd_chunker_parse(&c, "size-4096"), 0);
	ck_assert_uint_eq(cut(lens, 16, &c, data, sizeof(data)), 3);
	ck_assert_uint_eq(lens[0], 4096);
	ck_assert_uint_eq(lens[1], 4096);
	ck_assert_uint_eq(lens[2], 1808);
	ck_assert_uint_eq(cut(lens, 16, &c, data, 4096), 1);
}
END_TEST

START_TEST(lines_splits_long_lines_at_max)
{
	bd_chunker c = bd_chunker_default();
	size_t len = 3 * BD_LINES_MAX + 3392, lens[16];
	uint8_t *data = malloc(len + BD_LINES_MAX);

	ck_assert_ptr_nonnull(data);
	/* No newline at all: MAX-byte leaves, then the rest. */
	memset(data, 'x', len);
	ck_assert_uint_eq(cut(lens, 16, &c, data, len), 4);
	ck_assert_uint_eq(lens[0], BD_LINES_MAX);
	ck_assert_uint_eq(lens[2], BD_LINES_MAX);
	ck_assert_uint_eq(lens[3], 3392);
	/* A short line, then a line of MAX + 1 bytes: the short line's leaf ends before it
	 * (it would overflow), the long line gives a MAX leaf, and its last byte (the LF) joins
	 * what follows. */
	memset(data, 'y', 100);
	data[99] = '\n';
	memset(data + 100, 'z', BD_LINES_MAX + 1);
	data[100 + BD_LINES_MAX] = '\n';
	ck_assert_uint_eq(cut(lens, 16, &c, data, 101 + BD_LINES_MAX), 3);
	ck_assert_uint_eq(lens[0], 100);
	ck_assert_uint_eq(lens[1], BD_LINES_MAX);
	ck_assert_uint_eq(lens[2], 1);
	check_lines_cut(data, 101 + BD_LINES_MAX);
	free(data);
}
END_TEST

START_TEST(lines_of_scale_or_more_each_end_a_leaf)
{
	bd_chunker c = bd_chunker_default();
	size_t line = 1u << BD_LINES_SCALE_BITS, lens[16];
	uint8_t *data = malloc(5 * line);

	ck_assert_ptr_nonnull(data);
	memset(data, 'q', 5 * line);
	for (size_t i = 1; i <= 5; i++)
		data[i * line - 1] = '\n';
	ck_assert_uint_eq(cut(lens, 16, &c, data, 5 * line), 5);
	for (size_t i = 0; i < 5; i++)
		ck_assert_uint_eq(lens[i], line);
	free(data);
}
END_TEST

/* A 5000-byte line ends a leaf exactly when the first 13 bits of its SHA-256, read
 * big-endian, are below 5000. */
START_TEST(lines_draw_is_the_first_13_bits)
{
	bd_chunker c = bd_chunker_default();
	size_t line = 5000, lens[4];
	uint8_t *data = malloc(2 * line);
	int seen_cut = 0, seen_join = 0;

	ck_assert_ptr_nonnull(data);
	/* Vary the line until both outcomes have been seen and each matches the digest. */
	for (unsigned v = 0; v < 4096 && !(seen_cut && seen_join); v++) {
		tl_hash h;
		unsigned draw;
		size_t n;

		memset(data, 'a', 2 * line);
		memcpy(data, &v, sizeof(v));
		data[line - 1] = '\n';
		data[2 * line - 1] = '\n';
		tl_sha256(&h, data, line);
		draw = ((unsigned)h.b[0] << 5) | (h.b[1] >> 3);
		n = cut(lens, 4, &c, data, 2 * line);
		if (draw < line) {
			ck_assert_uint_eq(lens[0], line);
			seen_cut = 1;
		} else {
			ck_assert_uint_ne(lens[0], line);
			seen_join = 1;
		}
		ck_assert_uint_ge(n, 1);
	}
	ck_assert(seen_cut && seen_join);
	free(data);
}
END_TEST

START_TEST(lines_properties_hold_on_random_text)
{
	uint64_t seed = 42;

	for (int round = 0; round < 60; round++) {
		size_t maxline = (size_t[]){ 2, 40, 120, 3000, 20000, 100000 }[round % 6];
		size_t len;
		uint8_t *data = random_lines(&len, &seed, 1 + (size_t)(lcg(&seed) % 400), maxline);

		check_lines_cut(data, len);
		free(data);
	}
}
END_TEST

/* The leaves (as hashes) of a "lines" cut. */
static size_t leaf_hashes(tl_hash *out, size_t max, const uint8_t *data, size_t len)
{
	bd_chunker c = bd_chunker_default();
	size_t n = 0;

	for (size_t off = 0; off < len; n++) {
		size_t k = bd_chunker_next(&c, data + off, len - off);

		ck_assert_uint_lt(n, max);
		tl_sha256(&out[n], data + off, k);
		off += k;
	}
	return n;
}

static size_t count_new(const tl_hash *a, size_t na, const tl_hash *b, size_t nb)
{
	size_t fresh = 0;

	for (size_t i = 0; i < nb; i++) {
		size_t j = 0;

		while (j < na && !tl_hash_equal(&a[j], &b[i]))
			j++;
		fresh += j == na;
	}
	return fresh;
}

/* One JWK-sized line added or removed changes at most the leaf it lands in and the one
 * after it; everything else is shared. */
START_TEST(lines_edit_changes_only_nearby_leaves)
{
	enum { MAXLEAVES = 512 };
	static tl_hash a[MAXLEAVES], b[MAXLEAVES];
	uint64_t seed = 7;
	size_t total_new = 0, total = 0;

	for (int round = 0; round < 40; round++) {
		size_t len, na, nb, at, line_len = 1500 + (size_t)(lcg(&seed) % 2000), cut_at = 0;
		uint8_t *doc = random_lines(&len, &seed, 140, 3000);
		uint8_t *edit = malloc(len + line_len);
		size_t lines_seen = 0, target = (size_t)(lcg(&seed) % 140);

		ck_assert_ptr_nonnull(edit);
		for (at = 0; at < len && lines_seen < target; at++)
			lines_seen += doc[at] == '\n';
		na = leaf_hashes(a, MAXLEAVES, doc, len);
		if (round % 2 == 0) {
			/* insert a new line at a line start */
			memcpy(edit, doc, at);
			memset(edit + at, 'N', line_len - 1);
			edit[at + line_len - 1] = '\n';
			memcpy(edit + at + line_len, doc + at, len - at);
			nb = leaf_hashes(b, MAXLEAVES, edit, len + line_len);
		} else {
			/* remove the line starting at `at` */
			cut_at = at;
			while (cut_at < len && doc[cut_at] != '\n')
				cut_at++;
			cut_at += cut_at < len;
			memcpy(edit, doc, at);
			memcpy(edit + at, doc + cut_at, len - cut_at);
			nb = leaf_hashes(b, MAXLEAVES, edit, len - (cut_at - at));
		}
		ck_assert_uint_le(count_new(a, na, b, nb), 2);
		total_new += count_new(a, na, b, nb);
		total += nb;
		free(edit);
		free(doc);
	}
	/* ~30 leaves per document: well over 90% shared on average. */
	ck_assert_uint_lt(total_new * 10, total);
}
END_TEST

/* On the real history of Mozilla's CA bundle (PEM, one version per file) consecutive
 * versions share most "lines" leaves and far fewer fixed-size ones. Skipped without the
 * research data. */
START_TEST(lines_shares_leaves_across_real_ca_bundles)
{
	static const char *const files[] = { "cacert-history/001-2019-03-09.pem", "cacert-history/002-2019-06-16.pem",
		"cacert-history/003-2019-09-11.pem" };
	enum { MAXLEAVES = 4096 };
	static tl_hash prev[MAXLEAVES], cur[MAXLEAVES];
	size_t nprev = 0, shared_lines = 0, total_lines = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *path = tu_research_path(files[i]);
		uint8_t *data;
		size_t len = 0, n;

		if (path == NULL)
			return;
		data = tu_read_file(path, &len);
		ck_assert_ptr_nonnull(data);
		check_lines_cut(data, len);
		n = leaf_hashes(cur, MAXLEAVES, data, len);
		if (i > 0) {
			shared_lines += n - count_new(prev, nprev, cur, n);
			total_lines += n;
		}
		memcpy(prev, cur, n * sizeof(*cur));
		nprev = n;
		free(data);
	}
	ck_assert_uint_gt(shared_lines * 10, total_lines * 7);
}
END_TEST

Suite *suite_chunker(void)
{
	Suite *s = suite_create("chunker");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, parse_accepts_kubo_sizes_and_lines);
	tcase_add_test(tc, fixed_size_cuts_exact_leaves);
	tcase_add_test(tc, lines_splits_long_lines_at_max);
	tcase_add_test(tc, lines_of_scale_or_more_each_end_a_leaf);
	tcase_add_test(tc, lines_draw_is_the_first_13_bits);
	tcase_add_test(tc, lines_properties_hold_on_random_text);
	tcase_add_test(tc, lines_edit_changes_only_nearby_leaves);
	tcase_add_test(tc, lines_shares_leaves_across_real_ca_bundles);
	suite_add_tcase(s, tc);
	return s;
}
