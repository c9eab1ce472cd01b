/*
 * The body of POST /v1/domains/<td>/revocations. Besides not crashing, every body the reader accepts is
 * written again by the writer and read back to the same members.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/request.h"

static int same(const uint8_t *x, size_t xn, const uint8_t *y, size_t yn)
{
	return xn == yn && (xn == 0 || memcmp(x, y, xn) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bd_signed_request a, b;
	tl_buf out = tl_buf_make(BD_REQUEST_MAX_BODY);

	if (bd_revocation_request_parse(&a, data, size) != 0)
		return 0;
	if (bd_revocation_request_write(&out, a.revocation, a.revocation_len, a.entry, a.entry_len) != 0 || bd_revocation_request_parse(&b, out.data, out.len) != 0 ||
	    !same(a.entry, a.entry_len, b.entry, b.entry_len) ||
	    !same(a.revocation, a.revocation_len, b.revocation, b.revocation_len) ||
	    !same(a.bundle, a.bundle_len, b.bundle, b.bundle_len))
		abort();
	bd_signed_request_free(&a);
	bd_signed_request_free(&b);
	tl_buf_free(&out);
	return 0;
}
