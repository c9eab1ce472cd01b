/*
 * bundlectl verify-checkpoint: checks a signed checkpoint (C2SP tlog-checkpoint) against
 * the log's verifier key and, optionally, a quorum of witness cosignatures.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "translog/checkpoint.h"
#include "translog/cosig.h"
#include "translog/key.h"
#include "translog/note.h"

#define CMD "verify-checkpoint"
#define MAX_WITNESSES 32

static const char usage_text[] =
	"usage: bundlectl " CMD " (--vkey VKEY | --vkey-file PATH) [--witness VKEY]... [--quorum N] FILE\n"
	"\n"
	"Checks that FILE (\"-\" for stdin) is a checkpoint signed by the log key VKEY\n"
	"(<name>+<key id>+<key>, as printed by 'bundlectl keygen'), whose origin is the key's\n"
	"name. Signatures by other keys are ignored; a bad signature by VKEY is not.\n"
	"\n"
	"  --witness VKEY  a witness key (type 0x04); repeatable. Its cosignature/v1 counts\n"
	"                  toward the quorum; a bad cosignature by it makes FILE invalid.\n"
	"  --quorum N      how many of the witnesses must have cosigned (default: all given)\n"
	"\n"
	"Prints \"ok: <origin> size <n> root <base64>\" when valid.\n"
	"exit status: 0 valid, 1 invalid (the reason on stderr), 2 usage or I/O error\n";

static int load_vkey(tl_verifier **out, const char *vkey, const char *vkey_file)
{
	uint8_t *text = NULL;
	size_t len = 0;
	int rc;

	if (vkey_file != NULL) {
		if ((rc = cli_read_file(&text, &len, vkey_file, TL_MAX_KEY_TEXT + 1)) != CLI_OK)
			return rc;
		vkey = (const char *)text;
	} else {
		len = strlen(vkey);
	}
	rc = CLI_OK;
	if (tl_verifier_parse(out, vkey, len) != 0) {
		fprintf(stderr, "bundlectl " CMD ": %s\n", tl_error_message());
		rc = CLI_USAGE;
	}
	free(text);
	return rc;
}

static int run(int argc, char **argv)
{
	const char *vkey = NULL, *vkey_file = NULL, *path = NULL, *witness_text[MAX_WITNESSES];
	tl_verifier *log_key = NULL, *witnesses[MAX_WITNESSES] = { NULL };
	size_t n_witnesses = 0, quorum = 0, count = 0;
	int have_quorum = 0, rc = CLI_USAGE, err;
	uint8_t *note = NULL;
	size_t note_len = 0;
	tl_buf root = tl_buf_make(64);
	tl_checkpoint cp;
	tl_note n;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return CLI_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--vkey") == 0 && i + 1 < argc) {
			vkey = argv[++i];
		} else if (strcmp(argv[i], "--vkey-file") == 0 && i + 1 < argc) {
			vkey_file = argv[++i];
		} else if (strcmp(argv[i], "--witness") == 0 && i + 1 < argc) {
			if (n_witnesses == MAX_WITNESSES) {
				fprintf(stderr, "bundlectl " CMD ": at most %d witnesses\n", MAX_WITNESSES);
				return CLI_USAGE;
			}
			witness_text[n_witnesses++] = argv[++i];
		} else if (strcmp(argv[i], "--quorum") == 0 && i + 1 < argc) {
			uint64_t q;

			if (tl_parse_u64(&q, argv[i + 1], strlen(argv[i + 1])) != 0 || q > MAX_WITNESSES) {
				fprintf(stderr, "bundlectl " CMD ": --quorum wants a number from 0 to %d\n", MAX_WITNESSES);
				return CLI_USAGE;
			}
			quorum = (size_t)q;
			have_quorum = 1;
			i++;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "bundlectl " CMD ": unknown option '%s'\n%s", argv[i], usage_text);
			return CLI_USAGE;
		} else if (path == NULL) {
			path = argv[i];
		} else {
			fprintf(stderr, "bundlectl " CMD ": one checkpoint file, please\n%s", usage_text);
			return CLI_USAGE;
		}
	}
	if (path == NULL || (vkey == NULL) == (vkey_file == NULL)) {
		fprintf(stderr, "bundlectl " CMD ": a checkpoint file and exactly one of --vkey or --vkey-file are required\n%s",
			usage_text);
		return CLI_USAGE;
	}
	if (!have_quorum)
		quorum = n_witnesses;
	if (quorum > n_witnesses) {
		fprintf(stderr, "bundlectl " CMD ": --quorum %zu but only %zu witnesses given\n", quorum, n_witnesses);
		return CLI_USAGE;
	}
	if ((rc = load_vkey(&log_key, vkey, vkey_file)) != CLI_OK)
		goto out;
	rc = CLI_USAGE;
	for (size_t i = 0; i < n_witnesses; i++) {
		if (tl_verifier_parse(&witnesses[i], witness_text[i], strlen(witness_text[i])) != 0) {
			fprintf(stderr, "bundlectl " CMD ": --witness: %s\n", tl_error_message());
			goto out;
		}
		if (tl_verifier_type(witnesses[i]) != TL_KEY_TYPE_COSIGNATURE) {
			fprintf(stderr, "bundlectl " CMD ": --witness %s is not a cosigner (type 0x04) key\n",
				tl_verifier_name(witnesses[i]));
			goto out;
		}
	}
	if (tl_verifier_type(log_key) != TL_KEY_TYPE_ED25519) {
		fprintf(stderr, "bundlectl " CMD ": the log key must be an Ed25519 (type 0x01) key\n");
		goto out;
	}
	if ((rc = cli_read_file(&note, &note_len, path, CLI_MAX_FILE)) != CLI_OK)
		goto out;
	if ((err = tl_checkpoint_open(&cp, note, note_len, log_key)) != 0) {
		rc = cli_fail(CMD, err);
		goto out;
	}
	if (n_witnesses > 0) {
		/* tl_checkpoint_open parsed it already; this only borrows the lines again. */
		if ((err = tl_note_parse(&n, note, note_len)) != 0 ||
		    (err = tl_cosig_check_quorum(&count, &n, (const tl_verifier *const *)witnesses, n_witnesses, quorum)) != 0) {
			rc = cli_fail(CMD, err);
			goto out;
		}
	}
	if (tl_base64_encode(&root, cp.root.b, TL_HASH_SIZE) != 0) {
		rc = cli_fail(CMD, TL_E_INTERNAL);
		goto out;
	}
	printf("ok: %s size %" PRIu64 " root %s", cp.origin, cp.size, (char *)root.data);
	if (n_witnesses > 0)
		printf(" cosigned by %zu of %zu witnesses", count, n_witnesses);
	printf("\n");
	rc = CLI_OK;
out:
	free(note);
	tl_buf_free(&root);
	tl_verifier_free(log_key);
	for (size_t i = 0; i < n_witnesses; i++)
		tl_verifier_free(witnesses[i]);
	return rc;
}

const struct cli_command cli_cmd_verify_checkpoint = { "verify-checkpoint",
	"verify a signed checkpoint (and witness cosignatures)", run };
