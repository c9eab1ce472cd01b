#include "translog/hash.h"

#include <pthread.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

/* SHA-256 through EVP with a per-thread context and a pre-fetched digest: hashing is the hot
 * path of appends and proofs, and EVP_Digest() would fetch and allocate on every call. */
static _Thread_local EVP_MD_CTX *thread_ctx;
static EVP_MD *sha256_md;
/* Frees a thread's context when the thread exits (the log's committer and appenders come
 * and go), which a _Thread_local alone would leak. */
static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void ctx_free(void *ctx)
{
	EVP_MD_CTX_free(ctx);
	thread_ctx = NULL;
}

static void ctx_key_init(void)
{
	if (pthread_key_create(&ctx_key, ctx_free) != 0)
		abort();
}

static void hash_parts(tl_hash *out, const void *a, size_t alen, const void *b, size_t blen)
{
	if (sha256_md == NULL) {
		EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);

		/* Racing threads may both fetch; the loser's reference is released. */
		if (md == NULL || !__atomic_compare_exchange_n(&sha256_md, &(EVP_MD *){ NULL }, md, 0,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			EVP_MD_free(md);
	}
	if (thread_ctx == NULL) {
		thread_ctx = EVP_MD_CTX_new();
		pthread_once(&ctx_once, ctx_key_init);
		pthread_setspecific(ctx_key, thread_ctx);
	}
	/* SHA-256 through OpenSSL cannot fail short of memory exhaustion, which we do not survive. */
	if (thread_ctx == NULL || sha256_md == NULL || !EVP_DigestInit_ex(thread_ctx, sha256_md, NULL) ||
	    !EVP_DigestUpdate(thread_ctx, a, alen) || (blen && !EVP_DigestUpdate(thread_ctx, b, blen)) ||
	    !EVP_DigestFinal_ex(thread_ctx, out->b, NULL))
		abort();
}

void tl_sha256(tl_hash *out, const void *data, size_t len)
{
	hash_parts(out, data, len, NULL, 0);
}

void tl_hash_leaf(tl_hash *out, const void *entry, size_t len)
{
	static const unsigned char prefix = 0x00;

	hash_parts(out, &prefix, 1, entry, len);
}

void tl_hash_node(tl_hash *out, const tl_hash *left, const tl_hash *right)
{
	unsigned char buf[1 + 2 * TL_HASH_SIZE];

	buf[0] = 0x01;
	for (int i = 0; i < TL_HASH_SIZE; i++) {
		buf[1 + i] = left->b[i];
		buf[1 + TL_HASH_SIZE + i] = right->b[i];
	}
	hash_parts(out, buf, sizeof(buf), NULL, 0);
}

void tl_hash_empty(tl_hash *out)
{
	hash_parts(out, "", 0, NULL, 0);
}

int tl_hash_equal(const tl_hash *a, const tl_hash *b)
{
	return CRYPTO_memcmp(a->b, b->b, TL_HASH_SIZE) == 0;
}
