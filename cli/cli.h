/*
 * bundlectl's shared conventions. Each command lives in cli/cmd_<name>.c and defines
 *     const struct cli_command cli_cmd_<name> = { "name", "one-line summary", run };
 * The Makefile registers every such definition, so a new command is a new file. A command
 * reads its options with the table-driven parser in opt.h.
 *
 * Exit codes (documented in --help): 0 valid/success, 1 invalid (a verification or
 * validation said no; one line on stderr says why), 2 usage or I/O error.
 */
#ifndef BUNDLECTL_CLI_H
#define BUNDLECTL_CLI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "translog/error.h"

enum { CLI_OK = 0, CLI_INVALID = 1, CLI_USAGE = 2 };

/* The largest file any command reads whole: bundles, checkpoints and proofs are far smaller. */
#define CLI_MAX_FILE (64u << 20)

struct cli_command {
	const char *name;
	const char *summary;
	/* argv[0] is the command name; returns an exit code. */
	int (*run)(int argc, char **argv);
};

/* The one way bundlectl prints an error or warning line: "bundlectl <cmd>: <message>\n"
 * ("bundlectl: ..." when cmd is NULL) on stderr, with the formatted message made printable
 * (tl_text_printable_line): text quoted from a file or a reply (a CR, an LF, an escape sequence)
 * can neither split the one line nor reach the terminal raw. */
void cli_error(const char *cmd, const char *fmt, ...) TL_PRINTF(2, 3);
/* The same on `out`. */
void cli_verror(FILE *out, const char *cmd, const char *fmt, va_list ap) TL_PRINTF(3, 0);

/* One logfmt line on stderr, as the daemon writes them: ts=... level=... msg="..." and the
 * formatted fields (which quote outside text through tl_text_printable): for the commands that
 * keep running (witness serve, follow). */
void cli_log(const char *level, const char *msg, const char *fmt, ...) TL_PRINTF(3, 4);

/* Reads a whole file ("-" is stdin) of at most `max` bytes; on failure prints
 * "bundlectl: <path>: <reason>" and returns CLI_USAGE. The buffer is NUL-terminated. */
int cli_read_file(uint8_t **out, size_t *len, const char *path, size_t max);

/* Prints "bundlectl <cmd>: <message>" (cli_error) and returns the exit code that fits a tl_err: 1 for bad
 * input, conflicts and failed signatures (the thing checked is invalid), 2 otherwise. */
int cli_fail(const char *cmd, int err);

#endif
