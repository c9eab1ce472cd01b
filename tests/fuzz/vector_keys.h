/*
 * The verifier keys of the signed-note vectors (tests/vectors/notes/), made from the seeds
 * gen_vectors.c uses, so that fuzz seeds taken from those vectors reach the signature checks.
 * Static inline functions in a header, because each fuzz target is built as one program of
 * its own.
 */
#ifndef BUNDLED_FUZZ_VECTOR_KEYS_H
#define BUNDLED_FUZZ_VECTOR_KEYS_H

#include <stdlib.h>
#include <string.h>

#include "translog/hash.h"
#include "translog/key.h"

/* The verifier of key `name` of `type` whose seed is SHA-256(seed_phrase); aborts if the
 * library refuses it (the inputs are fixed, so it never should). */
static inline tl_verifier *vector_verifier(const char *name, uint8_t type, const char *seed_phrase)
{
	tl_verifier *v = NULL;
	tl_signer *s = NULL;
	tl_hash seed;

	tl_sha256(&seed, seed_phrase, strlen(seed_phrase));
	if (tl_signer_from_seed(&s, name, type, seed.b) != 0 || tl_verifier_from_signer(&v, s) != 0)
		abort();
	tl_signer_free(s);
	return v;
}

static inline tl_verifier *vector_log_verifier(void)
{
	return vector_verifier("example.com/bundled-test-log", TL_KEY_TYPE_ED25519, "bundled test log key");
}

static inline tl_verifier *vector_witness_verifier(void)
{
	return vector_verifier("example.com/bundled-test-witness", TL_KEY_TYPE_COSIGNATURE, "bundled test witness key");
}

#endif
