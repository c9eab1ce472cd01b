/*
 * The CID text parser and the multibase decoders under it: no input may crash them, and
 * whatever they accept must round-trip (the base32 text of a CID is unique).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bundled/src/multibase.h"
#include "bundled/cid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[BD_CID_TEXT_MAX];
	uint8_t bin[BD_CID_BYTES_MAX], out[256];
	size_t n = 0, m = 0;
	bd_cid cid, again;

	if (bd_cid_parse(&cid, (const char *)data, size) == 0) {
		if (bd_cid_format(text, sizeof(text), &cid) != 0)
			abort();
		if (bd_cid_parse(&again, text, strlen(text)) != 0 || !bd_cid_equal(&cid, &again))
			abort();
		if (size > 0 && data[0] == 'b' && (strlen(text) != size || memcmp(text, data, size) != 0))
			abort();
	}
	if (bd_cid_from_bytes(&cid, data, size) == 0) {
		if (bd_cid_to_bytes(bin, sizeof(bin), &n, &cid) != 0)
			abort();
		/* A CIDv1 comes back byte for byte; a CIDv0 comes back as its CIDv1. */
		if (size > 0 && data[0] == 0x01 && (n != size || memcmp(bin, data, size) != 0))
			abort();
	}
	if (bd_multibase__base32_decode(out, sizeof(out), &n, (const char *)data, size) == 0) {
		char enc[2 * sizeof(out)];

		bd_multibase__base32_encode(enc, out, n);
		if (strlen(enc) != size || memcmp(enc, data, size) != 0)
			abort();
	}
	if (bd_multibase__base58btc_decode(out, sizeof(out), &n, (const char *)data, size) == 0 && n <= 64) {
		char enc[2 * 64 + 1];

		if (bd_multibase__base58btc_encode(enc, sizeof(enc), out, n) != 0)
			abort();
		m = strlen(enc);
		if (m != size || memcmp(enc, data, size) != 0)
			abort();
	}
	return 0;
}
