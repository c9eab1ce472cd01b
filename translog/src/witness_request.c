/*
 * The tlog-witness add-checkpoint wire format, request body and 409 size body: the one
 * reader and the one writer of each, side by side.
 */
#include <inttypes.h>
#include <string.h>

#include "translog/witness.h"

/* Canonical base64 of a 32-byte hash. */
#define HASH_B64_LEN 44

int tl_witness_request_parse(tl_witness_request *out, const uint8_t *body, size_t len)
{
	tl_cursor c = tl_cursor_make(body, len);
	const uint8_t *line;
	size_t line_len, n = 0;
	uint64_t old;

	if (len > TL_WITNESS_MAX_REQUEST)
		return tl_error_set(TL_E_INPUT, "add-checkpoint body of %zu bytes is over %u", len,
			(unsigned)TL_WITNESS_MAX_REQUEST);
	if (tl_cursor_line(&line, &line_len, &c, 4 + 20) != 0 || line_len < 4 || memcmp(line, "old ", 4) != 0)
		return tl_error_set(TL_E_INPUT, "add-checkpoint body: the first line is not \"old <size>\"");
	if (tl_parse_u64(&old, (const char *)line + 4, line_len - 4) != 0)
		return tl_error_set(TL_E_INPUT, "add-checkpoint body: the old size is not a canonical decimal");
	for (;;) {
		size_t got;

		if (tl_cursor_line(&line, &line_len, &c, HASH_B64_LEN) != 0)
			return tl_error_set(TL_E_INPUT, "add-checkpoint body: proof line %zu is not a base64 hash line", n + 1);
		if (line_len == 0)
			break;
		if (n == TL_WITNESS_MAX_PROOF)
			return tl_error_set(TL_E_INPUT, "add-checkpoint body: more than %d proof lines", TL_WITNESS_MAX_PROOF);
		if (line_len != HASH_B64_LEN ||
		    tl_base64_decode(out->proof[n].b, sizeof(out->proof[n].b), &got, (const char *)line, line_len) != 0 ||
		    got != sizeof(out->proof[n].b))
			return tl_error_set(TL_E_INPUT, "add-checkpoint body: proof line %zu is not base64 of 32 bytes", n + 1);
		n++;
	}
	if (tl_cursor_left(&c) == 0)
		return tl_error_set(TL_E_INPUT, "add-checkpoint body: no checkpoint after the empty line");
	if (tl_cursor_left(&c) > TL_WITNESS_MAX_NOTE)
		return tl_error_set(TL_E_INPUT, "add-checkpoint body: the checkpoint note is over %u bytes",
			TL_WITNESS_MAX_NOTE);
	out->old_size = old;
	out->n_proof = n;
	out->note = tl_cursor_here(&c);
	out->note_len = tl_cursor_left(&c);
	return 0;
}

int tl_witness_request_write(tl_buf *out, uint64_t old_size, const tl_hash *proof, size_t n_proof,
	const uint8_t *note, size_t note_len)
{
	size_t start = out->len;
	int err;

	if (n_proof > TL_WITNESS_MAX_PROOF)
		return tl_error_set(TL_E_INPUT, "%zu proof hashes are more than the %d a witness takes", n_proof,
			TL_WITNESS_MAX_PROOF);
	if (note_len == 0 || note_len > TL_WITNESS_MAX_NOTE)
		return tl_error_set(TL_E_INPUT, "a checkpoint note of %zu bytes cannot be sent to a witness", note_len);
	if ((err = tl_buf_printf(out, "old %" PRIu64 "\n", old_size)) != 0)
		goto out;
	for (size_t i = 0; i < n_proof; i++)
		if ((err = tl_base64_encode(out, proof[i].b, sizeof(proof[i].b))) != 0 ||
		    (err = tl_buf_append_u8(out, '\n')) != 0)
			goto out;
	if ((err = tl_buf_append_u8(out, '\n')) != 0 || (err = tl_buf_append(out, note, note_len)) != 0)
		goto out;
out:
	if (err)
		tl_buf_truncate(out, start);
	return err;
}

int tl_witness_size_parse(uint64_t *size, const uint8_t *body, size_t len)
{
	if (len < 2 || len > TL_WITNESS_MAX_SIZE_BODY || body[len - 1] != '\n' ||
	    tl_parse_u64(size, (const char *)body, len - 1) != 0)
		return tl_error_set(TL_E_INPUT, "a witness's size body is not \"<decimal>\\n\"");
	return 0;
}

int tl_witness_size_write(tl_buf *out, uint64_t size)
{
	return tl_buf_printf(out, "%" PRIu64 "\n", size);
}
