/*
 * bundlectl audit: replays a bundled log from its tiles and entry bundles and checks every
 * entry and every served tile (bundled/audit.h). Resumable: DIR keeps where it stopped.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundled/audit.h"
#include "bundled/client.h"
#include "bundled/gitmirror.h"
#include "cli.h"
#include "opt.h"
#include "translog/bytes.h"
#include "verify_keys.h"

#define CMD "audit"

#define USAGE \
	"usage: bundlectl " CMD " --server URL --log-key VKEY --state DIR [--fetch-bundles] [--ipfs-gateway URL]\n" \
	"       [--witness VKEY... --witness-quorum N] [--max-entries N] [--tree-only] [--threads N]\n" \
	"       [--json]\n" \
	"       bundlectl " CMD " --server URL --log-key VKEY --git DIR [--json]\n"

static const char help_text[] = USAGE
	"\n"
	"Audits the log a bundled server keeps, trusting only its key VKEY: verifies the\n"
	"checkpoint and proves it consistent with the last one audited (kept in DIR; a fork is\n"
	"saved as evidence under DIR/evidence/ for `bundlectl verify-consistency`), reads every\n"
	"new entry from the entry bundles, recomputes the tree and compares every served hash tile\n"
	"and the root, and checks every entry: grammar and canonical form, publisher signatures\n"
	"against each domain's keys as the log records them, sequences, revocations.\n\n"
	"  --fetch-bundles     also fetch each version by CID (from the server's /ipfs/, or from\n"
	"                      --ipfs-gateway URL, a trustless gateway) and check its bytes\n"
	"  --witness VKEY      a witness's cosigner key (repeatable); with --witness-quorum N,\n"
	"                      checkpoints need N valid cosignatures (default: all witnesses)\n"
	"  --max-entries N     stop after about N new entries (the next run goes on from there)\n"
	"  --tree-only         check the tree and tiles only, not what the entries say\n"
	"  --threads N         threads checking entries and signatures (default: one per CPU);\n"
	"                      the findings do not depend on it\n"
	"  --json              a summary object on stdout\n"
	"  --git DIR           instead, check a clone of bundled's git mirror (bundled --git-mirror)\n"
	"                      against the log: the same entries in the same order, byte for byte,\n"
	"                      each version's bundle.json as its entry commits to, and its tag\n\n"
	"--server may also come from BUNDLED_SERVER. A progress bar on a terminal, plain lines\n"
	"otherwise (stderr).\n"
	"exit status: 0 clean, 1 findings (or a fork), 2 could not audit\n";

struct progress {
	bool tty;
	struct timespec start;
	double last;
};

static double elapsed(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;
	double t = elapsed(&p->start), rate = t > 0 ? (double)done / t : 0;
	double eta = rate > 0 ? (double)(total - done) / rate : 0;

	if (done != total && t - p->last < (p->tty ? 0.2 : 5.0))
		return;
	p->last = t;
	if (p->tty) {
		int filled = total != 0 ? (int)(30 * done / total) : 30;

		fprintf(stderr, "\r[%.*s%*s] %" PRIu64 "/%" PRIu64 " entries %.0f/s ETA %ds ", filled,
			"##############################", 30 - filled, "", done, total, rate, (int)eta);
		if (done == total)
			fputc('\n', stderr);
	} else {
		fprintf(stderr, "bundlectl " CMD ": %" PRIu64 "/%" PRIu64 " entries, %.0f entries/s, ETA %ds\n", done, total,
			rate, (int)eta);
	}
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_json(const bd_audit_report *r)
{
	printf("{\"origin\":");
	json_string(r->checkpoint.origin);
	printf(",\"tree_size\":%" PRIu64 ",\"audited\":%" PRIu64 ",\"entries_checked\":%" PRIu64
		",\"tiles_checked\":%" PRIu64 ",\"versions_fetched\":%" PRIu64 ",\"complete\":%s,\"findings_total\":%zu,"
		"\"findings\":[",
		r->checkpoint.size, r->audited, r->checked, r->tiles_checked, r->versions_fetched, r->complete ? "true" : "false",
		r->n_findings);
	for (size_t i = 0; i < r->n_kept; i++) {
		printf("%s{\"kind\":\"%s\",\"index\":%" PRIu64 ",\"message\":", i ? "," : "",
			bd_audit_kind_name(r->findings[i].kind), r->findings[i].index);
		json_string(r->findings[i].message);
		putchar('}');
	}
	printf("],\"evidence\":[");
	for (size_t i = 0; i < r->n_evidence; i++) {
		if (i)
			putchar(',');
		json_string(r->evidence[i]);
	}
	printf("]}\n");
}

static void print_human(const bd_audit_report *r)
{
	printf("%s: audited %" PRIu64 " of %" PRIu64 " entries (%" PRIu64 " in this run, %" PRIu64 " tiles compared, %" PRIu64
		" versions fetched)%s\n",
		r->checkpoint.origin, r->audited, r->checkpoint.size, r->checked, r->tiles_checked, r->versions_fetched,
		r->complete ? "" : ": not complete, run again to go on");
	for (size_t i = 0; i < r->n_kept; i++)
		printf("finding: %s at %" PRIu64 ": %s\n", bd_audit_kind_name(r->findings[i].kind), r->findings[i].index,
			r->findings[i].message);
	if (r->n_findings > r->n_kept)
		printf("... and %zu more findings\n", r->n_findings - r->n_kept);
	for (size_t i = 0; i < r->n_evidence; i++)
		printf("evidence: %s\n", r->evidence[i]);
	printf("%s\n", r->n_findings == 0 ? "clean" : "FINDINGS");
}

/* bundlectl audit --git DIR: the clone against the log. */
static int audit_git(const char *dir, const tl_follow_config *follow, int json)
{
	bd_gitmirror_report r;
	int err;

	if ((err = bd_gitmirror_audit(&r, dir, follow)) != 0) {
		fprintf(stderr, "bundlectl " CMD ": could not audit %s: %s\n", dir, tl_error_message());
		return CLI_USAGE;
	}
	if (json) {
		printf("{\"git\":");
		json_string(dir);
		printf(",\"commits\":%" PRIu64 ",\"tree_size\":%" PRIu64 ",\"entries_checked\":%" PRIu64
		       ",\"versions_checked\":%" PRIu64 ",\"findings_total\":%" PRIu64 ",\"first_finding\":",
			r.commits, r.log_size, r.checked, r.versions, r.mismatches);
		json_string(r.first);
		printf("}\n");
	} else {
		printf("%s: %" PRIu64 " commits against %" PRIu64 " log entries: %" PRIu64 " entries and %" PRIu64
		       " versions compared%s\n",
			dir, r.commits, r.log_size, r.checked, r.versions, r.commits < r.log_size ? " (the clone is behind)" : "");
		if (r.mismatches != 0)
			printf("finding: %s\n%s%" PRIu64 " findings\n", r.first, "FINDINGS: ", r.mismatches);
		else
			printf("clean\n");
	}
	return r.mismatches != 0 ? CLI_INVALID : CLI_OK;
}

static int parse_count(uint64_t *out, const char *text)
{
	if (text == NULL)
		return 0;
	return tl_parse_u64(out, text, strlen(text)) == 0 ? 0 : -1;
}

static int run(int argc, char **argv)
{
	const char *server = NULL, *state = NULL, *gateway = NULL, *max_text = NULL, *threads_text = NULL, *git = NULL;
	int fetch_bundles = 0, json = 0, tree_only = 0, rc, err;
	struct cli_keys keys = { 0 };
	const struct cli_opt opts[] = {
		CLI_OPT_VALUE_ENV("server", "BUNDLED_SERVER", &server),
		CLI_OPT_VALUE("log-key", &keys.vkey),
		CLI_OPT_VALUE("state", &state),
		CLI_OPT_FLAG("fetch-bundles", &fetch_bundles),
		CLI_OPT_VALUE("ipfs-gateway", &gateway),
		CLI_OPT_LIST("witness", keys.witness_text, &keys.n_witnesses),
		CLI_OPT_VALUE("witness-quorum", &keys.quorum_text),
		CLI_OPT_VALUE("max-entries", &max_text),
		CLI_OPT_FLAG("tree-only", &tree_only),
		CLI_OPT_VALUE("threads", &threads_text),
		CLI_OPT_FLAG("json", &json),
		CLI_OPT_VALUE("git", &git),
	};
	const struct cli_cmd_spec spec = CLI_SPEC(CMD, USAGE, help_text, opts, 0, 0, "");
	size_t n_args;
	bd_client *client = NULL, *blocks = NULL;
	bd_audit_options ao = { 0 };
	bd_audit_report rep = { 0 };
	struct progress prog = { isatty(STDERR_FILENO) != 0, { 0, 0 }, 0 };

	if ((rc = cli_opt_parse(NULL, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if (server == NULL || keys.vkey == NULL || (state == NULL && git == NULL))
		return cli_opt_usage_error(&spec, "--server, --log-key and --state (or --git) are required");
	if (parse_count(&ao.max_entries, max_text) != 0)
		return cli_opt_usage_error(&spec, "--max-entries takes a number");
	if (threads_text != NULL) {
		uint64_t n;

		if (parse_count(&n, threads_text) != 0 || n == 0 || n > 1024)
			return cli_opt_usage_error(&spec, "--threads takes a number from 1 to 1024");
		ao.threads = (unsigned)n;
	}
	if (gateway != NULL && !fetch_bundles)
		return cli_opt_usage_error(&spec, "--ipfs-gateway needs --fetch-bundles");
	if ((rc = cli_keys_load(&keys, CMD)) != CLI_OK)
		goto out;
	if ((err = bd_client_open(&client, &(bd_client_options){ .url = server })) != 0 ||
	    (gateway != NULL && (err = bd_client_open(&blocks, &(bd_client_options){ .url = gateway })) != 0)) {
		rc = cli_fail(CMD, err);
		goto out;
	}
	ao.follow.transport.fetch = bd_client_fetch;
	ao.follow.transport.ctx = client;
	ao.follow.log_key = keys.log_key;
	ao.follow.witnesses = (const tl_verifier *const *)keys.witnesses;
	ao.follow.n_witnesses = keys.n_witnesses;
	ao.follow.quorum = keys.quorum;
	if (git != NULL) {
		rc = audit_git(git, &ao.follow, json);
		goto out;
	}
	ao.state_dir = state;
	ao.blocks = fetch_bundles ? (blocks != NULL ? blocks : client) : NULL;
	ao.tree_only = tree_only != 0;
	ao.progress = on_progress;
	ao.progress_ctx = &prog;
	clock_gettime(CLOCK_MONOTONIC, &prog.start);
	if ((err = bd_audit_run(&rep, &ao)) != 0) {
		fprintf(stderr, "bundlectl " CMD ": could not audit: %s\n", tl_error_message());
		rc = CLI_USAGE;
		goto out;
	}
	if (json)
		print_json(&rep);
	else
		print_human(&rep);
	rc = rep.n_findings != 0 ? CLI_INVALID : CLI_OK;
	if (fflush(stdout) != 0) {
		fprintf(stderr, "bundlectl " CMD ": cannot write the output\n");
		rc = CLI_USAGE;
	}
out:
	bd_audit_report_free(&rep);
	bd_client_close(blocks);
	bd_client_close(client);
	cli_keys_free(&keys);
	return rc;
}

const struct cli_command cli_cmd_audit = { CMD, "audit a bundled log: tree, tiles, entries, signatures, versions", run };
