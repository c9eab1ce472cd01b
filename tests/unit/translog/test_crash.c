/*
 * Crash safety: a writer process appends from several threads and records every
 * acknowledged index in a file (write + fdatasync after the ack); it is killed with SIGKILL
 * at random moments. After each kill a fresh process reopens the log and checks that the
 * checkpoint verifies and matches the tree recomputed from the stored entries, and that every
 * acknowledged entry is there with its bytes (lc_check_log), and that what rode in the
 * commits (lc_rider_hook) is there for exactly the entries that are (lc_check_rider).
 *
 * The page cache survives a killed process, so this cannot see a missing sync;
 * test_powerloss.c, on a filesystem that loses unsynced data, does.
 *
 * The test process itself never opens RocksDB: RocksDB keeps background threads, and a
 * forked child of a process with threads must not use it. Writers and verifiers are forked
 * from this single-threaded process.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log_check.h"
#include "testutil.h"
#include "translog/key.h"
#include "translog/log.h"

enum { KILLS = 20, WRITER_THREADS = 3, MAX_BATCH = LC_MAX_BATCH };

struct writer {
	const char *dir;
	const tl_signer *key;
	tl_log *log;
	int ack_fd;
	pthread_mutex_t *ack_lock;
	uint32_t run;
	unsigned id;
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	struct lc_ack acks[MAX_BATCH];
	uint32_t seq = w->id << 24;
	unsigned rnd = w->run * 31 + w->id;

	for (;;) {
		size_t n = 1 + (rand_r(&rnd) % MAX_BATCH);

		if (lc_append_batch(acks, w->log, w->run, &seq, n) != 0)
			_exit(3);
		pthread_mutex_lock(w->ack_lock);
		if (write(w->ack_fd, acks, n * sizeof(acks[0])) != (ssize_t)(n * sizeof(acks[0])) ||
		    fdatasync(w->ack_fd) != 0)
			_exit(4);
		pthread_mutex_unlock(w->ack_lock);
	}
	return NULL;
}

/* The writer process: appends until it is killed. Tells the parent when the log is open. */
static void run_writer(const char *dir, const char *ack_path, const tl_signer *key, uint32_t run, int ready_fd)
{
	tl_db *db;
	tl_log *log;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct writer w[WRITER_THREADS];
	pthread_t th[WRITER_THREADS];
	int fd = open(ack_path, O_WRONLY | O_APPEND | O_CREAT, 0600);
	struct tl_log_options opts = { .max_batch = 64 };

	tl_log_hook rider;

	if (fd < 0 || tl_db_open(&db, dir, lc_column_families, LC_COLUMN_FAMILY_COUNT) != 0 ||
	    tl_log_open(&log, db, key, &opts) != 0) {
		fprintf(stderr, "writer: open: %s\n", tl_error_message());
		_exit(2);
	}
	/* Every commit also carries the rider's writes, which must stay exactly with it. */
	lc_rider_hook(&rider, db);
	tl_log_set_hook(log, &rider);
	if (write(ready_fd, "r", 1) != 1)
		_exit(2);
	for (unsigned t = 0; t < WRITER_THREADS; t++) {
		w[t] = (struct writer){ dir, key, log, fd, &lock, run, t };
		if (pthread_create(&th[t], NULL, writer_thread, &w[t]) != 0)
			_exit(2);
	}
	for (unsigned t = 0; t < WRITER_THREADS; t++)
		pthread_join(th[t], NULL);
	_exit(0);
}

/* The verifier process: exit status 0 if the reopened log is whole; reports its size and the
 * number of acknowledgements checked. A record torn by the kill is ignored: its entry was
 * acknowledged but the writer died before recording it. */
static void run_verifier(const char *dir, const char *ack_path, const tl_signer *key, const tl_verifier *v,
	int out_fd)
{
	tl_db *db;
	tl_log *log;
	size_t ack_len = 0, nacks;
	struct lc_ack *acks;
	uint64_t report[2];

	if (tl_db_open(&db, dir, lc_column_families, LC_COLUMN_FAMILY_COUNT) != 0 ||
	    tl_log_open(&log, db, key, NULL) != 0) {
		fprintf(stderr, "verify: reopen: %s\n", tl_error_message());
		_exit(1);
	}
	acks = (struct lc_ack *)tu_read_file(ack_path, &ack_len);
	nacks = acks ? ack_len / sizeof(*acks) : 0;
	if (lc_check_log(&report[0], log, v, acks, nacks) != 0 || lc_check_rider(db, log, report[0]) != 0)
		_exit(1);
	report[1] = nacks;
	if (write(out_fd, report, sizeof(report)) != sizeof(report))
		_exit(1);
	free(acks);
	tl_log_close(log);
	tl_db_close(db);
	_exit(0);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

START_TEST(kill_9_at_random_moments_loses_nothing_acknowledged)
{
	char *dir = tu_mkdtemp();
	char db_dir[4200], ack_path[4200];
	tl_signer *key;
	tl_verifier *v;
	tl_buf vkey = tl_buf_make(4096);
	unsigned seed = (unsigned)time(NULL);
	uint64_t last_size = 0, last_acks = 0;
	int killed_while_writing = 0;

	/* Without Check's fork this process may already run RocksDB threads: the suite is then
	 * left out (suite_crash), and the test never passes by doing nothing. */
	ck_assert_msg(tu_check_forks(), "the crash test needs Check's fork mode");
	fprintf(stderr, "crash test seed %u\n", seed);
	snprintf(db_dir, sizeof(db_dir), "%s/db", dir);
	snprintf(ack_path, sizeof(ack_path), "%s/acks", dir);
	ck_assert_int_eq(tl_signer_generate(&key, "example.org/crash-log"), 0);
	ck_assert_int_eq(tl_signer_vkey(&vkey, key), 0);
	ck_assert_int_eq(tl_verifier_parse(&v, (const char *)vkey.data, vkey.len), 0);

	for (uint32_t run = 1; run <= KILLS; run++) {
		int ready[2], report[2], status;
		pid_t pid;
		char c;
		uint64_t got[2];

		ck_assert_int_eq(pipe(ready), 0);
		if ((pid = fork()) == 0) {
			close(ready[0]);
			run_writer(db_dir, ack_path, key, run, ready[1]);
		}
		ck_assert_int_gt(pid, 0);
		close(ready[1]);
		/* Odd runs may die while still opening the log; even runs once it appends. */
		if (run % 2 == 0)
			ck_assert_int_eq(read(ready[0], &c, 1), 1);
		sleep_ms(1 + (unsigned)(rand_r(&seed) % 50));
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		close(ready[0]);
		/* A writer that failed on its own (not by our kill) is a failure. */
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "writer exited by itself (%d)",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);

		ck_assert_int_eq(pipe(report), 0);
		if ((pid = fork()) == 0) {
			close(report[0]);
			run_verifier(db_dir, ack_path, key, v, report[1]);
		}
		close(report[1]);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "run %u: verification failed", run);
		ck_assert_int_eq(read(report[0], got, sizeof(got)), sizeof(got));
		close(report[0]);
		/* Sizes never go back, and acknowledgements only accumulate. */
		ck_assert_uint_ge(got[0], last_size);
		ck_assert_uint_ge(got[1], last_acks);
		if (got[0] > last_size)
			killed_while_writing++;
		last_size = got[0];
		last_acks = got[1];
	}
	fprintf(stderr, "crash test: %d kills, %d while appending, %llu entries, %llu acknowledged\n", KILLS,
		killed_while_writing, (unsigned long long)last_size, (unsigned long long)last_acks);
	/* The test must have exercised kills during appends, not only idle ones. */
	ck_assert_int_ge(killed_while_writing, 3);
	ck_assert_uint_gt(last_acks, 0);

	tl_buf_free(&vkey);
	tl_verifier_free(v);
	tl_signer_free(key);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

Suite *suite_crash(void)
{
	Suite *s = suite_create("crash");
	TCase *tc;

	if (!tu_check_forks()) {
		tu_suite_left_out("crash", "CK_FORK=no (it forks and kills processes)");
		return s;
	}
	tc = tcase_create("crash");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, kill_9_at_random_moments_loses_nothing_acknowledged);
	suite_add_tcase(s, tc);
	return s;
}
