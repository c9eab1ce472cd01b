/*
 * bundlectl verify-inclusion: was this version of a domain's bundle logged, where, and is the
 * server's current view of the log consistent with that? Reads the version's entry and its
 * tlog-proof file from the publishing API (docs/http-api.md), verifies the proof against the
 * log key, and proves the proof's checkpoint consistent with the server's current one from
 * hash tiles (translog/follow.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundled/client.h"
#include "bundled/entry.h"
#include "bundled/http.h"
#include "cli.h"
#include "opt.h"
#include "translog/bytes.h"
#include "translog/file.h"
#include "translog/follow.h"
#include "translog/note.h"
#include "translog/tlog_proof.h"
#include "verify_keys.h"

#define CMD "verify-inclusion"

#define USAGE "usage: bundlectl " CMD " --server URL --log-key VKEY --domain TD --sequence N [--state FILE]\n"

static const char help_text[] = USAGE
	"\n"
	"Fetches version N of trust domain TD's bundle entry and its inclusion proof (a C2SP\n"
	"tlog-proof file) from the server, checks that the entry is that version's, that the\n"
	"proof's checkpoint is signed by the log key VKEY and includes the entry, and that the\n"
	"server's current checkpoint is consistent with that one (proven from its hash tiles).\n"
	"--server may also come from BUNDLED_SERVER.\n\n"
	"  --state FILE  a checkpoint of this log verified before (by an earlier run with the same\n"
	"                FILE): the server's current checkpoint must also be consistent with it,\n"
	"                or the server showed this client another history (a fork or a rollback);\n"
	"                once all holds, FILE gets the current checkpoint (created if absent)\n\n"
	"Prints where the version is logged when all holds.\n"
	"exit status: 0 verified, 1 not (the reason on stderr; also when the server has no such\n"
	"version), 2 usage or I/O error\n";

/* GET path from the server: the body of a 200 reply (at most max bytes). */
static int get(tl_buf *out, bd_http *h, const char *path, size_t max)
{
	bd_http_reply r = bd_http_reply_make(max);
	bd_http_request req;
	char text[BD_HTTP_TEXT_MAX + 1];
	int err;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.what = path;
	req.path = path;
	if ((err = bd_http_request_send(&r, h, &req)) == 0) {
		if (r.status != 200)
			err = tl_error_set(bd_http_status_err(r.status), "GET %s: %ld: %s", path, r.status,
				bd_http_reply_text(text, sizeof(text), &r));
		else
			err = tl_buf_append(out, r.body.data != NULL ? r.body.data : (const uint8_t *)"", r.body.len);
	}
	tl_buf_free(&r.body);
	return err;
}

/* The server's current checkpoint `now` against the one saved in `path` (if the file exists),
 * then saved in its place. */
static int check_saved(const tl_follow_config *cfg, const char *path, const tl_checkpoint *now, const tl_buf *note)
{
	tl_checkpoint saved;
	uint8_t *data = NULL;
	size_t len;
	int err;

	if (access(path, F_OK) == 0) {
		if (cli_read_file(&data, &len, path, TL_NOTE_MAX_SIZE) != CLI_OK)
			return tl_error_set(TL_E_IO, "cannot read the saved checkpoint %s", path);
		if ((err = tl_follow_verify_checkpoint(&saved, cfg, data, len)) != 0) {
			err = tl_error_wrap(TL_E_IO, "the saved checkpoint %s", path);
			goto out;
		}
		err = tl_follow_consistency(NULL, cfg, &saved, now);
		if (err == TL_E_CONFLICT)
			err = tl_error_set(TL_E_CONFLICT, "the server's current checkpoint (size %" PRIu64 ") is not consistent "
				"with the one saved in %s (size %" PRIu64 "): the server shows another history", now->size, path,
				saved.size);
		if (err != 0)
			goto out;
	}
	err = tl_file_replace(path, note->data, note->len);
out:
	free(data);
	return err;
}

static int verify(const char *server, const tl_verifier *key, const char *domain, uint64_t sequence, const char *state)
{
	char path[BD_MAX_DOMAIN + 64];
	tl_buf entry = tl_buf_make(TL_TILE_MAX_ENTRY), proof_text = tl_buf_make(TL_TLOG_PROOF_MAX_SIZE);
	tl_buf note = tl_buf_make(TL_NOTE_MAX_SIZE);
	bd_http *h = NULL;
	bd_client *c = NULL;
	bd_entry *e = calloc(1, sizeof(*e));
	tl_tlog_proof *proof = calloc(1, sizeof(*proof));
	tl_follow_config cfg = { { bd_client_fetch, NULL }, key, NULL, 0, 0 };
	tl_checkpoint at, now;
	tl_hash leaf;
	int err;

	if (e == NULL || proof == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = bd_http_open(&h, &(bd_http_options){ .name = "bundled", .url = server })) != 0 ||
	    (err = bd_client_open(&c, &(bd_client_options){ .url = server })) != 0)
		goto out;
	cfg.transport.ctx = c;
	snprintf(path, sizeof(path), "/v1/domains/%s/bundles/%" PRIu64 "/entry", domain, sequence);
	if ((err = get(&entry, h, path, TL_TILE_MAX_ENTRY)) != 0)
		goto out;
	snprintf(path, sizeof(path), "/v1/domains/%s/bundles/%" PRIu64 "/proof", domain, sequence);
	if ((err = get(&proof_text, h, path, TL_TLOG_PROOF_MAX_SIZE)) != 0)
		goto out;
	if ((err = bd_entry_parse(e, entry.data, entry.len)) != 0) {
		err = tl_error_wrap(err, "the served entry");
		goto out;
	}
	if (e->kind != BD_ENTRY_BUNDLE || strcmp(e->domain, domain) != 0 || e->sequence != sequence) {
		err = tl_error_set(TL_E_UNAUTHORIZED, "the served entry is not version %" PRIu64 " of %s", sequence, domain);
		goto out;
	}
	tl_hash_leaf(&leaf, entry.data, entry.len);
	if ((err = tl_tlog_proof_parse(proof, proof_text.data, proof_text.len)) != 0 ||
	    (err = tl_tlog_proof_verify(&at, proof, &leaf, key)) != 0) {
		err = tl_error_wrap(err, "the inclusion proof");
		goto out;
	}
	/* The server's current checkpoint must extend the one the proof is for. */
	if ((err = tl_follow_update(&now, &note, NULL, &cfg, &at)) != 0) {
		err = tl_error_wrap(err, "the server's current checkpoint");
		goto out;
	}
	if (state != NULL && (err = check_saved(&cfg, state, &now, &note)) != 0)
		goto out;
	printf("ok: %s sequence %" PRIu64 " (sha256 ", domain, sequence);
	for (size_t i = 0; i < TL_HASH_SIZE; i++)
		printf("%02x", e->sha256.b[i]);
	printf(", cid %s) is entry %" PRIu64 " of %s, included in its checkpoint of size %" PRIu64
	       "; the current checkpoint (size %" PRIu64 ") is consistent with it\n",
		e->cid, proof->index, at.origin, at.size, now.size);
out:
	bd_client_close(c);
	bd_http_close(h);
	tl_buf_free(&entry);
	tl_buf_free(&proof_text);
	tl_buf_free(&note);
	free(e);
	free(proof);
	return err;
}

static int run(int argc, char **argv)
{
	const char *server = NULL, *domain = NULL, *seq_text = NULL, *state = NULL;
	struct cli_keys keys = { 0 };
	const struct cli_opt opts[] = {
		CLI_OPT_VALUE_ENV("server", "BUNDLED_SERVER", &server),
		CLI_OPT_VALUE("log-key", &keys.vkey),
		CLI_OPT_VALUE("domain", &domain),
		CLI_OPT_VALUE("sequence", &seq_text),
		CLI_OPT_VALUE("state", &state),
	};
	const struct cli_cmd_spec spec = CLI_SPEC(CMD, USAGE, help_text, opts, 0, 0, "");
	size_t n_args;
	uint64_t sequence;
	int rc, err;

	if ((rc = cli_opt_parse(NULL, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if (server == NULL || keys.vkey == NULL || domain == NULL || seq_text == NULL)
		return cli_opt_usage_error(&spec, "--server, --log-key, --domain and --sequence are required");
	if (bd_domain_name_check(domain, strlen(domain)) != 0)
		return cli_opt_usage_error(&spec, "--domain: %s", tl_error_message());
	if (tl_parse_u64(&sequence, seq_text, strlen(seq_text)) != 0)
		return cli_opt_usage_error(&spec, "--sequence takes a number");
	if ((rc = cli_keys_load(&keys, CMD)) != CLI_OK)
		goto out;
	rc = CLI_OK;
	/* A version the server does not have was not shown logged: invalid (1), not an I/O error. */
	if ((err = verify(server, keys.log_key, domain, sequence, state)) != 0)
		rc = err == TL_E_NOTFOUND ? (cli_fail(CMD, err), CLI_INVALID) : cli_fail(CMD, err);
	if (rc == CLI_OK && fflush(stdout) != 0) {
		fprintf(stderr, "bundlectl " CMD ": cannot write the output\n");
		rc = CLI_USAGE;
	}
out:
	cli_keys_free(&keys);
	return rc;
}

const struct cli_command cli_cmd_verify_inclusion = { CMD,
	"verify that a version is logged and the server's current view is consistent with it", run };
