/*
 * bundlectl status: the daemon's log (origin, verifier key, size) and, with --domain, one
 * trust domain's state (publisher keys, newest sequence, versions).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opt.h"
#include "publisher.h"

#define CMD "status"

#define USAGE \
	"usage: bundlectl status [--server URL] [--domain TD] [--json]\n" \
	"                        [--cacert FILE] [--client-cert FILE --client-key FILE]\n"

static const char help_text[] = USAGE
	"\n"
	"Prints the log's origin, verifier key and size (GET /v1/log) and, with --domain, the\n"
	"domain's publisher keys, newest sequence and number of versions (GET /v1/domains/TD).\n"
	"\n"
	CLI_SERVER_HELP
	"  --json              print one object: {\"log\":{...},\"domain\":{...}} as the daemon\n"
	"                      gave them\n"
	"\n"
	"exit status: 0 printed, 2 usage, I/O, not found or server error\n";

static void print_human(const json_t *log, const json_t *dom)
{
	const json_t *keys = json_object_get(dom, "publisher_keys");

	printf("log %s\n  size %" JSON_INTEGER_FORMAT "\n  vkey %s\n", json_string_value(json_object_get(log, "origin")),
		json_integer_value(json_object_get(log, "size")), json_string_value(json_object_get(log, "vkey")));
	if (dom == NULL)
		return;
	printf("domain %s\n", json_string_value(json_object_get(dom, "domain")));
	if (json_object_get(dom, "sequence") != NULL)
		printf("  sequence %" JSON_INTEGER_FORMAT " (entry %" JSON_INTEGER_FORMAT ")\n",
			json_integer_value(json_object_get(dom, "sequence")),
			json_integer_value(json_object_get(dom, "version_index")));
	else
		printf("  no version yet\n");
	printf("  versions %" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(dom, "versions")));
	for (size_t i = 0; i < json_array_size(keys); i++)
		printf("  publisher-key %s\n", json_string_value(json_array_get(keys, i)));
}

static int run(int argc, char **argv)
{
	const char *domain = NULL;
	struct cli_server server = CLI_SERVER_INIT;
	int json = 0, rc, err;
	const struct cli_opt opts[] = {
		CLI_SERVER_OPTS(&server),
		CLI_OPT_VALUE("domain", &domain),
		CLI_OPT_FLAG("json", &json),
	};
	const struct cli_cmd_spec spec = CLI_SPEC(CMD, USAGE, help_text, opts, 0, 0, "");
	struct pub_session s;
	json_t *log = NULL, *dom = NULL;
	char path[64 + BD_MAX_DOMAIN];
	size_t n_args;

	if ((rc = cli_opt_parse(NULL, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if ((rc = cli_server_check(&spec, &server)) != CLI_OK)
		return cli_opt_exit(rc);
	if (domain != NULL && strlen(domain) > BD_MAX_DOMAIN)
		return cli_opt_usage_error(&spec, "--domain is longer than %u bytes", BD_MAX_DOMAIN);
	if ((err = pub_open(&s, CMD, &server, NULL)) != 0 || (err = pub_get_json(&log, &s, "/v1/log")) != 0)
		goto out;
	if (domain != NULL) {
		snprintf(path, sizeof(path), "/v1/domains/%s", domain);
		if ((err = pub_get_json(&dom, &s, path)) != 0)
			goto out;
	}
	if (json) {
		json_t *doc = json_pack("{s:O}", "log", log);
		char *text;

		if (doc != NULL && dom != NULL)
			json_object_set(doc, "domain", dom);
		text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(doc);
		if (text == NULL) {
			err = tl_error_set(TL_E_NOMEM, "out of memory");
			goto out;
		}
		printf("%s\n", text);
		free(text);
	} else {
		print_human(log, dom);
	}
out:
	rc = err ? cli_fail(CMD, err) : CLI_OK;
	json_decref(log);
	json_decref(dom);
	pub_close(&s);
	return rc;
}

const struct cli_command cli_cmd_status = { "status", "show the log and a domain's state", run };
