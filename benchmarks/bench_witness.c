/*
 * Witness cosignatures per second (C2SP tlog-witness add-checkpoint):
 *
 *   - in process: tl_witness_add_checkpoint for checkpoints 1, 2, ..., N of one log, each
 *     with its consistency proof from the one before: parse, the log's signature, the state
 *     file read and checked (the witness's own cosignature), the proof, the new state written
 *     and fsynced (file and directory), the cosignature. The state directory is on the disk
 *     (under build/), not /tmp, so the fsyncs are real.
 *   - the same checkpoint again: everything but the write, to show what the fsyncs cost.
 *   - LOGS logs at once, one thread each (N / LOGS checkpoints per log): each log has its own
 *     lock, so their fsyncs overlap.
 *   - over HTTP on loopback: bundlectl's server piece (bd_httpd) with the witness as its
 *     handler, and the library's client (bd_witness_client_add_checkpoint), one request at
 *     a time on a kept-alive connection.
 *   - the log's side, as the daemon runs it: a real log (translog/log.h, RocksDB under
 *     build/) committing one entry at a time as fast as it can, and the witness policy
 *     (bundled/cosigning.h) asking W = 1, 3, 5 witnesses (each an HTTP server on loopback
 *     with its own state directory) to cosign every new checkpoint, quorum W: rounds and
 *     cosignatures per second, and how far behind the log the witnesses end; W = 0, the
 *     same log and appender without a policy, is the baseline for the commit rate.
 *
 * The log is synthetic and in memory: leaf i is "entry i"; its nodes are one array per level.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundled/cosigning.h"
#include "bundled/httpd.h"
#include "bundled/witness_client.h"
#include "translog/checkpoint.h"
#include "translog/db.h"
#include "translog/log.h"
#include "translog/note.h"
#include "translog/proof.h"
#include "translog/witness.h"
#include "util/clock.h"

#define N 1000
#define LOGS 4
#define ORIGIN "bench.example/log"

static tl_hash *levels[32];
static uint64_t level_len[32];

static int mem_get(tl_hash *out, void *ctx, unsigned level, uint64_t index)
{
	if (level >= 32 || index >= level_len[level])
		return tl_error_set(TL_E_NOTFOUND, "no node");
	*out = levels[level][index];
	return 0;
}

static void build_tree(uint64_t n)
{
	for (unsigned l = 0; n > 0; l++, n /= 2) {
		level_len[l] = n;
		if ((levels[l] = malloc(n * sizeof(tl_hash))) == NULL)
			exit(1);
		for (uint64_t i = 0; i < n; i++) {
			if (l == 0) {
				char e[32];
				int len = snprintf(e, sizeof(e), "entry %" PRIu64, i);

				tl_hash_leaf(&levels[0][i], e, (size_t)len);
			} else {
				tl_hash_node(&levels[l][i], &levels[l - 1][2 * i], &levels[l - 1][2 * i + 1]);
			}
		}
	}
}

/* The add-checkpoint body for size `size` from `old`. */
static void make_body(tl_buf *body, const tl_signer *log_key, uint64_t old, uint64_t size)
{
	tl_checkpoint cp = { .size = size };
	tl_hash proof[TL_MAX_PROOF_HASHES];
	tl_buf note = tl_buf_make(TL_NOTE_MAX_SIZE);
	size_t n = 0;

	snprintf(cp.origin, sizeof(cp.origin), "%s", tl_signer_name(log_key));
	if (tl_root_at(&cp.root, size, mem_get, NULL) != 0 || tl_proof_consistency(proof, &n, old, size, mem_get, NULL) != 0 ||
	    tl_checkpoint_sign(&note, &cp, log_key) != 0 ||
	    tl_witness_request_write(body, old, proof, n, note.data, note.len) != 0) {
		fprintf(stderr, "bench_witness: %s\n", tl_error_message());
		exit(1);
	}
	tl_buf_free(&note);
}

/* The state directory holds only files (the lock and one state file). */
static void remove_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			(void)unlinkat(dirfd(d), e->d_name, 0);
	if (d != NULL)
		closedir(d);
	if (rmdir(path) != 0)
		fprintf(stderr, "bench_witness: could not remove %s\n", path);
}

static void fail(const char *what)
{
	fprintf(stderr, "bench_witness: %s: %s\n", what, tl_error_message());
	exit(1);
}

static int handle(bd_httpd_response *res, const bd_httpd_request *req, void *ctx)
{
	tl_buf reply = tl_buf_make(65536);
	unsigned status;
	int err;

	if ((err = tl_witness_add_checkpoint(&reply, &status, ctx, req->body, req->body_len, (uint64_t)time(NULL))) == 0)
		err = bd_httpd_reply(res, status, status == 409 ? TL_WITNESS_SIZE_TYPE : "text/plain", reply.data, reply.len);
	tl_buf_free(&reply);
	return err;
}

struct racer {
	tl_witness *w;
	tl_buf *bodies; /* N / LOGS of them */
	int failed;
};

static void *run_log(void *arg)
{
	struct racer *r = arg;
	tl_buf reply = tl_buf_make(65536);
	unsigned status;

	for (int i = 0; i < N / LOGS; i++) {
		tl_buf_reset(&reply);
		if (tl_witness_add_checkpoint(&reply, &status, r->w, r->bodies[i].data, r->bodies[i].len,
			    (uint64_t)time(NULL)) != 0 || status != 200)
			r->failed = 1;
	}
	tl_buf_free(&reply);
	return NULL;
}

/* LOGS logs cosigned at once by one witness (its own state directory). */
static double parallel_logs(const tl_signer *w_key)
{
	static tl_buf bodies[LOGS][N / LOGS];
	char dir[] = "build/bench-witness-XXXXXX";
	tl_signer *keys[LOGS];
	tl_verifier *vkeys[LOGS];
	struct racer r[LOGS];
	pthread_t t[LOGS];
	tl_witness *w;
	double t0, dt;

	if (mkdtemp(dir) == NULL)
		fail("mkdtemp");
	for (int l = 0; l < LOGS; l++) {
		char name[64];

		snprintf(name, sizeof(name), "bench.example/log%d", l);
		if (tl_signer_generate(&keys[l], name) != 0 || tl_verifier_from_signer(&vkeys[l], keys[l]) != 0)
			fail("keys");
		for (int i = 0; i < N / LOGS; i++) {
			bodies[l][i] = tl_buf_make(TL_WITNESS_MAX_REQUEST);
			make_body(&bodies[l][i], keys[l], (uint64_t)i, (uint64_t)i + 1);
		}
	}
	if (tl_witness_open(&w, &(tl_witness_config){ w_key, (const tl_verifier *const *)vkeys, LOGS, dir }) != 0)
		fail("open");
	t0 = bench_now_s();
	for (int l = 0; l < LOGS; l++) {
		r[l] = (struct racer){ w, bodies[l], 0 };
		if (pthread_create(&t[l], NULL, run_log, &r[l]) != 0)
			fail("thread");
	}
	for (int l = 0; l < LOGS; l++) {
		pthread_join(t[l], NULL);
		if (r[l].failed)
			fail("parallel add-checkpoint");
	}
	dt = bench_now_s() - t0;
	tl_witness_free(w);
	remove_dir(dir);
	for (int l = 0; l < LOGS; l++) {
		for (int i = 0; i < N / LOGS; i++)
			tl_buf_free(&bodies[l][i]);
		tl_signer_free(keys[l]);
		tl_verifier_free(vkeys[l]);
	}
	return dt;
}

static bool blocking(const bd_httpd_request *req, void *ctx)
{
	return true;
}

/* The log's side: W witnesses, one appender committing entries one by one for POLICY_S s. */
#define POLICY_S 4.0
#define MAX_W 5

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

struct appender {
	tl_log *log;
	volatile int stop;
	int failed;
};

static void *append_loop(void *arg)
{
	struct appender *a = arg;
	char e[64];
	uint64_t index;

	for (uint64_t i = 0; !a->stop; i++) {
		int len = snprintf(e, sizeof(e), "policy entry %" PRIu64, i);

		if (tl_log_append(&index, a->log, e, (size_t)len) != 0) {
			a->failed = 1;
			break;
		}
	}
	return NULL;
}

struct policy_result {
	double rounds_s, cosigs_s, commits_s;
	uint64_t lag; /* entries between the log's size and the smallest size a witness cosigned */
};

/* The policy's and the log's counters now: cosignatures of all witnesses, and the smallest
 * size a witness cosigned. */
static void policy_sample(bd_cosigning_stats *st, struct tl_log_stats *ls, uint64_t *cosigs, uint64_t *min_cosigned,
	bd_cosigning *c, tl_log *log, int n_w)
{
	*cosigs = 0;
	*min_cosigned = UINT64_MAX;
	if (n_w > 0)
		bd_cosigning_stats_get(st, c);
	tl_log_stats(ls, log);
	for (int i = 0; i < n_w; i++) {
		bd_cosigning_witness_stats ws;

		bd_cosigning_witness_stats_get(&ws, c, (size_t)i);
		*cosigs += ws.cosignatures;
		if (ws.cosigned_size < *min_cosigned)
			*min_cosigned = ws.cosigned_size;
	}
}

static void policy_run(struct policy_result *res, int n_w)
{
	char dir[] = "build/bench-policy-XXXXXX", path[256];
	const char *cfs[TL_LOG_COLUMN_FAMILY_COUNT];
	tl_signer *log_key, *w_keys[MAX_W];
	tl_verifier *log_vkey, *w_vkeys[MAX_W];
	tl_witness *ws[MAX_W];
	bd_httpd *srv[MAX_W];
	char urls[MAX_W][64], wdirs[MAX_W][300];
	bd_cosigning_witness cw[MAX_W];
	bd_cosigning *c = NULL;
	bd_cosigning_stats st0 = { 0 }, st1 = { 0 };
	struct tl_log_stats ls0, ls1;
	struct appender a = { 0 };
	pthread_t t;
	tl_db *db;
	uint64_t cos0 = 0, cos1 = 0, min_cosigned = UINT64_MAX;
	double t0, dt;

	if (mkdtemp(dir) == NULL || tl_signer_generate(&log_key, "bench.example/policy") != 0 ||
	    tl_verifier_from_signer(&log_vkey, log_key) != 0)
		fail("policy setup");
	for (size_t i = 0; i < TL_LOG_COLUMN_FAMILY_COUNT; i++)
		cfs[i] = tl_log_column_families[i];
	snprintf(path, sizeof(path), "%s/db", dir);
	if (tl_db_open(&db, path, cfs, TL_LOG_COLUMN_FAMILY_COUNT) != 0 || tl_log_open(&a.log, db, log_key, NULL) != 0)
		fail("policy log");
	for (int i = 0; i < n_w; i++) {
		char name[64];
		bd_httpd_options o = { .host = "127.0.0.1", .handler = handle, .blocking = blocking,
			.max_body = TL_WITNESS_MAX_REQUEST };

		snprintf(name, sizeof(name), "bench.example/w%d", i);
		snprintf(wdirs[i], sizeof(wdirs[i]), "%s/w%d", dir, i);
		if (tl_signer_generate_typed(&w_keys[i], name, TL_KEY_TYPE_COSIGNATURE) != 0 ||
		    tl_verifier_from_signer(&w_vkeys[i], w_keys[i]) != 0 ||
		    tl_witness_open(&ws[i], &(tl_witness_config){ w_keys[i], (const tl_verifier *const *)&log_vkey, 1,
			    wdirs[i] }) != 0)
			fail("policy witness");
		o.ctx = ws[i];
		if (bd_httpd_start(&srv[i], &o) != 0)
			fail("policy httpd");
		snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%u", bd_httpd_port(srv[i]));
		cw[i] = (bd_cosigning_witness){ urls[i], w_vkeys[i] };
	}
	/* W = 0 is the baseline: the same log and appender without a policy. */
	if (n_w > 0 && bd_cosigning_start(&c, &(bd_cosigning_options){ .log = a.log, .witnesses = cw,
		    .n_witnesses = (size_t)n_w, .quorum = (size_t)n_w, .timeout_ms = 5000 }) != 0)
		fail("policy start");
	if (pthread_create(&t, NULL, append_loop, &a) != 0)
		fail("policy thread");
	sleep_s(0.5); /* past the first rounds and connections */
	policy_sample(&st0, &ls0, &cos0, &min_cosigned, c, a.log, n_w);
	t0 = bench_now_s();
	sleep_s(POLICY_S);
	policy_sample(&st1, &ls1, &cos1, &min_cosigned, c, a.log, n_w);
	dt = bench_now_s() - t0;
	a.stop = 1;
	pthread_join(t, NULL);
	if (a.failed)
		fail("policy append");
	res->rounds_s = (double)(st1.rounds - st0.rounds) / dt;
	res->cosigs_s = (double)(cos1 - cos0) / dt;
	res->commits_s = (double)(ls1.commits - ls0.commits) / dt;
	res->lag = n_w > 0 && ls1.size > min_cosigned ? ls1.size - min_cosigned : 0;
	if (n_w > 0)
		bd_cosigning_stop(c);
	for (int i = 0; i < n_w; i++) {
		bd_httpd_stop(srv[i]);
		tl_witness_free(ws[i]);
		remove_dir(wdirs[i]);
		tl_signer_free(w_keys[i]);
		tl_verifier_free(w_vkeys[i]);
	}
	tl_log_close(a.log);
	tl_db_close(db);
	tl_signer_free(log_key);
	tl_verifier_free(log_vkey);
	remove_dir(path); /* RocksDB's files, all in one directory */
	remove_dir(dir);
}

int main(void)
{
	static tl_buf bodies[2 * N + 1];
	char dir[] = "build/bench-witness-XXXXXX";
	tl_signer *log_key, *w_key;
	tl_verifier *log_vkey, *w_vkey;
	tl_witness *w;
	tl_buf reply = tl_buf_make(65536);
	unsigned status;
	double t0, t_new, t_same, t_http, t_par;

	build_tree(2 * N + 1);
	if (tl_signer_generate(&log_key, ORIGIN) != 0 || tl_verifier_from_signer(&log_vkey, log_key) != 0 ||
	    tl_signer_generate_typed(&w_key, "bench.example/witness", TL_KEY_TYPE_COSIGNATURE) != 0 ||
	    tl_verifier_from_signer(&w_vkey, w_key) != 0 || mkdtemp(dir) == NULL)
		fail("setup");
	for (uint64_t s = 1; s <= 2 * N; s++) {
		bodies[s] = tl_buf_make(TL_WITNESS_MAX_REQUEST);
		make_body(&bodies[s], log_key, s - 1, s);
	}
	if (tl_witness_open(&w, &(tl_witness_config){ w_key, (const tl_verifier *const *)&log_vkey, 1, dir }) != 0)
		fail("open");

	t0 = bench_now_s();
	for (uint64_t s = 1; s <= N; s++) {
		tl_buf_reset(&reply);
		if (tl_witness_add_checkpoint(&reply, &status, w, bodies[s].data, bodies[s].len, (uint64_t)time(NULL)) != 0 ||
		    status != 200)
			fail("add-checkpoint");
	}
	t_new = bench_now_s() - t0;

	{
		tl_buf same = tl_buf_make(TL_WITNESS_MAX_REQUEST);

		make_body(&same, log_key, N, N);
		t0 = bench_now_s();
		for (int i = 0; i < N; i++) {
			tl_buf_reset(&reply);
			if (tl_witness_add_checkpoint(&reply, &status, w, same.data, same.len, (uint64_t)time(NULL)) != 0 ||
			    status != 200)
				fail("add-checkpoint again");
		}
		t_same = bench_now_s() - t0;
		tl_buf_free(&same);
	}

	{
		bd_httpd_options o = { .host = "127.0.0.1", .handler = handle, .blocking = blocking, .ctx = w,
			.max_body = TL_WITNESS_MAX_REQUEST };
		bd_httpd *srv;
		bd_witness_client *c;
		char url[64];

		if (bd_httpd_start(&srv, &o) != 0)
			fail("httpd");
		snprintf(url, sizeof(url), "http://127.0.0.1:%u", bd_httpd_port(srv));
		if (bd_witness_client_open(&c, &(bd_witness_client_options){ .url = url, .key = w_vkey }) != 0)
			fail("client");
		t0 = bench_now_s();
		for (uint64_t s = N + 1; s <= 2 * N; s++) {
			tl_witness_request req;
			tl_buf_reset(&reply);
			if (tl_witness_request_parse(&req, bodies[s].data, bodies[s].len) != 0 ||
			    bd_witness_client_add_checkpoint(&reply, NULL, NULL, c, s - 1, req.proof, req.n_proof, req.note,
				    req.note_len) != 0)
				fail("HTTP add-checkpoint");
		}
		t_http = bench_now_s() - t0;
		bd_witness_client_close(c);
		bd_httpd_stop(srv);
	}

	t_par = parallel_logs(w_key);
	printf("witness add-checkpoint, %d checkpoints of one log, sizes up to %d:\n", N, 2 * N);
	printf("  in process, new checkpoint (state written + 2 fsyncs): %8.0f cosignatures/s  (%7.1f us each)\n",
		N / t_new, t_new / N * 1e6);
	printf("  in process, same checkpoint again (no write):          %8.0f cosignatures/s  (%7.1f us each)\n",
		N / t_same, t_same / N * 1e6);
	printf("  in process, %d logs at once (own locks), new checkpoints: %5.0f cosignatures/s  (%7.1f us each)\n",
		LOGS, N / t_par, t_par / N * 1e6);
	printf("  HTTP loopback, new checkpoint, one client:             %8.0f cosignatures/s  (%7.1f us each)\n",
		N / t_http, t_http / N * 1e6);
	{
		static const int ws_n[] = { 0, 1, 3, 5 };
		struct policy_result pr[4];

		for (int i = 0; i < 4; i++)
			policy_run(&pr[i], ws_n[i]);
		printf("the log's side (bundled/cosigning.h), a real log committing one entry at a time, %.0f s each:\n",
			POLICY_S);
		printf("  no witnesses (the baseline):                                    %6.0f commits/s\n",
			pr[0].commits_s);
		for (int i = 1; i < 4; i++)
			printf("  %d witness%s, quorum %d: %6.0f rounds/s, %6.0f cosignatures/s, %6.0f commits/s, "
			       "witnesses end %" PRIu64 " entries behind\n",
				ws_n[i], ws_n[i] == 1 ? "  " : "es", ws_n[i], pr[i].rounds_s, pr[i].cosigs_s, pr[i].commits_s,
				pr[i].lag);
	}


	tl_witness_free(w);
	remove_dir(dir);
	for (uint64_t s = 1; s <= 2 * N; s++)
		tl_buf_free(&bodies[s]);
	tl_buf_free(&reply);
	tl_signer_free(log_key);
	tl_signer_free(w_key);
	tl_verifier_free(log_vkey);
	tl_verifier_free(w_vkey);
	return 0;
}
