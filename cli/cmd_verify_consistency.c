/*
 * bundlectl verify-consistency: checks that a newer checkpoint of a log extends an older
 * one (RFC 6962 consistency proof), i.e. that the log only appended in between.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "translog/checkpoint.h"
#include "translog/hash.h"
#include "translog/proof.h"
#include "translog/tlog_proof.h"
#include "verify_keys.h"

#define CMD "verify-consistency"

#define USAGE \
	"usage: bundlectl " CMD " (--vkey VKEY | --vkey-file PATH) OLD_CHECKPOINT NEW_CHECKPOINT PROOF_FILE\n"

static const char help_text[] = USAGE
	"\n"
	"Checks that both checkpoints are signed by the log key VKEY (<name>+<key id>+<key>)\n"
	"with the key's name as origin, and that PROOF_FILE (base64 hashes, one per line; empty\n"
	"when the sizes are equal or OLD is empty) is an RFC 6962 consistency proof from OLD's\n"
	"tree to NEW's: the log only appended entries in between. \"-\" reads one file from stdin.\n"
	"\n"
	"Prints \"ok: <origin> size <old> is consistent with size <new>\" when valid.\n"
	"exit status: 0 valid, 1 invalid (the reason on stderr), 2 usage or I/O error\n";

static int open_checkpoint(tl_checkpoint *cp, const char *path, const tl_verifier *key, const char *which)
{
	uint8_t *note = NULL;
	size_t len = 0;
	int rc, err;

	if ((rc = cli_read_file(&note, &len, path, CLI_MAX_FILE)) != CLI_OK)
		return rc;
	if ((err = tl_checkpoint_open(cp, note, len, key)) != 0)
		rc = cli_fail(CMD, tl_error_wrap(err, "%s checkpoint %s", which, path));
	free(note);
	return rc;
}

static int run(int argc, char **argv)
{
	const char *files[3];
	struct cli_keys keys = { 0 };
	const struct cli_opt opts[] = {
		CLI_KEYS_LOG_OPTS(&keys),
	};
	const struct cli_cmd_spec spec = CLI_SPEC(CMD, USAGE, help_text, opts, 3, 3, "OLD_CHECKPOINT NEW_CHECKPOINT PROOF_FILE");
	size_t n_args;
	size_t proof_len = 0, n_hashes = 0;
	uint8_t *proof_text = NULL;
	tl_hash hashes[TL_TLOG_PROOF_MAX_HASHES];
	tl_checkpoint old_cp, new_cp;
	int rc = CLI_USAGE, err;

	if ((rc = cli_opt_parse(files, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if (!cli_keys_have_log_key(&keys))
		return cli_opt_usage_error(&spec, "exactly one of --vkey or --vkey-file is required");
	if ((rc = cli_keys_load(&keys, CMD)) != CLI_OK ||
	    (rc = open_checkpoint(&old_cp, files[0], keys.log_key, "old")) != CLI_OK ||
	    (rc = open_checkpoint(&new_cp, files[1], keys.log_key, "new")) != CLI_OK ||
	    (rc = cli_read_file(&proof_text, &proof_len, files[2], CLI_MAX_FILE)) != CLI_OK)
		goto out;
	if ((err = tl_tlog_proof_read_hashes(hashes, TL_TLOG_PROOF_MAX_HASHES, &n_hashes, proof_text, proof_len)) != 0) {
		rc = cli_fail(CMD, tl_error_wrap(err, "%s", files[2]));
		goto out;
	}
	/* The library's checks, all of them: the old tree no larger than the new, equal sizes
	 * with equal roots, an old size 0 with the empty tree's root (docs/proofs.md). */
	err = tl_verify_consistency(old_cp.size, new_cp.size, hashes, n_hashes, &old_cp.root, &new_cp.root);
	if (err) {
		rc = cli_fail(CMD, err);
		goto out;
	}
	printf("ok: %s size %" PRIu64 " is consistent with size %" PRIu64 "\n", new_cp.origin, old_cp.size, new_cp.size);
	rc = CLI_OK;
out:
	free(proof_text);
	cli_keys_free(&keys);
	return rc;
}

const struct cli_command cli_cmd_verify_consistency = { "verify-consistency",
	"verify that a newer checkpoint extends an older one", run };
