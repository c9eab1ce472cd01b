/*
 * The options every command that talks to a daemon shares, so they read and mean the same
 * everywhere: --server URL ($BUNDLED_SERVER), --cacert FILE ($BUNDLED_CACERT: the PEM CA a
 * daemon's https certificate must chain to, trusted instead of the system store) and, for a
 * daemon that asks for client certificates (mTLS, the operator role), --client-cert FILE and
 * --client-key FILE ($BUNDLED_CLIENT_CERT, $BUNDLED_CLIENT_KEY).
 *
 *     struct cli_server server = CLI_SERVER_INIT;
 *     const struct cli_opt opts[] = { CLI_SERVER_OPTS(&server), CLI_OPT_FLAG("json", &json) };
 *     ...
 *     if ((rc = cli_server_check(&spec, &server)) != CLI_OK)
 *         return cli_opt_exit(rc);
 *     cli_server_http_options(&co, &server);   (bd_client_options is the same type)
 */
#ifndef BUNDLECTL_SERVER_H
#define BUNDLECTL_SERVER_H

#include "bundled/client.h"
#include "bundled/http.h"
#include "opt.h"

#define CLI_SERVER_DEFAULT "http://127.0.0.1:8440"

struct cli_server {
	const char *url;         /* never NULL after CLI_SERVER_INIT */
	const char *cacert;      /* NULL: the system's CA store */
	const char *client_cert; /* NULL: none; else with client_key */
	const char *client_key;
};

#define CLI_SERVER_INIT { CLI_SERVER_DEFAULT, NULL, NULL, NULL }

/* The option table entries (four of them). */
#define CLI_SERVER_OPTS(s)                                                          \
	CLI_OPT_VALUE_ENV("server", "BUNDLED_SERVER", &(s)->url),                   \
	CLI_OPT_VALUE_ENV("cacert", "BUNDLED_CACERT", &(s)->cacert),                \
	CLI_OPT_VALUE_ENV("client-cert", "BUNDLED_CLIENT_CERT", &(s)->client_cert), \
	CLI_OPT_VALUE_ENV("client-key", "BUNDLED_CLIENT_KEY", &(s)->client_key)

/* For the usage line, and the --help lines. */
#define CLI_SERVER_USAGE "[--server URL] [--cacert FILE] [--client-cert FILE --client-key FILE]"
#define CLI_SERVER_HELP                                                                              \
	"  --server URL        the daemon (default $BUNDLED_SERVER, else " CLI_SERVER_DEFAULT ")\n"  \
	"  --cacert FILE       PEM CA certificates an https daemon's certificate must chain to,\n"  \
	"                      trusted instead of the system's (default $BUNDLED_CACERT)\n"         \
	"  --client-cert FILE  PEM client certificate for a daemon that asks for one (mTLS), with\n" \
	"  --client-key FILE   its PEM key (default $BUNDLED_CLIENT_CERT, $BUNDLED_CLIENT_KEY)\n"

/* CLI_OK, or a usage error (printed) for a certificate without its key or the reverse. */
int cli_server_check(const struct cli_cmd_spec *spec, const struct cli_server *s);

/* Fills the URL and TLS fields of the transport's options (which are also the client's:
 * bd_client_options is bd_http_options). */
void cli_server_http_options(bd_http_options *o, const struct cli_server *s);

#endif
