/*
 * The schema check the test runner makes after the suites (tests/schema/check-exchanges.cjs
 * over what tests/support/testhttp.c th_record wrote): that it passes a complete, valid record
 * and fails on each thing it is there to catch. Records are written with th_record itself, a
 * small routes.json stands for the real one, and the real map is checked against the real
 * daemon's route table.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testdaemon.h"
#include "testhttp.h"
#include "testrun.h"
#include "testutil.h"

static char *dir;
static struct tu_output out;

#define LOG_OK "{\"origin\":\"bundled.local/log\",\"vkey\":\"bundled.local/log+01234567+AAAA\",\"size\":3}"
#define REGISTER_OK "{\"domain\":\"example.org\",\"publisher_keys\":[\"publisher.example.org+01234567+AAAA\"]}"
#define WRITTEN_OK                                                                                          \
	"{\"domain\":\"example.org\",\"index\":0,\"first\":0,\"entries\":1,\"existing\":false,\"checkpoint\":\"x\\n\"," \
	"\"inclusion_proof\":{\"index\":0,\"size\":1,\"hashes\":[]}}"
#define BUNDLE_OK                                                                                            \
	"{\"keys\":[{\"crv\":\"P-256\",\"kid\":\"k1\",\"kty\":\"EC\",\"use\":\"jwt-svid\",\"x\":\"abc\",\"y\":\"def\"}]," \
	"\"spiffe_sequence\":1}"

/* A small routes.json: one line of each kind. */
static const char MAP[] = "{\"errors\":\"error.schema.json\",\"routes\":{"
			  "\"GET /v1/log\":\"log.schema.json\","
			  "\"GET /checkpoint\":\"text/plain\","
			  "\"GET /v1/domains/{td}/bundles/{seq}\":\"spiffe-bundle.schema.json\","
			  "\"POST /v1/domains\":{\"request\":\"register-request.schema.json\","
			  "\"response\":\"publish-response.schema.json\"}},"
			  "\"commands\":{\"bundlectl status --json\":\"cli-status.schema.json\"}}";

/* The runner's record, given back after each test (Check may run the tests unforked). */
static char *saved_record;

static void setup(void)
{
	dir = tu_mkdtemp();
	ck_assert_int_eq(tu_system("mkdir '%s/schema' && cp '%s'/*.schema.json '%s/schema/'", dir, tu_source_path("schema"),
				 dir),
		0);
	ck_assert_int_eq(tu_write_file(tu_path_in(dir, "schema/routes.json"), MAP, strlen(MAP)), 0);
	saved_record = getenv("BUNDLED_TEST_RECORD") ? strdup(getenv("BUNDLED_TEST_RECORD")) : NULL;
	ck_assert_int_eq(setenv("BUNDLED_TEST_RECORD", tu_path_in(dir, "record.jsonl"), 1), 0);
	ck_assert_int_eq(tu_write_file(getenv("BUNDLED_TEST_RECORD"), "", 0), 0);
}

static void teardown(void)
{
	if (saved_record != NULL)
		setenv("BUNDLED_TEST_RECORD", saved_record, 1);
	else
		unsetenv("BUNDLED_TEST_RECORD");
	free(saved_record);
	saved_record = NULL;
	tu_output_free(&out);
	tu_rm_rf(dir);
	free(dir);
}

static void record(const char *method, const char *target, long status, const char *type, const char *body,
	const char *request)
{
	th_record(&(struct th_exchange){ .method = method, .target = target, .status = status, .type = type,
		.body = body, .len = body ? strlen(body) : 0, .request = request,
		.request_len = request ? strlen(request) : 0 });
}

/* Every line of the small map exercised, validly. */
static void record_all_valid(void)
{
	record("GET", "/v1/log", 200, "application/json", LOG_OK, NULL);
	record("HEAD", "/v1/log", 200, "application/json", NULL, NULL);
	record("GET", "/checkpoint", 200, "text/plain; charset=utf-8", "origin\n", NULL);
	record("GET", "/v1/domains/example.org/bundles/1", 200, "application/json", BUNDLE_OK, NULL);
	record("GET", "/v1/domains/example.org/bundles/1", 304, NULL, NULL, NULL);
	record("POST", "/v1/domains", 201, "application/json", WRITTEN_OK, REGISTER_OK);
	record("POST", "/v1/domains", 400, "application/json",
		"{\"error\":{\"code\":\"bad_input\",\"message\":\"not JSON\"}}", "{");
	record("GET", "/nope", 404, "application/json", "{\"error\":{\"code\":\"not_found\",\"message\":\"no\"}}", NULL);
	record("bundlectl", "status", 0, "application/json", "{\"log\":" LOG_OK "}\n", NULL);
}

/* tests/schema/validate.sh (tu_source_path's buffer is reused by tu_run). */
static const char *validate_sh(void)
{
	static char path[4200];

	snprintf(path, sizeof(path), "%s", tu_source_path("tests/schema/validate.sh"));
	return path;
}

/* Runs the check over the record with the small map and `table`; returns its exit status. */
static int check(const char *table)
{
	ck_assert_int_eq(tu_write_file(tu_path_in(dir, "table.txt"), table, strlen(table)), 0);
	return tu_run(&out, dir, validate_sh(),
		"--exchanges --schemas '%s/schema' --record '%s/record.jsonl' --route-table '%s/table.txt'", dir, dir, dir);
}

#define TABLE "GET /v1/log\nGET /checkpoint\nGET /v1/domains/\nPOST /v1/domains\n"

static void assert_fails(int status, const char *problem)
{
	ck_assert_msg(status == 1, "exit %d: %s%s", status, out.out, out.err);
	ck_assert_msg(strstr(out.err, problem) != NULL, "no \"%s\" in: %s", problem, out.err);
}

START_TEST(a_complete_valid_record_passes)
{
	record_all_valid();
	ck_assert_msg(check(TABLE) == 0, "%s%s", out.out, out.err);
	ck_assert_msg(strstr(out.out, "schema check: 9 exchanges, 7 JSON bodies") != NULL, "%s", out.out);
	ck_assert_ptr_nonnull(strstr(out.out, "coverage checked: ok"));
}
END_TEST

/* One bad exchange added to a valid record, and the problem the check must name. */
static const struct bad_exchange {
	const char *method, *target;
	long status;
	const char *type, *body, *request, *problem;
} bad[] = {
	/* a body that violates its schema */
	{ "GET", "/v1/log", 200, "application/json", "{\"origin\":\"bundled.local/log\",\"size\":3}", NULL,
		"GET /v1/log (200): does not match schema/log.schema.json" },
	/* a JSON answer that is not JSON */
	{ "GET", "/v1/domains/a.test/bundles/2", 200, "application/json", "{\"keys\":[]", NULL,
		"GET /v1/domains/a.test/bundles/2 (200): not JSON" },
	/* an answer of another type than its line */
	{ "GET", "/checkpoint", 200, "application/json", "{}", NULL,
		"Content-Type \"application/json\", routes.json says text/plain" },
	/* an accepted request body that violates its schema */
	{ "POST", "/v1/domains", 201, "application/json", WRITTEN_OK, "{\"domain\":\"example.org\"}",
		"POST /v1/domains (201) request body: does not match schema/register-request" },
	/* errors that are not the error schema */
	{ "GET", "/v1/log", 500, "text/html", "<h1>oops</h1>", NULL,
		"GET /v1/log (500): an error answer of type \"text/html\"" },
	{ "GET", "/v1/nope", 404, "application/json", "{\"message\":\"no\"}", NULL,
		"GET /v1/nope (404): does not match schema/error.schema.json" },
	/* a success on a path without a line (a route added under a prefix, without its line) */
	{ "GET", "/v1/domains/example.org/diff?from=1&to=2", 200, "application/json", "{}", NULL,
		"no line of schema/routes.json matches GET /v1/domains/example.org/diff" },
	/* a command that prints another object, or that has no line */
	{ "bundlectl", "status", 0, "application/json", "{\"log\":" LOG_OK ",\"extra\":1}\n", NULL,
		"bundlectl status --json: does not match schema/cli-status.schema.json" },
	{ "bundlectl", "audit", 0, "application/json", "{}\n", NULL,
		"\"bundlectl audit --json\" has no line in the \"commands\"" },
};

START_TEST(a_bad_exchange_fails)
{
	const struct bad_exchange *b = &bad[_i];

	record_all_valid();
	record(b->method, b->target, b->status, b->type, b->body, b->request);
	assert_fails(check(TABLE), b->problem);
}
END_TEST

START_TEST(a_route_never_exercised_fails)
{
	record("GET", "/v1/log", 200, "application/json", LOG_OK, NULL);
	record("GET", "/checkpoint", 200, "text/plain", "origin\n", NULL);
	/* a 404 does not exercise a route */
	record("GET", "/v1/domains/a.test/bundles/9", 404, "application/json",
		"{\"error\":{\"code\":\"not_found\",\"message\":\"no\"}}", NULL);
	record("bundlectl", "status", 0, "application/json", "{\"log\":" LOG_OK "}\n", NULL);
	check(TABLE);
	assert_fails(1, "\"GET /v1/domains/{td}/bundles/{seq}\" was never exercised");
	assert_fails(1, "\"POST /v1/domains\" was never exercised");
}
END_TEST

START_TEST(a_route_of_the_daemon_without_a_line_fails)
{
	record_all_valid();
	assert_fails(check(TABLE "GET /v1/watch\n"), "route \"GET /v1/watch\" of the daemon has no line in schema/routes.json");
}
END_TEST

START_TEST(a_line_that_no_route_serves_fails)
{
	record_all_valid();
	/* without the prefix route, the bundles line is served by nothing */
	assert_fails(check("GET /v1/log\nGET /checkpoint\nPOST /v1/domains\n"),
		"\"GET /v1/domains/{td}/bundles/{seq}\" is served by no route of the daemon");
}
END_TEST

START_TEST(the_maps_routes_are_the_daemons)
{
	char schemas[4200];

	/* the real map against the real route table: every route has a line, every line a route */
	snprintf(schemas, sizeof(schemas), "%s", tu_source_path("schema"));
	ck_assert_msg(tu_run(&out, dir, validate_sh(),
			      "--exchanges --schemas '%s' --record '%s/record.jsonl' --daemon '%s' --no-coverage",
			      schemas, dir, tu_bin_path("bundled")) == 0,
		"%s%s", out.out, out.err);
}
END_TEST

Suite *suite_schema_check(void)
{
	Suite *s = suite_create("schema_check");
	TCase *tc = tcase_create("check");

	if (system("command -v node >/dev/null 2>&1") != 0) {
		tu_suite_left_out("schema_check", "node not found (scripts/install-deps.sh installs it)");
		return s;
	}
	/* node starts in about 0.1 s, ajv compiles every schema: allow for a loaded machine */
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_complete_valid_record_passes);
	tcase_add_loop_test(tc, a_bad_exchange_fails, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, a_route_never_exercised_fails);
	tcase_add_test(tc, a_route_of_the_daemon_without_a_line_fails);
	tcase_add_test(tc, a_line_that_no_route_serves_fails);
	tcase_add_test(tc, the_maps_routes_are_the_daemons);
	suite_add_tcase(s, tc);
	return s;
}
