#include "translog/follow.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "follow_tiles.h"
#include "translog/cosig.h"
#include "translog/note.h"

int tl_follow_verify_checkpoint(tl_checkpoint *out, const tl_follow_config *cfg, const uint8_t *note, size_t len)
{
	tl_checkpoint cp;
	tl_note *n = NULL;
	int err;

	if (len > TL_NOTE_MAX_SIZE)
		return tl_error_set(TL_E_INPUT, "checkpoint note of %zu bytes is over %u", len, TL_NOTE_MAX_SIZE);
	if (cfg->quorum > cfg->n_witnesses)
		return tl_error_set(TL_E_INPUT, "witness quorum %zu is more than the %zu witnesses", cfg->quorum,
			cfg->n_witnesses);
	if ((err = tl_checkpoint_open(&cp, note, len, cfg->log_key)) != 0)
		return err;
	if (cp.size > TL_MAX_TREE_SIZE)
		return tl_error_set(TL_E_INPUT, "checkpoint size %" PRIu64 " is over 2^63", cp.size);
	if (cfg->quorum > 0) {
		/* A tl_note holds TL_NOTE_MAX_SIGS signature lines: too big for a small stack. */
		if ((n = malloc(sizeof(*n))) == NULL)
			return tl_error_set(TL_E_NOMEM, "out of memory");
		if ((err = tl_note_parse(n, note, len)) != 0 ||
		    (err = tl_cosig_check_quorum(NULL, n, cfg->witnesses, cfg->n_witnesses, cfg->quorum)) != 0)
			goto out;
	}
	*out = cp;
out:
	free(n);
	return err;
}

static int check_known(const tl_checkpoint *cp, const char *what)
{
	tl_hash empty;

	if (cp->size > TL_MAX_TREE_SIZE)
		return tl_error_set(TL_E_INPUT, "%s checkpoint size %" PRIu64 " is over 2^63", what, cp->size);
	tl_hash_empty(&empty);
	if (cp->size == 0 && !tl_hash_equal(&cp->root, &empty))
		return tl_error_set(TL_E_INPUT, "%s checkpoint of size 0 has a root other than the empty tree's",
			what);
	return 0;
}

static int conflict(const tl_follow_fork *f)
{
	if (f->rollback)
		return tl_error_set(TL_E_CONFLICT, "log %s rolled back from size %" PRIu64 " to %" PRIu64,
			f->new.origin, f->old.size, f->new.size);
	return tl_error_set(TL_E_CONFLICT, "log %s forked: its tree of size %" PRIu64 " does not extend the one "
		"of size %" PRIu64 " it signed before", f->new.origin, f->new.size, f->old.size);
}

/* Fills ev->proof and ev->prefix_root from the tiles of cp's tree: the consistency proof from
 * old_size and the root the tiles give at old_size. With cp's root as one end the proof
 * authenticates the tiles' nodes, so prefix_root is then the log's own word on that prefix. */
static int prove_prefix(tl_follow_fork *ev, const tl_follow_config *cfg, uint64_t old_size, const tl_checkpoint *cp)
{
	tl_follow__tiles tiles;
	int err;

	tl_follow__tiles_init(&tiles, cfg, cp->size);
	if ((err = tl_proof_consistency(ev->proof, &ev->n_proof, old_size, cp->size, tl_follow__node, &tiles)) != 0 ||
	    (err = tl_root_at(&ev->prefix_root, old_size, tl_follow__node, &tiles)) != 0)
		goto out;
	if ((err = tl_verify_consistency(old_size, cp->size, ev->proof, ev->n_proof, &ev->prefix_root,
		     &cp->root)) != 0)
		err = tl_error_wrap(err, "tiles of %s at size %" PRIu64 " do not hash to its checkpoint", cp->origin,
			cp->size);
out:
	tl_follow__tiles_free(&tiles);
	return err;
}

int tl_follow_consistency(tl_follow_fork *fork, const tl_follow_config *cfg, const tl_checkpoint *old,
	const tl_checkpoint *cp)
{
	tl_follow_fork ev;
	int err;

	if (strcmp(old->origin, cp->origin) != 0)
		return tl_error_set(TL_E_INPUT, "checkpoints of two origins cannot be compared");
	if ((err = check_known(old, "old")) != 0 || (err = check_known(cp, "new")) != 0)
		return err;
	memset(&ev, 0, sizeof(ev));
	ev.old = *old;
	ev.new = *cp;
	ev.prefix_root = cp->root;
	ev.rollback = cp->size < old->size;
	if (!ev.rollback && old->size > 0 && old->size < cp->size &&
	    (err = prove_prefix(&ev, cfg, old->size, cp)) != 0)
		return err;
	if (!ev.rollback && (old->size == 0 || tl_hash_equal(&ev.prefix_root, &old->root)))
		return 0; /* the empty tree is a prefix of every tree */
	if (fork != NULL)
		*fork = ev;
	return conflict(&ev);
}

int tl_follow_update(tl_checkpoint *out, tl_buf *note, tl_follow_fork *fork, const tl_follow_config *cfg,
	const tl_checkpoint *old)
{
	tl_checkpoint cp;
	tl_buf body = { 0 };
	int err;

	if ((err = tl_follow__fetch(&body, cfg, "checkpoint", TL_NOTE_MAX_SIZE)) != 0)
		goto out;
	if ((err = tl_follow_verify_checkpoint(&cp, cfg, body.data, body.len)) != 0)
		goto out;
	if (old != NULL && (err = tl_follow_consistency(fork, cfg, old, &cp)) != 0 && err != TL_E_CONFLICT)
		goto out;
	if (note != NULL) {
		int e = tl_buf_append(note, body.data, body.len);

		if (e != 0) {
			err = e;
			goto out;
		}
	}
	if (err == 0)
		*out = cp; /* else a conflict, whose message the append left in place */
out:
	tl_buf_free(&body);
	return err;
}

int tl_follow_inclusion(tl_hash *proof, size_t *n, const tl_follow_config *cfg, const tl_checkpoint *cp,
	uint64_t index, const tl_hash *leaf_hash)
{
	tl_follow__tiles tiles;
	int err;

	if ((err = check_known(cp, "the")) != 0)
		return err;
	if (index >= cp->size)
		return tl_error_set(TL_E_NOTFOUND, "leaf %" PRIu64 " is not in the tree of size %" PRIu64, index,
			cp->size);
	tl_follow__tiles_init(&tiles, cfg, cp->size);
	if ((err = tl_proof_inclusion(proof, n, index, cp->size, tl_follow__node, &tiles)) == 0 &&
	    (err = tl_verify_inclusion(leaf_hash, index, cp->size, proof, *n, &cp->root)) != 0)
		err = tl_error_wrap(err, "leaf %" PRIu64 " of %s at size %" PRIu64, index, cp->origin, cp->size);
	tl_follow__tiles_free(&tiles);
	return err;
}

/* One entry bundle being read: where each entry is in the fetched bytes, and the nodes of
 * its level-0 tile computed from the entries (laid out as tl_tile_expand does). */
struct bundle {
	tl_buf body;
	size_t off[TL_TILE_WIDTH];
	uint16_t len[TL_TILE_WIDTH];
	tl_hash nodes[TL_TILE_NODES];
};

/* Splits a bundle of exactly `got` entries and hashes the first `width` of them. */
static int bundle_split(struct bundle *b, uint64_t index, unsigned got, unsigned width)
{
	tl_cursor c = tl_cursor_make(b->body.data, b->body.len);
	const uint8_t *e;
	int err;

	for (unsigned i = 0; i < got; i++) {
		if ((err = tl_cursor_u16be(&b->len[i], &c)) != 0 || (err = tl_cursor_take(&e, &c, b->len[i])) != 0)
			return tl_error_set(TL_E_INPUT, "entry bundle %" PRIu64 " ends inside entry %u of %u", index, i,
				got);
		b->off[i] = (size_t)(e - b->body.data);
		if (i < width)
			tl_hash_leaf(&b->nodes[i], e, b->len[i]);
	}
	if (tl_cursor_left(&c) != 0)
		return tl_error_set(TL_E_INPUT, "entry bundle %" PRIu64 " has %zu bytes after its %u entries", index,
			tl_cursor_left(&c), got);
	tl_tile_expand(b->nodes, 0, width);
	return 0;
}

/* Fetches bundle `index` of cp's tree and proves its entries: the inclusion proof of its
 * first leaf is built with the bundle's own nodes for every node inside the bundle, so it
 * leads to cp->root only if every entry is the tree's. */
static int bundle_read(struct bundle *b, tl_follow__tiles *tiles, const tl_checkpoint *cp, uint64_t index)
{
	tl_tile t = { .entries = true, .index = index, .width = tl_tile_width_at(0, index, cp->size) };
	uint64_t first = index * TL_TILE_WIDTH;
	tl_hash proof[TL_MAX_PROOF_HASHES];
	size_t n;
	unsigned got;
	int err;

	if ((err = tl_follow__fetch_tile(&b->body, &got, tiles->cfg, &t, TL_FOLLOW_MAX_BUNDLE)) != 0 ||
	    (err = bundle_split(b, index, got, t.width)) != 0)
		return err;
	tiles->own = b->nodes;
	tiles->own_index = index;
	err = tl_proof_inclusion(proof, &n, first, cp->size, tl_follow__node, tiles);
	tiles->own = NULL;
	if (err != 0)
		return err;
	if ((err = tl_verify_inclusion(&b->nodes[0], first, cp->size, proof, n, &cp->root)) != 0)
		return tl_error_wrap(err, "entry bundle %" PRIu64 " of %s at size %" PRIu64 " is not the tree's", index,
			cp->origin, cp->size);
	return 0;
}

int tl_follow_entries(const tl_follow_config *cfg, const tl_checkpoint *cp, uint64_t first, uint64_t count,
	tl_follow_entry_fn fn, void *ctx)
{
	tl_follow__tiles tiles;
	struct bundle *b = NULL;
	uint64_t i = first, end;
	int err;

	if ((err = check_known(cp, "the")) != 0)
		return err;
	if (count == 0)
		return 0;
	if (first >= cp->size || count > cp->size - first)
		return tl_error_set(TL_E_NOTFOUND, "entries %" PRIu64 "+%" PRIu64 " pass the tree of size %" PRIu64,
			first, count, cp->size);
	end = first + count;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	tl_follow__tiles_init(&tiles, cfg, cp->size);
	while (i < end) {
		uint64_t bundle = i / TL_TILE_WIDTH;

		if ((err = bundle_read(b, &tiles, cp, bundle)) != 0)
			goto out;
		for (; i < end && i / TL_TILE_WIDTH == bundle; i++) {
			unsigned k = (unsigned)(i % TL_TILE_WIDTH);

			if ((err = fn(ctx, i, b->body.data + b->off[k], b->len[k])) != 0)
				goto out;
		}
	}
out:
	tl_follow__tiles_free(&tiles);
	if (b != NULL)
		tl_buf_free(&b->body);
	free(b);
	return err;
}
