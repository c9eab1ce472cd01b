/*
 * The diff response reader (bundled/diff_response.h): no input may crash it, and whatever
 * it accepts must write back to exactly the bytes it read (one canonical framing, so an agent
 * and a cache never disagree on what a response says).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/diff_response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bd_diff_response *r = malloc(sizeof(*r));
	tl_buf out = tl_buf_make(BD_DIFF_RESPONSE_MAX_SIZE);

	if (r == NULL)
		abort();
	if (bd_diff_response_read(r, data, size) == 0) {
		if (bd_diff_response_write(&out, r) != 0 || out.len != size || memcmp(out.data, data, size) != 0)
			abort();
	}
	tl_buf_free(&out);
	free(r);
	return 0;
}
