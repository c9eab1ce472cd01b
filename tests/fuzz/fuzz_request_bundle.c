/*
 * The body of POST /v1/domains/<td>/bundles: the reader never crashes, and what it accepts survives
 * a round trip through the writer (request_roundtrip.h).
 */
#include "request_roundtrip.h"

static int write_body(tl_buf *out, const bd_signed_request *r)
{
	return bd_bundle_request_write(out, r->entry, r->entry_len, r->bundle, r->bundle_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_signed_request(data, size, bd_bundle_request_parse, write_body);
}
