/*
 * The agent's check of one diff response (bundled/agent.h, items 1-6), trusting nothing the
 * server says until it is proven against the pinned log key and the state's last checkpoint.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_internal.h"
#include "bundled/bundle.h"
#include "bundled/dag.h"
#include "translog/cosig.h"
#include "translog/proof.h"

/* 1-2: the checkpoint is the log's, and extends the one held (or is a fork: u->fork). */
static int check_checkpoint(struct agent_update *u, const struct agent_state *st, const struct agent_check *c,
	const bd_diff_response *r)
{
	const tl_checkpoint *old = &st->checkpoint;
	tl_checkpoint *cp = &u->checkpoint;
	int err;

	if ((err = tl_follow_verify_checkpoint(cp, c->follow, r->checkpoint, r->checkpoint_len)) != 0)
		return tl_error_wrap(err, "checkpoint refused");
	if (cp->size != r->size)
		return tl_error_set(TL_E_UNAUTHORIZED, "the proofs are for a tree of %" PRIu64 " entries, the checkpoint has %" PRIu64,
			r->size, cp->size);
	if (!st->has_checkpoint)
		return 0; /* first contact: the pinned key is all there is to hold it to */
	/* An older checkpoint proves nothing wrong of the log (it may be a replay of an old
	 * answer): refused. Two different trees of one size are a fork. */
	if (cp->size < old->size)
		return tl_error_set(TL_E_CONFLICT, "a checkpoint of %" PRIu64 " entries, older than the %" PRIu64
			" verified before (a replayed or stale answer)", cp->size, old->size);
	if (cp->size == old->size && !tl_hash_equal(&cp->root, &old->root)) {
		u->fork = true;
		u->evidence.old = *old;
		u->evidence.new = *cp;
		return 0;
	}
	if (cp->size == old->size)
		return 0;
	if (r->old_size != old->size)
		return tl_error_set(TL_E_INPUT, "a consistency proof from %" PRIu64 " entries, asked from %" PRIu64, r->old_size,
			old->size);
	if (tl_verify_consistency(old->size, cp->size, r->consistency, r->n_consistency, &old->root, &cp->root) == 0)
		return 0;
	/* The proof fails: either the server sent a bad one, or the log forked. Its tiles tell
	 * which (a fork is proven from the log's own signed tree, a lie is not). */
	err = tl_follow_consistency(&u->evidence, c->follow, old, cp);
	if (err == TL_E_CONFLICT) {
		u->fork = true;
		return 0;
	}
	if (err != 0)
		return tl_error_wrap(err, "the consistency proof from %" PRIu64 " to %" PRIu64 " entries does not verify",
			old->size, cp->size);
	return tl_error_set(TL_E_UNAUTHORIZED, "the consistency proof from %" PRIu64 " to %" PRIu64
		" entries does not verify", old->size, cp->size);
}

/* 2b, with witnesses: how fresh the checkpoint is. A checkpoint carries no time; a witness's
 * cosignature does. u->cosigned_at is the time of the quorum-th newest valid cosignature (by
 * then that many witnesses had seen this checkpoint). Cosignatures dated ahead of our clock
 * beyond AGENT_MAX_COSIG_SKEW_S are not counted: counting them would let a witness make a
 * frozen view look fresh. */
static int check_freshness(struct agent_update *u, const struct agent_check *c, const bd_diff_response *r)
{
	const tl_follow_config *f = c->follow;
	uint64_t times[BD_AGENT_MAX_WITNESSES], t, now = (uint64_t)time(NULL);
	size_t n = 0, k, quorum = f->quorum > 0 ? f->quorum : 1;
	tl_note note;
	int err;

	if (f->n_witnesses == 0)
		return 0;
	if ((err = tl_note_parse(&note, r->checkpoint, r->checkpoint_len)) != 0)
		return tl_error_wrap(err, "checkpoint refused");
	for (size_t i = 0; i < f->n_witnesses && n < BD_AGENT_MAX_WITNESSES; i++) {
		if (tl_cosig_verify(&t, &note, f->witnesses[i]) != 0 || t > now + AGENT_MAX_COSIG_SKEW_S)
			continue;
		/* insertion, newest first */
		for (k = n++; k > 0 && times[k - 1] < t; k--)
			times[k] = times[k - 1];
		times[k] = t;
	}
	if (n < quorum)
		return tl_error_set(TL_E_UNAUTHORIZED, "checkpoint refused: %zu witnesses cosigned it at a time not ahead "
			"of this clock, quorum is %zu", n, quorum);
	u->cosigned_at = times[quorum - 1];
	return 0;
}

/* 3: the entry is the version asked about, and in the checkpoint's tree. */
static int check_entry(struct agent_update *u, const struct agent_check *c, const bd_diff_response *r)
{
	tl_hash leaf;
	int err;

	if ((err = bd_entry_parse(&u->entry, r->entry, r->entry_len)) != 0)
		return tl_error_wrap(err, "the entry");
	if (u->entry.kind != BD_ENTRY_BUNDLE || strcmp(u->entry.domain, c->domain) != 0 || u->entry.sequence != r->to)
		return tl_error_set(TL_E_INPUT, "the entry is not version %" PRIu64 " of %s", r->to, c->domain);
	tl_hash_leaf(&leaf, r->entry, r->entry_len);
	if ((err = tl_verify_inclusion(&leaf, r->index, u->checkpoint.size, r->inclusion, r->n_inclusion,
		     &u->checkpoint.root)) != 0)
		return tl_error_wrap(TL_E_UNAUTHORIZED, "the entry is not in the log at index %" PRIu64, r->index);
	u->index = r->index;
	return 0;
}

struct scan {
	struct agent_state *st;
	const struct agent_check *c;
	const struct agent_update *u;
	const bd_diff_response *r;
	bd_entry e;
	bool checked;
};

static bool followed(const struct agent_state *st, const char *td)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->domains[i], td) == 0)
			return true;
	return false;
}

/* The signature on the version's entry, by a key its domain holds at this point of the log. */
static int check_signature(struct scan *s)
{
	struct audit_domain *d = audit_domain_find(&s->st->keys, s->u->entry.domain);

	if (d == NULL)
		return tl_error_set(TL_E_UNAUTHORIZED, "%s has no registration in the log before its version", s->u->entry.domain);
	if (audit_domain_signed(d, &s->u->entry, s->c->origin, AUDIT_SIG_UNCHECKED, NULL) != 0)
		return tl_error_wrap(TL_E_UNAUTHORIZED, "publisher signature refused");
	s->checked = true;
	return 0;
}

static int on_entry(void *ctx, uint64_t index, const uint8_t *text, size_t len)
{
	struct scan *s = ctx;

	if (index == s->r->index) {
		if (len != s->r->entry_len || memcmp(text, s->r->entry, len) != 0)
			return tl_error_set(TL_E_UNAUTHORIZED, "the log's entry %" PRIu64 " is not the one served", index);
		return check_signature(s);
	}
	/* The log's invalid steps change nothing, as in the daemon's registry and for auditors. */
	if (bd_entry_parse(&s->e, text, len) == 0 && s->e.kind == BD_ENTRY_DOMAIN && followed(s->st, s->e.domain) &&
	    audit_domain_step(&s->st->keys, &s->e, s->c->origin, AUDIT_SIG_UNCHECKED, NULL) == TL_E_NOMEM)
		return TL_E_NOMEM;
	return 0;
}

/* Entries [first, first + count) of cp's tree one by one, each proven by its inclusion proof
 * against cp (what tl_follow_entries proves from bundles and hash tiles), to on_entry. */
static int read_single(struct scan *s, bd_client *server, const tl_checkpoint *cp, uint64_t first, uint64_t count)
{
	tl_buf entry = tl_buf_make(BD_CLIENT_MAX_ENTRY);
	tl_hash *proof = malloc(TL_MAX_PROOF_HASHES * sizeof(tl_hash)), leaf;
	size_t n;
	int err = 0;

	if (proof == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	for (uint64_t i = first; i < first + count && err == 0; i++) {
		tl_buf_reset(&entry);
		if ((err = bd_client_entry(&entry, server, i)) != 0 ||
		    (err = bd_client_inclusion_proof(proof, &n, server, i, cp->size)) != 0)
			break;
		tl_hash_leaf(&leaf, entry.data, entry.len);
		if ((err = tl_verify_inclusion(&leaf, i, cp->size, proof, n, &cp->root)) != 0) {
			err = tl_error_wrap(TL_E_UNAUTHORIZED, "log entry %" PRIu64 " is not in the verified tree", i);
			break;
		}
		err = on_entry(s, i, entry.data, entry.len);
	}
out:
	free(proof);
	tl_buf_free(&entry);
	return err;
}

/* 4: replays the entries since the last scan (proven by the verified checkpoint) into the
 * followed domains' keys, checking the version's signature where it stands in the log. */
static int check_keys(struct agent_state *st, const struct agent_check *c, const struct agent_update *u,
	const bd_diff_response *r)
{
	struct scan *s = calloc(1, sizeof(*s));
	uint64_t count;
	int err;

	if (s == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	*s = (struct scan){ .st = st, .c = c, .u = u, .r = r };
	if (st->scanned > u->checkpoint.size) {
		err = tl_error_set(TL_E_INPUT, "the state has read more of the log than its checkpoint holds");
		goto out;
	}
	/* A version logged before the entries already replayed: the keys held now decide. */
	if (r->index < st->scanned && (err = check_signature(s)) != 0)
		goto out;
	count = u->checkpoint.size - st->scanned;
	if (c->server != NULL && count <= AGENT_MAX_SINGLE_ENTRIES)
		err = read_single(s, c->server, &u->checkpoint, st->scanned, count);
	else
		err = tl_follow_entries(c->follow, &u->checkpoint, st->scanned, count, on_entry, s);
	if (err != 0)
		goto out;
	if (!s->checked)
		err = tl_error_set(TL_E_INTERNAL, "the version's signature was not checked");
	st->scanned = u->checkpoint.size;
out:
	free(s);
	return err;
}

/* 5: the bytes are the entry's (SHA-256, size, CID) and a canonical bundle of its sequence. */
static int check_bytes(const bd_entry *e, const tl_buf *bytes)
{
	bd_bundle *b = NULL;
	bd_dag *dag = NULL;
	tl_buf canon = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	tl_hash sha;
	uint64_t seq;
	bd_cid cid;
	int err = 0;

	tl_sha256(&sha, bytes->data ? bytes->data : (const uint8_t *)"", bytes->len);
	if (bytes->len != e->size || !tl_hash_equal(&sha, &e->sha256)) {
		err = tl_error_set(TL_E_UNAUTHORIZED, "the new bytes are not the size and SHA-256 the entry logs");
		goto out;
	}
	if (bd_cid_parse(&cid, e->cid, strlen(e->cid)) != 0 || bd_dag_build(&dag, bytes->data, bytes->len, NULL) != 0 ||
	    !bd_cid_equal(bd_dag_root(dag), &cid)) {
		err = tl_error_set(TL_E_UNAUTHORIZED, "the new bytes do not make the CID the entry logs");
		goto out;
	}
	if (bd_bundle_parse(&b, bytes->data, bytes->len, 0, NULL) != 0 || bd_bundle_write_canonical(&canon, b) != 0 ||
	    canon.len != bytes->len || memcmp(canon.data, bytes->data, bytes->len) != 0 || !bd_bundle_sequence(&seq, b) ||
	    seq != e->sequence)
		err = tl_error_set(TL_E_UNAUTHORIZED, "the new bytes are not a canonical bundle of sequence %" PRIu64, e->sequence);
out:
	tl_buf_free(&canon);
	bd_dag_free(dag);
	bd_bundle_free(b);
	return err;
}

static int get_bytes(struct agent_update *u, const struct agent_check *c, const bd_diff_response *r)
{
	int err;

	if (r->status == BD_DIFF_STATUS_PATCH) {
		if (c->held_bytes == NULL)
			return tl_error_set(TL_E_CONFLICT, "a patch, but no version is held to apply it to");
		if ((err = bd_diff_apply(&u->bytes, c->held_bytes, c->held_len, r->patch, r->patch_len)) != 0)
			return tl_error_wrap(err, "the patch");
	} else if ((err = audit_fetch_file(&u->bytes, c->blocks, u->entry.cid, BD_DIFF_MAX_VERSION_SIZE)) != 0) {
		return tl_error_wrap(err, "fetching %s by CID", u->entry.cid);
	}
	return check_bytes(&u->entry, &u->bytes);
}

int agent_verify(struct agent_update *u, struct agent_state *st, const struct agent_check *c, const bd_diff_response *r)
{
	const struct agent_version *held = NULL;
	int err;

	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->domains[i], c->domain) == 0 && st->held[i].has)
			held = &st->held[i];
	if ((err = check_checkpoint(u, st, c, r)) != 0 || u->fork)
		return err;
	if ((err = check_freshness(u, c, r)) != 0)
		return err;
	if ((err = check_entry(u, c, r)) != 0)
		return err;
	/* 6: never back, and "current" only for the very version held. */
	if (r->status == BD_DIFF_STATUS_CURRENT) {
		if (held == NULL || held->sequence != u->entry.sequence || !tl_hash_equal(&held->sha256, &u->entry.sha256))
			return tl_error_set(TL_E_CONFLICT, "told version %" PRIu64 " is current, which is not the one held",
				u->entry.sequence);
	} else if (held != NULL && u->entry.sequence <= held->sequence) {
		return tl_error_set(TL_E_CONFLICT, "sequence rollback: offered %" PRIu64 ", holding %" PRIu64, u->entry.sequence,
			held->sequence);
	} else if (r->status == BD_DIFF_STATUS_PATCH && (held == NULL || r->from != held->sequence)) {
		return tl_error_set(TL_E_CONFLICT, "a patch from version %" PRIu64 ", not the one held", r->from);
	}
	if ((err = check_keys(st, c, u, r)) != 0)
		return err;
	if (r->status == BD_DIFF_STATUS_CURRENT)
		return 0;
	return get_bytes(u, c, r);
}
