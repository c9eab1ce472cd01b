/*
 * bundlectl diff: make and apply the binary diffs agents download between two versions of a
 * bundle's canonical bytes (docs/formats.md, "Diffs").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/diff.h"
#include "cli.h"
#include "opt.h"

#define USAGE "usage: bundlectl diff make OLD NEW > PATCH\n       bundlectl diff apply OLD PATCH > NEW\n"

static const char help_text[] = USAGE
	"\n"
	"make   writes the diff that turns the file OLD into the file NEW: a zstd frame with OLD\n"
	"       as its reference (as zstd --patch-from makes one) in a header that carries both\n"
	"       files' sizes and SHA-256.\n"
	"apply  checks that OLD is the version PATCH was made from, applies it, checks the\n"
	"       result's SHA-256, and only then writes it: a wrong base or a corrupt patch is\n"
	"       an error, never wrong bytes.\n"
	"\"-\" reads stdin (for one of the two files).\n\n"
	"exit status: 0 written, 1 the patch does not fit OLD or is corrupt, 2 usage or I/O error\n";

static int write_all(const tl_buf *b)
{
	if ((b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len) || fflush(stdout) != 0) {
		cli_error("diff", "cannot write the output");
		return CLI_USAGE;
	}
	return CLI_OK;
}

static int run(int argc, char **argv)
{
	const char *args[3];
	/* No options: the subcommand and the two files. */
	const struct cli_cmd_spec spec = { "diff", USAGE, help_text, NULL, 0, 3, 3, "make|apply OLD FILE" };
	uint8_t *a = NULL, *b = NULL;
	size_t a_len = 0, b_len = 0, n_args;
	tl_buf out = tl_buf_make(BD_DIFF_MAX_VERSION_SIZE + BD_DIFF_MAX_VERSION_SIZE / 64 + 4096);
	int make, rc, err;

	if ((rc = cli_opt_parse(args, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if (strcmp(args[0], "make") != 0 && strcmp(args[0], "apply") != 0)
		return cli_opt_usage_error(&spec, "unknown subcommand '%s' (make or apply)", args[0]);
	make = strcmp(args[0], "make") == 0;
	if ((rc = cli_read_file(&a, &a_len, args[1], BD_DIFF_MAX_VERSION_SIZE)) != CLI_OK ||
	    (rc = cli_read_file(&b, &b_len, args[2], make ? BD_DIFF_MAX_VERSION_SIZE : CLI_MAX_FILE)) != CLI_OK)
		goto out;
	err = make ? bd_diff_make(&out, a, a_len, b, b_len) : bd_diff_apply(&out, a, a_len, b, b_len);
	rc = err ? cli_fail("diff", err) : write_all(&out);
out:
	tl_buf_free(&out);
	free(a);
	free(b);
	return rc;
}

const struct cli_command cli_cmd_diff = { "diff", "make or apply a verified binary diff between two versions", run };
