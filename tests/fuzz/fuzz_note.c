/*
 * Signed notes, checkpoints, cosignatures and key strings from outside: parse, verify with
 * the test vectors' keys (so seeds built from tests/vectors/notes/ reach the signature
 * checks), and check that every accepted input is written back byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "translog/checkpoint.h"
#include "translog/cosig.h"
#include "translog/hash.h"
#include "translog/key.h"
#include "translog/note.h"
#include "vector_keys.h"

static tl_verifier *log_key, *witness_key;

static void setup(void)
{
	log_key = vector_log_verifier();
	witness_key = vector_witness_verifier();
}

static void check_note(const uint8_t *data, size_t size)
{
	const tl_verifier *known[2] = { log_key, witness_key };
	tl_buf out = tl_buf_make(TL_NOTE_MAX_SIZE);
	tl_checkpoint cp;
	tl_note n;
	uint64_t ts;
	size_t count;
	int ok[2];

	if (tl_note_parse(&n, data, size) != 0)
		return;
	if (tl_note_write(&out, &n) != 0 || out.len != size || memcmp(out.data, data, size) != 0)
		abort(); /* an accepted note must round-trip exactly */
	if (tl_note_verify(&n, known, 2, ok) == 0 && !ok[0] && !ok[1])
		abort();
	/* tl_cosig_verify and tl_cosig_count must agree about the witness. */
	switch (tl_cosig_verify(&ts, &n, witness_key)) {
	case 0:
		if (tl_cosig_count(&count, &n, known + 1, 1) != 0 || count != 1)
			abort();
		break;
	case TL_E_NOTFOUND:
		if (tl_cosig_count(&count, &n, known + 1, 1) != 0 || count != 0)
			abort();
		break;
	default:
		if (tl_cosig_count(&count, &n, known + 1, 1) != TL_E_UNAUTHORIZED)
			abort();
	}
	/* An opened checkpoint implies a note the log key verifies. */
	if (tl_checkpoint_open(&cp, data, size, log_key) == 0 && tl_note_verify(&n, known, 1, NULL) != 0)
		abort();
	if (tl_checkpoint_parse(&cp, n.text, n.text_len) == 0) {
		tl_buf_reset(&out);
		if (tl_checkpoint_format(&out, &cp) != 0 || out.len != n.text_len || memcmp(out.data, n.text, out.len) != 0)
			abort(); /* an accepted checkpoint must round-trip exactly */
	}
	tl_buf_free(&out);
}

static void check_keys(const uint8_t *data, size_t size)
{
	tl_verifier *v = NULL;
	tl_signer *s = NULL;
	tl_buf out = tl_buf_make(TL_MAX_KEY_TEXT);

	if (tl_verifier_parse(&v, (const char *)data, size) == 0) {
		size_t len = size > 0 && data[size - 1] == '\n' ? size - 1 : size;

		if (tl_verifier_format(&out, v) != 0 || out.len != len || memcmp(out.data, data, len) != 0)
			abort();
	}
	tl_buf_reset(&out);
	if (tl_signer_parse(&s, (const char *)data, size) == 0) {
		size_t len = size > 0 && data[size - 1] == '\n' ? size - 1 : size;

		if (tl_signer_format(&out, s) != 0 || out.len != len || memcmp(out.data, data, len) != 0)
			abort();
	}
	tl_verifier_free(v);
	tl_signer_free(s);
	tl_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		setup();
		ready = 1;
	}
	check_note(data, size);
	check_keys(data, size);
	return 0;
}
