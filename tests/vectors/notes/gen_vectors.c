/*
 * Writes the vectors in this directory (see README.md). Run from the source root after
 * `make`:
 *
 *   cc -std=c11 -D_DEFAULT_SOURCE -Itranslog/include tests/vectors/notes/gen_vectors.c \
 *      build/lib/libtranslog.a -lsodium -lcrypto -o /tmp/gen_vectors
 *   /tmp/gen_vectors tests/vectors/notes
 *
 * Everything is deterministic (fixed seeds, fixed timestamp, Ed25519), so re-running it
 * must leave the files unchanged; the unit tests check that the library reproduces them.
 * The Merkle tree functions below are the plain recursive definitions of RFC 6962 §2.1,
 * written independently of translog's proof code so the vectors do not test it against
 * itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "translog/checkpoint.h"
#include "translog/cosig.h"
#include "translog/hash.h"
#include "translog/key.h"
#include "translog/note.h"
#include "translog/tlog_proof.h"

#define N_LEAVES 7
#define LOG_NAME "example.com/bundled-test-log"
#define WITNESS_NAME "example.com/bundled-test-witness"
#define COSIG_TIME 1700000000u

static tl_hash leaves[N_LEAVES];

static void mth(tl_hash *out, size_t lo, size_t hi)
{
	size_t n = hi - lo, k = 1;
	tl_hash l, r;

	if (n == 0) {
		tl_hash_empty(out);
		return;
	}
	if (n == 1) {
		*out = leaves[lo];
		return;
	}
	while (k * 2 < n)
		k *= 2;
	mth(&l, lo, lo + k);
	mth(&r, lo + k, hi);
	tl_hash_node(out, &l, &r);
}

static void path(tl_hash *out, size_t *n_out, size_t m, size_t lo, size_t hi)
{
	size_t n = hi - lo, k = 1;

	if (n == 1)
		return;
	while (k * 2 < n)
		k *= 2;
	if (m < k) {
		path(out, n_out, m, lo, lo + k);
		mth(&out[(*n_out)++], lo + k, hi);
	} else {
		path(out, n_out, m - k, lo + k, hi);
		mth(&out[(*n_out)++], lo, lo + k);
	}
}

static void subproof(tl_hash *out, size_t *n_out, size_t m, size_t lo, size_t hi, int b)
{
	size_t n = hi - lo, k = 1;

	if (m == n) {
		if (!b)
			mth(&out[(*n_out)++], lo, hi);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	if (m <= k) {
		subproof(out, n_out, m, lo, lo + k, b);
		mth(&out[(*n_out)++], lo + k, hi);
	} else {
		subproof(out, n_out, m - k, lo + k, hi, 0);
		mth(&out[(*n_out)++], lo, lo + k);
	}
}

static void die(const char *what)
{
	fprintf(stderr, "gen_vectors: %s: %s\n", what, tl_error_message());
	exit(1);
}

static void put(const char *dir, const char *name, const void *data, size_t len)
{
	char path_buf[4096];
	FILE *f;

	snprintf(path_buf, sizeof(path_buf), "%s/%s", dir, name);
	if ((f = fopen(path_buf, "wb")) == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "gen_vectors: cannot write %s\n", path_buf);
		exit(1);
	}
}

static void put_buf(const char *dir, const char *name, tl_buf *b)
{
	put(dir, name, b->data, b->len);
	tl_buf_reset(b);
}

static void entry_text(char *out, size_t cap, size_t i)
{
	snprintf(out, cap, "bundled test entry %zu\n", i);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "tests/vectors/notes";
	tl_buf b = tl_buf_make(1 << 20), note4 = tl_buf_make(4096), note7 = tl_buf_make(4096);
	tl_hash seed, proof[64];
	tl_signer *log = NULL, *witness = NULL;
	tl_checkpoint cp;
	tl_note n;
	size_t np = 0;
	char entry[64];

	/* Seeds are hashes of fixed strings: reproducible, and obviously not secrets. */
	tl_sha256(&seed, "bundled test log key", strlen("bundled test log key"));
	if (tl_signer_from_seed(&log, LOG_NAME, TL_KEY_TYPE_ED25519, seed.b) != 0)
		die("log key");
	tl_sha256(&seed, "bundled test witness key", strlen("bundled test witness key"));
	if (tl_signer_from_seed(&witness, WITNESS_NAME, TL_KEY_TYPE_COSIGNATURE, seed.b) != 0)
		die("witness key");

	if (tl_signer_format(&b, log) || tl_buf_append_u8(&b, '\n'))
		die("format");
	put_buf(dir, "log.key", &b);
	if (tl_signer_vkey(&b, log) || tl_buf_append_u8(&b, '\n'))
		die("vkey");
	put_buf(dir, "log.vkey", &b);
	if (tl_signer_format(&b, witness) || tl_buf_append_u8(&b, '\n'))
		die("format");
	put_buf(dir, "witness.key", &b);
	if (tl_signer_vkey(&b, witness) || tl_buf_append_u8(&b, '\n'))
		die("vkey");
	put_buf(dir, "witness.vkey", &b);

	for (size_t i = 0; i < N_LEAVES; i++) {
		entry_text(entry, sizeof(entry), i);
		tl_hash_leaf(&leaves[i], entry, strlen(entry));
	}
	entry_text(entry, sizeof(entry), 5);
	put(dir, "entry-5.txt", entry, strlen(entry));

	memset(&cp, 0, sizeof(cp));
	strcpy(cp.origin, LOG_NAME);
	cp.size = 4;
	mth(&cp.root, 0, 4);
	if (tl_checkpoint_sign(&note4, &cp, log))
		die("sign 4");
	put(dir, "checkpoint-4.note", note4.data, note4.len);
	cp.size = N_LEAVES;
	mth(&cp.root, 0, N_LEAVES);
	if (tl_checkpoint_sign(&note7, &cp, log))
		die("sign 7");
	put(dir, "checkpoint-7.note", note7.data, note7.len);

	if (tl_note_parse(&n, note7.data, note7.len) || tl_cosig_add(&b, &n, COSIG_TIME, witness))
		die("cosign");
	put_buf(dir, "checkpoint-7-cosigned.note", &b);

	path(proof, &np, 5, 0, N_LEAVES);
	if (tl_tlog_proof_write(&b, NULL, 0, 5, proof, np, note7.data, note7.len))
		die("tlog-proof");
	put_buf(dir, "entry-5.tlog-proof", &b);
	if (tl_tlog_proof_write(&b, (const uint8_t *)"bundle example.org 3", 20, 5, proof, np, note7.data, note7.len))
		die("tlog-proof extra");
	put_buf(dir, "entry-5-extra.tlog-proof", &b);

	np = 0;
	subproof(proof, &np, 4, 0, N_LEAVES, 1);
	if (tl_tlog_proof_write_hashes(&b, proof, np))
		die("consistency");
	put_buf(dir, "consistency-4-7.txt", &b);

	tl_signer_free(log);
	tl_signer_free(witness);
	tl_buf_free(&b);
	tl_buf_free(&note4);
	tl_buf_free(&note7);
	return 0;
}
