/*
 * What the readers learned about each certificate, kept by the SHA-256 of its DER: the
 * parsed certificate, its public key and its canonical JWK line. Every check that
 * bd_bundle__authority_from_der makes (DER parse and re-encoding, CA, extensions, key type
 * and size) and the JWK it renders are functions of the DER bytes alone, so a certificate
 * that passed them once passes them again with the same result; consecutive versions of a
 * bundle share almost all their certificates, so a new version pays only for the new ones.
 * Only certificates that passed every check are put here; checks that depend on the time
 * (validity warnings) are not cached. See docs/bundles.md, "Certificate cache".
 *
 * Bounded: CACHE_SETS x CACHE_WAYS entries (set-associative on the fingerprint, the oldest
 * entry of a full set is replaced), certificates of at most CACHE_MAX_DER bytes. The cached
 * X509 and EVP_PKEY are shared by reference count with the authorities made from them,
 * which only read them. Thread-safe (one mutex, held for a lookup or an insert only).
 */
#include "bundle_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SETS 256u
#define CACHE_WAYS 4u
#define CACHE_MAX_DER 8192u

struct slot {
	bool used;
	uint64_t stamp; /* insertion order, to find a set's oldest */
	tl_hash fp;
	X509 *cert;
	EVP_PKEY *key;
	char *jwk;
	size_t jwk_len;
};

static struct slot cache[CACHE_SETS][CACHE_WAYS];
static uint64_t clock_;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static struct slot *set_of(const tl_hash *fp)
{
	return cache[(((unsigned)fp->b[0] << 8) | fp->b[1]) % CACHE_SETS];
}

static void slot_clear(struct slot *s)
{
	X509_free(s->cert);
	EVP_PKEY_free(s->key);
	free(s->jwk);
	memset(s, 0, sizeof(*s));
}

bool bd_bundle__cache_get(X509 **cert, EVP_PKEY **key, char **jwk, size_t *jwk_len, const tl_hash *fp)
{
	struct slot *set = set_of(fp);
	bool hit = false;

	*cert = NULL;
	*key = NULL;
	*jwk = NULL;
	pthread_mutex_lock(&cache_lock);
	for (size_t w = 0; w < CACHE_WAYS && !hit; w++) {
		struct slot *s = &set[w];

		if (!s->used || !tl_hash_equal(&s->fp, fp))
			continue;
		if ((*jwk = malloc(s->jwk_len + 1)) == NULL)
			break;
		memcpy(*jwk, s->jwk, s->jwk_len + 1);
		*jwk_len = s->jwk_len;
		if (X509_up_ref(s->cert) != 1) {
			free(*jwk);
			*jwk = NULL;
			break;
		}
		*cert = s->cert;
		if (EVP_PKEY_up_ref(s->key) != 1) {
			X509_free(*cert);
			*cert = NULL;
			free(*jwk);
			*jwk = NULL;
			break;
		}
		*key = s->key;
		hit = true;
	}
	pthread_mutex_unlock(&cache_lock);
	return hit;
}

void bd_bundle__cache_put(const tl_hash *fp, size_t der_len, X509 *cert, EVP_PKEY *key, const char *jwk, size_t jwk_len)
{
	struct slot *set = set_of(fp), *victim = NULL;
	char *copy;

	if (der_len > CACHE_MAX_DER || (copy = malloc(jwk_len + 1)) == NULL)
		return;
	memcpy(copy, jwk, jwk_len);
	copy[jwk_len] = '\0';
	pthread_mutex_lock(&cache_lock);
	for (size_t w = 0; w < CACHE_WAYS; w++) {
		struct slot *s = &set[w];

		if (s->used && tl_hash_equal(&s->fp, fp)) /* another thread was first */
			goto out;
		/* the first free slot, else the oldest */
		if (victim == NULL || (victim->used && (!s->used || s->stamp < victim->stamp)))
			victim = s;
	}
	if (X509_up_ref(cert) != 1)
		goto out;
	if (EVP_PKEY_up_ref(key) != 1) {
		X509_free(cert);
		goto out;
	}
	slot_clear(victim);
	*victim = (struct slot){ true, ++clock_, *fp, cert, key, copy, jwk_len };
	copy = NULL;
out:
	pthread_mutex_unlock(&cache_lock);
	free(copy);
}

void bd_bundle__cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < CACHE_SETS; i++)
		for (size_t w = 0; w < CACHE_WAYS; w++)
			slot_clear(&cache[i][w]);
	pthread_mutex_unlock(&cache_lock);
}
