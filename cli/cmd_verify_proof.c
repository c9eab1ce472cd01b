/*
 * bundlectl verify-proof: checks a C2SP tlog-proof file ("spicy signature") for an entry:
 * the log's signature on the embedded checkpoint, optionally a quorum of witness
 * cosignatures, and the RFC 6962 inclusion of the entry's leaf hash.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "translog/checkpoint.h"
#include "translog/hash.h"
#include "translog/tlog_proof.h"
#include "verify_keys.h"

#define CMD "verify-proof"

#define USAGE \
	"usage: bundlectl " CMD " (--vkey VKEY | --vkey-file PATH) --entry ENTRY_FILE\n" \
	"                           [--witness VKEY]... [--quorum N] PROOF.tlog-proof\n"

static const char help_text[] = USAGE
	"\n"
	"Checks that the log entry in ENTRY_FILE (its exact bytes) is included in the log\n"
	"according to PROOF (c2sp.org/tlog-proof@v1; \"-\" for stdin): the embedded checkpoint\n"
	"must be signed by the log key VKEY (<name>+<key id>+<key>) with the key's name as\n"
	"origin, and the inclusion proof must lead from SHA-256(0x00 || entry) at the proof's\n"
	"index to the checkpoint's root hash.\n"
	"\n"
	"  --witness VKEY  a witness key (type 0x04); repeatable. Its cosignature/v1 on the\n"
	"                  checkpoint counts toward the quorum; a bad one makes PROOF invalid.\n"
	"  --quorum N      how many of the witnesses must have cosigned (default: all given)\n"
	"\n"
	"Prints \"ok: entry <index> is in <origin> at size <n>\" when valid. The proof's extra\n"
	"data, if any, is not authenticated and is ignored.\n"
	"exit status: 0 valid, 1 invalid (the reason on stderr), 2 usage or I/O error\n";

static int run(int argc, char **argv)
{
	const char *entry_path = NULL, *path = NULL;
	struct cli_keys keys = { 0 };
	const struct cli_opt opts[] = {
		CLI_KEYS_LOG_OPTS(&keys),
		CLI_KEYS_WITNESS_OPTS(&keys),
		CLI_OPT_VALUE("entry", &entry_path),
	};
	const struct cli_cmd_spec spec = CLI_SPEC(CMD, USAGE, help_text, opts, 1, 1, "PROOF file");
	size_t n_args;
	size_t count = 0, entry_len = 0, proof_len = 0;
	uint8_t *entry = NULL, *proof_text = NULL;
	int rc = CLI_USAGE, err;
	tl_tlog_proof proof;
	tl_checkpoint cp;
	tl_hash leaf;

	if ((rc = cli_opt_parse(&path, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if (entry_path == NULL || !cli_keys_have_log_key(&keys))
		return cli_opt_usage_error(&spec, "--entry and exactly one of --vkey or --vkey-file are required");
	if ((rc = cli_keys_load(&keys, CMD)) != CLI_OK ||
	    (rc = cli_read_file(&entry, &entry_len, entry_path, CLI_MAX_FILE)) != CLI_OK ||
	    (rc = cli_read_file(&proof_text, &proof_len, path, CLI_MAX_FILE)) != CLI_OK)
		goto out;
	tl_hash_leaf(&leaf, entry, entry_len);
	if ((err = tl_tlog_proof_parse(&proof, proof_text, proof_len)) != 0 ||
	    (err = tl_tlog_proof_verify(&cp, &proof, &leaf, keys.log_key)) != 0 ||
	    (err = cli_keys_check_quorum(&count, &keys, proof.checkpoint, proof.checkpoint_len)) != 0) {
		rc = cli_fail(CMD, err);
		goto out;
	}
	printf("ok: entry %" PRIu64 " is in %s at size %" PRIu64, proof.index, cp.origin, cp.size);
	if (keys.n_witnesses > 0)
		printf(", cosigned by %zu of %zu witnesses", count, keys.n_witnesses);
	printf("\n");
	rc = CLI_OK;
out:
	free(entry);
	free(proof_text);
	cli_keys_free(&keys);
	return rc;
}

const struct cli_command cli_cmd_verify_proof = { "verify-proof",
	"verify a tlog-proof file for a log entry", run };
