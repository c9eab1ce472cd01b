/*
 * The follower reads everything from an untrusted server: here the server's answers are the
 * fuzzer's bytes. Input layout (missing bytes read as zero):
 *
 *   u8  mode      bit 0: the checkpoint is signed here from the fields below (so that tile
 *                 and bundle answers reach the Merkle checks); else it is the first
 *                 "checkpoint" answer, raw. bits 1-2: 0 update from `old`, 1 inclusion of
 *                 `index`, 2 entries [index, index + count), 3 update on first use.
 *   u64 size, 32 bytes root            the signed checkpoint
 *   u64 old size, 32 bytes old root    the caller's stored checkpoint
 *   u64 index, u16 count, 32 bytes leaf hash
 *   then answers: u8 kind (0 checkpoint, 1 hash tile, 2 entry bundle), u32 length, bytes.
 *
 * A fetch takes the next answer of its kind (404 when none is left). Besides not crashing,
 * the follower must only fail with the documented codes, and fork evidence must verify.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "translog/follow.h"

static const char ORIGIN[] = "example.org/fuzz-follow";

static tl_signer *signer;
static tl_verifier *verifier;

struct answers {
	tl_cursor c[3];         /* per kind: the rest of the input, scanned for that kind */
	const tl_buf *checkpoint; /* the signed checkpoint, when mode bit 0 is set */
};

static void setup(void)
{
	uint8_t seed[TL_ED25519_SEED_SIZE] = { 'f', 'o', 'l', 'l', 'o', 'w' };

	if (tl_signer_from_seed(&signer, ORIGIN, TL_KEY_TYPE_ED25519, seed) != 0 ||
	    tl_verifier_from_signer(&verifier, signer) != 0)
		abort();
}

static int next_answer(tl_cursor *c, unsigned kind, tl_buf *out)
{
	while (tl_cursor_left(c) > 0) {
		const uint8_t *bytes;
		uint8_t k = 0;
		uint32_t len = 0;

		if (tl_cursor_u8(&k, c) != 0 || tl_cursor_u32be(&len, c) != 0)
			break;
		if (len > tl_cursor_left(c))
			len = (uint32_t)tl_cursor_left(c);
		if (tl_cursor_take(&bytes, c, len) != 0)
			break;
		if (k == kind)
			return tl_buf_append(out, bytes, len);
	}
	return tl_error_set(TL_E_NOTFOUND, "no answer left");
}

static int fetch(void *ctx, const char *path, tl_buf *out)
{
	struct answers *a = ctx;

	if (strcmp(path, "checkpoint") == 0) {
		if (a->checkpoint != NULL)
			return tl_buf_append(out, a->checkpoint->data, a->checkpoint->len);
		return next_answer(&a->c[0], 0, out);
	}
	return next_answer(&a->c[strncmp(path, "tile/entries/", 13) == 0 ? 2 : 1],
		strncmp(path, "tile/entries/", 13) == 0 ? 2 : 1, out);
}

static int on_entry(void *ctx, uint64_t index, const uint8_t *entry, size_t len)
{
	(void)ctx;
	(void)index;
	(void)entry;
	return len > TL_TILE_MAX_ENTRY ? TL_E_INTERNAL : 0;
}

static void check_code(int err)
{
	switch (err) {
	case 0:
	case TL_E_INPUT:
	case TL_E_NOTFOUND:
	case TL_E_CONFLICT:
	case TL_E_UNAUTHORIZED:
	case TL_E_NOMEM:
		return;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tl_cursor c = tl_cursor_make(data, size);
	tl_checkpoint cp = { .size = 0 }, old = { .size = 0 }, out;
	tl_buf note = { 0 }, got = { 0 };
	tl_hash leaf = { { 0 } }, proof[TL_MAX_PROOF_HASHES];
	struct answers a = { .checkpoint = NULL };
	tl_follow_config cfg = { .transport = { fetch, &a } };
	tl_follow_fork fork;
	uint8_t mode = 0;
	uint64_t index = 0;
	uint16_t count = 0;
	size_t n;
	int err;

	if (signer == NULL)
		setup();
	cfg.log_key = verifier;
	memcpy(cp.origin, ORIGIN, sizeof(ORIGIN));
	memcpy(old.origin, ORIGIN, sizeof(ORIGIN));
	(void)(tl_cursor_u8(&mode, &c) || tl_cursor_u64be(&cp.size, &c) || tl_cursor_copy(cp.root.b, &c, 32) ||
		tl_cursor_u64be(&old.size, &c) || tl_cursor_copy(old.root.b, &c, 32) || tl_cursor_u64be(&index, &c) ||
		tl_cursor_u16be(&count, &c) || tl_cursor_copy(leaf.b, &c, 32));
	a.c[0] = a.c[1] = a.c[2] = tl_cursor_make(tl_cursor_here(&c), tl_cursor_left(&c));
	if (old.size == 0)
		tl_hash_empty(&old.root);
	if (mode & 1) {
		if (tl_checkpoint_sign(&note, &cp, signer) != 0)
			goto out; /* not a checkpoint anyone may sign (a size over 2^63 is refused later) */
		a.checkpoint = &note;
	}

	memset(&fork, 0, sizeof(fork));
	switch ((mode >> 1) & 3) {
	case 0:
	case 3:
		err = tl_follow_update(&out, &got, &fork, &cfg, (mode >> 1 & 3) == 0 ? &old : NULL);
		check_code(err);
		if (err == TL_E_CONFLICT && !fork.rollback && fork.n_proof > 0 &&
		    tl_verify_consistency(fork.old.size, fork.new.size, fork.proof, fork.n_proof, &fork.prefix_root,
			    &fork.new.root) != 0)
			abort(); /* evidence that does not prove what it claims */
		if (err == 0 && (tl_follow_verify_checkpoint(&out, &cfg, got.data, got.len) != 0))
			abort();
		break;
	case 1:
		if (mode & 1) {
			err = tl_follow_inclusion(proof, &n, &cfg, &cp, index, &leaf);
			check_code(err);
			if (err == 0 && tl_verify_inclusion(&leaf, index, cp.size, proof, n, &cp.root) != 0)
				abort();
		}
		break;
	case 2:
		if (mode & 1)
			check_code(tl_follow_entries(&cfg, &cp, index, count, on_entry, NULL));
		break;
	}
out:
	tl_buf_free(&note);
	tl_buf_free(&got);
	return 0;
}
