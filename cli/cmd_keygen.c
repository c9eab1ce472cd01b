/*
 * bundlectl keygen: a new Ed25519 key for a log, a publisher or (with --cosigner) a witness,
 * in a key file or (with --pkcs11) in a PKCS#11 token.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "opt.h"
#include "translog/key.h"
#include "translog/pkcs11.h"

#define USAGE \
	"usage: bundlectl keygen --name NAME --out FILE [--cosigner]\n" \
	"       bundlectl keygen --name NAME --pkcs11 URI [--pkcs11-pin-file FILE] [--cosigner]\n"

static const char help_text[] = USAGE
	"\n"
	"Generates an Ed25519 key named NAME (a schema-less URL such as example.com/log is\n"
	"recommended; no spaces or '+'). Writes the private key to FILE as\n"
	"PRIVATE+KEY+<name>+<key id>+<key> (mode 0600; an existing FILE is never overwritten)\n"
	"and prints the verifier key <name>+<key id>+<key> on stdout.\n"
	"\n"
	"With --pkcs11, generates the key in the PKCS#11 token the RFC 7512 URI names instead\n"
	"(pkcs11:token=LABEL;object=KEYLABEL[?module-path=/path/to/module.so]; the default\n"
	"module is SoftHSM2's): the private key is sensitive and never extractable, and the\n"
	"verifier key is stored in the token beside it. The token's PIN comes from the file\n"
	"given by --pkcs11-pin-file or else from $BUNDLED_PKCS11_PIN, never from the command line.\n"
	"\n"
	"  --cosigner   a witness key for cosignature/v1 (C2SP tlog-cosignature, key type 0x04)\n"
	"               instead of a note-signing key (type 0x01)\n"
	"\n"
	"exit status: 0 written, 2 usage or I/O error (including an existing FILE or token key)\n";

/* The key in a token: generated there, never seen here. */
static int generate_pkcs11(tl_signer **out, const char *uri, const char *pin_file, const char *name, uint8_t type)
{
	char pin[TL_PKCS11_MAX_PIN + 1];
	int err;

	if ((err = tl_pkcs11_pin_load(pin, pin_file, "BUNDLED_PKCS11_PIN")) == 0)
		err = tl_pkcs11_keygen(out, uri, pin, name, type);
	tl_pkcs11_pin_wipe(pin);
	return err;
}

static int run(int argc, char **argv)
{
	const char *name = NULL, *out = NULL, *pkcs11 = NULL, *pin_file = NULL;
	int cosigner = 0, rc, err;
	uint8_t type;
	const struct cli_opt opts[] = {
		CLI_OPT_VALUE("name", &name),
		CLI_OPT_VALUE("out", &out),
		CLI_OPT_FLAG("cosigner", &cosigner),
		CLI_OPT_VALUE("pkcs11", &pkcs11),
		CLI_OPT_VALUE("pkcs11-pin-file", &pin_file),
	};
	const struct cli_cmd_spec spec = CLI_SPEC("keygen", USAGE, help_text, opts, 0, 0, "");
	size_t n_args;
	tl_signer *s = NULL;
	tl_buf vkey = tl_buf_make(TL_MAX_KEY_TEXT);

	if ((rc = cli_opt_parse(NULL, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if (name == NULL || (out == NULL) == (pkcs11 == NULL))
		return cli_opt_usage_error(&spec, "--name and one of --out or --pkcs11 are required");
	if (pin_file != NULL && pkcs11 == NULL)
		return cli_opt_usage_error(&spec, "--pkcs11-pin-file goes with --pkcs11");
	type = cosigner ? TL_KEY_TYPE_COSIGNATURE : TL_KEY_TYPE_ED25519;
	if (pkcs11 != NULL)
		err = generate_pkcs11(&s, pkcs11, pin_file, name, type);
	else if ((err = tl_signer_generate_typed(&s, name, type)) == 0)
		err = tl_signer_save(s, out);
	/* Every failure here, a bad name included, is a usage or I/O error: exit 2. */
	if (err != 0 || tl_signer_vkey(&vkey, s) != 0) {
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
