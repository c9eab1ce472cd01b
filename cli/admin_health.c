/*
 * bundlectl admin health: GET /healthz on a daemon. The container image's HEALTHCHECK runs it,
 * so the image needs no curl. Docker reads exit 1 as unhealthy and reserves 2, so every
 * failure, an unreachable daemon included, exits 1 here; only bad usage exits 2.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "bundled/http.h"
#include "cli.h"
#include "opt.h"
#include "server.h"

#define CMD "admin health"
#define HEALTH_TIMEOUT_MS 5000

#define USAGE "usage: bundlectl " CMD " " CLI_SERVER_USAGE "\n"

static const char help_text[] = USAGE
	"\n"
	"Asks the daemon for /healthz, within 5 seconds. Prints \"ok\" when it answers 200 \"ok\".\n"
	"\n"
	CLI_SERVER_HELP
	"\n"
	"exit status: 0 healthy, 1 not healthy or not reachable (the reason on stderr),\n"
	"2 usage error\n";

static int run_health(const struct cli_server *server)
{
	bd_http_options o = { .name = "bundled", .timeout_ms = HEALTH_TIMEOUT_MS };
	bd_http_request req = { .method = "GET", .what = "GET /healthz", .path = "/healthz" };
	bd_http_reply r = bd_http_reply_make(256);
	bd_http *h = NULL;
	char text[BD_HTTP_TEXT_MAX + 8];
	int rc = CLI_INVALID;

	cli_server_http_options(&o, server);
	if (bd_http_open(&h, &o) != 0) {
		cli_error(CMD, "%s", tl_error_message());
		rc = CLI_USAGE;
		goto out;
	}
	if (bd_http_request_send(&r, h, &req) != 0) {
		cli_error(CMD, "%s", tl_error_message());
		goto out;
	}
	if (r.status != 200 || r.body.len < 2 || memcmp(r.body.data, "ok", 2) != 0) {
		cli_error(CMD, "%s answered %ld: %s", bd_http_url(h), r.status,
			bd_http_reply_text(text, sizeof(text), &r));
		goto out;
	}
	printf("ok\n");
	rc = fflush(stdout) == 0 ? CLI_OK : CLI_INVALID;
out:
	tl_buf_free(&r.body);
	bd_http_close(h);
	return rc;
}

int cli_admin_health(int argc, char **argv)
{
	struct cli_server server = CLI_SERVER_INIT;
	const struct cli_opt opts[] = { CLI_SERVER_OPTS(&server) };
	const struct cli_cmd_spec spec = CLI_SPEC(CMD, USAGE, help_text, opts, 0, 0, "");
	size_t n_args;
	int rc;

	if ((rc = cli_opt_parse(NULL, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if ((rc = cli_server_check(&spec, &server)) != CLI_OK)
		return cli_opt_exit(rc);
	return run_health(&server);
}
