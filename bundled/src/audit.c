/*
 * The auditor's driver: checkpoint, fork evidence, the replay of entry bundles into the tree,
 * and the comparison of every served hash tile and of the root. See bundled/audit.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit_internal.h"
#include "bundled/evidence.h"
#include "translog/bytes.h"
#include "translog/hash.h"

static int fetch(tl_buf *out, const struct audit *a, const tl_tile *t, size_t cap)
{
	char path[TL_TILE_PATH_MAX];
	int err;

	tl_buf_reset(out);
	out->cap = cap;
	if ((err = tl_tile_path_format(path, t)) != 0)
		return err;
	if ((err = a->opts->follow.transport.fetch(a->opts->follow.transport.ctx, path, out)) != 0)
		return tl_error_wrap(err, "%s", path);
	return 0;
}

/* Compares the served tile (level, index) of `width` hashes with the computed one. */
static int check_tile(struct audit *a, tl_buf *buf, unsigned level, uint64_t index, unsigned width)
{
	tl_tile t = { false, level, index, width };
	int err;

	if ((err = fetch(buf, a, &t, TL_TILE_FULL_BYTES)) != 0)
		return err;
	a->rep->tiles_checked++;
	if (buf->len != (size_t)width * TL_HASH_SIZE)
		audit_finding(a->st, BD_AUDIT_TILE, index << (8 * level), "tile %u/%" PRIu64 " (width %u) is %zu bytes",
			level, index, width, buf->len);
	else if (memcmp(buf->data, a->st->tiles[level], buf->len) != 0)
		audit_finding(a->st, BD_AUDIT_TILE, index << (8 * level),
			"tile %u/%" PRIu64 " (width %u) differs from the one the entries give", level, index, width);
	return 0;
}

static void on_node(void *ctx, unsigned level, uint64_t index, const tl_hash *hash)
{
	struct audit *a = ctx;
	unsigned tl = level / TL_TILE_HEIGHT;

	if (level % TL_TILE_HEIGHT != 0 || tl >= AUDIT_TILE_LEVELS)
		return;
	a->st->tiles[tl][index % TL_TILE_WIDTH] = *hash;
	if (index % TL_TILE_WIDTH == TL_TILE_WIDTH - 1 && a->n_done < AUDIT_TILE_LEVELS) {
		a->done[a->n_done].level = tl;
		a->done[a->n_done].index = index / TL_TILE_WIDTH;
		a->n_done++;
	}
}

static void precheck_one(void *ctx, size_t i)
{
	struct audit *a = ctx;

	audit_entry_precheck(a, &a->pre[i]);
}

/* Reads entry bundle `n` of the checkpoint's tree and audits the entries in it that are
 * not audited yet; the ones that are must be the leaves audited before. What an entry says
 * on its own (grammar, canonical form, signature) is checked on the pool first, all of the
 * bundle's new entries at once; then, in log order, the tree and the checks that depend on
 * the entries before, so the findings and the state are those of a run on one thread. */
static int audit_bundle(struct audit *a, tl_buf *buf, uint64_t n, uint64_t end)
{
	struct audit_state *st = a->st;
	const tl_checkpoint *cp = &st->checkpoint;
	unsigned width = tl_tile_width_at(0, n, cp->size), have = 0, fresh = 0;
	tl_tile t = { true, 0, n, width };
	uint64_t first = n * TL_TILE_WIDTH;
	const uint8_t *text[TL_TILE_WIDTH];
	size_t len[TL_TILE_WIDTH];
	tl_cursor cur;
	int err;

	if ((err = fetch(buf, a, &t, BD_CLIENT_MAX_BUNDLE)) != 0)
		return err;
	cur = tl_cursor_make(buf->data, buf->len);
	for (; have < width && first + have < end; have++)
		if (audit_bundle_next(&text[have], &len[have], &cur) != 0)
			break;
	if (a->pool != NULL) {
		/* The entries audited before are only compared with their leaves. */
		unsigned skip = st->audited > first ? (unsigned)(st->audited - first) : 0;

		for (unsigned i = skip; i < have; i++, fresh++) {
			a->pre[fresh].text = text[i];
			a->pre[fresh].len = len[i];
		}
		audit_pool_run(a->pool, precheck_one, a, fresh);
		fresh = 0;
	}
	a->n_done = 0;
	for (unsigned i = 0; i < have; i++) {
		uint64_t index = first + i;
		tl_hash leaf;

		tl_hash_leaf(&leaf, text[i], len[i]);
		if (index < st->audited) {
			if (!tl_hash_equal(&leaf, &st->tiles[0][i]))
				audit_finding(st, BD_AUDIT_TILE, index, "entry %" PRIu64 " differs from when it was audited", index);
			continue;
		}
		tl_frontier_append(&st->frontier, &leaf, on_node, a);
		st->audited++;
		a->rep->checked++;
		if (a->pool != NULL && (err = audit_entry_check(a, index, &a->pre[fresh++])) != 0)
			return err;
	}
	if (have < width && first + have < end) {
		audit_finding(st, BD_AUDIT_TILE, first + have, "entry bundle %" PRIu64 " has %u entries, not %u", n, have, width);
		/* The tree cannot go on without the leaf: nothing later can be audited. */
		return tl_error_set(TL_E_INPUT, "entry bundle %" PRIu64 " is short: the log cannot be replayed", n);
	}
	if (st->audited == first + width && tl_cursor_left(&cur) != 0)
		audit_finding(st, BD_AUDIT_TILE, first, "entry bundle %" PRIu64 " has bytes after its %u entries", n, width);
	for (size_t i = 0; i < a->n_done; i++)
		if ((err = check_tile(a, buf, a->done[i].level, a->done[i].index, TL_TILE_WIDTH)) != 0)
			return err;
	return 0;
}

/* The checks that need the whole tree of the checkpoint: its partial tiles and its root. */
static int audit_finish(struct audit *a, tl_buf *buf)
{
	const tl_checkpoint *cp = &a->st->checkpoint;
	tl_hash root;
	int err;

	for (unsigned level = 0; level < AUDIT_TILE_LEVELS && (cp->size >> (8 * level)) != 0; level++) {
		unsigned width = (unsigned)((cp->size >> (8 * level)) % TL_TILE_WIDTH);

		if (width != 0 && (err = check_tile(a, buf, level, cp->size >> (8 * level + 8), width)) != 0)
			return err;
	}
	tl_frontier_root(&a->st->frontier, &root);
	if (!tl_hash_equal(&root, &cp->root))
		audit_finding(a->st, BD_AUDIT_ROOT, cp->size, "the %" PRIu64 " entries served do not hash to the checkpoint's root",
			cp->size);
	return 0;
}

/* Writes what a third party needs to see the fork (bundled/evidence.h) into DIR/evidence,
 * numbered by the state's count of forks seen. */
static int write_evidence(struct audit *a, const tl_buf *new_note, const tl_follow_fork *fork)
{
	struct audit_state *st = a->st;
	char base[4096], prefix[24];
	size_t n = 0;
	int err;

	snprintf(base, sizeof(base), "%s/" AUDIT_EVIDENCE_DIR, a->opts->state_dir);
	st->evidence_count++;
	snprintf(prefix, sizeof(prefix), "%" PRIu64, st->evidence_count);
	err = bd_evidence_write(a->rep->evidence + a->rep->n_evidence, &n, base, prefix, st->note, st->note_len,
		new_note->data, new_note->len, fork);
	a->rep->n_evidence += n;
	return err;
}

/* Verifies the served checkpoint and proves it extends the stored one. 1 after a fork
 * (recorded with its evidence), 0 when the state now holds the new checkpoint. */
static int update_checkpoint(struct audit *a)
{
	struct audit_state *st = a->st;
	tl_buf note = tl_buf_make(BD_CLIENT_MAX_CHECKPOINT);
	tl_follow_fork *fork = calloc(1, sizeof(*fork));
	tl_checkpoint cp;
	int err;

	if (fork == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	err = tl_follow_update(&cp, &note, fork, &a->opts->follow, st->has_checkpoint ? &st->checkpoint : NULL);
	if (err == TL_E_CONFLICT && st->has_checkpoint) {
		audit_finding(st, BD_AUDIT_FORK, fork->new.size, "%s", tl_error_message());
		err = write_evidence(a, &note, fork);
		if (err == 0)
			err = 1;
		goto out;
	}
	if (err != 0)
		goto out;
	free(st->note);
	st->note = tl_buf_detach(&note, &st->note_len);
	st->checkpoint = cp;
	st->has_checkpoint = true;
out:
	tl_buf_free(&note);
	free(fork);
	return err;
}

static void report_findings(bd_audit_report *rep, const struct audit_state *st)
{
	rep->audited = st->audited;
	rep->checkpoint = st->checkpoint;
	rep->complete = st->has_checkpoint && st->audited == st->checkpoint.size;
	rep->n_findings = st->n_findings;
	free(rep->findings);
	rep->findings = NULL;
	rep->n_kept = 0;
	if (st->n_kept != 0 && (rep->findings = malloc(st->n_kept * sizeof(*rep->findings))) != NULL) {
		memcpy(rep->findings, st->findings, st->n_kept * sizeof(*rep->findings));
		rep->n_kept = st->n_kept;
	}
}

int bd_audit_run(bd_audit_report *rep, const bd_audit_options *opts)
{
	struct audit_state *st = calloc(1, sizeof(*st));
	struct audit a = { opts, tl_verifier_name(opts->follow.log_key), st, rep, 0, { { 0, 0 } }, NULL, NULL };
	uint64_t chunk = opts->chunk != 0 ? opts->chunk : BD_AUDIT_DEFAULT_CHUNK, end, saved;
	tl_buf buf = { 0 };
	int err;

	memset(rep, 0, sizeof(*rep));
	if (st == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if (mkdir(opts->state_dir, 0700) != 0 && errno != EEXIST) {
		err = tl_error_set(TL_E_IO, "%s: %s", opts->state_dir, strerror(errno));
		goto out;
	}
	if ((err = audit_state_load(st, opts->state_dir, opts->follow.log_key)) != 0)
		goto out;
	if (!st->has_checkpoint)
		st->tree_only = opts->tree_only;
	else if (st->tree_only != opts->tree_only) {
		/* Mixing would leave entries unchecked, or check entries against domains never read. */
		err = tl_error_set(TL_E_INPUT, "%s holds a%s audit: use another state directory", opts->state_dir,
			st->tree_only ? " tree-only" : "n entry-checking");
		goto out;
	}
	rep->start = st->audited;
	if (!opts->tree_only) {
		if ((a.pre = calloc(TL_TILE_WIDTH, sizeof(*a.pre))) == NULL) {
			err = tl_error_set(TL_E_NOMEM, "out of memory");
			goto out;
		}
		if ((err = audit_pool_start(&a.pool, opts->threads)) != 0)
			goto out;
	}
	if ((err = update_checkpoint(&a)) != 0) {
		if (err == 1)
			err = audit_state_save(st, opts->state_dir);
		goto out;
	}
	if ((err = audit_state_save(st, opts->state_dir)) != 0)
		goto out;
	end = st->checkpoint.size;
	if (opts->max_entries != 0 && end - st->audited > opts->max_entries)
		end = (st->audited + opts->max_entries + chunk - 1) / chunk * chunk;
	if (end > st->checkpoint.size)
		end = st->checkpoint.size;
	saved = st->audited;
	while (st->audited < end) {
		if ((err = audit_bundle(&a, &buf, st->audited / TL_TILE_WIDTH, end)) != 0)
			goto out;
		if (opts->progress != NULL)
			opts->progress(opts->progress_ctx, st->audited - rep->start, end - rep->start);
		if (st->audited - saved >= chunk && st->audited % TL_TILE_WIDTH == 0) {
			if ((err = audit_state_save(st, opts->state_dir)) != 0)
				goto out;
			saved = st->audited;
		}
	}
	if (st->audited == st->checkpoint.size && (err = audit_finish(&a, &buf)) != 0)
		goto out;
	err = audit_state_save(st, opts->state_dir);
out:
	if (err == 0)
		report_findings(rep, st);
	tl_buf_free(&buf);
	audit_pool_stop(a.pool);
	free(a.pre);
	audit_state_free(st);
	free(st);
	return err;
}

void bd_audit_report_free(bd_audit_report *rep)
{
	free(rep->findings);
	memset(rep, 0, sizeof(*rep));
}
