#include "bundled/request.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "translog/text.h"

/* The longest string member: a bundle of BD_REQUEST_MAX_BUNDLE bytes in base64. */
#define MAX_BASE64 (((BD_REQUEST_MAX_BUNDLE + 2) / 3) * 4)

/* The body as one JSON object whose members are exactly `names` (n of them, all required). */
static int load_object(json_t **out, const uint8_t *body, size_t len, const char *what, const char *const *names,
	size_t n)
{
	json_error_t jerr;
	json_t *doc;
	const char *key;
	json_t *value;
	size_t known;

	if (len > BD_REQUEST_MAX_BODY)
		return tl_error_set(TL_E_INPUT, "%s: body larger than %zu bytes", what, BD_REQUEST_MAX_BODY);
	if ((doc = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return tl_error_set(TL_E_INPUT, "%s: not JSON: %s at byte %d", what, jerr.text, jerr.position);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return tl_error_set(TL_E_INPUT, "%s: the body must be a JSON object", what);
	}
	json_object_foreach(doc, key, value) {
		for (known = 0; known < n && strcmp(key, names[known]) != 0; known++)
			;
		if (known == n) {
			char safe[64];

			tl_text_printable(safe, sizeof(safe), key, strlen(key));
			json_decref(doc);
			return tl_error_set(TL_E_INPUT, "%s: unknown member \"%s\"", what, safe);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (json_object_get(doc, names[i]) == NULL) {
			json_decref(doc);
			return tl_error_set(TL_E_INPUT, "%s: missing member \"%s\"", what, names[i]);
		}
	}
	*out = doc;
	return 0;
}

/* A string member of 1..max bytes. */
static int get_string(const char **s, size_t *len, json_t *doc, const char *what, const char *name, size_t max)
{
	json_t *v = json_object_get(doc, name);

	if (!json_is_string(v))
		return tl_error_set(TL_E_INPUT, "%s: \"%s\" must be a string", what, name);
	*s = json_string_value(v);
	*len = json_string_length(v);
	if (*len == 0 || *len > max)
		return tl_error_set(TL_E_INPUT, "%s: \"%s\" must have 1 to %zu bytes", what, name, max);
	return 0;
}

int bd_register_request_parse(bd_register_request *out, const uint8_t *body, size_t len)
{
	static const char *const names[] = { "domain", "publisher_keys" };
	const char *what = "registration";
	json_t *doc = NULL, *keys;
	const char *s = NULL;
	size_t n = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = load_object(&doc, body, len, what, names, 2)) != 0)
		return err;
	if ((err = get_string(&s, &n, doc, what, "domain", BD_MAX_DOMAIN)) != 0)
		goto out;
	memcpy(out->domain, s, n);
	keys = json_object_get(doc, "publisher_keys");
	if (!json_is_array(keys) || json_array_size(keys) == 0 || json_array_size(keys) > BD_ENTRY_MAX_KEYS) {
		err = tl_error_set(TL_E_INPUT, "%s: \"publisher_keys\" must be an array of 1 to %u keys", what,
			BD_ENTRY_MAX_KEYS);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(keys); i++) {
		json_t *k = json_array_get(keys, i);

		if (!json_is_string(k) || json_string_length(k) == 0 || json_string_length(k) > BD_MAX_VKEY) {
			err = tl_error_set(TL_E_INPUT, "%s: publisher key %zu must be a string of 1 to %u bytes", what,
				i + 1, BD_MAX_VKEY);
			goto out;
		}
		memcpy(out->keys[i], json_string_value(k), json_string_length(k));
		out->n_keys++;
	}
out:
	json_decref(doc);
	return err;
}

int bd_register_request_write(tl_buf *out, const char *domain, const char *const *keys, size_t n_keys)
{
	json_t *doc = json_pack("{s:s,s:[]}", "domain", domain, "publisher_keys");
	json_t *list = json_object_get(doc, "publisher_keys");
	char *text = NULL;
	int err = 0;

	for (size_t i = 0; list != NULL && i < n_keys; i++)
		if (json_array_append_new(list, json_string(keys[i])) != 0)
			list = NULL;
	if (list == NULL || (text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		err = tl_error_set(TL_E_INPUT, "registration: domain or keys are not UTF-8 text");
	else
		err = tl_buf_append_str(out, text);
	free(text);
	json_decref(doc);
	return err;
}

/* ---- the signed requests' fast reader ----
 *
 * A signed request is a flat object of string members, and a bundle's base64 makes it
 * kilobytes long: jansson, which builds a tree and reads a byte at a time, was a fifth of
 * the daemon's CPU per publish. flat_read reads exactly that shape, decoding strings as JSON
 * does, and accepts only what jansson (with JSON_REJECT_DUPLICATES) accepts with the same
 * strings: anything else (another shape, a NUL, a lone surrogate, a duplicate, an unknown or
 * missing member) falls back to the jansson reader, so every refusal is still jansson's and
 * says what it said. */

static bool flat_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void flat_skip_ws(tl_cursor *c)
{
	while (tl_cursor_left(c) > 0 && flat_ws(tl_cursor_here(c)[0]))
		c->pos++;
}

static bool flat_hex4(uint32_t *out, tl_cursor *c)
{
	uint32_t v = 0;

	if (tl_cursor_left(c) < 4)
		return false;
	for (int k = 0; k < 4; k++) {
		int d = tl_hex_digit(tl_cursor_here(c)[k]);

		if (d < 0)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	c->pos += 4;
	*out = v;
	return true;
}

/* Appends the UTF-8 of one code point (not a surrogate, not 0, at most U+10FFFF). */
static size_t flat_put_utf8(char *out, uint32_t r)
{
	if (r < 0x80) {
		out[0] = (char)r;
		return 1;
	}
	if (r < 0x800) {
		out[0] = (char)(0xc0 | r >> 6);
		out[1] = (char)(0x80 | (r & 0x3f));
		return 2;
	}
	if (r < 0x10000) {
		out[0] = (char)(0xe0 | r >> 12);
		out[1] = (char)(0x80 | (r >> 6 & 0x3f));
		out[2] = (char)(0x80 | (r & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | r >> 18);
	out[1] = (char)(0x80 | (r >> 12 & 0x3f));
	out[2] = (char)(0x80 | (r >> 6 & 0x3f));
	out[3] = (char)(0x80 | (r & 0x3f));
	return 4;
}

/* One string (the cursor at its opening quote), decoded into out (cap bytes). False for
 * anything jansson would refuse or this reader does not take, and for a string over cap. */
static bool flat_string(char *out, size_t cap, size_t *out_len, tl_cursor *c)
{
	size_t n = 0;

	if (tl_cursor_left(c) == 0 || tl_cursor_here(c)[0] != '"')
		return false;
	c->pos++;
	while (tl_cursor_left(c) > 0) {
		uint8_t ch = tl_cursor_here(c)[0];
		uint32_t r;
		size_t k;

		if (ch == '"') {
			c->pos++;
			*out_len = n;
			return true;
		}
		if (cap - n < 4) /* one step writes at most 4 bytes */
			return false;
		if (ch < 0x20)
			return false;
		if (ch >= 0x80) {
			if ((k = tl_utf8_next(&r, tl_cursor_here(c), tl_cursor_left(c))) == 0)
				return false;
			memcpy(out + n, tl_cursor_here(c), k);
			n += k;
			c->pos += k;
			continue;
		}
		c->pos++;
		if (ch != '\\') {
			out[n++] = (char)ch;
			continue;
		}
		if (tl_cursor_left(c) == 0)
			return false;
		ch = tl_cursor_here(c)[0];
		c->pos++;
		switch (ch) {
		case '"': out[n++] = '"'; break;
		case '\\': out[n++] = '\\'; break;
		case '/': out[n++] = '/'; break;
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case 'u':
			if (!flat_hex4(&r, c) || r == 0 || (r >= 0xdc00 && r <= 0xdfff))
				return false;
			if (r >= 0xd800 && r <= 0xdbff) {
				uint32_t lo;

				if (tl_cursor_left(c) < 2 || tl_cursor_here(c)[0] != '\\' || tl_cursor_here(c)[1] != 'u')
					return false;
				c->pos += 2;
				if (!flat_hex4(&lo, c) || lo < 0xdc00 || lo > 0xdfff)
					return false;
				r = 0x10000 + ((r - 0xd800) << 10) + (lo - 0xdc00);
			}
			n += flat_put_utf8(out + n, r);
			break;
		default:
			return false;
		}
	}
	return false;
}

/* The members `names` (n <= 3, all present, nothing else) of a flat object of strings,
 * decoded into one buffer (returned, to be freed) that vals[] point into. NULL: not that
 * shape, or no memory; the caller then reads with jansson. */
static char *flat_read(const char **vals, size_t *lens, const uint8_t *body, size_t len, const char *const *names,
	size_t n)
{
	tl_cursor c = tl_cursor_make(body, len);
	char *buf = malloc(len + 1), *at = buf, key[16];
	bool seen[3] = { false, false, false };
	size_t found = 0, klen;
	uint8_t ch;

	if (buf == NULL || n > 3)
		goto fail;
	flat_skip_ws(&c);
	if (tl_cursor_left(&c) == 0 || tl_cursor_here(&c)[0] != '{')
		goto fail;
	c.pos++;
	for (;;) {
		size_t i, vlen;

		flat_skip_ws(&c);
		/* a key: short, so it is decoded on its own; never longer than its raw form */
		/* the names read here are short: a longer one is none of them (fall back) */
		if (!flat_string(key, sizeof(key), &klen, &c))
			goto fail;
		for (i = 0; i < n && !(strlen(names[i]) == klen && memcmp(names[i], key, klen) == 0); i++)
			;
		if (i == n || seen[i])
			goto fail;
		flat_skip_ws(&c);
		if (tl_cursor_left(&c) == 0 || tl_cursor_here(&c)[0] != ':')
			goto fail;
		c.pos++;
		flat_skip_ws(&c);
		/* every value decodes to fewer bytes than its quoted form: room for it and its NUL */
		if ((size_t)(at - buf) >= len || !flat_string(at, len - (size_t)(at - buf), &vlen, &c))
			goto fail;
		seen[i] = true;
		vals[i] = at;
		lens[i] = vlen;
		at[vlen] = '\0';
		at += vlen + 1;
		found++;
		flat_skip_ws(&c);
		if (tl_cursor_left(&c) == 0)
			goto fail;
		ch = tl_cursor_here(&c)[0];
		c.pos++;
		if (ch == ',')
			continue;
		if (ch != '}')
			goto fail;
		break;
	}
	flat_skip_ws(&c);
	if (tl_cursor_left(&c) != 0 || found != n)
		goto fail;
	return buf;
fail:
	free(buf);
	return NULL;
}

/* One member of a signed request, as read: entry and revocation are copied, the bundle's
 * base64 decoded. */
static int take_member(bd_signed_request *out, const char *what, const char *name, const char *s, size_t len)
{
	size_t max = strcmp(name, "bundle") == 0 ? MAX_BASE64 : BD_ENTRY_MAX_SIZE;
	uint8_t **dst = strcmp(name, "entry") == 0 ? &out->entry : strcmp(name, "revocation") == 0 ? &out->revocation : NULL;
	size_t *dst_len = dst == &out->entry ? &out->entry_len : &out->revocation_len;

	if (len == 0 || len > max)
		return tl_error_set(TL_E_INPUT, "%s: \"%s\" must have 1 to %zu bytes", what, name, max);
	if (dst != NULL) {
		if ((*dst = malloc(len + 1)) == NULL)
			return tl_error_set(TL_E_NOMEM, "out of memory");
		memcpy(*dst, s, len);
		(*dst)[len] = '\0';
		*dst_len = len;
		return 0;
	}
	if ((out->bundle = malloc(len / 4 * 3 + 3)) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if (tl_base64_decode(out->bundle, len / 4 * 3 + 3, &out->bundle_len, s, len) != 0)
		return tl_error_set(TL_E_INPUT, "%s: \"bundle\" is not canonical standard base64", what);
	return 0;
}

/* Reads a signed request whose members are `names`: entry, revocation (text) and bundle
 * (base64), whichever are named. */
static int parse_signed(bd_signed_request *out, const uint8_t *body, size_t len, const char *what,
	const char *const *names, size_t n)
{
	const char *vals[3];
	size_t lens[3];
	json_t *doc = NULL;
	char *flat = NULL;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (len <= BD_REQUEST_MAX_BODY)
		flat = flat_read(vals, lens, body, len, names, n);
	if (flat == NULL && (err = load_object(&doc, body, len, what, names, n)) != 0)
		return err;
	for (size_t i = 0; i < n && err == 0; i++) {
		if (doc != NULL) {
			json_t *v = json_object_get(doc, names[i]);

			if (!json_is_string(v)) {
				err = tl_error_set(TL_E_INPUT, "%s: \"%s\" must be a string", what, names[i]);
				break;
			}
			vals[i] = json_string_value(v);
			lens[i] = json_string_length(v);
		}
		err = take_member(out, what, names[i], vals[i], lens[i]);
	}
	free(flat);
	json_decref(doc);
	if (err)
		bd_signed_request_free(out);
	return err;
}

int bd_key_request_parse(bd_signed_request *out, const uint8_t *body, size_t len)
{
	static const char *const names[] = { "entry" };

	return parse_signed(out, body, len, "key change", names, 1);
}

int bd_bundle_request_parse(bd_signed_request *out, const uint8_t *body, size_t len)
{
	static const char *const names[] = { "entry", "bundle" };

	return parse_signed(out, body, len, "bundle version", names, 2);
}

int bd_revocation_request_parse(bd_signed_request *out, const uint8_t *body, size_t len)
{
	static const char *const names[] = { "revocation", "entry" };

	return parse_signed(out, body, len, "revocation", names, 2);
}

/* Writes {"<name>":"<text>",...} for up to three members; a NULL name ends the list. */
static int write_members(tl_buf *out, const char *const names[3], const uint8_t *const values[3],
	const size_t lens[3], const char *what)
{
	json_t *doc = json_object();
	char *text = NULL;
	int err = 0;

	for (size_t i = 0; doc != NULL && i < 3 && names[i] != NULL; i++) {
		json_t *v = json_stringn((const char *)values[i], lens[i]);

		if (v == NULL || json_object_set_new(doc, names[i], v) != 0) {
			err = tl_error_set(TL_E_INPUT, "%s: \"%s\" is not UTF-8 text", what, names[i]);
			goto out;
		}
	}
	if (doc == NULL || (text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	err = tl_buf_append_str(out, text);
out:
	free(text);
	json_decref(doc);
	return err;
}

int bd_key_request_write(tl_buf *out, const uint8_t *entry, size_t entry_len)
{
	const char *const names[3] = { "entry", NULL, NULL };
	const uint8_t *const values[3] = { entry, NULL, NULL };
	const size_t lens[3] = { entry_len, 0, 0 };

	return write_members(out, names, values, lens, "key change");
}

int bd_bundle_request_write(tl_buf *out, const uint8_t *entry, size_t entry_len, const uint8_t *bundle,
	size_t bundle_len)
{
	tl_buf b64 = tl_buf_make(MAX_BASE64 + 1);
	int err;

	if (bundle_len > BD_REQUEST_MAX_BUNDLE)
		return tl_error_set(TL_E_INPUT, "bundle larger than %zu bytes", BD_REQUEST_MAX_BUNDLE);
	if ((err = tl_base64_encode(&b64, bundle, bundle_len)) == 0) {
		const char *const names[3] = { "entry", "bundle", NULL };
		const uint8_t *const values[3] = { entry, b64.data, NULL };
		const size_t lens[3] = { entry_len, b64.len, 0 };

		err = write_members(out, names, values, lens, "bundle version");
	}
	tl_buf_free(&b64);
	return err;
}

int bd_revocation_request_write(tl_buf *out, const uint8_t *revocation, size_t revocation_len, const uint8_t *entry,
	size_t entry_len)
{
	const char *const names[3] = { "revocation", "entry", NULL };
	const uint8_t *const values[3] = { revocation, entry, NULL };
	const size_t lens[3] = { revocation_len, entry_len, 0 };

	return write_members(out, names, values, lens, "revocation");
}

void bd_signed_request_free(bd_signed_request *r)
{
	free(r->entry);
	free(r->revocation);
	free(r->bundle);
	memset(r, 0, sizeof(*r));
}
