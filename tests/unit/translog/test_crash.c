/*
 * Crash safety: a writer process appends from several threads and records every
 * acknowledged index in a file (write + fdatasync after the ack); it is killed with SIGKILL
 * at random moments. After each kill a fresh process reopens the log and checks that the
 * checkpoint verifies and matches the tree recomputed from the stored entries, and that every
 * acknowledged entry is there with its bytes.
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

#include "merkle_ref.h"
#include "testutil.h"
#include "translog/checkpoint.h"
#include "translog/key.h"
#include "translog/log.h"
#include "translog/tile.h"

enum { KILLS = 20, WRITER_THREADS = 3, MAX_BATCH = 40 };

/* One acknowledged entry: which writer run and sequence number made it, and where it went. */
struct ack {
	uint64_t index;
	uint32_t run;
	uint32_t seq;
};

static size_t make_entry(char *buf, size_t cap, uint32_t run, uint32_t seq)
{
	/* Lengths vary from ~20 to ~420 bytes so bundles fill unevenly. */
	size_t len = (size_t)snprintf(buf, cap, "run %u seq %u ", run, seq);
	size_t pad = (seq * 2654435761u) % 400;

	for (size_t i = 0; i < pad && len + 1 < cap; i++)
		buf[len++] = (char)('a' + (seq + i) % 26);
	return len;
}

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
	static _Thread_local char bufs[MAX_BATCH][512];
	const void *ptrs[MAX_BATCH];
	size_t lens[MAX_BATCH];
	struct ack acks[MAX_BATCH];
	uint32_t seq = w->id << 24;
	unsigned rnd = w->run * 31 + w->id;

	for (;;) {
		size_t n = 1 + (rand_r(&rnd) % MAX_BATCH);
		uint64_t first;

		for (size_t k = 0; k < n; k++) {
			lens[k] = make_entry(bufs[k], sizeof(bufs[k]), w->run, seq + (uint32_t)k);
			ptrs[k] = bufs[k];
		}
		if (tl_log_append_batch(&first, w->log, ptrs, lens, n) != 0) {
			fprintf(stderr, "writer: %s\n", tl_error_message());
			_exit(3);
		}
		for (size_t k = 0; k < n; k++)
			acks[k] = (struct ack){ first + k, w->run, seq + (uint32_t)k };
		pthread_mutex_lock(w->ack_lock);
		if (write(w->ack_fd, acks, n * sizeof(acks[0])) != (ssize_t)(n * sizeof(acks[0])) ||
		    fdatasync(w->ack_fd) != 0)
			_exit(4);
		pthread_mutex_unlock(w->ack_lock);
		seq += (uint32_t)n;
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

	if (fd < 0 || tl_db_open(&db, dir, tl_log_column_families, TL_LOG_COLUMN_FAMILY_COUNT) != 0 ||
	    tl_log_open(&log, db, key, &opts) != 0) {
		fprintf(stderr, "writer: open: %s\n", tl_error_message());
		_exit(2);
	}
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

#define VERIFY(cond, ...)                              \
	do {                                           \
		if (!(cond)) {                         \
			fprintf(stderr, "verify: " __VA_ARGS__); \
			fprintf(stderr, "\n");         \
			_exit(1);                      \
		}                                      \
	} while (0)

/* The verifier process: exit status 0 if the reopened log is whole; prints its size. */
static void run_verifier(const char *dir, const char *ack_path, const tl_signer *key, const tl_verifier *v,
	int out_fd)
{
	tl_db *db;
	tl_log *log;
	tl_buf note = tl_buf_make(1 << 16), bundle = tl_buf_make(1 << 25), e = tl_buf_make(1 << 17);
	tl_checkpoint cp;
	uint64_t size;
	tl_hash root, want, *leaves;
	size_t ack_len = 0, nacks;
	struct ack *acks;
	char buf[512];

	VERIFY(tl_db_open(&db, dir, tl_log_column_families, TL_LOG_COLUMN_FAMILY_COUNT) == 0, "db: %s",
		tl_error_message());
	VERIFY(tl_log_open(&log, db, key, NULL) == 0, "reopen: %s", tl_error_message());
	VERIFY(tl_log_head(&size, &root, &note, log) == 0, "head");
	VERIFY(tl_checkpoint_open(&cp, note.data, note.len, v) == 0, "checkpoint: %s", tl_error_message());
	VERIFY(cp.size == size && tl_hash_equal(&cp.root, &root), "checkpoint is not the head");

	/* The tree recomputed from the stored entry bundles. */
	leaves = malloc((size + 1) * sizeof(*leaves));
	VERIFY(leaves != NULL, "oom");
	for (uint64_t n = 0; n * 256 < size; n++) {
		tl_tile t = { .entries = true, .index = n, .width = tl_tile_width_at(0, n, size) };
		tl_cursor c;

		tl_buf_reset(&bundle);
		VERIFY(tl_log_tile(&bundle, log, &t) == 0, "bundle %llu: %s", (unsigned long long)n, tl_error_message());
		c = tl_cursor_make(bundle.data, bundle.len);
		for (unsigned i = 0; i < t.width; i++) {
			uint16_t len;
			const uint8_t *p;

			VERIFY(tl_cursor_u16be(&len, &c) == 0 && tl_cursor_take(&p, &c, len) == 0, "bundle %llu short",
				(unsigned long long)n);
			tl_hash_leaf(&leaves[n * 256 + i], p, len);
		}
		VERIFY(tl_cursor_left(&c) == 0, "bundle %llu long", (unsigned long long)n);
	}
	ref_mth_of_leaves(&want, leaves, size);
	VERIFY(tl_hash_equal(&want, &cp.root), "checkpoint root is not the root of the stored entries (size %llu)",
		(unsigned long long)size);

	/* Every acknowledged entry, with its bytes. A record torn by the kill is ignored: its
	 * entry was acknowledged but the writer died before recording it. */
	acks = (struct ack *)tu_read_file(ack_path, &ack_len);
	nacks = acks ? ack_len / sizeof(*acks) : 0;
	for (size_t i = 0; i < nacks; i++) {
		size_t len = make_entry(buf, sizeof(buf), acks[i].run, acks[i].seq);

		VERIFY(acks[i].index < size, "acknowledged entry %llu lost (size %llu)",
			(unsigned long long)acks[i].index, (unsigned long long)size);
		tl_buf_reset(&e);
		VERIFY(tl_log_entry(&e, log, acks[i].index) == 0, "entry %llu: %s", (unsigned long long)acks[i].index,
			tl_error_message());
		VERIFY(e.len == len && memcmp(e.data, buf, len) == 0, "entry %llu has the wrong bytes",
			(unsigned long long)acks[i].index);
	}
	{
		uint64_t report[2] = { size, nacks };

		VERIFY(write(out_fd, report, sizeof(report)) == sizeof(report), "report");
	}
	free(acks);
	free(leaves);
	tl_buf_free(&note);
	tl_buf_free(&bundle);
	tl_buf_free(&e);
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

	if (getenv("CK_FORK") && strcmp(getenv("CK_FORK"), "no") == 0) {
		/* Without Check's fork, this process may already run RocksDB threads. */
		fprintf(stderr, "crash test skipped: needs CK_FORK=yes\n");
		tu_rm_rf(dir);
		free(dir);
		return;
	}
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
	TCase *tc = tcase_create("crash");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, kill_9_at_random_moments_loses_nothing_acknowledged);
	suite_add_tcase(s, tc);
	return s;
}
