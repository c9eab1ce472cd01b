/*
 * bundled's bundle strictness against SPIFFE's own Go library, case by case: every bundle
 * vector the suites accept or reject (tests/vectors/bundle/, tests/vectors/interop/ and,
 * when present, the public go-spiffe / SPIRE / py-spiffe vectors in
 * ../shared/research/spiffe-vectors/) goes through `bundlectl canonical`, and the input and
 * every bundle bundlectl writes of it (canonical SPIFFE JSON and PEM) through
 * tests/peers/cmd/spiffecheck (go-spiffe's spiffebundle.Parse / x509bundle.Parse, Go's
 * crypto/x509).
 *
 * The rule: whatever bundled accepts, go-spiffe accepts, and every canonical bundle parses in
 * go-spiffe with the authorities go-spiffe reads in the vector, because SPIRE and every Go
 * consumer read what bundled serves with that code.
 * Where bundled is stricter than go-spiffe (it rejects what go-spiffe takes) nothing breaks
 * downstream and nothing is asserted.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testpeers.h"
#include "testrun.h"
#include "testutil.h"
#include "translog/bytes.h"

/*
 * The known cases where bundled ACCEPTS what go-spiffe REJECTS: each is a bug of bundled's
 * parser to fix (issue 8 §3: "Reject what Go's parser rejects, and check it case by case
 * against go-spiffe"), listed here so that the suite fails on any NEW disagreement, and also
 * when a listed one disappears, so that the fix removes its line. `label` is the vector
 * (its directory and file name; "(canonical)" and "(pem)" for the canonical JSON and the PEM
 * bundlectl wrote of it),
 * `go_says` a part of go-spiffe's reason.
 */
static const struct {
	const char *label, *go_says;
} expected_disagreements[] = {
	/* None left. Fixed in issue 8 §3 (each now refused by bundled, see docs/bundles.md):
	 * interop/ca-explicit-ec.pem ("x509: invalid ECDSA parameters"), interop/ca-negative-serial.pem
	 * ("x509: negative serial number"), interop/whitespace-only.pem ("no PEM blocks found"),
	 * interop/edit-x5t-not-a-digest.json and edit-x5t-s256-not-a-digest.json (go-jose: "x5t
	 * header is of incorrect size"), and every interop/go-*.pem and go-*.json vector. */
	{ NULL, NULL }, /* the end; C has no empty initializer list */
};

enum { MAX_CASES = 256 };

/* What go-spiffe reads: a vector as it is, or one of the two forms bundlectl writes of it. */
enum form { INPUT, CANONICAL, PEM };

struct verdict {
	char label[160];
	char path[4200];
	int accepted;
	char reason[512];
	size_t input;      /* the vector (index into ours) */
	enum form form;
	int x509s, jwts;   /* go-spiffe's authority counts, when it accepts */
};

static struct verdict ours[MAX_CASES], go[3 * MAX_CASES];
static size_t n_ours, n_go;
static char *work_dir;

/* Adds every regular *.json and *.pem file of dir (sorted by readdir order; labels unique). */
static void add_dir(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.' || len < 5 ||
		    (strcmp(e->d_name + len - 5, ".json") != 0 && strcmp(e->d_name + len - 4, ".pem") != 0))
			continue;
		ck_assert_uint_lt(n_ours, MAX_CASES);
		snprintf(ours[n_ours].label, sizeof(ours[n_ours].label), "%.30s/%.100s", prefix, e->d_name);
		snprintf(ours[n_ours].path, sizeof(ours[n_ours].path), "%s/%s", dir, e->d_name);
		n_ours++;
	}
	closedir(d);
}

static void collect_cases(void)
{
	static const char *const research[] = { "valid", "invalid", "x509-pem" };
	char dir[4200];

	n_ours = 0;
	snprintf(dir, sizeof(dir), "%s", tu_source_path("tests/vectors/bundle"));
	add_dir(dir, "bundle");
	snprintf(dir, sizeof(dir), "%s", tu_source_path("tests/vectors/interop"));
	add_dir(dir, "interop");
	for (size_t i = 0; i < sizeof(research) / sizeof(research[0]); i++) {
		char rel[64], prefix[64];
		const char *path;

		snprintf(rel, sizeof(rel), "spiffe-vectors/%s", research[i]);
		snprintf(prefix, sizeof(prefix), "spiffe-vectors/%s", research[i]);
		if ((path = tu_research_path(rel)) != NULL) {
			snprintf(dir, sizeof(dir), "%s", path);
			add_dir(dir, prefix);
		}
	}
	ck_assert_uint_gt(n_ours, 30);
}

/* Adds what bundlectl wrote for vector i in the given form as a case for go-spiffe. */
static void add_output(size_t i, enum form form, const struct tu_output *o)
{
	struct verdict *c = &go[n_go++];

	memset(c, 0, sizeof(*c));
	snprintf(c->label, sizeof(c->label), "%.140s (%s)", ours[i].label, form == PEM ? "pem" : "canonical");
	snprintf(c->path, sizeof(c->path), "%s/out-%zu.%s", work_dir, i, form == PEM ? "pem" : "json");
	c->input = i;
	c->form = form;
	ck_assert_int_eq(tu_write_file(c->path, o->out, o->out_len), 0);
}

/* bundlectl canonical on every vector; the canonical SPIFFE JSON and the PEM it writes of
 * each accepted one become cases for go-spiffe too. */
static void run_bundlectl(void)
{
	struct tu_output o = { 0 };

	n_go = 0;
	for (size_t i = 0; i < n_ours; i++) {
		int status = tu_run(&o, work_dir, "bundlectl", "canonical '%s'", ours[i].path);

		ck_assert_msg(status == 0 || status == 1, "bundlectl canonical %s: exit %d: %s", ours[i].label, status,
			o.err);
		ours[i].accepted = status == 0;
		snprintf(ours[i].reason, sizeof(ours[i].reason), "%s", o.err);
		ours[i].reason[strcspn(ours[i].reason, "\n")] = '\0';
		go[n_go] = ours[i];
		go[n_go].input = i;
		go[n_go++].form = INPUT;
		if (ours[i].accepted) {
			add_output(i, CANONICAL, &o);
			ck_assert_int_eq(tu_run(&o, work_dir, "bundlectl", "canonical --format pem '%s'", ours[i].path), 0);
			add_output(i, PEM, &o);
		}
	}
	tu_output_free(&o);
}

/* spiffecheck over every input and canonical form; one "accept|reject\tPATH\t..." line each. */
static void run_spiffecheck(void)
{
	struct tu_output o = { 0 };
	tl_buf args = tl_buf_make(1 << 20);
	const char *line;
	int status;

	for (size_t i = 0; i < n_go; i++)
		ck_assert_int_eq(tl_buf_printf(&args, " '%s'", go[i].path), 0);
	ck_assert_int_eq(tl_buf_append_u8(&args, 0), 0);
	status = tu_run(&o, work_dir, tu_peer_path("spiffecheck"), "%s", (const char *)args.data);
	ck_assert_msg(status == 0, "spiffecheck exited %d: %s", status, o.err);
	line = o.out;
	for (size_t i = 0; i < n_go; i++) {
		const char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
		const char *end = tab2 ? strchr(tab2, '\n') : NULL;

		ck_assert_msg(end != NULL, "spiffecheck line %zu malformed: %s", i, line);
		ck_assert_msg((size_t)(tab2 - tab1 - 1) == strlen(go[i].path) && strncmp(tab1 + 1, go[i].path, strlen(go[i].path)) == 0,
			"spiffecheck answered out of order at %s", go[i].label);
		go[i].accepted = strncmp(line, "accept\t", 7) == 0;
		snprintf(go[i].reason, sizeof(go[i].reason), "%.*s", (int)(end - tab2 - 1), tab2 + 1);
		if (go[i].accepted)
			ck_assert_int_eq(sscanf(go[i].reason, "x509=%d jwt=%d", &go[i].x509s, &go[i].jwts), 2);
		line = end + 1;
	}
	tu_output_free(&o);
	tl_buf_free(&args);
}

/* The go-spiffe case of vector i in the given form (NULL when bundlectl wrote none). */
static const struct verdict *find(size_t i, enum form form)
{
	for (size_t k = 0; k < n_go; k++)
		if (go[k].input == i && go[k].form == form)
			return &go[k];
	return NULL;
}

/* What bundlectl writes must hold, in go-spiffe's eyes, the authorities go-spiffe reads in the
 * vector: the same X.509 authorities in the canonical JSON and in the PEM, and no fewer JWT
 * ones (more when the vector is a plain JWKS, which bundled reads as a JWT bundle and
 * go-spiffe's SPIFFE-bundle parser ignores: keys without "use"). */
static int check_counts(tl_buf *report, size_t i)
{
	const struct verdict *in = find(i, INPUT), *c = find(i, CANONICAL), *pem = find(i, PEM);

	if (!ours[i].accepted || !in->accepted || !c->accepted || !pem->accepted)
		return 0;
	if (c->x509s == in->x509s && c->jwts >= in->jwts && pem->x509s == c->x509s)
		return 0;
	ck_assert_int_eq(tl_buf_printf(report, "\n  COUNT: %s: go-spiffe reads x509=%d jwt=%d in the vector, %s in the canonical "
						"form and x509=%d in the PEM",
				 ours[i].label, in->x509s, in->jwts, c->reason, pem->x509s),
		0);
	return 1;
}

START_TEST(go_spiffe_accepts_what_bundled_accepts)
{
	enum { N_EXPECTED = sizeof(expected_disagreements) / sizeof(expected_disagreements[0]) - 1 };
	int seen[N_EXPECTED + 1] = { 0 };
	tl_buf report = tl_buf_make(1 << 20);
	size_t agree = 0, stricter = 0, problems = 0;

	collect_cases();
	run_bundlectl();
	run_spiffecheck();
	for (size_t i = 0; i < n_go; i++) {
		const struct verdict *g = &go[i];
		int we_accept = ours[g->input].accepted, listed = -1;

		if (!we_accept || g->accepted) {
			if (!we_accept && g->accepted)
				stricter++;
			else
				agree++;
			continue;
		}
		for (int k = 0; k < N_EXPECTED; k++)
			if (strcmp(expected_disagreements[k].label, g->label) == 0)
				listed = k;
		if (listed >= 0 && strstr(g->reason, expected_disagreements[listed].go_says) != NULL) {
			seen[listed] = 1;
			continue;
		}
		problems++;
		ck_assert_int_eq(tl_buf_printf(&report, "\n  NEW: bundled accepts %s%s go-spiffe rejects it: %s", g->label,
					 g->form != INPUT ? " (a bundle bundlectl wrote);" : ",", g->reason),
			0);
	}
	for (size_t i = 0; i < n_ours; i++)
		problems += (size_t)check_counts(&report, i);
	for (int k = 0; k < N_EXPECTED; k++) {
		int ran = 0;

		for (size_t i = 0; i < n_go; i++)
			ran |= strcmp(go[i].label, expected_disagreements[k].label) == 0;
		if (ran && !seen[k]) {
			problems++;
			ck_assert_int_eq(tl_buf_printf(&report, "\n  GONE: %s no longer disagrees (\"%s\"): remove it from "
								"expected_disagreements",
						 expected_disagreements[k].label, expected_disagreements[k].go_says),
				0);
		}
	}
	ck_assert_int_eq(tl_buf_append_u8(&report, 0), 0);
	ck_assert_msg(problems == 0, "%zu of %zu cases (%zu agree, %zu where bundled is stricter):%s", problems, n_go,
		agree, stricter, (const char *)report.data);
	tl_buf_free(&report);
}
END_TEST

static void setup(void)
{
	ck_assert_ptr_nonnull(work_dir = tu_mkdtemp());
}

static void teardown(void)
{
	tu_rm_rf(work_dir);
	free(work_dir);
	work_dir = NULL;
}

Suite *suite_peer_spiffe(void)
{
	Suite *s = suite_create("peer_spiffe");
	TCase *tc = tcase_create("go-spiffe");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, go_spiffe_accepts_what_bundled_accepts);
	suite_add_tcase(s, tc);
	return s;
}
