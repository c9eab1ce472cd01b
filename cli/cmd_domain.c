/*
 * bundlectl domain register|add-key|remove-key: a trust domain's registration (by the
 * operator of bundled) and its publisher-key changes (signed by a key the domain holds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundled/request.h"
#include "cli.h"
#include "opt.h"
#include "publisher.h"

#define CMD "domain"
#define MAX_TOKEN 1024

#define USAGE \
	"usage: bundlectl domain register [--server URL] --operator-token FILE --domain TD\n" \
	"                                 --publisher-key VKEY [--publisher-key VKEY]...\n" \
	"       bundlectl domain add-key|remove-key [--server URL] --key FILE --domain TD VKEY\n" \
	"       (and [--cacert FILE] [--client-cert FILE --client-key FILE])\n"

static const char help_text[] = USAGE
	"\n"
	"register: registers the SPIFFE trust domain TD with its publisher keys (verifier keys\n"
	"  printed by `bundlectl keygen`), authorised by the operator token in FILE (the daemon\n"
	"  writes it to DATA/operator.token on its first start).\n"
	"add-key, remove-key: adds or removes the publisher key VKEY, signed with the private\n"
	"  key in FILE, which TD must hold now. A domain always keeps at least one key.\n"
	"\n"
	CLI_SERVER_HELP
	"  --json              print the outcome as one JSON object (domain, index, checkpoint)\n"
	"\n"
	"The daemon answers once the entry is in a durable checkpoint; the answer's inclusion\n"
	"proof is checked against the log's key before this prints what was logged.\n"
	"exit status: 0 logged, 1 refused (the reason on stderr), 2 usage, I/O or server error\n";

/* "Bearer <the token file's one line>". */
static int read_token(char *out, size_t cap, const char *path)
{
	uint8_t *data = NULL;
	size_t len;
	int rc;

	if ((rc = cli_read_file(&data, &len, path, MAX_TOKEN)) != CLI_OK)
		return rc;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len == 0 || len + 8 > cap || memchr(data, '\n', len) != NULL) {
		fprintf(stderr, "bundlectl " CMD ": %s: not one line holding the operator token\n", path);
		free(data);
		return CLI_USAGE;
	}
	snprintf(out, cap, "Bearer %.*s", (int)len, (const char *)data);
	free(data);
	return CLI_OK;
}

/* The entry the daemon logged for a registration must be just that. */
static int check_registration(const tl_buf *leaf, const char *domain)
{
	bd_entry *e = calloc(1, sizeof(*e));
	int err;

	if (e == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((err = bd_entry_parse(e, leaf->data, leaf->len)) == 0 &&
	    (e->kind != BD_ENTRY_DOMAIN || e->action != BD_DOMAIN_REGISTER || strcmp(e->domain, domain) != 0))
		err = tl_error_set(TL_E_INPUT, "the daemon's entry is not the registration of %s", domain);
	free(e);
	return err;
}

static int run_register(struct pub_session *s, const char *domain, const char *const *keys, size_t n_keys,
	json_t **reply)
{
	tl_buf body = tl_buf_make(1u << 20), leaf = tl_buf_make(BD_ENTRY_MAX_SIZE + 1);
	int err;

	if ((err = bd_register_request_write(&body, domain, keys, n_keys)) == 0 &&
	    (err = pub_submit(reply, s, "/v1/domains", &body, &leaf, NULL)) == 0)
		err = check_registration(&leaf, domain);
	tl_buf_free(&body);
	tl_buf_free(&leaf);
	return err;
}

static int run_key_change(struct pub_session *s, const char *domain, bd_domain_action action, const char *vkey,
	const char *key_path, json_t **reply)
{
	char path[64 + BD_MAX_DOMAIN];
	tl_buf text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1), body = tl_buf_make(1u << 20);
	tl_signer *key = NULL;
	bd_entry *e = calloc(1, sizeof(*e));
	json_t *state = NULL;
	int err;

	if (e == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if (strlen(domain) > BD_MAX_DOMAIN || strlen(vkey) > BD_MAX_VKEY) {
		err = tl_error_set(TL_E_INPUT, "the domain or the key is too long");
		goto out;
	}
	e->kind = BD_ENTRY_DOMAIN;
	e->action = action;
	memcpy(e->domain, domain, strlen(domain) + 1);
	e->n_keys = 1;
	memcpy(e->keys[0], vkey, strlen(vkey) + 1);
	/* A key change must claim a time after the domain's last one: two in one second are
	 * fine, within the daemon's allowed skew. */
	snprintf(path, sizeof(path), "/v1/domains/%s", domain);
	if ((err = pub_get_json(&state, s, path)) != 0)
		goto out;
	e->time = (uint64_t)time(NULL);
	if (json_integer_value(json_object_get(state, "keys_time")) >= (json_int_t)e->time)
		e->time = (uint64_t)json_integer_value(json_object_get(state, "keys_time")) + 1;
	snprintf(path, sizeof(path), "/v1/domains/%s/keys", domain);
	if ((err = tl_signer_load(&key, key_path)) != 0 || (err = pub_sign(&text, e, s, key)) != 0 ||
	    (err = bd_key_request_write(&body, text.data, text.len)) != 0)
		goto out;
	err = pub_submit(reply, s, path, &body, &text, NULL);
out:
	json_decref(state);
	tl_signer_free(key);
	free(e);
	tl_buf_free(&text);
	tl_buf_free(&body);
	return err;
}

static int run(int argc, char **argv)
{
	const char *token = NULL, *domain = NULL, *key = NULL, *keys[BD_ENTRY_MAX_KEYS];
	struct cli_server server = CLI_SERVER_INIT;
	const char *args[2];
	size_t n_keys = 0, n_args;
	int json = 0, rc, err;
	const struct cli_opt opts[] = {
		CLI_SERVER_OPTS(&server),
		CLI_OPT_VALUE("operator-token", &token),
		CLI_OPT_VALUE("domain", &domain),
		CLI_OPT_LIST("publisher-key", keys, &n_keys),
		CLI_OPT_VALUE("key", &key),
		CLI_OPT_FLAG("json", &json),
	};
	const struct cli_cmd_spec spec = CLI_SPEC(CMD, USAGE, help_text, opts, 1, 2, "register|add-key|remove-key");
	struct pub_session s;
	json_t *reply = NULL;
	bool reg;

	if ((rc = cli_opt_parse(args, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	reg = strcmp(args[0], "register") == 0;
	if (!reg && strcmp(args[0], "add-key") != 0 && strcmp(args[0], "remove-key") != 0)
		return cli_opt_usage_error(&spec, "unknown subcommand '%s'", args[0]);
	if ((rc = cli_server_check(&spec, &server)) != CLI_OK)
		return cli_opt_exit(rc);
	if (domain == NULL)
		return cli_opt_usage_error(&spec, "--domain is required");
	if (reg && (token == NULL || n_keys == 0 || n_args != 1 || key != NULL))
		return cli_opt_usage_error(&spec, "register takes --operator-token and at least one --publisher-key");
	if (!reg && (key == NULL || n_args != 2 || token != NULL || n_keys != 0))
		return cli_opt_usage_error(&spec, "%s takes --key FILE and one VKEY", args[0]);
	if (reg) {
		char auth[MAX_TOKEN + 16];

		if ((rc = read_token(auth, sizeof(auth), token)) != CLI_OK)
			return rc;
		if ((err = pub_open(&s, CMD, &server, auth)) == 0)
			err = run_register(&s, domain, keys, n_keys, &reply);
	} else if ((err = pub_open(&s, CMD, &server, NULL)) == 0) {
		err = run_key_change(&s, domain, args[0][0] == 'a' ? BD_DOMAIN_ADD_KEY : BD_DOMAIN_REMOVE_KEY, args[1], key,
			&reply);
	}
	return pub_finish(&s, err, reply, json, reg ? "registered" : "changed keys of");
}

const struct cli_command cli_cmd_domain = { "domain", "register a trust domain, add or remove a publisher key", run };
