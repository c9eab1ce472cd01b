/*
 * bundled against a real SPIRE server (issue 13 §3), built from the pinned module
 * tests/peers/spire and run by tests/peers/spire.sh on loopback (SQLite datastore, test CA).
 *
 * SPIRE as the publisher's source: `bundlectl follow` reads SPIRE's own bundle endpoint
 * (federation.bundle_endpoint, the https_web profile with a certificate from the test CA),
 * which serves what `spire-server bundle show` lists.
 * With a one-minute CA TTL SPIRE prepares its next CA within a minute and serves a higher
 * spiffe_sequence; each sequence the follower sees becomes a logged version: sequences
 * increasing, each version's bytes the canonical form of what SPIRE served under that
 * sequence, each entry proven in the log by `bundlectl verify-inclusion`. The daemon is
 * stopped and restarted on its port while the follower runs, which must carry on, and SPIRE
 * is stopped at the end: the follower reports it and stops only on SIGTERM (exit 0).
 *
 * SPIRE federating with a domain served by bundled: configured with federates_with and the
 * https_web profile, trusting the test CA only through SSL_CERT_FILE, it fetches the
 * domain's bundle from bundled's federation endpoint over TLS (bundled started with
 * --tls-cert from that CA). After a publish, `spire-server bundle list -id` shows exactly
 * the authorities bundled serves; after `bundlectl revoke`, the revoked one is gone from
 * SPIRE's view within a refresh (a quarter of the version's refresh hint of 60 s).
 *
 * A running `bundlectl agent` follows the domain meanwhile (polling once an hour, so the
 * watch stream is what wakes it; it too rides out the daemon's restart): each rotation
 * reaches it as a verified diff (its log says so for every sequence after its first, fetched
 * whole), and its file ends equal to the canonical bytes of the newest version.
 * Without spire-server in BUNDLED_TEST_PEERS_BIN the suite is left out with a note.
 */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../cli/follow_source.h"
#include "testdaemon.h"
#include "testpki.h"
#include "testrun.h"
#include "testutil.h"

/* SPIRE prepares its next CA at half of ca_ttl and checks every 10 s. The waits only bound a
 * hang: nothing passes or fails on how long a step took. */
#define SPIRE_CA_TTL "1m"
#define ROTATION_WAIT_S 150
#define STEP_WAIT_S 60
#define FED_DOMAIN "bundled.test"
#define FOLLOW_DOMAIN "spire.test"
#define MAX_SEEN 32

static char *dir;
static struct tu_daemon bundled;
static pid_t follower = -1, agent = -1;
static struct tu_output ran;

#define bundlectl(...) tu_run(&ran, dir, "bundlectl", __VA_ARGS__)

static void setup(void)
{
	ck_assert_ptr_nonnull(dir = tu_mkdtemp());
}

static void teardown(void)
{
	if (follower > 0) {
		kill(follower, SIGKILL);
		waitpid(follower, NULL, 0);
		follower = -1;
	}
	if (agent > 0) {
		kill(agent, SIGKILL);
		waitpid(agent, NULL, 0);
		agent = -1;
	}
	if (bundled.pid > 0)
		tu_daemon_stop(&bundled);
	memset(&bundled, 0, sizeof(bundled));
	tu_system("%s stop '%s'", tu_source_path("tests/peers/spire.sh"), dir);
	tu_output_free(&ran);
	tu_rm_rf(dir);
	free(dir);
}

/* Starts SPIRE in dir with the given ca_ttl and federates_with ("TD URL" or ""); its own
 * bundle endpoint's URL goes to url. */
static void spire_start(char *url, size_t cap, const char *ca_ttl, const char *federates_with)
{
	size_t len;
	char *text;

	ck_assert_int_eq(tu_system("SPIRE_CA_TTL=%s SPIRE_FEDERATES_WITH='%s' %s start '%s' >/dev/null", ca_ttl,
				 federates_with, tu_source_path("tests/peers/spire.sh"), dir),
		0);
	ck_assert_ptr_nonnull(text = (char *)tu_read_file(tu_path_in(dir, "bundle_url"), &len));
	text[strcspn(text, "\n")] = '\0';
	ck_assert_uint_lt(strlen(text), cap);
	memcpy(url, text, strlen(text) + 1);
	free(text);
}

/* What `spire-server ARGS` prints over the admin socket, as a bundle; NULL if it fails (a
 * federated bundle SPIRE has not fetched yet). */
static bd_bundle *spire_bundle(const char *args)
{
	bd_bundle *b = NULL;
	uint8_t *data;
	size_t len;

	if (tu_system("%s server '%s' %s > '%s/spire-out.json' 2>/dev/null", tu_source_path("tests/peers/spire.sh"), dir,
		    args, dir) != 0)
		return NULL;
	ck_assert_ptr_nonnull(data = tu_read_file(tu_path_in(dir, "spire-out.json"), &len));
	ck_assert_msg(bd_bundle_parse(&b, data, len, 0, NULL) == 0, "spire-server %s: %s", args, tl_error_message());
	free(data);
	return b;
}

/* A bundle's authorities and nothing else (no sequence, no refresh hint): its X.509 CAs as PEM
 * and its JWT keys as a JWKS, both in canonical order. */
static char *authorities(const bd_bundle *b)
{
	tl_buf out = tl_buf_make(BD_MAX_BUNDLE_SIZE);

	ck_assert_int_eq(bd_bundle_write_pem(&out, b), 0);
	ck_assert_int_eq(bd_bundle_write_jwks(&out, b), 0);
	ck_assert_int_eq(tl_buf_append(&out, "", 1), 0);
	return (char *)out.data;
}

/* Makes a publisher key and registers `td` with it on the daemon at `server` (plus any TLS
 * options in `tls`); the key file is dir/<td>.key. */
static void register_domain(const char *server, const char *tls, const char *td)
{
	char vkey[512], key[4096];

	snprintf(key, sizeof(key), "%s/%s.key", dir, td);
	ck_assert_int_eq(bundlectl("keygen --name pub.%s --out '%s'", td, key), 0);
	ck_assert_uint_lt(strlen(ran.out), sizeof(vkey));
	snprintf(vkey, sizeof(vkey), "%.*s", (int)strcspn(ran.out, "\n"), ran.out);
	ck_assert_msg(bundlectl("domain register --server %s %s --operator-token '%s/bundled-data/operator.token' "
				"--domain %s --publisher-key '%s'", server, tls, dir, td, vkey) == 0,
		"register: %s", ran.err);
}

/* ---- SPIRE as the source of `bundlectl follow` ---- */

/* What the source served under each sequence, canonical. */
struct seen {
	uint64_t sequence;
	tl_buf canonical;
};

/* Reads the source and keeps what it serves; returns the sequence it serves now. */
static uint64_t record(struct seen *seen, size_t *n, struct follow_source *src)
{
	bd_bundle *b = NULL;
	uint64_t seq;

	ck_assert_msg(follow_source_read(&b, &seq, src) == 0, "%s", tl_error_message());
	for (size_t i = 0; i < *n; i++)
		if (seen[i].sequence == seq)
			goto out;
	ck_assert_uint_lt(*n, MAX_SEEN);
	seen[*n].sequence = seq;
	seen[*n].canonical = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	ck_assert_int_eq(bd_bundle_write_canonical(&seen[*n].canonical, b), 0);
	(*n)++;
out:
	bd_bundle_free(b);
	return seq;
}

/* The sequences of the follower's "published" lines, in order. */
static size_t published(uint64_t *seqs, size_t cap, const char *log_path)
{
	static const char tag[] = "msg=\"published\" domain=" FOLLOW_DOMAIN " sequence=";
	size_t len, n = 0;
	char *log = (char *)tu_read_file(log_path, &len);

	for (const char *p = log; p != NULL && (p = strstr(p, tag)) != NULL && n < cap; p += sizeof(tag) - 1)
		seqs[n++] = strtoull(p + sizeof(tag) - 1, NULL, 10);
	free(log);
	return n;
}

/* SPIRE's bundle endpoint serves what `spire-server bundle show` lists (read again when a
 * rotation lands between the two reads). */
static void assert_endpoint_is_bundle_show(struct follow_source *src)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		bd_bundle *served = NULL, *shown = spire_bundle("bundle show -format spiffe");
		uint64_t seq = 0, shown_seq = 0;
		char *a, *b;
		int same;

		ck_assert_ptr_nonnull(shown);
		ck_assert_msg(follow_source_read(&served, &seq, src) == 0, "%s", tl_error_message());
		ck_assert(bd_bundle_sequence(&shown_seq, shown));
		a = authorities(served);
		b = authorities(shown);
		same = strcmp(a, b) == 0;
		ck_assert_msg(same || shown_seq != seq, "sequence %llu: the endpoint and bundle show differ",
			(unsigned long long)seq);
		free(a);
		free(b);
		bd_bundle_free(served);
		bd_bundle_free(shown);
		if (same && shown_seq == seq)
			return;
		sleep(1);
	}
	ck_abort_msg("SPIRE's endpoint and bundle show never agreed");
}

START_TEST(follow_logs_each_spire_rotation)
{
	struct seen seen[MAX_SEEN];
	struct follow_source src;
	char source[256], log_path[4096], listen[64], path[128];
	const char *restart[] = { "--listen", listen, NULL };
	char key[4096], ca[4096], agent_log[4096], agent_out[4096], agent_state[4096], line[128];
	const char *agent_args[] = { "agent", "--server", bundled.base_url, "--domain", FOLLOW_DOMAIN, "--out", agent_out,
		"--state", agent_state, "--log-key", bundled.vkey, "--poll-interval", "1h", NULL };
	const char *follow_args[] = { "follow", "--server", bundled.base_url, "--domain", FOLLOW_DOMAIN, "--key", key,
		"--source", source, "--source-ca", ca, "--interval", "1s", NULL };
	uint64_t seqs[MAX_SEEN];
	size_t n_seen = 0, n = 0, matched = 0, failed, len;
	char *text = NULL;
	json_t *doc;
	int status;

	ck_assert_int_eq(tu_daemon_start(&bundled, tu_path_in(dir, "bundled-data"), NULL), 0);
	register_domain(bundled.base_url, "", FOLLOW_DOMAIN);
	spire_start(source, sizeof(source), SPIRE_CA_TTL, "");
	ck_assert_int_eq(follow_source_open(&src, source, tu_path_in(dir, "ca.pem")), 0);
	assert_endpoint_is_bundle_show(&src);
	record(seen, &n_seen, &src);
	snprintf(log_path, sizeof(log_path), "%s/follow.log", dir);
	snprintf(key, sizeof(key), "%s/" FOLLOW_DOMAIN ".key", dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	ck_assert_int_gt(follower = tu_spawn("bundlectl", follow_args, log_path), 0);
	ck_assert_msg(tu_file_wait(log_path, "msg=\"published\"", 1, STEP_WAIT_S), "nothing published; see %s", log_path);
	snprintf(agent_log, sizeof(agent_log), "%s/agent.log", dir);
	snprintf(agent_out, sizeof(agent_out), "%s/agent.json", dir);
	snprintf(agent_state, sizeof(agent_state), "%s/agent-state", dir);
	ck_assert_int_gt(agent = tu_spawn("bundlectl", agent_args, agent_log), 0);
	ck_assert_msg(tu_file_wait(agent_log, "fetched whole by CID", 1, STEP_WAIT_S), "the agent took nothing; see %s",
		agent_log);

	/* The daemon goes away and comes back on its port: the follower reports and carries on. */
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", bundled.port);
	ck_assert_int_eq(tu_daemon_stop(&bundled), 0);
	ck_assert_msg(tu_file_wait(log_path, "msg=\"look failed\"", 1, STEP_WAIT_S), "no failed look; see %s", log_path);
	ck_assert_int_eq(tu_daemon_start(&bundled, tu_path_in(dir, "bundled-data"), restart), 0);

	/* SPIRE rotates: at least one more version, until the follower has published what SPIRE
	 * serves now (read here too, so both the first and the last were seen by the test). */
	for (int waited = 0; waited < ROTATION_WAIT_S; waited++) {
		uint64_t now = record(seen, &n_seen, &src);

		if ((n = published(seqs, MAX_SEEN, log_path)) >= 2 && seqs[n - 1] == now)
			break;
		sleep(1);
	}
	ck_assert_msg(n >= 2, "no rotation published within %d s (ca_ttl %s); see %s", ROTATION_WAIT_S, SPIRE_CA_TTL,
		log_path);
	/* SPIRE goes away: the follower reports its source and keeps running until told to stop. */
	failed = tu_file_count(log_path, "msg=\"look failed\"");
	ck_assert_int_eq(tu_system("%s stop '%s'", tu_source_path("tests/peers/spire.sh"), dir), 0);
	ck_assert_msg(tu_file_wait(log_path, "msg=\"look failed\" domain=" FOLLOW_DOMAIN " error=\"source ", 1, STEP_WAIT_S),
		"no failed look at the source; see %s", log_path);
	ck_assert_uint_gt(tu_file_count(log_path, "msg=\"look failed\""), failed);
	kill(follower, SIGTERM);
	ck_assert_int_eq(waitpid(follower, &status, 0), follower);
	follower = -1;
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "follow did not stop cleanly: %d", status);
	ck_assert_uint_eq(tu_file_count(log_path, "msg=\"stopping\" signal=SIGTERM"), 1);
	n = published(seqs, MAX_SEEN, log_path);

	/* The agent: every version after the one it started from came as a verified diff, and
	 * its file is the newest version's canonical bytes. */
	snprintf(line, sizeof(line), "version %llu verified and installed (from a diff", (unsigned long long)seqs[n - 1]);
	ck_assert_msg(tu_file_wait(agent_log, line, 1, STEP_WAIT_S), "the agent did not get %llu; see %s",
		(unsigned long long)seqs[n - 1], agent_log);
	kill(agent, SIGTERM);
	ck_assert_int_eq(waitpid(agent, &status, 0), agent);
	agent = -1;
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the agent did not stop cleanly: %d", status);
	ck_assert_uint_eq(tu_file_count(agent_log, "fetched whole by CID"), 1);
	ck_assert_uint_eq(tu_file_count(agent_log, "update refused"), 0);
	for (size_t i = 1; i < n; i++) {
		snprintf(line, sizeof(line), "version %llu verified and installed (from a diff", (unsigned long long)seqs[i]);
		ck_assert_msg(tu_file_count(agent_log, line) == 1, "rotation %llu did not reach the agent as a diff; see %s",
			(unsigned long long)seqs[i], agent_log);
	}
	{
		char *body = NULL, *have;
		size_t have_len;

		snprintf(path, sizeof(path), "/v1/domains/" FOLLOW_DOMAIN "/bundles/%llu", (unsigned long long)seqs[n - 1]);
		ck_assert_int_eq(tu_http_get(&bundled, path, &body, &len), 200);
		ck_assert_ptr_nonnull(have = (char *)tu_read_file(agent_out, &have_len));
		ck_assert_msg(have_len == len && memcmp(have, body, len) == 0, "the agent's file is not version %llu",
			(unsigned long long)seqs[n - 1]);
		free(have);
		free(body);
	}

	/* Each published sequence is a logged version, above the one before, holding exactly what
	 * SPIRE served under it, with an entry the log proves. */
	for (size_t i = 0; i < n; i++) {
		char *body = NULL;

		ck_assert(i == 0 || seqs[i] > seqs[i - 1]);
		snprintf(path, sizeof(path), "/v1/domains/" FOLLOW_DOMAIN "/bundles/%llu", (unsigned long long)seqs[i]);
		ck_assert_int_eq(tu_http_get(&bundled, path, &body, &len), 200);
		for (size_t j = 0; j < n_seen; j++)
			if (seen[j].sequence == seqs[i]) {
				ck_assert_msg(len == seen[j].canonical.len && memcmp(body, seen[j].canonical.data, len) == 0,
					"version %llu is not what SPIRE served", (unsigned long long)seqs[i]);
				matched++;
			}
		free(body);
		ck_assert_msg(bundlectl("verify-inclusion --server %s --log-key '%s' --domain " FOLLOW_DOMAIN " --sequence %llu",
				      bundled.base_url, bundled.vkey, (unsigned long long)seqs[i]) == 0,
			"verify-inclusion %llu: %s", (unsigned long long)seqs[i], ran.err);
	}
	/* Both the first and the last were read here as well. */
	ck_assert_uint_ge(matched, 2);
	ck_assert_int_eq(tu_http_get(&bundled, "/v1/domains/" FOLLOW_DOMAIN, &text, &len), 200);
	ck_assert_ptr_nonnull(doc = json_loads(text, 0, NULL));
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "versions")), (json_int_t)n);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "sequence")), (json_int_t)seqs[n - 1]);
	json_decref(doc);
	free(text);
	fprintf(stderr, "spire: follow logged %zu versions, sequences %llu..%llu\n", n, (unsigned long long)seqs[0],
		(unsigned long long)seqs[n - 1]);
	for (size_t i = 0; i < n_seen; i++)
		tl_buf_free(&seen[i].canonical);
	follow_source_close(&src);
}
END_TEST

/* ---- SPIRE federating with a domain bundled serves ---- */

/* Waits until SPIRE's view of FED_DOMAIN holds exactly the authorities of `want`. */
static int spire_view_is(const bd_bundle *want, int seconds)
{
	char *a = authorities(want);
	int same = 0;

	for (int i = 0; i <= seconds && !same; i++) {
		bd_bundle *view = spire_bundle("bundle list -id spiffe://" FED_DOMAIN " -format spiffe");
		char *b = view != NULL ? authorities(view) : NULL;

		same = b != NULL && strcmp(a, b) == 0;
		free(b);
		bd_bundle_free(view);
		if (!same)
			sleep(1);
	}
	free(a);
	return same;
}

START_TEST(spire_federates_with_a_domain_bundled_serves)
{
	struct follow_source fed;
	char cert[4096], key[4096], https[64], tls[4200], url[256], spire_url[256], fp_hex[2 * TL_HASH_SIZE + 1];
	const char *args[] = { "--tls-cert", cert, "--tls-key", key, NULL };
	char *pki = tp_make_pki();
	bd_bundle *served = NULL, *other = NULL;
	uint8_t *data;
	size_t len;
	uint64_t seq;

	/* bundled's certificate from the test CA SPIRE is given as its trust store. */
	ck_assert_int_eq(tu_system("%s cert '%s' bundled", tu_source_path("tests/peers/spire.sh"), dir), 0);
	snprintf(cert, sizeof(cert), "%s/bundled.pem", dir);
	snprintf(key, sizeof(key), "%s/bundled.key", dir);
	ck_assert_int_eq(tu_daemon_start(&bundled, tu_path_in(dir, "bundled-data"), args), 0);
	snprintf(https, sizeof(https), "https://127.0.0.1:%u", bundled.port);
	snprintf(tls, sizeof(tls), "--cacert '%s/ca.pem'", dir);
	register_domain(https, tls, FED_DOMAIN);

	/* A version of two authorities (two unrelated CAs), refreshed every 60 s. */
	ck_assert_int_eq(tu_system("cat '%s' '%s' > '%s/two.pem'", tp_path(pki, "ca.pem"), tp_path(pki, "other-ca.pem"), dir),
		0);
	ck_assert_msg(bundlectl("publish --server %s %s --key '%s/" FED_DOMAIN ".key' --domain " FED_DOMAIN
				" --refresh-hint 60 '%s/two.pem'", https, tls, dir, dir) == 0,
		"publish: %s", ran.err);
	snprintf(url, sizeof(url), "%s/v1/domains/" FED_DOMAIN "/bundle", https);
	ck_assert_int_eq(follow_source_open(&fed, url, tu_path_in(dir, "ca.pem")), 0);
	ck_assert_msg(follow_source_read(&served, &seq, &fed) == 0, "%s", tl_error_message());
	ck_assert_uint_eq(bd_bundle_count(served), 2);

	snprintf(url, sizeof(url), FED_DOMAIN " %s/v1/domains/" FED_DOMAIN "/bundle", https);
	spire_start(spire_url, sizeof(spire_url), "24h", url);
	ck_assert_msg(spire_view_is(served, STEP_WAIT_S), "SPIRE never showed bundled's version %llu; see %s/server.log",
		(unsigned long long)seq, dir);
	ck_assert_uint_eq(tu_file_count(tu_path_in(dir, "server.log"), "x509:"), 0);

	/* Revoking one: bundled serves the next version without it, and SPIRE drops it. */
	ck_assert_ptr_nonnull(data = tu_read_file(tp_path(pki, "other-ca.pem"), &len));
	ck_assert_int_eq(bd_bundle_parse(&other, data, len, 0, NULL), 0);
	free(data);
	tl_hex_encode(fp_hex, bd_authority_fingerprint(bd_bundle_at(other, 0))->b, TL_HASH_SIZE);
	ck_assert_msg(bundlectl("revoke --server %s %s --key '%s/" FED_DOMAIN ".key' --domain " FED_DOMAIN
				" --authority %s --reason 'test: key compromise'", https, tls, dir, fp_hex) == 0,
		"revoke: %s", ran.err);
	bd_bundle_free(served);
	ck_assert_msg(follow_source_read(&served, &seq, &fed) == 0, "%s", tl_error_message());
	ck_assert_uint_eq(bd_bundle_count(served), 1);
	ck_assert_int_ne(bd_bundle_find(&len, served, bd_authority_fingerprint(bd_bundle_at(other, 0))), 0);
	ck_assert_msg(spire_view_is(served, STEP_WAIT_S), "SPIRE still trusts the revoked CA; see %s/server.log", dir);

	bd_bundle_free(served);
	bd_bundle_free(other);
	follow_source_close(&fed);
	ck_assert_int_eq(tu_daemon_stop(&bundled), 0);
	tu_rm_rf(pki);
	free(pki);
}
END_TEST

Suite *suite_peer_spire(void)
{
	Suite *s = suite_create("peer_spire");
	const char *bin = getenv("BUNDLED_TEST_PEERS_BIN");
	char path[4096];
	TCase *tc;

	snprintf(path, sizeof(path), "%s/spire-server", bin != NULL ? bin : "");
	if (access(path, X_OK) != 0) {
		tu_suite_left_out("peer_spire", "no spire-server in BUNDLED_TEST_PEERS_BIN (tests/peers/build.sh builds "
						"tests/peers/spire)");
		return s;
	}
	tc = tcase_create("spire_source");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, ROTATION_WAIT_S + 3 * STEP_WAIT_S);
	tcase_add_test(tc, follow_logs_each_spire_rotation);
	suite_add_tcase(s, tc);
	tc = tcase_create("spire_federation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 3 * STEP_WAIT_S + 60);
	tcase_add_test(tc, spire_federates_with_a_domain_bundled_serves);
	suite_add_tcase(s, tc);
	return s;
}
