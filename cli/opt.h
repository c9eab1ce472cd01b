/*
 * bundlectl's one option parser: each command describes its options in a table and gets
 * the same rules, messages and exit codes as every other command.
 *
 *     const char *format = "spiffe", *server = NULL, *witnesses[8];
 *     size_t n_witnesses = 0;
 *     int json = 0;
 *     const struct cli_opt opts[] = {
 *         CLI_OPT_VALUE("format", &format),
 *         CLI_OPT_VALUE_ENV("server", "BUNDLED_SERVER", &server),
 *         CLI_OPT_LIST("witness", witnesses, &n_witnesses),
 *         CLI_OPT_FLAG("json", &json),
 *     };
 *     const struct cli_cmd_spec spec = CLI_SPEC("mycmd", USAGE, HELP, opts, 1, 1, "FILE");
 *     const char *args[1];
 *     size_t nargs;
 *
 *     if ((rc = cli_opt_parse(args, &nargs, &spec, argc, argv)) != CLI_OK)
 *         return cli_opt_exit(rc);
 *
 * The rules:
 * - Long options only: "--name VALUE" or "--name=VALUE" for a value, "--name" for a flag
 *   ("--flag=x" is an error). A value is the next argument whatever it looks like, so
 *   "--vkey-file -" reads stdin.
 * - Options and operands mix in any order; "--" ends the options (everything after it is
 *   an operand) and "-" alone is an operand (stdin, by convention).
 * - A value option given twice keeps the last value; a list option keeps each value in
 *   order, up to the size of its array.
 * - "-h" or "--help" anywhere before "--" (and not as an option's value) prints the
 *   command's help on stdout, and nothing else happens: cli_opt_parse returns CLI_OPT_HELP.
 * - A value option with an environment variable takes the variable's value when the
 *   command line does not give the option; an empty variable counts as unset.
 * - Errors print "bundlectl <cmd>: <reason>" and the usage text on stderr and return
 *   CLI_USAGE (exit code 2): "unknown option '--x'", "missing value for --x",
 *   "option --x takes no value", "at most N --x options", "missing <operands>",
 *   "unexpected argument 'y'".
 */
#ifndef BUNDLECTL_OPT_H
#define BUNDLECTL_OPT_H

#include <stddef.h>
#include <stdio.h>

#include "translog/error.h"

/* cli_opt_parse's answer when it printed the help: the command exits with CLI_OK. */
#define CLI_OPT_HELP (-1)

/* The most options one command may declare (a fixed bound keeps the parser allocation-free). */
#define CLI_OPT_MAX 64

enum cli_opt_kind { CLI_OPT_KIND_FLAG, CLI_OPT_KIND_VALUE, CLI_OPT_KIND_LIST };

struct cli_opt {
	const char *name; /* without the leading "--" */
	enum cli_opt_kind kind;
	const char *env;    /* VALUE only: the environment variable that stands in, or NULL */
	int *flag;          /* FLAG: set to 1 when given */
	const char **value; /* VALUE: the argument (borrowed from argv or the environment) */
	const char **items; /* LIST: the values in order, at most `max` of them */
	size_t *n_items;
	size_t max;
};

#define CLI_OPT_FLAG(name, flag) { (name), CLI_OPT_KIND_FLAG, NULL, (flag), NULL, NULL, NULL, 0 }
#define CLI_OPT_VALUE(name, value) { (name), CLI_OPT_KIND_VALUE, NULL, NULL, (value), NULL, NULL, 0 }
#define CLI_OPT_VALUE_ENV(name, env, value) { (name), CLI_OPT_KIND_VALUE, (env), NULL, (value), NULL, NULL, 0 }
/* `array` is a real array (not a pointer): its size is the most values the option takes. */
#define CLI_OPT_LIST(name, array, n) \
	{ (name), CLI_OPT_KIND_LIST, NULL, NULL, NULL, (array), (n), sizeof(array) / sizeof((array)[0]) }

/* What a command accepts, and the texts it prints. */
struct cli_cmd_spec {
	const char *cmd;   /* "verify-proof": the messages' prefix is "bundlectl verify-proof: " */
	const char *usage; /* printed on stderr after a usage error ("usage: bundlectl ...\n") */
	const char *help;  /* printed on stdout for --help; NULL prints `usage` */
	const struct cli_opt *opts;
	size_t n_opts;
	size_t min_args, max_args; /* how many operands */
	const char *args_name;     /* the operands as the usage names them: "FILE" */
};

#define CLI_SPEC(cmd, usage, help, opts, min_args, max_args, args_name) \
	{ (cmd), (usage), (help), (opts), sizeof(opts) / sizeof((opts)[0]), (min_args), (max_args), (args_name) }

/* Parses argv (argv[0] is the command's name) against `spec`: fills the options' targets
 * and puts the operands, in order, into args[0 .. *nargs - 1] (args has room for
 * spec->max_args). Returns CLI_OK, CLI_OPT_HELP after printing the help on stdout, or
 * CLI_USAGE after printing the reason and the usage on stderr. Options whose targets were
 * not touched keep the values the caller put there (the defaults). */
int cli_opt_parse(const char **args, size_t *nargs, const struct cli_cmd_spec *spec, int argc, char **argv);

/* cli_opt_parse writing to the given streams instead of stdout and stderr. */
int cli_opt_parse_to(const char **args, size_t *nargs, const struct cli_cmd_spec *spec, int argc, char **argv,
	FILE *out, FILE *err);

/* The exit code for a result of cli_opt_parse other than CLI_OK: 0 after the help, else 2. */
int cli_opt_exit(int rc);

/* For the checks a command makes after parsing (a required option, a value's range): prints
 * "bundlectl <cmd>: <reason>" and the usage on stderr and returns CLI_USAGE. */
int cli_opt_usage_error(const struct cli_cmd_spec *spec, const char *fmt, ...) TL_PRINTF(2, 3);

#endif
