/*
 * The CLI's option parser (cli/opt.c) on its own: what it fills, what it refuses, and the
 * exact lines it prints, captured from in-memory streams.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../cli/cli.h"
#include "../../../cli/opt.h"

#define USAGE "usage: bundlectl demo [--server URL] [--domain TD]... [--json] FILE\n"
#define HELP USAGE "\nA demo.\n"

/* What one parse produced. */
static struct {
	const char *server, *format, *domains[3], *args[2];
	size_t n_domains, nargs;
	int json;
	char *out, *err;
} got;

/* Parses the NULL-terminated arguments after "demo" with the demo command's table. */
static int parse(char *first, ...)
{
	const struct cli_opt opts[] = {
		CLI_OPT_VALUE_ENV("server", "BUNDLECTL_TEST_SERVER", &got.server),
		CLI_OPT_VALUE("format", &got.format),
		CLI_OPT_LIST("domain", got.domains, &got.n_domains),
		CLI_OPT_FLAG("json", &got.json),
	};
	const struct cli_cmd_spec spec = CLI_SPEC("demo", USAGE, HELP, opts, 1, 2, "FILE");
	char *argv[16] = { "demo" };
	int argc = 1, rc;
	size_t out_len, err_len;
	FILE *out, *err;
	va_list ap;

	free(got.out);
	free(got.err);
	memset(&got, 0, sizeof(got));
	got.format = "default";
	va_start(ap, first);
	for (char *a = first; a != NULL; a = va_arg(ap, char *))
		argv[argc++] = a;
	va_end(ap);
	out = open_memstream(&got.out, &out_len);
	err = open_memstream(&got.err, &err_len);
	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(err);
	rc = cli_opt_parse_to(got.args, &got.nargs, &spec, argc, argv, out, err);
	fclose(out);
	fclose(err);
	return rc;
}

static void teardown(void)
{
	free(got.out);
	free(got.err);
	memset(&got, 0, sizeof(got));
	unsetenv("BUNDLECTL_TEST_SERVER");
}

START_TEST(values_flags_lists_and_operands)
{
	ck_assert_int_eq(parse("--server", "https://a.example", "--domain", "x.test", "f.json", "--json",
		"--domain=y.test", "--format=pem", NULL), CLI_OK);
	ck_assert_str_eq(got.server, "https://a.example");
	ck_assert_str_eq(got.format, "pem");
	ck_assert_uint_eq(got.n_domains, 2);
	ck_assert_str_eq(got.domains[0], "x.test");
	ck_assert_str_eq(got.domains[1], "y.test");
	ck_assert_int_eq(got.json, 1);
	ck_assert_uint_eq(got.nargs, 1);
	ck_assert_str_eq(got.args[0], "f.json");
	ck_assert_str_eq(got.out, "");
	ck_assert_str_eq(got.err, "");
	/* Untouched options keep their defaults; the last of a repeated value wins. */
	ck_assert_int_eq(parse("--server", "a", "--server", "b", "f", NULL), CLI_OK);
	ck_assert_str_eq(got.server, "b");
	ck_assert_str_eq(got.format, "default");
	ck_assert_int_eq(got.json, 0);
	ck_assert_uint_eq(got.n_domains, 0);
	/* A value is the next argument whatever it looks like, and "--name=" is an empty one. */
	ck_assert_int_eq(parse("--server", "-", "--format", "--json", "--domain=", "f", NULL), CLI_OK);
	ck_assert_str_eq(got.server, "-");
	ck_assert_str_eq(got.format, "--json");
	ck_assert_int_eq(got.json, 0);
	ck_assert_str_eq(got.domains[0], "");
}
END_TEST

START_TEST(end_of_options_and_stdin)
{
	ck_assert_int_eq(parse("-", NULL), CLI_OK);
	ck_assert_str_eq(got.args[0], "-");
	ck_assert_int_eq(parse("--json", "--", "--server", "-h", NULL), CLI_OK);
	ck_assert_int_eq(got.json, 1);
	ck_assert_ptr_null(got.server);
	ck_assert_uint_eq(got.nargs, 2);
	ck_assert_str_eq(got.args[0], "--server");
	ck_assert_str_eq(got.args[1], "-h");
	ck_assert_str_eq(got.out, "");
}
END_TEST

START_TEST(help)
{
	ck_assert_int_eq(parse("--help", NULL), CLI_OPT_HELP);
	ck_assert_str_eq(got.out, HELP);
	ck_assert_str_eq(got.err, "");
	ck_assert_int_eq(cli_opt_exit(CLI_OPT_HELP), CLI_OK);
	/* Help wins over mistakes anywhere else. */
	ck_assert_int_eq(parse("--bogus", "a", "b", "c", "-h", NULL), CLI_OPT_HELP);
	ck_assert_str_eq(got.out, HELP);
	ck_assert_str_eq(got.err, "");
	/* ... but not as an option's value. */
	ck_assert_int_eq(parse("--server", "-h", "f", NULL), CLI_OK);
	ck_assert_str_eq(got.server, "-h");
	ck_assert_str_eq(got.out, "");
}
END_TEST

static void assert_usage_error(int rc, const char *reason)
{
	char want[512];

	snprintf(want, sizeof(want), "bundlectl demo: %s\n" USAGE, reason);
	ck_assert_int_eq(rc, CLI_USAGE);
	ck_assert_int_eq(cli_opt_exit(rc), 2);
	ck_assert_str_eq(got.err, want);
	ck_assert_str_eq(got.out, "");
}

START_TEST(usage_errors)
{
	assert_usage_error(parse("--bogus", "f", NULL), "unknown option '--bogus'");
	assert_usage_error(parse("-x", "f", NULL), "unknown option '-x'");
	assert_usage_error(parse("--serv", "a", "f", NULL), "unknown option '--serv'");
	assert_usage_error(parse("f", "--server", NULL), "missing value for --server");
	assert_usage_error(parse("f", "--json=1", NULL), "option --json takes no value");
	assert_usage_error(parse("--domain", "a", "--domain", "b", "--domain", "c", "--domain", "d", "f", NULL),
		"at most 3 --domain options");
	assert_usage_error(parse("--json", NULL), "missing FILE");
	assert_usage_error(parse("a", "b", "c", NULL), "unexpected argument 'c'");
}
END_TEST

START_TEST(environment)
{
	ck_assert_int_eq(setenv("BUNDLECTL_TEST_SERVER", "https://env.example", 1), 0);
	ck_assert_int_eq(parse("f", NULL), CLI_OK);
	ck_assert_str_eq(got.server, "https://env.example");
	/* The command line wins over the environment. */
	ck_assert_int_eq(parse("--server", "https://cli.example", "f", NULL), CLI_OK);
	ck_assert_str_eq(got.server, "https://cli.example");
	/* An empty variable is unset. */
	ck_assert_int_eq(setenv("BUNDLECTL_TEST_SERVER", "", 1), 0);
	ck_assert_int_eq(parse("f", NULL), CLI_OK);
	ck_assert_ptr_null(got.server);
}
END_TEST

Suite *suite_cli_opt(void)
{
	Suite *s = suite_create("cli_opt");
	TCase *tc = tcase_create("cli_opt");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, values_flags_lists_and_operands);
	tcase_add_test(tc, end_of_options_and_stdin);
	tcase_add_test(tc, help);
	tcase_add_test(tc, usage_errors);
	tcase_add_test(tc, environment);
	suite_add_tcase(s, tc);
	return s;
}
