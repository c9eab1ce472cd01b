/*
 * The one reader of HTTP/1.1 request heads and chunked bodies. Strict on purpose: every line
 * ends in CRLF, a request-target is origin-form and never decoded here, header names are
 * tokens with no space before the colon, no line folding, no control bytes, exactly one Host,
 * at most one Content-Length (a second one, even equal, is refused: two lengths are how
 * request smuggling starts), and Transfer-Encoding only as the single coding "chunked",
 * never beside a Content-Length. What RFC 9112 lets a server tolerate, this one refuses.
 */
#include "bundled/httpd.h"

#include <string.h>
#include <strings.h>

#include "translog/text.h"

#define MAX_METHOD 16

static int fail(unsigned *status, unsigned code, const char *msg)
{
	*status = code;
	return tl_error_set(TL_E_INPUT, "%s", msg);
}

static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 3986 pchar, '/' and '?', with '%' only as the start of a two-digit escape. */
static bool target_ok(const char *t, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c == '%') {
			if (i + 2 >= len || tl_hex_digit((unsigned char)t[i + 1]) < 0 || tl_hex_digit((unsigned char)t[i + 2]) < 0)
				return false;
			i += 2;
			continue;
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			continue;
		if (c == 0 || strchr("-._~!$&'()*+,;=:@/?", c) == NULL)
			return false;
	}
	return true;
}

static bool field_is(const bd_httpd_field *f, const char *name)
{
	return f->name_len == strlen(name) && strncasecmp(f->name, name, f->name_len) == 0;
}

static bool value_is(const bd_httpd_field *f, const char *v)
{
	return f->value_len == strlen(v) && strncasecmp(f->value, v, f->value_len) == 0;
}

/* Finds the CRLF that ends the line starting at p; a lone CR or LF is an error. */
static int line_end(char **eol, char *p, char *end, unsigned *status)
{
	for (char *q = p; q < end; q++) {
		if (*q == '\n')
			return fail(status, 400, "a line of the request ends in a bare LF, not CRLF");
		if (*q == '\r') {
			if (q + 1 == end)
				break;
			if (q[1] != '\n')
				return fail(status, 400, "a bare CR in the request head");
			*eol = q;
			return 1;
		}
	}
	return 0;
}

static int parse_request_line(bd_httpd_request *req, char *p, char *eol, unsigned *status)
{
	char *sp1 = memchr(p, ' ', (size_t)(eol - p));
	char *sp2;
	size_t mlen;

	if (sp1 == NULL)
		return fail(status, 400, "malformed request line");
	mlen = (size_t)(sp1 - p);
	if (mlen == 0)
		return fail(status, 400, "malformed request line: no method");
	for (size_t i = 0; i < mlen; i++)
		if (p[i] < 'A' || p[i] > 'Z')
			return fail(status, 400, "malformed request line: the method is not an upper-case token");
	if (mlen > MAX_METHOD)
		return fail(status, 501, "method not implemented");
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (sp2 == NULL)
		return fail(status, 400, "malformed request line");
	if ((size_t)(eol - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/", 5) != 0 || sp2[7] != '.' ||
	    sp2[6] < '0' || sp2[6] > '9' || sp2[8] < '0' || sp2[8] > '9')
		return fail(status, 400, "malformed request line: bad HTTP version");
	if (sp2[6] != '1' || sp2[8] > '1')
		return fail(status, 505, "HTTP version not supported (HTTP/1.0 and HTTP/1.1 are)");
	req->minor_version = sp2[8] - '0';
	req->target = sp1 + 1;
	req->target_len = (size_t)(sp2 - sp1 - 1);
	if (req->target_len == 0 || req->target[0] != '/')
		return fail(status, 400, "the request-target must be an absolute path");
	if (req->target_len > BD_HTTPD_MAX_TARGET)
		return fail(status, 414, "request-target too long");
	if (!target_ok(req->target, req->target_len))
		return fail(status, 400, "the request-target has a byte that is not allowed, or a bad percent escape");
	*sp1 = '\0';
	*sp2 = '\0';
	req->method = p;
	req->head = strcmp(p, "HEAD") == 0;
	if (req->head)
		req->method = "GET";
	{
		const char *q = memchr(req->target, '?', req->target_len);

		req->path_len = q ? (size_t)(q - req->target) : req->target_len;
	}
	return 0;
}

static int parse_field(bd_httpd_request *req, char *p, char *eol, unsigned *status)
{
	char *colon = memchr(p, ':', (size_t)(eol - p));
	bd_httpd_field *f;
	const char *v, *ve;

	if (p[0] == ' ' || p[0] == '\t')
		return fail(status, 400, "obsolete line folding in the request head");
	if (colon == NULL || colon == p)
		return fail(status, 400, "malformed header field");
	for (const char *q = p; q < colon; q++)
		if (!is_tchar((unsigned char)*q))
			return fail(status, 400, "malformed header field name");
	for (const char *q = colon + 1; q < eol; q++) {
		unsigned char c = (unsigned char)*q;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(status, 400, "a control byte in a header field value");
	}
	if (req->nfields == BD_HTTPD_MAX_HEADERS)
		return fail(status, 431, "too many header fields");
	v = colon + 1;
	ve = eol;
	while (v < ve && (*v == ' ' || *v == '\t'))
		v++;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	f = &req->fields[req->nfields++];
	f->name = p;
	f->name_len = (size_t)(colon - p);
	f->value = v;
	f->value_len = (size_t)(ve - v);
	return 0;
}

static int parse_u64_field(uint64_t *out, const bd_httpd_field *f, unsigned *status)
{
	uint64_t v = 0;

	if (f->value_len == 0 || f->value_len > 18)
		return fail(status, 400, "malformed Content-Length");
	for (size_t i = 0; i < f->value_len; i++) {
		if (f->value[i] < '0' || f->value[i] > '9')
			return fail(status, 400, "malformed Content-Length");
		v = v * 10 + (uint64_t)(f->value[i] - '0');
	}
	*out = v;
	return 0;
}

/* Connection: a comma-separated token list; only "close" and "keep-alive" mean anything. */
static void apply_connection(bd_httpd_framing *fr, const bd_httpd_field *f)
{
	const char *p = f->value, *end = f->value + f->value_len;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *te = comma ? comma : end;
		const char *ts = p;

		while (ts < te && (*ts == ' ' || *ts == '\t'))
			ts++;
		while (te > ts && (te[-1] == ' ' || te[-1] == '\t'))
			te--;
		if ((size_t)(te - ts) == 5 && strncasecmp(ts, "close", 5) == 0)
			fr->keep_alive = false;
		else if ((size_t)(te - ts) == 10 && strncasecmp(ts, "keep-alive", 10) == 0)
			fr->keep_alive = true;
		p = comma ? comma + 1 : end;
	}
}

static int apply_framing(bd_httpd_framing *fr, const bd_httpd_request *req, unsigned *status)
{
	const bd_httpd_field *cl = NULL, *te = NULL, *host = NULL, *conn = NULL;
	int err;

	for (size_t i = 0; i < req->nfields; i++) {
		const bd_httpd_field *f = &req->fields[i];

		if (field_is(f, "content-length")) {
			if (cl != NULL)
				return fail(status, 400, "more than one Content-Length");
			cl = f;
		} else if (field_is(f, "transfer-encoding")) {
			if (te != NULL)
				return fail(status, 400, "more than one Transfer-Encoding");
			te = f;
		} else if (field_is(f, "host")) {
			if (host != NULL)
				return fail(status, 400, "more than one Host");
			host = f;
		} else if (field_is(f, "connection")) {
			conn = f;
		} else if (field_is(f, "expect")) {
			if (!value_is(f, "100-continue"))
				return fail(status, 417, "only \"Expect: 100-continue\" is understood");
			fr->expect_continue = true;
		}
	}
	if (req->minor_version == 1 && host == NULL)
		return fail(status, 400, "an HTTP/1.1 request needs a Host header");
	if (te != NULL) {
		if (cl != NULL)
			return fail(status, 400, "both Transfer-Encoding and Content-Length");
		if (req->minor_version == 0)
			return fail(status, 400, "Transfer-Encoding in an HTTP/1.0 request");
		if (!value_is(te, "chunked"))
			return fail(status, 501, "the only transfer coding understood is \"chunked\"");
		fr->chunked = true;
	} else if (cl != NULL && (err = parse_u64_field(&fr->content_length, cl, status)) != 0) {
		return err;
	}
	fr->keep_alive = req->minor_version == 1;
	if (conn != NULL)
		apply_connection(fr, conn);
	if (!fr->chunked && fr->content_length == 0)
		fr->expect_continue = false;
	return 0;
}

int bd_httpd_parse_head(bd_httpd_request *req, bd_httpd_framing *framing, size_t *head_len, unsigned *status,
	char *buf, size_t len)
{
	char *p = buf, *end = buf + len;
	char *eol = NULL;
	int rc;

	*status = 0;
	memset(framing, 0, sizeof(*framing));
	req->nfields = 0;
	req->body = NULL;
	req->body_len = 0;
	/* RFC 9112 §2.2: empty lines before the request line are skipped. */
	while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	if ((rc = line_end(&eol, p, end, status)) <= 0) {
		if (rc == 0 && (size_t)(end - p) > BD_HTTPD_MAX_TARGET + MAX_METHOD + 16)
			return fail(status, 414, "request-target too long");
		if (rc == 0 && len > BD_HTTPD_MAX_HEAD)
			return fail(status, 431, "request head too large");
		return rc;
	}
	/* Re-parsed from the start each time more bytes arrive: heads are small (16 KiB). */
	{
		char *rl_end = eol;
		char *q = rl_end + 2;

		for (;;) {
			if ((rc = line_end(&eol, q, end, status)) < 0)
				return rc;
			if (rc == 0) {
				if (len > BD_HTTPD_MAX_HEAD)
					return fail(status, 431, "request head too large");
				return BD_HTTPD_PARSE_MORE;
			}
			if (eol == q)
				break;
			q = eol + 2;
		}
		if ((size_t)(eol + 2 - buf) > BD_HTTPD_MAX_HEAD)
			return fail(status, 431, "request head too large");
		*head_len = (size_t)(eol + 2 - buf);
		/* Now that the whole head is here: parse it for good, writing NULs in place. */
		if ((rc = parse_request_line(req, p, rl_end, status)) != 0)
			return rc;
		for (q = rl_end + 2; q < eol;) {
			char *le = memchr(q, '\r', (size_t)(eol - q) + 1);

			if ((rc = parse_field(req, q, le, status)) != 0)
				return rc;
			q = le + 2;
		}
	}
	if ((rc = apply_framing(framing, req, status)) != 0)
		return rc;
	return BD_HTTPD_PARSE_DONE;
}

enum { CH_SIZE = 0, CH_DATA, CH_DATA_CRLF, CH_TRAILER, CH_DONE };

int bd_httpd_parse_chunked(bd_httpd_chunked *st, unsigned *status, uint8_t *buf, size_t len, size_t max_body)
{
	*status = 0;
	while (st->state != CH_DONE) {
		size_t avail = len - st->in;

		switch (st->state) {
		case CH_SIZE: {
			const uint8_t *p = buf + st->in;
			size_t i = 0;
			uint64_t size = 0;

			/* Each byte is judged as it arrives, so input fed in pieces fails where it
			 * fails whole. */
			while (i < avail && i <= 16 && tl_hex_digit(p[i]) >= 0)
				i++;
			if (i > 16)
				return fail(status, 400, "malformed chunk size line (more than 16 hex digits)");
			if (i == avail)
				return BD_HTTPD_PARSE_MORE;
			if (p[i] == '\n')
				return fail(status, 400, "a chunk size line ends in a bare LF");
			if (p[i] != '\r' || i == 0)
				return fail(status, 400, "malformed chunk size line (chunk extensions are not accepted)");
			if (i + 1 == avail)
				return BD_HTTPD_PARSE_MORE;
			if (p[i + 1] != '\n')
				return fail(status, 400, "a bare CR in a chunk size line");
			for (size_t k = 0; k < i; k++)
				size = size << 4 | (unsigned)tl_hex_digit(p[k]);
			if (size > max_body || st->out + size > max_body) {
				*status = 413;
				return tl_error_set(TL_E_INPUT, "request body larger than %zu bytes", max_body);
			}
			st->in += i + 2;
			st->left = size;
			st->state = size ? CH_DATA : CH_TRAILER;
			break;
		}
		case CH_DATA: {
			size_t n = avail < st->left ? avail : (size_t)st->left;

			if (n == 0)
				return BD_HTTPD_PARSE_MORE;
			memmove(buf + st->out, buf + st->in, n);
			st->out += n;
			st->in += n;
			st->left -= n;
			if (st->left == 0)
				st->state = CH_DATA_CRLF;
			break;
		}
		case CH_DATA_CRLF:
		case CH_TRAILER:
			/* A wrong first byte is refused at once, not after waiting for a second. */
			if (avail == 0 || (avail == 1 && buf[st->in] == '\r'))
				return BD_HTTPD_PARSE_MORE;
			if (buf[st->in] != '\r' || buf[st->in + 1] != '\n')
				return fail(status, 400, st->state == CH_TRAILER ?
					"trailer fields are not accepted after the last chunk" :
					"a chunk's data does not end in CRLF");
			st->in += 2;
			st->state = st->state == CH_TRAILER ? CH_DONE : CH_SIZE;
			break;
		}
	}
	return BD_HTTPD_PARSE_DONE;
}
