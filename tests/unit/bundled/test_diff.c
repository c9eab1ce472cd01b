/* Diffs: round trips (empty, small, real CA bundle history when present, unrelated versions),
 * and that a wrong base, a corrupt or truncated patch, or a bad header is an error that
 * leaves the output buffer as it was, never wrong bytes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <stdio.h>

#include "bundled/bundle.h"
#include "bundled/diff.h"
#include "testutil.h"

static uint8_t *lines(size_t n, unsigned salt, size_t *len)
{
	tl_buf b = tl_buf_make(1u << 24);

	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(tl_buf_printf(&b, "{\"use\":\"x509-svid\",\"x5c\":[\"line %zu salt %u\"]}\n", i,
				     (i % 97 == 0) ? salt : 0), 0);
	return tl_buf_detach(&b, len);
}

static void round_trip(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	tl_buf patch = tl_buf_make(1u << 25), out = tl_buf_make(1u << 25);

	ck_assert_int_eq(bd_diff_make(&patch, a, a_len, b, b_len), 0);
	ck_assert_uint_ge(patch.len, BD_DIFF_HEADER_SIZE);
	ck_assert_int_eq(tl_buf_append_str(&out, "kept:"), 0);
	ck_assert_int_eq(bd_diff_apply(&out, a, a_len, patch.data, patch.len), 0);
	ck_assert_uint_eq(out.len, 5 + b_len);
	ck_assert(b_len == 0 || memcmp(out.data + 5, b, b_len) == 0);
	tl_buf_free(&patch);
	tl_buf_free(&out);
}

START_TEST(round_trips)
{
	size_t a_len, b_len;
	uint8_t *a = lines(2000, 1, &a_len), *b = lines(2001, 2, &b_len);

	round_trip(a, a_len, b, b_len);
	round_trip(b, b_len, a, a_len);
	round_trip(a, a_len, a, a_len);
	round_trip((const uint8_t *)"", 0, b, b_len);
	round_trip(a, a_len, (const uint8_t *)"", 0);
	round_trip((const uint8_t *)"x", 1, (const uint8_t *)"totally different", 17);
	free(a);
	free(b);
}
END_TEST

START_TEST(small_change_gives_small_patch)
{
	size_t a_len, b_len;
	uint8_t *a = lines(4000, 1, &a_len), *b = lines(4000, 2, &b_len);
	tl_buf patch = tl_buf_make(1u << 24);

	ck_assert_int_eq(bd_diff_make(&patch, a, a_len, b, b_len), 0);
	/* 42 changed lines out of 4000 (~200 KB): the patch is a small fraction of the file. */
	ck_assert_uint_lt(patch.len, b_len / 20);
	tl_buf_free(&patch);
	free(a);
	free(b);
}
END_TEST

/* Every way to get the apply wrong leaves the output untouched. */
static void refused(int want, const uint8_t *base, size_t base_len, const uint8_t *patch, size_t len)
{
	tl_buf out = tl_buf_make(1u << 25);

	ck_assert_int_eq(tl_buf_append_str(&out, "before"), 0);
	ck_assert_int_eq(bd_diff_apply(&out, base, base_len, patch, len), want);
	ck_assert_uint_eq(out.len, 6);
	ck_assert_str_eq((char *)out.data, "before");
	tl_buf_free(&out);
}

START_TEST(wrong_base_and_corrupt_patches_are_errors)
{
	size_t a_len, b_len;
	uint8_t *a = lines(500, 1, &a_len), *b = lines(500, 2, &b_len);
	tl_buf patch = tl_buf_make(1u << 24);
	uint8_t *bad;

	ck_assert_int_eq(bd_diff_make(&patch, a, a_len, b, b_len), 0);
	/* The wrong base: another version, and the same size with one byte changed. */
	refused(TL_E_CONFLICT, b, b_len, patch.data, patch.len);
	a[10] ^= 1;
	refused(TL_E_CONFLICT, a, a_len, patch.data, patch.len);
	a[10] ^= 1;
	bad = malloc(patch.len);
	/* Every single-byte corruption of the frame: an error, never other bytes. */
	for (size_t i = BD_DIFF_HEADER_SIZE; i < patch.len; i++) {
		int err;
		tl_buf out = tl_buf_make(1u << 24);

		memcpy(bad, patch.data, patch.len);
		bad[i] ^= 0x5a;
		err = bd_diff_apply(&out, a, a_len, bad, patch.len);
		ck_assert_msg(err == TL_E_INPUT || (err == 0 && out.len == b_len && memcmp(out.data, b, b_len) == 0),
			"byte %zu: err %d", i, err);
		tl_buf_free(&out);
	}
	/* Truncated anywhere. */
	for (size_t n = 0; n < patch.len; n += 1 + n / 8)
		refused(TL_E_INPUT, a, a_len, patch.data, n);
	/* A header that promises another result. */
	memcpy(bad, patch.data, patch.len);
	bad[60] ^= 1;
	refused(TL_E_INPUT, a, a_len, bad, patch.len);
	/* Trailing bytes after the frame. */
	ck_assert_int_eq(tl_buf_append_str(&patch, "x"), 0);
	refused(TL_E_INPUT, a, a_len, patch.data, patch.len);
	free(bad);
	tl_buf_free(&patch);
	free(a);
	free(b);
}
END_TEST

START_TEST(header_fields_are_checked)
{
	tl_buf patch = tl_buf_make(4096);
	bd_diff_header h;
	uint8_t bad[BD_DIFF_HEADER_SIZE + 64];

	ck_assert_int_eq(bd_diff_make(&patch, (const uint8_t *)"a\n", 2, (const uint8_t *)"b\n", 2), 0);
	ck_assert_int_eq(bd_diff_read_header(&h, patch.data, patch.len), 0);
	ck_assert_uint_eq(h.from_size, 2);
	ck_assert_uint_eq(h.to_size, 2);
	ck_assert_uint_eq(h.window_log, BD_DIFF_MIN_WINDOW_LOG);
	ck_assert_uint_le(patch.len, sizeof(bad));
	struct {
		size_t at;
		uint8_t value;
		const char *why;
	} cases[] = {
		{ 0, 'X', "magic" }, { 4, 2, "version" }, { 5, 1, "flags" }, { 7, 1, "flags" },
		{ 6, BD_DIFF_MAX_WINDOW_LOG + 1, "window" }, { 6, BD_DIFF_MIN_WINDOW_LOG - 1, "window" },
		{ 8, 1, "size" }, /* from_size of 2^56 */
		{ 48, 1, "size" }, /* to_size of 2^56 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bad, patch.data, patch.len);
		bad[cases[i].at] = cases[i].value;
		ck_assert_int_eq(bd_diff_read_header(&h, bad, patch.len), TL_E_INPUT);
		ck_assert_msg(strstr(tl_error_message(), cases[i].why) != NULL, "%s: %s", cases[i].why,
			tl_error_message());
		refused(TL_E_INPUT, (const uint8_t *)"a\n", 2, bad, patch.len);
	}
	tl_buf_free(&patch);
}
END_TEST

static int by_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The canonical bytes of one file of the CA bundle history. */
static uint8_t *canonical_of(const char *dir, const char *name, size_t *len)
{
	char path[1024];
	size_t raw_len;
	uint8_t *raw;
	bd_bundle *bundle = NULL;
	bd_bundle_report report = { 0 };
	tl_buf out = tl_buf_make(BD_MAX_BUNDLE_SIZE);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(raw = tu_read_file(path, &raw_len));
	/* Left out: what Go refuses too (EC-ACC's negative serial number in 2020-2022). */
	ck_assert_int_eq(bd_bundle_parse(&bundle, raw, raw_len, BD_PARSE_SKIP_REFUSED, &report), 0);
	ck_assert_int_eq(bd_bundle_write_canonical(&out, bundle), 0);
	bd_bundle_report_free(&report);
	bd_bundle_free(bundle);
	free(raw);
	return tl_buf_detach(&out, len);
}

/* Every consecutive pair of the canonicalised CA history round-trips, and its patch is far
 * smaller than the bundle. */
START_TEST(real_history_pairs)
{
	const char *dir = tu_research_path("cacert-history");
	char *names[256];
	size_t n = 0, prev_len = 0;
	uint8_t *prev = NULL;
	DIR *d;
	struct dirent *e;

	if (dir == NULL)
		return; /* the research data is not beside this checkout: covered by round_trips */
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((e = readdir(d)) != NULL && n < 256)
		if (strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".pem") == 0)
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	for (size_t i = 0; i < n; i++) {
		size_t len;
		uint8_t *cur = canonical_of(dir, names[i], &len);

		if (prev != NULL) {
			tl_buf patch = tl_buf_make(1u << 24);

			round_trip(prev, prev_len, cur, len);
			ck_assert_int_eq(bd_diff_make(&patch, prev, prev_len, cur, len), 0);
			ck_assert_uint_lt(patch.len, len / 4);
			tl_buf_free(&patch);
		}
		free(prev);
		prev = cur;
		prev_len = len;
		free(names[i]);
	}
	free(prev);
}
END_TEST

Suite *suite_diff(void)
{
	Suite *s = suite_create("diff");
	TCase *tc = tcase_create("diff");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, round_trips);
	tcase_add_test(tc, small_change_gives_small_patch);
	tcase_add_test(tc, wrong_base_and_corrupt_patches_are_errors);
	tcase_add_test(tc, header_fields_are_checked);
	tcase_add_test(tc, real_history_pairs);
	suite_add_tcase(s, tc);
	return s;
}
