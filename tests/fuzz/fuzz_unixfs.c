/*
 * The dag-pb / UnixFS file node reader, which reads blocks that may come from any IPFS
 * peer: no input may crash it, and what it accepts must be self-consistent.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../bundled/src/unixfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bd_unixfs__node node;
	uint64_t sum = 0;

	if (bd_unixfs__read_node(&node, data, size) != 0)
		return 0;
	if (node.type != BD_UNIXFS_TYPE_FILE && node.type != BD_UNIXFS_TYPE_RAW)
		abort();
	if (node.data_len > size || (node.data_len && (node.data < data || node.data + node.data_len > data + size)))
		abort();
	for (size_t i = 0; i < node.nlinks; i++)
		sum += node.blocksizes[i];
	if (node.has_filesize && node.filesize != sum + node.data_len)
		abort();
	bd_unixfs__node_free(&node);
	return 0;
}
