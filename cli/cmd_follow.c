/*
 * bundlectl follow: keeps a trust domain on bundled in step with a SPIFFE bundle endpoint
 * served over the https_web profile, such as a SPIRE server's own federation endpoint. Each
 * spiffe_sequence the source serves above the domain's newest logged one becomes a signed
 * version, published exactly as `bundlectl publish` does (publisher.c): the source's
 * sequence is the version's sequence, so the log's sequences are SPIRE's own.
 *
 * It keeps running through a source or a daemon that is down (each failed look is logged and
 * retried sooner, backing off up to the interval) and stops cleanly on SIGINT or SIGTERM,
 * never in the middle of a publish: the signals are blocked and only taken while waiting.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "follow_source.h"
#include "opt.h"
#include "publisher.h"
#include "translog/text.h"

#define CMD "follow"

#define FOLLOW_DEFAULT_INTERVAL_S 30u
#define FOLLOW_MAX_INTERVAL_S 86400u /* a day: a longer wait is a stopped follower */
#define FOLLOW_FIRST_RETRY_S 1u

#define USAGE \
	"usage: bundlectl follow [--server URL] --domain TD --key FILE --source URL\n" \
	"                        [--source-ca FILE] [--interval D] [--once]\n" \
	"                        [--cacert FILE] [--client-cert FILE --client-key FILE]\n"

static const char help_text[] = USAGE
	"\n"
	"Reads the SPIFFE bundle endpoint at URL (https only: the https_web profile, e.g. a SPIRE\n"
	"server's federation bundle endpoint) every interval and, whenever the spiffe_sequence\n"
	"it serves is above TD's newest logged version, publishes what it serves as that version:\n"
	"canonicalised, signed with the publisher key in FILE and logged, with the answer's proof\n"
	"checked against the log's key, as `bundlectl publish` does. A source whose sequence is\n"
	"not above the log's (after a revocation logged a higher one) is reported and waited for.\n"
	"\n"
	"  --source URL        the bundle endpoint, https://HOST[:PORT][/PATH]\n"
	"  --source-ca FILE    PEM CA certificates the source's certificate must chain to,\n"
	"                      trusted instead of the system's store\n"
	"  --interval D        time between looks: seconds, or a number ending in s, m or h\n"
	"                      (default 30s, at most 24h)\n"
	"  --once              look once and exit (0: published or nothing new)\n"
	CLI_SERVER_HELP
	"\n"
	"Logs one logfmt line per event on stderr: each version published (domain, sequence,\n"
	"index, sha256, cid), each failed look with the time to the retry (1 s, doubling up to\n"
	"the interval while the source or the daemon stays down). SIGINT or SIGTERM stop it\n"
	"between looks.\n"
	"exit status: 0 stopped by a signal (or --once done), 1 refused or invalid (--once),\n"
	"2 usage, key, I/O or server error (--once)\n";

struct follow {
	const char *domain;
	const struct cli_server *server;
	struct follow_source source;
	struct pub_session session;
	bool session_open;
	tl_signer *key;
	bool seen; /* the sequence last served by the source, and reported */
	uint64_t seen_sequence;
};

/* "90", "90s", "5m", "1h" as seconds in [1, FOLLOW_MAX_INTERVAL_S]. */
static int parse_interval(unsigned *out, const char *text)
{
	size_t n = strlen(text);
	uint64_t v, unit = 1;

	if (n > 0 && strchr("smh", text[n - 1]) != NULL) {
		unit = text[n - 1] == 'h' ? 3600 : text[n - 1] == 'm' ? 60 : 1;
		n--;
	}
	if (n == 0 || tl_parse_u64(&v, text, n) != 0 || v == 0 || v > FOLLOW_MAX_INTERVAL_S / unit)
		return -1;
	*out = (unsigned)(v * unit);
	return 0;
}

static int session_open(struct follow *f)
{
	char origin[4 * TL_MAX_KEY_NAME + 1];
	int err;

	if (f->session_open)
		return 0;
	if ((err = pub_open(&f->session, CMD, f->server, NULL)) != 0) {
		pub_close(&f->session);
		return err;
	}
	f->session_open = true;
	tl_text_printable(origin, sizeof(origin), f->session.origin, strlen(f->session.origin));
	cli_log("info", "log open", "server=\"%s\" origin=\"%s\"", bd_client_url(f->session.client), origin);
	return 0;
}

static void log_published(const json_t *reply, const char *domain)
{
	char sha[2 * TL_HASH_SIZE + 8], cid[128];
	const char *s = json_string_value(json_object_get(reply, "sha256")), *c = json_string_value(json_object_get(reply, "cid"));

	tl_text_printable(sha, sizeof(sha), s ? s : "", s ? strlen(s) : 0);
	tl_text_printable(cid, sizeof(cid), c ? c : "", c ? strlen(c) : 0);
	cli_log("info", "published", "domain=%s sequence=%" JSON_INTEGER_FORMAT " index=%" JSON_INTEGER_FORMAT
		" sha256=%s cid=%s%s", domain,
		json_integer_value(json_object_get(reply, "sequence")), json_integer_value(json_object_get(reply, "index")),
		sha, cid, json_is_true(json_object_get(reply, "existing")) ? " existing=true" : "");
}

/* Reports a source sequence that is not published, once per sequence. */
static void log_not_above(struct follow *f, uint64_t seq, uint64_t newest)
{
	if (f->seen && f->seen_sequence == seq)
		return;
	if (seq == newest)
		cli_log("info", "already logged", "domain=%s sequence=%" PRIu64, f->domain, seq);
	else
		cli_log("warn", "source behind the log", "domain=%s source_sequence=%" PRIu64 " logged_sequence=%" PRIu64,
			f->domain, seq, newest);
}

/* One look: reads the source and publishes what it serves when its sequence is above the
 * domain's newest. */
static int follow_round(struct follow *f)
{
	bd_bundle *b = NULL;
	json_t *reply = NULL;
	uint64_t seq, next, newest = 0, hint;
	bool has_newest;
	int err;

	if ((err = session_open(f)) != 0 || (err = follow_source_read(&b, &seq, &f->source)) != 0 ||
	    (err = pub_domain_sequences(&next, &has_newest, &newest, &f->session, f->domain)) != 0)
		goto out;
	if (has_newest && seq <= newest) {
		log_not_above(f, seq, newest);
	} else {
		if (!bd_bundle_refresh_hint(&hint, b))
			hint = 0;
		if ((err = pub_publish_version(&reply, &f->session, f->domain, f->key, b, seq, hint, NULL)) != 0)
			goto out;
		log_published(reply, f->domain);
	}
	f->seen = true;
	f->seen_sequence = seq;
out:
	json_decref(reply);
	bd_bundle_free(b);
	return err;
}

/* Waits `seconds` for one of the blocked signals in `stop`: its number, or 0 at the end. */
static int wait_signal(const sigset_t *stop, unsigned seconds)
{
	struct timespec end, now, left;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += seconds;
	for (;;) {
		int sig;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			return 0;
		left.tv_sec = end.tv_sec - now.tv_sec;
		left.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		sig = sigtimedwait(stop, NULL, &left);
		if (sig > 0)
			return sig;
		if (errno != EINTR && errno != EAGAIN)
			return 0;
	}
}

static int follow_loop(struct follow *f, unsigned interval)
{
	unsigned retry = 0;
	sigset_t stop;
	int sig;

	/* Blocked for the whole run: a signal is taken between looks, never inside a publish. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	for (;;) {
		char why[1024];
		const char *msg;

		if (follow_round(f) == 0) {
			retry = 0;
		} else {
			retry = retry == 0 ? FOLLOW_FIRST_RETRY_S : retry * 2;
			if (retry > interval)
				retry = interval;
			msg = tl_error_message();
			tl_text_printable(why, sizeof(why), msg, strlen(msg));
			cli_log("error", "look failed", "domain=%s error=\"%s\" retry_in=%us", f->domain, why, retry);
		}
		if ((sig = wait_signal(&stop, retry != 0 ? retry : interval)) != 0)
			break;
	}
	cli_log("info", "stopping", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	return CLI_OK;
}

static int run(int argc, char **argv)
{
	const char *domain = NULL, *key = NULL, *source = NULL, *source_ca = NULL, *interval_text = NULL;
	struct cli_server server = CLI_SERVER_INIT;
	int once = 0, rc, err;
	const struct cli_opt opts[] = {
		CLI_SERVER_OPTS(&server),
		CLI_OPT_VALUE("domain", &domain),
		CLI_OPT_VALUE("key", &key),
		CLI_OPT_VALUE("source", &source),
		CLI_OPT_VALUE("source-ca", &source_ca),
		CLI_OPT_VALUE("interval", &interval_text),
		CLI_OPT_FLAG("once", &once),
	};
	const struct cli_cmd_spec spec = CLI_SPEC(CMD, USAGE, help_text, opts, 0, 0, "");
	struct follow f = { .server = &server };
	unsigned interval = FOLLOW_DEFAULT_INTERVAL_S;
	size_t n_args;

	if ((rc = cli_opt_parse(NULL, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if ((rc = cli_server_check(&spec, &server)) != CLI_OK)
		return cli_opt_exit(rc);
	if (domain == NULL || key == NULL || source == NULL)
		return cli_opt_usage_error(&spec, "--domain, --key and --source are required");
	if (strlen(domain) > BD_MAX_DOMAIN)
		return cli_opt_usage_error(&spec, "--domain is longer than %u bytes", BD_MAX_DOMAIN);
	if (interval_text != NULL && parse_interval(&interval, interval_text) != 0)
		return cli_opt_usage_error(&spec, "--interval \"%s\" is not 1s to 24h (N, Ns, Nm or Nh)", interval_text);
	if (follow_source_open(&f.source, source, source_ca) != 0)
		return cli_opt_usage_error(&spec, "--source: %s", tl_error_message());
	f.domain = domain;
	if ((err = tl_signer_load(&f.key, key)) != 0) {
		rc = cli_fail(CMD, err);
		goto out;
	}
	if (once) {
		rc = (err = follow_round(&f)) != 0 ? cli_fail(CMD, err) : CLI_OK;
		goto out;
	}
	cli_log("info", "following", "domain=%s source=\"%s%s\" interval=%us", domain, bd_http_url(f.source.http),
		f.source.path, interval);
	rc = follow_loop(&f, interval);
out:
	if (f.session_open)
		pub_close(&f.session);
	follow_source_close(&f.source);
	tl_signer_free(f.key);
	return rc;
}

const struct cli_command cli_cmd_follow = { "follow",
	"publish each new version a SPIFFE bundle endpoint (a SPIRE server) serves", run };
