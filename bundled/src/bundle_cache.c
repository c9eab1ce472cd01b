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
 * The same table keeps what was learned from JWK members (no certificate): the public key
 * of a JWK's key parameters, and the canonical line of a JWT authority, each under a
 * domain-separated SHA-256 of what it is a function of (bundle_jwk.c, bundle.c), so a key
 * seen before costs a hash instead of an OpenSSL import, its checks and its re-encoding.
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

/* A hit on an entry with a certificate if `cert` is not NULL, one without otherwise (the
 * keys of the two kinds are different hashes, this only keeps a mix-up impossible). */
static bool lookup(X509 **cert, EVP_PKEY **key, char **jwk, size_t *jwk_len, const tl_hash *fp)
{
	struct slot *set = set_of(fp);
	bool hit = false;

	if (cert != NULL)
		*cert = NULL;
	*key = NULL;
	*jwk = NULL;
	*jwk_len = 0;
	pthread_mutex_lock(&cache_lock);
	for (size_t w = 0; w < CACHE_WAYS && !hit; w++) {
		struct slot *s = &set[w];

		if (!s->used || !tl_hash_equal(&s->fp, fp) || (cert != NULL) != (s->cert != NULL))
			continue;
		if (s->jwk != NULL) {
			if ((*jwk = malloc(s->jwk_len + 1)) == NULL)
				break;
			memcpy(*jwk, s->jwk, s->jwk_len + 1);
			*jwk_len = s->jwk_len;
		}
		if (cert != NULL && X509_up_ref(s->cert) != 1)
			break;
		if (EVP_PKEY_up_ref(s->key) != 1) {
			if (cert != NULL)
				X509_free(s->cert);
			break;
		}
		if (cert != NULL)
			*cert = s->cert;
		*key = s->key;
		hit = true;
	}
	pthread_mutex_unlock(&cache_lock);
	if (!hit) {
		free(*jwk);
		*jwk = NULL;
		*jwk_len = 0;
	}
	return hit;
}

/* Takes its own references; cert and jwk may be NULL. */
static void insert(const tl_hash *fp, X509 *cert, EVP_PKEY *key, const char *jwk, size_t jwk_len)
{
	struct slot *set = set_of(fp), *victim = NULL;
	char *copy = NULL;

	if (jwk != NULL) {
		if ((copy = malloc(jwk_len + 1)) == NULL)
			return;
		memcpy(copy, jwk, jwk_len);
		copy[jwk_len] = '\0';
	}
	pthread_mutex_lock(&cache_lock);
	for (size_t w = 0; w < CACHE_WAYS; w++) {
		struct slot *s = &set[w];

		if (s->used && tl_hash_equal(&s->fp, fp)) /* another thread was first */
			goto out;
		/* the first free slot, else the oldest */
		if (victim == NULL || (victim->used && (!s->used || s->stamp < victim->stamp)))
			victim = s;
	}
	if (cert != NULL && X509_up_ref(cert) != 1)
		goto out;
	if (EVP_PKEY_up_ref(key) != 1) {
		X509_free(cert);
		goto out;
	}
	slot_clear(victim);
	*victim = (struct slot){ true, ++clock_, *fp, cert, key, copy, copy != NULL ? jwk_len : 0 };
	copy = NULL;
out:
	pthread_mutex_unlock(&cache_lock);
	free(copy);
}

bool bd_bundle__cache_get(X509 **cert, EVP_PKEY **key, char **jwk, size_t *jwk_len, const tl_hash *fp)
{
	return lookup(cert, key, jwk, jwk_len, fp);
}

void bd_bundle__cache_put(const tl_hash *fp, size_t der_len, X509 *cert, EVP_PKEY *key, const char *jwk, size_t jwk_len)
{
	if (der_len <= CACHE_MAX_DER)
		insert(fp, cert, key, jwk, jwk_len);
}

bool bd_bundle__cache_get_key(EVP_PKEY **key, char **jwk, size_t *jwk_len, const tl_hash *fp)
{
	return lookup(NULL, key, jwk, jwk_len, fp);
}

void bd_bundle__cache_put_key(const tl_hash *fp, EVP_PKEY *key, const char *jwk, size_t jwk_len)
{
	insert(fp, NULL, key, jwk, jwk_len);
}

void bd_bundle__cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < CACHE_SETS; i++)
		for (size_t w = 0; w < CACHE_WAYS; w++)
			slot_clear(&cache[i][w]);
	pthread_mutex_unlock(&cache_lock);
}
