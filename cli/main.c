/*
 * bundlectl: the publisher's, agent's, auditor's and witness's tool. This file only
 * dispatches; each command is cli/cmd_<name>.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define COMMAND(name) extern const struct cli_command name;
#include "commands.h"
#undef COMMAND

static const struct cli_command *const commands[] = {
#define COMMAND(name) &name,
#include "commands.h"
#undef COMMAND
};

static void usage(FILE *out)
{
	fprintf(out, "usage: bundlectl <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-20s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "\n'bundlectl <command> --help' describes a command.\n"
		"exit status: 0 success/valid, 1 invalid, 2 usage or I/O error\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i]->name) == 0)
			return commands[i]->run(argc - 1, argv + 1);
	cli_error(NULL, "unknown command '%s'", argv[1]);
	usage(stderr);
	return CLI_USAGE;
}
