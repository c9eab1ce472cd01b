/*
 * The JWK members go-jose reads and bundled does not keep (issue 8 §3). go-spiffe reads
 * every key of a SPIFFE bundle with go-jose's JSONWebKey, which decodes its members
 * strictly: a member bundled drops from the canonical form (x5t, x5t#S256, x5u, alg, an
 * unused key parameter) still makes go-jose, and so every Go consumer, refuse the bundle
 * when it is of the wrong JSON type or value. The JSON reader (bundle_json.c) calls this
 * for every JWK, and for x509-svid keys again with the certificate, whose thumbprints
 * x5t and x5t#S256 must then match; it also refuses top-level members that Go's
 * encoding/json, which matches member names without regard to case, would read as
 * "keys", "spiffe_sequence" or "spiffe_refresh_hint". Below bundle_json.c; calls only
 * bundle_jwk.c and bundle_url.c.
 */
#include "bundle_internal.h"

#include <string.h>

#include <openssl/evp.h>

/* go-jose's rawJSONWebKey: members that must be JSON strings when present. */
static const char *const string_members[] = { "use", "kty", "kid", "crv", "alg", "x5u", "x5t", "x5t#S256" };
/* ... and its byteBuffer members: base64url strings (trailing '=' allowed). */
static const char *const bytes_members[] = { "k", "x", "y", "n", "e", "d", "p", "q", "dp", "dq", "qi" };

#define MAX_THUMBPRINT_B64 88 /* 64 bytes (a hex SHA-256) as base64url */
#define MAX_BYTES_MEMBER 8192  /* characters: an RSA modulus of 16384 bits takes 2731 */

static int check_bytes_member(const json_t *v, const char *name)
{
	uint8_t scratch[MAX_BYTES_MEMBER / 4 * 3];
	const char *s;
	size_t len, out_len;
	int err;

	if (!json_is_string(v))
		return tl_error_set(TL_E_INPUT, "\"%s\" must be a string", name);
	s = json_string_value(v);
	len = json_string_length(v);
	while (len > 0 && s[len - 1] == '=')
		len--;
	if (len > MAX_BYTES_MEMBER)
		return tl_error_set(TL_E_INPUT, "\"%s\" is %zu characters, too long", name, len);
	if ((err = bd_jwk__b64url_decode(scratch, sizeof(scratch), &out_len, s, len)) != 0)
		return tl_error_wrap(err, "\"%s\"", name);
	return 0;
}

static int hex_value(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* x5t (SHA-1) or x5t#S256 (SHA-256): unpadded base64url of the digest, or of its hex form
 * (go-jose takes both: RFC 7517 §4.8 is read both ways). *len is 0 for an empty member. */
static int thumbprint(uint8_t *out, size_t *len, const json_t *v, const char *name, size_t size)
{
	uint8_t raw[MAX_THUMBPRINT_B64];
	size_t n = 0;
	int err;

	*len = 0;
	if (json_string_length(v) == 0)
		return 0;
	if (json_string_length(v) > MAX_THUMBPRINT_B64 ||
	    (err = bd_jwk__b64url_decode(raw, sizeof(raw), &n, json_string_value(v), json_string_length(v))) != 0)
		return tl_error_set(TL_E_INPUT, "\"%s\" is not unpadded base64url", name);
	if (n == 2 * size) {
		for (size_t i = 0; i < size; i++) {
			int hi = hex_value(raw[2 * i]), lo = hex_value(raw[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return tl_error_set(TL_E_INPUT, "\"%s\" of %zu bytes is not hex", name, n);
			out[i] = (uint8_t)(hi << 4 | lo);
		}
		n = size;
	} else if (n != size) {
		return tl_error_set(TL_E_INPUT, "\"%s\" is %zu bytes, want %zu (a %s digest)", name, n, size,
			size == 20 ? "SHA-1" : "SHA-256");
	} else {
		memcpy(out, raw, n);
	}
	*len = n;
	return 0;
}

static int check_thumbprint(const json_t *jwk, const char *name, const EVP_MD *md, const uint8_t *der, size_t der_len)
{
	const json_t *v = json_object_get(jwk, name);
	uint8_t want[EVP_MAX_MD_SIZE], got[32];
	unsigned want_len = 0;
	size_t len;
	int err;

	if (v == NULL)
		return 0;
	if ((err = thumbprint(got, &len, v, name, (size_t)EVP_MD_get_size(md))) != 0 || len == 0 || der == NULL)
		return err;
	if (EVP_Digest(der, der_len, want, &want_len, md, NULL) != 1)
		return tl_error_set(TL_E_INTERNAL, "cannot hash the certificate");
	if (want_len != len || memcmp(want, got, len) != 0)
		return tl_error_set(TL_E_INPUT, "\"%s\" is not the thumbprint of the x5c certificate", name);
	return 0;
}

int bd_jose__check_members(const json_t *jwk, const uint8_t *der, size_t der_len)
{
	const json_t *v;
	int err;

	for (size_t i = 0; i < sizeof(string_members) / sizeof(string_members[0]); i++)
		if ((v = json_object_get(jwk, string_members[i])) != NULL && !json_is_string(v))
			return tl_error_set(TL_E_INPUT, "\"%s\" must be a string", string_members[i]);
	for (size_t i = 0; i < sizeof(bytes_members) / sizeof(bytes_members[0]); i++)
		if ((v = json_object_get(jwk, bytes_members[i])) != NULL &&
		    (err = check_bytes_member(v, bytes_members[i])) != 0)
			return err;
	if ((v = json_object_get(jwk, "x5u")) != NULL) {
		const char *host;
		size_t host_len;

		if ((err = bd_url__check(&host, &host_len, json_string_value(v), json_string_length(v))) != 0)
			return tl_error_wrap(err, "\"x5u\"");
	}
	if ((err = check_thumbprint(jwk, "x5t", EVP_sha1(), der, der_len)) != 0 ||
	    (err = check_thumbprint(jwk, "x5t#S256", EVP_sha256(), der, der_len)) != 0)
		return err;
	return 0;
}

/* Go's encoding/json folds a name for matching: ASCII letters to upper case, and the two
 * other runes whose upper case is ASCII, U+017F (long s) and U+0131 (dotless i). */
static bool go_fold_equal(const char *name, size_t len, const char *known)
{
	size_t i = 0;

	for (; *known != '\0'; known++) {
		char want = (char)(*known >= 'a' && *known <= 'z' ? *known - 'a' + 'A' : *known);
		char got;

		if (i >= len)
			return false;
		if (i + 1 < len && (uint8_t)name[i] == 0xc5 && (uint8_t)name[i + 1] == 0xbf) {
			got = 'S';
			i += 2;
		} else if (i + 1 < len && (uint8_t)name[i] == 0xc4 && (uint8_t)name[i + 1] == 0xb1) {
			got = 'I';
			i += 2;
		} else {
			got = name[i++];
			if (got >= 'a' && got <= 'z')
				got = (char)(got - 'a' + 'A');
		}
		if (got != want)
			return false;
	}
	return i == len;
}

int bd_jose__check_top_members(json_t *root)
{
	static const char *const known[] = { "keys", "spiffe_sequence", "spiffe_refresh_hint" };
	char shown[BD_BUNDLE__SHOWN];
	const char *name;
	json_t *v;

	json_object_foreach(root, name, v) {
		size_t len = strlen(name);

		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (strcmp(name, known[k]) != 0 && go_fold_equal(name, len, known[k]))
				return tl_error_set(TL_E_INPUT, "member \"%s\" is \"%s\" to Go's JSON decoder, which ignores "
					"case: the bundle would read differently there",
					tl_text_printable(shown, sizeof(shown), name, len), known[k]);
	}
	return 0;
}
