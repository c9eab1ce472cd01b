/*
 * bundlectl keygen: a new Ed25519 key for a log, a publisher or (with --cosigner) a witness.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "opt.h"
#include "translog/key.h"

#define USAGE \
	"usage: bundlectl keygen --name NAME --out FILE [--cosigner]\n"

static const char help_text[] = USAGE
	"\n"
	"Generates an Ed25519 key named NAME (a schema-less URL such as example.com/log is\n"
	"recommended; no spaces or '+'). Writes the private key to FILE as\n"
	"PRIVATE+KEY+<name>+<key id>+<key> (mode 0600; an existing FILE is never overwritten)\n"
	"and prints the verifier key <name>+<key id>+<key> on stdout.\n"
	"\n"
	"  --cosigner   a witness key for cosignature/v1 (C2SP tlog-cosignature, key type 0x04)\n"
	"               instead of a note-signing key (type 0x01)\n"
	"\n"
	"exit status: 0 written, 2 usage or I/O error (including an existing FILE)\n";

static int run(int argc, char **argv)
{
	const char *name = NULL, *out = NULL;
	int cosigner = 0, rc;
	const struct cli_opt opts[] = {
		CLI_OPT_VALUE("name", &name),
		CLI_OPT_VALUE("out", &out),
		CLI_OPT_FLAG("cosigner", &cosigner),
	};
	const struct cli_cmd_spec spec = CLI_SPEC("keygen", USAGE, help_text, opts, 0, 0, "");
	size_t n_args;
	tl_signer *s = NULL;
	tl_buf vkey = tl_buf_make(TL_MAX_KEY_TEXT);

	if ((rc = cli_opt_parse(NULL, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if (name == NULL || out == NULL)
		return cli_opt_usage_error(&spec, "--name and --out are required");
	/* Every failure here, a bad name included, is a usage or I/O error: exit 2. */
	if (tl_signer_generate_typed(&s, name, cosigner ? TL_KEY_TYPE_COSIGNATURE : TL_KEY_TYPE_ED25519) != 0 ||
	    tl_signer_vkey(&vkey, s) != 0 || tl_signer_save(s, out) != 0) {
		cli_error("keygen", "%s", tl_error_message());
		rc = CLI_USAGE;
		goto out;
	}
	printf("%s\n", (char *)vkey.data);
	rc = fflush(stdout) == 0 ? CLI_OK : CLI_USAGE;
out:
	tl_signer_free(s);
	tl_buf_free(&vkey);
	return rc;
}

const struct cli_command cli_cmd_keygen = { "keygen", "generate an Ed25519 signing or witness key", run };
