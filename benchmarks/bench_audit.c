/*
 * Audit speed: `bd_audit_run` replaying a 1,000,000-entry log from the real daemon's tiles
 * and entry bundles over loopback (bundled on a prepared data directory, 127.0.0.1).
 *
 *   tree   the whole log, tree and tiles only: every entry bundle read, every leaf hashed
 *          into the frontier, every served hash tile compared, the root checked;
 *   full   the first SIGNED entries, which are real bundled entries (one domain, signed
 *          versions), with every entry check: grammar, canonical form, Ed25519 signature
 *          against the domain's key, sequence. Ed25519 verification (~50 µs) bounds it;
 *          three runs on one thread and three with a thread per CPU, alternating.
 *
 * Usage: build/bench/bench_audit [BUNDLED_BINARY] (default build/bin/bundled).
 * Aim: >= 200,000 entries/s for the tree replay (issue 11).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bundled/audit.h"
#include "bundled/blockstore.h"
#include "bundled/client.h"
#include "bundled/entry.h"
#include "translog/db.h"
#include "translog/key.h"
#include "translog/log.h"
#include "util/clock.h"

#define ENTRIES 1000000u
#define SIGNED 20480u
#define BATCH 4096u
#define ORIGIN "bench.example/audit-log"
#define TARGET 200000.0

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_audit: %s: %s\n", what, tl_error_message());
	exit(1);
}

/* Entry i: a signed registration, signed versions, then filler versions (not signed). */
static char *entry_text(size_t *len, uint64_t i, const tl_signer *pub, const char *pub_vkey)
{
	bd_entry e = { 0 };
	tl_buf b = tl_buf_make(BD_ENTRY_MAX_SIZE);

	strcpy(e.domain, "bench.example");
	e.time = 1700000000 + i;
	if (i == 0) {
		e.kind = BD_ENTRY_DOMAIN;
		e.action = BD_DOMAIN_REGISTER;
		e.n_keys = 1;
		strcpy(e.keys[0], pub_vkey);
		e.by_operator = true;
	} else {
		e.kind = BD_ENTRY_BUNDLE;
		e.sequence = i;
		e.refresh_hint = 300;
		e.size = 1234;
		memset(e.sha256.b, (int)(i & 0xff), sizeof(e.sha256.b));
		strcpy(e.cid, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
		if (i < SIGNED) {
			if (bd_entry_sign(&e, ORIGIN, pub) != 0)
				die("sign");
		} else {
			memset(e.key.b, 1, sizeof(e.key.b));
			e.has_signature = true;
		}
	}
	if (bd_entry_write(&b, &e) != 0)
		die("entry");
	return (char *)tl_buf_detach(&b, len);
}

static void prepare(const char *dir, tl_signer *log_key)
{
	const char *cfs[TL_LOG_COLUMN_FAMILY_COUNT + 1];
	char path[4400];
	tl_signer *pub;
	tl_buf vk = { 0 };
	tl_db *db;
	tl_log *log;
	uint8_t seed[32];
	static char *texts[BATCH];
	static size_t lens[BATCH];
	uint64_t first;

	for (size_t i = 0; i < TL_LOG_COLUMN_FAMILY_COUNT; i++)
		cfs[i] = tl_log_column_families[i];
	cfs[TL_LOG_COLUMN_FAMILY_COUNT] = bd_blockstore_column_family;
	memset(seed, 7, sizeof(seed));
	if (tl_signer_from_seed(&pub, "pub", TL_KEY_TYPE_ED25519, seed) != 0 || tl_signer_vkey(&vk, pub) != 0)
		die("publisher key");
	snprintf(path, sizeof(path), "%s/log.key", dir);
	if (mkdir(dir, 0700) != 0 || tl_signer_save(log_key, path) != 0)
		die("data dir");
	snprintf(path, sizeof(path), "%s/db", dir);
	if (tl_db_open(&db, path, cfs, TL_LOG_COLUMN_FAMILY_COUNT + 1) != 0 || tl_log_open(&log, db, log_key, NULL) != 0)
		die("log");
	for (uint64_t done = 0; done < ENTRIES;) {
		size_t n = ENTRIES - done < BATCH ? ENTRIES - done : BATCH;

		for (size_t i = 0; i < n; i++)
			texts[i] = entry_text(&lens[i], done + i, pub, (const char *)vk.data);
		if (tl_log_append_batch(&first, log, (const void *const *)texts, lens, n) != 0)
			die("append");
		for (size_t i = 0; i < n; i++)
			free(texts[i]);
		done += n;
	}
	tl_log_close(log);
	tl_db_close(db);
	tl_signer_free(pub);
	tl_buf_free(&vk);
}

static unsigned free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port;

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		die("port");
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static double run(bd_audit_report *rep, bd_audit_options *o, const char *state)
{
	char cmd[4300];
	double t0;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
	if (system(cmd) != 0)
		die("rm");
	o->state_dir = state;
	t0 = now_s();
	if (bd_audit_run(rep, o) != 0)
		die("audit");
	return now_s() - t0;
}

int main(int argc, char **argv)
{
	const char *bin = argc > 1 ? argv[1] : "build/bin/bundled";
	char tmpl[] = "/tmp/bench_audit.XXXXXX", data[256], state[4200], listen[64], url[96], load[128] = "?";
	tl_signer *log_key;
	tl_verifier *vkey;
	bd_client *c = NULL;
	bd_audit_options o = { 0 };
	bd_audit_report rep;
	double t0, t;
	pid_t pid;
	FILE *f;

	if (tl_crypto_init() != 0 || mkdtemp(tmpl) == NULL || tl_signer_generate(&log_key, ORIGIN) != 0 ||
	    tl_verifier_from_signer(&vkey, log_key) != 0)
		die("setup");
	snprintf(data, sizeof(data), "%s/data", tmpl);
	snprintf(state, sizeof(state), "%s/state", tmpl);
	t0 = now_s();
	prepare(data, log_key);
	printf("bench_audit: prepared %u entries (%u signed) in %.1f s\n", ENTRIES, SIGNED, now_s() - t0);
	fflush(stdout);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", free_port());
	snprintf(url, sizeof(url), "http://%s", listen);
	if ((pid = fork()) == 0) {
		if (freopen("/dev/null", "w", stderr) == NULL || freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execl(bin, bin, "--data", data, "--listen", listen, (char *)NULL);
		_exit(127);
	}
	if (bd_client_open(&c, &(bd_client_options){ .url = url }) != 0)
		die("client");
	for (int i = 0;; i++) {
		tl_buf b = tl_buf_make(BD_CLIENT_MAX_CHECKPOINT);
		int err = bd_client_checkpoint(&b, c);

		tl_buf_free(&b);
		if (err == 0)
			break;
		if (i == 400)
			die("daemon did not start");
		usleep(50000);
	}
	o.follow.transport.fetch = bd_client_fetch;
	o.follow.transport.ctx = c;
	o.follow.log_key = vkey;
	if ((f = fopen("/proc/loadavg", "r")) != NULL) {
		if (fgets(load, sizeof(load), f) == NULL)
			strcpy(load, "?");
		fclose(f);
		load[strcspn(load, "\n")] = '\0';
	}
	printf("bench_audit: load average before: %s\n", load);
	for (int round = 0; round < 3; round++) {
		o.tree_only = true;
		o.max_entries = 0;
		t = run(&rep, &o, state);
		printf("tree   %7" PRIu64 " entries %6" PRIu64 " tiles  %.2f s  %9.0f entries/s  findings %zu  (target >= %.0f)\n",
			rep.checked, rep.tiles_checked, t, (double)rep.checked / t, rep.n_findings, TARGET);
		bd_audit_report_free(&rep);
	}
	/* Entry checks on one thread and on one per CPU (bd_audit_options.threads 0), alternating. */
	o.tree_only = false;
	o.max_entries = SIGNED;
	o.chunk = 4096;
	for (int round = 0; round < 6; round++) {
		double c0 = bench_cpu_s();

		o.threads = round % 2 == 0 ? 1 : 0;
		t = run(&rep, &o, state);
		printf("full   %7" PRIu64 " entries              %.2f s  %9.0f entries/s  findings %zu  threads %s  CPU %.2f s\n",
			rep.checked, t, (double)rep.checked / t, rep.n_findings, o.threads == 1 ? "1" : "auto", bench_cpu_s() - c0);
		bd_audit_report_free(&rep);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	bd_client_close(c);
	tl_verifier_free(vkey);
	tl_signer_free(log_key);
	snprintf(state, sizeof(state), "rm -rf '%s'", tmpl);
	return system(state) == 0 ? 0 : 1;
}
