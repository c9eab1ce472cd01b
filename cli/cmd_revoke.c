/*
 * bundlectl revoke: removes one authority from a domain's newest version and logs why: a
 * revocation entry and the bundle entry of the version without it, signed and logged
 * together.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundled/request.h"
#include "cli.h"
#include "opt.h"
#include "publisher.h"

#define CMD "revoke"

#define USAGE \
	"usage: bundlectl revoke [--server URL] --key FILE --domain TD --authority SHA256HEX|KID\n" \
	"                        --reason TEXT [--proof-out FILE] [--json]\n" \
	"                        [--cacert FILE] [--client-cert FILE --client-key FILE]\n"

static const char help_text[] = USAGE
	"\n"
	"Fetches TD's newest version, removes the authority named by --authority (the SHA-256\n"
	"of an X.509 CA's DER in 64 lower-case hex digits, or a JWT/WIT key's kid), and signs\n"
	"with the publisher key in FILE both a revocation entry (authority, reason) and the\n"
	"bundle entry of the resulting version (the next sequence, the same refresh hint). The\n"
	"daemon logs both in one batch and answers once they are durable; the answer's proof for\n"
	"the new version is checked against the log key.\n"
	"\n"
	CLI_SERVER_HELP
	"  --reason TEXT       why (printable ASCII, at most 200 bytes), logged for everyone\n"
	"  --proof-out FILE    write the new version's C2SP tlog-proof file\n"
	"  --json              print one object: domain, sequence, index, sha256, cid,\n"
	"                      checkpoint\n"
	"\n"
	"exit status: 0 logged, 1 refused or invalid (the reason on stderr), 2 usage, I/O,\n"
	"not found or server error\n";

/* Removes the authority named by `name` (hex fingerprint or kid) and fills the revocation's
 * authority. */
static int remove_authority(bd_entry *rev, bd_bundle *b, const char *name)
{
	tl_hash fp;
	size_t n = strlen(name);

	if (n == 2 * TL_HASH_SIZE && tl_hex_decode(fp.b, TL_HASH_SIZE, name, n) == 0 &&
	    strspn(name, "0123456789abcdef") == n) {
		rev->authority_sha256 = fp;
		return bd_bundle_remove(b, &fp);
	}
	if (n > BD_MAX_KID)
		return tl_error_set(TL_E_INPUT, "--authority: a kid has at most %u bytes", BD_MAX_KID);
	for (size_t i = 0; i < bd_bundle_count(b); i++) {
		const char *kid = bd_authority_kid(bd_bundle_at(b, i));

		if (kid != NULL && strcmp(kid, name) == 0) {
			rev->authority_is_kid = true;
			memcpy(rev->authority_kid, name, n + 1);
			fp = *bd_authority_fingerprint(bd_bundle_at(b, i));
			return bd_bundle_remove(b, &fp);
		}
	}
	return tl_error_set(TL_E_NOTFOUND, "the newest version has no authority %s", name);
}

static int revoke(json_t **reply, struct pub_session *s, const char *domain, const char *key_path,
	const char *authority, const char *reason, const char *proof_out)
{
	char path[64 + BD_MAX_DOMAIN];
	tl_buf newest = tl_buf_make(BD_MAX_BUNDLE_SIZE), canonical = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	tl_buf rev_text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1), text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1);
	tl_buf body = tl_buf_make(1u << 20);
	bd_entry *rev = calloc(1, sizeof(*rev)), *e = calloc(1, sizeof(*e));
	bd_bundle *b = NULL;
	tl_signer *key = NULL;
	uint64_t next, seq, hint;
	bool has_newest;
	int err;

	if (rev == NULL || e == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if (strlen(reason) > BD_ENTRY_MAX_REASON) {
		err = tl_error_set(TL_E_INPUT, "--reason has more than %u bytes", BD_ENTRY_MAX_REASON);
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/domains/%s/bundle", domain);
	if ((err = tl_signer_load(&key, key_path)) != 0 ||
	    (err = pub_domain_sequences(&next, &has_newest, &seq, s, domain)) != 0 ||
	    (err = bd_client_get(&newest, s->client, path, BD_MAX_BUNDLE_SIZE)) != 0 ||
	    (err = bd_bundle_parse(&b, newest.data, newest.len, 0, NULL)) != 0 ||
	    (err = remove_authority(rev, b, authority)) != 0)
		goto out;
	if (!bd_bundle_refresh_hint(&hint, b))
		hint = 0;
	if ((err = pub_version_entry(e, &canonical, b, domain, next, hint)) != 0)
		goto out;
	rev->kind = BD_ENTRY_REVOCATION;
	memcpy(rev->domain, domain, strlen(domain) + 1);
	memcpy(rev->reason, reason, strlen(reason) + 1);
	rev->sequence = e->sequence;
	rev->sha256 = e->sha256;
	memcpy(rev->cid, e->cid, sizeof(rev->cid));
	rev->time = e->time;
	snprintf(path, sizeof(path), "/v1/domains/%s/revocations", domain);
	if ((err = pub_sign(&rev_text, rev, s, key)) != 0 || (err = pub_sign(&text, e, s, key)) != 0 ||
	    (err = bd_revocation_request_write(&body, rev_text.data, rev_text.len, text.data, text.len)) != 0)
		goto out;
	err = pub_submit(reply, s, path, &body, &text, proof_out);
out:
	bd_bundle_free(b);
	tl_signer_free(key);
	free(rev);
	free(e);
	tl_buf_free(&newest);
	tl_buf_free(&canonical);
	tl_buf_free(&rev_text);
	tl_buf_free(&text);
	tl_buf_free(&body);
	return err;
}

static int run(int argc, char **argv)
{
	const char *domain = NULL, *key = NULL, *authority = NULL, *reason = NULL, *proof_out = NULL;
	struct cli_server server = CLI_SERVER_INIT;
	int json = 0, rc, err;
	const struct cli_opt opts[] = {
		CLI_SERVER_OPTS(&server),
		CLI_OPT_VALUE("key", &key),
		CLI_OPT_VALUE("domain", &domain),
		CLI_OPT_VALUE("authority", &authority),
		CLI_OPT_VALUE("reason", &reason),
		CLI_OPT_VALUE("proof-out", &proof_out),
		CLI_OPT_FLAG("json", &json),
	};
	const struct cli_cmd_spec spec = CLI_SPEC(CMD, USAGE, help_text, opts, 0, 0, "");
	struct pub_session s;
	json_t *reply = NULL;
	size_t n_args;

	if ((rc = cli_opt_parse(NULL, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if ((rc = cli_server_check(&spec, &server)) != CLI_OK)
		return cli_opt_exit(rc);
	if (domain == NULL || key == NULL || authority == NULL || reason == NULL)
		return cli_opt_usage_error(&spec, "--key, --domain, --authority and --reason are required");
	if (strlen(domain) > BD_MAX_DOMAIN)
		return cli_opt_usage_error(&spec, "--domain is longer than %u bytes", BD_MAX_DOMAIN);
	if ((err = pub_open(&s, CMD, &server, NULL)) == 0)
		err = revoke(&reply, &s, domain, key, authority, reason, proof_out);
	return pub_finish(&s, err, reply, json, "revoked in");
}

const struct cli_command cli_cmd_revoke = { "revoke", "remove an authority from a domain's bundle, logging why",
	run };
