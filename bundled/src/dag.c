#include "bundled/dag.h"

#include <stdlib.h>
#include <string.h>

#include "translog/array.h"
#include "translog/bytes.h"
#include "unixfs.h"

struct bd_dag {
	uint8_t *input;   /* a copy of the file: the leaves point into it */
	size_t input_len;
	size_t nleaves;
	bd_block *blocks; /* distinct blocks, children first */
	size_t count;
	uint8_t **nodes;  /* the inner nodes' bytes, owned */
	size_t nnodes;
	size_t *set;      /* open-addressing set of block indexes + 1, keyed by CID */
	size_t set_size;  /* a power of two, at least twice the most blocks there can be */
};

static size_t cid_slot(const bd_dag *dag, const bd_cid *cid)
{
	uint64_t h = 0;

	/* The digest is already uniformly random. */
	memcpy(&h, cid->digest.b, sizeof(h));
	return (size_t)(h ^ cid->codec) & (dag->set_size - 1);
}

/* Lists a block unless the same CID is listed already. */
static void add_block(bd_dag *dag, const bd_cid *cid, const uint8_t *data, size_t len)
{
	size_t slot = cid_slot(dag, cid);

	while (dag->set[slot] != 0) {
		if (bd_cid_equal(&dag->blocks[dag->set[slot] - 1].cid, cid))
			return;
		slot = (slot + 1) & (dag->set_size - 1);
	}
	dag->blocks[dag->count].cid = *cid;
	dag->blocks[dag->count].data = data;
	dag->blocks[dag->count].len = len;
	dag->count++;
	dag->set[slot] = dag->count;
}

/* Leaves + one node per 174 entries on each level above: the most blocks there can be. */
static size_t max_blocks(size_t nleaves)
{
	size_t total = nleaves, level = nleaves;

	while (level > 1) {
		level = (level + BD_UNIXFS_LINKS_PER_NODE - 1) / BD_UNIXFS_LINKS_PER_NODE;
		total += level;
	}
	return total;
}

/* The lengths of the leaves the chunker cuts, at least one (the empty file is one empty
 * leaf). The rule runs once: for "lines" it hashes every line. */
static int cut_leaves(size_t **lens, size_t *n, const uint8_t *data, size_t len, const bd_chunker *chunker)
{
	size_t *v = NULL, alloc = 0, count = 0;
	size_t off = 0;
	int err = 0;

	do {
		size_t k = off < len ? bd_chunker_next(chunker, data + off, len - off) : 0;

		if (count == BD_DAG_MAX_LEAVES) {
			err = tl_error_set(TL_E_INPUT, "dag: more than %zu leaves", BD_DAG_MAX_LEAVES);
			goto out;
		}
		if ((err = tl_array_grow(&v, &alloc, count + 1, sizeof(*v), BD_DAG_MAX_LEAVES)) != 0)
			goto out;
		v[count++] = k;
		off += k;
	} while (off < len);
	*lens = v;
	*n = count;
	v = NULL;
out:
	free(v);
	return err;
}

/* Replaces each run of up to 174 entries of `level` by one file node over them. */
static int build_level(bd_dag *dag, bd_unixfs__child *level, size_t *n)
{
	tl_buf node = tl_buf_make(BD_UNIXFS_MAX_BLOCK);
	size_t out = 0;
	int err = 0;

	for (size_t i = 0; i < *n; i += BD_UNIXFS_LINKS_PER_NODE) {
		size_t k = *n - i < BD_UNIXFS_LINKS_PER_NODE ? *n - i : BD_UNIXFS_LINKS_PER_NODE;
		bd_unixfs__child parent;
		uint64_t tsize = 0, filesize = 0;
		size_t len = 0;

		tl_buf_reset(&node);
		if ((err = bd_unixfs__write_file_node(&node, level + i, k)) != 0)
			goto out;
		for (size_t j = 0; j < k; j++) {
			tsize += level[i + j].tsize;
			filesize += level[i + j].filesize;
		}
		dag->nodes[dag->nnodes] = tl_buf_detach(&node, &len);
		bd_cid_of(&parent.cid, BD_CODEC_DAG_PB, dag->nodes[dag->nnodes], len);
		parent.tsize = tsize + len;
		parent.filesize = filesize;
		add_block(dag, &parent.cid, dag->nodes[dag->nnodes], len);
		dag->nnodes++;
		level[out++] = parent;
	}
	*n = out;
out:
	tl_buf_free(&node);
	return err;
}

int bd_dag_build(bd_dag **out, const uint8_t *data, size_t len, const bd_chunker *chunker)
{
	bd_chunker lines = bd_chunker_default();
	bd_unixfs__child *level = NULL;
	size_t *leaf_lens = NULL;
	bd_dag *dag = NULL;
	size_t nblocks, nlevel = 0, off = 0;
	int err = 0;

	if (chunker == NULL)
		chunker = &lines;
	if (len > BD_DAG_MAX_INPUT)
		return tl_error_set(TL_E_INPUT, "dag: input of %zu bytes is over %zu", len, BD_DAG_MAX_INPUT);
	if ((dag = calloc(1, sizeof(*dag))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((err = cut_leaves(&leaf_lens, &dag->nleaves, data, len, chunker)) != 0)
		goto out;
	nblocks = max_blocks(dag->nleaves);
	dag->set_size = 2;
	while (dag->set_size < 2 * nblocks)
		dag->set_size *= 2;
	dag->input_len = len;
	if ((dag->input = malloc(len ? len : 1)) == NULL || (dag->blocks = calloc(nblocks, sizeof(*dag->blocks))) == NULL ||
	    (dag->nodes = calloc(nblocks - dag->nleaves + 1, sizeof(*dag->nodes))) == NULL ||
	    (dag->set = calloc(dag->set_size, sizeof(*dag->set))) == NULL ||
	    (level = calloc(dag->nleaves, sizeof(*level))) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if (len)
		memcpy(dag->input, data, len);
	for (; nlevel < dag->nleaves; nlevel++) {
		size_t n = leaf_lens[nlevel];

		bd_cid_of(&level[nlevel].cid, BD_CODEC_RAW, dag->input + off, n);
		level[nlevel].tsize = n;
		level[nlevel].filesize = n;
		add_block(dag, &level[nlevel].cid, dag->input + off, n);
		off += n;
	}
	/* Kubo's balanced builder fills each node with up to 174 children left to right and
	 * adds a level when the root is full; grouping level by level gives the same tree,
	 * including the one-child nodes on the right edge. */
	while (nlevel > 1)
		if ((err = build_level(dag, level, &nlevel)) != 0)
			goto out;
	if (!bd_cid_equal(&dag->blocks[dag->count - 1].cid, &level[0].cid))
		err = tl_error_set(TL_E_INTERNAL, "dag: the root is not the last block");
out:
	free(leaf_lens);
	free(level);
	if (err) {
		bd_dag_free(dag);
		return err;
	}
	*out = dag;
	return 0;
}

const bd_cid *bd_dag_root(const bd_dag *dag)
{
	return &dag->blocks[dag->count - 1].cid;
}

size_t bd_dag_count(const bd_dag *dag)
{
	return dag->count;
}

const bd_block *bd_dag_block(const bd_dag *dag, size_t i)
{
	return i < dag->count ? &dag->blocks[i] : NULL;
}

size_t bd_dag_leaf_count(const bd_dag *dag)
{
	return dag->nleaves;
}

size_t bd_dag_file_size(const bd_dag *dag)
{
	return dag->input_len;
}

void bd_dag_free(bd_dag *dag)
{
	if (dag == NULL)
		return;
	for (size_t i = 0; i < dag->nnodes; i++)
		free(dag->nodes[i]);
	free(dag->nodes);
	free(dag->set);
	free(dag->blocks);
	free(dag->input);
	free(dag);
}
