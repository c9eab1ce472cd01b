/*
 * bundlectl get bundle|entry|proof: reads one version of a trust domain from the daemon: its
 * canonical bytes, its log entry, or its C2SP tlog-proof file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opt.h"
#include "publisher.h"
#include "translog/tlog_proof.h"

#define CMD "get"

#define USAGE \
	"usage: bundlectl get bundle|entry|proof [--server URL] --domain TD [--sequence N] [--out FILE]\n" \
	"                 [--cacert FILE] [--client-cert FILE --client-key FILE]\n"

static const char help_text[] = USAGE
	"\n"
	"Writes one version of TD (the newest, or the one with --sequence N) to FILE or stdout:\n"
	"  bundle   its canonical SPIFFE bundle, exactly the bytes the log commits to\n"
	"  entry    its log entry (the bytes `verify-proof --entry` takes)\n"
	"  proof    a C2SP tlog-proof file of its entry against the newest checkpoint\n"
	"Nothing is verified here: `bundlectl verify-proof` checks an entry and its proof.\n"
	"\n"
	CLI_SERVER_HELP
	"\n"
	"exit status: 0 written, 1 invalid answer, 2 usage, I/O, not found or server error\n";

static int fetch(tl_buf *out, struct pub_session *s, const char *what, const char *domain, const char *seq_text)
{
	char path[96 + BD_MAX_DOMAIN];
	uint64_t seq, next;
	bool has;
	int err;

	if (seq_text == NULL && strcmp(what, "bundle") == 0) {
		snprintf(path, sizeof(path), "/v1/domains/%s/bundle", domain);
		return bd_client_get(out, s->client, path, BD_MAX_BUNDLE_SIZE);
	}
	if (seq_text != NULL) {
		if (tl_parse_u64(&seq, seq_text, strlen(seq_text)) != 0)
			return tl_error_set(TL_E_INPUT, "--sequence is not an unsigned decimal");
	} else {
		if ((err = pub_domain_sequences(&next, &has, &seq, s, domain)) != 0)
			return err;
		if (!has)
			return tl_error_set(TL_E_NOTFOUND, "%s has published no version yet", domain);
	}
	snprintf(path, sizeof(path), "/v1/domains/%s/bundles/%llu%s", domain, (unsigned long long)seq,
		strcmp(what, "bundle") == 0 ? "" : strcmp(what, "entry") == 0 ? "/entry" : "/proof");
	return bd_client_get(out, s->client, path, strcmp(what, "proof") == 0 ? TL_TLOG_PROOF_MAX_SIZE :
		strcmp(what, "entry") == 0 ? BD_ENTRY_MAX_SIZE : BD_MAX_BUNDLE_SIZE);
}

static int run(int argc, char **argv)
{
	const char *domain = NULL, *seq = NULL, *out = NULL, *what = NULL;
	struct cli_server server = CLI_SERVER_INIT;
	int rc, err;
	const struct cli_opt opts[] = {
		CLI_SERVER_OPTS(&server),
		CLI_OPT_VALUE("domain", &domain),
		CLI_OPT_VALUE("sequence", &seq),
		CLI_OPT_VALUE("out", &out),
	};
	const struct cli_cmd_spec spec = CLI_SPEC(CMD, USAGE, help_text, opts, 1, 1, "bundle|entry|proof");
	struct pub_session s;
	tl_buf body = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	size_t n_args;
	FILE *f = NULL;

	if ((rc = cli_opt_parse(&what, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if (strcmp(what, "bundle") != 0 && strcmp(what, "entry") != 0 && strcmp(what, "proof") != 0)
		return cli_opt_usage_error(&spec, "unknown subcommand '%s'", what);
	if ((rc = cli_server_check(&spec, &server)) != CLI_OK)
		return cli_opt_exit(rc);
	if (domain == NULL)
		return cli_opt_usage_error(&spec, "--domain is required");
	if ((err = pub_open(&s, CMD, &server, NULL)) != 0 || (err = fetch(&body, &s, what, domain, seq)) != 0) {
		rc = cli_fail(CMD, err);
		goto out;
	}
	if ((f = out != NULL ? fopen(out, "wb") : stdout) == NULL) {
		fprintf(stderr, "bundlectl " CMD ": %s: cannot create\n", out);
		rc = CLI_USAGE;
		goto out;
	}
	rc = fwrite(body.data, 1, body.len, f) == body.len ? CLI_OK : CLI_USAGE;
	if ((f != stdout ? fclose(f) : fflush(f)) != 0)
		rc = CLI_USAGE;
	if (rc != CLI_OK)
		fprintf(stderr, "bundlectl " CMD ": %s: write error\n", out ? out : "stdout");
out:
	pub_close(&s);
	tl_buf_free(&body);
	return rc;
}

const struct cli_command cli_cmd_get = { "get", "read a version's bundle, log entry or proof", run };
