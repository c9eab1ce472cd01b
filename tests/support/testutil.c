#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

uint8_t *tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	if ((buf = malloc((size_t)size + 1)) == NULL)
		goto out;
	if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[size] = '\0';
	*len = (size_t)size;
out:
	fclose(f);
	return buf;
}

int tu_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

const char *tu_source_path(const char *rel)
{
	static _Thread_local char path[4096];

	snprintf(path, sizeof(path), "%s/%s", SOURCE_ROOT, rel);
	return path;
}

const char *tu_research_path(const char *rel)
{
	static _Thread_local char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/../shared/research/%s", SOURCE_ROOT, rel);
	return stat(path, &st) == 0 ? path : NULL;
}

char *tu_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path = malloc(4096);

	if (path == NULL)
		return NULL;
	snprintf(path, 4096, "%s/bundled-test-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(path) == NULL) {
		free(path);
		return NULL;
	}
	return path;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void tu_rm_rf(const char *path)
{
	if (path != NULL)
		nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_vformat(const char *fmt, va_list ap)
{
	va_list again;
	char *s;
	int n;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, again);
	va_end(again);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		abort(); /* a test helper: no way on without the string */
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

int tu_system(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int status;

	/* Sized to fit: a command cut short would run something else (the peer suites pass
	 * every vector's path on one command line). */
	va_start(ap, fmt);
	cmd = tu_vformat(fmt, ap);
	va_end(ap);
	status = system(cmd);
	free(cmd);
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int tu_check_forks(void)
{
	const char *f = getenv("CK_FORK");

	return f == NULL || strcmp(f, "no") != 0;
}

enum { MAX_LEFT_OUT = 16 };
static struct left_out {
	const char *suite, *why;
} left_out[MAX_LEFT_OUT];
static int nleft_out;

void tu_suite_left_out(const char *suite, const char *why)
{
	if (nleft_out < MAX_LEFT_OUT)
		left_out[nleft_out++] = (struct left_out){ suite, why };
}

int tu_print_left_out(void)
{
	for (int i = 0; i < nleft_out; i++)
		printf("note: suite %s left out: %s\n", left_out[i].suite, left_out[i].why);
	return nleft_out;
}
