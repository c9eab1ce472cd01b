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
#include "translog/cosig.h"
#include "translog/hash.h"
#include "translog/key.h"
#include "translog/note.h"
#include "translog/tlog_proof.h"

#define CMD "verify-proof"
#define MAX_WITNESSES 32

static const char usage_text[] =
	"usage: bundlectl " CMD " (--vkey VKEY | --vkey-file PATH) --entry ENTRY_FILE\n"
	"                           [--witness VKEY]... [--quorum N] PROOF.tlog-proof\n"
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

static int parse_vkey(tl_verifier **out, const char *text, size_t len, const char *what)
{
	if (tl_verifier_parse(out, text, len) != 0) {
		fprintf(stderr, "bundlectl " CMD ": %s: %s\n", what, tl_error_message());
		return CLI_USAGE;
	}
	return CLI_OK;
}

static int run(int argc, char **argv)
{
	const char *vkey = NULL, *vkey_file = NULL, *entry_path = NULL, *path = NULL, *witness_text[MAX_WITNESSES];
	tl_verifier *log_key = NULL, *witnesses[MAX_WITNESSES] = { NULL };
	size_t n_witnesses = 0, quorum = 0, count = 0, entry_len = 0, proof_len = 0, key_len = 0;
	uint8_t *entry = NULL, *proof_text = NULL, *key_text = NULL;
	int have_quorum = 0, rc = CLI_USAGE, err;
	tl_tlog_proof proof;
	tl_checkpoint cp;
	tl_hash leaf;
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
		} else if (strcmp(argv[i], "--entry") == 0 && i + 1 < argc) {
			entry_path = argv[++i];
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
			fprintf(stderr, "bundlectl " CMD ": one proof file, please\n%s", usage_text);
			return CLI_USAGE;
		}
	}
	if (path == NULL || entry_path == NULL || (vkey == NULL) == (vkey_file == NULL)) {
		fprintf(stderr, "bundlectl " CMD ": a proof file, --entry and exactly one of --vkey or --vkey-file are required\n%s",
			usage_text);
		return CLI_USAGE;
	}
	if (!have_quorum)
		quorum = n_witnesses;
	if (quorum > n_witnesses) {
		fprintf(stderr, "bundlectl " CMD ": --quorum %zu but only %zu witnesses given\n", quorum, n_witnesses);
		return CLI_USAGE;
	}
	if (vkey_file != NULL) {
		if ((rc = cli_read_file(&key_text, &key_len, vkey_file, TL_MAX_KEY_TEXT + 1)) != CLI_OK)
			goto out;
		rc = parse_vkey(&log_key, (const char *)key_text, key_len, vkey_file);
	} else {
		rc = parse_vkey(&log_key, vkey, strlen(vkey), "--vkey");
	}
	if (rc != CLI_OK)
		goto out;
	for (size_t i = 0; i < n_witnesses; i++) {
		if ((rc = parse_vkey(&witnesses[i], witness_text[i], strlen(witness_text[i]), "--witness")) != CLI_OK)
			goto out;
		if (tl_verifier_type(witnesses[i]) != TL_KEY_TYPE_COSIGNATURE) {
			fprintf(stderr, "bundlectl " CMD ": --witness %s is not a cosigner (type 0x04) key\n",
				tl_verifier_name(witnesses[i]));
			rc = CLI_USAGE;
			goto out;
		}
	}
	if (tl_verifier_type(log_key) != TL_KEY_TYPE_ED25519) {
		fprintf(stderr, "bundlectl " CMD ": the log key must be an Ed25519 (type 0x01) key\n");
		rc = CLI_USAGE;
		goto out;
	}
	if ((rc = cli_read_file(&entry, &entry_len, entry_path, CLI_MAX_FILE)) != CLI_OK ||
	    (rc = cli_read_file(&proof_text, &proof_len, path, CLI_MAX_FILE)) != CLI_OK)
		goto out;
	tl_hash_leaf(&leaf, entry, entry_len);
	if ((err = tl_tlog_proof_parse(&proof, proof_text, proof_len)) != 0 ||
	    (err = tl_tlog_proof_verify(&cp, &proof, &leaf, log_key)) != 0) {
		rc = cli_fail(CMD, err);
		goto out;
	}
	if (n_witnesses > 0 &&
	    ((err = tl_note_parse(&n, proof.checkpoint, proof.checkpoint_len)) != 0 ||
	     (err = tl_cosig_check_quorum(&count, &n, (const tl_verifier *const *)witnesses, n_witnesses, quorum)) != 0)) {
		rc = cli_fail(CMD, err);
		goto out;
	}
	printf("ok: entry %" PRIu64 " is in %s at size %" PRIu64, proof.index, cp.origin, cp.size);
	if (n_witnesses > 0)
		printf(", cosigned by %zu of %zu witnesses", count, n_witnesses);
	printf("\n");
	rc = CLI_OK;
out:
	free(entry);
	free(proof_text);
	free(key_text);
	tl_verifier_free(log_key);
	for (size_t i = 0; i < n_witnesses; i++)
		tl_verifier_free(witnesses[i]);
	return rc;
}

const struct cli_command cli_cmd_verify_proof = { "verify-proof",
	"verify a tlog-proof file for a log entry", run };
