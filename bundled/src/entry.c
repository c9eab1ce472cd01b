/*
 * The log's entries: the one reader and the one writer of the grammar in docs/formats.md
 * ("Log entries"), the domain-separated message a publisher signs, and the trust domain
 * name check. Both directions share the field checks below, so the writer can never emit
 * an entry the reader refuses (parse(write(e)) == e).
 */
#include <stdio.h>
#include <string.h>

#include "bundled/bundle.h"
#include "bundled/cid.h"
#include "bundled/entry.h"

#define ENTRY_HEADER "bundled-entry v1"
#define MAX_LINE (BD_ENTRY_MAX_SIZE)
/* Times are Unix seconds that must fit a signed 64-bit time_t. */
#define MAX_TIME ((uint64_t)INT64_MAX)
/* The base64 text of a 64-byte signature. */
#define SIGNATURE_TEXT 88u

/* ---- field checks, shared by the reader and the writer ---- */

int bd_domain_name_check(const char *td, size_t len)
{
	if (len == 0)
		return tl_error_set(TL_E_INPUT, "trust domain name is empty");
	if (len > BD_MAX_DOMAIN)
		return tl_error_set(TL_E_INPUT, "trust domain name of %zu bytes, over the limit of %u", len, BD_MAX_DOMAIN);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)td[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_')
			continue;
		return tl_error_set(TL_E_INPUT,
			"trust domain name has a character other than a-z, 0-9, '.', '-', '_' at byte %zu (0x%02x)", i, ch);
	}
	/* SPIFFE's character set allows them, but they are path segments, never names: refused
	 * so that no URL or file path built from a domain can walk out of its place. */
	if ((len == 1 && td[0] == '.') || (len == 2 && td[0] == '.' && td[1] == '.'))
		return tl_error_set(TL_E_INPUT, "trust domain name \"%.*s\" is a path segment", (int)len, td);
	return 0;
}

void bd_key_fingerprint(tl_hash *out, const tl_verifier *key)
{
	tl_sha256(out, tl_verifier_public_key(key), TL_ED25519_PUBLIC_KEY_SIZE);
}

/* A publisher verifier key in its one canonical text; *fp gets its fingerprint. */
static int check_vkey(tl_hash *fp, const char *text, size_t len)
{
	tl_verifier *v = NULL;
	tl_buf again = tl_buf_make(TL_MAX_KEY_TEXT);
	int err;

	if (len == 0 || len > BD_MAX_VKEY)
		return tl_error_set(TL_E_INPUT, "publisher key of %zu bytes (1..%u allowed)", len, BD_MAX_VKEY);
	if (memchr(text, '\n', len) != NULL)
		return tl_error_set(TL_E_INPUT, "publisher key contains a newline");
	if ((err = tl_verifier_parse(&v, text, len)) != 0)
		goto out;
	if (tl_verifier_type(v) != TL_KEY_TYPE_ED25519) {
		err = tl_error_set(TL_E_INPUT, "publisher key is not a plain Ed25519 key (type 0x01)");
		goto out;
	}
	if ((err = tl_verifier_format(&again, v)) != 0)
		goto out;
	if (again.len != len || memcmp(again.data, text, len) != 0) {
		err = tl_error_set(TL_E_INPUT, "publisher key is not in its canonical text form");
		goto out;
	}
	bd_key_fingerprint(fp, v);
out:
	tl_verifier_free(v);
	tl_buf_free(&again);
	return err;
}

static int check_cid(const char *text, size_t len)
{
	bd_cid cid;
	char again[BD_CID_TEXT_MAX];
	int err;

	if (len == 0 || len > BD_MAX_CID_TEXT)
		return tl_error_set(TL_E_INPUT, "cid of %zu bytes (1..%u allowed)", len, BD_MAX_CID_TEXT);
	if ((err = bd_cid_parse(&cid, text, len)) != 0)
		return err;
	if (cid.codec != BD_CODEC_RAW && cid.codec != BD_CODEC_DAG_PB)
		return tl_error_set(TL_E_INPUT, "cid codec 0x%llx is neither raw nor dag-pb", (unsigned long long)cid.codec);
	if ((err = bd_cid_format(again, sizeof(again), &cid)) != 0)
		return err;
	if (strlen(again) != len || memcmp(again, text, len) != 0)
		return tl_error_set(TL_E_INPUT, "cid is not in its canonical form (CIDv1, base32 lower case)");
	return 0;
}

static bool printable(unsigned char ch)
{
	return ch >= 0x20 && ch <= 0x7e;
}

static int check_kid(const char *kid, size_t len)
{
	if (len == 0 || len > BD_MAX_KID)
		return tl_error_set(TL_E_INPUT, "authority kid of %zu bytes (1..%u allowed)", len, BD_MAX_KID);
	for (size_t i = 0; i < len; i++)
		if (!printable((unsigned char)kid[i]) || kid[i] == ' ')
			return tl_error_set(TL_E_INPUT, "authority kid has a byte other than printable ASCII at %zu", i);
	return 0;
}

static int check_reason(const char *r, size_t len)
{
	if (len == 0 || len > BD_ENTRY_MAX_REASON)
		return tl_error_set(TL_E_INPUT, "reason of %zu bytes (1..%u allowed)", len, BD_ENTRY_MAX_REASON);
	for (size_t i = 0; i < len; i++)
		if (!printable((unsigned char)r[i]))
			return tl_error_set(TL_E_INPUT, "reason has a control or non-ASCII byte at %zu", i);
	if (r[0] == ' ' || r[len - 1] == ' ')
		return tl_error_set(TL_E_INPUT, "reason starts or ends with a space");
	return 0;
}

/* The keys of a registration: 1..MAX, strictly ascending fingerprints (so no repeats);
 * add-key and remove-key: exactly one. */
static int check_keys(const bd_entry *e)
{
	tl_hash prev, fp;
	int err;

	if (e->action == BD_DOMAIN_REGISTER) {
		if (e->n_keys == 0 || e->n_keys > BD_ENTRY_MAX_KEYS)
			return tl_error_set(TL_E_INPUT, "a registration holds 1..%u publisher keys, not %zu",
				BD_ENTRY_MAX_KEYS, e->n_keys);
	} else if (e->n_keys != 1) {
		return tl_error_set(TL_E_INPUT, "a key change names exactly one publisher key, not %zu", e->n_keys);
	}
	for (size_t i = 0; i < e->n_keys; i++) {
		size_t len = strnlen(e->keys[i], BD_MAX_VKEY + 1);

		if ((err = check_vkey(&fp, e->keys[i], len)) != 0)
			return tl_error_wrap(err, "publisher-key %zu", i + 1);
		if (i > 0 && memcmp(prev.b, fp.b, TL_HASH_SIZE) >= 0)
			return tl_error_set(TL_E_INPUT, "publisher-key %zu: keys are not in strictly ascending fingerprint order",
				i + 1);
		prev = fp;
	}
	return 0;
}

static const char *kind_name(bd_entry_kind k)
{
	switch (k) {
	case BD_ENTRY_DOMAIN: return "domain";
	case BD_ENTRY_BUNDLE: return "bundle";
	case BD_ENTRY_REVOCATION: return "revocation";
	}
	return NULL;
}

static const char *action_name(bd_domain_action a)
{
	switch (a) {
	case BD_DOMAIN_REGISTER: return "register";
	case BD_DOMAIN_ADD_KEY: return "add-key";
	case BD_DOMAIN_REMOVE_KEY: return "remove-key";
	}
	return NULL;
}

/* Whether an entry of this kind carries a signature line. */
static bool wants_signature(const bd_entry *e)
{
	return e->kind != BD_ENTRY_DOMAIN || !e->by_operator;
}

/* Every semantic rule of the grammar, for the writer (the reader checks the same things as
 * it goes, with line numbers). */
static int check_entry(const bd_entry *e)
{
	size_t dlen = strnlen(e->domain, BD_MAX_DOMAIN + 1);
	int err;

	if (kind_name(e->kind) == NULL)
		return tl_error_set(TL_E_INPUT, "unknown entry kind %d", (int)e->kind);
	if ((err = bd_domain_name_check(e->domain, dlen)) != 0)
		return err;
	if (e->time > MAX_TIME)
		return tl_error_set(TL_E_INPUT, "time above 2^63-1");
	if (e->kind == BD_ENTRY_DOMAIN) {
		if (action_name(e->action) == NULL)
			return tl_error_set(TL_E_INPUT, "unknown domain action %d", (int)e->action);
		if ((e->action == BD_DOMAIN_REGISTER) != e->by_operator)
			return tl_error_set(TL_E_INPUT, "a registration, and only a registration, is authorized by the operator");
		return check_keys(e);
	}
	if (e->kind == BD_ENTRY_BUNDLE) {
		if (e->refresh_hint > BD_MAX_REFRESH_HINT)
			return tl_error_set(TL_E_INPUT, "refresh-hint above %u", BD_MAX_REFRESH_HINT);
		if (e->size == 0 || e->size > BD_MAX_BUNDLE_SIZE)
			return tl_error_set(TL_E_INPUT, "size %llu outside 1..%u", (unsigned long long)e->size,
				BD_MAX_BUNDLE_SIZE);
	} else {
		if (e->authority_is_kid && (err = check_kid(e->authority_kid, strnlen(e->authority_kid, BD_MAX_KID + 1))) != 0)
			return err;
		if ((err = check_reason(e->reason, strnlen(e->reason, BD_ENTRY_MAX_REASON + 1))) != 0)
			return err;
	}
	return check_cid(e->cid, strnlen(e->cid, BD_MAX_CID_TEXT + 1));
}

/* ---- the writer ---- */

/* "<prefix><hex>\n", prefix being "key " or "key sha256:". */
static int put_hex(tl_buf *out, const char *prefix, const uint8_t *b, size_t n)
{
	char hex[2 * TL_HASH_SIZE + 1];

	tl_hex_encode(hex, b, n);
	return tl_buf_printf(out, "%s%s\n", prefix, hex);
}

static int write_body(tl_buf *out, const bd_entry *e)
{
	int err;

	if ((err = tl_buf_printf(out, ENTRY_HEADER "\nkind %s\ndomain %s\n", kind_name(e->kind), e->domain)) != 0)
		return err;
	switch (e->kind) {
	case BD_ENTRY_DOMAIN:
		if ((err = tl_buf_printf(out, "action %s\n", action_name(e->action))) != 0)
			return err;
		for (size_t i = 0; i < e->n_keys; i++)
			if ((err = tl_buf_printf(out, "publisher-key %s\n", e->keys[i])) != 0)
				return err;
		if ((err = tl_buf_printf(out, "time %llu\n", (unsigned long long)e->time)) != 0)
			return err;
		if (e->by_operator)
			return tl_buf_append_str(out, "authorized-by operator\n");
		return put_hex(out, "authorized-by ", e->key.b, TL_HASH_SIZE);
	case BD_ENTRY_BUNDLE:
		if ((err = tl_buf_printf(out, "sequence %llu\nrefresh-hint %llu\nsize %llu\n",
			     (unsigned long long)e->sequence, (unsigned long long)e->refresh_hint,
			     (unsigned long long)e->size)) != 0)
			return err;
		break;
	case BD_ENTRY_REVOCATION:
		if (e->authority_is_kid)
			err = tl_buf_printf(out, "authority kid:%s\n", e->authority_kid);
		else
			err = put_hex(out, "authority sha256:", e->authority_sha256.b, TL_HASH_SIZE);
		if (err != 0 || (err = tl_buf_printf(out, "reason %s\nsequence %llu\n", e->reason,
					 (unsigned long long)e->sequence)) != 0)
			return err;
		break;
	}
	if ((err = put_hex(out, "sha256 ", e->sha256.b, TL_HASH_SIZE)) != 0 ||
		(err = tl_buf_printf(out, "cid %s\ntime %llu\n", e->cid, (unsigned long long)e->time)) != 0)
		return err;
	return put_hex(out, "key ", e->key.b, TL_HASH_SIZE);
}

static int write_signature(tl_buf *out, const bd_entry *e)
{
	int err;

	if ((err = tl_buf_append_str(out, "signature ")) != 0 ||
		(err = tl_base64_encode(out, e->signature, sizeof(e->signature))) != 0)
		return err;
	return tl_buf_append_u8(out, '\n');
}

int bd_entry_write(tl_buf *out, const bd_entry *e)
{
	size_t start = out->len;
	int err;

	if ((err = check_entry(e)) != 0)
		return err;
	if (wants_signature(e) != e->has_signature)
		return tl_error_set(TL_E_INPUT, e->has_signature ? "an operator registration carries no signature"
								 : "the entry must be signed before it is written");
	if ((err = write_body(out, e)) != 0 || (e->has_signature && (err = write_signature(out, e)) != 0))
		goto out;
	if (out->len - start > BD_ENTRY_MAX_SIZE)
		err = tl_error_set(TL_E_INPUT, "entry of %zu bytes, over the limit of %u", out->len - start,
			BD_ENTRY_MAX_SIZE);
out:
	if (err != 0)
		tl_buf_truncate(out, start);
	return err;
}

int bd_entry_signed_message(tl_buf *out, const char *origin, const bd_entry *e)
{
	size_t start = out->len;
	int err;

	if (!tl_key_name_valid(origin, strlen(origin)))
		return tl_error_set(TL_E_INPUT, "log origin is not a valid key name");
	if ((err = check_entry(e)) != 0)
		return err;
	if (!wants_signature(e))
		return tl_error_set(TL_E_INPUT, "an operator registration is not signed by a publisher");
	if ((err = tl_buf_printf(out, BD_ENTRY_SIGNATURE_CONTEXT "\norigin %s\n", origin)) != 0 ||
		(err = write_body(out, e)) != 0)
		tl_buf_truncate(out, start);
	return err;
}

int bd_entry_sign(bd_entry *e, const char *origin, const tl_signer *key)
{
	tl_verifier *v = NULL;
	tl_buf msg = tl_buf_make(2 * BD_ENTRY_MAX_SIZE);
	int err;

	if (tl_signer_type(key) != TL_KEY_TYPE_ED25519)
		return tl_error_set(TL_E_INPUT, "publisher key is not a plain Ed25519 key (type 0x01)");
	if ((err = tl_verifier_from_signer(&v, key)) != 0)
		return err;
	bd_key_fingerprint(&e->key, v);
	if ((err = bd_entry_signed_message(&msg, origin, e)) != 0 ||
		(err = tl_signer_sign(e->signature, key, msg.data, msg.len)) != 0)
		goto out;
	e->has_signature = true;
out:
	tl_verifier_free(v);
	tl_buf_free(&msg);
	return err;
}

int bd_entry_verify(const bd_entry *e, const char *origin, const tl_verifier *key)
{
	tl_hash fp;
	tl_buf msg = tl_buf_make(2 * BD_ENTRY_MAX_SIZE);
	int err;

	if (!e->has_signature)
		return tl_error_set(TL_E_UNAUTHORIZED, "the entry carries no signature");
	if (tl_verifier_type(key) != TL_KEY_TYPE_ED25519)
		return tl_error_set(TL_E_UNAUTHORIZED, "publisher key is not a plain Ed25519 key (type 0x01)");
	bd_key_fingerprint(&fp, key);
	if (!tl_hash_equal(&fp, &e->key))
		return tl_error_set(TL_E_UNAUTHORIZED, "the entry names another key than the one checked");
	if ((err = bd_entry_signed_message(&msg, origin, e)) != 0)
		goto out;
	if (tl_verifier_verify(key, msg.data, msg.len, e->signature, sizeof(e->signature)) != 0)
		err = tl_error_set(TL_E_UNAUTHORIZED, "publisher signature does not verify (other bytes, kind or log?)");
out:
	tl_buf_free(&msg);
	return err;
}

/* ---- the reader ---- */

struct reader {
	tl_cursor c;
	unsigned line;         /* number of the line last read, from 1 */
	const char *key;       /* of the line read ahead by peek, or NULL */
	const char *value;
	size_t value_len;
	size_t key_len;
};

/* Reads the next "key value" line: key is [a-z0-9-]+, one space, a value of at least one byte
 * with no control character. */
static int next_line(struct reader *r)
{
	const uint8_t *line;
	size_t len, k = 0;

	if (tl_cursor_left(&r->c) == 0)
		return tl_error_set(TL_E_INPUT, "line %u: the entry ends early", r->line + 1);
	if (tl_cursor_line(&line, &len, &r->c, MAX_LINE) != 0)
		return tl_error_set(TL_E_INPUT, "line %u: not terminated by a line feed", r->line + 1);
	r->line++;
	while (k < len && ((line[k] >= 'a' && line[k] <= 'z') || (line[k] >= '0' && line[k] <= '9') || line[k] == '-'))
		k++;
	if (k == 0 || k + 1 >= len || line[k] != ' ')
		return tl_error_set(TL_E_INPUT, "line %u: not \"key value\"", r->line);
	for (size_t i = k + 1; i < len; i++)
		if (!printable(line[i]))
			return tl_error_set(TL_E_INPUT, "line %u: control or non-ASCII byte (0x%02x)", r->line, line[i]);
	if (line[len - 1] == ' ')
		return tl_error_set(TL_E_INPUT, "line %u: trailing space", r->line);
	r->key = (const char *)line;
	r->key_len = k;
	r->value = (const char *)line + k + 1;
	r->value_len = len - k - 1;
	return 0;
}

static bool key_is(const struct reader *r, const char *key)
{
	return strlen(key) == r->key_len && memcmp(r->key, key, r->key_len) == 0;
}

/* Reads the next line, which must have this key. */
static int expect(struct reader *r, const char *key)
{
	int err;

	if ((err = next_line(r)) != 0)
		return err;
	if (!key_is(r, key))
		return tl_error_set(TL_E_INPUT, "line %u: expected \"%s\", found \"%.*s\"", r->line, key, (int)r->key_len,
			r->key);
	return 0;
}

static int expect_u64(uint64_t *out, struct reader *r, const char *key, uint64_t max)
{
	int err;

	if ((err = expect(r, key)) != 0)
		return err;
	if (tl_parse_u64(out, r->value, r->value_len) != 0 || *out > max)
		return tl_error_set(TL_E_INPUT, "line %u: %s is not a canonical decimal up to %llu", r->line, key,
			(unsigned long long)max);
	return 0;
}

static int decode_hash(tl_hash *out, const struct reader *r, const char *v, size_t len)
{
	if (len != 2 * TL_HASH_SIZE || tl_hex_decode(out->b, TL_HASH_SIZE, v, len) != 0)
		return tl_error_set(TL_E_INPUT, "line %u: %.*s needs 64 lower-case hex digits", r->line, (int)r->key_len,
			r->key);
	return 0;
}

static int expect_hash(tl_hash *out, struct reader *r, const char *key)
{
	int err;

	if ((err = expect(r, key)) != 0)
		return err;
	return decode_hash(out, r, r->value, r->value_len);
}

/* Copies the current value into a NUL-terminated field of cap bytes (value_len < cap). */
static int take_text(char *dst, size_t cap, const struct reader *r)
{
	if (r->value_len >= cap)
		return tl_error_set(TL_E_INPUT, "line %u: %.*s of %zu bytes, over the limit of %zu", r->line,
			(int)r->key_len, r->key, r->value_len, cap - 1);
	memcpy(dst, r->value, r->value_len);
	dst[r->value_len] = '\0';
	return 0;
}

static int wrap_line(int err, const struct reader *r)
{
	return tl_error_wrap(err, "line %u", r->line);
}

static int read_domain_kind(bd_entry *e, struct reader *r)
{
	int err;

	if ((err = expect(r, "action")) != 0)
		return err;
	for (bd_domain_action a = BD_DOMAIN_REGISTER; a <= BD_DOMAIN_REMOVE_KEY; a++)
		if (strlen(action_name(a)) == r->value_len && memcmp(action_name(a), r->value, r->value_len) == 0)
			e->action = a;
	if (e->action == 0)
		return tl_error_set(TL_E_INPUT, "line %u: unknown action", r->line);
	for (;;) {
		if ((err = next_line(r)) != 0)
			return err;
		if (!key_is(r, "publisher-key"))
			break;
		if (e->n_keys == BD_ENTRY_MAX_KEYS)
			return tl_error_set(TL_E_INPUT, "line %u: more than %u publisher keys", r->line, BD_ENTRY_MAX_KEYS);
		if ((err = take_text(e->keys[e->n_keys], sizeof(e->keys[0]), r)) != 0)
			return err;
		e->n_keys++;
	}
	if ((err = check_keys(e)) != 0)
		return err;
	if (!key_is(r, "time"))
		return tl_error_set(TL_E_INPUT, "line %u: expected \"publisher-key\" or \"time\"", r->line);
	if (tl_parse_u64(&e->time, r->value, r->value_len) != 0 || e->time > MAX_TIME)
		return tl_error_set(TL_E_INPUT, "line %u: time is not a canonical decimal up to 2^63-1", r->line);
	if ((err = expect(r, "authorized-by")) != 0)
		return err;
	e->by_operator = r->value_len == 8 && memcmp(r->value, "operator", 8) == 0;
	if (!e->by_operator && (err = decode_hash(&e->key, r, r->value, r->value_len)) != 0)
		return err;
	if ((e->action == BD_DOMAIN_REGISTER) != e->by_operator)
		return tl_error_set(TL_E_INPUT, "line %u: a registration, and only a registration, is authorized by the operator",
			r->line);
	return 0;
}

static int read_authority(bd_entry *e, struct reader *r)
{
	int err;

	if ((err = expect(r, "authority")) != 0)
		return err;
	if (r->value_len > 7 && memcmp(r->value, "sha256:", 7) == 0)
		return decode_hash(&e->authority_sha256, r, r->value + 7, r->value_len - 7);
	if (r->value_len > 4 && memcmp(r->value, "kid:", 4) == 0) {
		e->authority_is_kid = true;
		if ((err = check_kid(r->value + 4, r->value_len - 4)) != 0)
			return wrap_line(err, r);
		memcpy(e->authority_kid, r->value + 4, r->value_len - 4);
		e->authority_kid[r->value_len - 4] = '\0';
		return 0;
	}
	return tl_error_set(TL_E_INPUT, "line %u: authority must be sha256:<hex> or kid:<kid>", r->line);
}

static int read_version_kind(bd_entry *e, struct reader *r)
{
	int err;

	if (e->kind == BD_ENTRY_REVOCATION) {
		if ((err = read_authority(e, r)) != 0 || (err = expect(r, "reason")) != 0)
			return err;
		if ((err = check_reason(r->value, r->value_len)) != 0)
			return wrap_line(err, r);
		memcpy(e->reason, r->value, r->value_len);
		e->reason[r->value_len] = '\0';
		if ((err = expect_u64(&e->sequence, r, "sequence", UINT64_MAX)) != 0)
			return err;
	} else if ((err = expect_u64(&e->sequence, r, "sequence", UINT64_MAX)) != 0 ||
		   (err = expect_u64(&e->refresh_hint, r, "refresh-hint", BD_MAX_REFRESH_HINT)) != 0 ||
		   (err = expect_u64(&e->size, r, "size", BD_MAX_BUNDLE_SIZE)) != 0) {
		return err;
	} else if (e->size == 0) {
		return tl_error_set(TL_E_INPUT, "line %u: size 0 (canonical bytes are never empty)", r->line);
	}
	if ((err = expect_hash(&e->sha256, r, "sha256")) != 0 || (err = expect(r, "cid")) != 0)
		return err;
	if ((err = check_cid(r->value, r->value_len)) != 0)
		return wrap_line(err, r);
	if ((err = take_text(e->cid, sizeof(e->cid), r)) != 0 ||
		(err = expect_u64(&e->time, r, "time", MAX_TIME)) != 0)
		return err;
	return expect_hash(&e->key, r, "key");
}

static int read_signature(bd_entry *e, struct reader *r)
{
	size_t n = 0;
	int err;

	if ((err = expect(r, "signature")) != 0)
		return err;
	if (r->value_len != SIGNATURE_TEXT ||
		tl_base64_decode(e->signature, sizeof(e->signature), &n, r->value, r->value_len) != 0 ||
		n != sizeof(e->signature))
		return tl_error_set(TL_E_INPUT, "line %u: signature is not the canonical base64 of 64 bytes", r->line);
	e->has_signature = true;
	return 0;
}

static int read_entry(bd_entry *e, struct reader *r)
{
	int err;

	if (tl_cursor_left(&r->c) < sizeof(ENTRY_HEADER) ||
		memcmp(tl_cursor_here(&r->c), ENTRY_HEADER "\n", sizeof(ENTRY_HEADER)) != 0)
		return tl_error_set(TL_E_INPUT, "line 1: not \"" ENTRY_HEADER "\"");
	r->c.pos += sizeof(ENTRY_HEADER);
	r->line = 1;
	if ((err = expect(r, "kind")) != 0)
		return err;
	for (bd_entry_kind k = BD_ENTRY_DOMAIN; k <= BD_ENTRY_REVOCATION; k++)
		if (strlen(kind_name(k)) == r->value_len && memcmp(kind_name(k), r->value, r->value_len) == 0)
			e->kind = k;
	if (e->kind == 0)
		return tl_error_set(TL_E_INPUT, "line 2: unknown kind");
	if ((err = expect(r, "domain")) != 0)
		return err;
	if ((err = bd_domain_name_check(r->value, r->value_len)) != 0)
		return wrap_line(err, r);
	memcpy(e->domain, r->value, r->value_len);
	if ((err = e->kind == BD_ENTRY_DOMAIN ? read_domain_kind(e, r) : read_version_kind(e, r)) != 0)
		return err;
	if (wants_signature(e) && (err = read_signature(e, r)) != 0)
		return err;
	if (tl_cursor_left(&r->c) != 0)
		return tl_error_set(TL_E_INPUT, "line %u: unexpected bytes after the entry's last line", r->line + 1);
	return 0;
}

int bd_entry_parse(bd_entry *out, const uint8_t *text, size_t len)
{
	struct reader r = { 0 };
	int err;

	memset(out, 0, sizeof(*out));
	if (len > BD_ENTRY_MAX_SIZE)
		return tl_error_set(TL_E_INPUT, "entry of %zu bytes, over the limit of %u", len, BD_ENTRY_MAX_SIZE);
	r.c = tl_cursor_make(text, len);
	if ((err = read_entry(out, &r)) != 0)
		memset(out, 0, sizeof(*out));
	return err;
}
