/*
 * The auditor's state file, DIR/state: what a run resumes from. Text, one record per line,
 * written whole and atomically (temporary file, fsync, rename, fsync of the directory):
 *
 *   bundled-audit-state v1
 *   checkpoint <base64 of the last verified signed note>      (absent before the first run)
 *   tree-only                             (when the entries are not checked)
 *   audited <entries audited>
 *   frontier <hex hash>                   one per frontier node, largest subtree first
 *   tile <level> <hex hash>...            the rightmost partial tile of each level, if any
 *   domain <name> <keys time> <has version> <sequence> <cid or -> <vkey>...
 *   revocation <index> <base64 of the entry text>              (a revocation awaiting its version)
 *   evidence <count>
 *   findings <count of all findings>
 *   finding <kind> <index> <message>
 *
 * The file is the auditor's own, but it is read with the same care as outside bytes: any
 * line out of place refuses the whole file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_internal.h"
#include "translog/bytes.h"
#include "translog/file.h"

#define STATE_HEADER "bundled-audit-state v1"
#define MAX_STATE_LINE (64u * 1024u)
#define MAX_STATE_FILE ((size_t)1 << 31)

static int put_hashes(tl_buf *b, const tl_hash *h, size_t n)
{
	char hex[2 * TL_HASH_SIZE + 1];
	int err = 0;

	for (size_t i = 0; i < n && err == 0; i++) {
		tl_hex_encode(hex, h[i].b, TL_HASH_SIZE);
		err = tl_buf_printf(b, " %s", hex);
	}
	return err;
}

static int put_base64_line(tl_buf *b, const char *prefix, const void *data, size_t len)
{
	int err = tl_buf_append_str(b, prefix);

	if (err == 0)
		err = tl_base64_encode(b, data, len);
	return err != 0 ? err : tl_buf_append_u8(b, '\n');
}

static int format_state(tl_buf *b, const struct audit_state *st)
{
	int err = tl_buf_append_str(b, STATE_HEADER "\n");

	if (err == 0 && st->has_checkpoint)
		err = put_base64_line(b, "checkpoint ", st->note, st->note_len);
	if (err == 0 && st->tree_only)
		err = tl_buf_append_str(b, "tree-only\n");
	if (err == 0)
		err = tl_buf_printf(b, "audited %" PRIu64 "\n", st->audited);
	for (size_t i = 0; i < st->frontier.n && err == 0; i++) {
		err = tl_buf_append_str(b, "frontier");
		if (err == 0 && (err = put_hashes(b, &st->frontier.nodes[i], 1)) == 0)
			err = tl_buf_append_u8(b, '\n');
	}
	for (unsigned l = 0; l < AUDIT_TILE_LEVELS && err == 0; l++) {
		size_t w = (size_t)((st->audited >> (8 * l)) % TL_TILE_WIDTH);

		if (w == 0)
			continue;
		if ((err = tl_buf_printf(b, "tile %u", l)) == 0 && (err = put_hashes(b, st->tiles[l], w)) == 0)
			err = tl_buf_append_u8(b, '\n');
	}
	for (size_t i = 0; i < st->domains.cap && err == 0; i++) {
		const struct audit_domain *d = st->domains.slots[i];

		if (d == NULL)
			continue;
		err = tl_buf_printf(b, "domain %s %" PRIu64 " %d %" PRIu64 " %s", d->name, d->keys_time, d->has_version ? 1 : 0,
			d->sequence, d->cid[0] != '\0' ? d->cid : "-");
		for (size_t k = 0; k < d->n_keys && err == 0; k++)
			err = tl_buf_printf(b, " %s", d->vkeys[k]);
		if (err == 0)
			err = tl_buf_append_u8(b, '\n');
	}
	if (err == 0 && st->has_revocation) {
		tl_buf text = { 0 };
		char prefix[48];

		snprintf(prefix, sizeof(prefix), "revocation %" PRIu64 " ", st->revocation_index);
		if ((err = bd_entry_write(&text, &st->revocation)) == 0)
			err = put_base64_line(b, prefix, text.data, text.len);
		tl_buf_free(&text);
	}
	if (err == 0)
		err = tl_buf_printf(b, "evidence %" PRIu64 "\nfindings %zu\n", st->evidence_count, st->n_findings);
	for (size_t i = 0; i < st->n_kept && err == 0; i++)
		err = tl_buf_printf(b, "finding %d %" PRIu64 " %s\n", (int)st->findings[i].kind, st->findings[i].index,
			st->findings[i].message);
	return err;
}

int audit_state_save(const struct audit_state *st, const char *dir)
{
	char path[4200];
	tl_buf b = tl_buf_make(MAX_STATE_FILE);
	int err;

	snprintf(path, sizeof(path), "%s/" AUDIT_STATE_FILE, dir);
	if ((err = format_state(&b, st)) == 0)
		err = tl_file_replace(path, b.data, b.len);
	tl_buf_free(&b);
	return err;
}

/* Splits off the next space-separated word of a line. */
static bool word(const char **w, size_t *n, const char **p, const char *end)
{
	const char *s = *p;

	while (s < end && *s != ' ')
		s++;
	*w = *p;
	*n = (size_t)(s - *p);
	*p = s < end ? s + 1 : s;
	return *n != 0;
}

static bool u64_word(uint64_t *out, const char **p, const char *end)
{
	const char *w;
	size_t n;
	uint64_t v = 0;

	if (!word(&w, &n, p, end) || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (w[i] < '0' || w[i] > '9' || __builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(w[i] - '0'), &v))
			return false;
	}
	*out = v;
	return true;
}

static bool hash_word(tl_hash *out, const char **p, const char *end)
{
	const char *w;
	size_t n;

	return word(&w, &n, p, end) && n == 2 * TL_HASH_SIZE && tl_hex_decode(out->b, TL_HASH_SIZE, w, n) == 0;
}

static bool text_word(char *out, size_t cap, const char **p, const char *end)
{
	const char *w;
	size_t n;

	if (!word(&w, &n, p, end) || n >= cap)
		return false;
	memcpy(out, w, n);
	out[n] = '\0';
	return true;
}

static bool base64_rest(uint8_t **out, size_t *len, const char *p, const char *end)
{
	size_t cap = (size_t)(end - p) / 4 * 3 + 3;

	if ((*out = malloc(cap + 1)) == NULL)
		return false;
	return tl_base64_decode(*out, cap, len, p, (size_t)(end - p)) == 0;
}

static bool parse_domain(struct audit_state *st, const char *p, const char *end)
{
	char name[BD_MAX_DOMAIN + 1], cid[BD_MAX_CID_TEXT + 1], vkey[BD_MAX_VKEY + 1];
	struct audit_domain *d;
	uint64_t has_version;

	if (!text_word(name, sizeof(name), &p, end) || audit_domain_add(&d, &st->domains, name) != 0 ||
	    !u64_word(&d->keys_time, &p, end) || !u64_word(&has_version, &p, end) || has_version > 1 ||
	    !u64_word(&d->sequence, &p, end) || !text_word(cid, sizeof(cid), &p, end))
		return false;
	d->has_version = has_version == 1;
	if (strcmp(cid, "-") != 0)
		memcpy(d->cid, cid, sizeof(cid));
	while (p < end)
		if (!text_word(vkey, sizeof(vkey), &p, end) || audit_domain_add_key(d, vkey) != 0)
			return false;
	return d->n_keys != 0;
}

static bool parse_line(struct audit_state *st, const tl_verifier *key, const char *p, const char *end)
{
	const char *w;
	size_t n;
	uint64_t v;
	uint8_t *bytes = NULL;
	size_t len;
	bool ok = false;

	if (!word(&w, &n, &p, end))
		return false;
#define IS(s) (n == strlen(s) && memcmp(w, s, n) == 0)
	if (IS("checkpoint")) {
		/* Verified again: a state kept for another log's key is refused. */
		ok = !st->has_checkpoint && base64_rest(&bytes, &len, p, end) &&
			tl_checkpoint_open(&st->checkpoint, bytes, len, key) == 0;
		if (ok) {
			st->note = bytes;
			st->note_len = len;
			st->has_checkpoint = true;
			bytes = NULL;
		}
	} else if (IS("tree-only")) {
		ok = p == end && !st->tree_only;
		st->tree_only = true;
	} else if (IS("audited")) {
		ok = u64_word(&st->audited, &p, end);
	} else if (IS("frontier")) {
		ok = st->frontier.n < 64 && hash_word(&st->frontier.nodes[st->frontier.n], &p, end);
		st->frontier.n++;
	} else if (IS("tile")) {
		ok = u64_word(&v, &p, end) && v < AUDIT_TILE_LEVELS;
		for (size_t i = 0; ok && p < end; i++)
			ok = i < TL_TILE_WIDTH && hash_word(&st->tiles[v][i], &p, end);
	} else if (IS("domain")) {
		ok = parse_domain(st, p, end);
	} else if (IS("revocation")) {
		ok = u64_word(&st->revocation_index, &p, end) && base64_rest(&bytes, &len, p, end) &&
			bd_entry_parse(&st->revocation, bytes, len) == 0 && st->revocation.kind == BD_ENTRY_REVOCATION;
		st->has_revocation = ok;
	} else if (IS("evidence")) {
		ok = u64_word(&st->evidence_count, &p, end);
	} else if (IS("findings")) {
		ok = u64_word(&v, &p, end) && v <= SIZE_MAX;
		st->n_findings = (size_t)v;
	} else if (IS("finding")) {
		bd_audit_finding *f = &st->findings[st->n_kept];

		ok = st->n_kept < BD_AUDIT_MAX_FINDINGS && u64_word(&v, &p, end) && v >= BD_AUDIT_FORK &&
			v <= BD_AUDIT_CONTENT && u64_word(&f->index, &p, end) && (size_t)(end - p) < sizeof(f->message);
		if (ok) {
			f->kind = (bd_audit_kind)v;
			memcpy(f->message, p, (size_t)(end - p));
			f->message[end - p] = '\0';
			st->n_kept++;
		}
	}
#undef IS
	free(bytes);
	return ok;
}

int audit_state_load(struct audit_state *st, const char *dir, const tl_verifier *key)
{
	char path[4200];
	FILE *f;
	tl_buf b = tl_buf_make(MAX_STATE_FILE);
	char chunk[65536];
	size_t n;
	tl_cursor cur;
	const uint8_t *line;
	size_t len, lineno = 0;
	int err = 0;

	tl_frontier_init(&st->frontier);
	snprintf(path, sizeof(path), "%s/" AUDIT_STATE_FILE, dir);
	if ((f = fopen(path, "rb")) == NULL) {
		if (errno == ENOENT)
			return 0;
		return tl_error_set(TL_E_IO, "%s: %s", path, strerror(errno));
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && err == 0)
		err = tl_buf_append(&b, chunk, n);
	if (err == 0 && ferror(f))
		err = tl_error_set(TL_E_IO, "%s: read error", path);
	fclose(f);
	cur = tl_cursor_make(b.data, b.len);
	while (err == 0 && tl_cursor_left(&cur) != 0) {
		if (tl_cursor_line(&line, &len, &cur, MAX_STATE_LINE) != 0) {
			err = tl_error_set(TL_E_INPUT, "%s: line %zu is too long or unterminated", path, lineno + 1);
			break;
		}
		lineno++;
		if (lineno == 1 ? (len != strlen(STATE_HEADER) || memcmp(line, STATE_HEADER, len) != 0)
				: !parse_line(st, key, (const char *)line, (const char *)line + len))
			err = tl_error_set(TL_E_INPUT, "%s: line %zu is damaged (remove the file to audit from the start)", path,
				lineno);
	}
	if (err == 0 && lineno == 0)
		err = tl_error_set(TL_E_INPUT, "%s: empty", path);
	if (err == 0) {
		/* The frontier must be the one of `audited` entries: one node per set bit. */
		st->frontier.size = st->audited;
		if ((size_t)__builtin_popcountll(st->audited) != st->frontier.n ||
		    (st->has_checkpoint && st->audited > st->checkpoint.size))
			err = tl_error_set(TL_E_INPUT, "%s: the tree state does not match the size audited", path);
	}
	tl_buf_free(&b);
	return err;
}

void audit_state_free(struct audit_state *st)
{
	audit_domains_free(&st->domains);
	free(st->note);
	st->note = NULL;
}
