/*
 * The property the fuzz targets of the signed request bodies share: a body the reader
 * accepts is written again by the writer and read back to the same members.
 */
#ifndef BUNDLED_FUZZ_REQUEST_ROUNDTRIP_H
#define BUNDLED_FUZZ_REQUEST_ROUNDTRIP_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/request.h"

typedef int (*request_parse_fn)(bd_signed_request *out, const uint8_t *body, size_t len);
/* Writes the body of `r` (the members its kind has). */
typedef int (*request_write_fn)(tl_buf *out, const bd_signed_request *r);

static int same_member(const uint8_t *x, size_t xn, const uint8_t *y, size_t yn)
{
	return xn == yn && (xn == 0 || memcmp(x, y, xn) == 0);
}

static int fuzz_signed_request(const uint8_t *data, size_t size, request_parse_fn parse, request_write_fn write)
{
	bd_signed_request a, b;
	tl_buf out = tl_buf_make(BD_REQUEST_MAX_BODY);

	if (parse(&a, data, size) != 0)
		return 0;
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
