/*
 * Helpers shared by the Check suites: files, temporary directories and the paths of the
 * project's own vectors (tests/vectors/) and of the public research data (../shared/research/),
 * which a checkout may not have: suites that read it skip those cases when it is absent.
 */
#ifndef BUNDLED_TESTUTIL_H
#define BUNDLED_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Reads a whole file; NULL if it cannot. The buffer is NUL-terminated (not counted). */
uint8_t *tu_read_file(const char *path, size_t *len);

/* Writes a file (creating or truncating it); 0 on success. */
int tu_write_file(const char *path, const void *data, size_t len);

/* "<source root>/<rel>", in a static buffer per call site's use (copy it if you keep it). */
const char *tu_source_path(const char *rel);

/* "<source root>/../shared/research/<rel>" if that exists, else NULL. */
const char *tu_research_path(const char *rel);

/* A fresh empty directory under $TMPDIR (or /tmp); the caller removes it with tu_rm_rf. */
char *tu_mkdtemp(void);
void tu_rm_rf(const char *path);

/* Runs a shell command, returns its exit status (or -1). */
int tu_system(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Whether Check runs each test in a forked process (not with CK_FORK=no). Suites that fork
 * and kill processes (crash, power loss) need it: Check's own process may be threaded. */
int tu_check_forks(void);

/* A suite that cannot run here calls this from its constructor and returns a suite without
 * tests: the runner names it before Check's summary, so a skip never counts as a pass. */
void tu_suite_left_out(const char *suite, const char *why);

/* Prints one note per suite left out; returns how many. */
int tu_print_left_out(void);

/* The formatted string, in a buffer that fits it (free it). */
char *tu_vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
