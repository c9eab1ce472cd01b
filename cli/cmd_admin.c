/*
 * bundlectl admin: operator subcommands (backups, health). This file only dispatches; the
 * subcommands live in cli/admin_*.c. They link the storage library (RocksDB), which the
 * other commands do not need.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "cli.h"

static const struct {
	const char *name, *summary;
	int (*run)(int argc, char **argv);
} subcommands[] = {
	{ "backup", "consistent online copy of a data directory (--data DIR --out DIR)", cli_admin_backup },
	{ "verify-backup", "check a backup: log, checkpoint signature, every block", cli_admin_verify_backup },
	{ "health", "ask a daemon's /healthz (exit 0 healthy, 1 not)", cli_admin_health },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: bundlectl admin <subcommand> [options]\n\nsubcommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(out, "  %-14s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(out, "\n'bundlectl admin <subcommand> --help' describes a subcommand.\n");
}

static int run(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].run(argc - 1, argv + 1);
	cli_error("admin", "unknown subcommand '%s'", argv[1]);
	usage(stderr);
	return CLI_USAGE;
}

const struct cli_command cli_cmd_admin = { "admin", "operator tasks: backup, verify-backup, health", run };
