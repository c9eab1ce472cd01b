/*
 * tlog-proof files and base64 hash lists from outside: parse, check that every accepted
 * input is written back byte for byte, and verify accepted proofs against the test
 * vectors' log key (tests/vectors/notes/), so seeds from there reach the Merkle checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "translog/hash.h"
#include "translog/key.h"
#include "translog/tlog_proof.h"
#include "vector_keys.h"

static tl_verifier *log_key;

static void setup(void)
{
	log_key = vector_log_verifier();
}

static void check_proof(const uint8_t *data, size_t size)
{
	tl_buf out = tl_buf_make(TL_TLOG_PROOF_MAX_SIZE);
	uint8_t extra[TL_TLOG_PROOF_MAX_EXTRA];
	size_t extra_len = 0;
	tl_tlog_proof p;

	if (tl_tlog_proof_parse(&p, data, size) != 0)
		return;
	if (tl_tlog_proof_extra(extra, sizeof(extra), &extra_len, &p) != 0)
		abort(); /* parse already checked the extra data */
	if (tl_tlog_proof_write(&out, extra, extra_len, p.index, p.hashes, p.n_hashes, p.checkpoint, p.checkpoint_len) != 0 ||
	    out.len != size || memcmp(out.data, data, size) != 0)
		abort();
	/* The vectors' entry 5; any other leaf exercises the failure paths. */
	{
		static const char entry[] = "bundled test entry 5\n";
		tl_checkpoint cp;
		tl_hash leaf;

		tl_hash_leaf(&leaf, entry, strlen(entry));
		if (tl_tlog_proof_verify(&cp, &p, &leaf, log_key) == 0 && p.index >= cp.size)
			abort();
	}
	tl_buf_free(&out);
}

static void check_hashes(const uint8_t *data, size_t size)
{
	tl_hash h[TL_TLOG_PROOF_MAX_HASHES];
	tl_buf out = tl_buf_make(8192);
	size_t n;

	if (tl_tlog_proof_read_hashes(h, TL_TLOG_PROOF_MAX_HASHES, &n, data, size) != 0)
		return;
	if (tl_tlog_proof_write_hashes(&out, h, n) != 0 || out.len != size || (size && memcmp(out.data, data, size) != 0))
		abort();
	tl_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		setup();
		ready = 1;
	}
	check_proof(data, size);
	check_hashes(data, size);
	return 0;
}
