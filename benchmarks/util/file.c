#include "file.h"

#include <stdio.h>
#include <stdlib.h>

#include "translog/bytes.h"

uint8_t *bench_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	tl_buf b = tl_buf_make(max);
	uint8_t chunk[65536];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (tl_buf_append(&b, chunk, n) != 0) {
			fprintf(stderr, "%s: larger than %zu bytes\n", path, max);
			exit(1);
		}
	}
	if (ferror(f) || tl_buf_append(&b, "", 0) != 0) {
		fprintf(stderr, "%s: read error\n", path);
		exit(1);
	}
	fclose(f);
	return tl_buf_detach(&b, len);
}
