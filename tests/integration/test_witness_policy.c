/*
 * The daemon's witness policy against real witnesses: bundled with three `bundlectl witness
 * serve` processes on loopback. With the quorum met, /checkpoint carries valid cosignatures
 * by the witnesses' keys and the auditor's quorum policy accepts it; with a witness down the
 * "serve" policy serves the newest checkpoint short of the quorum (which the auditor refuses)
 * and "hold" keeps the last one that met it until the witness is back; the daemon restarted
 * on a copy of its data with a forked tree is refused by every witness (422), loses the
 * quorum, and its metrics say so. One witness also serves HTTPS, trusted through a CA file.
 */
#include <check.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testdaemon.h"
#include "testentry.h"
#include "testpki.h"
#include "testpublish.h"
#include "testrun.h"
#include "testutil.h"
#include "translog/checkpoint.h"
#include "translog/cosig.h"
#include "translog/db.h"
#include "translog/follow.h"
#include "translog/key.h"
#include "translog/log.h"
#include "translog/note.h"

#define NW 3
#define ORIGIN "witness.test/log"

static char *tmp, *pki;
static char log_vkey[TL_MAX_KEY_TEXT];
static tl_signer *log_key;
static tl_verifier *log_v, *wv[NW];
static char wvkey[NW][TL_MAX_KEY_TEXT];
static struct tu_daemon wit[NW];
static unsigned wit_port[NW];
static int next_domain;

/* TMP/name (tu_path_in's four buffers: at most four alive at once). */
#define path_in(name) tu_path_in(tmp, name)

static void key_text(char *out, size_t cap, const tl_signer *s)
{
	tl_buf b = tl_buf_make(TL_MAX_KEY_TEXT);

	ck_assert_int_eq(tl_signer_vkey(&b, s), 0);
	ck_assert_uint_lt(b.len, cap);
	memcpy(out, b.data, b.len);
	out[b.len] = '\0';
	tl_buf_free(&b);
}

/* Witness i (0: over HTTPS with the test PKI's server certificate) on `port` (0: any). */
static void witness_start(int i, unsigned port)
{
	char name[32], listen[32];
	const char *tls[] = { "--tls-cert", tp_path(pki, "server.pem"), "--tls-key", tp_path(pki, "server.key") };
	const char *args[16] = { "witness", "serve", "--key", NULL, "--log", log_vkey, "--state", NULL, "--listen", listen };
	size_t n = 10;

	snprintf(name, sizeof(name), "w%d.key", i);
	args[3] = path_in(name);
	snprintf(name, sizeof(name), "w%d-state", i);
	args[7] = path_in(name);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	if (i == 0)
		for (size_t k = 0; k < 4; k++)
			args[n++] = tls[k];
	snprintf(name, sizeof(name), "w%d.log", i);
	ck_assert_int_eq(tu_server_start(&wit[i], "bundlectl", args, path_in(name)), 0);
	wit_port[i] = wit[i].port;
}

static void witness_stop(int i)
{
	ck_assert_int_eq(tu_daemon_stop(&wit[i]), 0);
}

static void setup(void)
{
	char path[4200];

	tmp = tu_mkdtemp();
	pki = tp_make_pki();
	next_domain = 0;
	ck_assert_int_eq(tl_signer_generate(&log_key, ORIGIN), 0);
	key_text(log_vkey, sizeof(log_vkey), log_key);
	ck_assert_int_eq(tl_verifier_from_signer(&log_v, log_key), 0);
	for (int i = 0; i < NW; i++) {
		tl_signer *s;
		char name[64];

		snprintf(name, sizeof(name), "w%d.witness.test", i);
		ck_assert_int_eq(tl_signer_generate_typed(&s, name, TL_KEY_TYPE_COSIGNATURE), 0);
		snprintf(name, sizeof(name), "w%d.key", i);
		ck_assert_int_eq(tl_signer_save(s, path_in(name)), 0);
		key_text(wvkey[i], sizeof(wvkey[i]), s);
		ck_assert_int_eq(tl_verifier_from_signer(&wv[i], s), 0);
		tl_signer_free(s);
		witness_start(i, 0);
	}
	/* The log's data directory: the key the witnesses know; the daemon makes the rest. */
	snprintf(path, sizeof(path), "%s/data", tmp);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/data/log.key", tmp);
	ck_assert_int_eq(tl_signer_save(log_key, path), 0);
}

static void teardown(void)
{
	for (int i = 0; i < NW; i++) {
		if (wit[i].pid > 0)
			tu_daemon_stop(&wit[i]);
		tl_verifier_free(wv[i]);
	}
	tl_verifier_free(log_v);
	tl_signer_free(log_key);
	tu_rm_rf(tmp);
	tu_rm_rf(pki);
	free(tmp);
	free(pki);
}

/* bundled on TMP/dir with the three witnesses, quorum and policy. */
static void daemon_start(struct tu_daemon *d, const char *dir, const char *quorum, const char *policy)
{
	char spec[NW][TL_MAX_KEY_TEXT + 64];
	const char *args[24];
	size_t n = 0;

	for (int i = 0; i < NW; i++) {
		snprintf(spec[i], sizeof(spec[i]), "%s://127.0.0.1:%u=%s", i == 0 ? "https" : "http", wit_port[i], wvkey[i]);
		args[n++] = "--witness";
		args[n++] = spec[i];
	}
	args[n++] = "--witness-quorum";
	args[n++] = quorum;
	args[n++] = "--witness-policy";
	args[n++] = policy;
	args[n++] = "--witness-timeout-ms";
	args[n++] = "3000";
	args[n++] = "--witness-refresh";
	args[n++] = "1";
	args[n++] = "--witness-cacert";
	args[n++] = tp_path(pki, "ca.pem");
	args[n] = NULL;
	ck_assert_int_eq(tu_daemon_start(d, path_in(dir), args), 0);
}

/* The served checkpoint: its size, and how many of the witnesses validly cosigned it (an
 * invalid cosignature by one of them fails the test). */
static void served(uint64_t *size, size_t *cosigned, const struct tu_daemon *d)
{
	char *body = NULL;
	size_t len;
	tl_note *n = malloc(sizeof(*n));
	tl_checkpoint cp;

	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(tu_http_get(d, "/checkpoint", &body, &len), 200);
	ck_assert_msg(tl_note_parse(n, (const uint8_t *)body, len) == 0, "%s", tl_error_message());
	ck_assert_int_eq(tl_checkpoint_parse(&cp, n->text, n->text_len), 0);
	ck_assert_msg(tl_cosig_count(cosigned, n, (const tl_verifier *const *)wv, NW) == 0, "%s", tl_error_message());
	*size = cp.size;
	free(n);
	free(body);
}

/* The value of one series in /metrics, as text (static buffer), or "" if absent. */
static const char *metric(const struct tu_daemon *d, const char *series)
{
	static char value[64];
	char *body = NULL, *p;
	size_t len, n = strlen(series);

	value[0] = '\0';
	ck_assert_int_eq(tu_http_get(d, "/metrics", &body, &len), 200);
	for (p = body; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p != NULL ? p + 1 : NULL) {
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			size_t k = strcspn(p + n + 1, "\n");

			snprintf(value, sizeof(value), "%.*s", (int)(k < sizeof(value) - 1 ? k : sizeof(value) - 1), p + n + 1);
			break;
		}
	}
	free(body);
	return value;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Waits (at most 15 s) until the served checkpoint has `size` entries and at least
 * `cosigned` cosignatures by the witnesses; fails the test with what was served otherwise. */
static void wait_served(const struct tu_daemon *d, uint64_t want_size, size_t want_cosigned)
{
	uint64_t size = 0;
	size_t cosigned = 0;

	for (int i = 0; i < 300; i++) {
		served(&size, &cosigned, d);
		if (size == want_size && cosigned >= want_cosigned)
			return;
		sleep_ms(50);
	}
	ck_abort_msg("served size %" PRIu64 " with %zu cosignatures, wanted size %" PRIu64 " with %zu", size, cosigned,
		want_size, want_cosigned);
}

/* Waits (at most 15 s) until the series is `want` (or, with `differ`, is anything else). */
static void wait_metric_is(const struct tu_daemon *d, const char *series, const char *want, bool differ)
{
	for (int i = 0; i < 300; i++) {
		if ((strcmp(metric(d, series), want) == 0) != differ)
			return;
		sleep_ms(50);
	}
	ck_abort_msg("%s is \"%s\", wanted %s%s", series, metric(d, series), differ ? "other than " : "", want);
}

static void wait_metric(const struct tu_daemon *d, const char *series, const char *want)
{
	wait_metric_is(d, series, want, false);
}

/* One more entry through the API (a domain registration); returns the log's new size. */
static uint64_t add_entry(const struct tu_daemon *d, const char *dir)
{
	char td[64], vkey[BD_MAX_VKEY + 1];
	const char *keys[1] = { vkey };
	tl_signer *k = tu_signer((uint8_t)(next_domain + 1), "pub");
	char *body = NULL;
	size_t len;
	const char *size;

	snprintf(td, sizeof(td), "d%d.witness.test", next_domain++);
	tu_vkey(vkey, k);
	tl_signer_free(k);
	tu_api_register(d, path_in(dir), td, keys, 1, 201);
	ck_assert_int_eq(tu_http_get(d, "/v1/log", &body, &len), 200);
	size = strstr(body, "\"size\":");
	ck_assert_ptr_nonnull(size);
	{
		uint64_t v = 0;

		for (const char *p = size + 7; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (uint64_t)(*p - '0');
		free(body);
		return v;
	}
}

/* bundlectl audit of the daemon with the witnesses' keys and a quorum: its exit status. */
static int audit(const struct tu_daemon *d, const char *state, int quorum)
{
	return tu_system("%s audit --server %s --log-key '%s' --state %s --witness '%s' --witness '%s' --witness '%s' "
			 "--witness-quorum %d --tree-only >%s/audit.out 2>%s/audit.err",
		tu_bin_path("bundlectl"), d->base_url, log_vkey, path_in(state), wvkey[0], wvkey[1], wvkey[2], quorum,
		tmp, tmp);
}

START_TEST(with_the_quorum_the_served_checkpoint_carries_valid_cosignatures)
{
	struct tu_daemon d;
	uint64_t size;
	size_t cosigned;
	char *note = NULL;
	size_t len;
	tl_checkpoint cp;

	daemon_start(&d, "data", "2", "serve");
	wait_served(&d, 0, NW);
	size = add_entry(&d, "data");
	size = add_entry(&d, "data");
	ck_assert_uint_eq(size, 2);
	wait_served(&d, size, NW);
	ck_assert_str_eq(metric(&d, "bundled_witness_quorum_met"), "1");
	ck_assert_str_eq(metric(&d, "bundled_witness_lag_entries{witness=\"w1.witness.test\"}"), "0");
	ck_assert_str_ne(metric(&d, "bundled_checkpoint_cosigned_timestamp_seconds"), "0");
	ck_assert_str_eq(metric(&d, "bundled_witness_failures_total{witness=\"w0.witness.test\"}"), "0");
	/* the follower's policy (what the agent and the auditor use) accepts it with all three */
	ck_assert_int_eq(tu_http_get(&d, "/checkpoint", &note, &len), 200);
	ck_assert_msg(tl_follow_verify_checkpoint(&cp, &(tl_follow_config){ { NULL, NULL }, log_v,
		(const tl_verifier *const *)wv, NW, NW }, (const uint8_t *)note, len) == 0, "%s", tl_error_message());
	free(note);
	ck_assert_int_eq(audit(&d, "s1", 3), 0);
	served(&size, &cosigned, &d);
	ck_assert_uint_eq(cosigned, NW);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
}
END_TEST

/* Witness 2 again on its port: the newest checkpoint, `size`, is served with all three
 * cosignatures and the quorum is met; then the daemon stops. */
static void witness_back(struct tu_daemon *d, uint64_t size)
{
	witness_start(2, wit_port[2]);
	wait_served(d, size, NW);
	wait_metric(d, "bundled_witness_quorum_met", "1");
	ck_assert_int_eq(tu_daemon_stop(d), 0);
}

START_TEST(a_witness_down_under_serve_gives_the_newest_checkpoint_short_of_the_quorum)
{
	struct tu_daemon d;
	uint64_t size;

	daemon_start(&d, "data", "3", "serve");
	wait_served(&d, 0, NW);
	witness_stop(2);
	size = add_entry(&d, "data");
	/* served at the new size, with the two cosignatures it got */
	wait_served(&d, size, 2);
	wait_metric(&d, "bundled_witness_quorum_met", "0");
	ck_assert_str_ne(metric(&d, "bundled_witness_failures_total{witness=\"w2.witness.test\"}"), "0");
	ck_assert_str_eq(metric(&d, "bundled_witness_lag_entries{witness=\"w2.witness.test\"}"), "1");
	/* an auditor that requires all three refuses it: could not audit, and says why */
	ck_assert_int_eq(audit(&d, "s1", 3), 2);
	ck_assert_int_eq(tu_system("grep -q '2 of 3 witnesses cosigned, quorum is 3' %s/audit.err", tmp), 0);
	ck_assert_int_eq(audit(&d, "s2", 2), 0);
	/* back: the next round (a refresh, with no commit) meets the quorum again */
	witness_back(&d, size);
}
END_TEST

START_TEST(a_witness_down_under_hold_keeps_the_last_checkpoint_that_met_the_quorum)
{
	struct tu_daemon d;
	uint64_t size, held;
	size_t cosigned;

	daemon_start(&d, "data", "3", "hold");
	held = add_entry(&d, "data");
	ck_assert_uint_eq(held, 1);
	wait_served(&d, held, NW);
	witness_stop(2);
	size = add_entry(&d, "data");
	ck_assert_uint_eq(size, held + 1);
	wait_metric(&d, "bundled_witness_quorum_met", "0");
	/* the held checkpoint, with all three cosignatures, not the newer one */
	wait_served(&d, held, NW);
	ck_assert_str_eq(metric(&d, "bundled_checkpoint_served_size"), "1");
	ck_assert_int_eq(audit(&d, "s1", 3), 0);
	/* restarted with the witness still down: the kept checkpoint is held from the start */
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	daemon_start(&d, "data", "3", "hold");
	served(&size, &cosigned, &d);
	ck_assert_uint_eq(size, held);
	ck_assert_uint_eq(cosigned, NW);
	wait_metric_is(&d, "bundled_witness_rounds_total", "0", true);
	ck_assert_str_eq(metric(&d, "bundled_witness_quorum_met"), "0");
	wait_served(&d, held, NW);
	size = held + 1;
	/* the witness is back: the newest checkpoint reaches the quorum and is served */
	witness_back(&d, size);
}
END_TEST

/* Appends `n` filler entries of `suite` to the log in DIR (the daemon stopped). */
static void append_direct(const char *dir, const char *suite, size_t n)
{
	tl_db *db = tu_daemon_db_open(dir);
	tl_log *log;
	char text[TU_FILLER_ENTRY_MAX];
	uint64_t index;

	ck_assert_int_eq(tl_log_open(&log, db, log_key, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		tu_filler_entry(text, sizeof(text), suite, i);
		ck_assert_int_eq(tl_log_append(&index, log, text, strlen(text)), 0);
	}
	tl_log_close(log);
	tl_db_close(db);
}

START_TEST(the_witnesses_refuse_a_forked_tree_and_the_quorum_is_lost)
{
	struct tu_daemon d;
	uint64_t size;

	daemon_start(&d, "data", "2", "serve");
	size = add_entry(&d, "data");
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	/* the copy: same key, same first entry */
	ck_assert_int_eq(tu_system("cp -a %s %s", path_in("data"), path_in("fork")), 0);
	daemon_start(&d, "data", "2", "serve");
	size = add_entry(&d, "data");
	wait_served(&d, size, NW);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	/* the copy goes another way from there, and grows past what the witnesses cosigned */
	append_direct(path_in("fork"), "fork", 3);
	daemon_start(&d, "fork", "2", "serve");
	wait_metric_is(&d, "bundled_witness_rounds_total", "0", true);
	ck_assert_str_eq(metric(&d, "bundled_witness_quorum_met"), "0");
	ck_assert_str_ne(metric(&d, "bundled_witness_failures_total{witness=\"w1.witness.test\"}"), "0");
	ck_assert_str_eq(metric(&d, "bundled_witness_cosignatures_total{witness=\"w1.witness.test\"}"), "0");
	/* served uncosigned (policy serve), and the witnesses said why: the proof from what they
	 * cosigned does not verify */
	wait_served(&d, 4, 0);
	ck_assert_int_eq(tu_system("grep -q 'status=422' %s", path_in("w1.log")), 0);
	ck_assert_int_eq(tu_system("grep -q 'witness failed.*w1.witness.test.*422' %s", d.log_path), 0);
	ck_assert_int_eq(audit(&d, "s1", 1), 2);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
}
END_TEST

Suite *suite_witness_policy(void)
{
	Suite *s = suite_create("witness_policy");
	TCase *tc = tcase_create("daemon");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, with_the_quorum_the_served_checkpoint_carries_valid_cosignatures);
	tcase_add_test(tc, a_witness_down_under_serve_gives_the_newest_checkpoint_short_of_the_quorum);
	tcase_add_test(tc, a_witness_down_under_hold_keeps_the_last_checkpoint_that_met_the_quorum);
	tcase_add_test(tc, the_witnesses_refuse_a_forked_tree_and_the_quorum_is_lost);
	suite_add_tcase(s, tc);
	return s;
}
