/*
 * bundlectl publish: signs a new version of a trust domain's bundle and logs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundled/request.h"
#include "cli.h"
#include "opt.h"
#include "publisher.h"

#define CMD "publish"

#define USAGE \
	"usage: bundlectl publish --server URL --key FILE --domain TD [--refresh-hint SECONDS]\n" \
	"                         [--proof-out FILE] [--skip-refused] [--json] BUNDLE\n"

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
	"  --server URL            the bundled daemon (default: $BUNDLED_SERVER)\n"
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
	char path[64 + BD_MAX_DOMAIN];
	tl_buf canonical = tl_buf_make(BD_MAX_BUNDLE_SIZE), text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1);
	tl_buf body = tl_buf_make(BD_REQUEST_MAX_BODY);
	bd_entry *e = calloc(1, sizeof(*e));
	bd_bundle *b = NULL;
	tl_signer *key = NULL;
	uint64_t sequence, newest, hint = 0;
	bool has_newest;
	int err;

	if (e == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
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
	snprintf(path, sizeof(path), "/v1/domains/%s/bundles", domain);
	if ((err = pub_version_entry(e, &canonical, b, domain, sequence, hint)) != 0 || (err = pub_sign(&text, e, s, key)) != 0 ||
	    (err = bd_bundle_request_write(&body, text.data, text.len, canonical.data, canonical.len)) != 0)
		goto out;
	err = pub_submit(reply, s, path, &body, &text, proof_out);
out:
	bd_bundle_report_free(&report);
	bd_bundle_free(b);
	tl_signer_free(key);
	free(e);
	tl_buf_free(&canonical);
	tl_buf_free(&text);
	tl_buf_free(&body);
	return err;
}

static int run(int argc, char **argv)
{
	const char *server = NULL, *domain = NULL, *key = NULL, *hint = NULL, *proof_out = NULL, *file = NULL;
	int json = 0, skip_refused = 0, rc, err;
	const struct cli_opt opts[] = {
		CLI_OPT_VALUE_ENV("server", "BUNDLED_SERVER", &server),
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
	if (server == NULL || domain == NULL || key == NULL)
		return cli_opt_usage_error(&spec, "--server (or BUNDLED_SERVER), --key and --domain are required");
	if ((rc = cli_read_file(&data, &len, file, BD_MAX_BUNDLE_SIZE)) != CLI_OK)
		return rc;
	if ((err = pub_open(&s, CMD, server, NULL)) == 0)
		err = publish(&reply, &s, domain, key, hint, data, len, skip_refused ? BD_PARSE_SKIP_REFUSED : 0, proof_out);
	rc = pub_finish(&s, err, reply, json, "published");
	free(data);
	return rc;
}

const struct cli_command cli_cmd_publish = { "publish", "sign and publish a new version of a domain's bundle", run };
