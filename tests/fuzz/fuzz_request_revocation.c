/*
 * The body of POST /v1/domains/<td>/revocations: the reader never crashes, and what it accepts survives
 * a round trip through the writer (request_roundtrip.h).
 */
#include "request_roundtrip.h"

static int write_body(tl_buf *out, const bd_signed_request *r)
{
	return bd_revocation_request_write(out, r->revocation, r->revocation_len, r->entry, r->entry_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_signed_request(data, size, bd_revocation_request_parse, write_body);
}
