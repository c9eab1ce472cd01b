#include "opt.h"

#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage_error(const struct cli_cmd_spec *spec, FILE *err, const char *fmt, va_list ap)
{
	cli_verror(err, spec->cmd, fmt, ap);
	fputs(spec->usage, err);
}

static int fail(const struct cli_cmd_spec *spec, FILE *err, const char *fmt, ...) TL_PRINTF(3, 4);
static int fail(const struct cli_cmd_spec *spec, FILE *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	usage_error(spec, err, fmt, ap);
	va_end(ap);
	return CLI_USAGE;
}

int cli_opt_usage_error(const struct cli_cmd_spec *spec, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	usage_error(spec, stderr, fmt, ap);
	va_end(ap);
	return CLI_USAGE;
}

int cli_opt_exit(int rc)
{
	return rc == CLI_OPT_HELP ? CLI_OK : rc;
}

/* The option "--name" or "--name=value" in `arg` names, or NULL; *inline_value gets what
 * follows '=' (NULL without one). */
static const struct cli_opt *find(const struct cli_cmd_spec *spec, const char *arg, const char **inline_value)
{
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);

	*inline_value = eq ? eq + 1 : NULL;
	for (size_t i = 0; i < spec->n_opts; i++)
		if (strlen(spec->opts[i].name) == len && memcmp(spec->opts[i].name, name, len) == 0)
			return &spec->opts[i];
	return NULL;
}

static int is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

static int is_option(const char *arg)
{
	return arg[0] == '-' && arg[1] != '\0';
}

/* Whether argv asks for help, read with the same rules as the real pass (so the value of
 * "--name -h" is a value), ignoring every error: help wins over a mistake elsewhere. */
static int wants_help(const struct cli_cmd_spec *spec, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const struct cli_opt *o;
		const char *inline_value;

		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (is_help(argv[i]))
			return 1;
		if (strncmp(argv[i], "--", 2) != 0 || (o = find(spec, argv[i], &inline_value)) == NULL)
			continue;
		if (o->kind != CLI_OPT_KIND_FLAG && inline_value == NULL)
			i++;
	}
	return 0;
}

int cli_opt_parse_to(const char **args, size_t *nargs, const struct cli_cmd_spec *spec, int argc, char **argv,
	FILE *out, FILE *err)
{
	unsigned char seen[CLI_OPT_MAX] = { 0 };
	int only_operands = 0;

	/* The table is the command's own code: a mistake in it is a programming error. */
	assert(spec->n_opts <= CLI_OPT_MAX);
	assert(spec->min_args <= spec->max_args);
	*nargs = 0;
	if (wants_help(spec, argc, argv)) {
		fputs(spec->help ? spec->help : spec->usage, out);
		return CLI_OPT_HELP;
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *value;
		const struct cli_opt *o;

		if (only_operands || !is_option(arg)) {
			if (*nargs == spec->max_args)
				return fail(spec, err, "unexpected argument '%s'", arg);
			args[(*nargs)++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			only_operands = 1;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0 || (o = find(spec, arg, &value)) == NULL)
			return fail(spec, err, "unknown option '%s'", arg);
		seen[o - spec->opts] = 1;
		if (o->kind == CLI_OPT_KIND_FLAG) {
			if (value != NULL)
				return fail(spec, err, "option --%s takes no value", o->name);
			*o->flag = 1;
			continue;
		}
		if (value == NULL) {
			if (i + 1 == argc)
				return fail(spec, err, "missing value for --%s", o->name);
			value = argv[++i];
		}
		if (o->kind == CLI_OPT_KIND_VALUE) {
			*o->value = value;
		} else {
			if (*o->n_items == o->max)
				return fail(spec, err, "at most %zu --%s options", o->max, o->name);
			o->items[(*o->n_items)++] = value;
		}
	}
	for (size_t i = 0; i < spec->n_opts; i++) {
		const struct cli_opt *o = &spec->opts[i];
		const char *env;

		assert(o->env == NULL || o->kind == CLI_OPT_KIND_VALUE);
		if (o->env != NULL && !seen[i] && (env = getenv(o->env)) != NULL && env[0] != '\0')
			*o->value = env;
	}
	if (*nargs < spec->min_args)
		return fail(spec, err, "missing %s", spec->args_name);
	return CLI_OK;
}

int cli_opt_parse(const char **args, size_t *nargs, const struct cli_cmd_spec *spec, int argc, char **argv)
{
	return cli_opt_parse_to(args, nargs, spec, argc, argv, stdout, stderr);
}
