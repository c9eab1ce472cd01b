/*
 * A version's bytes by CID, for the auditor: every block fetched is checked against its CID
 * (bd_client_block), so the bytes returned are exactly the content the CID names, whoever
 * served them (bundled's /ipfs/ endpoint or a trustless IPFS gateway: same path and query).
 */
#include <stdlib.h>
#include <string.h>

#include "audit_internal.h"
#include "bundled/cid.h"
#include "unixfs.h"

/* A balanced UnixFS DAG of a 16 MiB file is 3 levels deep; allow slack for other importers. */
#define MAX_DEPTH 16

static int fetch_node(tl_buf *out, bd_client *c, const bd_cid *cid, uint64_t max, unsigned depth)
{
	tl_buf block = tl_buf_make(BD_CLIENT_MAX_BLOCK);
	bd_unixfs__node node;
	int err;

	if (depth > MAX_DEPTH)
		return tl_error_set(TL_E_INPUT, "UnixFS DAG deeper than %u", MAX_DEPTH);
	if ((err = bd_client_block(&block, c, cid)) != 0)
		goto out;
	if (cid->codec == BD_CODEC_RAW) {
		if (out->len + block.len > max)
			err = tl_error_set(TL_E_INPUT, "the file is larger than %llu bytes", (unsigned long long)max);
		else
			err = tl_buf_append(out, block.data, block.len);
		goto out;
	}
	if (cid->codec != BD_CODEC_DAG_PB) {
		err = tl_error_set(TL_E_INPUT, "a block of codec 0x%llx in a file DAG", (unsigned long long)cid->codec);
		goto out;
	}
	if ((err = bd_unixfs__read_node(&node, block.data, block.len)) != 0)
		goto out;
	if (out->len + node.data_len > max)
		err = tl_error_set(TL_E_INPUT, "the file is larger than %llu bytes", (unsigned long long)max);
	else
		err = tl_buf_append(out, node.data, node.data_len);
	for (size_t i = 0; i < node.nlinks && err == 0; i++)
		err = fetch_node(out, c, &node.links[i], max, depth + 1);
	bd_unixfs__node_free(&node);
out:
	tl_buf_free(&block);
	return err;
}

int audit_fetch_file(tl_buf *out, bd_client *c, const char *cid_text, uint64_t max)
{
	bd_cid cid;
	int err;

	if ((err = bd_cid_parse(&cid, cid_text, strlen(cid_text))) != 0)
		return err;
	return fetch_node(out, c, &cid, max, 0);
}
