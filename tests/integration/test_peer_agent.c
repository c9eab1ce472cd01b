/*
 * The agent's fault matrix: every way a server (or whoever sits between it and the agent)
 * can lie, through the tamperproxy of tests/peers and through other real daemons (another
 * log key; the same log key with another history: a split view; a log operator that logged
 * a version signed by a key the domain never had). Each is refused with the reason said,
 * and leaves the agent's file and state byte for byte as they were; afterwards the honest
 * server brings the agent up to date.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundled/bundle.h"
#include "bundled/dag.h"
#include "testagent.h"
#include "testbundle.h"
#include "testentry.h"
#include "testpeers.h"
#include "testutil.h"

#define TD "faults.agent.test"

struct fixture {
	struct tu_world w;
	char out[4200], state[4200], args[9000];
	pid_t replay_first, replay_diff;
	char replay_first_url[128], replay_diff_url[128];
	struct tu_agent_files before;
};

static const char *const domains[] = { TD };

/* An agent holding version 2 of TD, version 3 published and pending; two replaying proxies
 * that recorded an answer for version 1 (whole) and the diff from 1 to 2. */
static void setup(struct fixture *f)
{
	struct tu_output o = { 0 };

	memset(f, 0, sizeof(*f));
	tu_world_start(&f->w, domains, 1, NULL, NULL);
	ck_assert_uint_ge(f->w.h.n, 3);
	snprintf(f->out, sizeof(f->out), "%s/out.json", f->w.dir);
	snprintf(f->state, sizeof(f->state), "%s/state", f->w.dir);
	snprintf(f->args, sizeof(f->args), "--domain " TD " --out '%s' --state '%s' --log-key '%s' --timeout 2s", f->out,
		f->state, f->w.d.vkey);
	f->replay_first = tu_proxy_start_mode(f->replay_first_url, sizeof(f->replay_first_url), f->w.dir, f->w.d.base_url,
		"/v1/domains/", "replay");
	f->replay_diff = tu_proxy_start_mode(f->replay_diff_url, sizeof(f->replay_diff_url), f->w.dir, f->w.d.base_url,
		"/v1/domains/", "replay");
	tu_world_publish(&f->w, TD, 0);
	ck_assert_msg(tu_agent_once(&o, f->w.dir, f->replay_first_url, "%s", f->args) == 0, "%s", o.err);
	tu_world_publish(&f->w, TD, 1);
	ck_assert_msg(tu_agent_once(&o, f->w.dir, f->replay_diff_url, "%s", f->args) == 0, "%s", o.err);
	ck_assert_ptr_nonnull(strstr(o.err, "version 2 verified and installed (from a diff"));
	tu_world_publish(&f->w, TD, 2);
	tu_agent_files_get(&f->before, f->out, f->state);
	tu_output_free(&o);
}

static void teardown(struct fixture *f)
{
	struct tu_output o = { 0 };
	size_t want_len;
	uint8_t *want;

	/* The honest server: the agent catches up. */
	ck_assert_msg(tu_agent_once(&o, f->w.dir, f->w.d.base_url, "%s", f->args) == 0, "%s", o.err);
	want = tu_world_newest(&f->w, TD, &want_len);
	tu_agent_files_free(&f->before);
	tu_agent_files_get(&f->before, f->out, f->state);
	ck_assert(f->before.out_len == want_len && memcmp(f->before.out, want, want_len) == 0);
	free(want);
	tu_agent_files_free(&f->before);
	tu_proxy_stop(f->replay_first);
	tu_proxy_stop(f->replay_diff);
	tu_output_free(&o);
	tu_world_stop(&f->w);
}

/* Runs the agent against url: refused with `status`, saying `reason`, nothing changed. */
static void expect_refused(struct fixture *f, const char *url, int status, const char *reason, const char *what)
{
	struct tu_output o = { 0 };
	struct tu_agent_files after;

	ck_assert_msg(tu_agent_once(&o, f->w.dir, url, "%s", f->args) == status, "%s: status, stderr: %s", what, o.err);
	ck_assert_msg(strstr(o.err, reason) != NULL, "%s: stderr lacks \"%s\": %s", what, reason, o.err);
	tu_agent_files_get(&after, f->out, f->state);
	tu_agent_files_assert_same(&f->before, &after, what);
	tu_agent_files_free(&after);
	tu_output_free(&o);
}

/* Through a proxy that corrupts the answers to paths under `prefix` as `mode` says. */
static void through_proxy_at(struct fixture *f, const char *prefix, const char *mode, int status, const char *reason)
{
	char url[128], what[128];
	pid_t p = tu_proxy_start_mode(url, sizeof(url), f->w.dir, f->w.d.base_url, prefix, mode);

	snprintf(what, sizeof(what), "%s on %s", mode, prefix);
	expect_refused(f, url, status, reason, what);
	tu_proxy_stop(p);
}

static void through_proxy(struct fixture *f, const char *mode, int status, const char *reason)
{
	through_proxy_at(f, "/v1/domains/", mode, status, reason);
}

START_TEST(refuses_what_a_proxy_tampers_with)
{
	struct fixture f;

	setup(&f);
	through_proxy(&f, "bddr-patch", 1, "the patch");
	through_proxy(&f, "wrong-base", 1, "not the one held");
	through_proxy(&f, "bddr-checkpoint", 1, "checkpoint refused");
	through_proxy(&f, "bddr-entry", 1, "is not in the log");
	through_proxy(&f, "rollback", 1, "sequence rollback");
	through_proxy(&f, "truncate", 1, "diff response");
	through_proxy(&f, "slow", 2, "did not answer");
	/* The log's new entries, read one by one with their inclusion proofs: an altered entry
	 * or proof is not in the verified tree. */
	through_proxy_at(&f, "/v1/log/entries/", "flip", 1, "is not in the verified tree");
	through_proxy_at(&f, "/v1/log/proof/inclusion", "flip", 1, "is not in the verified tree");
	/* The answers recorded earlier, given again. */
	expect_refused(&f, f.replay_first_url, 1, "older than the", "replay of version 1");
	expect_refused(&f, f.replay_diff_url, 1, "sequence rollback: offered 2, holding 2", "replay of the diff from 1 to 2");
	expect_refused(&f, "http://127.0.0.1:9", 2, "did not answer", "server down");
	teardown(&f);
}
END_TEST

START_TEST(refuses_another_log_and_a_split_view)
{
	struct fixture f;
	struct tu_world other, split;
	struct tu_output o = { 0 };
	struct stat sb;
	char log_key[4300];

	setup(&f);
	/* Another log (its own key), the same domain, publisher and versions. */
	tu_world_start(&other, domains, 1, NULL, f.w.key);
	for (size_t v = 0; v < 3; v++)
		tu_world_publish(&other, TD, v);
	expect_refused(&f, other.d.base_url, 1, "checkpoint refused", "another log's checkpoint");
	tu_world_stop(&other);
	/* The same log key signing another history: a fork, with its evidence. */
	snprintf(log_key, sizeof(log_key), "%s/log.key", f.w.data);
	tu_world_start(&split, domains, 1, log_key, f.w.key);
	tu_world_publish(&split, TD, 0);
	tu_world_publish(&split, TD, 2);
	tu_world_publish(&split, TD, 1);
	expect_refused(&f, split.d.base_url, 1, "ALARM: fork", "split view");
	ck_assert_int_eq(stat(tu_path_in(f.state, "evidence/1-old.checkpoint"), &sb), 0);
	ck_assert_int_eq(stat(tu_path_in(f.state, "evidence/1-new.checkpoint"), &sb), 0);
	ck_assert_int_eq(stat(tu_path_in(f.state, "evidence/1-fork.txt"), &sb), 0);
	ck_assert_int_eq(stat(tu_path_in(f.state, "evidence/1-consistency.proof"), &sb), 0);
	/* The evidence is what `bundlectl verify-consistency` takes, and it refuses it. */
	ck_assert_int_eq(tu_run(&o, f.w.dir, "bundlectl", "verify-consistency --vkey '%s' '%s/evidence/1-old.checkpoint' "
					"'%s/evidence/1-new.checkpoint' '%s/evidence/1-consistency.proof'",
				 f.w.d.vkey, f.state, f.state, f.state), 1);
	tu_world_stop(&split);
	tu_output_free(&o);
	teardown(&f);
}
END_TEST

/* A log whose operator logged version 2 of TD signed by a key TD never had (the daemon's
 * publisher would refuse it; the registry, which checks no signature, takes it). */
START_TEST(refuses_a_version_signed_by_a_key_the_domain_never_had)
{
	tl_signer *k = tu_signer(1, "publisher.faults.test"), *stranger = tu_signer(2, "stranger.faults.test");
	bd_entry *e[3];
	char *texts[3];
	size_t lens[3], vlen;
	uint8_t *vector = tu_bundle_vector("ca-p256.pem", &vlen);
	tl_buf canon = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	bd_dag *dag = NULL;
	bd_bundle *b;
	struct tu_daemon d;
	struct tu_output o = { 0 };
	struct stat sb;
	char *dir = tu_mkdtemp(), data[4200];

	e[0] = tu_register(TD, &k, 1, 1000);
	for (uint64_t seq = 1; seq <= 2; seq++) {
		ck_assert_int_eq(bd_bundle_parse(&b, vector, vlen, 0, NULL), 0);
		ck_assert_ptr_nonnull(e[seq] = calloc(1, sizeof(bd_entry)));
		e[seq]->kind = BD_ENTRY_BUNDLE;
		snprintf(e[seq]->domain, sizeof(e[seq]->domain), TD);
		e[seq]->time = 1000 + seq;
		tl_buf_reset(&canon);
		bd_dag_free(dag);
		ck_assert_int_eq(bd_entry_set_version(e[seq], &canon, &dag, b, seq, 300, NULL), 0);
		ck_assert_int_eq(bd_entry_sign(e[seq], "faults.test/log", seq == 1 ? k : stranger), 0);
		bd_bundle_free(b);
	}
	for (size_t i = 0; i < 3; i++)
		texts[i] = tu_entry_text(e[i], &lens[i]);
	snprintf(data, sizeof(data), "%s/data", dir);
	tu_daemon_prepare(data, "faults.test/log", (const void *const[]){ texts[0], texts[1], texts[2] }, lens, 3, 0, dag);
	ck_assert_int_eq(tu_daemon_start(&d, data, NULL), 0);
	ck_assert_int_eq(tu_agent_once(&o, dir, d.base_url, "--domain " TD " --out '%s/out.json' --state '%s/state' --log-key '%s'",
				 dir, dir, d.vkey), 1);
	ck_assert_msg(strstr(o.err, "signed by a key the domain does not hold") != NULL, "%s", o.err);
	ck_assert_int_ne(stat(tu_path_in(dir, "out.json"), &sb), 0);
	ck_assert_int_ne(stat(tu_path_in(dir, "state/state"), &sb), 0);
	tu_daemon_stop(&d);
	for (size_t i = 0; i < 3; i++) {
		free(texts[i]);
		free(e[i]);
	}
	bd_dag_free(dag);
	tl_buf_free(&canon);
	free(vector);
	tl_signer_free(k);
	tl_signer_free(stranger);
	tu_output_free(&o);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

Suite *suite_peer_agent(void)
{
	Suite *s = suite_create("peer_agent");
	TCase *tc = tcase_create("faults");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, refuses_what_a_proxy_tampers_with);
	tcase_add_test(tc, refuses_another_log_and_a_split_view);
	tcase_add_test(tc, refuses_a_version_signed_by_a_key_the_domain_never_had);
	suite_add_tcase(s, tc);
	return s;
}
