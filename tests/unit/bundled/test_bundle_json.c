/*
 * The SPIFFE JSON reader: one negative case per rejection rule (each checked for the exact
 * entry and reason), the cases it accepts on purpose, the raw-token handling of
 * spiffe_sequence up to 2^64-1, plain JWKS, and the public go-spiffe / SPIRE / py-spiffe
 * vectors when the research data is present.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/bundle.h"
#include "testbundle.h"
#include "testutil.h"

#define VEC "tests/vectors/bundle/"

static json_t *load_json(const char *name)
{
	char rel[256];
	json_error_t jerr;
	json_t *j;

	snprintf(rel, sizeof(rel), VEC "%s", name);
	j = json_load_file(tu_source_path(rel), 0, &jerr);
	ck_assert_msg(j != NULL, "cannot read %s: %s", rel, jerr.text);
	return j;
}

/* A JWK vector with use (and kid) set. */
static json_t *key(const char *file, const char *use, const char *kid)
{
	json_t *k = load_json(file);

	if (use)
		json_object_set_new(k, "use", json_string(use));
	if (kid)
		json_object_set_new(k, "kid", json_string(kid));
	return k;
}

/* keys[0] x509 P-256 CA, [1] jwt P-256 "a", [2] wit P-384 "w", [3] jwt RSA "r",
 * [4] jwt Ed25519 "e", [5] x509 RSA CA; sequence 7. */
static json_t *base_doc(void)
{
	json_t *root = json_object(), *keys = json_array();

	json_array_append_new(keys, load_json("x509-ca-p256.json"));
	json_array_append_new(keys, key("jwk-p256.json", "jwt-svid", "a"));
	json_array_append_new(keys, key("jwk-p384.json", "wit-svid", "w"));
	json_array_append_new(keys, key("jwk-rsa.json", "jwt-svid", "r"));
	json_array_append_new(keys, key("jwk-ed25519.json", "jwt-svid", "e"));
	json_array_append_new(keys, load_json("x509-ca-rsa.json"));
	json_object_set_new(root, "keys", keys);
	json_object_set_new(root, "spiffe_sequence", json_integer(7));
	return root;
}

/* Parses a JSON value; NULL for invalid (the tests only pass valid JSON). */
static json_t *value(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);

	ck_assert_msg(v != NULL, "bad test JSON %s", text);
	return v;
}

static int parse_json_value(bd_bundle **b, const json_t *root)
{
	char *doc = json_dumps(root, JSON_COMPACT);
	int err = bd_bundle_parse_json(b, (const uint8_t *)doc, strlen(doc), 0, NULL);

	free(doc);
	return err;
}

/* b is read after the parse call has set it (a failed parse leaves NULL). */
static void expect_error(int err, bd_bundle **b, const char *want, const char *what)
{
	ck_assert_msg(err == TL_E_INPUT, "%s: accepted, want \"%s\"", what, want);
	ck_assert_ptr_null(*b);
	ck_assert_msg(strstr(tl_error_message(), want) != NULL, "%s: got \"%s\", want \"%s\"", what,
		tl_error_message(), want);
}

/* One edit of the base document: set (or delete, json NULL) a member of keys[index], or of
 * the top-level object for index -1. want NULL: still accepted, same canonical bytes. */
struct edit {
	int index;
	const char *member;
	const char *json;
	const char *want;
};

static const struct edit edits[] = {
	/* the document */
	{ -1, "keys", NULL, "bundle has no \"keys\" member" },
	{ -1, "keys", "{}", "\"keys\" must be an array" },
	{ -1, "spiffe_sequence", "\"7\"", "spiffe_sequence must be an unsigned integer, found a JSON string" },
	{ -1, "spiffe_sequence", "null", "found a JSON null" },
	{ -1, "spiffe_refresh_hint", "true", "spiffe_refresh_hint must be an unsigned integer, found a JSON boolean" },
	{ -1, "spiffe_refresh_hint", "[1]", "found a JSON array" },
	/* use */
	{ 1, "use", NULL, "keys[1]: missing \"use\"" },
	{ 1, "use", "\"bad stuff\"", "keys[1]: unsupported use \"bad stuff\"" },
	{ 1, "use", "\"JWT-SVID\"", "keys[1]: unsupported use \"JWT-SVID\"" },
	{ 1, "use", "\"sig\"", "keys[1]: unsupported use \"sig\"" },
	{ 1, "use", "1", "keys[1]: \"use\" must be a string" },
	{ 1, "use", "\"a\\nb\"", "keys[1]: unsupported use \"a\\x0ab\"" },
	/* kid */
	{ 1, "kid", NULL, "keys[1] (jwt-svid): missing \"kid\"" },
	{ 1, "kid", "\"\"", "keys[1] (jwt-svid): missing \"kid\"" },
	{ 1, "kid", "7", "keys[1] (jwt-svid): \"kid\" must be a string" },
	{ 2, "kid", NULL, "keys[2] (wit-svid): missing \"kid\"" },
	{ 1, "kid", "\"w\"", "keys[2] (wit-svid): kid \"w\" is already used by keys[1] (jwt-svid)" },
	{ 4, "kid", "\"a\"", "keys[4] (jwt-svid): kid \"a\" is already used by keys[1] (jwt-svid)" },
	{ 0, "kid", "5", "keys[0] (x509-svid): \"kid\" must be a string" },
	/* kty and key members */
	{ 1, "kty", NULL, "keys[1] (jwt-svid): missing \"kty\"" },
	{ 1, "kty", "\"oct\"", "keys[1] (jwt-svid): unsupported kty \"oct\"" },
	{ 1, "kty", "\"RSA\"", "keys[1] (jwt-svid): missing \"n\"" },
	{ 1, "kty", "3", "keys[1] (jwt-svid): \"kty\" must be a string" },
	{ 1, "d", "\"AAAA\"", "keys[1] (jwt-svid): holds the private key member \"d\"" },
	{ 3, "p", "\"AAAA\"", "keys[3] (jwt-svid): holds the private key member \"p\"" },
	{ 0, "d", "\"AAAA\"", "keys[0] (x509-svid): holds the private key member \"d\"" },
	{ 1, "crv", NULL, "keys[1] (jwt-svid): missing \"crv\"" },
	{ 1, "crv", "\"P-192\"", "keys[1] (jwt-svid): unsupported EC crv \"P-192\"" },
	{ 1, "crv", "\"secp256k1\"", "unsupported EC crv \"secp256k1\"" },
	{ 1, "crv", "\"P-384\"", "keys[1] (jwt-svid): \"x\" must be 48 bytes" },
	{ 1, "x", NULL, "keys[1] (jwt-svid): missing \"x\"" },
	{ 1, "y", NULL, "keys[1] (jwt-svid): missing \"y\"" },
	{ 1, "x", "1", "keys[1] (jwt-svid): \"x\" must be a string" },
	{ 1, "x", "\"AAAA\"", "keys[1] (jwt-svid): \"x\" must be 32 bytes (43 base64url characters), found 4" },
	{ 1, "x", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+A\"", "invalid base64url character '+'" },
	{ 1, "x", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"", "invalid base64url character '='" },
	{ 1, "x", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB\"", "non-zero padding bits" },
	{ 1, "x", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"", "keys[1] (jwt-svid): (x, y) is not a point on P-256" },
	{ 3, "n", "\"AQAB\"", "keys[3] (jwt-svid): RSA modulus of 17 bits" },
	{ 3, "n", "\"\"", "keys[3] (jwt-svid): \"n\" is empty" },
	{ 3, "e", "\"AQAA\"", "keys[3] (jwt-svid): RSA exponent must be odd" },
	{ 3, "e", "\"AQ\"", "keys[3] (jwt-svid): RSA exponent must be odd, at least 3" },
	{ 3, "e", "\"AAEAAQ\"", "keys[3] (jwt-svid): \"e\" has a leading zero byte" },
	{ 3, "e", NULL, "keys[3] (jwt-svid): missing \"e\"" },
	{ 4, "crv", "\"Ed448\"", "keys[4] (jwt-svid): unsupported OKP crv \"Ed448\"" },
	{ 4, "crv", "\"X25519\"", "unsupported OKP crv \"X25519\"" },
	{ 4, "x", "\"AAAA\"", "keys[4] (jwt-svid): \"x\" must be 32 bytes" },
	{ 1, "x5c", "[]", "keys[1] (jwt-svid): x5c is only allowed on x509-svid keys" },
	/* x509-svid */
	{ 0, "x5c", NULL, "keys[0] (x509-svid): x5c must hold exactly one certificate, found none" },
	{ 0, "x5c", "[]", "keys[0] (x509-svid): x5c must hold exactly one certificate, found 0" },
	{ 0, "x5c", "\"MIIB\"", "keys[0] (x509-svid): x5c must be an array" },
	{ 0, "x5c", "[1]", "keys[0] (x509-svid): x5c[0] must be a string" },
	{ 0, "x5c", "[\"AAAA\"]", "keys[0] (x509-svid): x5c[0]: certificate does not parse" },
	{ 0, "x5c", "[\"not base64\"]", "keys[0] (x509-svid): x5c[0]: " },
	{ 0, "x5c", "[\"\"]", "keys[0] (x509-svid): x5c[0]: empty certificate" },
	{ 0, "x", NULL, "keys[0] (x509-svid): missing \"x\"" },
	{ 0, "kty", "\"RSA\"", "keys[0] (x509-svid): missing \"n\"" },
	{ 0, "use", "\"jwt-svid\"", "keys[0] (jwt-svid): x5c is only allowed on x509-svid keys" },
	/* accepted: unknown members are ignored, and dropped from the canonical form */
	{ 1, "alg", "\"ES256\"", NULL },
	{ 1, "key_ops", "[\"verify\"]", NULL },
	{ 0, "kid", "\"a-kid-on-an-x509-key\"", NULL },
	/* go-jose reads x5t#S256 (issue 8 §3): it must be a SHA-256 digest, of the x5c certificate. */
	{ 0, "x5t#S256", "\"abc\"", "keys[0] (x509-svid): \"x5t#S256\" is 2 bytes, want 32 (a SHA-256 digest)" },
	{ 0, "x5t#S256", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"", "\"x5t#S256\" is not the thumbprint of the x5c certificate" },
	{ 0, "x5t", "\"\"", NULL }, /* empty: go-jose skips it */
	{ 0, "x5u", "\"http://[::1\"", "\"x5u\": URL host lacks its closing ']'" },
	{ 0, "x5u", "\"http://exa mple.org/\"", "\"x5u\": invalid character in URL host" },
	{ 0, "x5u", "\"http://example.org:80a/\"", "\"x5u\": invalid port in URL" },
	{ 0, "x5u", "\"http://user name@example.org/\"", "\"x5u\": invalid userinfo in URL" },
	{ 0, "x5u", "\"1a:b\"", "\"x5u\": first path segment in URL holds a colon" },
	{ 0, "x5u", "\"://x\"", "\"x5u\": URL without a scheme before ':'" },
	{ 0, "x5u", "\"http://x/#%zz\"", "\"x5u\": invalid URL escape at offset 10" },
	{ 0, "x5u", "\"http://[::1]:80/x?y#z\"", NULL }, /* what Go reads is kept out of the canonical form */
	{ 0, "x5u", "\"mailto:a@b\"", NULL },
	{ 0, "alg", "7", "\"alg\" must be a string" },
	{ -1, "spiffe_extension", "{\"spiffe_sequence\":-1}", NULL },
	{ 5, "kid", "\"a\"", NULL }, /* x509 kids are not kids of the model */
};

START_TEST(each_rejection_rule)
{
	const struct edit *e = &edits[_i];
	json_t *root = base_doc(), *target;
	bd_bundle *b = NULL;
	char what[160];
	int err;

	snprintf(what, sizeof(what), "edit %d: keys[%d].%s = %s", _i, e->index, e->member, e->json ? e->json : "(deleted)");
	target = e->index < 0 ? root : json_array_get(json_object_get(root, "keys"), (size_t)e->index);
	if (e->json)
		json_object_set_new(target, e->member, value(e->json));
	else
		json_object_del(target, e->member);
	err = parse_json_value(&b, root);
	if (e->want) {
		expect_error(err, &b, e->want, what);
	} else {
		json_t *plain = base_doc();
		bd_bundle *ref = NULL;
		char *c1, *c2;

		ck_assert_msg(err == 0, "%s: %s", what, tl_error_message());
		ck_assert_int_eq(parse_json_value(&ref, plain), 0);
		c1 = tu_bundle_canonical(b);
		c2 = tu_bundle_canonical(ref);
		ck_assert_str_eq(c1, c2);
		free(c1);
		free(c2);
		bd_bundle_free(ref);
		json_decref(plain);
	}
	bd_bundle_free(b);
	json_decref(root);
}
END_TEST

START_TEST(base_document_is_valid)
{
	json_t *root = base_doc();
	bd_bundle *b = NULL;
	uint64_t seq;

	ck_assert_int_eq(parse_json_value(&b, root), 0);
	ck_assert_uint_eq(bd_bundle_count(b), 6);
	ck_assert(bd_bundle_sequence(&seq, b));
	ck_assert_uint_eq(seq, 7);
	bd_bundle_free(b);
	json_decref(root);
}
END_TEST

/* Documents given as raw text: numbers beyond jansson's integers, and syntax. */
struct raw {
	const char *doc;
	const char *want; /* NULL: accepted with sequence `seq` (or none if seq_absent) */
	uint64_t seq;
};

static const struct raw raws[] = {
	{ "{\"keys\":[],\"spiffe_sequence\":18446744073709551615}", NULL, UINT64_MAX },
	{ "{\"keys\":[],\"spiffe_sequence\":9223372036854775808}", NULL, 9223372036854775808ull },
	{ "{\"keys\":[],\"spiffe_sequence\":9223372036854775807}", NULL, 9223372036854775807ull },
	{ "{\"keys\":[],\"spiffe_sequence\":0}", NULL, 0 },
	{ "{\"spiffe_sequence\"  :\n 12 ,\"keys\":[]}", NULL, 12 },
	{ "{\"x\":{\"spiffe_sequence\":-1},\"keys\":[],\"spiffe_sequence\":5}", NULL, 5 },
	{ "{\"x\":[{\"a\":\"]}\"},\"\\\"spiffe_sequence\\\":-1\"],\"keys\":[],\"spiffe_sequence\":6}", NULL, 6 },
	{ "{\"spiffe\\u005fsequence\":8,\"keys\":[]}", NULL, 8 },
	{ "{\"keys\":[],\"spiffe_sequence\":18446744073709551616}",
		"spiffe_sequence must be at most 18446744073709551615, found 18446744073709551616", 0 },
	{ "{\"keys\":[],\"spiffe_sequence\":99999999999999999999999999}", "spiffe_sequence must be at most", 0 },
	{ "{\"keys\":[],\"spiffe_sequence\":-1}", "spiffe_sequence must not be negative, found -1", 0 },
	{ "{\"keys\":[],\"spiffe_sequence\":-0}", "spiffe_sequence must not be negative, found -0", 0 },
	{ "{\"keys\":[],\"spiffe_sequence\":1.0}", "spiffe_sequence must be an integer, found 1.0", 0 },
	{ "{\"keys\":[],\"spiffe_sequence\":1e3}", "spiffe_sequence must be an integer, found 1e3", 0 },
	{ "{\"keys\":[],\"spiffe_sequence\":1E3}", "spiffe_sequence must be an integer, found 1E3", 0 },
	{ "{\"keys\":[],\"spiffe_sequence\":0.5}", "spiffe_sequence must be an integer, found 0.5", 0 },
	{ "{\"spiffe\\u005Fsequence\":-2,\"keys\":[]}", "spiffe_sequence must not be negative, found -2", 0 },
	{ "{\"keys\":[],\"spiffe_refresh_hint\":2147483648}", "spiffe_refresh_hint must be at most 2147483647", 0 },
	{ "{\"keys\":[],\"spiffe_refresh_hint\":-5}", "spiffe_refresh_hint must not be negative", 0 },
	{ "{\"keys\":[],\"spiffe_refresh_hint\":300.5}", "spiffe_refresh_hint must be an integer", 0 },
	{ "{\"keys\":[],\"keys\":[]}", "duplicate object key", 0 },
	{ "{\"keys\":[],\"spiffe_sequence\":1,\"spiffe_sequence\":2}", "duplicate object key", 0 },
	{ "[]", "bundle is not a JSON object", 0 },
	{ "{\"keys\":[]", "bundle is not valid JSON: line 1", 0 },
	{ "{\"keys\":[]} {}", "bundle is not valid JSON", 0 },
	{ "{\"keys\":[1]}", "keys[0]: must be a JSON object", 0 },
	{ "{\"keys\":[[]]}", "keys[0]: must be a JSON object", 0 },
	{ "{\"keys\":[{}]}", "keys[0]: missing \"kty\"", 0 },
	{ "{\"keys\":[{\"kid\":\"k\"}]}", "keys[0]: missing \"kty\"", 0 },
	{ "{\"keys\":[{\"use\":\"jwt-svid\"}]}", "keys[0] (jwt-svid): missing \"kty\"", 0 },
	{ "{\"keys\":[],\"spiffe_sequence\":1e400}", "bundle is not valid JSON", 0 },
	{ "{\"keys\":[{\"kid\":\"a\\u0000b\"}]}", "bundle is not valid JSON", 0 },
	{ "{\"keys\":[],\"x\":\"\xff\"}", "bundle is not valid JSON", 0 },
	{ "", "the input is empty", 0 },
};

START_TEST(raw_documents)
{
	const struct raw *r = &raws[_i];
	bd_bundle *b = NULL;
	int err = bd_bundle_parse_json(&b, (const uint8_t *)r->doc, strlen(r->doc), 0, NULL);

	if (r->want) {
		expect_error(err, &b, r->want, r->doc);
	} else {
		uint64_t seq = 0;
		char want[80], *c;

		ck_assert_msg(err == 0, "%s: %s", r->doc, tl_error_message());
		ck_assert(bd_bundle_sequence(&seq, b));
		ck_assert_uint_eq(seq, r->seq);
		/* The canonical form writes the exact value back. */
		c = tu_bundle_canonical(b);
		snprintf(want, sizeof(want), "\"spiffe_sequence\":%llu}\n", (unsigned long long)r->seq);
		ck_assert_ptr_nonnull(strstr(c, want));
		free(c);
		bd_bundle_free(b);
	}
}
END_TEST

START_TEST(duplicate_certificate)
{
	json_t *root = base_doc();
	bd_bundle *b = NULL;

	json_array_append_new(json_object_get(root, "keys"), load_json("x509-ca-p256.json"));
	expect_error(parse_json_value(&b, root), &b, "keys[6] (x509-svid): the same certificate as keys[0] (x509-svid)",
		"same CA twice");
	json_decref(root);
}
END_TEST

START_TEST(same_key_under_two_kids_is_two_authorities)
{
	json_t *root = base_doc();
	bd_bundle *b = NULL;

	json_array_append_new(json_object_get(root, "keys"), key("jwk-p256.json", "wit-svid", "a2"));
	json_array_append_new(json_object_get(root, "keys"), key("jwk-p256.json", "jwt-svid", "a3"));
	ck_assert_int_eq(parse_json_value(&b, root), 0);
	ck_assert_uint_eq(bd_bundle_count(b), 8);
	bd_bundle_free(b);
	json_decref(root);
}
END_TEST

static void expect_vector_error(const char *file, const char *want)
{
	size_t len;
	uint8_t *data = tu_bundle_vector(file, &len);
	bd_bundle *b = NULL;

	expect_error(bd_bundle_parse(&b, data, len, 0, NULL), &b, want, file);
	free(data);
}

START_TEST(leaf_and_mismatched_key)
{
	expect_vector_error("leaf.json", "keys[0] (x509-svid): x5c[0]: certificate is not a CA");
	expect_vector_error("mismatch.json", "keys[0] (x509-svid): the JWK's key is not the public key of the x5c certificate");
}
END_TEST

/* Replaces keys[0].x5c[0] with base64(f(DER)). */
static void x5c_variant(json_t *root, const uint8_t *der, size_t len)
{
	tl_buf b64 = tl_buf_make(1 << 20);
	json_t *k0 = json_array_get(json_object_get(root, "keys"), 0);

	ck_assert_int_eq(tl_base64_encode(&b64, der, len), 0);
	json_array_set_new(json_object_get(k0, "x5c"), 0, json_string((char *)b64.data));
	tl_buf_free(&b64);
}

START_TEST(certificate_encoding_is_strict)
{
	json_t *root = base_doc();
	bd_bundle *good = NULL, *b = NULL;
	const uint8_t *der;
	uint8_t buf[4096];
	size_t len;

	ck_assert_int_eq(parse_json_value(&good, root), 0);
	der = bd_authority_cert_der(bd_bundle_at(good, 0), &len);
	ck_assert_ptr_nonnull(der);
	ck_assert_uint_lt(len + 2, sizeof(buf));
	/* A byte after the DER. */
	memcpy(buf, der, len);
	buf[len] = 0;
	x5c_variant(root, buf, len + 1);
	expect_error(parse_json_value(&b, root), &b, "x5c[0]: 1 bytes after the certificate", "trailing byte");
	/* The same certificate with a non-minimal (BER) outer length: 30 82 xx xx -> 30 83 00 xx xx. */
	ck_assert_int_eq(der[0], 0x30);
	ck_assert_int_eq(der[1], 0x82);
	buf[0] = 0x30;
	buf[1] = 0x83;
	buf[2] = 0;
	memcpy(buf + 3, der + 2, len - 2);
	x5c_variant(root, buf, len + 1);
	expect_error(parse_json_value(&b, root), &b, "keys[0] (x509-svid): x5c[0]: certificate is not DER", "BER length");
	/* The same inside: the TBSCertificate's length made non-minimal (OpenSSL caches it). */
	ck_assert_int_eq(der[4], 0x30);
	ck_assert_int_eq(der[5], 0x82);
	buf[0] = 0x30;
	buf[1] = 0x82;
	buf[2] = (uint8_t)((len - 3) >> 8);
	buf[3] = (uint8_t)(len - 3);
	buf[4] = 0x30;
	buf[5] = 0x83;
	buf[6] = 0;
	memcpy(buf + 7, der + 6, len - 6);
	x5c_variant(root, buf, len + 1);
	expect_error(parse_json_value(&b, root), &b, "keys[0] (x509-svid): x5c[0]: certificate is not DER", "BER TBS");
	/* Truncated. */
	x5c_variant(root, der, len - 1);
	expect_error(parse_json_value(&b, root), &b, "x5c[0]: certificate does not parse", "truncated");
	bd_bundle_free(good);
	json_decref(root);
}
END_TEST

START_TEST(jwk_member_limit)
{
	json_t *root = base_doc(), *k1 = json_array_get(json_object_get(root, "keys"), 1);
	bd_bundle *b = NULL;
	char name[16];

	for (int i = 0; i < 26; i++) {
		snprintf(name, sizeof(name), "ext%d", i);
		json_object_set_new(k1, name, json_true());
	}
	ck_assert_uint_eq(json_object_size(k1), 32);
	ck_assert_int_eq(parse_json_value(&b, root), 0);
	bd_bundle_free(b);
	b = NULL;
	json_object_set_new(k1, "one-more", json_true());
	expect_error(parse_json_value(&b, root), &b, "keys[1]: more than 32 members", "33 members");
	json_decref(root);
}
END_TEST

START_TEST(kid_limits_and_escaping)
{
	json_t *root = base_doc(), *k1 = json_array_get(json_object_get(root, "keys"), 1);
	bd_bundle *b = NULL, *b2 = NULL;
	char kid[BD_MAX_KID_SIZE + 2], *c, *c2;
	const char *odd = "q\"b\\s/\n\t\x01\x1f\x7f\xc3\xa9";

	memset(kid, 'k', sizeof(kid) - 1);
	kid[BD_MAX_KID_SIZE] = '\0';
	json_object_set_new(k1, "kid", json_string(kid));
	ck_assert_int_eq(parse_json_value(&b, root), 0);
	bd_bundle_free(b);
	b = NULL;
	kid[BD_MAX_KID_SIZE] = 'k';
	kid[BD_MAX_KID_SIZE + 1] = '\0';
	json_object_set_new(k1, "kid", json_string(kid));
	expect_error(parse_json_value(&b, root), &b, "keys[1] (jwt-svid): kid of 257 bytes, over the limit of 256", "kid");
	/* Any Unicode kid; the canonical form escapes it as RFC 8785 does and reads back. */
	json_object_set_new(k1, "kid", json_string(odd));
	ck_assert_int_eq(parse_json_value(&b, root), 0);
	ck_assert_str_eq(bd_authority_kid(bd_bundle_at(b, 3)), odd);
	c = tu_bundle_canonical(b);
	ck_assert_ptr_nonnull(strstr(c, "\"kid\":\"q\\\"b\\\\s/\\n\\t\\u0001\\u001f\x7f\xc3\xa9\""));
	ck_assert_int_eq(bd_bundle_parse(&b2, (const uint8_t *)c, strlen(c), 0, NULL), 0);
	c2 = tu_bundle_canonical(b2);
	ck_assert_str_eq(c, c2);
	free(c);
	free(c2);
	bd_bundle_free(b);
	bd_bundle_free(b2);
	json_decref(root);
}
END_TEST

START_TEST(plain_jwks_is_a_jwt_bundle)
{
	json_t *root = json_object(), *keys = json_array(), *k;
	bd_bundle_report report = { 0 };
	bd_bundle *b = NULL;
	char *doc, *c;

	json_array_append_new(keys, key("jwk-p256.json", NULL, "k1"));
	json_array_append_new(keys, key("jwk-rsa.json", NULL, "k2"));
	json_object_set_new(root, "keys", keys);
	doc = json_dumps(root, 0);
	ck_assert_int_eq(bd_bundle_parse(&b, (const uint8_t *)doc, strlen(doc), 0, &report), 0);
	ck_assert_int_eq(report.format, BD_FORMAT_JWKS);
	ck_assert_uint_eq(bd_bundle_count(b), 2);
	ck_assert_int_eq(bd_authority_get_kind(bd_bundle_at(b, 0)), BD_AUTHORITY_JWT);
	c = tu_bundle_canonical(b);
	ck_assert_ptr_nonnull(strstr(c, "\"kid\":\"k1\",\"kty\":\"EC\",\"use\":\"jwt-svid\""));
	free(c);
	free(doc);
	bd_bundle_free(b);
	b = NULL;
	bd_bundle_report_free(&report);
	/* A key without kid: named as a plain JWKS entry. */
	k = key("jwk-ed25519.json", NULL, NULL);
	json_array_append_new(keys, k);
	expect_error(parse_json_value(&b, root), &b, "keys[2]: no \"use\" and no \"kid\"", "plain, no kid");
	json_array_remove(keys, 2);
	/* As soon as one key has "use", or the document has a SPIFFE member, it is a SPIFFE bundle. */
	json_array_append_new(keys, key("jwk-ed25519.json", "jwt-svid", "k3"));
	expect_error(parse_json_value(&b, root), &b, "keys[0]: missing \"use\"", "mixed");
	json_array_remove(keys, 2);
	json_object_set_new(root, "spiffe_refresh_hint", json_integer(5));
	expect_error(parse_json_value(&b, root), &b, "keys[0]: missing \"use\"", "plain with refresh hint");
	json_decref(root);
}
END_TEST

/* ---- public vectors (go-spiffe, SPIRE, py-spiffe), when the research data is present ---- */

struct public_case {
	const char *file;
	const char *want; /* NULL: valid */
	size_t count;     /* authorities when valid */
	bd_bundle_format format;
};

static const struct public_case public_cases[] = {
	{ "valid/gospiffe_spiffebundle_valid_1.json", NULL, 2, BD_FORMAT_SPIFFE },
	{ "valid/gospiffe_spiffebundle_valid_2.json", NULL, 7, BD_FORMAT_SPIFFE },
	{ "valid/gospiffe_spiffebundle_valid_with_wit.json", NULL, 5, BD_FORMAT_SPIFFE },
	{ "valid/gospiffe_jwtbundle_jwks_valid_2.json", NULL, 2, BD_FORMAT_JWKS },
	{ "invalid/gospiffe_spiffebundle_no_keys.json", "bundle has no \"keys\" member", 0, 0 },
	{ "invalid/spire_bundleutil_empty_object.json", "bundle has no \"keys\" member", 0, 0 },
	{ "invalid/gospiffe_spiffebundle_missing_kid.json", "keys[1] (jwt-svid): missing \"kid\"", 0, 0 },
	{ "invalid/spire_bundleutil_jwtsvid_no_kid.json", "keys[0] (jwt-svid): missing \"kid\"", 0, 0 },
	{ "invalid/spire_bundleutil_witsvid_no_kid.json", "keys[0] (wit-svid): missing \"kid\"", 0, 0 },
	{ "invalid/gospiffe_spiffebundle_multiple_x509.json",
		"keys[0] (x509-svid): x5c must hold exactly one certificate, found 2", 0, 0 },
	{ "invalid/spire_bundleutil_x509svid_without_x5c.json",
		"keys[0] (x509-svid): x5c must hold exactly one certificate, found none", 0, 0 },
	{ "invalid/spire_bundleutil_entry_missing_use.json", "keys[0]: no \"use\" and no \"kid\"", 0, 0 },
	{ "invalid/spire_bundleutil_unrecognized_use.json", "keys[0]: unsupported use \"bad stuff\"", 0, 0 },
	{ "invalid/gospiffe_jwtbundle_jwks_missing_kid.json", "keys[1]: no \"use\" and no \"kid\"", 0, 0 },
	{ "invalid/pyspiffe_jwks_ec_missing_x.json", "keys[0] (jwt-svid): missing \"x\"", 0, 0 },
};

START_TEST(public_vectors)
{
	const struct public_case *pc = &public_cases[_i];
	bd_bundle_report report = { 0 };
	char rel[256];
	const char *path;
	bd_bundle *b = NULL;
	uint8_t *data;
	size_t len;
	int err;

	snprintf(rel, sizeof(rel), "spiffe-vectors/%s", pc->file);
	if ((path = tu_research_path(rel)) == NULL)
		return; /* no research data in this checkout: the own vectors cover the same rules */
	data = tu_read_file(path, &len);
	ck_assert_ptr_nonnull(data);
	err = bd_bundle_parse(&b, data, len, 0, &report);
	if (pc->want) {
		expect_error(err, &b, pc->want, pc->file);
	} else {
		char *c, *c2;
		bd_bundle *b2 = NULL;

		ck_assert_msg(err == 0, "%s: %s", pc->file, tl_error_message());
		ck_assert_uint_eq(bd_bundle_count(b), pc->count);
		ck_assert_int_eq(report.format, pc->format);
		c = tu_bundle_canonical(b);
		ck_assert_int_eq(bd_bundle_parse(&b2, (const uint8_t *)c, strlen(c), 0, NULL), 0);
		c2 = tu_bundle_canonical(b2);
		ck_assert_str_eq(c, c2);
		free(c);
		free(c2);
		bd_bundle_free(b2);
		bd_bundle_free(b);
	}
	bd_bundle_report_free(&report);
	free(data);
}
END_TEST

START_TEST(public_vector_details)
{
	const char *path = tu_research_path("spiffe-vectors/valid/gospiffe_spiffebundle_valid_with_wit.json");
	bd_bundle_report report = { 0 };
	bd_bundle *b = NULL;
	uint64_t v;
	uint8_t *data;
	size_t len;

	if (path == NULL)
		return;
	data = tu_read_file(path, &len);
	ck_assert_int_eq(bd_bundle_parse(&b, data, len, 0, &report), 0);
	ck_assert(bd_bundle_sequence(&v, b));
	ck_assert_uint_eq(v, 1);
	ck_assert(bd_bundle_refresh_hint(&v, b));
	ck_assert_uint_eq(v, 60);
	ck_assert_int_eq(bd_authority_get_kind(bd_bundle_at(b, 0)), BD_AUTHORITY_X509);
	ck_assert_int_eq(bd_authority_get_kind(bd_bundle_at(b, 1)), BD_AUTHORITY_JWT);
	ck_assert_int_eq(bd_authority_get_kind(bd_bundle_at(b, 2)), BD_AUTHORITY_JWT);
	ck_assert_int_eq(bd_authority_get_kind(bd_bundle_at(b, 3)), BD_AUTHORITY_WIT);
	ck_assert_int_eq(bd_authority_get_kind(bd_bundle_at(b, 4)), BD_AUTHORITY_WIT);
	/* Its CA expired in 2023: reported, not dropped. */
	ck_assert_uint_eq(report.n_warnings, 1);
	ck_assert_ptr_nonnull(strstr(report.warnings[0], "keys[0] (x509-svid) \"O=SPIFFE,C=US\": expired on 2023-05-12"));
	bd_bundle_report_free(&report);
	bd_bundle_free(b);
	free(data);
}
END_TEST

Suite *suite_bundle_json(void)
{
	Suite *s = suite_create("bundle_json");
	TCase *tc = tcase_create("rules");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, base_document_is_valid);
	tcase_add_loop_test(tc, each_rejection_rule, 0, (int)(sizeof(edits) / sizeof(edits[0])));
	tcase_add_loop_test(tc, raw_documents, 0, (int)(sizeof(raws) / sizeof(raws[0])));
	tcase_add_test(tc, duplicate_certificate);
	tcase_add_test(tc, same_key_under_two_kids_is_two_authorities);
	tcase_add_test(tc, leaf_and_mismatched_key);
	tcase_add_test(tc, certificate_encoding_is_strict);
	tcase_add_test(tc, jwk_member_limit);
	tcase_add_test(tc, kid_limits_and_escaping);
	tcase_add_test(tc, plain_jwks_is_a_jwt_bundle);
	tcase_add_loop_test(tc, public_vectors, 0, (int)(sizeof(public_cases) / sizeof(public_cases[0])));
	tcase_add_test(tc, public_vector_details);
	suite_add_tcase(s, tc);
	return s;
}
