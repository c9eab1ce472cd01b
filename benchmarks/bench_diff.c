/*
 * Patch sizes and times of bundled's diffs (bd_diff, bundled/src/diff.c) beside the usual
 * binary diff tools, over every consecutive pair of the canonicalised cacert history
 * (CACERT_HISTORY_DIR: argv[1], default ../shared/research/cacert-history; issue 10, §5):
 *
 *   bundled   bd_diff_make / bd_diff_apply in this process (apply checks both SHA-256)
 *   xdelta3   `xdelta3 -e -s OLD NEW PATCH`, `xdelta3 -d -s OLD PATCH OUT`
 *   bsdiff    `bsdiff OLD NEW PATCH`, `bspatch OLD OUT PATCH`
 *   zstd      `zstd -19 --patch-from=OLD NEW -o PATCH`, `zstd -d --patch-from=OLD PATCH -o OUT`
 *
 * Every version is canonicalised as a publisher of the public CA store does (PEM read with
 * BD_PARSE_SKIP_REFUSED, sequence = its position), so all four see the same bytes. Each tool's
 * output is applied and compared with the new version: a tool that does not reproduce it
 * ends the run. Times: ROUNDS rounds, each going through every pair with the four tools in
 * turn, so load changes weigh on all of them alike; the tools' times are a process each (fork,
 * exec, file I/O included), bundled's are in process: compare sizes across tools, times only
 * as orders of magnitude. The last line times apply + hash checks for the newest version
 * (~260-300 KB), the agent's part of an update before its signature and proof checks.
 *
 * Usage: build/bench/bench_diff [CACERT_HISTORY_DIR] [ROUNDS] (default 3). A tool that is
 * not installed (scripts/install-deps.sh installs all three) is skipped with a note.
 */
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundled/bundle.h"
#include "bundled/diff.h"
#include "bundled/entry.h"
#include "translog/checkpoint.h"
#include "translog/key.h"
#include "util/clock.h"
#include "util/file.h"

#define MAX_VERSIONS 256
#define TOOLS 4
#define APPLY_REPS 200
/* The log size the per-update estimate assumes: proofs of 20 hashes each. */
#define EST_LOG_SIZE ((uint64_t)1 << 20)
#define EST_ORIGIN "bundled.example/log"

extern char **environ;

struct tool {
	const char *name;
	/* argv templates: "%o" old file, "%n" new file, "%p" patch, "%r" result */
	const char *make[10];
	const char *apply[10];
	bool present;
};

static struct tool tools[TOOLS] = {
	{ "bundled", { NULL }, { NULL }, true },
	{ "xdelta3", { "xdelta3", "-f", "-e", "-s", "%o", "%n", "%p", NULL },
		{ "xdelta3", "-f", "-d", "-s", "%o", "%p", "%r", NULL }, false },
	{ "bsdiff", { "bsdiff", "%o", "%n", "%p", NULL }, { "bspatch", "%o", "%r", "%p", NULL }, false },
	{ "zstd -19", { "zstd", "-q", "-f", "-19", "--patch-from=%o", "%n", "-o", "%p", NULL },
		{ "zstd", "-q", "-f", "-d", "--patch-from=%o", "%p", "-o", "%r", NULL }, false },
};

static char tmpdir[] = "/tmp/bench_diff.XXXXXX";

static void die(const char *what)
{
	fprintf(stderr, "bench_diff: %s: %s\n", what, tl_error_message());
	exit(1);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "bench_diff: cannot write %s\n", path);
		exit(1);
	}
}

static size_t file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "bench_diff: %s is missing\n", path);
		exit(1);
	}
	return (size_t)st.st_size;
}

/* Runs argv (with its templates filled) with output to /dev/null: the wall seconds, or -1 if
 * it could not start or did not exit 0. */
static double run(const char *const tmpl[10], const char *o, const char *n, const char *p, const char *r)
{
	char args[10][4400];
	char *argv[10] = { NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status;
	double t0;

	for (size_t i = 0; i < 9 && tmpl[i] != NULL; i++) {
		const char *t = tmpl[i], *at = strchr(t, '%');
		const char *sub = at == NULL ? NULL : at[1] == 'o' ? o : at[1] == 'n' ? n : at[1] == 'p' ? p : r;

		if (at == NULL)
			snprintf(args[i], sizeof(args[i]), "%s", t);
		else
			snprintf(args[i], sizeof(args[i]), "%.*s%s%s", (int)(at - t), t, sub, at + 2);
		argv[i] = args[i];
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	t0 = bench_now_s();
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return bench_now_s() - t0;
}

/* The canonical bytes of a PEM file of the history, with sequence `seq`. */
static int canonicalise(tl_buf *out, const uint8_t *pem, size_t len, uint64_t seq)
{
	bd_bundle_report report = { 0 };
	bd_bundle *b = NULL;
	int err;

	err = bd_bundle_parse(&b, pem, len, BD_PARSE_SKIP_REFUSED, &report);
	bd_bundle_report_free(&report);
	if (err != 0)
		return err;
	bd_bundle_set_sequence(b, seq);
	*out = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	err = bd_bundle_write_canonical(out, b);
	bd_bundle_free(b);
	return err;
}

/* One pair with one tool: patch size, make and apply seconds (checked: the result is `to`). */
static void measure(size_t t, size_t i, const tl_buf *from, const tl_buf *to, size_t *size, double *make_s,
	double *apply_s)
{
	char o[4400], n[4400], p[4400], r[4400];

	if (t == 0) {
		tl_buf patch = tl_buf_make(BD_DIFF_MAX_VERSION_SIZE + BD_DIFF_HEADER_SIZE);
		tl_buf got = tl_buf_make(BD_DIFF_MAX_VERSION_SIZE);
		double t0 = bench_now_s(), t1;

		if (bd_diff_make(&patch, from->data, from->len, to->data, to->len) != 0)
			die("bd_diff_make");
		t1 = bench_now_s();
		if (bd_diff_apply(&got, from->data, from->len, patch.data, patch.len) != 0)
			die("bd_diff_apply");
		*apply_s = bench_now_s() - t1;
		*make_s = t1 - t0;
		if (got.len != to->len || memcmp(got.data, to->data, to->len) != 0)
			die("bd_diff_apply gave other bytes");
		*size = patch.len;
		tl_buf_free(&patch);
		tl_buf_free(&got);
		return;
	}
	snprintf(o, sizeof(o), "%s/v%03zu", tmpdir, i);
	snprintf(n, sizeof(n), "%s/v%03zu", tmpdir, i + 1);
	snprintf(p, sizeof(p), "%s/patch", tmpdir);
	snprintf(r, sizeof(r), "%s/result", tmpdir);
	unlink(p);
	unlink(r);
	if ((*make_s = run(tools[t].make, o, n, p, r)) < 0 || (*apply_s = run(tools[t].apply, o, n, p, r)) < 0) {
		fprintf(stderr, "bench_diff: %s failed on pair %zu\n", tools[t].name, i);
		exit(1);
	}
	*size = file_size(p);
	{
		size_t len = 0;
		uint8_t *got = bench_read_file(r, BD_MAX_BUNDLE_SIZE, &len);

		if (got == NULL || len != to->len || memcmp(got, to->data, len) != 0) {
			fprintf(stderr, "bench_diff: %s did not reproduce version %zu\n", tools[t].name, i + 1);
			exit(1);
		}
		free(got);
	}
}

/* One line of the summary: median, worst and total patch size, median make and apply ms. */
static void summary(const char *name, size_t *v, size_t n, double *make, double *apply, size_t n_times)
{
	size_t total = 0;

	qsort(v, n, sizeof(*v), cmp_size);
	for (size_t i = 0; i < n; i++)
		total += v[i];
	if (make == NULL && n_times == 0)
		printf("\n%-10s %10s %10s %10s %14s %14s\n", "", "median B", "worst B", "total B", "make ms (med)",
			"apply ms (med)");
	printf("%-10s %10.0f %10zu %10zu", name, n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0, v[n - 1],
		total);
	if (make != NULL)
		printf(" %14.3f %14.3f", 1e3 * median(make, n_times), 1e3 * median(apply, n_times));
	printf("\n");
}

/* The agent's part of an update before its signature and proof checks: apply the patch to
 * the version held, checking the held version's SHA-256 and the result's (bd_diff_apply). */
static void apply_newest(const tl_buf *from, const tl_buf *to)
{
	tl_buf patch = tl_buf_make(BD_DIFF_MAX_VERSION_SIZE + BD_DIFF_HEADER_SIZE);
	tl_buf got = tl_buf_make(BD_DIFF_MAX_VERSION_SIZE);
	double t[APPLY_REPS], cpu0, cpu;

	if (bd_diff_make(&patch, from->data, from->len, to->data, to->len) != 0)
		die("bd_diff_make");
	cpu0 = bench_cpu_s();
	for (size_t i = 0; i < APPLY_REPS; i++) {
		double t0 = bench_now_s();

		tl_buf_reset(&got);
		if (bd_diff_apply(&got, from->data, from->len, patch.data, patch.len) != 0)
			die("bd_diff_apply");
		t[i] = bench_now_s() - t0;
	}
	cpu = (bench_cpu_s() - cpu0) / APPLY_REPS;
	printf("\napply + both SHA-256 checks, newest pair (%zu -> %zu bytes, patch %zu B): median %.3f ms wall, "
	       "%.3f ms CPU mean, over %d\n",
		from->len, to->len, patch.len, 1e3 * median(t, APPLY_REPS), 1e3 * cpu, APPLY_REPS);
	tl_buf_free(&patch);
	tl_buf_free(&got);
}

/*
 * What an agent downloads per update besides the patch, for the diff endpoint that is not
 * built yet (issue 10, §2): the new version's entry (real: signed, for the newest version),
 * a signed checkpoint (real: origin EST_ORIGIN, one signature), and an inclusion and a
 * consistency proof at EST_LOG_SIZE (32 bytes per hash, log2 of the size each). Framing
 * bytes of the response are not counted.
 */
static void estimate_update(size_t patch_median, const uint8_t *pem, size_t len, uint64_t seq, size_t full)
{
	bd_bundle_report report = { 0 };
	bd_bundle *b = NULL;
	bd_entry *e = calloc(1, sizeof(*e));
	tl_buf text = tl_buf_make(BD_ENTRY_MAX_SIZE), note = { 0 };
	tl_checkpoint cp = { .size = EST_LOG_SIZE };
	tl_signer *pub = NULL, *log = NULL;
	size_t proofs = 2 * 20 * 32;

	strcpy(cp.origin, EST_ORIGIN);
	if (e == NULL || bd_bundle_parse(&b, pem, len, BD_PARSE_SKIP_REFUSED, &report) != 0 ||
	    bd_entry_set_version(e, NULL, NULL, b, seq, 300, NULL) != 0 || tl_signer_generate(&pub, "publisher") != 0 ||
	    tl_signer_generate(&log, EST_ORIGIN) != 0 || tl_checkpoint_sign(&note, &cp, log) != 0)
		die("estimate");
	e->kind = BD_ENTRY_BUNDLE;
	strcpy(e->domain, "example.org");
	e->time = 1790000000;
	if (bd_entry_sign(e, EST_ORIGIN, pub) != 0 || bd_entry_write(&text, e) != 0)
		die("estimate entry");
	printf("\nper update (estimate; the diff endpoint is not built): median patch %zu + entry %zu + checkpoint %zu"
	       " + inclusion and consistency proofs at 2^20 leaves %zu = %zu bytes (full version: %zu + the same)\n",
		patch_median, text.len, note.len, proofs, patch_median + text.len + note.len + proofs, full);
	bd_bundle_report_free(&report);
	bd_bundle_free(b);
	free(e);
	tl_buf_free(&text);
	tl_buf_free(&note);
	tl_signer_free(pub);
	tl_signer_free(log);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "../shared/research/cacert-history";
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	static char *names[MAX_VERSIONS];
	static tl_buf canon[MAX_VERSIONS];
	static size_t sizes[TOOLS][MAX_VERSIONS], sorted[MAX_VERSIONS];
	static double make_s[TOOLS][MAX_VERSIONS * 8], apply_s[TOOLS][MAX_VERSIONS * 8];
	size_t n = 0, nv = 0, skipped = 0, pairs;
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4400];

	if (d == NULL) {
		printf("bench_diff: %s not found, skipped\n", dir);
		return 0;
	}
	if (rounds < 1 || rounds > 8)
		rounds = 3;
	while ((e = readdir(d)) != NULL && n < MAX_VERSIONS)
		if (strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".pem") == 0)
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	if (mkdtemp(tmpdir) == NULL) {
		perror("bench_diff: mkdtemp");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		uint8_t *pem;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if ((pem = bench_read_file(path, BD_MAX_BUNDLE_SIZE, &len)) == NULL)
			die(path);
		if (canonicalise(&canon[nv], pem, len, nv + 1) != 0) {
			fprintf(stderr, "bench_diff: %s left out: %s\n", names[i], tl_error_message());
			skipped++;
		} else {
			snprintf(path, sizeof(path), "%s/v%03zu", tmpdir, nv);
			write_file(path, canon[nv].data, canon[nv].len);
			nv++;
		}
		free(pem);
	}
	if (nv < 2) {
		printf("bench_diff: fewer than two versions in %s, skipped\n", dir);
		return 0;
	}
	pairs = nv - 1;
	for (size_t t = 1; t < TOOLS; t++) {
		snprintf(path, sizeof(path), "command -v %s >/dev/null 2>&1", tools[t].make[0]);
		tools[t].present = system(path) == 0;
		if (!tools[t].present)
			printf("bench_diff: %s not installed (scripts/install-deps.sh), left out\n", tools[t].make[0]);
	}
	printf("bench_diff: %s: %zu versions canonicalised (%zu left out), %zu consecutive pairs, %d rounds\n", dir, nv,
		skipped, pairs, rounds);
	for (int round = 0; round < rounds; round++)
		for (size_t i = 0; i < pairs; i++)
			for (size_t t = 0; t < TOOLS; t++)
				if (tools[t].present)
					measure(t, i, &canon[i], &canon[i + 1], &sizes[t][i],
						&make_s[t][(size_t)round * pairs + i], &apply_s[t][(size_t)round * pairs + i]);
	printf("\n%-5s %9s", "pair", "full B");
	for (size_t t = 0; t < TOOLS; t++)
		if (tools[t].present)
			printf(" %9s", tools[t].name);
	printf("\n");
	for (size_t i = 0; i < pairs; i++) {
		printf("%2zu-%-2zu %9zu", i + 1, i + 2, canon[i + 1].len);
		for (size_t t = 0; t < TOOLS; t++)
			if (tools[t].present)
				printf(" %9zu", sizes[t][i]);
		printf("\n");
	}
	for (size_t i = 0; i < pairs; i++)
		sorted[i] = canon[i + 1].len;
	summary("full", sorted, pairs, NULL, NULL, 0);
	for (size_t t = 0; t < TOOLS; t++)
		if (tools[t].present) {
			memcpy(sorted, sizes[t], pairs * sizeof(*sorted));
			summary(tools[t].name, sorted, pairs, make_s[t], apply_s[t], pairs * (size_t)rounds);
		}
	for (size_t i = 0; i < pairs; i++)
		sorted[i] = sizes[0][i] - BD_DIFF_HEADER_SIZE;
	summary("  frame", sorted, pairs, NULL, NULL, 1);
	printf("(bundled's zstd frame without its %u-byte header: both SHA-256, both sizes, magic, version)\n",
		BD_DIFF_HEADER_SIZE);
	memcpy(sorted, sizes[0], pairs * sizeof(*sorted));
	qsort(sorted, pairs, sizeof(*sorted), cmp_size);
	{
		size_t len = 0;
		uint8_t *pem;

		snprintf(path, sizeof(path), "%s/%s", dir, names[n - 1]);
		if ((pem = bench_read_file(path, BD_MAX_BUNDLE_SIZE, &len)) == NULL)
			die(path);
		estimate_update(pairs % 2 ? sorted[pairs / 2] : (sorted[pairs / 2 - 1] + sorted[pairs / 2]) / 2, pem, len, nv,
			canon[nv - 1].len);
		free(pem);
	}
	apply_newest(&canon[nv - 2], &canon[nv - 1]);
	snprintf(path, sizeof(path), "rm -rf '%s'", tmpdir);
	if (system(path) != 0)
		return 1;
	return 0;
}
