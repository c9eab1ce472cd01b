/*
 * The daemon's memory-file caches of immutable bodies (bundled/daemon/http_filecache.c): the
 * bytes a body is lent as are the bytes put, the memory stays within two files however much
 * is put, the oldest bodies leave first, a body lent before it left stays readable, and the
 * index and its counts say what it holds.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_cache.h"

enum { ARENA = 64 << 10, BODY = 8 << 10 };

/* A body's bytes, different for every key. */
static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + i / 251);
}

/* What a lent body reads as, compared with the bytes put. */
static void check_body(const struct http_file_body *f, const uint8_t *want, size_t len)
{
	uint8_t *got = malloc(len + 1);

	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(f->len, len);
	ck_assert_int_eq(pread(f->fd, got, len + 1, (off_t)f->off) >= (ssize_t)len, 1);
	ck_assert(memcmp(got, want, len) == 0);
	/* The mapping shows the same bytes. */
	if (f->data != NULL)
		ck_assert(memcmp(f->data, want, len) == 0);
	free(got);
}

START_TEST(put_then_get_lends_the_same_bytes)
{
	struct http_file_cache *c;
	struct http_file_body a, b, again;
	struct http_file_cache_stats st;
	uint8_t one[BODY], two[BODY / 2 + 3];

	fill(one, sizeof(one), 1);
	fill(two, sizeof(two), 2);
	ck_assert_int_eq(http_file_cache_new(&c, ARENA), 0);
	ck_assert(!http_file_cache_get(&a, c, "one"));
	ck_assert_int_eq(http_file_cache_put(&a, c, "one", one, sizeof(one)), 0);
	ck_assert_int_eq(http_file_cache_put(&b, c, "two", two, sizeof(two)), 0);
	check_body(&a, one, sizeof(one));
	check_body(&b, two, sizeof(two));
	ck_assert(http_file_cache_get(&again, c, "one"));
	ck_assert_uint_eq(again.off, a.off);
	check_body(&again, one, sizeof(one));
	http_file_release(again.ref);
	/* Put again under a kept key: the kept body, nothing appended. */
	ck_assert_int_eq(http_file_cache_put(&again, c, "two", one, sizeof(one)), 0);
	ck_assert_uint_eq(again.off, b.off);
	check_body(&again, two, sizeof(two));
	http_file_release(again.ref);
	http_file_cache_stats(&st, c);
	ck_assert_uint_eq(st.bytes, sizeof(one) + sizeof(two));
	ck_assert_uint_eq(st.bodies, 2);
	ck_assert_uint_eq(st.hits, 1);
	ck_assert_uint_eq(st.misses, 1);
	http_file_release(a.ref);
	http_file_release(b.ref);
	http_file_cache_free(c);
}
END_TEST

START_TEST(refuses_what_it_cannot_keep)
{
	struct http_file_cache *c;
	struct http_file_body f;
	static uint8_t big[ARENA / 4 + 1];
	char key[HTTP_FILE_MAX_KEY + 2];

	ck_assert_int_eq(http_file_cache_new(&c, ARENA), 0);
	ck_assert_int_eq(http_file_cache_put(&f, c, "big", big, sizeof(big)), TL_E_INPUT);
	ck_assert_int_eq(http_file_cache_put(&f, c, "empty", big, 0), TL_E_INPUT);
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	ck_assert_int_eq(http_file_cache_put(&f, c, key, big, 10), TL_E_INPUT);
	/* A quarter of a file is kept. */
	ck_assert_int_eq(http_file_cache_put(&f, c, "quarter", big, ARENA / 4), 0);
	http_file_release(f.ref);
	http_file_cache_free(c);
}
END_TEST

/* Many more bodies than two files hold: the memory stays within two files, the newest
 * bodies are kept and the oldest left. */
START_TEST(bounded_by_two_files_oldest_leave_first)
{
	enum { N = 100 }; /* 800 KiB put into a cache of 2 x 64 KiB */
	struct http_file_cache *c;
	struct http_file_body f;
	struct http_file_cache_stats st;
	uint8_t body[BODY];
	char key[16];
	unsigned kept = 0;

	ck_assert_int_eq(http_file_cache_new_sized(&c, ARENA, 1024), 0);
	for (unsigned i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "%u", i);
		fill(body, sizeof(body), i);
		ck_assert_int_eq(http_file_cache_put(&f, c, key, body, sizeof(body)), 0);
		http_file_release(f.ref);
		http_file_cache_stats(&st, c);
		ck_assert_uint_le(st.bytes, 2 * ARENA);
	}
	for (unsigned i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "%u", i);
		if (!http_file_cache_get(&f, c, key))
			continue;
		/* Only the last two files' worth, and each kept body intact. */
		ck_assert_uint_ge(i, N - 2 * ARENA / BODY);
		fill(body, sizeof(body), i);
		check_body(&f, body, sizeof(body));
		http_file_release(f.ref);
		kept++;
	}
	/* The current file holds the last (N % 8 or 8) bodies, the previous one 8 more. */
	ck_assert_uint_ge(kept, ARENA / BODY + 1);
	http_file_cache_stats(&st, c);
	ck_assert_uint_eq(st.bodies, kept);
	ck_assert_uint_eq(st.bytes, (uint64_t)kept * BODY);
	http_file_cache_free(c);
}
END_TEST

/* A body lent before its file left the index (and before the cache is freed) still reads
 * as it was: responses being sent keep their file. */
START_TEST(lent_bodies_outlive_eviction)
{
	struct http_file_cache *c;
	struct http_file_body first, f;
	uint8_t body[BODY], want[BODY];
	char key[16];

	fill(want, sizeof(want), 7);
	ck_assert_int_eq(http_file_cache_new(&c, ARENA), 0);
	ck_assert_int_eq(http_file_cache_put(&first, c, "first", want, sizeof(want)), 0);
	for (unsigned i = 0; i < 3 * ARENA / BODY; i++) {
		snprintf(key, sizeof(key), "%u", i);
		fill(body, sizeof(body), 100 + i);
		ck_assert_int_eq(http_file_cache_put(&f, c, key, body, sizeof(body)), 0);
		http_file_release(f.ref);
	}
	ck_assert(!http_file_cache_get(&f, c, "first"));
	check_body(&first, want, sizeof(want));
	http_file_cache_free(c);
	check_body(&first, want, sizeof(want));
	http_file_release(first.ref);
}
END_TEST

/* The index is direct-mapped: a key that lands in a taken slot replaces its body. */
START_TEST(a_colliding_key_replaces_the_slot)
{
	struct http_file_cache *c;
	struct http_file_body f;
	struct http_file_cache_stats st;
	uint8_t a[100], b[200];

	fill(a, sizeof(a), 1);
	fill(b, sizeof(b), 2);
	ck_assert_int_eq(http_file_cache_new_sized(&c, ARENA, 1), 0);
	ck_assert_int_eq(http_file_cache_put(&f, c, "a", a, sizeof(a)), 0);
	http_file_release(f.ref);
	ck_assert_int_eq(http_file_cache_put(&f, c, "b", b, sizeof(b)), 0);
	http_file_release(f.ref);
	ck_assert(!http_file_cache_get(&f, c, "a"));
	ck_assert(http_file_cache_get(&f, c, "b"));
	check_body(&f, b, sizeof(b));
	http_file_release(f.ref);
	http_file_cache_stats(&st, c);
	ck_assert_uint_eq(st.bodies, 1);
	ck_assert_uint_eq(st.bytes, sizeof(a) + sizeof(b)); /* a's bytes stay, dead, in the file */
	http_file_cache_free(c);
}
END_TEST

/* The reply helpers answer from the file's mapping (small bodies, TLS) or with sendfile
 * (from HTTP_FILE_SENDFILE_MIN), or leave the response alone. */
START_TEST(replies_from_the_file)
{
	enum { BIG = HTTP_FILE_SENDFILE_MIN + 5 };
	struct http_file_cache *c;
	bd_httpd_response res = { 0 };
	static uint8_t big[BIG];
	uint8_t a[300];

	fill(a, sizeof(a), 3);
	fill(big, sizeof(big), 4);
	ck_assert_int_eq(http_file_cache_new(&c, 4 * BIG), 0);
	ck_assert(!http_file_reply(&res, c, "a", "application/octet-stream", false));
	ck_assert(res.borrowed == NULL && !res.body_file);
	ck_assert_int_eq(http_file_reply_put(&res, c, "empty", "application/octet-stream", a, 0, false), TL_E_INPUT);
	ck_assert(res.borrowed == NULL && !res.body_file);
	ck_assert_int_eq(http_file_reply_put(&res, c, "a", "application/octet-stream", a, sizeof(a), false), 0);
	ck_assert(!res.body_file);
	ck_assert_uint_eq(res.status, 200);
	ck_assert_uint_eq(res.borrowed_len, sizeof(a));
	ck_assert(memcmp(res.borrowed, a, sizeof(a)) == 0);
	res.release(res.release_ctx);

	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(http_file_reply_put(&res, c, "big", "application/octet-stream", big, sizeof(big), false), 0);
	ck_assert(res.body_file);
	ck_assert_uint_eq(res.borrowed_len, sizeof(big));
	check_body(&(struct http_file_body){ res.body_fd, res.body_off, res.borrowed_len, NULL, NULL }, big, sizeof(big));
	res.release(res.release_ctx);
	memset(&res, 0, sizeof(res));
	ck_assert(http_file_reply(&res, c, "big", "application/octet-stream", false));
	ck_assert(res.body_file);
	res.release(res.release_ctx);
	/* Over TLS, from memory whatever the size. */
	memset(&res, 0, sizeof(res));
	ck_assert(http_file_reply(&res, c, "big", "application/octet-stream", true));
	ck_assert(!res.body_file);
	ck_assert_uint_eq(res.borrowed_len, sizeof(big));
	ck_assert(memcmp(res.borrowed, big, sizeof(big)) == 0);
	res.release(res.release_ctx);
	http_file_cache_free(c);
}
END_TEST

Suite *suite_file_cache(void)
{
	Suite *s = suite_create("file_cache");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, put_then_get_lends_the_same_bytes);
	tcase_add_test(tc, refuses_what_it_cannot_keep);
	tcase_add_test(tc, bounded_by_two_files_oldest_leave_first);
	tcase_add_test(tc, lent_bodies_outlive_eviction);
	tcase_add_test(tc, a_colliding_key_replaces_the_slot);
	tcase_add_test(tc, replies_from_the_file);
	suite_add_tcase(s, tc);
	return s;
}
