/*
 * The HTTP request parser (bundled/src/httpd_parse.c): every strictness rule of its header
 * comment, accepted and refused, each also fed byte by byte (a head arriving in pieces must
 * give the same answer as the whole head at once).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/httpd.h"

struct parsed {
	int rc;
	unsigned status;
	size_t head_len;
	bd_httpd_request req;
	bd_httpd_framing fr;
	char buf[BD_HTTPD_MAX_HEAD * 2 + 64];
};

/* Parses the first n bytes of text in a private copy (the parser writes NULs in place). */
static void parse_n(struct parsed *p, const char *text, size_t n)
{
	ck_assert_uint_lt(n, sizeof(p->buf));
	memset(p, 0, sizeof(*p));
	memcpy(p->buf, text, n);
	p->rc = bd_httpd_parse_head(&p->req, &p->fr, &p->head_len, &p->status, p->buf, n);
}

/* Parses text whole, then again growing one byte at a time: the first answer that is not
 * "more" must be the whole parse's answer, at the whole length. */
static struct parsed *parse(const char *text, size_t len)
{
	struct parsed *whole = calloc(1, sizeof(*whole)), *part = calloc(1, sizeof(*part));

	ck_assert_ptr_nonnull(whole);
	ck_assert_ptr_nonnull(part);
	parse_n(whole, text, len);
	for (size_t n = 1; n <= len; n++) {
		parse_n(part, text, n);
		if (part->rc == BD_HTTPD_PARSE_MORE)
			continue;
		ck_assert_msg(part->rc == whole->rc && part->status == whole->status,
			"fed bytewise, %zu of %zu bytes give rc %d status %u; whole: rc %d status %u", n, len, part->rc,
			part->status, whole->rc, whole->status);
		if (part->rc == BD_HTTPD_PARSE_DONE)
			ck_assert_uint_eq(part->head_len, whole->head_len);
		break;
	}
	free(part);
	return whole;
}

static struct parsed *parse_str(const char *text)
{
	return parse(text, strlen(text));
}

/* A refused head: the status, and a message naming the problem. */
static void refused(const char *text, unsigned status, const char *msg_part)
{
	struct parsed *p = parse_str(text);

	ck_assert_msg(p->rc == TL_E_INPUT && p->status == status, "\"%s\": rc %d status %u, want %u", text, p->rc,
		p->status, status);
	ck_assert_msg(strstr(tl_error_message(), msg_part) != NULL, "\"%s\": message \"%s\" lacks \"%s\"", text,
		tl_error_message(), msg_part);
	free(p);
}

static struct parsed *accepted(const char *text)
{
	struct parsed *p = parse_str(text);

	ck_assert_msg(p->rc == BD_HTTPD_PARSE_DONE, "\"%s\": rc %d status %u: %s", text, p->rc, p->status,
		tl_error_message());
	return p;
}

START_TEST(a_plain_get)
{
	static const char text[] = "GET /tile/0/000?x=1 HTTP/1.1\r\nHost: a\r\nAccept:  */*  \r\n\r\nrest";
	struct parsed *p = accepted(text);
	const bd_httpd_field *f;

	ck_assert_uint_eq(p->head_len, strlen(text) - 4);
	ck_assert_str_eq(p->req.method, "GET");
	ck_assert(!p->req.head);
	ck_assert_str_eq(p->req.target, "/tile/0/000?x=1");
	ck_assert_uint_eq(p->req.path_len, strlen("/tile/0/000"));
	ck_assert_int_eq(p->req.minor_version, 1);
	ck_assert_uint_eq(p->req.nfields, 2);
	ck_assert_ptr_nonnull(f = bd_httpd_field_get(&p->req, "ACCEPT"));
	ck_assert_uint_eq(f->value_len, 3);
	ck_assert(memcmp(f->value, "*/*", 3) == 0);
	ck_assert_ptr_null(bd_httpd_field_get(&p->req, "Accept-Encoding"));
	ck_assert(p->fr.keep_alive);
	ck_assert(!p->fr.chunked);
	ck_assert_uint_eq(p->fr.content_length, 0);
	free(p);
	/* Empty lines before the request line are skipped (RFC 9112 §2.2). */
	p = accepted("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
	ck_assert_str_eq(p->req.target, "/");
	free(p);
}
END_TEST

START_TEST(head_is_a_get_without_body)
{
	struct parsed *p = accepted("HEAD /checkpoint HTTP/1.1\r\nHost: a\r\n\r\n");

	ck_assert_str_eq(p->req.method, "GET");
	ck_assert(p->req.head);
	free(p);
}
END_TEST

START_TEST(an_incomplete_head_asks_for_more)
{
	struct parsed p;

	parse_n(&p, "GET / HTTP/1.1\r\nHost: a\r\n", strlen("GET / HTTP/1.1\r\nHost: a\r\n"));
	ck_assert_int_eq(p.rc, BD_HTTPD_PARSE_MORE);
	parse_n(&p, "GET / HTTP/1.1\r\nHost: a\r\n\r", strlen("GET / HTTP/1.1\r\nHost: a\r\n\r"));
	ck_assert_int_eq(p.rc, BD_HTTPD_PARSE_MORE);
	parse_n(&p, "", 0);
	ck_assert_int_eq(p.rc, BD_HTTPD_PARSE_MORE);
}
END_TEST

START_TEST(line_ends_are_crlf_only)
{
	refused("GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "bare LF");
	refused("GET / HTTP/1.1\r\nHost: a\n\r\n", 400, "bare LF");
	refused("GET / HTTP/1.1\r\nHost: a\r\n\n", 400, "bare LF");
	refused("GET / HTTP/1.1\rHost: a\r\n\r\n", 400, "bare CR");
	refused("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400, "bare CR");
	refused("GET / HTTP/1.1\r\nHost: a\r\n\rx", 400, "bare CR");
}
END_TEST

START_TEST(header_fields_are_strict)
{
	refused("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  continued\r\n\r\n", 400, "folding");
	refused("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\tcontinued\r\n\r\n", 400, "folding");
	refused("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "field name");
	refused("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400, "field name");
	refused("GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", 400, "malformed header field");
	refused("GET / HTTP/1.1\r\nHost: a\r\nno colon\r\n\r\n", 400, "malformed header field");
	refused("GET / HTTP/1.1\r\nHost: a\r\nX(y): 1\r\n\r\n", 400, "field name");
	refused("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\x01\r\n\r\n", 400, "control byte");
	refused("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\x7f\r\n\r\n", 400, "control byte");
	refused("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, "more than one Host");
	{
		static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\0x\r\n\r\n";
		struct parsed *p = parse(nul, sizeof(nul) - 1);

		ck_assert_int_eq(p->rc, TL_E_INPUT);
		ck_assert_uint_eq(p->status, 400);
		free(p);
	}
	/* Bytes >= 0x80 (obs-text) are allowed in values, and white space around values goes. */
	free(accepted("GET / HTTP/1.1\r\nHost: a\r\nX-A: \xc3\xa9\t\r\nX-Empty:\r\n\r\n"));
}
END_TEST

START_TEST(host_is_required_on_1_1_only)
{
	struct parsed *p;

	refused("GET / HTTP/1.1\r\nX-A: 1\r\n\r\n", 400, "Host");
	p = accepted("GET / HTTP/1.0\r\n\r\n");
	ck_assert_int_eq(p->req.minor_version, 0);
	ck_assert(!p->fr.keep_alive);
	free(p);
	p = accepted("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	ck_assert(p->fr.keep_alive);
	free(p);
	p = accepted("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n");
	ck_assert(!p->fr.keep_alive);
	free(p);
}
END_TEST

START_TEST(request_line_is_strict)
{
	refused("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "version");
	refused("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, "version");
	refused("GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505, "version");
	refused("GET / HTTP/1\r\nHost: a\r\n\r\n", 400, "version");
	refused("GET / http/1.1\r\nHost: a\r\n\r\n", 400, "version");
	refused("GET /\r\nHost: a\r\n\r\n", 400, "request line");
	refused("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "request line");
	refused("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, "version");
	refused("get / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "method");
	refused(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "method");
	refused("GETTINGMORETHANSIXTEEN / HTTP/1.1\r\nHost: a\r\n\r\n", 501, "method");
	refused("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "absolute path");
	refused("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 400, "absolute path");
	refused("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "version");
}
END_TEST

START_TEST(targets_allow_only_uri_bytes_and_good_escapes)
{
	struct parsed *p;

	refused("GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400, "percent escape");
	refused("GET /a%4 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "percent escape");
	refused("GET /a% HTTP/1.1\r\nHost: a\r\n\r\n", 400, "percent escape");
	refused("GET /a?x=%g0 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "percent escape");
	refused("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "not allowed");
	refused("GET /a\"b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "not allowed");
	refused("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", 400, "not allowed");
	refused("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400, "");
	{
		static const char nul[] = "GET /checkpoint\0junk HTTP/1.1\r\nHost: a\r\n\r\n";
		struct parsed *p0 = parse(nul, sizeof(nul) - 1);

		ck_assert_int_eq(p0->rc, TL_E_INPUT);
		ck_assert_uint_eq(p0->status, 400);
		free(p0);
	}
	/* Escapes are kept as they are: the parser decodes nothing. */
	p = accepted("GET /tile%2f0%2F000?i=%41%00 HTTP/1.1\r\nHost: a\r\n\r\n");
	ck_assert_str_eq(p->req.target, "/tile%2f0%2F000?i=%41%00");
	ck_assert_uint_eq(p->req.path_len, strlen("/tile%2f0%2F000"));
	free(p);
}
END_TEST

/* A request line of the given target length. */
static char *long_target(size_t target_len)
{
	char *text = malloc(target_len + 64);

	ck_assert_ptr_nonnull(text);
	strcpy(text, "GET /");
	memset(text + 5, 'a', target_len - 1);
	strcpy(text + 4 + target_len, " HTTP/1.1\r\nHost: a\r\n\r\n");
	return text;
}

START_TEST(long_targets_are_414)
{
	char *text = long_target(BD_HTTPD_MAX_TARGET);

	free(accepted(text));
	free(text);
	text = long_target(BD_HTTPD_MAX_TARGET + 1);
	refused(text, 414, "too long");
	free(text);
	/* Without an end of line in sight. */
	text = long_target(3 * BD_HTTPD_MAX_TARGET);
	text[3 * BD_HTTPD_MAX_TARGET] = '\0';
	refused(text, 414, "too long");
	free(text);
}
END_TEST

START_TEST(large_heads_are_431)
{
	char *text = malloc(BD_HTTPD_MAX_HEAD + 256);
	size_t n;

	ck_assert_ptr_nonnull(text);
	/* Too many fields. */
	n = (size_t)sprintf(text, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 1; i < BD_HTTPD_MAX_HEADERS; i++)
		n += (size_t)sprintf(text + n, "X-%d: 1\r\n", i);
	strcpy(text + n, "\r\n");
	free(accepted(text));
	strcpy(text + n, "X-Last: 1\r\n\r\n");
	refused(text, 431, "too many header fields");
	/* A head over the size limit, complete or not. */
	n = (size_t)sprintf(text, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
	memset(text + n, 'b', BD_HTTPD_MAX_HEAD - n);
	strcpy(text + BD_HTTPD_MAX_HEAD, "\r\n\r\n");
	refused(text, 431, "too large");
	text[BD_HTTPD_MAX_HEAD + 1] = '\0';
	refused(text, 431, "too large");
	free(text);
}
END_TEST

START_TEST(content_length_is_one_canonical_number)
{
	struct parsed *p = accepted("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n");

	ck_assert_uint_eq(p->fr.content_length, 42);
	free(p);
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n", 400,
		"more than one Content-Length");
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\ncontent-length: 4\r\n\r\n", 400,
		"more than one Content-Length");
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 4\r\n\r\n", 400, "Content-Length");
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\n", 400, "Content-Length");
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length");
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", 400, "Content-Length");
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400, "Content-Length");
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456789\r\n\r\n", 400, "Content-Length");
}
END_TEST

START_TEST(transfer_encoding_is_chunked_alone)
{
	struct parsed *p = accepted("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n");

	ck_assert(p->fr.chunked);
	free(p);
	refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n", 400,
		"both Transfer-Encoding and Content-Length");
	refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
		"both Transfer-Encoding and Content-Length");
	refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "chunked");
	refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 501, "chunked");
	refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
		"more than one Transfer-Encoding");
	refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "HTTP/1.0");
}
END_TEST

START_TEST(expect_100_continue_only)
{
	struct parsed *p = accepted("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n");

	ck_assert(p->fr.expect_continue);
	free(p);
	/* Nothing to wait for without a body. */
	p = accepted("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n");
	ck_assert(!p->fr.expect_continue);
	free(p);
	refused("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 3\r\n\r\n", 417, "100-continue");
}
END_TEST

/* De-chunks text whole and then fed one byte at a time; both must agree. */
static int dechunk(char *out, size_t *out_len, unsigned *status, const char *text, size_t max_body)
{
	size_t len = strlen(text);
	uint8_t *a = malloc(len + 1), *b = malloc(len + 1);
	bd_httpd_chunked sa = { 0 }, sb = { 0 };
	unsigned sta, stb = 0;
	int ra, rb = BD_HTTPD_PARSE_MORE;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	memcpy(a, text, len);
	memcpy(b, text, len);
	ra = bd_httpd_parse_chunked(&sa, &sta, a, len, max_body);
	for (size_t n = 0; n <= len && rb == BD_HTTPD_PARSE_MORE; n++)
		rb = bd_httpd_parse_chunked(&sb, &stb, b, n, max_body);
	ck_assert_msg(ra == rb && sta == stb, "\"%s\": whole rc %d status %u, bytewise rc %d status %u", text, ra, sta,
		rb, stb);
	if (ra == BD_HTTPD_PARSE_DONE) {
		ck_assert_uint_eq(sa.out, sb.out);
		ck_assert_uint_eq(sa.in, sb.in);
		ck_assert(memcmp(a, b, sa.out) == 0);
		memcpy(out, a, sa.out);
		*out_len = sa.out;
		out[sa.out] = '\0';
	}
	*status = sta;
	free(a);
	free(b);
	return ra;
}

START_TEST(chunked_bodies)
{
	char out[256];
	size_t n = 0;
	unsigned status;

	ck_assert_int_eq(dechunk(out, &n, &status, "5\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\n\r\nNEXT", 100),
		BD_HTTPD_PARSE_DONE);
	ck_assert_str_eq(out, "hello 0123456789");
	ck_assert_int_eq(dechunk(out, &n, &status, "0\r\n\r\n", 100), BD_HTTPD_PARSE_DONE);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(dechunk(out, &n, &status, "00000a\r\n0123456789\r\n0\r\n\r\n", 100), BD_HTTPD_PARSE_DONE);
	ck_assert_int_eq(dechunk(out, &n, &status, "5\r\nhel", 100), BD_HTTPD_PARSE_MORE);
}
END_TEST

START_TEST(chunked_framing_is_strict)
{
	static const char *const bad[] = {
		"5;ext=1\r\nhello\r\n0\r\n\r\n",   /* chunk extension */
		"5 \r\nhello\r\n0\r\n\r\n",        /* white space */
		"\r\nhello\r\n0\r\n\r\n",          /* no size */
		"-5\r\nhello\r\n0\r\n\r\n",        /* sign */
		"0x5\r\nhello\r\n0\r\n\r\n",       /* prefix */
		"5\nhello\r\n0\r\n\r\n",           /* bare LF */
		"5\rhello\r\n0\r\n\r\n",           /* bare CR */
		"5\r\nhelloX\r\n0\r\n\r\n",        /* data longer than its size */
		"5\r\nhello\n0\r\n\r\n",           /* data not ending in CRLF */
		"5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n", /* trailer field */
		"5\r\nhello\r\n0\r\n\n",           /* bare LF at the end */
		"00000000000000000000000000000005\r\nhello\r\n0\r\n\r\n", /* an over-long size line */
	};
	char out[256];
	size_t n;
	unsigned status;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(dechunk(out, &n, &status, bad[i], 100) == TL_E_INPUT, "accepted: %s", bad[i]);
		ck_assert_uint_eq(status, 400);
	}
}
END_TEST

START_TEST(chunked_over_max_body_is_413)
{
	char out[256];
	size_t n;
	unsigned status;

	ck_assert_int_eq(dechunk(out, &n, &status, "a\r\n0123456789\r\n0\r\n\r\n", 10), BD_HTTPD_PARSE_DONE);
	ck_assert_int_eq(dechunk(out, &n, &status, "b\r\n0123456789a\r\n0\r\n\r\n", 10), TL_E_INPUT);
	ck_assert_uint_eq(status, 413);
	ck_assert_int_eq(dechunk(out, &n, &status, "6\r\n012345\r\n5\r\n01234\r\n0\r\n\r\n", 10), TL_E_INPUT);
	ck_assert_uint_eq(status, 413);
	/* A size that does not fit 64 bits, or nearly: 413 from the size line alone. */
	ck_assert_int_eq(dechunk(out, &n, &status, "ffffffffffffffff\r\n", 10), TL_E_INPUT);
	ck_assert_uint_eq(status, 413);
	ck_assert_int_eq(dechunk(out, &n, &status, "fffffffffffffffff\r\n", 10), TL_E_INPUT);
	ck_assert_uint_eq(status, 400);
}
END_TEST

Suite *suite_httpd_parse(void)
{
	Suite *s = suite_create("httpd_parse");
	TCase *tc = tcase_create("head");

	tcase_add_test(tc, a_plain_get);
	tcase_add_test(tc, head_is_a_get_without_body);
	tcase_add_test(tc, an_incomplete_head_asks_for_more);
	tcase_add_test(tc, line_ends_are_crlf_only);
	tcase_add_test(tc, header_fields_are_strict);
	tcase_add_test(tc, host_is_required_on_1_1_only);
	tcase_add_test(tc, request_line_is_strict);
	tcase_add_test(tc, targets_allow_only_uri_bytes_and_good_escapes);
	tcase_add_test(tc, long_targets_are_414);
	tcase_add_test(tc, large_heads_are_431);
	tcase_add_test(tc, content_length_is_one_canonical_number);
	tcase_add_test(tc, transfer_encoding_is_chunked_alone);
	tcase_add_test(tc, expect_100_continue_only);
	suite_add_tcase(s, tc);
	tc = tcase_create("chunked");
	tcase_add_test(tc, chunked_bodies);
	tcase_add_test(tc, chunked_framing_is_strict);
	tcase_add_test(tc, chunked_over_max_body_is_413);
	suite_add_tcase(s, tc);
	return s;
}
