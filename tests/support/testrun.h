/*
 * Runs a program built beside the test runner (bundlectl) as a user would: from a shell in
 * the source root, keeping its exit status and what it printed, for suites that check a
 * command's exit code, stdout and stderr.
 */
#ifndef BUNDLED_TESTRUN_H
#define BUNDLED_TESTRUN_H

#include <stddef.h>

/* What a run printed. Both texts are NUL-terminated ("" when nothing was printed); out may
 * hold NUL bytes, so out_len counts every byte. */
struct tu_output {
	char *out, *err;
	size_t out_len, err_len;
};

/* Runs "'<tu_bin_path(bin)>' <args>" (args is shell text from fmt; an absolute `bin` is run
 * as it is, e.g. a test peer from tu_peer_path) in the source root, with
 * stdout and stderr going through files in `dir`; replaces what *o held. Returns the exit
 * status (or -1). */
int tu_run(struct tu_output *o, const char *dir, const char *bin, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

void tu_output_free(struct tu_output *o);

/* Asserts the run said "invalid": exit status 1, exactly one line on stderr and it contains
 * `reason`, nothing on stdout. */
void tu_assert_invalid(const struct tu_output *o, int status, const char *reason);

/* How many times the file at `path` holds `what` (0 without the file). */
size_t tu_file_count(const char *path, const char *what);

/* Whether the file at `path` holds `what` at least n times, waiting at most `seconds` (a
 * bound on a hang, not a timing check). */
int tu_file_wait(const char *path, const char *what, size_t n, int seconds);

/* "<dir>/<name>" in one of four static buffers used in turn, so that a few calls may share
 * one argument list. */
const char *tu_path_in(const char *dir, const char *name);

#endif
