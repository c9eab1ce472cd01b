/*
 * The one Check runner: every suite found by the Makefile in tests/unit/ and
 * tests/integration/ is registered here through the generated suites.h. Some suites need
 * what a machine may lack, and are then left out with a note before Check's summary, never
 * counted as passed: integration suites (suite_it_*) need the real IPFS node that
 * scripts/test.sh starts (suite_it_cluster also its IPFS Cluster); peer suites (suite_peer_*) the Go tooling of tests/peers/ that it
 * builds and names in BUNDLED_TEST_PEERS_BIN; PKCS#11 suites (suite_hsm*) SoftHSM2; and
 * suites that find they cannot run here say so themselves (tu_suite_left_out: the crash and
 * power-loss suites without fork or FUSE).
 *
 * The suites run on BUNDLED_TEST_JOBS worker processes (default 2): most of their time is
 * spent waiting for daemons and peers, not on a CPU. Each worker takes the next suite from a
 * counter they share and runs it in a runner of its own; the parent sums their counts into
 * Check's summary line. BUNDLED_TEST_JOBS=1 runs them one after another.
 *
 * After the suites, the schema check (tests/schema/check-exchanges.cjs, one node process):
 * every exchange the test helpers had with a daemon and every `bundlectl --json` they ran
 * (recorded into BUNDLED_TEST_RECORD, testhttp.h) against its schema in schema/routes.json,
 * and, when every suite ran, every route of `bundled --list-routes` exercised.
 */
#include <check.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "translog/pkcs11.h"

#include "testdaemon.h"
#include "testutil.h"

#define SUITE(name) Suite *name(void);
#include "suites.h"
#undef SUITE

/* SoftHSM2's module and its token tool, which suite_hsm needs (Debian package softhsm2). */
static int have_softhsm2(void)
{
	return access(tl_pkcs11_default_module(), R_OK) == 0 && system("command -v softhsm2-util >/dev/null 2>&1") == 0;
}

static int env_set(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0';
}

/* The record of this run's exchanges, emptied: BUNDLED_TEST_RECORD, or one beside the runner. */
static const char *record_start(void)
{
	static char path[4200];
	const char *set = getenv("BUNDLED_TEST_RECORD");

	snprintf(path, sizeof(path), "%s", set != NULL && set[0] != '\0' ? set : tu_bin_path("../tests/exchanges.jsonl"));
	if (tu_write_file(path, "", 0) != 0 || setenv("BUNDLED_TEST_RECORD", path, 1) != 0) {
		fprintf(stderr, "cannot make the exchange record %s\n", path);
		exit(EXIT_FAILURE);
	}
	return path;
}

/* The schema check over the record; route coverage only when every suite ran. 0 if it passed. */
static int schema_check(const char *record, int complete)
{
	char schemas[4200];
	size_t len = 0;

	free(tu_read_file(record, &len));
	if (!complete && len == 0) {
		printf("note: the schema check is left out: no exchange recorded\n");
		return 0;
	}
	if (!complete)
		printf("note: the schema check does not check route coverage: not every suite ran\n");
	fflush(stdout);
	/* tu_source_path answers in one buffer: one path at a time */
	snprintf(schemas, sizeof(schemas), "%s", tu_source_path("schema"));
	return tu_system("'%s' --exchanges --schemas '%s' --record '%s' --daemon '%s'%s",
		tu_source_path("tests/schema/validate.sh"), schemas, record, tu_bin_path("bundled"),
		complete ? "" : " --no-coverage");
}

enum { MAX_SUITES = 256, MAX_JOBS = 8 };

/* What the workers share (an anonymous shared mapping): the next suite to take and the counts. */
struct tally {
	atomic_int next;
	atomic_int run, failures, errors;
};

/* Prints the failures of one suite's runner as Check does (file:line:F|E:test case: message). */
static void print_failures(SRunner *sr)
{
	TestResult **tr = srunner_failures(sr);
	int n = srunner_ntests_failed(sr);

	for (int i = 0; i < n; i++)
		printf("%s:%d:%c:%s: %s\n", tr_lfile(tr[i]), tr_lno(tr[i]), tr_rtype(tr[i]) == CK_ERROR ? 'E' : 'F',
			tr_tcname(tr[i]), tr_msg(tr[i]));
	free(tr);
	fflush(stdout);
}

/* One worker: takes suites until none is left. */
static void work(Suite **suites, const char **names, int n, struct tally *t)
{
	int i;

	while ((i = atomic_fetch_add(&t->next, 1)) < n) {
		SRunner *sr = srunner_create(suites[i]);
		TestResult **all;
		int run;

		printf(" %s\n", names[i]);
		fflush(stdout);
		srunner_run_all(sr, CK_SILENT);
		run = srunner_ntests_run(sr);
		all = srunner_results(sr);
		for (int k = 0; k < run; k++) {
			if (tr_rtype(all[k]) == CK_FAILURE)
				atomic_fetch_add(&t->failures, 1);
			else if (tr_rtype(all[k]) == CK_ERROR)
				atomic_fetch_add(&t->errors, 1);
		}
		free(all);
		atomic_fetch_add(&t->run, run);
		print_failures(sr);
		srunner_free(sr);
	}
}

/* Runs the suites on `jobs` workers; the number of tests that failed or erred. */
static int run_suites(Suite **suites, const char **names, int n, int jobs)
{
	struct tally *t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pids[MAX_JOBS];
	int started = 0, bad, run;

	if (t == MAP_FAILED) {
		perror("mmap");
		exit(EXIT_FAILURE);
	}
	atomic_init(&t->next, 0);
	atomic_init(&t->run, 0);
	atomic_init(&t->failures, 0);
	atomic_init(&t->errors, 0);
	printf("Running suite(s):\n");
	fflush(stdout);
	for (int j = 0; j < jobs; j++) {
		pid_t pid = fork();

		if (pid == 0) {
			work(suites, names, n, t);
			_exit(0);
		}
		if (pid > 0)
			pids[started++] = pid;
	}
	if (started == 0) /* no fork: run them here */
		work(suites, names, n, t);
	for (int j = 0; j < started; j++) {
		int status;

		/* A worker that dies takes its suite's tests with it: count that as an error. */
		if (waitpid(pids[j], &status, 0) != pids[j] || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			printf("a test worker died (status %d)\n", status);
			atomic_fetch_add(&t->errors, 1);
		}
	}
	run = atomic_load(&t->run);
	bad = atomic_load(&t->failures) + atomic_load(&t->errors);
	printf("%d%%: Checks: %d, Failures: %d, Errors: %d\n", run > 0 ? (run - bad) * 100 / run : 0, run,
		atomic_load(&t->failures), atomic_load(&t->errors));
	fflush(stdout);
	munmap(t, sizeof(*t));
	return bad;
}

int main(void)
{
	int have_ipfs = env_set("BUNDLED_TEST_IPFS_API");
	int have_cluster = env_set("BUNDLED_TEST_CLUSTER_API") && env_set("BUNDLED_TEST_CLUSTER_PROXY");
	int have_peers = env_set("BUNDLED_TEST_PEERS_BIN");
	int have_hsm = have_softhsm2();
	int skipped = 0, skipped_peers = 0, skipped_hsm = 0, left_out, selected;
	const char *record = record_start();
	const char *jobs_env = getenv("BUNDLED_TEST_JOBS");
	int jobs = jobs_env != NULL && atoi(jobs_env) > 0 ? atoi(jobs_env) : 2;
	Suite *suites[MAX_SUITES];
	const char *names[MAX_SUITES];
	int n = 0;
	/* Owns every suite made here, so that the parent frees what the workers ran copies of. */
	SRunner *all = srunner_create(NULL);
	int failed;

	/* Before any output (nothing above prints): the workers' lines reach the pipe whole. */
	setvbuf(stdout, NULL, _IOLBF, 0);

#define SUITE(name)                                                                     \
	if (strncmp(#name, "suite_it_", 9) == 0 &&                                      \
	    !(strcmp(#name, "suite_it_cluster") == 0 ? have_cluster : have_ipfs))       \
		skipped++;                                                              \
	else if (strncmp(#name, "suite_peer_", 11) == 0 && !have_peers)                 \
		skipped_peers++;                                                        \
	else if (strncmp(#name, "suite_hsm", 9) == 0 && !have_hsm)                      \
		skipped_hsm++;                                                          \
	else if (n < MAX_SUITES) {                                                      \
		names[n] = #name + 6;                                                   \
		suites[n] = name();                                                     \
		srunner_add_suite(all, suites[n++]);                                    \
	}
#include "suites.h"
#undef SUITE

	if (skipped)
		printf("note: %d integration suite(s) left out: no IPFS node or Cluster (make test starts them)\n",
			skipped);
	if (skipped_peers)
		printf("note: %d peer suite(s) left out: BUNDLED_TEST_PEERS_BIN is not set (make test builds tests/peers)\n",
			skipped_peers);
	if (skipped_hsm)
		printf("note: %d PKCS#11 suite(s) left out: SoftHSM2 not found (%s, softhsm2-util; "
		       "scripts/install-deps.sh installs it)\n", skipped_hsm, tl_pkcs11_default_module());
	left_out = tu_print_left_out();
	/* Check runs only some suites or tests when these name them. */
	selected = env_set("CK_RUN_SUITE") || env_set("CK_RUN_CASE") || env_set("CK_INCLUDE_TAGS") ||
		env_set("CK_EXCLUDE_TAGS");
	fflush(stdout);
	failed = run_suites(suites, names, n, jobs > MAX_JOBS ? MAX_JOBS : jobs);
	srunner_free(all);
	if (failed == 0 && schema_check(record, !(skipped || skipped_peers || skipped_hsm || left_out || selected)) != 0)
		failed = 1;
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
