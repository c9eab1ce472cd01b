/*
 * The Server-Sent Events reader: the specification's parsing rules (line ends, comments,
 * the space after the colon, multi-line data, persistent ids, retry), pieces of any size, and
 * every limit and malformation refused.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/sse.h"

struct got {
	size_t n;
	char type[8][BD_SSE_MAX_TYPE + 1];
	char data[8][256];
	char id[8][BD_SSE_MAX_ID + 1];
	int stop_after; /* 0: never */
};

static int collect(void *ctx, const bd_sse_event *ev)
{
	struct got *g = ctx;

	ck_assert_uint_lt(g->n, 8);
	snprintf(g->type[g->n], sizeof(g->type[0]), "%s", ev->type);
	snprintf(g->data[g->n], sizeof(g->data[0]), "%s", ev->data);
	snprintf(g->id[g->n], sizeof(g->id[0]), "%s", ev->id);
	g->n++;
	return g->stop_after != 0 && g->n == (size_t)g->stop_after ? 42 : 0;
}

/* Feeds text in pieces of `piece` bytes (0: at once); returns the first non-zero result. */
static int feed(bd_sse_parser *p, struct got *g, const char *text, size_t len, size_t piece)
{
	int rc = 0;

	if (piece == 0)
		piece = len ? len : 1;
	for (size_t off = 0; off < len && rc == 0; off += piece)
		rc = bd_sse_feed(p, (const uint8_t *)text + off, len - off < piece ? len - off : piece, collect, g);
	return rc;
}

static const char stream[] = "\xef\xbb\xbf: a comment\r\n"
			     "retry: 250\r\n"
			     "id: 7\r\n"
			     "event: version\r\n"
			     "data: {\"a\":1}\r\n"
			     "\r\n"
			     "data:one\r"
			     "data:  two\r"
			     "data\r"
			     "\r"
			     "id\n"
			     "event: ignored-without-data\n"
			     "\n"
			     "unknown: field\n"
			     "data: last\n"
			     "\n"
			     "data: never dispatched";

START_TEST(parses_the_specification_forms_in_any_pieces)
{
	for (size_t piece = 0; piece <= 5; piece++) {
		bd_sse_parser p;
		struct got g = { 0 };

		bd_sse_init(&p);
		ck_assert_int_eq(feed(&p, &g, stream, strlen(stream), piece), 0);
		ck_assert_uint_eq(g.n, 3);
		ck_assert_str_eq(g.type[0], "version");
		ck_assert_str_eq(g.data[0], "{\"a\":1}");
		ck_assert_str_eq(g.id[0], "7");
		/* Data lines joined with LF; one space dropped after the colon, no more. */
		ck_assert_str_eq(g.type[1], "message");
		ck_assert_str_eq(g.data[1], "one\n two\n");
		ck_assert_str_eq(g.id[1], "7"); /* ids persist */
		ck_assert_str_eq(g.data[2], "last");
		ck_assert_str_eq(g.id[2], ""); /* "id" alone clears it */
		ck_assert_uint_eq(p.retry_ms, 250);
		bd_sse_free(&p);
	}
}
END_TEST

START_TEST(a_callback_stops_the_feed)
{
	bd_sse_parser p;
	struct got g = { .stop_after = 1 };

	bd_sse_init(&p);
	ck_assert_int_eq(feed(&p, &g, "data: a\n\ndata: b\n\n", 18, 0), 42);
	ck_assert_uint_eq(g.n, 1);
	bd_sse_free(&p);
}
END_TEST

START_TEST(a_reset_drops_the_partial_event_and_keeps_the_id)
{
	bd_sse_parser p;
	struct got g = { 0 };

	bd_sse_init(&p);
	ck_assert_int_eq(feed(&p, &g, "id: 9\ndata: a\n\ndata: half", 25, 0), 0);
	bd_sse_reset(&p);
	ck_assert_int_eq(feed(&p, &g, "\ndata: b\n\n", 10, 0), 0);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_str_eq(g.data[1], "b");
	ck_assert_str_eq(g.id[1], "9");
	bd_sse_free(&p);
}
END_TEST

/* Input the reader must refuse, each on a fresh parser. */
START_TEST(refuses_what_is_over_a_limit_or_malformed)
{
	char *line = malloc(BD_SSE_MAX_LINE + 16), *big = malloc(BD_SSE_MAX_EVENT + 4096);
	size_t n = 0;
	struct {
		const char *text;
		size_t len;
	} bad[6];

	/* A line one byte over the limit, with no end yet. */
	memset(line, 'x', BD_SSE_MAX_LINE + 1);
	bad[0].text = line;
	bad[0].len = BD_SSE_MAX_LINE + 1;
	/* An event's data over the limit, in lines each under the line limit. */
	for (size_t i = 0; n + 1000 < BD_SSE_MAX_EVENT + 2048;) {
		memcpy(big + n, "data: ", 6);
		memset(big + n + 6, 'y', 990);
		big[n + 996] = '\n';
		n += 997;
		i++;
	}
	bad[1].text = big;
	bad[1].len = n;
	bad[2].text = "data: \xff\n\n";    /* not UTF-8 */
	bad[2].len = 9;
	bad[3].text = "data: a\0b\n\n";    /* a NUL */
	bad[3].len = 11;
	bad[4].text = "id: 01234567890123456789012345678901234567890123456789012345678901234567890\n";
	bad[4].len = strlen(bad[4].text);
	bad[5].text = "\xef\xbb" "data: x\n\n"; /* half a BOM */
	bad[5].len = 11;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bd_sse_parser p;
		struct got g = { 0 };

		bd_sse_init(&p);
		ck_assert_msg(feed(&p, &g, bad[i].text, bad[i].len, 0) == TL_E_INPUT, "case %zu", i);
		ck_assert_uint_eq(g.n, 0);
		bd_sse_free(&p);
	}
	free(line);
	free(big);
}
END_TEST

START_TEST(a_line_at_the_limit_is_read)
{
	char *text = malloc(BD_SSE_MAX_LINE + 4);
	bd_sse_parser p;
	struct got g = { 0 };

	memcpy(text, "data:", 5);
	memset(text + 5, 'z', BD_SSE_MAX_LINE - 5);
	memcpy(text + BD_SSE_MAX_LINE, "\n\n", 2);
	bd_sse_init(&p);
	ck_assert_int_eq(feed(&p, &g, text, BD_SSE_MAX_LINE + 2, 1000), 0);
	ck_assert_uint_eq(g.n, 1);
	bd_sse_free(&p);
	free(text);
}
END_TEST

Suite *suite_sse(void)
{
	Suite *s = suite_create("sse");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, parses_the_specification_forms_in_any_pieces);
	tcase_add_test(tc, a_callback_stops_the_feed);
	tcase_add_test(tc, a_reset_drops_the_partial_event_and_keeps_the_id);
	tcase_add_test(tc, refuses_what_is_over_a_limit_or_malformed);
	tcase_add_test(tc, a_line_at_the_limit_is_read);
	suite_add_tcase(s, tc);
	return s;
}
