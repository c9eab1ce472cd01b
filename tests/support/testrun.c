#include "testrun.h"

#include <check.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testdaemon.h"
#include "testhttp.h"
#include "testutil.h"

/* A captured stream: the file's bytes, or "" when there is none. */
static char *slurp(const char *dir, const char *name, size_t *len)
{
	uint8_t *data = tu_read_file(tu_path_in(dir, name), len);

	if (data == NULL) {
		*len = 0;
		return strdup("");
	}
	return (char *)data;
}

/* What `bundlectl <command> ... --json` printed goes to the schema check's record (testhttp.h). */
static void record_json_output(const char *bin, const char *args, int status, const struct tu_output *o)
{
	char command[32];
	const char *p = args;

	if (strcmp(bin, "bundlectl") != 0 || o->out_len == 0 || sscanf(args, "%31[a-z0-9-]", command) != 1)
		return;
	while ((p = strstr(p, "--json")) != NULL && !((p == args || p[-1] == ' ') && (p[6] == '\0' || p[6] == ' ')))
		p += 6;
	if (p != NULL)
		th_record(&(struct th_exchange){ .method = "bundlectl", .target = command, .status = status,
			.type = "application/json", .body = o->out, .len = o->out_len });
}

int tu_run(struct tu_output *o, const char *dir, const char *bin, const char *fmt, ...)
{
	const char *path = bin[0] == '/' ? bin : tu_bin_path(bin);
	char *args;
	va_list ap;
	int status;

	ck_assert_ptr_nonnull(path);
	va_start(ap, fmt);
	args = tu_vformat(fmt, ap);
	va_end(ap);
	tu_output_free(o);
	status = tu_system("cd '%s' && '%s' %s >'%s/stdout' 2>'%s/stderr'", tu_source_path(""), path, args, dir, dir);
	o->out = slurp(dir, "stdout", &o->out_len);
	o->err = slurp(dir, "stderr", &o->err_len);
	record_json_output(bin, args, status, o);
	free(args);
	return status;
}

void tu_output_free(struct tu_output *o)
{
	free(o->out);
	free(o->err);
	memset(o, 0, sizeof(*o));
}

void tu_assert_invalid(const struct tu_output *o, int status, const char *reason)
{
	ck_assert_int_eq(status, 1);
	ck_assert_msg(strstr(o->err, reason) != NULL, "stderr '%s' lacks '%s'", o->err, reason);
	ck_assert_ptr_eq(strchr(o->err, '\n'), o->err + strlen(o->err) - 1);
	ck_assert_uint_eq(o->out_len, 0);
}

const char *tu_path_in(const char *dir, const char *name)
{
	static char paths[4][PATH_MAX];
	static unsigned next;
	char *path = paths[next++ % 4];

	snprintf(path, PATH_MAX, "%s/%s", dir, name);
	return path;
}

size_t tu_file_count(const char *path, const char *what)
{
	size_t len, n = 0;
	char *text = (char *)tu_read_file(path, &len);

	for (const char *p = text; p != NULL && (p = strstr(p, what)) != NULL; p++)
		n++;
	free(text);
	return n;
}

int tu_file_wait(const char *path, const char *what, size_t n, int seconds)
{
	for (int i = 0; i <= seconds * 10; i++) {
		if (tu_file_count(path, what) >= n)
			return 1;
		usleep(100 * 1000);
	}
	return 0;
}
