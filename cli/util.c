#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "translog/bytes.h"
#include "translog/text.h"

/* Longer messages are cut (and end in "..." once made printable). */
#define CLI_MAX_MESSAGE 2048

void cli_verror(FILE *out, const char *cmd, const char *fmt, va_list ap)
{
	char raw[CLI_MAX_MESSAGE], shown[4 * CLI_MAX_MESSAGE];

	if (vsnprintf(raw, sizeof(raw), fmt, ap) < 0)
		raw[0] = '\0';
	tl_text_printable_line(shown, sizeof(shown), raw, strlen(raw));
	if (cmd != NULL)
		fprintf(out, "bundlectl %s: %s\n", cmd, shown);
	else
		fprintf(out, "bundlectl: %s\n", shown);
}

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_verror(stderr, cmd, fmt, ap);
	va_end(ap);
}

void cli_log(const char *level, const char *msg, const char *fmt, ...)
{
	char fields[CLI_MAX_MESSAGE], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(fields, sizeof(fields), fmt, ap) < 0)
		fields[0] = '\0';
	va_end(ap);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "ts=%s level=%s msg=\"%s\"%s%s\n", stamp, level, msg, fields[0] ? " " : "", fields);
}

int cli_read_file(uint8_t **out, size_t *len, const char *path, size_t max)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	tl_buf buf = tl_buf_make(max);
	uint8_t chunk[65536];
	size_t n;
	int rc = CLI_USAGE;

	if (f == NULL) {
		cli_error(NULL, "%s: %s", path, strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (tl_buf_append(&buf, chunk, n) != 0) {
			cli_error(NULL, "%s: larger than %zu bytes", path, max);
			goto out;
		}
	}
	if (ferror(f)) {
		cli_error(NULL, "%s: read error", path);
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
	cli_error(cmd, "%s", tl_error_message());
	switch (err) {
	case TL_E_INPUT:
	case TL_E_CONFLICT:
	case TL_E_UNAUTHORIZED:
		return CLI_INVALID;
	default:
		return CLI_USAGE;
	}
}
