/*
 * The table of trust domains, by name (open addressing), with each domain's publisher keys
 * as the log's own entries made them, and the rules a domain entry must keep to change them
 * (see audit_internal.h): the auditor's, and the agent's for the domains it follows.
 */
#include <stdlib.h>
#include <string.h>

#include "audit_internal.h"
#include "translog/text.h"

struct audit_domain *audit_domain_find(const struct audit_domains *t, const char *name)
{
	if (t->cap == 0)
		return NULL;
	for (size_t i = tl_text_hash(name) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i] == NULL)
			return NULL;
		if (strcmp(t->slots[i]->name, name) == 0)
			return t->slots[i];
	}
}

static void place(struct audit_domain **slots, size_t cap, struct audit_domain *d)
{
	size_t i = tl_text_hash(d->name) & (cap - 1);

	while (slots[i] != NULL)
		i = (i + 1) & (cap - 1);
	slots[i] = d;
}

int audit_domain_add(struct audit_domain **out, struct audit_domains *t, const char *name)
{
	struct audit_domain *d;

	if (t->n >= BD_AUDIT_MAX_DOMAINS)
		return tl_error_set(TL_E_INPUT, "more than %u domains", BD_AUDIT_MAX_DOMAINS);
	if (audit_domain_find(t, name) != NULL || strlen(name) > BD_MAX_DOMAIN)
		return tl_error_set(TL_E_INPUT, "domain %s twice", name);
	if (2 * (t->n + 1) > t->cap) {
		size_t cap = t->cap == 0 ? 64 : 2 * t->cap;
		struct audit_domain **slots = calloc(cap, sizeof(*slots));

		if (slots == NULL)
			return tl_error_set(TL_E_NOMEM, "out of memory");
		for (size_t i = 0; i < t->cap; i++)
			if (t->slots[i] != NULL)
				place(slots, cap, t->slots[i]);
		free(t->slots);
		t->slots = slots;
		t->cap = cap;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	memcpy(d->name, name, strlen(name) + 1); /* length checked above */
	place(t->slots, t->cap, d);
	t->n++;
	*out = d;
	return 0;
}

int audit_domain_add_key(struct audit_domain *d, const char *vkey)
{
	tl_verifier *v;
	int err;

	if (d->n_keys == BD_ENTRY_MAX_KEYS || strlen(vkey) > BD_MAX_VKEY)
		return tl_error_set(TL_E_INPUT, "too many keys");
	if ((err = tl_verifier_parse(&v, vkey, strlen(vkey))) != 0)
		return err;
	memcpy(d->vkeys[d->n_keys], vkey, strlen(vkey) + 1); /* length checked above */
	bd_key_fingerprint(&d->fps[d->n_keys], v);
	d->verifiers[d->n_keys++] = v;
	return 0;
}

void audit_domain_remove_key(struct audit_domain *d, size_t k)
{
	tl_verifier_free(d->verifiers[k]);
	for (size_t i = k + 1; i < d->n_keys; i++) {
		memcpy(d->vkeys[i - 1], d->vkeys[i], sizeof(d->vkeys[i]));
		d->fps[i - 1] = d->fps[i];
		d->verifiers[i - 1] = d->verifiers[i];
	}
	d->n_keys--;
}

int audit_domain_key_index(const struct audit_domain *d, const tl_hash *fp)
{
	for (size_t i = 0; i < d->n_keys; i++)
		if (tl_hash_equal(&d->fps[i], fp))
			return (int)i;
	return -1;
}

void audit_domains_free(struct audit_domains *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		if (t->slots[i] == NULL)
			continue;
		for (size_t k = 0; k < t->slots[i]->n_keys; k++)
			tl_verifier_free(t->slots[i]->verifiers[k]);
		free(t->slots[i]);
	}
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

int audit_domain_signed(const struct audit_domain *d, const bd_entry *e, const char *origin, enum audit_sig pre,
	const char *pre_message)
{
	int k = audit_domain_key_index(d, &e->key);
	int err;

	if (k < 0)
		return tl_error_set(TL_E_UNAUTHORIZED, "%s: signed by a key the domain does not hold", e->domain);
	/* Checked already by the auditor's pool, with the key of this fingerprint. */
	if (pre == AUDIT_SIG_VALID)
		return 0;
	if (pre == AUDIT_SIG_INVALID)
		return tl_error_set(TL_E_UNAUTHORIZED, "%s: %s", e->domain, pre_message);
	if ((err = bd_entry_verify(e, origin, d->verifiers[k])) != 0)
		return tl_error_wrap(err, "%s", e->domain);
	return 0;
}

/* A registration: the domain with the keys it names (a key that is not one is skipped, and
 * reported once the rest is applied). */
static int step_register(struct audit_domains *t, const bd_entry *e)
{
	struct audit_domain *d;
	int err, bad = 0;

	if (audit_domain_find(t, e->domain) != NULL)
		return tl_error_set(TL_E_CONFLICT, "%s registered twice", e->domain);
	if ((err = audit_domain_add(&d, t, e->domain)) != 0)
		return err;
	d->keys_time = e->time;
	for (size_t i = 0; i < e->n_keys; i++)
		if (audit_domain_add_key(d, e->keys[i]) != 0 && bad == 0)
			bad = tl_error_wrap(TL_E_CONFLICT, "%s: publisher key %zu", e->domain, i);
	return bad;
}

int audit_domain_step(struct audit_domains *t, const bd_entry *e, const char *origin, enum audit_sig pre,
	const char *pre_message)
{
	struct audit_domain *d = audit_domain_find(t, e->domain);
	tl_hash fp;
	tl_verifier *v;
	int k, err;

	if (e->action == BD_DOMAIN_REGISTER)
		return step_register(t, e);
	if (d == NULL)
		return tl_error_set(TL_E_CONFLICT, "key change of unregistered domain %s", e->domain);
	if ((err = audit_domain_signed(d, e, origin, pre, pre_message)) != 0)
		return err;
	if (e->time <= d->keys_time)
		return tl_error_set(TL_E_CONFLICT, "%s: key change not later than the previous one (replayed?)", e->domain);
	if ((err = tl_verifier_parse(&v, e->keys[0], strlen(e->keys[0]))) != 0)
		return tl_error_wrap(TL_E_CONFLICT, "%s", e->domain);
	bd_key_fingerprint(&fp, v);
	tl_verifier_free(v);
	k = audit_domain_key_index(d, &fp);
	if (e->action == BD_DOMAIN_ADD_KEY && (k >= 0 || d->n_keys == BD_ENTRY_MAX_KEYS))
		return tl_error_set(TL_E_CONFLICT, "%s: adds a key it %s", e->domain,
			k >= 0 ? "holds already" : "has no room for");
	if (e->action == BD_DOMAIN_REMOVE_KEY && (k < 0 || d->n_keys == 1))
		return tl_error_set(TL_E_CONFLICT, "%s: removes %s", e->domain,
			k < 0 ? "a key it does not hold" : "its last key");
	d->keys_time = e->time;
	if (e->action == BD_DOMAIN_REMOVE_KEY) {
		audit_domain_remove_key(d, (size_t)k);
		return 0;
	}
	if ((err = audit_domain_add_key(d, e->keys[0])) != 0)
		return tl_error_wrap(TL_E_CONFLICT, "%s", e->domain);
	return 0;
}
