/*
 * The body of POST /v1/domains. Besides not crashing, every body the reader accepts is
 * written again by the writer and read back to the same request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bd_register_request a, b;
	const char *keys[BD_ENTRY_MAX_KEYS];
	tl_buf out = tl_buf_make(1u << 20);

	if (bd_register_request_parse(&a, data, size) != 0)
		return 0;
	for (size_t i = 0; i < a.n_keys; i++)
		keys[i] = a.keys[i];
	if (bd_register_request_write(&out, a.domain, keys, a.n_keys) != 0 ||
	    bd_register_request_parse(&b, out.data, out.len) != 0 || memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	tl_buf_free(&out);
	return 0;
}
