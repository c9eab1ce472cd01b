/*
 * The raw cosignature primitives (declared in key.h): the message a witness signs and the
 * check of one decoded cosignature. Kept below note.c and cosig.c, which both use them.
 */
#include "translog/key.h"

#include <assert.h>
#include <inttypes.h>

#include "translog/note.h" /* TL_NOTE_MAX_SIZE only: the largest body a message frames */

/* The header and time lines that precede the body. */
enum { COSIG_PREAMBLE_MAX = 64 };

int tl_cosig_message(tl_buf *out, uint64_t timestamp, const uint8_t *body, size_t len)
{
	int err;

	if (timestamp > TL_COSIG_MAX_TIMESTAMP)
		return tl_error_set(TL_E_INPUT, "cosignature timestamp %" PRIu64 " exceeds 2^63-1", timestamp);
	if ((err = tl_buf_append_str(out, TL_COSIG_HEADER)) != 0 ||
	    (err = tl_buf_printf(out, "time %" PRIu64 "\n", timestamp)) != 0)
		return err;
	return tl_buf_append(out, body, len);
}

int tl_cosig_verify_raw(const tl_verifier *witness, const uint8_t *body, size_t len, uint64_t timestamp,
	const uint8_t *sig, size_t sig_len)
{
	tl_buf msg = tl_buf_make(TL_NOTE_MAX_SIZE + COSIG_PREAMBLE_MAX);
	int err;

	assert(witness != NULL && sig != NULL && (body != NULL || len == 0));
	if (tl_verifier_type(witness) != TL_KEY_TYPE_COSIGNATURE)
		return tl_error_set(TL_E_UNAUTHORIZED, "%s+%08x is not a cosignature (type 0x04) key",
			tl_verifier_name(witness), (unsigned)tl_verifier_key_id(witness));
	if (timestamp > TL_COSIG_MAX_TIMESTAMP)
		return tl_error_set(TL_E_UNAUTHORIZED, "cosignature by %s+%08x has a timestamp above 2^63-1",
			tl_verifier_name(witness), (unsigned)tl_verifier_key_id(witness));
	if ((err = tl_cosig_message(&msg, timestamp, body, len)) != 0)
		goto out;
	if (tl_verifier_verify(witness, msg.data, msg.len, sig, sig_len) != 0)
		err = tl_error_set(TL_E_UNAUTHORIZED, "invalid cosignature by %s+%08x", tl_verifier_name(witness),
			(unsigned)tl_verifier_key_id(witness));
out:
	tl_buf_free(&msg);
	return err;
}
