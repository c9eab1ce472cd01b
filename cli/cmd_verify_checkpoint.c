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
#include "verify_keys.h"

#define CMD "verify-checkpoint"

#define USAGE \
	"usage: bundlectl " CMD " (--vkey VKEY | --vkey-file PATH) [--witness VKEY]... [--quorum N] FILE\n"

static const char help_text[] = USAGE
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

static int run(int argc, char **argv)
{
	const char *path = NULL;
	struct cli_keys keys = { 0 };
	const struct cli_opt opts[] = {
		CLI_KEYS_LOG_OPTS(&keys),
		CLI_KEYS_WITNESS_OPTS(&keys),
	};
	const struct cli_cmd_spec spec = CLI_SPEC(CMD, USAGE, help_text, opts, 1, 1, "FILE");
	size_t n_args;
	size_t count = 0;
	int rc = CLI_USAGE, err;
	uint8_t *note = NULL;
	size_t note_len = 0;
	tl_buf root = tl_buf_make(64);
	tl_checkpoint cp;

	if ((rc = cli_opt_parse(&path, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if (!cli_keys_have_log_key(&keys))
		return cli_opt_usage_error(&spec, "exactly one of --vkey or --vkey-file is required");
	if ((rc = cli_keys_load(&keys, CMD)) != CLI_OK ||
	    (rc = cli_read_file(&note, &note_len, path, CLI_MAX_FILE)) != CLI_OK)
		goto out;
	if ((err = tl_checkpoint_open(&cp, note, note_len, keys.log_key)) != 0 ||
	    (err = cli_keys_check_quorum(&count, &keys, note, note_len)) != 0) {
		rc = cli_fail(CMD, err);
		goto out;
	}
	if (tl_base64_encode(&root, cp.root.b, TL_HASH_SIZE) != 0) {
		rc = cli_fail(CMD, TL_E_INTERNAL);
		goto out;
	}
	printf("ok: %s size %" PRIu64 " root %s", cp.origin, cp.size, (char *)root.data);
	if (keys.n_witnesses > 0)
		printf(" cosigned by %zu of %zu witnesses", count, keys.n_witnesses);
	printf("\n");
	rc = CLI_OK;
out:
	free(note);
	tl_buf_free(&root);
	cli_keys_free(&keys);
	return rc;
}

const struct cli_command cli_cmd_verify_checkpoint = { "verify-checkpoint",
	"verify a signed checkpoint (and witness cosignatures)", run };
