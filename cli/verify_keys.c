#include "verify_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "translog/bytes.h"
#include "translog/cosig.h"
#include "translog/error.h"
#include "translog/note.h"

int cli_keys_have_log_key(const struct cli_keys *k)
{
	return (k->vkey == NULL) != (k->vkey_file == NULL);
}

/* `what` names where the text came from: the option or the file. */
static int parse_vkey(tl_verifier **out, const char *cmd, const char *text, size_t len, const char *what)
{
	if (tl_verifier_parse(out, text, len) != 0) {
		cli_error(cmd, "%s: %s", what, tl_error_message());
		return CLI_USAGE;
	}
	return CLI_OK;
}

int cli_keys_load(struct cli_keys *k, const char *cmd)
{
	uint8_t *key_text = NULL;
	size_t key_len = 0;
	int rc;

	k->quorum = k->n_witnesses;
	if (k->quorum_text != NULL) {
		uint64_t q;

		if (tl_parse_u64(&q, k->quorum_text, strlen(k->quorum_text)) != 0 || q > CLI_MAX_WITNESSES) {
			cli_error(cmd, "--quorum wants a number from 0 to %d", CLI_MAX_WITNESSES);
			return CLI_USAGE;
		}
		k->quorum = (size_t)q;
	}
	if (k->quorum > k->n_witnesses) {
		cli_error(cmd, "--quorum %zu but only %zu witnesses given", k->quorum, k->n_witnesses);
		return CLI_USAGE;
	}
	if (k->vkey_file != NULL) {
		if ((rc = cli_read_file(&key_text, &key_len, k->vkey_file, TL_MAX_KEY_TEXT + 1)) != CLI_OK)
			return rc;
		rc = parse_vkey(&k->log_key, cmd, (const char *)key_text, key_len, k->vkey_file);
		free(key_text);
	} else if (k->vkey != NULL) {
		rc = parse_vkey(&k->log_key, cmd, k->vkey, strlen(k->vkey), "--vkey");
	} else {
		rc = CLI_OK; /* no log key (bundlectl agent --tofu): log_key stays NULL */
	}
	if (rc != CLI_OK)
		return rc;
	for (size_t i = 0; i < k->n_witnesses; i++) {
		if ((rc = parse_vkey(&k->witnesses[i], cmd, k->witness_text[i], strlen(k->witness_text[i]), "--witness")) != CLI_OK)
			return rc;
		if (tl_verifier_type(k->witnesses[i]) != TL_KEY_TYPE_COSIGNATURE) {
			cli_error(cmd, "--witness %s is not a cosigner (type 0x04) key",
				tl_verifier_name(k->witnesses[i]));
			return CLI_USAGE;
		}
	}
	/* One witness under two names would meet a quorum twice (a cosignature does not bind the
	 * name): refused as a usage error before any note is read. */
	if (tl_verifier_check_distinct((const tl_verifier *const *)k->witnesses, k->n_witnesses) != 0) {
		cli_error(cmd, "--witness: %s", tl_error_message());
		return CLI_USAGE;
	}
	if (k->log_key != NULL && tl_verifier_type(k->log_key) != TL_KEY_TYPE_ED25519) {
		cli_error(cmd, "the log key must be an Ed25519 (type 0x01) key");
		return CLI_USAGE;
	}
	return CLI_OK;
}

int cli_keys_check_quorum(size_t *count, const struct cli_keys *k, const uint8_t *note, size_t len)
{
	tl_note n;
	int err;

	*count = 0;
	if (k->n_witnesses == 0)
		return 0;
	/* The command has checked the log's signature on this note already; this parse only
	 * borrows its signature lines again. */
	if ((err = tl_note_parse(&n, note, len)) != 0)
		return err;
	return tl_cosig_check_quorum(count, &n, (const tl_verifier *const *)k->witnesses, k->n_witnesses, k->quorum);
}

void cli_keys_free(struct cli_keys *k)
{
	tl_verifier_free(k->log_key);
	k->log_key = NULL;
	for (size_t i = 0; i < k->n_witnesses; i++) {
		tl_verifier_free(k->witnesses[i]);
		k->witnesses[i] = NULL;
	}
}
