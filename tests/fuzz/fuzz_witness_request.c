/*
 * tlog-witness add-checkpoint request bodies from outside: parse, check that every accepted
 * body is written back byte for byte, then hand the body to a real witness (state in a
 * temporary directory) that knows the signed-note vectors' log key, so seeds built from
 * tests/vectors/notes/ reach the signature, state and consistency checks. Every answer must
 * be one the spec allows, and a 200 must be a cosignature that verifies.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "translog/cosig.h"
#include "translog/hash.h"
#include "translog/key.h"
#include "translog/note.h"
#include "translog/witness.h"
#include "vector_keys.h"

static tl_verifier *log_key, *witness_vkey;
static tl_signer *witness_key;
static tl_witness *witness;
static char state_dir[] = "/tmp/fuzz_witness_XXXXXX";

/* The state directory goes away with the process: replays and fuzz runs leave nothing. */
static void cleanup(void)
{
	DIR *d = opendir(state_dir);
	struct dirent *e;

	tl_witness_free(witness);
	tl_verifier_free(log_key);
	tl_verifier_free(witness_vkey);
	tl_signer_free(witness_key);
	while (d != NULL && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			(void)unlinkat(dirfd(d), e->d_name, 0);
	if (d != NULL)
		closedir(d);
	(void)rmdir(state_dir);
}

static void setup(void)
{
	const tl_verifier *logs[1];
	tl_witness_config cfg;
	tl_hash seed;

	log_key = vector_log_verifier();
	logs[0] = log_key;
	tl_sha256(&seed, "fuzz witness key", strlen("fuzz witness key"));
	if (tl_signer_from_seed(&witness_key, "fuzz.example/witness", TL_KEY_TYPE_COSIGNATURE, seed.b) != 0 ||
	    tl_verifier_from_signer(&witness_vkey, witness_key) != 0 || mkdtemp(state_dir) == NULL)
		abort();
	cfg = (tl_witness_config){ witness_key, logs, 1, state_dir };
	if (tl_witness_open(&witness, &cfg) != 0)
		abort();
	atexit(cleanup);
}

static void check_cosigned(const tl_witness_request *req, const tl_buf *reply)
{
	tl_note *n = malloc(sizeof(*n));
	uint64_t ts;

	if (n == NULL || tl_note_parse(n, req->note, req->note_len) != 0 ||
	    tl_note_add_sig_lines(n, reply->data, reply->len) != 0 || tl_cosig_verify(&ts, n, witness_vkey) != 0 ||
	    ts != 1700000000)
		abort();
	free(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	tl_buf out = tl_buf_make(TL_WITNESS_MAX_REQUEST), reply = tl_buf_make(65536);
	tl_witness_request req;
	unsigned status = 0;
	int err, parsed;

	if (!ready) {
		setup();
		ready = 1;
	}
	parsed = tl_witness_request_parse(&req, data, size) == 0;
	if (parsed && (tl_witness_request_write(&out, req.old_size, req.proof, req.n_proof, req.note, req.note_len) != 0 ||
			      out.len != size || memcmp(out.data, data, size) != 0))
		abort();
	err = tl_witness_add_checkpoint(&reply, &status, witness, data, size, 1700000000);
	if (err != 0 && status != 500)
		abort();
	if (err == 0 && status != 200 && status != 400 && status != 403 && status != 404 && status != 409 && status != 422)
		abort();
	if (!parsed && status != 400)
		abort();
	if (status == 200)
		check_cosigned(&req, &reply);
	tl_buf_free(&out);
	tl_buf_free(&reply);
	return 0;
}
