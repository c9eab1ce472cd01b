#include <stdio.h>

#include "cli.h"
#include "opt.h"

#ifndef BUNDLED_VERSION
#define BUNDLED_VERSION "0.1.0"
#endif

#define USAGE "usage: bundlectl version\n"

static int run(int argc, char **argv)
{
	const struct cli_cmd_spec spec = { "version", USAGE, USAGE "\nPrints the version of bundlectl.\n", NULL, 0, 0, 0, "" };
	size_t n_args;
	int rc;

	if ((rc = cli_opt_parse(NULL, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	printf("bundlectl %s\n", BUNDLED_VERSION);
	return CLI_OK;
}

const struct cli_command cli_cmd_version = { "version", "print the version", run };
