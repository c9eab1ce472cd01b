/*
 * Issue 8 §3: bundled refuses what Go's crypto/x509 parser and go-jose refuse, case by case
 * (bundled/src/bundle_x509.c, bundle_jose.c). Each vector of tests/vectors/interop/
 * (generate-go-x509.sh; suite_peer_spiffe runs go-spiffe on the same files) with the reason
 * bundled must give, and the near misses Go accepts, which bundled must accept too.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/bundle.h"
#include "testutil.h"

static const struct {
	const char *file, *reason;
} refused[] = {
	{ "ca-explicit-ec.pem", "EC key with explicit curve parameters" },
	{ "ca-negative-serial.pem", "negative serial number" },
	{ "whitespace-only.pem", "the input is only white space" },
	{ "edit-x5t-not-a-digest.json", "keys[1] (x509-svid): \"x5t\" is 2 bytes, want 20 (a SHA-1 digest)" },
	{ "edit-x5t-s256-not-a-digest.json", "\"x5t#S256\" is 2 bytes, want 32 (a SHA-256 digest)" },
	{ "go-rsa-no-null-params.pem", "RSA key without the NULL parameters" },
	{ "go-ec-compressed-point.pem", "EC public key is not an uncompressed point" },
	{ "go-ed25519-params.pem", "PEM block 1: " }, /* OpenSSL already refuses the key */
	{ "go-rsa-big-exponent.pem", "RSA public exponent of 9 bytes does not fit a 64-bit integer" },
	{ "go-version-4.pem", "invalid version" },
	{ "go-sigalg-mismatch.pem", "inner and outer signature algorithm identifiers differ" },
	{ "go-time-invalid.pem", "validity period is not a UTCTime or GeneralizedTime Go reads" },
	{ "go-time-fraction.pem", "validity period is not a UTCTime or GeneralizedTime Go reads" },
	{ "go-time-zero-offset.pem", "validity period is not a UTCTime or GeneralizedTime Go reads" },
	{ "go-printable-invalid.pem", "subject: an attribute value Go cannot read (tag 0x13" },
	{ "go-utf8-invalid.pem", "PEM block 1: " },
	{ "go-bmp-odd.pem", "PEM block 1: " },
	{ "go-name-integer.pem", "PEM block 1: " }, /* OpenSSL refuses it too */
	{ "go-ia5-high.pem", "subject: an attribute value Go cannot read (tag 0x16" },
	{ "go-pathlen-negative.pem", "PEM block 1: " },
	{ "go-skid-critical.pem", "subject key identifier marked critical" },
	{ "go-akid-critical.pem", "authority key identifier marked critical" },
	{ "go-aia-critical.pem", "authority info access marked critical" },
	{ "go-policies-duplicate.pem", "invalid certificate policies" },
	{ "go-san-uri-invalid.pem", "SAN URI does not parse as a URL" },
	{ "go-san-ip-length.pem", "SAN iPAddress of 5 bytes" },
	{ "go-san-dns-nonascii.pem", "SAN dNSName is not an IA5String" },
	{ "go-nc-empty.pem", "empty name constraints extension" },
	{ "go-nc-trailing-dot.pem", "dNSName constraint is not a valid domain" },
	{ "go-nc-ip-mask.pem", "IP constraint is not an address and a prefix mask" },
	{ "go-nc-uri-ip.pem", "URI constraint is not a domain" },
	{ "go-nc-email-invalid.pem", "rfc822Name constraint is neither a mailbox nor a domain" },
	{ "go-crldp-invalid.pem", "PEM block 1: " },
	{ "go-jwk-x5t-wrong-thumbprint.json", "\"x5t\" is not the thumbprint of the x5c certificate" },
	{ "go-jwk-x5t-s256-wrong-thumbprint.json", "\"x5t#S256\" is not the thumbprint of the x5c certificate" },
	{ "go-jwk-x5t-bad-base64.json", "\"x5t\" is not unpadded base64url" },
	{ "go-jwk-x5t-padded.json", "\"x5t\" is not unpadded base64url" },
	{ "go-jwk-x5t-bad-hex.json", "\"x5t\" of 40 bytes is not hex" },
	{ "go-jwk-x5t-number.json", "\"x5t\" must be a string" },
	{ "go-jwk-x5u-invalid.json", "\"x5u\": URL host lacks its closing ']'" },
	{ "go-jwk-x5u-number.json", "\"x5u\" must be a string" },
	{ "go-jwk-kid-number.json", "\"kid\" must be a string" },
	{ "go-jwk-alg-number.json", "\"alg\" must be a string" },
	{ "go-jwk-x-on-rsa-bad-base64.json", "keys[1] (x509-svid): \"x\": base64url" },
	{ "go-jwk-rsa-e-wraps.json", "keys[0] (jwt-svid): RSA exponent of 65 bits: Go reads at most 2^31-1" },
	{ "go-top-case-keys.json", "member \"Keys\" is \"keys\" to Go's JSON decoder" },
	{ "go-top-case-sequence.json", "member \"SPIFFE_SEQUENCE\" is \"spiffe_sequence\"" },
};

static const char *const accepted[] = {
	"go-ok-x5t.json", "go-ok-x5t-hex.json", "go-ok-x5t-s256.json", "go-ok-jwk-case-x5t.json", "go-ok-jwk-case-kid.json",
	"go-ok-jwk-kelvin-kty.json", "go-ok-time-offset.pem", "go-ok-time-minutes.pem", "ca-v1-p256.pem", "crlf-bundle.pem",
};

static int parse_vector(const char *file, bd_bundle **b)
{
	char rel[128];
	size_t len;
	uint8_t *data;
	int err;

	snprintf(rel, sizeof(rel), "tests/vectors/interop/%s", file);
	data = tu_read_file(tu_source_path(rel), &len);
	ck_assert_msg(data != NULL, "missing vector %s", rel);
	err = bd_bundle_parse(b, data, len, 0, NULL);
	free(data);
	return err;
}

START_TEST(refuses_what_go_refuses)
{
	size_t i = (size_t)_i;
	bd_bundle *b = NULL;

	ck_assert_msg(parse_vector(refused[i].file, &b) == TL_E_INPUT, "%s: accepted", refused[i].file);
	ck_assert_ptr_null(b);
	ck_assert_msg(strstr(tl_error_message(), refused[i].reason) != NULL, "%s: got \"%s\", want \"%s\"", refused[i].file,
		tl_error_message(), refused[i].reason);
}
END_TEST

START_TEST(accepts_what_go_accepts)
{
	bd_bundle *b = NULL;

	ck_assert_msg(parse_vector(accepted[_i], &b) == 0, "%s: %s", accepted[_i], tl_error_message());
	bd_bundle_free(b);
}
END_TEST

Suite *suite_bundle_go(void)
{
	Suite *s = suite_create("bundle_go");
	TCase *tc = tcase_create("go");

	tcase_add_loop_test(tc, refuses_what_go_refuses, 0, (int)(sizeof(refused) / sizeof(refused[0])));
	tcase_add_loop_test(tc, accepts_what_go_accepts, 0, (int)(sizeof(accepted) / sizeof(accepted[0])));
	suite_add_tcase(s, tc);
	return s;
}
