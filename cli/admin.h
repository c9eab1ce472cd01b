/*
 * bundlectl admin: the operator's subcommands, one function each, dispatched by
 * cli/cmd_admin.c. Each takes argv[0] = the subcommand's name and returns an exit code.
 */
#ifndef BUNDLECTL_ADMIN_H
#define BUNDLECTL_ADMIN_H

/* admin_backup.c: an online backup of a data directory, and its check. */
int cli_admin_backup(int argc, char **argv);
int cli_admin_verify_backup(int argc, char **argv);

/* admin_health.c: the daemon's /healthz, for container and service health checks. */
int cli_admin_health(int argc, char **argv);

#endif
