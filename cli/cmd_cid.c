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

static const char usage_text[] =
	"usage: bundlectl cid [--chunker lines|size-N] [--blocks] FILE\n";

static void help(void)
{
	printf("%s\n"
	       "Prints the root CID (CIDv1, base32) of FILE's bytes (\"-\" reads stdin), built as a\n"
	       "UnixFS file with raw leaves exactly as Kubo builds one.\n\n"
	       "  --chunker lines    leaf boundaries at line starts, content-defined (the default;\n"
	       "                     the rule bundled uses for bundles, docs/formats.md)\n"
	       "  --chunker size-N   fixed N-byte leaves (1..1048576): the same CID as\n"
	       "                     ipfs add --cid-version=1 --raw-leaves --chunker=size-N\n"
	       "  --blocks           print every block instead, one \"CID SIZE\" per line, children\n"
	       "                     before parents, the root last\n\n"
	       "exit status: 0 printed, 1 the input could not be addressed, 2 usage or I/O error\n",
		usage_text);
}

static int run(int argc, char **argv)
{
	bd_chunker chunker = bd_chunker_default();
	const char *path = NULL;
	int blocks = 0, rc = CLI_OK, err;
	uint8_t *data = NULL;
	bd_dag *dag = NULL;
	size_t len = 0;

	if (cli_wants_help(argc, argv)) {
		help();
		return CLI_OK;
	}
	for (int i = 1; i < argc; i++) {
		const char *spec = NULL;

		if (strcmp(argv[i], "--chunker") == 0) {
			if (i + 1 == argc) {
				fprintf(stderr, "bundlectl cid: --chunker needs a value\n%s", usage_text);
				return CLI_USAGE;
			}
			spec = argv[++i];
		}
		else if (strncmp(argv[i], "--chunker=", 10) == 0)
			spec = argv[i] + 10;
		else if (strcmp(argv[i], "--blocks") == 0)
			blocks = 1;
		else if (strcmp(argv[i], "--") == 0 && i + 2 == argc && path == NULL)
			path = argv[++i];
		else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) && path == NULL)
			path = argv[i];
		else {
			fprintf(stderr, "bundlectl cid: unexpected argument '%s'\n%s", argv[i], usage_text);
			return CLI_USAGE;
		}
		if (spec != NULL && bd_chunker_parse(&chunker, spec) != 0) {
			fprintf(stderr, "bundlectl cid: %s\n%s", tl_error_message(), usage_text);
			return CLI_USAGE;
		}
	}
	if (path == NULL) {
		fprintf(stderr, "bundlectl cid: no FILE\n%s", usage_text);
		return CLI_USAGE;
	}
	if ((rc = cli_read_file(&data, &len, path, CLI_MAX_FILE)) != CLI_OK)
		return rc;
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
		fprintf(stderr, "bundlectl cid: cannot write the output\n");
		rc = CLI_USAGE;
	}
out:
	bd_dag_free(dag);
	free(data);
	return rc;
}

const struct cli_command cli_cmd_cid = { "cid", "print the CID of a file as bundled and IPFS address it", run };
