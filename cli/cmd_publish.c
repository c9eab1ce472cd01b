/*
 * bundlectl publish: signs a new version of a trust domain's bundle and logs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opt.h"
#include "publisher.h"

#define CMD "publish"

#define USAGE \
	"usage: bundlectl publish [--server URL] --key FILE --domain TD [--refresh-hint SECONDS]\n" \
	"                         [--proof-out FILE] [--skip-refused] [--json] BUNDLE\n" \
	"                         [--cacert FILE] [--client-cert FILE --client-key FILE]\n"

static const char help_text[] = USAGE
	"\n"
	"Publishes BUNDLE (a SPIFFE bundle, or a PEM file of CA certificates; \"-\" for stdin) as\n"
	"the next version of TD: its sequence is the bundle's spiffe_sequence or, when it has\n"
	"none, the domain's next one. The canonical bytes, their SHA-256 and CID are computed\n"
	"here and the bundle entry is signed with the publisher key in FILE (from `bundlectl\n"
	"keygen`) for the daemon's log. The daemon answers once the entry is in a durable\n"
	"checkpoint; the answer's checkpoint signature and inclusion proof are checked against\n"
	"the log key (GET /v1/log) before success is reported. Publishing the very same signed\n"
	"version again is answered with the existing entry.\n"
	"\n"
	CLI_SERVER_HELP
	"  --refresh-hint SECONDS  the version's spiffe_refresh_hint (default: the bundle's own)\n"
	"  --proof-out FILE        write the version's C2SP tlog-proof file (for verify-proof)\n"
	"  --skip-refused          PEM input: leave out, with a warning, each certificate that\n"
	"                          would be refused (as Go, and so SPIRE, refuses it) instead of\n"
	"                          refusing the file: for public CA stores\n"
	"  --json                  print one object: domain, sequence, index, sha256, cid,\n"
	"                          checkpoint\n"
	"\n"
	"exit status: 0 logged, 1 refused or invalid (the reason on stderr), 2 usage, I/O or\n"
	"server error\n";

/* Sends the canonical bytes: they are exactly what is signed, whatever the file said about
 * sequence and refresh hint. */
static int publish(json_t **reply, struct pub_session *s, const char *domain, const char *key_path,
	const char *hint_text, const uint8_t *data, size_t len, unsigned parse_flags, const char *proof_out)
{
	bd_bundle_report report = { 0 };
	bd_bundle *b = NULL;
	tl_signer *key = NULL;
	uint64_t sequence, newest, hint = 0;
	bool has_newest;
	int err;

	if ((err = tl_signer_load(&key, key_path)) != 0 || (err = bd_bundle_parse(&b, data, len, parse_flags, &report)) != 0)
		goto out;
	for (size_t i = 0; i < report.n_warnings; i++)
		cli_error(CMD, "warning: %s", report.warnings[i]);
	if (hint_text != NULL) {
		if (tl_parse_u64(&hint, hint_text, strlen(hint_text)) != 0) {
			err = tl_error_set(TL_E_INPUT, "--refresh-hint is not a number of seconds");
			goto out;
		}
	} else if (!bd_bundle_refresh_hint(&hint, b)) {
		hint = 0;
	}
	if (!bd_bundle_sequence(&sequence, b) &&
	    (err = pub_domain_sequences(&sequence, &has_newest, &newest, s, domain)) != 0)
		goto out;
	err = pub_publish_version(reply, s, domain, key, b, sequence, hint, proof_out);
out:
	bd_bundle_report_free(&report);
	bd_bundle_free(b);
	tl_signer_free(key);
	return err;
}

static int run(int argc, char **argv)
{
	const char *domain = NULL, *key = NULL, *hint = NULL, *proof_out = NULL, *file = NULL;
	struct cli_server server = CLI_SERVER_INIT;
	int json = 0, skip_refused = 0, rc, err;
	const struct cli_opt opts[] = {
		CLI_SERVER_OPTS(&server),
		CLI_OPT_VALUE("key", &key),
		CLI_OPT_VALUE("domain", &domain),
		CLI_OPT_VALUE("refresh-hint", &hint),
		CLI_OPT_VALUE("proof-out", &proof_out),
		CLI_OPT_FLAG("json", &json),
		CLI_OPT_FLAG("skip-refused", &skip_refused),
	};
	const struct cli_cmd_spec spec = CLI_SPEC(CMD, USAGE, help_text, opts, 1, 1, "BUNDLE");
	struct pub_session s;
	json_t *reply = NULL;
	uint8_t *data = NULL;
	size_t n_args, len;

	if ((rc = cli_opt_parse(&file, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if ((rc = cli_server_check(&spec, &server)) != CLI_OK)
		return cli_opt_exit(rc);
	if (domain == NULL || key == NULL)
		return cli_opt_usage_error(&spec, "--key and --domain are required");
	if ((rc = cli_read_file(&data, &len, file, BD_MAX_BUNDLE_SIZE)) != CLI_OK)
		return rc;
	if ((err = pub_open(&s, CMD, &server, NULL)) == 0)
		err = publish(&reply, &s, domain, key, hint, data, len, skip_refused ? BD_PARSE_SKIP_REFUSED : 0, proof_out);
	rc = pub_finish(&s, err, reply, json, "published");
	free(data);
	return rc;
}

const struct cli_command cli_cmd_publish = { "publish", "sign and publish a new version of a domain's bundle", run };
