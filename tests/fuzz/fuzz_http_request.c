/*
 * The HTTP request parser reads bytes from anyone who can connect. Besides not crashing:
 * what it finds lies inside the input, a head that is complete in a prefix of the input is
 * parsed the same way in the whole input (bytes arriving in pieces change nothing), and the
 * same holds for a chunked body after the head.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/httpd.h"

#define MAX_BODY 4096

struct result {
	int rc;
	unsigned status;
	size_t head_len;
	bd_httpd_request req;
	bd_httpd_framing fr;
};

static void parse(struct result *r, char *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->rc = bd_httpd_parse_head(&r->req, &r->fr, &r->head_len, &r->status, buf, len);
}

static void check_inside(const struct result *r, const char *buf, size_t len)
{
	if (r->rc != BD_HTTPD_PARSE_DONE)
		return;
	if (r->head_len > len || r->head_len > BD_HTTPD_MAX_HEAD || r->req.target < buf ||
	    r->req.target + r->req.target_len >= buf + r->head_len || r->req.target[r->req.target_len] != '\0' ||
	    r->req.path_len > r->req.target_len || r->req.target_len > BD_HTTPD_MAX_TARGET ||
	    r->req.nfields > BD_HTTPD_MAX_HEADERS)
		abort();
	for (size_t i = 0; i < r->req.nfields; i++) {
		const bd_httpd_field *f = &r->req.fields[i];

		if (f->name < buf || f->name + f->name_len > buf + r->head_len || f->value < buf ||
		    f->value + f->value_len > buf + r->head_len || f->name_len == 0)
			abort();
	}
}

static int dechunk(bd_httpd_chunked *st, unsigned *status, uint8_t *buf, size_t len)
{
	memset(st, 0, sizeof(*st));
	return bd_httpd_parse_chunked(st, status, buf, len, MAX_BODY);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *whole, *part;
	struct result w, p;
	size_t split;

	if (size < 1)
		return 0;
	/* The first byte says where the input is cut in two. */
	split = size > 1 ? data[0] % size : 0;
	data++;
	size--;
	whole = malloc(size + 1);
	part = malloc(size + 1);
	if (whole == NULL || part == NULL)
		abort();
	memcpy(whole, data, size);
	memcpy(part, data, size);
	parse(&w, whole, size);
	check_inside(&w, whole, size);
	if (w.rc < 0 && (w.status < 400 || w.status > 505))
		abort();
	parse(&p, part, split);
	if (p.rc != BD_HTTPD_PARSE_MORE && (p.rc != w.rc || p.status != w.status || p.head_len != w.head_len))
		abort();
	if (w.rc == BD_HTTPD_PARSE_DONE && w.fr.chunked) {
		size_t body = size - w.head_len, cut = split < body ? split : body;
		bd_httpd_chunked sw, sp;
		unsigned stw, stp;
		int rw, rp;

		memcpy(part, data, size);
		rw = dechunk(&sw, &stw, (uint8_t *)whole + w.head_len, body);
		if (rw == BD_HTTPD_PARSE_DONE && (sw.out > sw.in || sw.in > body || sw.out > MAX_BODY))
			abort();
		rp = dechunk(&sp, &stp, (uint8_t *)part + w.head_len, cut);
		if (rp == BD_HTTPD_PARSE_MORE)
			rp = bd_httpd_parse_chunked(&sp, &stp, (uint8_t *)part + w.head_len, body, MAX_BODY);
		if (rp != rw || stp != stw || (rw == BD_HTTPD_PARSE_DONE && (sp.in != sw.in || sp.out != sw.out ||
								   memcmp(whole + w.head_len, part + w.head_len, sw.out) != 0)))
			abort();
	}
	free(whole);
	free(part);
	return 0;
}
