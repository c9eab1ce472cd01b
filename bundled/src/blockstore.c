#include "bundled/blockstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unixfs.h"

const char *const bd_blockstore_column_family = "blocks";

#define KEY_LEN (2 + TL_HASH_SIZE)

struct bd_blockstore {
	tl_db *db;
	rocksdb_column_family_handle_t *cf;
	int verify_reads;
};

static void block_key(uint8_t key[KEY_LEN], const bd_cid *cid)
{
	key[0] = BD_MH_SHA2_256;
	key[1] = TL_HASH_SIZE;
	memcpy(key + 2, cid->digest.b, TL_HASH_SIZE);
}

static const char *cid_text(char buf[BD_CID_TEXT_MAX], const bd_cid *cid)
{
	if (bd_cid_format(buf, BD_CID_TEXT_MAX, cid) != 0)
		snprintf(buf, BD_CID_TEXT_MAX, "(unprintable cid)");
	return buf;
}

int bd_blockstore_open(bd_blockstore **out, tl_db *db)
{
	rocksdb_column_family_handle_t *cf = tl_db_cf(db, bd_blockstore_column_family);
	bd_blockstore *bs;

	if (cf == NULL)
		return tl_error_set(TL_E_INTERNAL, "blockstore: the database has no column family '%s'",
			bd_blockstore_column_family);
	if ((bs = calloc(1, sizeof(*bs))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	bs->db = db;
	bs->cf = cf;
	*out = bs;
	return 0;
}

/* One stored block as the scrub sees it: NULL, or what is wrong with it. *cid is NULL for
 * a malformed key, else the raw CID of the key. */
static const char *scrub_problem(const bd_cid **cid, bd_cid *buf, const uint8_t *key, size_t klen, const uint8_t *v,
	size_t vlen)
{
	tl_hash h;

	*cid = NULL;
	if (klen != KEY_LEN || key[0] != BD_MH_SHA2_256 || key[1] != TL_HASH_SIZE)
		return "the key is not a SHA-256 multihash";
	*cid = buf;
	buf->codec = BD_CODEC_RAW;
	memcpy(buf->digest.b, key + 2, TL_HASH_SIZE);
	if (vlen > BD_BLOCK_MAX)
		return "the block is over the block size limit";
	tl_sha256(&h, v, vlen);
	if (!tl_hash_equal(&h, &buf->digest))
		return "its bytes do not hash to its CID";
	return NULL;
}

int bd_blockstore_scrub(struct bd_blockstore_scrub_stats *out, bd_blockstore *bs, bd_blockstore_bad_fn on_bad,
	void *ctx)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(tl_db_rocks(bs->db), tl_db_scan_read(bs->db), bs->cf);
	char *errptr = NULL;
	int err = 0;

	memset(out, 0, sizeof(*out));
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const uint8_t *key = (const uint8_t *)rocksdb_iter_key(it, &klen);
		const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vlen);
		const bd_cid *cid;
		const char *problem;
		bd_cid buf;

		out->blocks++;
		out->bytes += vlen;
		if ((problem = scrub_problem(&cid, &buf, key, klen, v, vlen)) != NULL) {
			out->bad++;
			if (on_bad)
				on_bad(ctx, cid, vlen, problem);
		}
	}
	rocksdb_iter_get_error(it, &errptr);
	if (errptr != NULL) {
		err = tl_error_set(TL_E_IO, "block store scrub stopped after %llu blocks: %s",
			(unsigned long long)out->blocks, errptr);
		rocksdb_free(errptr);
	}
	rocksdb_iter_destroy(it);
	return err;
}

void bd_blockstore_close(bd_blockstore *bs)
{
	free(bs);
}

static int check_block(const bd_cid *cid, const void *data, size_t len)
{
	char text[BD_CID_TEXT_MAX];
	tl_hash h;

	if (len > BD_BLOCK_MAX)
		return tl_error_set(TL_E_INPUT, "block %s: %zu bytes is over %u", cid_text(text, cid), len, BD_BLOCK_MAX);
	tl_sha256(&h, data, len);
	if (!tl_hash_equal(&h, &cid->digest))
		return tl_error_set(TL_E_INPUT, "block %s: its bytes do not hash to the CID's digest", cid_text(text, cid));
	return 0;
}

static void batch_put(rocksdb_writebatch_t *batch, bd_blockstore *bs, const bd_cid *cid, const void *data, size_t len)
{
	uint8_t key[KEY_LEN];

	block_key(key, cid);
	rocksdb_writebatch_put_cf(batch, bs->cf, (const char *)key, sizeof(key), (const char *)data, len);
}

int bd_blockstore_put(bd_blockstore *bs, const bd_cid *cid, const void *data, size_t len)
{
	rocksdb_writebatch_t *batch;
	int err;

	if ((err = check_block(cid, data, len)) != 0)
		return err;
	if ((batch = rocksdb_writebatch_create()) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	batch_put(batch, bs, cid, data, len);
	err = tl_db_write(bs->db, batch);
	rocksdb_writebatch_destroy(batch);
	return err;
}

int bd_blockstore_check_dag(const bd_dag *dag)
{
	int err;

	for (size_t i = 0; i < bd_dag_count(dag); i++) {
		const bd_block *b = bd_dag_block(dag, i);

		if ((err = check_block(&b->cid, b->data, b->len)) != 0)
			return err;
	}
	return 0;
}

void bd_blockstore_stage_dag(bd_blockstore *bs, rocksdb_writebatch_t *wb, const bd_dag *dag)
{
	for (size_t i = 0; i < bd_dag_count(dag); i++) {
		const bd_block *b = bd_dag_block(dag, i);

		batch_put(wb, bs, &b->cid, b->data, b->len);
	}
}

int bd_blockstore_put_dag(bd_blockstore *bs, const bd_dag *dag)
{
	rocksdb_writebatch_t *batch;
	int err;

	if ((err = bd_blockstore_check_dag(dag)) != 0)
		return err;
	if ((batch = rocksdb_writebatch_create()) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	bd_blockstore_stage_dag(bs, batch, dag);
	err = tl_db_write(bs->db, batch);
	rocksdb_writebatch_destroy(batch);
	return err;
}

void bd_blockstore_set_verify_reads(bd_blockstore *bs, int on)
{
	bs->verify_reads = on != 0;
}

static int corrupted(const bd_cid *cid, size_t len)
{
	char text[BD_CID_TEXT_MAX];

	return tl_error_set(TL_E_IO, "block store corrupted: block %s (%zu bytes stored) does not hash to its CID",
		cid_text(text, cid), len);
}

static int get_pinned(const uint8_t **data, size_t *len, void **pin, bd_blockstore *bs, const bd_cid *cid,
	int verify)
{
	char text[BD_CID_TEXT_MAX];
	uint8_t key[KEY_LEN];
	tl_hash h;
	int err;

	block_key(key, cid);
	if ((err = tl_db_get_pinned(data, len, pin, bs->db, bs->cf, key, sizeof(key))) != 0) {
		if (err == TL_E_NOTFOUND)
			return tl_error_set(TL_E_NOTFOUND, "block %s is not stored", cid_text(text, cid));
		return tl_error_wrap(err, "block %s", cid_text(text, cid));
	}
	if (verify) {
		tl_sha256(&h, *data, *len);
		if (!tl_hash_equal(&h, &cid->digest)) {
			tl_db_release(*pin);
			return corrupted(cid, *len);
		}
	}
	return 0;
}

static int get_copy(uint8_t **data, size_t *len, bd_blockstore *bs, const bd_cid *cid, int verify)
{
	const uint8_t *v;
	uint8_t *copy;
	size_t n;
	void *pin;
	int err;

	if ((err = get_pinned(&v, &n, &pin, bs, cid, verify)) != 0)
		return err;
	/* Never NULL, even for an empty block. */
	if ((copy = malloc(n ? n : 1)) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(copy, v, n);
	*data = copy;
	*len = n;
out:
	tl_db_release(pin);
	return err;
}

int bd_blockstore_get(uint8_t **data, size_t *len, bd_blockstore *bs, const bd_cid *cid)
{
	return get_copy(data, len, bs, cid, bs->verify_reads);
}

int bd_blockstore_get_verified(uint8_t **data, size_t *len, bd_blockstore *bs, const bd_cid *cid)
{
	return get_copy(data, len, bs, cid, 1);
}

int bd_blockstore_get_pinned(const uint8_t **data, size_t *len, void **pin, bd_blockstore *bs, const bd_cid *cid)
{
	return get_pinned(data, len, pin, bs, cid, bs->verify_reads);
}

int bd_blockstore_has(bd_blockstore *bs, const bd_cid *cid)
{
	uint8_t key[KEY_LEN];
	const uint8_t *v;
	size_t n;
	void *pin;
	int err;

	/* Pinned: presence only, so the block is not copied. */
	block_key(key, cid);
	if ((err = tl_db_get_pinned(&v, &n, &pin, bs->db, bs->cf, key, sizeof(key))) == 0)
		tl_db_release(pin);
	if (err == TL_E_NOTFOUND) {
		tl_error_clear();
		return 0;
	}
	return err ? err : 1;
}

/* The first bad block a scrub reports, as the error bd_blockstore_check returns. */
static void first_bad(void *ctx, const bd_cid *cid, size_t len, const char *problem)
{
	int *err = ctx;
	char text[BD_CID_TEXT_MAX];

	if (*err != 0)
		return;
	if (cid == NULL || bd_cid_format(text, sizeof(text), cid) != 0)
		snprintf(text, sizeof(text), "(a key that is not a sha2-256 multihash)");
	*err = tl_error_set(TL_E_INPUT, "block store corrupted: block %s (%zu bytes): %s", text, len, problem);
}

int bd_blockstore_check(uint64_t *blocks, uint64_t *bytes, bd_blockstore *bs)
{
	struct bd_blockstore_scrub_stats stats;
	int bad = 0, err;

	if ((err = bd_blockstore_scrub(&stats, bs, first_bad, &bad)) != 0)
		return err;
	if (bad != 0)
		return bad;
	*blocks = stats.blocks;
	*bytes = stats.bytes;
	return 0;
}

struct cat_state {
	tl_buf *out;
	bd_blockstore *bs;
	size_t visited;
};

/* Appends the content under `cid`, which must be `expect` bytes long (UINT64_MAX: unknown). */
static int cat_node(struct cat_state *st, const bd_cid *cid, uint64_t expect, int depth)
{
	char text[BD_CID_TEXT_MAX];
	bd_unixfs__node node;
	uint8_t *block = NULL;
	size_t len = 0, start = st->out->len;
	int err;

	memset(&node, 0, sizeof(node));
	if (depth > BD_CAT_MAX_DEPTH)
		return tl_error_set(TL_E_INPUT, "cat: DAG deeper than %d levels", BD_CAT_MAX_DEPTH);
	if (++st->visited > BD_CAT_MAX_BLOCKS)
		return tl_error_set(TL_E_INPUT, "cat: DAG of more than %u blocks", BD_CAT_MAX_BLOCKS);
	if (cid->codec != BD_CODEC_RAW && cid->codec != BD_CODEC_DAG_PB)
		return tl_error_set(TL_E_INPUT, "cat: block %s has codec 0x%llx, neither raw nor dag-pb",
			cid_text(text, cid), (unsigned long long)cid->codec);
	if (expect != UINT64_MAX && expect > tl_buf_room(st->out))
		return tl_error_set(TL_E_INPUT, "cat: content larger than %zu bytes", st->out->cap);
	/* Not a hot path: cat re-hashes what it reads whatever the store's setting. */
	if ((err = bd_blockstore_get_verified(&block, &len, st->bs, cid)) != 0)
		return err;
	if (cid->codec == BD_CODEC_RAW) {
		if ((err = tl_buf_append(st->out, block, len)) != 0)
			err = tl_error_set(TL_E_INPUT, "cat: content larger than %zu bytes", st->out->cap);
		goto out;
	}
	if ((err = bd_unixfs__read_node(&node, block, len)) != 0) {
		err = tl_error_wrap(err, "cat: block %s", cid_text(text, cid));
		goto out;
	}
	if (expect == UINT64_MAX && node.has_filesize && node.filesize > tl_buf_room(st->out)) {
		err = tl_error_set(TL_E_INPUT, "cat: file of %llu bytes is larger than %zu",
			(unsigned long long)node.filesize, st->out->cap);
		goto out;
	}
	if (node.data_len && (err = tl_buf_append(st->out, node.data, node.data_len)) != 0) {
		err = tl_error_set(TL_E_INPUT, "cat: content larger than %zu bytes", st->out->cap);
		goto out;
	}
	for (size_t i = 0; i < node.nlinks; i++)
		if ((err = cat_node(st, &node.links[i], node.blocksizes[i], depth + 1)) != 0)
			goto out;
out:
	if (!err && expect != UINT64_MAX && st->out->len - start != expect)
		err = tl_error_set(TL_E_INPUT, "cat: block %s holds %zu content bytes, its parent says %llu",
			cid_text(text, cid), st->out->len - start, (unsigned long long)expect);
	bd_unixfs__node_free(&node);
	free(block);
	return err;
}

int bd_blockstore_cat(tl_buf *out, bd_blockstore *bs, const bd_cid *root)
{
	struct cat_state st = { out, bs, 0 };

	return cat_node(&st, root, UINT64_MAX, 0);
}
