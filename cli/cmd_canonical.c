/*
 * bundlectl canonical: reads a bundle (SPIFFE JSON, plain JWKS or PEM), checks it with the
 * same strict rules the publisher and the server use, and prints its canonical form or
 * one of the other writers' forms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/bundle.h"
#include "cli.h"
#include "opt.h"

#define USAGE \
	"usage: bundlectl canonical [--format spiffe|pem|der|jwks] [--sequence N] [--refresh-hint S] [--allow-empty]\n" \
	"                           [--skip-refused] FILE\n"

static const char help_text[] = USAGE
	"\n"
	"Reads a trust bundle from FILE ('-' for stdin): a SPIFFE bundle (JSON), a plain JWKS\n"
	"(JWT bundle) or a PEM file of CA certificates (comments between blocks allowed),\n"
	"chosen by content. Checks it strictly and prints it to stdout as:\n"
	"  spiffe  the canonical SPIFFE bundle JSON (default; see docs/bundles.md)\n"
	"  pem     the X.509 CA certificates as PEM, in canonical order\n"
	"  der     the X.509 CA certificates as concatenated DER\n"
	"  jwks    a plain JWKS of the jwt-svid keys\n"
	"\n"
	"  --sequence N       set spiffe_sequence (0 .. 2^64-1), replacing the input's\n"
	"  --refresh-hint S   set spiffe_refresh_hint in seconds, replacing the input's\n"
	"  --allow-empty      read an empty or white-space-only FILE as an empty bundle, which\n"
	"                     trusts nothing (refused by default: a 0-byte download is an accident)\n"
	"  --skip-refused     PEM input: leave out each certificate that would be refused (a\n"
	"                     negative serial, explicit curve parameters, not a CA, ...) with a\n"
	"                     warning, instead of refusing the file; for public CA stores, which\n"
	"                     carry certificates that Go, and so SPIRE, refuses\n"
	"\n"
	"Expired and not yet valid CA certificates are reported on stderr as warnings.\n"
	"exit status: 0 valid, 1 invalid bundle (the reason on stderr), 2 usage or I/O error\n";

static int run(int argc, char **argv)
{
	const char *format = "spiffe", *path = NULL, *seq = NULL, *hint = NULL;
	int allow_empty = 0, skip_refused = 0;
	const struct cli_opt opts[] = {
		CLI_OPT_VALUE("format", &format),
		CLI_OPT_VALUE("sequence", &seq),
		CLI_OPT_VALUE("refresh-hint", &hint),
		CLI_OPT_FLAG("allow-empty", &allow_empty),
		CLI_OPT_FLAG("skip-refused", &skip_refused),
	};
	const struct cli_cmd_spec spec = CLI_SPEC("canonical", USAGE, help_text, opts, 1, 1, "FILE");
	bd_bundle_report report = { 0 };
	tl_buf out = tl_buf_make(CLI_MAX_FILE);
	bd_bundle *b = NULL;
	uint8_t *data = NULL;
	uint64_t seq_v = 0, hint_v = 0;
	size_t len = 0, n_args;
	int rc = CLI_OK, err;

	if ((rc = cli_opt_parse(&path, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if (strcmp(format, "spiffe") != 0 && strcmp(format, "pem") != 0 && strcmp(format, "der") != 0 &&
	    strcmp(format, "jwks") != 0)
		return cli_opt_usage_error(&spec, "--format must be spiffe, pem, der or jwks");
	if (seq && tl_parse_u64(&seq_v, seq, strlen(seq)) != 0)
		return cli_opt_usage_error(&spec, "--sequence must be an integer from 0 to 2^64-1");
	if (hint && (tl_parse_u64(&hint_v, hint, strlen(hint)) != 0 || hint_v > BD_MAX_REFRESH_HINT))
		return cli_opt_usage_error(&spec, "--refresh-hint must be a number of seconds from 0 to 2147483647");

	if ((rc = cli_read_file(&data, &len, path, CLI_MAX_FILE)) != CLI_OK)
		goto out;
	err = bd_bundle_parse(&b, data, len,
		(allow_empty ? BD_PARSE_ALLOW_EMPTY : 0) | (skip_refused ? BD_PARSE_SKIP_REFUSED : 0), &report);
	for (size_t i = 0; i < report.n_warnings; i++)
		cli_error("canonical", "warning: %s", report.warnings[i]);
	if (report.n_dropped)
		cli_error("canonical", "warning: %zu more warnings not shown", report.n_dropped);
	if (err) {
		tl_error_wrap(err, "%s", path);
		rc = cli_fail("canonical", err);
		goto out;
	}
	if (seq)
		bd_bundle_set_sequence(b, seq_v);
	if (hint) {
		if ((err = bd_bundle_set_refresh_hint(b, hint_v)) != 0) {
			rc = cli_fail("canonical", err);
			goto out;
		}
	}
	if (strcmp(format, "spiffe") == 0)
		err = bd_bundle_write_canonical(&out, b);
	else if (strcmp(format, "pem") == 0)
		err = bd_bundle_write_pem(&out, b);
	else if (strcmp(format, "der") == 0)
		err = bd_bundle_write_der(&out, b);
	else
		err = bd_bundle_write_jwks(&out, b);
	if (err) {
		rc = cli_fail("canonical", err);
		goto out;
	}
	if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) {
		cli_error("canonical", "cannot write to stdout");
		rc = CLI_USAGE;
		goto out;
	}
	if (fflush(stdout) != 0) {
		cli_error("canonical", "cannot write to stdout");
		rc = CLI_USAGE;
	}
out:
	tl_buf_free(&out);
	bd_bundle_report_free(&report);
	bd_bundle_free(b);
	free(data);
	return rc;
}

const struct cli_command cli_cmd_canonical = { "canonical", "check a trust bundle and print its canonical form", run };
