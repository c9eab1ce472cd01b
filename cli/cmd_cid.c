/*
 * bundlectl cid: the root CID of a file, as bundled stores and pins it. With
 * --chunker size-N it is the CID `ipfs add --cid-version=1 --raw-leaves --chunker=size-N`
 * prints for the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/chunker.h"
#include "bundled/cid.h"
#include "bundled/dag.h"
#include "cli.h"
#include "opt.h"

#define USAGE "usage: bundlectl cid [--chunker lines|size-N] [--blocks] FILE\n"

static const char help_text[] = USAGE
	"\n"
	"Prints the root CID (CIDv1, base32) of FILE's bytes (\"-\" reads stdin), built as a\n"
	"UnixFS file with raw leaves exactly as Kubo builds one.\n\n"
	"  --chunker lines    leaf boundaries at line starts, content-defined (the default;\n"
	"                     the rule bundled uses for bundles, docs/formats.md)\n"
	"  --chunker size-N   fixed N-byte leaves (1..1048576): the same CID as\n"
	"                     ipfs add --cid-version=1 --raw-leaves --chunker=size-N\n"
	"  --blocks           print every block instead, one \"CID SIZE\" per line, children\n"
	"                     before parents, the root last\n\n"
	"exit status: 0 printed, 1 the input could not be addressed, 2 usage or I/O error\n";

static int run(int argc, char **argv)
{
	bd_chunker chunker = bd_chunker_default();
	const char *path = NULL, *spec_text = NULL;
	int blocks = 0, rc = CLI_OK, err;
	const struct cli_opt opts[] = {
		CLI_OPT_VALUE("chunker", &spec_text),
		CLI_OPT_FLAG("blocks", &blocks),
	};
	const struct cli_cmd_spec spec = CLI_SPEC("cid", USAGE, help_text, opts, 1, 1, "FILE");
	uint8_t *data = NULL;
	bd_dag *dag = NULL;
	size_t len = 0, n_args;

	if ((rc = cli_opt_parse(&path, &n_args, &spec, argc, argv)) != CLI_OK)
		return cli_opt_exit(rc);
	if (spec_text != NULL && bd_chunker_parse(&chunker, spec_text) != 0)
		return cli_opt_usage_error(&spec, "%s", tl_error_message());
	if ((rc = cli_read_file(&data, &len, path, CLI_MAX_FILE)) != CLI_OK)
		goto out;
	if ((err = bd_dag_build(&dag, data, len, &chunker)) != 0) {
		rc = cli_fail("cid", err);
		goto out;
	}
	for (size_t i = 0; i < bd_dag_count(dag); i++) {
		const bd_block *b = bd_dag_block(dag, i);
		char text[BD_CID_TEXT_MAX];

		if ((err = bd_cid_format(text, sizeof(text), &b->cid)) != 0) {
			rc = cli_fail("cid", err);
			goto out;
		}
		if (blocks)
			printf("%s %zu\n", text, b->len);
		else if (i + 1 == bd_dag_count(dag))
			printf("%s\n", text);
	}
	if (fflush(stdout) != 0) {
		cli_error("cid", "cannot write the output");
		rc = CLI_USAGE;
	}
out:
	bd_dag_free(dag);
	free(data);
	return rc;
}

const struct cli_command cli_cmd_cid = { "cid", "print the CID of a file as bundled and IPFS address it", run };
