/*
 * The key options the verify-* commands share: the log's verifier key (exactly one of
 * --vkey VKEY or --vkey-file PATH) and, for the commands that check cosignatures, witness
 * keys (--witness VKEY, repeatable) with a --quorum N. One option table and one loader, so
 * the commands agree on what these options accept and on how they fail.
 */
#ifndef BUNDLECTL_VERIFY_KEYS_H
#define BUNDLECTL_VERIFY_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "opt.h"
#include "translog/key.h"

#define CLI_MAX_WITNESSES 32

struct cli_keys {
	/* What the command line said (filled by the option parser through the tables below). */
	const char *vkey, *vkey_file, *quorum_text;
	const char *witness_text[CLI_MAX_WITNESSES];
	size_t n_witnesses;
	/* The quorum (settled by cli_keys_load). */
	size_t quorum;
	/* The parsed keys (filled by cli_keys_load, freed by cli_keys_free). */
	tl_verifier *log_key;
	tl_verifier *witnesses[CLI_MAX_WITNESSES];
};

/* The entries of an option table (opt.h) for the log key, --vkey VKEY and --vkey-file PATH,
 * and for the witnesses, --witness VKEY (repeatable) and --quorum N:
 *     const struct cli_opt opts[] = { CLI_KEYS_LOG_OPTS(&keys), CLI_KEYS_WITNESS_OPTS(&keys), ... }; */
#define CLI_KEYS_LOG_OPTS(k) CLI_OPT_VALUE("vkey", &(k)->vkey), CLI_OPT_VALUE("vkey-file", &(k)->vkey_file)
#define CLI_KEYS_WITNESS_OPTS(k) \
	CLI_OPT_LIST("witness", (k)->witness_text, &(k)->n_witnesses), CLI_OPT_VALUE("quorum", &(k)->quorum_text)

/* True when exactly one of --vkey and --vkey-file was given. */
int cli_keys_have_log_key(const struct cli_keys *k);

/* Settles the quorum (a number from 0 to CLI_MAX_WITNESSES, by default every witness given;
 * more than were given is a usage error), then
 * parses the log key, if one was given, which must be Ed25519 (type 0x01), and the witness keys, which must be
 * cosigner (type 0x04) keys. CLI_OK, or CLI_USAGE after a one-line message on stderr. */
int cli_keys_load(struct cli_keys *k, const char *cmd);

/* Checks the witnesses' cosignatures on `note` (a signed note's bytes): *count gets how many
 * witnesses validly cosigned; fewer than the quorum, or a bad cosignature by one of them, is an
 * error. Without witnesses there is nothing to check: 0 and *count = 0. Returns 0 or a tl_err. */
int cli_keys_check_quorum(size_t *count, const struct cli_keys *k, const uint8_t *note, size_t len);

void cli_keys_free(struct cli_keys *k);

#endif
