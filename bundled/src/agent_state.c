/*
 * The agent's state file, DIR/state: text, one fact a line, written whole and atomically
 * (tl_file_replace), so a kill -9 at any point leaves the previous state or the next:
 *
 *   bundled-agent-state v2
 *   log-key <vkey>                      the pinned log key
 *   checkpoint <base64 of the note> <verified-at unix seconds>
 *   cosigned <unix seconds>             with witnesses: the quorum-th newest cosignature's time
 *   scanned <entries replayed for the key history> <td>...  (the domains replayed for)
 *   keys <td> <keys-time> <vkey>...     a followed domain's publisher keys
 *   version <td> <sequence> <index> <size> <sha256 hex> <refresh-hint>
 *
 * v1 (no "cosigned" line) still loads: its cosigned time is 0, unknown, so an agent with
 * witnesses is stale until its next verified checkpoint.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"
#include "bundled/file.h"
#include "translog/file.h"
#include "translog/text.h"

#define MAGIC "bundled-agent-state v2"
#define MAGIC_V1 "bundled-agent-state v1"

static int find_domain(const struct agent_state *st, const char *td, size_t n)
{
	for (size_t i = 0; i < st->n; i++)
		if (strlen(st->domains[i]) == n && memcmp(st->domains[i], td, n) == 0)
			return (int)i;
	return -1;
}

/* Splits off the next space-separated word of [*p, end) into out (NUL-terminated). */
static bool word(char *out, size_t cap, const char **p, const char *end)
{
	const char *s = *p;
	size_t n;

	while (s < end && *s != ' ')
		s++;
	n = (size_t)(s - *p);
	if (n == 0 || n >= cap)
		return false;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p = s < end ? s + 1 : s;
	return true;
}

static bool word_u64(uint64_t *v, const char **p, const char *end)
{
	char w[24];

	return word(w, sizeof(w), p, end) && tl_parse_u64(v, w, strlen(w)) == 0;
}

static int parse_checkpoint(struct agent_state *st, const char *p, const char *end)
{
	const char *sp = memchr(p, ' ', (size_t)(end - p));
	size_t len;

	if (sp == NULL || tl_buf_reserve(&st->note, (size_t)(sp - p)) != 0 ||
	    tl_base64_decode(st->note.data, st->note.cap, &len, p, (size_t)(sp - p)) != 0)
		return -1;
	st->note.len = len;
	st->has_checkpoint = true;
	p = sp + 1;
	return word_u64(&st->verified_at, &p, end) && p == end ? 0 : -1;
}

static int parse_keys(struct agent_state *st, const char *p, const char *end)
{
	char td[BD_MAX_DOMAIN + 1], vkey[BD_MAX_VKEY + 1];
	struct audit_domain *d;
	uint64_t t;

	if (!word(td, sizeof(td), &p, end) || !word_u64(&t, &p, end) || find_domain(st, td, strlen(td)) < 0)
		return 0; /* not followed any more: dropped */
	if (audit_domain_find(&st->keys, td) != NULL || audit_domain_add(&d, &st->keys, td) != 0)
		return -1;
	d->keys_time = t;
	while (p < end)
		if (!word(vkey, sizeof(vkey), &p, end) || audit_domain_add_key(d, vkey) != 0)
			return -1;
	return 0;
}

static int parse_version(struct agent_state *st, const char *p, const char *end)
{
	char td[BD_MAX_DOMAIN + 1], hex[2 * TL_HASH_SIZE + 1];
	struct agent_version v = { .has = true };
	int i;

	if (!word(td, sizeof(td), &p, end) || !word_u64(&v.sequence, &p, end) || !word_u64(&v.index, &p, end) ||
	    !word_u64(&v.size, &p, end) || !word(hex, sizeof(hex), &p, end) ||
	    tl_hex_decode(v.sha256.b, TL_HASH_SIZE, hex, strlen(hex)) != 0 || !word_u64(&v.refresh_hint, &p, end) ||
	    p != end)
		return -1;
	if ((i = find_domain(st, td, strlen(td))) >= 0)
		st->held[i] = v;
	return 0;
}

/* How far the key history was replayed, and for which domains: a domain followed now but not
 * then has its keys somewhere in what was replayed, so everything is replayed again. */
static int parse_scanned(struct agent_state *st, const char *p, const char *end)
{
	char td[BD_MAX_DOMAIN + 1];
	bool covered[BD_AGENT_MAX_DOMAINS] = { false };
	int i;

	if (!word_u64(&st->scanned, &p, end))
		return -1;
	while (p < end) {
		if (!word(td, sizeof(td), &p, end))
			return -1;
		if ((i = find_domain(st, td, strlen(td))) >= 0)
			covered[i] = true;
	}
	for (size_t k = 0; k < st->n; k++)
		if (!covered[k])
			st->rescan = true;
	return 0;
}

static int parse_line(struct agent_state *st, const char *p, const char *end)
{
	size_t n = (size_t)(end - p);

#define IS(k) (n > strlen(k) && memcmp(p, k " ", strlen(k) + 1) == 0 && (p += strlen(k) + 1))
	if (IS("log-key")) {
		if ((size_t)(end - p) > TL_MAX_KEY_TEXT)
			return -1;
		memcpy(st->log_vkey, p, (size_t)(end - p));
		st->log_vkey[end - p] = '\0';
		return 0;
	}
	if (IS("checkpoint"))
		return parse_checkpoint(st, p, end);
	if (IS("cosigned"))
		return word_u64(&st->cosigned_at, &p, end) && p == end ? 0 : -1;
	if (IS("scanned"))
		return parse_scanned(st, p, end);
	if (IS("keys"))
		return parse_keys(st, p, end);
	if (IS("version"))
		return parse_version(st, p, end);
#undef IS
	return -1;
}

int agent_state_load(struct agent_state *st, const char *dir, const char *const *domains, size_t n)
{
	char path[BD_FILE_MAX_PATH];
	tl_buf text = tl_buf_make(AGENT_MAX_STATE_FILE);
	const char *p, *end, *nl;
	size_t line = 1;
	int err;

	memset(st, 0, sizeof(*st));
	st->note = tl_buf_make(TL_NOTE_MAX_SIZE);
	if (n > BD_AGENT_MAX_DOMAINS)
		return tl_error_set(TL_E_INPUT, "more than %d domains", BD_AGENT_MAX_DOMAINS);
	for (size_t i = 0; i < n; i++) {
		if (strlen(domains[i]) > BD_MAX_DOMAIN)
			return tl_error_set(TL_E_INPUT, "a domain name over %u bytes", BD_MAX_DOMAIN);
		memcpy(st->domains[i], domains[i], strlen(domains[i]) + 1);
	}
	st->n = n;
	snprintf(path, sizeof(path), "%s/" AGENT_STATE_FILE, dir);
	if ((err = tl_file_read(&text, path)) != 0) {
		tl_buf_free(&text);
		return err == TL_E_NOTFOUND ? 0 : err;
	}
	p = (const char *)text.data;
	end = p + text.len;
	/* v1 and v2 have magics of one length */
	if (text.len < strlen(MAGIC) + 1 ||
	    (memcmp(p, MAGIC "\n", strlen(MAGIC) + 1) != 0 && memcmp(p, MAGIC_V1 "\n", strlen(MAGIC) + 1) != 0)) {
		err = tl_error_set(TL_E_INPUT, "%s is not an agent state (remove it to start over)", path);
		goto out;
	}
	for (p += strlen(MAGIC) + 1; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL || parse_line(st, p, nl) != 0) {
			err = tl_error_set(TL_E_INPUT, "%s: line %zu is damaged (remove the file to start over)", path, line);
			goto out;
		}
	}
	if (err == 0 && st->rescan) {
		st->scanned = 0;
		audit_domains_free(&st->keys);
	}
out:
	tl_buf_free(&text);
	return err;
}

int agent_state_save(const struct agent_state *st, const char *dir)
{
	char path[BD_FILE_MAX_PATH], hex[2 * TL_HASH_SIZE + 1];
	tl_buf b = tl_buf_make(AGENT_MAX_STATE_FILE);
	int err = tl_buf_printf(&b, MAGIC "\nlog-key %s\n", st->log_vkey);

	if (err == 0 && st->has_checkpoint &&
	    ((err = tl_buf_append_str(&b, "checkpoint ")) != 0 || (err = tl_base64_encode(&b, st->note.data, st->note.len)) != 0 ||
		    (err = tl_buf_printf(&b, " %" PRIu64 "\n", st->verified_at)) != 0))
		goto out;
	if (err == 0 && st->cosigned_at != 0 && (err = tl_buf_printf(&b, "cosigned %" PRIu64 "\n", st->cosigned_at)) != 0)
		goto out;
	if (err != 0 || (err = tl_buf_printf(&b, "scanned %" PRIu64, st->scanned)) != 0)
		goto out;
	for (size_t i = 0; i < st->n; i++)
		if ((err = tl_buf_printf(&b, " %s", st->domains[i])) != 0)
			goto out;
	if ((err = tl_buf_append_str(&b, "\n")) != 0)
		goto out;
	for (size_t i = 0; i < st->n; i++) {
		struct audit_domain *d = audit_domain_find(&st->keys, st->domains[i]);
		const struct agent_version *v = &st->held[i];

		if (d != NULL) {
			if ((err = tl_buf_printf(&b, "keys %s %" PRIu64, d->name, d->keys_time)) != 0)
				goto out;
			for (size_t k = 0; k < d->n_keys; k++)
				if ((err = tl_buf_printf(&b, " %s", d->vkeys[k])) != 0)
					goto out;
			if ((err = tl_buf_append_str(&b, "\n")) != 0)
				goto out;
		}
		if (v->has) {
			tl_hex_encode(hex, v->sha256.b, TL_HASH_SIZE);
			if ((err = tl_buf_printf(&b, "version %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %s %" PRIu64 "\n",
				     st->domains[i], v->sequence, v->index, v->size, hex, v->refresh_hint)) != 0)
				goto out;
		}
	}
	snprintf(path, sizeof(path), "%s/" AGENT_STATE_FILE, dir);
	err = tl_file_replace(path, b.data, b.len);
out:
	tl_buf_free(&b);
	return err;
}

void agent_state_free(struct agent_state *st)
{
	tl_buf_free(&st->note);
	audit_domains_free(&st->keys);
}
