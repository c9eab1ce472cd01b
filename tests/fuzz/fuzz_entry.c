/*
 * Fuzzes the log entry reader. An accepted input must write back to exactly the same bytes
 * (the grammar has one text per entry), and reading that again must succeed; for signed
 * kinds the signed message must be producible. A refused input must leave a zeroed entry.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/entry.h"

static void require(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const bd_entry zero;
	bd_entry *e = malloc(sizeof(*e)), *again = malloc(sizeof(*again));
	tl_buf out = tl_buf_make(BD_ENTRY_MAX_SIZE), msg = tl_buf_make(2 * BD_ENTRY_MAX_SIZE);

	require(e != NULL && again != NULL);
	if (bd_entry_parse(e, data, size) == 0) {
		require(bd_entry_write(&out, e) == 0);
		require(out.len == size && memcmp(out.data, data, size) == 0);
		require(bd_entry_parse(again, out.data, out.len) == 0);
		if (e->has_signature)
			require(bd_entry_signed_message(&msg, "fuzz.example/log", e) == 0);
	} else {
		require(memcmp(e, &zero, sizeof(zero)) == 0);
	}
	tl_buf_free(&out);
	tl_buf_free(&msg);
	free(e);
	free(again);
	return 0;
}
