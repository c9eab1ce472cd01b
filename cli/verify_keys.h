/*
 * The key options the verify-* commands share: the log's verifier key (exactly one of
 * --vkey VKEY or --vkey-file PATH) and, for the commands that check cosignatures, witness
 * keys (--witness VKEY, repeatable) with a --quorum N. One parser and one loader, so the
 * commands agree on what these options accept and on how they fail.
 */
#ifndef BUNDLECTL_VERIFY_KEYS_H
#define BUNDLECTL_VERIFY_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "translog/key.h"

#define CLI_MAX_WITNESSES 32

/* Which options a command takes: the log key alone, or witnesses and a quorum too. */
enum cli_keys_options { CLI_KEYS_LOG_ONLY, CLI_KEYS_WITH_WITNESSES };

/* Returned by cli_keys_take_option for an argument that is none of the key options. */
#define CLI_KEYS_NOT_OURS (-1)

struct cli_keys {
	/* What the command line said (filled by cli_keys_take_option). */
	const char *vkey, *vkey_file;
	const char *witness_text[CLI_MAX_WITNESSES];
	size_t n_witnesses, quorum;
	int have_quorum;
	/* The parsed keys (filled by cli_keys_load, freed by cli_keys_free). */
	tl_verifier *log_key;
	tl_verifier *witnesses[CLI_MAX_WITNESSES];
};

/* If argv[*i] (with its value in argv[*i + 1]) is --vkey, --vkey-file or, when
 * `which` is CLI_KEYS_WITH_WITNESSES, --witness or --quorum, records it, moves *i onto the value and returns
 * CLI_OK; a bad value prints "bundlectl <cmd>: <reason>" and returns CLI_USAGE. Anything
 * else, an option missing its value included, is CLI_KEYS_NOT_OURS and left to the command. */
int cli_keys_take_option(struct cli_keys *k, const char *cmd, enum cli_keys_options which, int argc, char **argv,
	int *i);

/* True when exactly one of --vkey and --vkey-file was given. */
int cli_keys_have_log_key(const struct cli_keys *k);

/* Settles the quorum (default: every witness given; more than that is a usage error), then
 * parses the log key, which must be Ed25519 (type 0x01), and the witness keys, which must be
 * cosigner (type 0x04) keys. CLI_OK, or CLI_USAGE after a one-line message on stderr. */
int cli_keys_load(struct cli_keys *k, const char *cmd);

/* Checks the witnesses' cosignatures on `note` (a signed note's bytes): *count gets how many
 * witnesses validly cosigned; fewer than the quorum, or a bad cosignature by one of them, is an
 * error. Without witnesses there is nothing to check: 0 and *count = 0. Returns 0 or a tl_err. */
int cli_keys_check_quorum(size_t *count, const struct cli_keys *k, const uint8_t *note, size_t len);

void cli_keys_free(struct cli_keys *k);

#endif
