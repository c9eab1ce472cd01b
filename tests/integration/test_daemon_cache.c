/*
 * The daemon's immutable answers from the outside, as a cache or CDN sees them: strong ETags
 * that stay the same between requests, 304 without a body on If-None-Match, gzip'ed entry
 * bundles only for clients that accept them (and decoding to the identity bytes), and HEAD
 * consistent with GET for every representation.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "bundled/blockstore.h"
#include "bundled/cid.h"
#include "testdaemon.h"
#include "testhttp.h"
#include "testutil.h"
#include "translog/db.h"

enum { ENTRIES = 300, BLOCK_BYTES = 6000 };

static char *data_dir;
static struct tu_daemon dmn;
static char block_cid[BD_CID_TEXT_MAX];
/* Entry bundle 000 as tlog-tiles defines it (each entry after its big-endian u16 length),
 * made from the entries, not read from the daemon. */
static uint8_t bundle0[256 * 66];
static size_t bundle0_len;
static char texts[ENTRIES][64];

static void setup(void)
{
	const void *entries[ENTRIES];
	size_t lens[ENTRIES];
	uint8_t block[BLOCK_BYTES];
	bd_blockstore *bs;
	bd_cid cid;
	tl_db *db;

	for (size_t i = 0; i < ENTRIES; i++) {
		snprintf(texts[i], sizeof(texts[i]), "entry %zu, a little repetitive, of the cache suite\n", i);
		entries[i] = texts[i];
		lens[i] = strlen(texts[i]);
	}
	bundle0_len = 0;
	for (size_t i = 0; i < 256; i++) {
		ck_assert_uint_le(bundle0_len + 2 + lens[i], sizeof(bundle0));
		bundle0[bundle0_len++] = (uint8_t)(lens[i] >> 8);
		bundle0[bundle0_len++] = (uint8_t)lens[i];
		memcpy(bundle0 + bundle0_len, texts[i], lens[i]);
		bundle0_len += lens[i];
	}
	ck_assert_ptr_nonnull(data_dir = tu_mkdtemp());
	tu_rm_rf(data_dir);
	tu_daemon_prepare(data_dir, "cache.test/log", entries, lens, ENTRIES, 0, NULL);
	for (size_t i = 0; i < BLOCK_BYTES; i++)
		block[i] = (uint8_t)(i * 13 + i / 7);
	bd_cid_of(&cid, BD_CODEC_RAW, block, sizeof(block));
	ck_assert_int_eq(bd_cid_format(block_cid, sizeof(block_cid), &cid), 0);
	db = tu_daemon_db_open(data_dir);
	ck_assert_int_eq(bd_blockstore_open(&bs, db), 0);
	ck_assert_int_eq(bd_blockstore_put(bs, &cid, block, sizeof(block)), 0);
	bd_blockstore_close(bs);
	tl_db_close(db);
	ck_assert_int_eq(tu_daemon_start(&dmn, data_dir, NULL), 0);
}

static void teardown(void)
{
	ck_assert_int_eq(tu_daemon_stop(&dmn), 0);
	tu_rm_rf(data_dir);
	free(data_dir);
	data_dir = NULL;
}

struct answer {
	int status;
	char *text;        /* head and body, NUL-terminated */
	const char *body;  /* after the head */
	size_t body_len;
};

/* One request with `headers` (each line ending in \r\n, may be ""), on a connection the
 * server closes afterwards. */
static struct answer ask(const char *method, const char *target, const char *headers)
{
	char req[2048];
	struct answer a = { 0 };
	size_t len;
	int fd = th_connect("127.0.0.1", "127.0.0.1", dmn.port);
	const char *end;

	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: a\r\n%sConnection: close\r\n\r\n", method, target, headers);
	th_send(fd, req, strlen(req));
	a.text = th_read_all(fd, &len);
	close(fd);
	th_record_raw(req, strlen(req), a.text, len);
	ck_assert_int_eq(sscanf(a.text, "HTTP/1.1 %d", &a.status), 1);
	ck_assert_ptr_nonnull(end = strstr(a.text, "\r\n\r\n"));
	a.body = end + 4;
	a.body_len = len - (size_t)(a.body - a.text);
	return a;
}

/* The value of a response header (copied into out), or NULL. */
static const char *header(char *out, size_t cap, const struct answer *a, const char *name)
{
	char key[128];
	const char *p, *eol;

	snprintf(key, sizeof(key), "\r\n%s: ", name);
	if ((p = strstr(a->text, key)) == NULL || p > a->body)
		return NULL;
	p += strlen(key);
	ck_assert_ptr_nonnull(eol = strstr(p, "\r\n"));
	ck_assert_uint_lt((size_t)(eol - p), cap);
	memcpy(out, p, (size_t)(eol - p));
	out[eol - p] = '\0';
	return out;
}

/* GETs target twice: the same strong ETag both times, 304 without a body (but with the tag
 * and the caching headers) when it is sent back, alone, weakly or in a list, 200 for another
 * tag. Returns the tag in etag[256]. */
static void check_conditional(char *etag, const char *target, const char *headers)
{
	char again[256], line[600], value[256];
	const char *prefixes[] = { "", "W/", "\"other\", ", NULL };
	struct answer a = ask("GET", target, headers), b = ask("GET", target, headers), c;

	ck_assert_int_eq(a.status, 200);
	ck_assert_msg(header(etag, 256, &a, "ETag") != NULL, "%s: no ETag", target);
	ck_assert_msg(etag[0] == '"' && etag[strlen(etag) - 1] == '"', "%s: ETag %s is not strong", target, etag);
	ck_assert_ptr_nonnull(header(again, sizeof(again), &b, "ETag"));
	ck_assert_str_eq(etag, again);
	ck_assert_ptr_nonnull(header(value, sizeof(value), &a, "Cache-Control"));
	ck_assert_ptr_nonnull(strstr(value, "immutable"));
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		char inm[300];

		snprintf(inm, sizeof(inm), "%s%s", prefixes[i] ? prefixes[i] : "*", prefixes[i] ? etag : "");
		snprintf(line, sizeof(line), "%sIf-None-Match: %s\r\n", headers, inm);
		c = ask("GET", target, line);
		ck_assert_msg(c.status == 304, "%s with If-None-Match %s: %d", target, inm, c.status);
		ck_assert_uint_eq(c.body_len, 0);
		ck_assert_int_eq(th_content_length(c.text), -1);
		ck_assert_ptr_nonnull(header(again, sizeof(again), &c, "ETag"));
		ck_assert_str_eq(etag, again);
		ck_assert_ptr_nonnull(header(value, sizeof(value), &c, "Cache-Control"));
		free(c.text);
	}
	snprintf(line, sizeof(line), "%sIf-None-Match: \"not-it\"\r\n", headers);
	c = ask("GET", target, line);
	ck_assert_int_eq(c.status, 200);
	ck_assert_uint_eq(c.body_len, a.body_len);
	ck_assert(memcmp(c.body, a.body, a.body_len) == 0);
	free(a.text);
	free(b.text);
	free(c.text);
}

START_TEST(immutable_answers_have_strong_etags_and_304)
{
	char tile[256], partial[256], bundle[256], entry[256], entry2[256], block[256], target[256];
	struct answer a;

	check_conditional(tile, "/tile/0/000", "");
	check_conditional(partial, "/tile/0/001.p/44", "");
	check_conditional(bundle, "/tile/entries/000", "");
	check_conditional(entry, "/v1/log/entries/7", "");
	check_conditional(entry2, "/v1/log/entries/8", "");
	snprintf(target, sizeof(target), "/ipfs/%s?format=raw", block_cid);
	check_conditional(block, target, "");
	ck_assert_str_ne(tile, partial);
	ck_assert_str_ne(tile, bundle);
	ck_assert_str_ne(entry, entry2);
	/* Nothing that does not exist is ever "not modified". */
	a = ask("GET", "/tile/0/002", "If-None-Match: *\r\n");
	ck_assert_int_eq(a.status, 404);
	free(a.text);
	a = ask("GET", "/v1/log/entries/300", "If-None-Match: *\r\n");
	ck_assert_int_eq(a.status, 404);
	free(a.text);
	a = ask("GET", "/ipfs/bafkreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?format=raw", "If-None-Match: *\r\n");
	ck_assert_int_ne(a.status, 304);
	free(a.text);
	/* The checkpoint changes: no tag, no 304. */
	a = ask("GET", "/checkpoint", "If-None-Match: *\r\n");
	ck_assert_int_eq(a.status, 200);
	ck_assert_ptr_null(header(tile, sizeof(tile), &a, "ETag"));
	free(a.text);
}
END_TEST

static size_t gunzip(uint8_t *out, size_t cap, const void *in, size_t len)
{
	z_stream z = { 0 };

	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	ck_assert_uint_eq(z.avail_in, 0);
	inflateEnd(&z);
	return z.total_out;
}

START_TEST(entry_bundles_gzip_when_accepted)
{
	static uint8_t plain[1 << 20];
	char value[256], gz_tag[256], id_tag[256];
	struct answer id = ask("GET", "/tile/entries/000", ""), gz, again, head, no;
	size_t n;

	ck_assert_int_eq(id.status, 200);
	ck_assert_ptr_null(header(value, sizeof(value), &id, "Content-Encoding"));
	ck_assert_ptr_nonnull(header(value, sizeof(value), &id, "Vary"));
	ck_assert_str_eq(value, "Accept-Encoding");
	ck_assert_ptr_nonnull(header(id_tag, sizeof(id_tag), &id, "ETag"));

	gz = ask("GET", "/tile/entries/000", "Accept-Encoding: deflate, gzip;q=0.5\r\n");
	ck_assert_int_eq(gz.status, 200);
	ck_assert_ptr_nonnull(header(value, sizeof(value), &gz, "Content-Encoding"));
	ck_assert_str_eq(value, "gzip");
	ck_assert_ptr_nonnull(header(value, sizeof(value), &gz, "Vary"));
	ck_assert_str_eq(value, "Accept-Encoding");
	ck_assert_uint_eq((size_t)th_content_length(gz.text), gz.body_len);
	ck_assert_uint_lt(gz.body_len, id.body_len);
	n = gunzip(plain, sizeof(plain), gz.body, gz.body_len);
	ck_assert_uint_eq(n, id.body_len);
	ck_assert(memcmp(plain, id.body, n) == 0);
	ck_assert_ptr_nonnull(header(gz_tag, sizeof(gz_tag), &gz, "ETag"));
	ck_assert_str_ne(gz_tag, id_tag);

	/* Computed once: the second answer is the same bytes (from the cache). */
	again = ask("GET", "/tile/entries/000", "Accept-Encoding: gzip\r\n");
	ck_assert_uint_eq(again.body_len, gz.body_len);
	ck_assert(memcmp(again.body, gz.body, gz.body_len) == 0);
	free(again.text);
	check_conditional(gz_tag, "/tile/entries/000", "Accept-Encoding: gzip\r\n");

	/* HEAD: the same head as GET, no body. */
	head = ask("HEAD", "/tile/entries/000", "Accept-Encoding: gzip\r\n");
	ck_assert_int_eq(head.status, 200);
	ck_assert_uint_eq(head.body_len, 0);
	ck_assert_int_eq(th_content_length(head.text), (long)gz.body_len);
	ck_assert_ptr_nonnull(header(value, sizeof(value), &head, "Content-Encoding"));
	ck_assert_ptr_nonnull(header(value, sizeof(value), &head, "ETag"));
	ck_assert_str_eq(value, gz_tag);
	free(head.text);
	head = ask("HEAD", "/tile/entries/000", "");
	ck_assert_int_eq(th_content_length(head.text), (long)id.body_len);
	ck_assert_ptr_null(header(value, sizeof(value), &head, "Content-Encoding"));
	free(head.text);

	/* Refused or not offered: identity. Partial bundles and hash tiles are never gzip'ed. */
	{
		const char *refusals[] = { "Accept-Encoding: gzip;q=0\r\n", "Accept-Encoding: br\r\n",
			"Accept-Encoding: *;q=0\r\n", "Accept-Encoding: identity\r\n" };

		for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
			no = ask("GET", "/tile/entries/000", refusals[i]);
			ck_assert_msg(header(value, sizeof(value), &no, "Content-Encoding") == NULL, "%s", refusals[i]);
			ck_assert_uint_eq(no.body_len, id.body_len);
			free(no.text);
		}
	}
	no = ask("GET", "/tile/entries/000", "Accept-Encoding: *\r\n");
	ck_assert_ptr_nonnull(header(value, sizeof(value), &no, "Content-Encoding"));
	free(no.text);
	no = ask("GET", "/tile/entries/001.p/44", "Accept-Encoding: gzip\r\n");
	ck_assert_int_eq(no.status, 200);
	ck_assert_ptr_null(header(value, sizeof(value), &no, "Content-Encoding"));
	free(no.text);
	no = ask("GET", "/tile/0/000", "Accept-Encoding: gzip\r\n");
	ck_assert_ptr_null(header(value, sizeof(value), &no, "Content-Encoding"));
	ck_assert_uint_eq(no.body_len, 256 * 32);
	free(no.text);
	free(id.text);
	free(gz.text);
}
END_TEST

/* A sampled series' value in /metrics (the first line naming it with these labels). */
static double metric(const char *series)
{
	struct answer a = ask("GET", "/metrics", "");
	const char *p;
	double v = -1;

	ck_assert_int_eq(a.status, 200);
	ck_assert_msg((p = strstr(a.body, series)) != NULL, "no %s in /metrics", series);
	ck_assert_int_eq(sscanf(p + strlen(series), " %lf", &v), 1);
	free(a.text);
	return v;
}

/* Full entry bundles come from memory files by sendfile, the first answer (read from the log
 * and kept) and the later ones (from the file) alike: the same bytes as the log's bundle, in
 * both forms. */
START_TEST(bundles_from_memory_files_are_the_logs_bytes)
{
	static uint8_t plain[1 << 20];
	const char *hits = "bundled_http_file_cache_lookups_total{cache=\"bundles\",result=\"hit\"}";
	double hits_before = metric(hits);

	for (int round = 0; round < 3; round++) {
		struct answer id = ask("GET", "/tile/entries/000", ""),
			      gz = ask("GET", "/tile/entries/000", "Accept-Encoding: gzip\r\n");
		size_t n;

		ck_assert_int_eq(id.status, 200);
		ck_assert_uint_eq((size_t)th_content_length(id.text), id.body_len);
		ck_assert_uint_eq(id.body_len, bundle0_len);
		ck_assert(memcmp(id.body, bundle0, bundle0_len) == 0);
		ck_assert_int_eq(gz.status, 200);
		ck_assert_uint_eq((size_t)th_content_length(gz.text), gz.body_len);
		n = gunzip(plain, sizeof(plain), gz.body, gz.body_len);
		ck_assert_uint_eq(n, bundle0_len);
		ck_assert(memcmp(plain, bundle0, n) == 0);
		free(id.text);
		free(gz.text);
	}
	/* The later rounds were hits, and the cache shows its memory. */
	ck_assert_double_ge(metric(hits) - hits_before, 4);
	ck_assert_double_gt(metric("bundled_http_file_cache_bytes{cache=\"bundles\"}"), (double)bundle0_len);
}
END_TEST

/* GET /v1/log/entries/N is the entry's text. */
static void check_entry(unsigned n)
{
	char target[64];
	struct answer a;

	snprintf(target, sizeof(target), "/v1/log/entries/%u", n);
	a = ask("GET", target, "");
	ck_assert_int_eq(a.status, 200);
	ck_assert_uint_eq(a.body_len, strlen(texts[n]));
	ck_assert_msg(memcmp(a.body, texts[n], a.body_len) == 0, "%s: another entry", target);
	free(a.text);
}

/* Single entries of a full bundle are lent from the bundle when the bundles' cache holds it
 * (else read from the log): the same bytes both ways, and the same tag. */
START_TEST(entries_from_a_kept_bundle_are_the_entries)
{
	const char *hits = "bundled_http_file_cache_lookups_total{cache=\"bundles\",result=\"hit\"}";
	const unsigned which[] = { 0, 1, 7, 128, 254, 255, 256, 299 };
	char before[256], after[256];
	struct answer a;
	double hits_before;

	for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++)
		check_entry(which[i]);
	check_conditional(before, "/v1/log/entries/7", "");
	a = ask("GET", "/tile/entries/000", "");
	ck_assert_int_eq(a.status, 200);
	free(a.text);
	hits_before = metric(hits);
	for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++)
		check_entry(which[i]);
	/* Entries 0 to 255 came from the kept bundle; 256 and 299 are in the partial one. */
	ck_assert_double_eq(metric(hits) - hits_before, 6);
	check_conditional(after, "/v1/log/entries/7", "");
	ck_assert_str_eq(before, after);
}
END_TEST

Suite *suite_it_daemon_cache(void)
{
	Suite *s = suite_create("daemon_cache");
	TCase *tc = tcase_create("conditional");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, immutable_answers_have_strong_etags_and_304);
	tcase_add_test(tc, entry_bundles_gzip_when_accepted);
	tcase_add_test(tc, bundles_from_memory_files_are_the_logs_bytes);
	tcase_add_test(tc, entries_from_a_kept_bundle_are_the_entries);
	suite_add_tcase(s, tc);
	return s;
}
