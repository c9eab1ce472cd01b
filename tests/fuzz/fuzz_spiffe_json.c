/*
 * Fuzzes the SPIFFE bundle JSON reader. Beyond not crashing, every accepted document must
 * obey the canonical form's contract: its canonical bytes read back to the same bytes, and
 * the PEM and JWKS writers' output reads back to the same authorities.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/bundle.h"

static void require(int ok)
{
	if (!ok)
		abort();
}

static void check_writers(const bd_bundle *b)
{
	tl_buf c1 = tl_buf_make(BD_MAX_BUNDLE_SIZE), c2 = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	tl_buf pem = tl_buf_make(BD_MAX_BUNDLE_SIZE), jwks = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	bd_bundle *again = NULL, *from_pem = NULL, *from_jwks = NULL;
	size_t x509 = 0, jwt = 0;

	for (size_t i = 0; i < bd_bundle_count(b); i++) {
		bd_authority_kind k = bd_authority_get_kind(bd_bundle_at(b, i));

		x509 += k == BD_AUTHORITY_X509;
		jwt += k == BD_AUTHORITY_JWT;
	}
	require(bd_bundle_write_canonical(&c1, b) == 0);
	require(bd_bundle_parse_json(&again, c1.data, c1.len, 0, NULL) == 0);
	require(bd_bundle_write_canonical(&c2, again) == 0);
	require(c1.len == c2.len && memcmp(c1.data, c2.data, c1.len) == 0);
	require(bd_bundle_write_pem(&pem, b) == 0);
	require(bd_bundle_parse_pem(&from_pem, pem.data, pem.len, BD_PARSE_ALLOW_EMPTY, NULL) == 0);
	require(bd_bundle_count(from_pem) == x509);
	require(bd_bundle_write_jwks(&jwks, b) == 0);
	require(bd_bundle_parse_json(&from_jwks, jwks.data, jwks.len, 0, NULL) == 0);
	require(bd_bundle_count(from_jwks) == jwt);
	bd_bundle_free(again);
	bd_bundle_free(from_pem);
	bd_bundle_free(from_jwks);
	tl_buf_free(&c1);
	tl_buf_free(&c2);
	tl_buf_free(&pem);
	tl_buf_free(&jwks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bd_bundle_report report = { 0 };
	bd_bundle *b = NULL;

	if (bd_bundle_parse_json(&b, data, size, 0, &report) == 0) {
		check_writers(b);
		bd_bundle_free(b);
	} else {
		require(b == NULL);
	}
	bd_bundle_report_free(&report);
	return 0;
}
