/*
 * Power loss: the log runs on powerfs (tests/support/powerfs.h), a FUSE filesystem that
 * throws away at a power cut whatever was written and not yet synced (file data without an
 * fsync/fdatasync of the file, directory entries without an fsync of the directory). Unlike
 * kill -9, which leaves the page cache alive, this sees a missing sync.
 *
 * Each round powers the filesystem on, forks a child that reopens the log from what survived,
 * checks it (lc_check_log: the checkpoint verifies and is the root recomputed from the stored
 * entries, every entry acknowledged in earlier rounds is there with its bytes), appends one
 * entry, and then appends from two threads, reporting every acknowledged entry to this process
 * over a pipe once the append returned. The power fails at a random fsync (that sync takes no
 * effect), or after a random number of acknowledgements if no sync comes (a log that does not
 * sync). Acknowledgements still in the pipe after the cut count: the appends they report
 * returned before it. A last round checks the log once more and appends. Every commit also
 * carries a rider's writes in another column family (lc_rider_hook, as bundled's publisher
 * carries blocks, pins and registry), and each round checks the rider holds exactly the
 * entries of the log that survived.
 *
 * The test process itself never opens RocksDB nor runs threads, so it can fork the children
 * and the filesystem process.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log_check.h"
#include "powerfs.h"
#include "testutil.h"
#include "translog/key.h"
#include "translog/log.h"

enum {
	MAX_ROUNDS = 60,
	MIN_ROUNDS = 10,
	BUDGET_MS = 8000,   /* no new round after this */
	MAX_FAIL_AT = 60,   /* the power fails at sync 1..MAX_FAIL_AT of a round */
	MAX_ACK_TARGET = 300, /* or after this many acknowledgements at most */
	ROUND_MS = 3000,    /* or after this long */
	QUIET_MS = 50,      /* after the cut, acknowledgements are read until the pipe is quiet this long */
	WRITERS = 2,
	MAX_BATCH = 8,
};

/* The first record a child sends: it checked the log, whose size is in .index. */
#define VERIFIED_RUN 0u

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct writer {
	tl_log *log;
	int out;
	uint32_t run;
	unsigned id;
};

static void send_acks(int fd, const struct lc_ack *acks, size_t n)
{
	/* At most PIPE_BUF bytes: one atomic write per batch, whole records only. */
	if (write(fd, acks, n * sizeof(*acks)) != (ssize_t)(n * sizeof(*acks)))
		_exit(4);
}

static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	struct lc_ack acks[MAX_BATCH];
	uint32_t seq = (w->id + 1) << 24;
	unsigned rnd = w->run * 31 + w->id;

	for (;;) {
		size_t n = 1 + (rand_r(&rnd) % MAX_BATCH);

		if (lc_append_batch(acks, w->log, w->run, &seq, n) != 0)
			_exit(3);
		send_acks(w->out, acks, n);
	}
	return NULL;
}

/* The child of a round: checks the log, appends one entry, then appends until killed (or,
 * in the last round, exits 0). Exit 1: the log is not whole; 2: it does not open or append. */
__attribute__((noreturn)) static void run_child(const char *dir, const tl_signer *key, const tl_verifier *v,
	const struct lc_ack *acks, size_t nacks, uint32_t run, bool last, int out)
{
	tl_db *db;
	tl_log *log;
	struct tl_log_options opts = { .max_batch = 64 };
	tl_log_hook rider;
	struct writer w[WRITERS];
	pthread_t th[WRITERS];
	struct lc_ack rec[2];
	char buf[512];
	size_t len = lc_make_entry(buf, sizeof(buf), run, 0);
	uint64_t size;

	/* Never outlive the test (its end is also what unmounts the filesystem). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (tl_db_open(&db, dir, lc_column_families, LC_COLUMN_FAMILY_COUNT) != 0 ||
	    tl_log_open(&log, db, key, &opts) != 0) {
		fprintf(stderr, "powerloss round %u: open: %s\n", run, tl_error_message());
		_exit(2);
	}
	if (lc_check_log(&size, log, v, acks, nacks) != 0) {
		fprintf(stderr, "powerloss round %u: the log lost what it acknowledged or is inconsistent\n", run);
		_exit(1);
	}
	/* What rode in the commits (as bundled's blocks, pins and registry do) survived with
	 * exactly the commits that survived; from here on every commit carries it again. */
	if (lc_check_rider(db, log, size) != 0) {
		fprintf(stderr, "powerloss round %u: the rider does not match the log\n", run);
		_exit(1);
	}
	lc_rider_hook(&rider, db);
	tl_log_set_hook(log, &rider);
	rec[0] = (struct lc_ack){ size, VERIFIED_RUN, 0 };
	send_acks(out, &rec[0], 1);
	rec[1] = (struct lc_ack){ 0, run, 0 };
	if (tl_log_append(&rec[1].index, log, buf, len) != 0 || rec[1].index != size) {
		fprintf(stderr, "powerloss round %u: append after reopening: %s\n", run, tl_error_message());
		_exit(2);
	}
	send_acks(out, &rec[1], 1);
	if (last) {
		tl_log_close(log);
		tl_db_close(db);
		_exit(0);
	}
	for (unsigned t = 0; t < WRITERS; t++) {
		w[t] = (struct writer){ log, out, run, t };
		if (pthread_create(&th[t], NULL, writer_thread, &w[t]) != 0)
			_exit(2);
	}
	for (unsigned t = 0; t < WRITERS; t++)
		pthread_join(th[t], NULL);
	_exit(2);
}

/* A temporary directory holding an empty mount point and an empty backing directory. */
static char *make_dirs(char mnt[4200], char backing[4200])
{
	char *base = tu_mkdtemp();

	ck_assert_ptr_nonnull(base);
	snprintf(mnt, 4200, "%s/mnt", base);
	snprintf(backing, 4200, "%s/backing", base);
	ck_assert_int_eq(mkdir(mnt, 0700), 0);
	ck_assert_int_eq(mkdir(backing, 0700), 0);
	return base;
}

struct round {
	struct lc_ack *acks; /* every acknowledgement so far */
	size_t nacks, cap;
	size_t acked;        /* acknowledgements in this round */
	bool verified, eof;
	uint64_t size;       /* what the child found */
	uint8_t part[sizeof(struct lc_ack)];
	size_t npart;
};

/* Reads what the child sent; false once it closed the pipe or timeout_ms passed quietly. */
static bool read_acks(struct round *r, int fd, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	uint8_t buf[4096];
	ssize_t got;

	if (r->eof || poll(&p, 1, timeout_ms) != 1)
		return false;
	if ((got = read(fd, buf, sizeof(buf))) <= 0) {
		r->eof = true;
		return false;
	}
	for (ssize_t i = 0; i < got; i++) {
		struct lc_ack a;

		r->part[r->npart++] = buf[i];
		if (r->npart < sizeof(a))
			continue;
		memcpy(&a, r->part, sizeof(a));
		r->npart = 0;
		if (a.run == VERIFIED_RUN) {
			r->verified = true;
			r->size = a.index;
			continue;
		}
		if (r->nacks == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 1024;
			r->acks = realloc(r->acks, r->cap * sizeof(*r->acks));
			ck_assert_ptr_nonnull(r->acks);
		}
		r->acks[r->nacks++] = a;
		r->acked++;
	}
	return true;
}

START_TEST(power_cuts_lose_nothing_acknowledged)
{
	char mnt[4200], backing[4200];
	char *base = make_dirs(mnt, backing);
	tl_signer *key;
	tl_verifier *v;
	tl_buf vkey = tl_buf_make(4096);
	const char *env = getenv("POWERLOSS_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
	struct round r = { 0 };
	uint64_t started = now_ms(), last_size = 0;
	unsigned rounds = 0, verified = 0, cuts_at_sync = 0, cuts_after_acks = 0;

	/* The suite is left out without fork (suite_powerloss); never pass by doing nothing. */
	ck_assert_msg(tu_check_forks(), "the power-loss test needs Check's fork mode");
	fprintf(stderr, "powerloss seed %u (POWERLOSS_SEED=%u repeats it)\n", seed, seed);
	ck_assert_int_eq(tl_signer_generate(&key, "example.org/powerloss-log"), 0);
	ck_assert_int_eq(tl_signer_vkey(&vkey, key), 0);
	ck_assert_int_eq(tl_verifier_parse(&v, (const char *)vkey.data, vkey.len), 0);

	for (uint32_t run = 1;; run++) {
		bool last = run > MAX_ROUNDS || (run > MIN_ROUNDS && now_ms() - started > BUDGET_MS);
		unsigned fail_at = last ? 0 : 1 + (unsigned)(rand_r(&seed) % MAX_FAIL_AT);
		size_t ack_target = 1 + (size_t)(rand_r(&seed) % MAX_ACK_TARGET);
		uint64_t round_end = now_ms() + ROUND_MS;
		struct pfs *fs;
		int pipefd[2], status;
		bool self_cut = false;
		pid_t pid;

		/* The database is the mount's root: it exists durably from the start, so the
		 * test does not depend on anyone syncing the parent of a directory it creates. */
		ck_assert_int_eq(pfs_start(&fs, mnt, backing, fail_at), 0);
		ck_assert_int_eq(pipe(pipefd), 0);
		fflush(NULL);
		if ((pid = fork()) == 0) {
			close(pipefd[0]);
			run_child(mnt, key, v, r.acks, r.nacks, run, last, pipefd[1]);
		}
		ck_assert_int_gt(pid, 0);
		close(pipefd[1]);
		r.acked = 0;
		r.verified = r.eof = false;
		r.npart = 0;

		if (!last) {
			while (!(self_cut = pfs_power_is_out(fs, 0))) {
				if (r.eof || r.acked >= ack_target || now_ms() > round_end)
					break;
				read_acks(&r, pipefd[0], 5);
			}
			ck_assert_int_eq(pfs_power_cut(fs), 0);
			/* Appends that returned before the cut may still be reporting. */
			while (read_acks(&r, pipefd[0], QUIET_MS))
				;
			/* Killed before the unmount (after it, its paths would lead to the empty
			 * directory under the mount), reaped after it: a process waiting for an
			 * answer the filesystem will never give dies only once it is gone. */
			kill(pid, SIGKILL);
			pfs_stop(fs);
			ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		} else {
			ck_assert_int_eq(waitpid(pid, &status, 0), pid);
			pfs_stop(fs);
		}
		while (read_acks(&r, pipefd[0], 0))
			;
		close(pipefd[0]);
		if (last) {
			ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "last round: the child failed (%d)",
				WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			ck_assert(r.verified);
			break;
		}
		/* The child never stops by itself: only a failed check, open or append ends it. */
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
			"round %u: the child failed (exit %d): the log lost an acknowledged entry or broke", run,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		rounds++;
		if (getenv("POWERLOSS_VERBOSE"))
			fprintf(stderr, "round %u: fail at sync %u: %s, %s (size %llu), %zu acknowledged\n", run, fail_at,
				self_cut ? "failed at that sync" : "cut", r.verified ? "checked" : "not checked",
				(unsigned long long)r.size, r.acked);
		if (r.verified) {
			verified++;
			ck_assert_uint_ge(r.size, last_size);
			last_size = r.size;
		}
		if (r.acked > 1 && self_cut)
			cuts_at_sync++;
		else if (r.acked > 1)
			cuts_after_acks++;
	}
	fprintf(stderr,
		"powerloss: %u cuts in %.1f s, %u after checking the log, %u at a sync while appending, %u after "
		"acknowledgements without a sync; %zu entries acknowledged, log size %llu\n",
		rounds, (double)(now_ms() - started) / 1000, verified, cuts_at_sync, cuts_after_acks, r.nacks,
		(unsigned long long)r.size);
	/* The rounds must have exercised cuts while appending, not only during opening. */
	ck_assert_uint_ge(verified, rounds / 2);
	ck_assert_uint_ge(cuts_at_sync + cuts_after_acks, 3);

	free(r.acks);
	tl_buf_free(&vkey);
	tl_verifier_free(v);
	tl_signer_free(key);
	tu_rm_rf(base);
	free(base);
}
END_TEST

static void write_at(const char *path, const char *text, bool sync)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fflush(f), 0);
	if (sync)
		ck_assert_int_eq(fsync(fileno(f)), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static void sync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fsync(fd), 0);
	close(fd);
}

static bool has(const char *dir, const char *name, const char *text)
{
	char path[4300];
	size_t len = 0;
	uint8_t *got;
	bool same;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((got = tu_read_file(path, &len)) == NULL)
		return text == NULL;
	same = text != NULL && len == strlen(text) && memcmp(got, text, len) == 0;
	free(got);
	return same;
}

/* Each (name, content) of `want` is in dir (content NULL: absent). */
static void expect_files(const char *dir, const char *const want[][2], size_t n)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(has(dir, want[i][0], want[i][1]), "%s: %s is not %s%s", dir, want[i][0],
			want[i][1] ? "as expected: " : "absent", want[i][1] ? want[i][1] : "");
}

/* The model itself, on files the test writes: what a cut keeps and what it loses. */
START_TEST(powerfs_keeps_only_what_was_synced)
{
	char mnt[4200], backing[4200], p[4300], q[4300];
	char *base = make_dirs(mnt, backing);
	struct pfs *fs;


	ck_assert_int_eq(pfs_start(&fs, mnt, backing, 0), 0);
#define AT(name) (snprintf(p, sizeof(p), "%s/%s", mnt, name), p)
	write_at(AT("durable"), "one", true);
	write_at(AT("old"), "old", true);
	write_at(AT("renamed-away"), "r", true);
	write_at(AT("doomed"), "d", true);
	sync_dir(mnt);
	/* After the directory sync: new names, unsynced data, an unsynced rename and unlink. */
	write_at(AT("durable"), "two, not synced", false);
	write_at(AT("synced-but-unnamed"), "s", true);
	write_at(AT("new"), "new", true);
	snprintf(q, sizeof(q), "%s/old", mnt);
	ck_assert_int_eq(rename(AT("new"), q), 0);
	snprintf(q, sizeof(q), "%s/elsewhere", mnt);
	ck_assert_int_eq(rename(AT("renamed-away"), q), 0);
	ck_assert_int_eq(unlink(AT("doomed")), 0);
	ck_assert(has(mnt, "old", "new"));
	ck_assert_int_eq(pfs_power_cut(fs), 0);
	pfs_stop(fs);

	expect_files(backing, (const char *const[][2]){ { "durable", "one" }, { "old", "old" }, { "renamed-away", "r" },
		{ "elsewhere", NULL }, { "doomed", "d" }, { "synced-but-unnamed", NULL } }, 6);

	/* Power on again: the survivors are served; a directory sync makes names durable, each
	 * with its file's data as of its last sync. */
	ck_assert_int_eq(pfs_start(&fs, mnt, backing, 0), 0);
	ck_assert(has(mnt, "durable", "one"));
	write_at(AT("a"), "a synced", true);
	write_at(AT("b"), "b never synced", false);
	ck_assert_int_eq(mkdir(AT("sub"), 0700), 0);
	write_at(AT("sub/c"), "c", true);
	sync_dir(mnt);
	ck_assert_int_eq(truncate(AT("durable"), 1), 0);
	ck_assert_int_eq(pfs_power_cut(fs), 0);
	pfs_stop(fs);
	expect_files(backing, (const char *const[][2]){ { "a", "a synced" }, { "b", "" }, { "durable", "one" },
		{ "sub/c", NULL } }, 4);
#undef AT

	/* The power fails by itself at the first sync, which then takes no effect. */
	ck_assert_int_eq(pfs_start(&fs, mnt, backing, 1), 0);
	ck_assert(!pfs_power_is_out(fs, 0));
	{
		pid_t pid;
		int status;

		fflush(NULL);
		if ((pid = fork()) == 0) {
			snprintf(p, sizeof(p), "%s/a", mnt);
			write_at(p, "lost", true);
			_exit(0);
		}
		ck_assert(pfs_power_is_out(fs, 10000));
		kill(pid, SIGKILL);
		pfs_stop(fs);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFSIGNALED(status));
	}
	ck_assert(has(backing, "a", "a synced"));

	tu_rm_rf(base);
	free(base);
}
END_TEST

Suite *suite_powerloss(void)
{
	Suite *s = suite_create("powerloss");
	TCase *tc;
	const char *why = tu_check_forks() ? pfs_unavailable() : "CK_FORK=no (it forks and kills processes)";

	if (why != NULL) {
		tu_suite_left_out("powerloss", why);
		return s;
	}
	tc = tcase_create("powerloss");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, powerfs_keeps_only_what_was_synced);
	tcase_add_test(tc, power_cuts_lose_nothing_acknowledged);
	suite_add_tcase(s, tc);
	return s;
}
