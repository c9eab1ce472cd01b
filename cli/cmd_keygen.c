/*
 * bundlectl keygen: a new Ed25519 key for a log, a publisher or (with --cosigner) a witness.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "translog/key.h"

static const char usage_text[] =
	"usage: bundlectl keygen --name NAME --out FILE [--cosigner]\n"
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
	uint8_t type = TL_KEY_TYPE_ED25519;
	tl_signer *s = NULL;
	tl_buf vkey = tl_buf_make(TL_MAX_KEY_TEXT);
	int rc = CLI_USAGE;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return CLI_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--cosigner") == 0)
			type = TL_KEY_TYPE_COSIGNATURE;
		else {
			fprintf(stderr, "bundlectl keygen: unexpected argument '%s'\n%s", argv[i], usage_text);
			return CLI_USAGE;
		}
	}
	if (name == NULL || out == NULL) {
		fprintf(stderr, "bundlectl keygen: --name and --out are required\n%s", usage_text);
		return CLI_USAGE;
	}
	if (tl_signer_generate_typed(&s, name, type) != 0 || tl_signer_vkey(&vkey, s) != 0 || tl_signer_save(s, out) != 0) {
		fprintf(stderr, "bundlectl keygen: %s\n", tl_error_message());
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
