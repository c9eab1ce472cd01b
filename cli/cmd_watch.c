/*
 * bundlectl watch: follows GET /v1/watch and prints each event as one JSON line, for
 * operators (what is being published, live) and for tests and scripts (--count, --after).
 * Reconnects with back-off and resumes where it stopped (the library's bd_watch).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/watch.h"
#include "cli.h"
#include "opt.h"
#include "server.h"
#include "translog/bytes.h"

#define CMD "watch"

#define USAGE "usage: bundlectl watch " CLI_SERVER_USAGE " --domain TD [--domain TD...] [--after INDEX]\n" \
	"                       [--count N] [--quiet]\n"

static const char help_text[] = USAGE
	"\n"
	"Prints every new version or revocation of the trust domains as it is committed, one JSON\n"
	"object a line (the event's data, schema/watch-event.schema.json), and keeps going across\n"
	"disconnections: it reconnects with jittered exponential back-off and resumes from the last\n"
	"event (Last-Event-ID), so none is missed. Events are notices, not proofs: verify a version\n"
	"against the log before trusting it.\n"
	"\n" CLI_SERVER_HELP
	"  --domain TD         a trust domain to watch (up to 16)\n"
	"  --after INDEX       first replay the events after this leaf index (0: all of them)\n"
	"  --count N           exit after N events\n"
	"  --quiet             no lines on stderr when the connection is made or lost\n"
	"\n"
	"exit status: 0 after --count events or on SIGINT/SIGTERM; 1 if the server refuses the watch\n"
	"as a bad request; 2 usage error, or an unknown domain\n";

struct state {
	uint64_t left; /* events still to print; 0: no limit */
	bool limited;
	bool quiet;
};

static bd_watch *current;

static void on_signal(int sig)
{
	(void)sig;
	if (current != NULL)
		bd_watch_stop(current); /* an atomic store and a write to curl's wakeup pipe */
}

static int on_event(void *ctx, const bd_watch_event *ev)
{
	struct state *st = ctx;

	printf("%s\n", ev->json);
	fflush(stdout);
	if (st->limited && --st->left == 0)
		return 1;
	return 0;
}

static void on_state(void *ctx, bool connected, const char *why)
{
	const struct state *st = ctx;

	if (st->quiet)
		return;
	if (connected)
		cli_error(CMD, "connected");
	else
		cli_error(CMD, "disconnected: %s; reconnecting", why);
}

static int run(int argc, char **argv)
{
	struct cli_server server = CLI_SERVER_INIT;
	const char *domains[BD_WATCH_MAX_DOMAINS], *after = NULL, *count = NULL;
	size_t n_domains = 0, n_args;
	int quiet = 0, rc, err;
	const struct cli_opt opts[] = {
		CLI_SERVER_OPTS(&server),
		CLI_OPT_LIST("domain", domains, &n_domains),
		CLI_OPT_VALUE("after", &after),
		CLI_OPT_VALUE("count", &count),
		CLI_OPT_FLAG("quiet", &quiet),
	};
	const struct cli_cmd_spec spec = CLI_SPEC(CMD, USAGE, help_text, opts, 0, 0, "");
	struct state st = { 0 };
	bd_watch_options o = { .http = { .name = "bundled" } };
	struct sigaction sa = { .sa_handler = on_signal };
	bd_watch *w = NULL;

	if ((rc = cli_opt_parse(NULL, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if ((rc = cli_server_check(&spec, &server)) != CLI_OK)
		return cli_opt_exit(rc);
	if (n_domains == 0)
		return cli_opt_usage_error(&spec, "give at least one --domain");
	if (after != NULL && tl_parse_u64(&o.after, after, strlen(after)) != 0)
		return cli_opt_usage_error(&spec, "--after must be an unsigned decimal");
	if (count != NULL && (tl_parse_u64(&st.left, count, strlen(count)) != 0 || st.left == 0))
		return cli_opt_usage_error(&spec, "--count must be a positive decimal");
	st.limited = count != NULL;
	st.quiet = quiet;
	cli_server_http_options(&o.http, &server);
	o.domains = domains;
	o.n_domains = n_domains;
	o.resume = after != NULL;
	o.on_event = on_event;
	o.on_state = on_state;
	o.ctx = &st;
	if ((err = bd_watch_new(&w, &o)) != 0)
		return cli_fail(CMD, err);
	current = w;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = bd_watch_run(w);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	current = NULL;
	bd_watch_free(w);
	/* 1 is on_event's "enough". */
	return err == 0 || err == 1 ? CLI_OK : cli_fail(CMD, err);
}

const struct cli_command cli_cmd_watch = { "watch", "print a server's new versions and revocations as they come", run };
