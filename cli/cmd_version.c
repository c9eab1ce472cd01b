#include <stdio.h>

#include "cli.h"

#ifndef BUNDLED_VERSION
#define BUNDLED_VERSION "0.1.0"
#endif

static int run(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		printf("usage: bundlectl version\n\nPrints the version of bundlectl.\n");
		return CLI_OK;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: bundlectl version\n");
		return CLI_USAGE;
	}
	printf("bundlectl %s\n", BUNDLED_VERSION);
	return CLI_OK;
}

const struct cli_command cli_cmd_version = { "version", "print the version", run };
