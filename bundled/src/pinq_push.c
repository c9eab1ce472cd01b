/* Pushing one DAG from the local block store through the pin queue's transport: children
 * before parents, each distinct block once per attempt, then the pin. */
#include "pinq_internal.h"

#include <stdlib.h>
#include <string.h>

#include "unixfs.h"

/* The set of blocks already put during one attempt (repeated leaves are sent once): open
 * addressing over the digests, kept at most half full. */
struct seen {
	tl_hash *slots;
	uint8_t *used;
	size_t cap, n;
};

static uint64_t slot_of(const tl_hash *h)
{
	uint64_t x;

	memcpy(&x, h->b, sizeof(x));
	return x;
}

static int seen_has(const struct seen *s, const tl_hash *h)
{
	if (s->cap == 0)
		return 0;
	for (size_t i = slot_of(h) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->used[i])
			return 0;
		if (tl_hash_equal(&s->slots[i], h))
			return 1;
	}
}

/* Places h in a table known to have room. */
static void seen_place(struct seen *s, const tl_hash *h)
{
	for (size_t i = slot_of(h) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->used[i]) {
			s->used[i] = 1;
			s->slots[i] = *h;
			s->n++;
			return;
		}
		if (tl_hash_equal(&s->slots[i], h))
			return;
	}
}

static int seen_add(struct seen *s, const tl_hash *h)
{
	if ((s->n + 1) * 2 > s->cap) {
		struct seen g = { NULL, NULL, s->cap ? s->cap * 2 : 64, 0 };

		if ((g.slots = calloc(g.cap, sizeof(*g.slots))) == NULL ||
				(g.used = calloc(g.cap, 1)) == NULL) {
			free(g.slots);
			return tl_error_set(TL_E_NOMEM, "out of memory");
		}
		for (size_t i = 0; i < s->cap; i++)
			if (s->used[i])
				seen_place(&g, &s->slots[i]);
		free(s->slots);
		free(s->used);
		*s = g;
	}
	seen_place(s, h);
	return 0;
}

struct push {
	bd_blockstore *bs;
	const bd_pinq_transport *t;
	int (*pinned)(void *ctx, const bd_cid *cid);
	void *ctx;
	struct seen seen;
	size_t visited;
};

static const char *cid_text(char buf[BD_CID_TEXT_MAX], const bd_cid *cid)
{
	return bd_cid_format(buf, BD_CID_TEXT_MAX, cid) == 0 ? buf : "?";
}

/* Puts the block `cid` after every block below it, read from the local block store. */
static int push_block(struct push *p, const bd_cid *cid, int depth)
{
	char text[BD_CID_TEXT_MAX];
	bd_unixfs__node node;
	uint8_t *data = NULL;
	size_t len = 0;
	bd_block block;
	int err;

	memset(&node, 0, sizeof(node));
	if (seen_has(&p->seen, &cid->digest) || (depth > 0 && p->pinned(p->ctx, cid) == 1))
		return 0;
	if (depth > BD_CAT_MAX_DEPTH)
		return tl_error_set(TL_E_INPUT, "DAG deeper than %d levels", BD_CAT_MAX_DEPTH);
	if (++p->visited > BD_CAT_MAX_BLOCKS)
		return tl_error_set(TL_E_INPUT, "DAG of more than %u blocks", BD_CAT_MAX_BLOCKS);
	if (cid->codec != BD_CODEC_RAW && cid->codec != BD_CODEC_DAG_PB)
		return tl_error_set(TL_E_INPUT, "block %s has codec 0x%llx, neither raw nor dag-pb",
			cid_text(text, cid), (unsigned long long)cid->codec);
	if ((err = bd_blockstore_get(&data, &len, p->bs, cid)) != 0) {
		err = tl_error_wrap(err, "local block store");
		goto out;
	}
	if (cid->codec == BD_CODEC_DAG_PB) {
		if ((err = bd_unixfs__read_any_node(&node, data, len)) != 0) {
			err = tl_error_wrap(err, "block %s", cid_text(text, cid));
			goto out;
		}
		for (size_t i = 0; i < node.nlinks; i++)
			if ((err = push_block(p, &node.links[i], depth + 1)) != 0)
				goto out;
	}
	block.cid = *cid;
	block.data = data;
	block.len = len;
	if ((err = p->t->put_block(p->t->ctx, &block)) != 0)
		goto out;
	err = seen_add(&p->seen, &cid->digest);
out:
	bd_unixfs__node_free(&node);
	free(data);
	return err;
}

int bd_pinq__push_dag(bd_blockstore *bs, const bd_pinq_transport *t, const bd_cid *root,
	int (*pinned)(void *ctx, const bd_cid *cid), void *ctx)
{
	struct push p;
	int err;

	memset(&p, 0, sizeof(p));
	p.bs = bs;
	p.t = t;
	p.pinned = pinned;
	p.ctx = ctx;
	if ((err = push_block(&p, root, 0)) == 0)
		err = t->pin(t->ctx, root);
	free(p.seen.slots);
	free(p.seen.used);
	return err;
}
