/*
 * The tile path parser reads HTTP request paths. Besides not crashing, every path it accepts
 * must be canonical: formatting the parsed tile gives back exactly the input bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "translog/tile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tl_tile t;
	char out[TL_TILE_PATH_MAX];

	if (tl_tile_path_parse(&t, (const char *)data, size) != 0)
		return 0;
	if (tl_tile_path_format(out, &t) != 0 || strlen(out) != size || memcmp(out, data, size) != 0)
		abort();
	return 0;
}
