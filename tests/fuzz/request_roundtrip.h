/*
 * The property the fuzz targets of the signed request bodies share: a body the reader
 * accepts is written again by the writer and read back to the same members; and jansson,
 * which the reader's fast path stands in for (request.c, flat_read), accepts it too, with
 * the same text members.
 */
#ifndef BUNDLED_FUZZ_REQUEST_ROUNDTRIP_H
#define BUNDLED_FUZZ_REQUEST_ROUNDTRIP_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bundled/request.h"

typedef int (*request_parse_fn)(bd_signed_request *out, const uint8_t *body, size_t len);
/* Writes the body of `r` (the members its kind has). */
typedef int (*request_write_fn)(tl_buf *out, const bd_signed_request *r);

static int same_member(const uint8_t *x, size_t xn, const uint8_t *y, size_t yn)
{
	return xn == yn && (xn == 0 || memcmp(x, y, xn) == 0);
}

/* The text member `name` of `doc` is exactly x[0..xn) (absent: xn is 0). */
static int same_text(const json_t *doc, const char *name, const uint8_t *x, size_t xn)
{
	const json_t *v = json_object_get(doc, name);

	if (v == NULL)
		return xn == 0;
	return json_is_string(v) && same_member(x, xn, (const uint8_t *)json_string_value(v), json_string_length(v));
}

static int fuzz_signed_request(const uint8_t *data, size_t size, request_parse_fn parse, request_write_fn write)
{
	bd_signed_request a, b;
	tl_buf out = tl_buf_make(BD_REQUEST_MAX_BODY);

	json_t *doc;

	if (parse(&a, data, size) != 0)
		return 0;
	doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (doc == NULL || !same_text(doc, "entry", a.entry, a.entry_len) ||
	    !same_text(doc, "revocation", a.revocation, a.revocation_len))
		abort();
	json_decref(doc);
	if (write(&out, &a) != 0 || parse(&b, out.data, out.len) != 0 ||
	    !same_member(a.entry, a.entry_len, b.entry, b.entry_len) ||
	    !same_member(a.revocation, a.revocation_len, b.revocation, b.revocation_len) ||
	    !same_member(a.bundle, a.bundle_len, b.bundle, b.bundle_len))
		abort();
	bd_signed_request_free(&a);
	bd_signed_request_free(&b);
	tl_buf_free(&out);
	return 0;
}

#endif
