/*
 * The auditor against the real daemon on loopback: a log of two domains with versions, key
 * changes and a revocation, built through the libraries, is audited clean (with every version
 * fetched by CID); then the daemon serves a copy with one entry rewritten in its database, a
 * second log under the same key (a fork), and a version whose entry names bytes other than
 * its CID's: each is caught, the fork with evidence `bundlectl verify-consistency` rejects.
 * An audit stopped every chunk and resumed ends with the same result as one in one go.
 */
#include <check.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bundled/audit.h"
#include "bundled/blockstore.h"
#include "bundled/bundle.h"
#include "bundled/client.h"
#include "bundled/dag.h"
#include "bundled/entry.h"
#include "testbundle.h"
#include "testdaemon.h"
#include "testentry.h"
#include "testrun.h"
#include "testutil.h"
#include "translog/checkpoint.h"
#include "translog/db.h"
#include "translog/key.h"
#include "translog/log.h"

enum { VERSIONS = 280, MAX_ENTRIES = 400 };

struct testlog {
	size_t n;
	char *text[MAX_ENTRIES];
	size_t len[MAX_ENTRIES];
	size_t n_dags;
	bd_dag *dags[MAX_ENTRIES];
};

static tl_signer *log_key, *k1, *k2, *k3;
static char *tmp;

static void add(struct testlog *l, bd_entry *e)
{
	ck_assert_uint_lt(l->n, MAX_ENTRIES);
	l->text[l->n] = tu_entry_text(e, &l->len[l->n]);
	l->n++;
	free(e);
}

/* A version of bundle.pem (minus `drop` authorities from the front) with this sequence,
 * its DAG kept for the block store. */
static bd_entry *version(struct testlog *l, const char *domain, uint64_t seq, size_t drop, const tl_signer *key,
	tl_hash *dropped)
{
	size_t len;
	uint8_t *pem = tu_bundle_vector("bundle.pem", &len);
	bd_bundle *b = NULL;
	bd_entry *e = calloc(1, sizeof(*e));

	ck_assert_int_eq(bd_bundle_parse(&b, pem, len, 0, NULL), 0);
	for (size_t i = 0; i < drop; i++) {
		tl_hash fp = *bd_authority_fingerprint(bd_bundle_at(b, 0));

		if (dropped != NULL)
			*dropped = fp;
		ck_assert_int_eq(bd_bundle_remove(b, &fp), 0);
	}
	e->kind = BD_ENTRY_BUNDLE;
	strcpy(e->domain, domain);
	e->time = 1700000000 + seq;
	ck_assert_msg(bd_entry_set_version(e, NULL, &l->dags[l->n_dags++], b, seq, 300, NULL) == 0, "%s",
		tl_error_message());
	ck_assert_int_eq(bd_entry_sign(e, TU_LOG_ORIGIN, key), 0);
	bd_bundle_free(b);
	free(pem);
	return e;
}

/* Two domains; a.example adds k2 and drops k1; VERSIONS versions; a revocation at the end;
 * `extra` more versions of b.example (a different tail for the fork). */
static void build_log_revoking(struct testlog *l, size_t extra, size_t drop)
{
	tl_signer *keys1[] = { k1 }, *keys3[] = { k3 };
	uint64_t seq_a = 0, seq_b = 0;
	bd_entry *v, *rev;

	memset(l, 0, sizeof(*l));
	add(l, tu_register("a.example", keys1, 1, 1700000000));
	add(l, tu_register("b.example", keys3, 1, 1700000000));
	add(l, tu_key_change("a.example", BD_DOMAIN_ADD_KEY, k2, k1, 1700000001));
	for (size_t i = 0; i < VERSIONS; i++) {
		if (i == 10)
			add(l, tu_key_change("a.example", BD_DOMAIN_REMOVE_KEY, k1, k2, 1700000002));
		if (i % 2 == 0)
			add(l, version(l, "a.example", ++seq_a, 0, i < 10 ? k1 : k2, NULL));
		else
			add(l, version(l, "b.example", ++seq_b, 0, k3, NULL));
	}
	/* revoke the first authority of a.example's newest version */
	rev = calloc(1, sizeof(*rev));
	if (drop == 0) { /* the revocation names an authority the version still holds */
		free(version(l, "a.example", 1, 1, k2, &rev->authority_sha256));
		bd_dag_free(l->dags[--l->n_dags]);
	}
	v = version(l, "a.example", ++seq_a, drop, k2, drop != 0 ? &rev->authority_sha256 : NULL);
	rev->kind = BD_ENTRY_REVOCATION;
	strcpy(rev->domain, "a.example");
	strcpy(rev->reason, "key compromise");
	rev->sequence = v->sequence;
	rev->sha256 = v->sha256;
	memcpy(rev->cid, v->cid, sizeof(rev->cid));
	rev->time = v->time;
	ck_assert_int_eq(bd_entry_sign(rev, TU_LOG_ORIGIN, k2), 0);
	add(l, rev);
	add(l, v);
	for (size_t i = 0; i < extra; i++)
		add(l, version(l, "b.example", ++seq_b + 1000, 0, k3, NULL));
}

static void build_log(struct testlog *l, size_t extra)
{
	build_log_revoking(l, extra, 1);
}

static void free_log(struct testlog *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->text[i]);
	for (size_t i = 0; i < l->n_dags; i++)
		bd_dag_free(l->dags[i]);
}

/* DIR/log.key (the shared log key) and DIR/db with the log and every version's blocks. */
static void prepare(const char *dir, const struct testlog *l)
{
	char path[4200];
	tl_db *db;
	tl_log *log;
	bd_blockstore *bs;
	uint64_t first;

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/log.key", dir);
	ck_assert_int_eq(tl_signer_save(log_key, path), 0);
	db = tu_daemon_db_open(dir);
	ck_assert_int_eq(tl_log_open(&log, db, log_key, NULL), 0);
	ck_assert_int_eq(tl_log_append_batch(&first, log, (const void *const *)l->text, l->len, l->n), 0);
	tl_log_close(log);
	ck_assert_int_eq(bd_blockstore_open(&bs, db), 0);
	for (size_t i = 0; i < l->n_dags; i++)
		ck_assert_int_eq(bd_blockstore_put_dag(bs, l->dags[i]), 0);
	bd_blockstore_close(bs);
	tl_db_close(db);
}

struct audit_run {
	struct tu_daemon d;
	bd_client *client;
	tl_verifier *vkey;
	bd_audit_options o;
};

static void start(struct audit_run *r, const char *dir)
{
	ck_assert_int_eq(tu_daemon_start(&r->d, dir, NULL), 0);
	ck_assert_int_eq(bd_client_open(&r->client, &(bd_client_options){ .url = r->d.base_url }), 0);
	ck_assert_int_eq(tl_verifier_from_signer(&r->vkey, log_key), 0);
	memset(&r->o, 0, sizeof(r->o));
	r->o.follow.transport.fetch = bd_client_fetch;
	r->o.follow.transport.ctx = r->client;
	r->o.follow.log_key = r->vkey;
	r->o.blocks = r->client;
}

static void stop(struct audit_run *r)
{
	bd_client_close(r->client);
	tl_verifier_free(r->vkey);
	ck_assert_int_eq(tu_daemon_stop(&r->d), 0);
}

static void audit(bd_audit_report *rep, struct audit_run *r, const char *state)
{
	r->o.state_dir = state;
	ck_assert_msg(bd_audit_run(rep, &r->o) == 0, "%s", tl_error_message());
}

static bool has_finding(const bd_audit_report *rep, bd_audit_kind kind)
{
	for (size_t i = 0; i < rep->n_kept; i++)
		if (rep->findings[i].kind == kind)
			return true;
	return false;
}

/* TMP/name, in one of a few buffers that live until the test ends. */
static const char *path_in(const char *name)
{
	static char paths[8][4200];
	static size_t next;
	char *p = paths[next++ % 8];

	snprintf(p, sizeof(paths[0]), "%s/%s", tmp, name);
	return p;
}

/* The daemon on TMP/name, a data directory holding log l (altered by `alter` if not NULL). */
static void serve(struct audit_run *r, const struct testlog *l, const char *name, void (*alter)(const char *dir))
{
	const char *data = path_in(name);

	prepare(data, l);
	if (alter != NULL)
		alter(data);
	start(r, data);
}

/* An audit one entry bundle at a time: stopped after the first, resumed from the state. */
static void audit_resumed(bd_audit_report *rep, struct audit_run *r, const char *state)
{
	bd_audit_report part;

	r->o.chunk = 256;
	r->o.max_entries = 1;
	audit(&part, r, state);
	ck_assert(!part.complete);
	ck_assert_uint_eq(part.audited, 256);
	bd_audit_report_free(&part);
	audit(rep, r, state);
	ck_assert(rep->complete);
	ck_assert_uint_eq(rep->start, 256);
	r->o.chunk = 0;
	r->o.max_entries = 0;
}

static void setup(void)
{
	tmp = tu_mkdtemp();
	ck_assert_int_eq(tl_signer_generate(&log_key, TU_LOG_ORIGIN), 0);
	k1 = tu_signer(1, "pub1");
	k2 = tu_signer(2, "pub2");
	k3 = tu_signer(3, "pub3");
}

static void teardown(void)
{
	tl_signer_free(log_key);
	tl_signer_free(k1);
	tl_signer_free(k2);
	tl_signer_free(k3);
	tu_rm_rf(tmp);
	free(tmp);
}

START_TEST(a_log_is_audited_clean_and_resumes_to_the_same_result)
{
	struct testlog l;
	struct audit_run r;
	struct tu_output out = { 0 };
	bd_audit_report rep;
	const char *s1 = path_in("s1");

	build_log(&l, 0);
	serve(&r, &l, "data", NULL);
	audit(&rep, &r, s1);
	for (size_t i = 0; i < rep.n_kept; i++)
		printf("finding %s %llu %s\n", bd_audit_kind_name(rep.findings[i].kind), (unsigned long long)rep.findings[i].index,
			rep.findings[i].message);
	ck_assert_uint_eq(rep.n_findings, 0);
	ck_assert(rep.complete);
	ck_assert_uint_eq(rep.audited, l.n);
	ck_assert_uint_eq(rep.checked, l.n);
	ck_assert_uint_eq(rep.versions_fetched, VERSIONS + 1);
	ck_assert_uint_ge(rep.tiles_checked, 2); /* full 0/0, partial 0/1 */
	bd_audit_report_free(&rep);
	/* a state of one mode refuses the other */
	r.o.tree_only = true;
	r.o.state_dir = s1;
	ck_assert_int_eq(bd_audit_run(&rep, &r.o), TL_E_INPUT);
	r.o.tree_only = false;
	/* again: nothing new, still clean */
	audit(&rep, &r, s1);
	ck_assert_uint_eq(rep.checked, 0);
	ck_assert_uint_eq(rep.n_findings, 0);
	bd_audit_report_free(&rep);
	/* one bundle at a time, resumed from the state */
	audit_resumed(&rep, &r, path_in("s2"));
	ck_assert_uint_eq(rep.audited, l.n);
	ck_assert_uint_eq(rep.n_findings, 0);
	bd_audit_report_free(&rep);
	/* the command line: exit 0 and a JSON summary (blocks through the gateway option) */
	ck_assert_int_eq(tu_run(&out, tmp, "bundlectl", "audit --server %s --log-key '%s' --state %s/s3 --fetch-bundles "
		"--ipfs-gateway %s --threads 2 --json", r.d.base_url, r.d.vkey, tmp, r.d.base_url), 0);
	/* a witness policy the daemon's checkpoints do not meet: could not audit (2) */
	ck_assert_int_eq(tu_system("W=$(%s keygen --cosigner --name w.example --out %s/w.key) && %s audit --server %s "
		"--log-key '%s' --state %s/s4 --witness \"$W\" --witness-quorum 1 2>%s/err.txt",
		tu_bin_path("bundlectl"), tmp, tu_bin_path("bundlectl"), r.d.base_url, r.d.vkey, tmp, tmp), 2);
	ck_assert_int_eq(tu_system("grep -q '0 of 1 witnesses cosigned, quorum is 1' %s/err.txt", tmp), 0);
	ck_assert_ptr_nonnull(strstr(out.out, "\"findings\":[]"));
	ck_assert_ptr_nonnull(strstr(out.out, "\"complete\":true"));
	tu_output_free(&out);
	stop(&r);
	free_log(&l);
}
END_TEST

/* Rewrites one entry of the full bundle 0 in the daemon's database (same length). */
static void alter_entry(const char *dir)
{
	tl_db *db = tu_daemon_db_open(dir);
	rocksdb_column_family_handle_t *cf = tl_db_cf(db, "tl_entries");
	uint8_t key[8] = { 0 };
	char *value, *err = NULL, *p;
	size_t len;

	ck_assert_ptr_nonnull(cf);
	ck_assert_int_eq(tl_db_get(&value, &len, db, cf, key, sizeof(key)), 0);
	p = NULL;
	for (size_t i = 0; p == NULL && i + 11 <= len; i++)
		if (memcmp(value + i, "sequence 3\n", 11) == 0)
			p = value + i;
	ck_assert_ptr_nonnull(p);
	p[9] = '4';
	rocksdb_put_cf(tl_db_rocks(db), tl_db_sync_write(db), cf, (const char *)key, sizeof(key), value, len, &err);
	ck_assert_ptr_null(err);
	free(value);
	tl_db_close(db);
}

static void assert_same_findings(const bd_audit_report *a, const bd_audit_report *b)
{
	ck_assert_uint_eq(a->n_findings, b->n_findings);
	for (size_t i = 0; i < a->n_kept; i++) {
		ck_assert_int_eq(a->findings[i].kind, b->findings[i].kind);
		ck_assert_uint_eq(a->findings[i].index, b->findings[i].index);
		ck_assert_str_eq(a->findings[i].message, b->findings[i].message);
	}
}

START_TEST(an_altered_entry_is_caught_resumed_or_not)
{
	struct testlog l;
	struct audit_run r;
	bd_audit_report rep, part;

	build_log(&l, 0);
	serve(&r, &l, "data", alter_entry);
	audit(&rep, &r, path_in("s1"));
	ck_assert(has_finding(&rep, BD_AUDIT_TILE));
	ck_assert(has_finding(&rep, BD_AUDIT_ROOT));
	ck_assert(has_finding(&rep, BD_AUDIT_SIGNATURE)); /* the altered entry's own signature */
	audit_resumed(&part, &r, path_in("s2"));
	assert_same_findings(&rep, &part);
	bd_audit_report_free(&part);
	/* the tree alone shows it too */
	r.o.tree_only = true;
	audit(&part, &r, path_in("s3"));
	ck_assert(has_finding(&part, BD_AUDIT_TILE));
	ck_assert(has_finding(&part, BD_AUDIT_ROOT));
	ck_assert(!has_finding(&part, BD_AUDIT_SIGNATURE));
	bd_audit_report_free(&part);
	bd_audit_report_free(&rep);
	stop(&r);
	free_log(&l);
}
END_TEST

START_TEST(a_fork_is_caught_with_evidence)
{
	struct testlog la, lb;
	struct audit_run r;
	bd_audit_report rep;
	const char *s = path_in("s");
	bool checked_proof = false;

	build_log(&la, 0);
	build_log(&lb, 3);
	/* b: the same history but for one entry, then more: a second log under the same key */
	free(lb.text[5]);
	lb.text[5] = strdup(la.text[6]);
	lb.len[5] = la.len[6];
	serve(&r, &la, "a", NULL);
	audit(&rep, &r, s);
	ck_assert_uint_eq(rep.n_findings, 0);
	bd_audit_report_free(&rep);
	stop(&r);
	serve(&r, &lb, "b", NULL);
	audit(&rep, &r, s);
	ck_assert(has_finding(&rep, BD_AUDIT_FORK));
	ck_assert_uint_eq(rep.n_evidence, 4);
	ck_assert_uint_eq(rep.audited, la.n); /* the old view stays */
	for (size_t i = 0; i < rep.n_evidence; i++) {
		struct stat sb;

		ck_assert_int_eq(stat(rep.evidence[i], &sb), 0);
		if (strstr(rep.evidence[i], "consistency.proof") != NULL) {
			char dir[4200];

			snprintf(dir, sizeof(dir), "%.*s", (int)(strstr(rep.evidence[i], "consistency.proof") - rep.evidence[i]),
				rep.evidence[i]);
			/* both checkpoints verify under the log key; the proof from the new tree fails */
			ck_assert_int_eq(tu_system("%s verify-consistency --vkey '%s' %sold.checkpoint %snew.checkpoint %s 2>/dev/null",
				tu_bin_path("bundlectl"), r.d.vkey, dir, dir, rep.evidence[i]), 1);
			ck_assert_int_eq(tu_system("%s verify-checkpoint --vkey '%s' %sold.checkpoint >/dev/null",
				tu_bin_path("bundlectl"), r.d.vkey, dir), 0);
			ck_assert_int_eq(tu_system("%s verify-checkpoint --vkey '%s' %snew.checkpoint >/dev/null",
				tu_bin_path("bundlectl"), r.d.vkey, dir), 0);
			checked_proof = true;
		}
	}
	ck_assert(checked_proof);
	bd_audit_report_free(&rep);
	/* the command line says so too: exit 1 */
	ck_assert_int_eq(tu_system("%s audit --server %s --log-key '%s' --state %s > /dev/null", tu_bin_path("bundlectl"),
		r.d.base_url, r.d.vkey, s), 1);
	stop(&r);
	free_log(&la);
	free_log(&lb);
}
END_TEST

START_TEST(a_version_whose_bytes_are_not_its_entrys_is_caught)
{
	struct testlog l;
	struct audit_run r;
	bd_audit_report rep;
	const char *s = path_in("s");
	bd_entry *e;

	build_log(&l, 0);
	/* a version of b.example whose entry names the bytes of another version's CID */
	e = version(&l, "b.example", 5000, 0, k3, NULL);
	ck_assert_int_eq(bd_cid_format(e->cid, sizeof(e->cid), bd_dag_root(l.dags[0])), 0);
	ck_assert_int_eq(bd_entry_sign(e, TU_LOG_ORIGIN, k3), 0);
	add(&l, e);
	serve(&r, &l, "data", NULL);
	audit(&rep, &r, s);
	ck_assert_uint_eq(rep.n_findings, 1);
	ck_assert_int_eq(rep.findings[0].kind, BD_AUDIT_CONTENT);
	ck_assert_uint_eq(rep.findings[0].index, l.n - 1);
	bd_audit_report_free(&rep);
	/* without fetching, the log itself is clean */
	r.o.blocks = NULL;
	tu_rm_rf(s);
	audit(&rep, &r, s);
	ck_assert_uint_eq(rep.n_findings, 0);
	bd_audit_report_free(&rep);
	stop(&r);
	free_log(&l);
}
END_TEST

/* A revocation whose version still holds the revoked authority. */
START_TEST(a_revocation_that_does_not_remove_its_authority_is_caught)
{
	struct testlog l;
	struct audit_run r;
	bd_audit_report rep;

	build_log_revoking(&l, 0, 0);
	serve(&r, &l, "data", NULL);
	audit(&rep, &r, path_in("s"));
	ck_assert_uint_eq(rep.n_findings, 1);
	ck_assert_int_eq(rep.findings[0].kind, BD_AUDIT_REVOCATION);
	ck_assert_uint_eq(rep.findings[0].index, l.n - 2);
	bd_audit_report_free(&rep);
	stop(&r);
	free_log(&l);
}
END_TEST

/* Versions signed by a removed key, by another domain's key, and one that rolls back. */
START_TEST(signatures_by_keys_not_held_and_rollbacks_are_caught)
{
	struct testlog l;
	struct audit_run r;
	bd_audit_report rep;

	build_log(&l, 0);
	add(&l, version(&l, "a.example", 9000, 0, k1, NULL)); /* k1 was removed */
	add(&l, version(&l, "b.example", 9000, 0, k2, NULL)); /* k2 is a.example's */
	add(&l, version(&l, "b.example", 3, 0, k3, NULL));    /* sequence back to 3 */
	serve(&r, &l, "data", NULL);
	r.o.blocks = NULL;
	audit(&rep, &r, path_in("s"));
	ck_assert_uint_eq(rep.n_findings, 3);
	ck_assert_int_eq(rep.findings[0].kind, BD_AUDIT_SIGNATURE);
	ck_assert_uint_eq(rep.findings[0].index, l.n - 3);
	ck_assert_int_eq(rep.findings[1].kind, BD_AUDIT_SIGNATURE);
	ck_assert_uint_eq(rep.findings[1].index, l.n - 2);
	ck_assert_int_eq(rep.findings[2].kind, BD_AUDIT_SEQUENCE);
	ck_assert_uint_eq(rep.findings[2].index, l.n - 1);
	bd_audit_report_free(&rep);
	stop(&r);
	free_log(&l);
}
END_TEST

/* The pool checks an entry bundle's signatures against the keys held when the bundle starts;
 * the log-order checks must still see key changes inside the bundle. In bundle 1: k1 added
 * back and used at once, a forged signature by a held key, k2 removed and then used. The
 * findings are the same on one thread and on several. */
START_TEST(entries_checked_on_several_threads_give_the_findings_of_one)
{
	struct testlog l;
	struct audit_run r;
	bd_audit_report one, many;
	bd_entry *forged;

	build_log(&l, 0);
	ck_assert_uint_gt(l.n, 256);
	add(&l, tu_key_change("a.example", BD_DOMAIN_ADD_KEY, k1, k2, 1700000003));
	add(&l, version(&l, "a.example", 9001, 0, k1, NULL));
	forged = version(&l, "a.example", 9002, 0, k2, NULL);
	forged->signature[0] ^= 1;
	add(&l, forged);
	add(&l, tu_key_change("a.example", BD_DOMAIN_REMOVE_KEY, k2, k1, 1700000004));
	add(&l, version(&l, "a.example", 9003, 0, k2, NULL));
	serve(&r, &l, "data", NULL);
	r.o.blocks = NULL;
	r.o.threads = 1;
	audit(&one, &r, path_in("s1"));
	r.o.threads = 3;
	audit(&many, &r, path_in("s2"));
	ck_assert_uint_eq(one.n_findings, 2);
	ck_assert_int_eq(one.findings[0].kind, BD_AUDIT_SIGNATURE);
	ck_assert_uint_eq(one.findings[0].index, l.n - 3);
	ck_assert_ptr_nonnull(strstr(one.findings[0].message, "does not verify"));
	ck_assert_int_eq(one.findings[1].kind, BD_AUDIT_SIGNATURE);
	ck_assert_uint_eq(one.findings[1].index, l.n - 1);
	ck_assert_ptr_nonnull(strstr(one.findings[1].message, "does not hold"));
	assert_same_findings(&one, &many);
	bd_audit_report_free(&many);
	/* resumed one entry bundle at a time, on several threads: the same again */
	audit_resumed(&many, &r, path_in("s3"));
	assert_same_findings(&one, &many);
	bd_audit_report_free(&many);
	bd_audit_report_free(&one);
	stop(&r);
	free_log(&l);
}
END_TEST

Suite *suite_audit(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("daemon");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_log_is_audited_clean_and_resumes_to_the_same_result);
	tcase_add_test(tc, an_altered_entry_is_caught_resumed_or_not);
	tcase_add_test(tc, a_fork_is_caught_with_evidence);
	tcase_add_test(tc, a_version_whose_bytes_are_not_its_entrys_is_caught);
	tcase_add_test(tc, a_revocation_that_does_not_remove_its_authority_is_caught);
	tcase_add_test(tc, signatures_by_keys_not_held_and_rollbacks_are_caught);
	tcase_add_test(tc, entries_checked_on_several_threads_give_the_findings_of_one);
	suite_add_tcase(s, tc);
	return s;
}
