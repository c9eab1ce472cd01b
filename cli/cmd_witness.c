/*
 * bundlectl witness serve: a C2SP tlog-witness. It serves POST /add-checkpoint over HTTP
 * and cosigns (cosignature/v1) the checkpoints of the configured logs that are consistent
 * with the last one it cosigned for each (translog/witness.h has the decisions and the state).
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bundled/httpd.h"
#include "cli.h"
#include "opt.h"
#include "translog/key.h"
#include "translog/pkcs11.h"
#include "translog/witness.h"

#define CMD "witness serve"
#define MAX_LOGS 64

#define USAGE \
	"usage: bundlectl witness serve --key FILE|pkcs11:URI --log VKEY [--log VKEY...] --state DIR\n" \
	"                               [--listen HOST:PORT] [--pkcs11-pin-file FILE]\n" \
	"                               [--tls-cert FILE --tls-key FILE]\n"

static const char help_text[] = USAGE
	"\n"
	"Runs a transparency log witness (C2SP tlog-witness) on HOST:PORT (default\n"
	"127.0.0.1:8450; port 0 takes a free port): POST /add-checkpoint takes \"old <size>\",\n"
	"a consistency proof and a checkpoint signed by one of the logs' keys, and answers with a\n"
	"cosignature/v1 line (C2SP tlog-cosignature) once the checkpoint is proven consistent with\n"
	"the last one it cosigned for that log and that new state is on disk. Refusals use the\n"
	"spec's statuses: 404 unknown log, 403 no valid log signature, 400 malformed, 409 with the\n"
	"size last cosigned (text/x.tlog.size), 422 the proof does not verify.\n"
	"\n"
	"  --key FILE|URI   the witness key, a cosigner key (bundlectl keygen --cosigner): a key\n"
	"                   file, or a pkcs11: URI of a key in a PKCS#11 token (PIN from\n"
	"                   --pkcs11-pin-file or $BUNDLED_PKCS11_PIN)\n"
	"  --log VKEY       a log's verifier key; its name is the log's origin (repeatable, up to\n"
	"                   64; several keys may share an origin)\n"
	"  --state DIR      one file per log with the last cosigned checkpoint (created if absent;\n"
	"                   a file that does not verify stops the witness)\n"
	"  --tls-cert FILE  serve HTTPS with this PEM certificate chain (the server's first)\n"
	"  --tls-key FILE   its PEM private key (mode 0600)\n"
	"\n"
	"Logs one logfmt line per request on stderr. SIGINT or SIGTERM stop it cleanly.\n"
	"exit status: 0 stopped by a signal, 2 usage error or could not start\n";

static int open_key(tl_signer **out, const char *key, const char *pin_file)
{
	char pin[TL_PKCS11_MAX_PIN + 1];
	int err;

	if (!tl_pkcs11_uri_is(key))
		return tl_signer_load(out, key);
	if ((err = tl_pkcs11_pin_load(pin, pin_file, "BUNDLED_PKCS11_PIN")) == 0)
		err = tl_pkcs11_signer_open(out, key, pin);
	tl_pkcs11_pin_wipe(pin);
	return err;
}

static int parse_listen(char *host, size_t host_cap, unsigned *port, const char *addr)
{
	const char *colon = strrchr(addr, ':');
	size_t host_len;
	uint64_t p;

	if (colon == NULL)
		return -1;
	host_len = (size_t)(colon - addr);
	if (host_len >= 2 && addr[0] == '[' && addr[host_len - 1] == ']') {
		addr++;
		host_len -= 2;
	}
	if (host_len == 0 || host_len >= host_cap || tl_parse_u64(&p, colon + 1, strlen(colon + 1)) != 0 || p > 65535)
		return -1;
	memcpy(host, addr, host_len);
	host[host_len] = '\0';
	*port = (unsigned)p;
	return 0;
}

/* A reason for a log field: one line, no double quotes (they would end the field). */
static void log_text(char *out, size_t cap, const uint8_t *text, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < cap; i++) {
		uint8_t ch = text[i];

		if (ch == '\n' && i + 1 == len)
			break;
		out[n++] = ch == '"' ? '\'' : (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	out[n] = '\0';
}

static bool is_blocking(const bd_httpd_request *req, void *ctx)
{
	return true; /* every request may fsync */
}

static int handle(bd_httpd_response *res, const bd_httpd_request *req, void *ctx)
{
	tl_witness *w = ctx;
	tl_buf reply = tl_buf_make(65536);
	const char *type;
	unsigned status = 500;
	int err;

	if (req->path_len != strlen("/add-checkpoint") || memcmp(req->target, "/add-checkpoint", req->path_len) != 0) {
		err = bd_httpd_reply(res, 404, "text/plain; charset=utf-8", "not found\n", 10);
		goto out;
	}
	if (strcmp(req->method, "POST") != 0) {
		if ((err = bd_httpd_reply(res, 405, "text/plain; charset=utf-8", "use POST\n", 9)) == 0)
			err = bd_httpd_add_header(res, "Allow", "POST");
		goto out;
	}
	err = tl_witness_add_checkpoint(&reply, &status, w, req->body, req->body_len, (uint64_t)time(NULL));
	if (err) {
		cli_log("error", "add-checkpoint", "peer=%s status=500 error=\"%s\"", req->peer, tl_error_message());
		goto out;
	}
	if (status == 200) {
		cli_log("info", "add-checkpoint", "peer=%s status=200", req->peer);
	} else {
		char reason[256];

		log_text(reason, sizeof(reason), reply.data, reply.len);
		cli_log("info", "add-checkpoint", "peer=%s status=%u reason=\"%s\"", req->peer, status, reason);
	}
	type = status == 409 ? TL_WITNESS_SIZE_TYPE : "text/plain; charset=utf-8";
	err = bd_httpd_reply(res, status, type, reply.data, reply.len);
out:
	tl_buf_free(&reply);
	return err;
}

/* Where and how it listens. */
struct listen_spec {
	const char *host;
	unsigned port;
	const char *tls_cert, *tls_key; /* both or neither */
};

static int serve(tl_witness *w, const struct listen_spec *ls, const char *state)
{
	bd_httpd_options opts = {
		.host = ls->host,
		.port = ls->port,
		.tls_cert = ls->tls_cert,
		.tls_key = ls->tls_key,
		.max_body = TL_WITNESS_MAX_REQUEST,
		.handler = handle,
		.blocking = is_blocking,
		.ctx = w,
	};
	bd_httpd *srv = NULL;
	sigset_t stop;
	int sig = 0;

	/* Blocked before the server's threads start, so they inherit the mask and the signals
	 * wait for sigwait below. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (bd_httpd_start(&srv, &opts) != 0)
		return cli_fail(CMD, tl_error_code());
	cli_log("info", "listening", "addr=%s:%u tls=%s state=\"%s\"", ls->host, bd_httpd_port(srv),
		ls->tls_cert != NULL ? "on" : "off", state);
	sigwait(&stop, &sig);
	cli_log("info", "stopping", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	bd_httpd_stop(srv);
	cli_log("info", "stopped", "%s", "");
	return CLI_OK;
}

static int run_serve(int argc, char **argv)
{
	const char *key = NULL, *state = NULL, *listen = "127.0.0.1:8450", *pin_file = NULL;
	struct listen_spec ls = { 0 };
	const char *log_text[MAX_LOGS], *args[1];
	size_t n_logs = 0, n_args;
	const struct cli_opt opts[] = {
		CLI_OPT_VALUE("key", &key),
		CLI_OPT_LIST("log", log_text, &n_logs),
		CLI_OPT_VALUE("state", &state),
		CLI_OPT_VALUE("listen", &listen),
		CLI_OPT_VALUE("pkcs11-pin-file", &pin_file),
		CLI_OPT_VALUE("tls-cert", &ls.tls_cert),
		CLI_OPT_VALUE("tls-key", &ls.tls_key),
	};
	const struct cli_cmd_spec spec = CLI_SPEC(CMD, USAGE, help_text, opts, 0, 0, "");
	tl_verifier *logs[MAX_LOGS] = { 0 };
	tl_signer *signer = NULL;
	tl_witness *w = NULL;
	tl_buf vkey = tl_buf_make(TL_MAX_KEY_TEXT);
	char host[256];
	int rc, err;

	if ((rc = cli_opt_parse(args, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if (key == NULL || state == NULL || n_logs == 0)
		return cli_opt_usage_error(&spec, "--key, --state and at least one --log are required");
	if (parse_listen(host, sizeof(host), &ls.port, listen) != 0)
		return cli_opt_usage_error(&spec, "--listen \"%s\" is not HOST:PORT", listen);
	if ((ls.tls_cert == NULL) != (ls.tls_key == NULL))
		return cli_opt_usage_error(&spec, "--tls-cert and --tls-key go together");
	ls.host = host;
	for (size_t i = 0; i < n_logs; i++)
		if ((err = tl_verifier_parse(&logs[i], log_text[i], strlen(log_text[i]))) != 0) {
			cli_fail(CMD, tl_error_wrap(err, "--log \"%s\"", log_text[i]));
			rc = CLI_USAGE;
			goto out;
		}
	if ((err = open_key(&signer, key, pin_file)) != 0 ||
	    (err = tl_witness_open(&w, &(tl_witness_config){ signer, (const tl_verifier *const *)logs, n_logs, state })) != 0 ||
	    (err = tl_signer_vkey(&vkey, signer)) != 0) {
		cli_fail(CMD, err);
		rc = CLI_USAGE;
		goto out;
	}
	cli_log("info", "witness open", "name=\"%s\" vkey=%s logs=%zu", tl_signer_name(signer), (const char *)vkey.data, n_logs);
	rc = serve(w, &ls, state);
	if (rc != CLI_OK)
		rc = CLI_USAGE;
out:
	tl_witness_free(w);
	tl_signer_free(signer);
	for (size_t i = 0; i < n_logs; i++)
		tl_verifier_free(logs[i]);
	tl_buf_free(&vkey);
	return rc;
}

static int run(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return run_serve(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(help_text, stdout);
		return CLI_OK;
	}
	fprintf(stderr, "bundlectl witness: expected \"serve\"\n%s", USAGE);
	return CLI_USAGE;
}

const struct cli_command cli_cmd_witness = { "witness", "run a transparency log witness (C2SP tlog-witness)", run };
