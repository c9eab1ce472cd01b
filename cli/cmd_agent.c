/*
 * bundlectl agent: keeps a bundle file per followed trust domain current, from verified
 * diffs (bundled/agent.h). The logic is the library's; this file reads options and signals.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundled/agent.h"
#include "cli.h"
#include "opt.h"
#include "server.h"
#include "verify_keys.h"

#define CMD "agent"

#define USAGE                                                                                                     \
	"usage: bundlectl " CMD " --domain TD [--domain TD...] --out FILE|DIR --state DIR (--log-key VKEY | --tofu)\n" \
	"       [--format spiffe|pem|der] [--ipfs-gateway URL] [--witness VKEY... --witness-quorum N]\n"              \
	"       [--on-update CMD] [--once] [--max-stale DURATION] [--poll-interval DURATION] [--no-watch] [--timeout DURATION]\n       " CLI_SERVER_USAGE "\n"

static const char help_text[] = USAGE
	"\n"
	"Keeps the bundle of each trust domain TD current in FILE (one domain) or in DIR/<TD>.json,\n"
	".pem or .der (several), pulling each new version as a diff and verifying it against the\n"
	"log without trusting the server: the checkpoint's signature by the pinned log key (and a\n"
	"witness quorum), its consistency with the last one verified, the entry's inclusion, the\n"
	"publisher's signature by a key the log gives the domain, and the bytes' SHA-256, size and\n"
	"CID. A refused update keeps the file and the state; a fork of the log is an alarm, with\n"
	"both checkpoints saved in DIR/evidence/. Files are replaced atomically.\n\n"
	"  --log-key VKEY      the log's verifier key (as GET /v1/log gives it) to pin\n"
	"  --tofu              pin the key the server presents on first contact instead\n"
	"  --format F          spiffe (the canonical SPIFFE bundle, default), pem or der (X.509\n"
	"                      authorities only)\n"
	"  --ipfs-gateway URL  fetch whole versions (when no diff applies) from this trustless\n"
	"                      gateway instead of the server's /ipfs/; every block is checked\n"
	"  --witness VKEY      a witness's cosigner key (repeatable); --witness-quorum N\n"
	"                      checkpoints need N valid cosignatures (default: all witnesses)\n"
	"  --on-update CMD     run by /bin/sh after each new file, with BUNDLED_DOMAIN,\n"
	"                      BUNDLED_SEQUENCE and BUNDLED_FILE set\n"
	"  --once              one round, then exit\n"
	"  --max-stale D       an alarm (and, with --once, exit 3) when no checkpoint was verified\n"
	"                      for D (30s, 10m, 2h, 1d); with witnesses, none that N of them\n"
	"                      cosigned within D\n"
	"  --poll-interval D   poll every D instead of at each version's refresh hint\n"
	"  --no-watch          poll only; by default a running agent also holds one GET /v1/watch\n"
	"                      stream (up to 16 domains) whose events make it poll that domain at\n"
	"                      once (a hint: what it announces is verified as any poll's answer)\n"
	"  --timeout D         the longest a request to the server may take (default 30s)\n" CLI_SERVER_HELP
	"\nSIGINT/SIGTERM stop it, SIGHUP makes it poll now.\n"
	"exit status: 0 current, 1 an update refused or a fork found, 2 usage error or the server\n"
	"unreachable (--once), 3 stale (--once)\n";

static bd_agent *running;

static void on_stop(int sig)
{
	(void)sig;
	if (running != NULL)
		bd_agent_stop(running);
}

static void on_hup(int sig)
{
	(void)sig;
	if (running != NULL)
		bd_agent_wake(running, NULL);
}

static void on_log(void *ctx, bd_agent_level level, const char *message)
{
	static const char *const names[] = { "info", "warn", "error" };
	char when[32];
	time_t now = time(NULL);
	struct tm tm;

	(void)ctx;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	fprintf(stderr, "%s bundlectl " CMD " %s: %s\n", when, names[level], message);
}

/* "90", "90s", "10m", "2h", "1d" -> seconds. */
static int parse_duration(uint64_t *out, const char *text)
{
	static const struct {
		char unit;
		uint64_t s;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	size_t n = strlen(text), mult = 1;

	for (size_t i = 0; n > 1 && i < sizeof(units) / sizeof(units[0]); i++)
		if (text[n - 1] == units[i].unit) {
			mult = units[i].s;
			n--;
		}
	if (tl_parse_u64(out, text, n) != 0 || *out == 0 || *out > UINT64_MAX / mult / 2)
		return -1;
	*out *= mult;
	return 0;
}

static int run(int argc, char **argv)
{
	const char *domains[BD_AGENT_MAX_DOMAINS], *out = NULL, *state = NULL, *format = "spiffe", *gateway = NULL;
	const char *on_update = NULL, *stale_text = NULL, *interval_text = NULL, *timeout_text = NULL;
	uint64_t timeout_s = 0;
	size_t n_domains = 0, n_args;
	int tofu = 0, once = 0, no_watch = 0, rc, err;
	struct cli_server server = CLI_SERVER_INIT;
	struct cli_keys keys = { 0 };
	const struct cli_opt opts[] = {
		CLI_SERVER_OPTS(&server),
		CLI_OPT_LIST("domain", domains, &n_domains),
		CLI_OPT_VALUE("out", &out),
		CLI_OPT_VALUE("state", &state),
		CLI_OPT_VALUE("log-key", &keys.vkey),
		CLI_OPT_FLAG("tofu", &tofu),
		CLI_OPT_VALUE("format", &format),
		CLI_OPT_VALUE("ipfs-gateway", &gateway),
		CLI_OPT_LIST("witness", keys.witness_text, &keys.n_witnesses),
		CLI_OPT_VALUE("witness-quorum", &keys.quorum_text),
		CLI_OPT_VALUE("on-update", &on_update),
		CLI_OPT_FLAG("once", &once),
		CLI_OPT_VALUE("max-stale", &stale_text),
		CLI_OPT_VALUE("poll-interval", &interval_text),
		CLI_OPT_FLAG("no-watch", &no_watch),
		CLI_OPT_VALUE("timeout", &timeout_text),
	};
	const struct cli_cmd_spec spec = CLI_SPEC(CMD, USAGE, help_text, opts, 0, 0, "");
	bd_agent_options ao = { 0 };
	bd_agent_round rd;
	bd_agent *a = NULL;

	if ((rc = cli_opt_parse(NULL, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if (n_domains == 0 || out == NULL || state == NULL)
		return cli_opt_usage_error(&spec, "--domain, --out and --state are required");
	if ((keys.vkey != NULL) == (tofu != 0))
		return cli_opt_usage_error(&spec, "give exactly one of --log-key and --tofu");
	if (bd_agent_format_parse(&ao.format, format) != 0)
		return cli_opt_usage_error(&spec, "--format takes spiffe, pem or der");
	if ((stale_text != NULL && parse_duration(&ao.max_stale_s, stale_text) != 0) ||
	    (interval_text != NULL && parse_duration(&ao.poll_interval_s, interval_text) != 0) ||
	    (timeout_text != NULL && (parse_duration(&timeout_s, timeout_text) != 0 || timeout_s > 3600)))
		return cli_opt_usage_error(&spec, "a duration is a positive number with an optional unit s, m, h or d");
	if ((rc = cli_server_check(&spec, &server)) != CLI_OK)
		return cli_opt_exit(rc);
	if ((rc = cli_keys_load(&keys, CMD)) != CLI_OK)
		goto out;
	cli_server_http_options(&ao.server, &server);
	ao.server.timeout_ms = (long)timeout_s * 1000;
	ao.ipfs_gateway = gateway;
	ao.domains = domains;
	ao.n_domains = n_domains;
	ao.out = out;
	ao.state_dir = state;
	ao.log_key = keys.log_key;
	ao.tofu = tofu != 0;
	ao.witnesses = (const tl_verifier *const *)keys.witnesses;
	ao.n_witnesses = keys.n_witnesses;
	ao.quorum = keys.quorum;
	ao.on_update = on_update;
	ao.watch = no_watch == 0;
	ao.log = on_log;
	if ((err = bd_agent_new(&a, &ao)) != 0) {
		rc = cli_fail(CMD, err);
		goto out;
	}
	if (once) {
		if ((err = bd_agent_poll(&rd, a)) != 0)
			rc = cli_fail(CMD, err);
		else
			rc = rd.fork || rd.refused ? CLI_INVALID : rd.failed ? CLI_USAGE : rd.stale ? 3 : CLI_OK;
		goto out;
	}
	running = a;
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGHUP, on_hup);
	if ((err = bd_agent_run(a)) != 0)
		rc = cli_fail(CMD, err);
	running = NULL;
out:
	bd_agent_free(a);
	cli_keys_free(&keys);
	return rc;
}

const struct cli_command cli_cmd_agent = { CMD, "keep bundle files current from verified diffs", run };
