/*
 * Public keys as JWK members (RFC 7517, RFC 7518 §6, RFC 8037): the one reader (JWK object
 * -> EVP_PKEY) and the one writer (EVP_PKEY -> canonical members) of key material.
 *
 * The writer derives every member from the key itself, never from the input, so one key
 * always gives the same bytes: EC coordinates padded to the field size, RSA integers in
 * their minimal big-endian form, unpadded base64url. The reader accepts exactly those
 * encodings (RFC 7518 requires them), so reading and writing are inverse.
 */
#include "bundle_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

struct curve {
	const char *crv;   /* JWK name (RFC 7518 §6.2.1.1) */
	const char *group; /* OpenSSL group name */
	size_t size;       /* bytes of one coordinate */
};

static const struct curve curves[] = {
	{ "P-256", "prime256v1", 32 },
	{ "P-384", "secp384r1", 48 },
	{ "P-521", "secp521r1", 66 },
};

#define ED25519_SIZE 32
#define RSA_MAX_BYTES (BD_RSA_MAX_BITS / 8)
/* The largest base64url string worth decoding: an RSA modulus at the size limit. */
#define MAX_B64URL_PARAM (RSA_MAX_BYTES * 4 / 3 + 4)

/* JWK members that only a private key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };

static const struct curve *curve_by_crv(const char *crv)
{
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (strcmp(curves[i].crv, crv) == 0)
			return &curves[i];
	return NULL;
}

static const struct curve *curve_by_group(const char *group)
{
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (strcmp(curves[i].group, group) == 0)
			return &curves[i];
	return NULL;
}

const char *bd_jwk__ssl_reason(void)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r ? r : "unknown reason";
}

/* ---- base64url ---- */

static const char b64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64url_append(tl_buf *out, const uint8_t *p, size_t len)
{
	char quad[4];
	size_t need;
	int err;

	if (!tl_size_mul(&need, (len + 2) / 3, 4))
		return tl_error_set(TL_E_INPUT, "base64url input too large");
	if ((err = tl_buf_reserve(out, need)) != 0)
		return err;
	for (size_t i = 0; i < len; i += 3) {
		size_t n = len - i < 3 ? len - i : 3;
		uint32_t v = (uint32_t)p[i] << 16;

		if (n > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		quad[0] = b64url_alphabet[(v >> 18) & 63];
		quad[1] = b64url_alphabet[(v >> 12) & 63];
		quad[2] = b64url_alphabet[(v >> 6) & 63];
		quad[3] = b64url_alphabet[v & 63];
		if ((err = tl_buf_append(out, quad, n + 1)) != 0)
			return err;
	}
	return 0;
}

int bd_jwk__b64url_decode(uint8_t *out, size_t out_cap, size_t *out_len, const char *in, size_t in_len)
{
	char quad[4];
	size_t n = 0, got;
	int err;

	if (in_len % 4 == 1)
		return tl_error_set(TL_E_INPUT, "base64url length %zu is impossible", in_len);
	/* Map each group to standard base64 and let the strict decoder check the pad bits. */
	for (size_t i = 0; i < in_len; i += 4) {
		size_t k = in_len - i < 4 ? in_len - i : 4;

		for (size_t j = 0; j < 4; j++) {
			char ch = j < k ? in[i + j] : '=';

			if (j < k) {
				if (ch == '-')
					ch = '+';
				else if (ch == '_')
					ch = '/';
				else if (ch == '+' || ch == '/' || ch == '=')
					return tl_error_set(TL_E_INPUT, "invalid base64url character '%c' at offset %zu",
						ch, i + j);
			}
			quad[j] = ch;
		}
		if ((err = tl_base64_decode(out + n, out_cap - n, &got, quad, 4)) != 0)
			return tl_error_wrap(err, "base64url at offset %zu", i);
		n += got;
	}
	*out_len = n;
	return 0;
}

/* ---- JSON strings ---- */

/* Appends s as a JSON string (RFC 8785 escaping). */
static int append_json_string(tl_buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	int err = tl_buf_append_u8(out, '"');

	for (const unsigned char *p = (const unsigned char *)s; !err && *p; p++) {
		char esc[7] = { '\\', 0, 0, 0, 0, 0, 0 };
		size_t n = 2;

		switch (*p) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			if (*p >= 0x20) {
				err = tl_buf_append_u8(out, *p);
				continue;
			}
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			n = 6;
		}
		err = tl_buf_append(out, esc, n);
	}
	return err ? err : tl_buf_append_u8(out, '"');
}

/* ---- key checks ---- */

/* RSA rules shared by certificates and JWKs, so that a PEM authority always converts to a
 * JWK that reads back: modulus size within limits, n odd, e odd, 3 <= e < n, and e below
 * 2^31: go-jose reads a JWK's e as int64(e), keeping the low bits of a larger one (another
 * key), and Go's crypto/rsa refuses to verify with an exponent above 2^31-1 (issue 8 §3). */
static int rsa_check(const EVP_PKEY *key)
{
	BIGNUM *n = NULL, *e = NULL;
	int bits, err = 0;

	if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e)) {
		err = tl_error_set(TL_E_INPUT, "RSA key without n or e (%s)", bd_jwk__ssl_reason());
		goto out;
	}
	bits = BN_num_bits(n);
	if (bits < (int)BD_RSA_MIN_BITS || bits > (int)BD_RSA_MAX_BITS)
		err = tl_error_set(TL_E_INPUT, "RSA modulus of %d bits (want %u to %u)", bits,
			BD_RSA_MIN_BITS, BD_RSA_MAX_BITS);
	else if (!BN_is_odd(n))
		err = tl_error_set(TL_E_INPUT, "RSA modulus is even");
	else if (!BN_is_odd(e) || BN_num_bits(e) < 2 || BN_cmp(e, n) >= 0)
		err = tl_error_set(TL_E_INPUT, "RSA exponent must be odd, at least 3 and below the modulus");
	else if (BN_num_bits(e) > 31)
		err = tl_error_set(TL_E_INPUT, "RSA exponent of %d bits: Go reads at most 2^31-1", BN_num_bits(e));
out:
	BN_free(n);
	BN_free(e);
	return err;
}

int bd_jwk__key_check(const EVP_PKEY *key)
{
	char group[64];
	size_t glen = 0;

	if (EVP_PKEY_is_a(key, "EC")) {
		if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen)) {
			ERR_clear_error();
			return tl_error_set(TL_E_INPUT, "EC key without a named curve (explicit parameters are not supported)");
		}
		if (curve_by_group(group) == NULL)
			return tl_error_set(TL_E_INPUT, "unsupported EC curve %s (want P-256, P-384 or P-521)", group);
		return 0;
	}
	if (EVP_PKEY_is_a(key, "RSA"))
		return rsa_check(key);
	if (EVP_PKEY_is_a(key, "ED25519"))
		return 0;
	return tl_error_set(TL_E_INPUT, "unsupported public key type %s (want EC, RSA or Ed25519)",
		EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "?");
}

/* ---- writer ---- */

static int member_name(tl_buf *out, const char *name)
{
	return tl_buf_printf(out, "%s\"%s\":", out->data[out->len - 1] == '{' ? "" : ",", name);
}

static int member_str(tl_buf *out, const char *name, const char *value)
{
	int err = member_name(out, name);

	return err ? err : append_json_string(out, value);
}

static int member_b64url(tl_buf *out, const char *name, const uint8_t *p, size_t len)
{
	int err;

	if ((err = member_name(out, name)) != 0 || (err = tl_buf_append_u8(out, '"')) != 0 ||
	    (err = b64url_append(out, p, len)) != 0)
		return err;
	return tl_buf_append_u8(out, '"');
}

/* A BIGNUM parameter in `size` bytes (0: minimal, RFC 7518 Base64urlUInt). */
static int member_bn(tl_buf *out, const char *name, const EVP_PKEY *key, const char *param, size_t size)
{
	uint8_t buf[RSA_MAX_BYTES + 8];
	BIGNUM *bn = NULL;
	int n, err;

	if (!EVP_PKEY_get_bn_param(key, param, &bn))
		return tl_error_set(TL_E_INTERNAL, "cannot read key parameter %s: %s", param, bd_jwk__ssl_reason());
	if (size == 0)
		size = BN_is_zero(bn) ? 1 : (size_t)BN_num_bytes(bn);
	if (size > sizeof(buf) || (n = BN_bn2binpad(bn, buf, (int)size)) < 0) {
		BN_free(bn);
		return tl_error_set(TL_E_INTERNAL, "key parameter %s does not fit %zu bytes", param, size);
	}
	BN_free(bn);
	err = member_b64url(out, name, buf, (size_t)n);
	return err;
}

int bd_jwk__write(tl_buf *out, const EVP_PKEY *key, const char *use, const char *kid,
	const uint8_t *der, size_t der_len)
{
	const struct curve *cv = NULL;
	char group[64];
	size_t glen = 0;
	int err;

	if ((err = tl_buf_append_u8(out, '{')) != 0)
		return err;
	/* Members in byte order of their names: crv e kid kty n use x x5c y. */
	if (EVP_PKEY_is_a(key, "EC")) {
		if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen) ||
		    (cv = curve_by_group(group)) == NULL)
			return tl_error_set(TL_E_INTERNAL, "EC key without a supported curve");
		if ((err = member_str(out, "crv", cv->crv)) != 0)
			return err;
		if (kid && (err = member_str(out, "kid", kid)) != 0)
			return err;
		if ((err = member_str(out, "kty", "EC")) != 0 || (err = member_str(out, "use", use)) != 0 ||
		    (err = member_bn(out, "x", key, OSSL_PKEY_PARAM_EC_PUB_X, cv->size)) != 0)
			return err;
	} else if (EVP_PKEY_is_a(key, "RSA")) {
		if ((err = member_bn(out, "e", key, OSSL_PKEY_PARAM_RSA_E, 0)) != 0)
			return err;
		if (kid && (err = member_str(out, "kid", kid)) != 0)
			return err;
		if ((err = member_str(out, "kty", "RSA")) != 0 ||
		    (err = member_bn(out, "n", key, OSSL_PKEY_PARAM_RSA_N, 0)) != 0 ||
		    (err = member_str(out, "use", use)) != 0)
			return err;
	} else if (EVP_PKEY_is_a(key, "ED25519")) {
		uint8_t raw[ED25519_SIZE];
		size_t raw_len = sizeof(raw);

		if (!EVP_PKEY_get_raw_public_key(key, raw, &raw_len) || raw_len != sizeof(raw))
			return tl_error_set(TL_E_INTERNAL, "cannot read an Ed25519 public key: %s", bd_jwk__ssl_reason());
		if ((err = member_str(out, "crv", "Ed25519")) != 0)
			return err;
		if (kid && (err = member_str(out, "kid", kid)) != 0)
			return err;
		if ((err = member_str(out, "kty", "OKP")) != 0 || (err = member_str(out, "use", use)) != 0 ||
		    (err = member_b64url(out, "x", raw, raw_len)) != 0)
			return err;
	} else {
		return tl_error_set(TL_E_INTERNAL, "unsupported key type reached the JWK writer");
	}
	if (der) {
		if ((err = member_name(out, "x5c")) != 0 || (err = tl_buf_append_str(out, "[\"")) != 0 ||
		    (err = tl_base64_encode(out, der, der_len)) != 0 || (err = tl_buf_append_str(out, "\"]")) != 0)
			return err;
	}
	if (cv && (err = member_bn(out, "y", key, OSSL_PKEY_PARAM_EC_PUB_Y, cv->size)) != 0)
		return err;
	return tl_buf_append_u8(out, '}');
}

/* ---- reader ---- */

static int get_string(const char **s, size_t *len, const json_t *jwk, const char *name)
{
	const json_t *v = json_object_get(jwk, name);

	if (v == NULL)
		return tl_error_set(TL_E_INPUT, "missing \"%s\"", name);
	if (!json_is_string(v))
		return tl_error_set(TL_E_INPUT, "\"%s\" must be a string", name);
	*s = json_string_value(v);
	*len = json_string_length(v);
	return 0;
}

/* A base64url member of exactly `want` bytes (want 0: 1 to `max` bytes, minimal encoding). */
static int get_b64url(uint8_t *out, size_t *out_len, const json_t *jwk, const char *name, size_t want, size_t max)
{
	const char *s;
	size_t len;
	int err;

	if ((err = get_string(&s, &len, jwk, name)) != 0)
		return err;
	if (want && len != (want * 8 + 5) / 6)
		return tl_error_set(TL_E_INPUT, "\"%s\" must be %zu bytes (%zu base64url characters), found %zu characters",
			name, want, (want * 8 + 5) / 6, len);
	if (len > MAX_B64URL_PARAM)
		return tl_error_set(TL_E_INPUT, "\"%s\" is %zu characters, too long for a supported key", name, len);
	if ((err = bd_jwk__b64url_decode(out, max, out_len, s, len)) != 0)
		return tl_error_wrap(err, "\"%s\"", name);
	if (want && *out_len != want)
		return tl_error_set(TL_E_INPUT, "\"%s\" must be %zu bytes, found %zu", name, want, *out_len);
	if (!want && *out_len == 0)
		return tl_error_set(TL_E_INPUT, "\"%s\" is empty", name);
	if (!want && *out_len > 1 && out[0] == 0)
		return tl_error_set(TL_E_INPUT, "\"%s\" has a leading zero byte (RFC 7518 §2 wants the minimal form)", name);
	return 0;
}

/* Builds a public key from parameters. EC points are checked to lie on the curve
 * (the quick check: the curves are of prime order, so the order check adds nothing). */
static int key_from_params(EVP_PKEY **out, const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY_CTX *check = NULL;
	EVP_PKEY *key = NULL;
	int err = 0;

	if (params == NULL || ctx == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory building a %s key", type);
		goto out;
	}
	if (EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		err = tl_error_set(TL_E_INPUT, "not a valid %s public key (%s)", type, bd_jwk__ssl_reason());
		goto out;
	}
	if (strcmp(type, "EC") == 0) {
		if ((check = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) == NULL) {
			err = tl_error_set(TL_E_NOMEM, "out of memory checking a %s key", type);
			goto out;
		}
		if (EVP_PKEY_public_check_quick(check) != 1) {
			err = tl_error_set(TL_E_INPUT, "not a valid %s public key (%s)", type, bd_jwk__ssl_reason());
			goto out;
		}
	}
	if ((err = bd_jwk__key_check(key)) != 0)
		goto out;
	*out = key;
	key = NULL;
out:
	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return err;
}

static int read_ec(EVP_PKEY **out, const json_t *jwk)
{
	uint8_t point[1 + 2 * 66];
	char shown[BD_BUNDLE__SHOWN];
	const struct curve *cv;
	const char *crv;
	size_t len, xl, yl;
	OSSL_PARAM_BLD *bld = NULL;
	int err;

	if ((err = get_string(&crv, &len, jwk, "crv")) != 0)
		return err;
	if ((cv = curve_by_crv(crv)) == NULL)
		return tl_error_set(TL_E_INPUT, "unsupported EC crv \"%s\" (want P-256, P-384 or P-521)",
			tl_text_printable(shown, sizeof(shown), crv, strlen(crv)));
	point[0] = 0x04; /* uncompressed: 04 || x || y (SEC 1 §2.3.3) */
	if ((err = get_b64url(point + 1, &xl, jwk, "x", cv->size, cv->size)) != 0 ||
	    (err = get_b64url(point + 1 + cv->size, &yl, jwk, "y", cv->size, cv->size)) != 0)
		return err;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, cv->group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * cv->size)) {
		err = tl_error_set(TL_E_NOMEM, "out of memory building an EC key");
		goto out;
	}
	if ((err = key_from_params(out, "EC", bld)) == TL_E_INPUT)
		err = tl_error_set(TL_E_INPUT, "(x, y) is not a point on %s", cv->crv);
out:
	OSSL_PARAM_BLD_free(bld);
	return err;
}

static int read_rsa(EVP_PKEY **out, const json_t *jwk)
{
	uint8_t n[RSA_MAX_BYTES], e[RSA_MAX_BYTES];
	size_t nl, el;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	int err;

	if ((err = get_b64url(n, &nl, jwk, "n", 0, sizeof(n))) != 0 ||
	    (err = get_b64url(e, &el, jwk, "e", 0, sizeof(e))) != 0)
		return err;
	if ((bn_n = BN_bin2bn(n, (int)nl, NULL)) == NULL || (bn_e = BN_bin2bn(e, (int)el, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
		err = tl_error_set(TL_E_NOMEM, "out of memory building an RSA key");
		goto out;
	}
	err = key_from_params(out, "RSA", bld);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	return err;
}

static int read_okp(EVP_PKEY **out, const json_t *jwk)
{
	uint8_t x[ED25519_SIZE];
	char shown[BD_BUNDLE__SHOWN];
	const char *crv;
	size_t len, xl;
	EVP_PKEY *key;
	int err;

	if ((err = get_string(&crv, &len, jwk, "crv")) != 0)
		return err;
	if (strcmp(crv, "Ed25519") != 0)
		return tl_error_set(TL_E_INPUT, "unsupported OKP crv \"%s\" (want Ed25519)",
			tl_text_printable(shown, sizeof(shown), crv, strlen(crv)));
	if ((err = get_b64url(x, &xl, jwk, "x", sizeof(x), sizeof(x))) != 0)
		return err;
	if ((key = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x, xl)) == NULL)
		return tl_error_set(TL_E_INPUT, "not a valid Ed25519 public key (%s)", bd_jwk__ssl_reason());
	*out = key;
	return 0;
}

/* The members read_ec, read_rsa and read_okp read (with kty), in a fixed order. */
static const char *const key_members[] = { "kty", "crv", "x", "y", "n", "e" };

bool bd_jwk__params_fp(tl_hash *out, const json_t *jwk)
{
	static const char context[] = "bundled jwk public key v1";
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;
	bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
		EVP_DigestUpdate(md, context, sizeof(context)) == 1;

	for (size_t i = 0; ok && i < sizeof(key_members) / sizeof(key_members[0]); i++) {
		const json_t *v = json_object_get(jwk, key_members[i]);
		uint8_t head[9] = { 0 };

		/* absent: 0; a string: 1 and its length, then its bytes */
		if (v != NULL && !json_is_string(v)) {
			ok = false;
			break;
		}
		if (v != NULL) {
			head[0] = 1;
			tl_store_u64be(head + 1, json_string_length(v));
		}
		ok = EVP_DigestUpdate(md, head, v != NULL ? sizeof(head) : 1) == 1 &&
			(v == NULL || EVP_DigestUpdate(md, json_string_value(v), json_string_length(v)) == 1);
	}
	ok = ok && EVP_DigestFinal_ex(md, out->b, &n) == 1 && n == TL_HASH_SIZE;
	EVP_MD_CTX_free(md);
	return ok;
}

static int read_key_params(EVP_PKEY **out, const json_t *jwk);

int bd_jwk__read_key(EVP_PKEY **out, const json_t *jwk, const tl_hash *fp)
{
	char *none = NULL;
	size_t none_len = 0;
	int err;

	*out = NULL;
	for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
		if (json_object_get(jwk, private_members[i]) != NULL)
			return tl_error_set(TL_E_INPUT, "holds the private key member \"%s\": a bundle carries public keys only",
				private_members[i]);
	/* Read and checked before: the same members give the same key. */
	if (fp != NULL && bd_bundle__cache_get_key(out, &none, &none_len, fp)) {
		free(none);
		return 0;
	}
	if ((err = read_key_params(out, jwk)) == 0 && fp != NULL)
		bd_bundle__cache_put_key(fp, *out, NULL, 0);
	return err;
}

static int read_key_params(EVP_PKEY **out, const json_t *jwk)
{
	char shown[BD_BUNDLE__SHOWN];
	const char *kty;
	size_t len;
	int err;

	if ((err = get_string(&kty, &len, jwk, "kty")) != 0)
		return err;
	if (strcmp(kty, "EC") == 0)
		return read_ec(out, jwk);
	if (strcmp(kty, "RSA") == 0)
		return read_rsa(out, jwk);
	if (strcmp(kty, "OKP") == 0)
		return read_okp(out, jwk);
	return tl_error_set(TL_E_INPUT, "unsupported kty \"%s\" (want EC, RSA or OKP)",
		tl_text_printable(shown, sizeof(shown), kty, strlen(kty)));
}
