/*
 * SPIFFE bundle JSON (SPIFFE Trust Domain and Bundle §4, X509-SVID §6, JWT-SVID §6,
 * WIT-SVID §6): the strict reader, the canonical writer, and the plain JWKS writer.
 *
 * jansson parses (duplicate members rejected, nesting bounded by jansson's depth limit).
 * Numbers are decoded as reals so that a spiffe_sequence above INT64_MAX still parses;
 * the two numeric members are then read exactly from their raw tokens (top_member_token),
 * which is how a sequence up to 2^64-1 is accepted and a negative, fractional or larger
 * one is rejected with its text.
 */
#include "bundle_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* ---- raw tokens of top-level members ---- */

static bool json_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* s[i] is '"': the index after the closing quote, or len if there is none. */
static size_t skip_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return len;
}

/* The index after the value starting at s[i]. Iterative, so nesting costs no stack. */
static size_t skip_value(const char *s, size_t len, size_t i)
{
	size_t depth = 0;

	if (i >= len)
		return len;
	if (s[i] == '"')
		return skip_string(s, len, i);
	if (s[i] != '{' && s[i] != '[') {
		while (i < len && !json_ws(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']')
			i++;
		return i;
	}
	while (i < len) {
		char ch = s[i];

		if (ch == '"') {
			i = skip_string(s, len, i);
			continue;
		}
		if (ch == '{' || ch == '[')
			depth++;
		else if (ch == '}' || ch == ']')
			if (--depth == 0)
				return i + 1;
		i++;
	}
	return len;
}

static int hex4(unsigned *out, const char *s)
{
	unsigned v = 0;

	for (int k = 0; k < 4; k++) {
		char ch = s[k];

		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v |= (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			v |= (unsigned)(ch - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Whether the raw string body s[0..len) (between the quotes) decodes to the ASCII `name`. */
static bool key_is(const char *s, size_t len, const char *name)
{
	size_t i = 0, j = 0, nlen = strlen(name);

	while (i < len) {
		unsigned ch = (unsigned char)s[i++];

		if (ch == '\\') {
			if (i >= len)
				return false;
			switch (s[i++]) {
			case 'u':
				if (i + 4 > len || hex4(&ch, s + i) != 0)
					return false;
				i += 4;
				break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			default: ch = (unsigned char)s[i - 1]; break;
			}
		}
		if (j >= nlen || ch != (unsigned char)name[j++])
			return false;
	}
	return j == nlen;
}

/* Finds the raw token of the top-level member `name` of a document jansson accepted as an
 * object. TL_E_NOTFOUND if the member is absent. */
static int top_member_token(const char **tok, size_t *tok_len, const char *s, size_t len, const char *name)
{
	size_t i = 0;

	while (i < len && json_ws(s[i]))
		i++;
	if (i >= len || s[i] != '{')
		return tl_error_set(TL_E_INTERNAL, "top-level object not found");
	i++;
	for (;;) {
		size_t kstart, kend, vstart, vend;

		while (i < len && (json_ws(s[i]) || s[i] == ','))
			i++;
		if (i >= len || s[i] != '"')
			return tl_error_set(TL_E_NOTFOUND, "no member %s", name);
		kstart = i + 1;
		i = skip_string(s, len, i);
		kend = i - 1;
		while (i < len && (json_ws(s[i]) || s[i] == ':'))
			i++;
		vstart = i;
		vend = skip_value(s, len, i);
		if (vend <= vstart || kend < kstart)
			return tl_error_set(TL_E_INTERNAL, "cannot walk the top-level object");
		if (key_is(s + kstart, kend - kstart, name)) {
			*tok = s + vstart;
			*tok_len = vend - vstart;
			return 0;
		}
		i = vend;
	}
}

/* A top-level unsigned integer member: exactly digits (no sign, fraction or exponent). */
static int read_uint_member(bool *present, uint64_t *out, const json_t *root, const uint8_t *data, size_t len,
	const char *name, uint64_t max)
{
	const json_t *v = json_object_get(root, name);
	const char *tok = NULL;
	size_t tok_len = 0;
	uint64_t n;
	int err;

	*present = false;
	if (v == NULL)
		return 0;
	if (!json_is_number(v))
		return tl_error_set(TL_E_INPUT, "%s must be an unsigned integer, found a JSON %s", name,
			json_is_string(v) ? "string" : json_is_null(v) ? "null" : json_is_boolean(v) ? "boolean" :
			json_is_array(v) ? "array" : "object");
	if ((err = top_member_token(&tok, &tok_len, (const char *)data, len, name)) != 0)
		return err == TL_E_NOTFOUND ? tl_error_set(TL_E_INTERNAL, "%s parsed but not found", name) : err;
	if (tok_len > 0 && tok[0] == '-')
		return tl_error_set(TL_E_INPUT, "%s must not be negative, found %.*s", name, (int)(tok_len > 40 ? 40 : tok_len), tok);
	if (memchr(tok, '.', tok_len) || memchr(tok, 'e', tok_len) || memchr(tok, 'E', tok_len))
		return tl_error_set(TL_E_INPUT, "%s must be an integer, found %.*s", name, (int)(tok_len > 40 ? 40 : tok_len), tok);
	if (tl_parse_u64(&n, tok, tok_len) != 0 || n > max)
		return tl_error_set(TL_E_INPUT, "%s must be at most %llu, found %.*s", name, (unsigned long long)max,
			(int)(tok_len > 40 ? 40 : tok_len), tok);
	*out = n;
	*present = true;
	return 0;
}

/* ---- entries ---- */

static int kind_of(bd_authority_kind *kind, const char *use)
{
	if (strcmp(use, "x509-svid") == 0)
		*kind = BD_AUTHORITY_X509;
	else if (strcmp(use, "jwt-svid") == 0)
		*kind = BD_AUTHORITY_JWT;
	else if (strcmp(use, "wit-svid") == 0)
		*kind = BD_AUTHORITY_WIT;
	else
		return -1;
	return 0;
}

static int x509_entry(bd_authority **out, const json_t *jwk, EVP_PKEY *key)
{
	const json_t *x5c = json_object_get(jwk, "x5c"), *first;
	uint8_t *der = NULL;
	size_t der_len = 0, n;
	const char *s;
	int err = 0;

	if (x5c == NULL)
		return tl_error_set(TL_E_INPUT, "x5c must hold exactly one certificate, found none");
	if (!json_is_array(x5c))
		return tl_error_set(TL_E_INPUT, "x5c must be an array");
	if ((n = json_array_size(x5c)) != 1)
		return tl_error_set(TL_E_INPUT, "x5c must hold exactly one certificate, found %zu", n);
	first = json_array_get(x5c, 0);
	if (!json_is_string(first))
		return tl_error_set(TL_E_INPUT, "x5c[0] must be a string");
	s = json_string_value(first);
	n = json_string_length(first);
	if (n > (BD_MAX_CERT_SIZE + 2) / 3 * 4)
		return tl_error_set(TL_E_INPUT, "x5c[0] is %zu characters, over the certificate limit of %u bytes", n,
			BD_MAX_CERT_SIZE);
	if ((der = malloc(BD_MAX_CERT_SIZE)) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((err = tl_base64_decode(der, BD_MAX_CERT_SIZE, &der_len, s, n)) != 0) {
		err = tl_error_wrap(err, "x5c[0]");
		goto out;
	}
	if ((err = bd_bundle__authority_from_der(out, der, der_len)) != 0) {
		err = tl_error_wrap(err, "x5c[0]");
		goto out;
	}
	if (EVP_PKEY_eq((*out)->key, key) != 1) {
		bd_bundle__authority_free(*out);
		*out = NULL;
		err = tl_error_set(TL_E_INPUT, "the JWK's key is not the public key of the x5c certificate");
	}
out:
	free(der);
	return err;
}

/* Reads keys[i] into an authority. `plain`: a plain JWKS, whose keys are JWT keys. */
static int read_entry(bd_bundle *b, const json_t *jwk, size_t i, bool plain)
{
	bd_authority_kind kind = BD_AUTHORITY_JWT;
	const json_t *use, *kid;
	bd_authority *a = NULL;
	EVP_PKEY *key = NULL;
	char label[64], shown[BD_BUNDLE__SHOWN];
	tl_hash key_fp;
	bool has_fp;
	int err = 0;

	if (!json_is_object(jwk))
		return tl_error_set(TL_E_INPUT, "keys[%zu]: must be a JSON object", i);
	if (json_object_size(jwk) > BD_MAX_JWK_MEMBERS)
		return tl_error_set(TL_E_INPUT, "keys[%zu]: more than %u members", i, BD_MAX_JWK_MEMBERS);
	use = json_object_get(jwk, "use");
	if (use == NULL && !plain)
		/* SPIFFE Trust Domain and Bundle §4.2.2 says to skip such a key; SPIRE rejects the
		 * bundle, and so do we: a silently skipped authority is a silent outage. */
		return tl_error_set(TL_E_INPUT, "keys[%zu]: missing \"use\" (only a plain JWKS, where no key has "
			"\"use\", may omit it)", i);
	if (use != NULL) {
		if (!json_is_string(use))
			return tl_error_set(TL_E_INPUT, "keys[%zu]: \"use\" must be a string", i);
		if (kind_of(&kind, json_string_value(use)) != 0)
			return tl_error_set(TL_E_INPUT, "keys[%zu]: unsupported use \"%s\" (want x509-svid, jwt-svid or wit-svid)",
				i, tl_text_printable(shown, sizeof(shown), json_string_value(use), json_string_length(use)));
	}
	bd_bundle__origin_label(label, sizeof(label), b->format, i, kind);
	kid = json_object_get(jwk, "kid");
	if (kid != NULL && !json_is_string(kid))
		return tl_error_set(TL_E_INPUT, "%s: \"kid\" must be a string", label);
	has_fp = bd_jwk__params_fp(&key_fp, jwk);
	if ((err = bd_jwk__read_key(&key, jwk, has_fp ? &key_fp : NULL)) != 0)
		return tl_error_wrap(err, "%s", label);
	if (kind == BD_AUTHORITY_X509) {
		err = x509_entry(&a, jwk, key);
	} else {
		size_t kid_len = kid ? json_string_length(kid) : 0;

		if (json_object_get(jwk, "x5c") != NULL) {
			err = tl_error_set(TL_E_INPUT, "x5c is only allowed on x509-svid keys");
		} else if (kid == NULL || kid_len == 0) {
			err = plain ? tl_error_set(TL_E_INPUT, "no \"use\" and no \"kid\": a JWKS without \"use\" is read as a "
						"JWT bundle, whose keys need a kid")
				    : tl_error_set(TL_E_INPUT, "missing \"kid\"");
		} else if (kid_len > BD_MAX_KID_SIZE) {
			err = tl_error_set(TL_E_INPUT, "kid of %zu bytes, over the limit of %u", kid_len, BD_MAX_KID_SIZE);
		} else {
			err = bd_bundle__authority_from_key(&a, kind, json_string_value(kid), key, has_fp ? &key_fp : NULL);
			key = NULL; /* taken on success and on failure */
		}
	}
	/* What go-jose reads of the JWK must hold too, though the canonical form drops it. */
	if (err == 0 && (err = bd_jose__check_members(jwk, a->der, a->der_len)) != 0) {
		bd_bundle__authority_free(a);
		a = NULL;
	}
	if (err) {
		err = tl_error_wrap(err, "%s", label);
		goto out;
	}
	a->origin = i;
	err = bd_bundle__push(b, a);
out:
	EVP_PKEY_free(key);
	return err;
}

int bd_bundle_parse_json(bd_bundle **out, const uint8_t *data, size_t len, unsigned flags, bd_bundle_report *report)
{
	json_error_t jerr;
	json_t *root = NULL;
	const json_t *keys;
	bd_bundle *b = NULL;
	bool plain = false, has;
	uint64_t v;
	size_t n;
	int err = 0;

	*out = NULL;
	if ((err = bd_bundle__check_input(data, len, flags)) != 0)
		return err;
	root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
	if (root == NULL)
		return tl_error_set(TL_E_INPUT, "bundle is not valid JSON: line %d column %d: %s", jerr.line, jerr.column,
			jerr.text);
	if (!json_is_object(root)) {
		err = tl_error_set(TL_E_INPUT, "bundle is not a JSON object");
		goto out;
	}
	if ((err = bd_jose__check_top_members(root)) != 0)
		goto out;
	if ((err = bd_bundle_new(&b)) != 0)
		goto out;
	/* SPIFFE Trust Domain and Bundle §4.1.3: keys MUST be present; [] trusts nothing. */
	if ((keys = json_object_get(root, "keys")) == NULL) {
		err = tl_error_set(TL_E_INPUT, "bundle has no \"keys\" member");
		goto out;
	}
	if (!json_is_array(keys)) {
		err = tl_error_set(TL_E_INPUT, "\"keys\" must be an array");
		goto out;
	}
	if ((n = json_array_size(keys)) > BD_MAX_AUTHORITIES) {
		err = tl_error_set(TL_E_INPUT, "%zu keys, over the limit of %u authorities", n, BD_MAX_AUTHORITIES);
		goto out;
	}
	if ((err = read_uint_member(&has, &v, root, data, len, "spiffe_sequence", UINT64_MAX)) != 0)
		goto out;
	if (has)
		bd_bundle_set_sequence(b, v);
	if ((err = read_uint_member(&has, &v, root, data, len, "spiffe_refresh_hint", BD_MAX_REFRESH_HINT)) != 0)
		goto out;
	if (has && (err = bd_bundle_set_refresh_hint(b, v)) != 0)
		goto out;
	/* A JWKS where no key has "use" and nothing SPIFFE-specific is a JWT bundle, as the
	 * Workload API serves it and go-spiffe's jwtbundle reads it. */
	plain = n > 0 && !b->has_sequence && !b->has_refresh_hint;
	for (size_t i = 0; plain && i < n; i++) {
		const json_t *k = json_array_get(keys, i);

		if (!json_is_object(k) || json_object_get(k, "use") != NULL)
			plain = false;
	}
	b->format = plain ? BD_FORMAT_JWKS : BD_FORMAT_SPIFFE;
	for (size_t i = 0; i < n; i++)
		if ((err = read_entry(b, json_array_get(keys, i), i, plain)) != 0)
			goto out;
	if ((err = bd_bundle__parse_done(b, report)) != 0)
		goto out;
	*out = b;
	b = NULL;
out:
	bd_bundle_free(b);
	json_decref(root);
	return err;
}

/* ---- writers ---- */

/* One JWK per line between a fixed head and tail; lines of the authorities that `take`. */
static int write_lines(tl_buf *out, const bd_bundle *b, bool (*take)(const bd_authority *), const char *tail)
{
	size_t total = strlen("{\"keys\":[\n") + strlen(tail), start = out->len, last = SIZE_MAX;
	int err;

	for (size_t i = 0; i < b->n; i++)
		if (take(b->auth[i])) {
			total += b->auth[i]->jwk_len + 2;
			last = i;
		}
	if (total > BD_MAX_BUNDLE_SIZE)
		return tl_error_set(TL_E_INPUT, "bundle would be %zu bytes, over the limit of %u", total, BD_MAX_BUNDLE_SIZE);
	if ((err = tl_buf_reserve(out, total)) != 0 || (err = tl_buf_append_str(out, "{\"keys\":[\n")) != 0)
		goto out;
	for (size_t i = 0; i < b->n; i++) {
		if (!take(b->auth[i]))
			continue;
		if ((err = tl_buf_append(out, b->auth[i]->jwk, b->auth[i]->jwk_len)) != 0 ||
		    (err = tl_buf_append_str(out, i == last ? "\n" : ",\n")) != 0)
			goto out;
	}
	err = tl_buf_append_str(out, tail);
out:
	if (err)
		tl_buf_truncate(out, start);
	return err;
}

static bool take_all(const bd_authority *a)
{
	(void)a;
	return true;
}

static bool take_jwt(const bd_authority *a)
{
	return a->kind == BD_AUTHORITY_JWT;
}

int bd_bundle_write_canonical(tl_buf *out, const bd_bundle *b)
{
	char tail[96];
	size_t n = 0;

	/* Members in byte order: keys, spiffe_refresh_hint, spiffe_sequence. */
	n += (size_t)snprintf(tail + n, sizeof(tail) - n, "]");
	if (b->has_refresh_hint)
		n += (size_t)snprintf(tail + n, sizeof(tail) - n, ",\"spiffe_refresh_hint\":%llu",
			(unsigned long long)b->refresh_hint);
	if (b->has_sequence)
		n += (size_t)snprintf(tail + n, sizeof(tail) - n, ",\"spiffe_sequence\":%llu",
			(unsigned long long)b->sequence);
	snprintf(tail + n, sizeof(tail) - n, "}\n");
	return write_lines(out, b, take_all, tail);
}

int bd_bundle_write_jwks(tl_buf *out, const bd_bundle *b)
{
	return write_lines(out, b, take_jwt, "]}\n");
}
