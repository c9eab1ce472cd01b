/*
 * Fuzzes the PEM reader (and the DER reader with the same bytes). Every accepted input must
 * canonicalise to bytes that read back to themselves, and its PEM and DER writers' output
 * must read back to the same canonical bytes.
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

static void same_canonical(const tl_buf *want, const bd_bundle *b)
{
	tl_buf got = tl_buf_make(BD_MAX_BUNDLE_SIZE);

	require(bd_bundle_write_canonical(&got, b) == 0);
	require(got.len == want->len && memcmp(got.data, want->data, got.len) == 0);
	tl_buf_free(&got);
}

static void check_writers(const bd_bundle *b)
{
	tl_buf c = tl_buf_make(BD_MAX_BUNDLE_SIZE), pem = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	tl_buf der = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	bd_bundle *again = NULL, *from_pem = NULL, *from_der = NULL;

	require(bd_bundle_write_canonical(&c, b) == 0);
	require(bd_bundle_parse(&again, c.data, c.len, 0, NULL) == 0);
	same_canonical(&c, again);
	require(bd_bundle_write_pem(&pem, b) == 0);
	require(bd_bundle_parse_pem(&from_pem, pem.data, pem.len, BD_PARSE_ALLOW_EMPTY, NULL) == 0);
	same_canonical(&c, from_pem);
	require(bd_bundle_write_der(&der, b) == 0);
	require(bd_bundle_parse_der(&from_der, der.data, der.len, BD_PARSE_ALLOW_EMPTY, NULL) == 0);
	same_canonical(&c, from_der);
	bd_bundle_free(again);
	bd_bundle_free(from_pem);
	bd_bundle_free(from_der);
	tl_buf_free(&c);
	tl_buf_free(&pem);
	tl_buf_free(&der);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bd_bundle_report report = { 0 };
	bd_bundle *b = NULL;

	if (bd_bundle_parse_pem(&b, data, size, 0, &report) == 0) {
		check_writers(b);
		bd_bundle_free(b);
	} else {
		require(b == NULL);
	}
	bd_bundle_report_free(&report);
	b = NULL;
	if (bd_bundle_parse_der(&b, data, size, 0, NULL) == 0) {
		check_writers(b);
		bd_bundle_free(b);
	} else {
		require(b == NULL);
	}
	return 0;
}
