/*
 * What the auditor checks in each entry, replaying the log's own history of every domain
 * (docs/formats.md, "What the log accepts"): an independent re-implementation of the rules
 * the publisher enforces, from the log alone, so a publisher bug or a lying operator shows
 * up as a finding. Invalid steps are reported and not applied.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_internal.h"
#include "bundled/bundle.h"

#define MAX_VERSION_SIZE ((uint64_t)16 << 20)

/* Whether e is signed by a key d holds now: a finding otherwise. The pool's result is taken
 * when it checked the signature (with the key of the fingerprint e names, which d holds). */
static bool signed_by_domain(struct audit *a, uint64_t index, const struct audit_domain *d, const bd_entry *e,
	enum audit_sig pre, const char *pre_message)
{
	if (audit_domain_signed(d, e, a->origin, pre, pre_message) != 0) {
		audit_finding(a->st, BD_AUDIT_SIGNATURE, index, "%s", tl_error_message());
		return false;
	}
	return true;
}

/* A registration or key change: an invalid step is a finding and changes nothing (but a
 * registration's valid keys). */
static int check_domain_entry(struct audit *a, uint64_t index, const struct audit_pre *pre)
{
	int err = audit_domain_step(&a->st->domains, &pre->e, a->origin, pre->sig, pre->message);

	if (err == TL_E_UNAUTHORIZED)
		audit_finding(a->st, BD_AUDIT_SIGNATURE, index, "%s", tl_error_message());
	else if (err == TL_E_CONFLICT)
		audit_finding(a->st, BD_AUDIT_DOMAIN, index, "%s", tl_error_message());
	else if (err != 0)
		return err;
	return 0;
}

/* Removes the revoked authority from b: by fingerprint, or by a kid naming exactly one. */
static bool revoke(bd_bundle *b, const bd_entry *rev)
{
	const tl_hash *fp = rev->authority_is_kid ? NULL : &rev->authority_sha256;
	size_t found = 0;

	for (size_t i = 0; rev->authority_is_kid && i < bd_bundle_count(b); i++) {
		const char *kid = bd_authority_kid(bd_bundle_at(b, i));

		if (kid != NULL && strcmp(kid, rev->authority_kid) == 0) {
			fp = bd_authority_fingerprint(bd_bundle_at(b, i));
			found++;
		}
	}
	return found <= 1 && fp != NULL && bd_bundle_remove(b, fp) == 0;
}

/* The fetch errors that are findings (the source answered, wrongly); others stop the audit. */
static bool is_finding(int err)
{
	return err == TL_E_CONFLICT || err == TL_E_NOTFOUND || err == TL_E_INPUT;
}

/* With a block source: the version's bytes by CID are what the entry says, canonical; and
 * after a revocation, they are the previous version without the revoked authority. */
static int check_content(struct audit *a, uint64_t index, const bd_entry *e, const struct audit_domain *d)
{
	tl_buf bytes = tl_buf_make(MAX_VERSION_SIZE), canon = { 0 };
	bd_bundle *b = NULL;
	tl_hash sha;
	uint64_t v;
	int err;

	a->rep->versions_fetched++;
	if ((err = audit_fetch_file(&bytes, a->opts->blocks, e->cid, MAX_VERSION_SIZE)) != 0) {
		if (is_finding(err)) {
			audit_finding(a->st, BD_AUDIT_CONTENT, index, "%s %" PRIu64 ": %s", e->domain, e->sequence, tl_error_message());
			err = 0;
		}
		goto out;
	}
	tl_sha256(&sha, bytes.data, bytes.len);
	if (bytes.len != e->size || !tl_hash_equal(&sha, &e->sha256)) {
		audit_finding(a->st, BD_AUDIT_CONTENT, index, "%s %" PRIu64 ": the bytes of %s are not the size and SHA-256 logged",
			e->domain, e->sequence, e->cid);
		goto out;
	}
	if (bd_bundle_parse(&b, bytes.data, bytes.len, 0, NULL) != 0 || bd_bundle_write_canonical(&canon, b) != 0 ||
	    canon.len != bytes.len || memcmp(canon.data, bytes.data, bytes.len) != 0 || !bd_bundle_sequence(&v, b) ||
	    v != e->sequence || (bd_bundle_refresh_hint(&v, b) ? v : 0) != e->refresh_hint) {
		audit_finding(a->st, BD_AUDIT_CONTENT, index, "%s %" PRIu64 ": not a canonical bundle of that sequence and hint",
			e->domain, e->sequence);
		goto out;
	}
	if (a->st->has_revocation && d->cid[0] != '\0') {
		bd_entry *want = calloc(1, sizeof(*want));

		bd_bundle_free(b);
		b = NULL;
		tl_buf_reset(&bytes);
		if (want == NULL) {
			err = tl_error_set(TL_E_NOMEM, "out of memory");
			goto out;
		}
		if ((err = audit_fetch_file(&bytes, a->opts->blocks, d->cid, MAX_VERSION_SIZE)) == 0 &&
		    (err = bd_bundle_parse(&b, bytes.data, bytes.len, 0, NULL)) == 0 && !revoke(b, &a->st->revocation))
			err = tl_error_set(TL_E_INPUT, "the previous version holds no such authority");
		if (err == 0)
			err = bd_entry_set_version(want, NULL, NULL, b, e->sequence, e->refresh_hint, NULL);
		if (err == 0 && (want->size != e->size || !tl_hash_equal(&want->sha256, &e->sha256) || strcmp(want->cid, e->cid) != 0))
			err = tl_error_set(TL_E_INPUT, "the version is not the previous one without the revoked authority");
		free(want);
		if (err != 0 && is_finding(err)) {
			audit_finding(a->st, BD_AUDIT_REVOCATION, a->st->revocation_index, "%s %" PRIu64 ": %s", e->domain,
				e->sequence, tl_error_message());
			err = 0;
		}
	}
out:
	bd_bundle_free(b);
	tl_buf_free(&bytes);
	tl_buf_free(&canon);
	return err;
}

static int check_bundle_entry(struct audit *a, uint64_t index, const struct audit_pre *pre)
{
	const bd_entry *e = &pre->e;
	struct audit_state *st = a->st;
	struct audit_domain *d = audit_domain_find(&st->domains, e->domain);
	const bd_entry *rev = &st->revocation;
	int err = 0;

	if (d == NULL) {
		audit_finding(st, BD_AUDIT_SEQUENCE, index, "version of unregistered domain %s", e->domain);
		return 0;
	}
	(void)signed_by_domain(a, index, d, e, pre->sig, pre->message);
	if (d->has_version && e->sequence <= d->sequence)
		audit_finding(st, BD_AUDIT_SEQUENCE, index, "%s: sequence %" PRIu64 " after %" PRIu64, e->domain, e->sequence,
			d->sequence);
	if (st->has_revocation && (strcmp(rev->domain, e->domain) != 0 || rev->sequence != e->sequence ||
		!tl_hash_equal(&rev->sha256, &e->sha256) || strcmp(rev->cid, e->cid) != 0))
		audit_finding(st, BD_AUDIT_REVOCATION, st->revocation_index, "%s: the revocation names another version than the next entry's",
			rev->domain);
	if (a->opts->blocks != NULL)
		err = check_content(a, index, e, d);
	if (!d->has_version || e->sequence > d->sequence)
		d->sequence = e->sequence;
	d->has_version = true;
	memcpy(d->cid, e->cid, sizeof(d->cid)); /* same size, NUL-terminated by the parser */
	st->has_revocation = false;
	return err;
}

static void check_revocation(struct audit *a, uint64_t index, const struct audit_pre *pre)
{
	const bd_entry *e = &pre->e;
	struct audit_domain *d = audit_domain_find(&a->st->domains, e->domain);

	if (d == NULL || !d->has_version) {
		audit_finding(a->st, BD_AUDIT_REVOCATION, index, "revocation in %s domain %s", d == NULL ? "unregistered" : "versionless",
			e->domain);
		return;
	}
	(void)signed_by_domain(a, index, d, e, pre->sig, pre->message);
	a->st->has_revocation = true;
	a->st->revocation_index = index;
	a->st->revocation = *e;
}

void audit_entry_precheck(const struct audit *a, struct audit_pre *pre)
{
	bd_entry *e = &pre->e;
	tl_buf again = tl_buf_make(BD_ENTRY_MAX_SIZE + 1);
	struct audit_domain *d;
	int k;

	pre->parsed = false;
	pre->sig = AUDIT_SIG_UNCHECKED;
	pre->message[0] = '\0';
	if (bd_entry_parse(e, pre->text, pre->len) != 0) {
		snprintf(pre->message, sizeof(pre->message), "%s", tl_error_message());
		goto out;
	}
	if (bd_entry_write(&again, e) != 0 || again.len != pre->len || memcmp(again.data, pre->text, pre->len) != 0) {
		snprintf(pre->message, sizeof(pre->message), "not in canonical form");
		goto out;
	}
	pre->parsed = true;
	/* A registration is authorized by the operator, not signed. */
	if (e->kind == BD_ENTRY_DOMAIN && e->action == BD_DOMAIN_REGISTER)
		goto out;
	/* Read only: the in-order checks do not run while the pool does. */
	d = audit_domain_find(&a->st->domains, e->domain);
	if (d == NULL || (k = audit_domain_key_index(d, &e->key)) < 0)
		goto out;
	if (bd_entry_verify(e, a->origin, d->verifiers[k]) == 0) {
		pre->sig = AUDIT_SIG_VALID;
	} else {
		pre->sig = AUDIT_SIG_INVALID;
		snprintf(pre->message, sizeof(pre->message), "%s", tl_error_message());
	}
out:
	tl_buf_free(&again);
}

int audit_entry_check(struct audit *a, uint64_t index, const struct audit_pre *pre)
{
	const bd_entry *e = &pre->e;

	if (!pre->parsed) {
		audit_finding(a->st, BD_AUDIT_GRAMMAR, index, "%s", pre->message);
		return 0;
	}
	if (a->st->has_revocation && e->kind != BD_ENTRY_BUNDLE) {
		audit_finding(a->st, BD_AUDIT_REVOCATION, a->st->revocation_index, "revocation not followed by its version");
		a->st->has_revocation = false;
	}
	switch (e->kind) {
	case BD_ENTRY_DOMAIN:
		return check_domain_entry(a, index, pre);
	case BD_ENTRY_BUNDLE:
		return check_bundle_entry(a, index, pre);
	case BD_ENTRY_REVOCATION:
		check_revocation(a, index, pre);
		break;
	}
	return 0;
}
