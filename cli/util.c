#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "translog/bytes.h"

int cli_read_file(uint8_t **out, size_t *len, const char *path, size_t max)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	tl_buf buf = tl_buf_make(max);
	uint8_t chunk[65536];
	size_t n;
	int rc = CLI_USAGE;

	if (f == NULL) {
		fprintf(stderr, "bundlectl: %s: %s\n", path, strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (tl_buf_append(&buf, chunk, n) != 0) {
			fprintf(stderr, "bundlectl: %s: larger than %zu bytes\n", path, max);
			goto out;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "bundlectl: %s: read error\n", path);
		goto out;
	}
	if (tl_buf_append(&buf, "", 0) != 0) /* an empty file still gets a buffer */
		goto out;
	*out = tl_buf_detach(&buf, len);
	rc = CLI_OK;
out:
	if (f != NULL && f != stdin)
		fclose(f);
	tl_buf_free(&buf);
	return rc;
}

int cli_fail(const char *cmd, int err)
{
	fprintf(stderr, "bundlectl %s: %s\n", cmd, tl_error_message());
	switch (err) {
	case TL_E_INPUT:
	case TL_E_CONFLICT:
	case TL_E_UNAUTHORIZED:
		return CLI_INVALID;
	default:
		return CLI_USAGE;
	}
}
