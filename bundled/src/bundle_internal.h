/*
 * Shared by the bundle modules, which form layers; each calls only the layers below it:
 *   bundle_parse.c                            the entry point that sniffs the format
 *   bundle_json.c  bundle_pem.c  bundle_der.c one reader and its writer per format
 *   bundle.c                                  the model: authorities, order, validity
 *   bundle_jwk.c                              key helpers: key checks, EVP_PKEY <-> JWK
 * Not installed.
 */
#ifndef BUNDLED_BUNDLE_INTERNAL_H
#define BUNDLED_BUNDLE_INTERNAL_H

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bundled/bundle.h"
#include "translog/text.h"

struct bd_authority {
	bd_authority_kind kind;
	EVP_PKEY *key;
	X509 *cert;        /* X.509 only */
	uint8_t *der;      /* X.509 only */
	size_t der_len;
	char *kid;         /* JWT and WIT only */
	char *jwk;         /* canonical JWK line, no trailing ",\n" */
	size_t jwk_len;
	tl_hash fp;
	size_t origin;     /* position in the input it was read from, for messages */
};

struct bd_bundle {
	bool has_sequence, has_refresh_hint;
	uint64_t sequence, refresh_hint;
	bd_bundle_format format;
	bd_authority **auth;
	size_t n, alloc;
};

/* Room for a user-supplied string quoted in a message (through tl_text_printable). */
#define BD_BUNDLE__SHOWN 48

/* ---- bundle_jwk.c: public keys <-> JWK members ---- */

/* Checks that `key` is of a supported type and size (EC P-256/P-384/P-521, RSA within
 * BD_RSA_*_BITS, Ed25519). */
int bd_jwk__key_check(const EVP_PKEY *key) TL_MUST_USE;

/* Appends the JWK members that describe `key`, for the canonical line of an authority whose
 * "use" is `use` (with `kid` if not NULL, x5c from `der` if not NULL), members sorted by name:
 * {"crv":..,"e":..,"kid":..,"kty":..,"n":..,"use":..,"x":..,"x5c":[..],"y":..}. */
int bd_jwk__write(tl_buf *out, const EVP_PKEY *key, const char *use, const char *kid,
	const uint8_t *der, size_t der_len) TL_MUST_USE;

/* Reads the public key of a JWK object (kty EC, RSA or OKP and their members); rejects
 * private key members. Messages carry no entry label (the caller wraps them). */
int bd_jwk__read_key(EVP_PKEY **out, const json_t *jwk) TL_MUST_USE;

/* OpenSSL's first queued error reason (or "unknown reason"), clearing the queue. */
const char *bd_jwk__ssl_reason(void);

/* ---- bundle_cache.c: checked certificates by the SHA-256 of their DER ---- */

/* A hit gives new references to the cached certificate and key and a malloc'ed copy of the
 * JWK line (NUL-terminated); a miss (or no memory) returns false with all three NULL. */
bool bd_bundle__cache_get(X509 **cert, EVP_PKEY **key, char **jwk, size_t *jwk_len, const tl_hash *fp);

/* Remembers a certificate that passed every check of bd_bundle__authority_from_der (takes
 * its own references; does nothing if memory is short or the DER is over the size bound). */
void bd_bundle__cache_put(const tl_hash *fp, size_t der_len, X509 *cert, EVP_PKEY *key, const char *jwk,
	size_t jwk_len);

/* Forgets every certificate (benchmarks measure the cold path with it). */
void bd_bundle__cache_clear(void);

/* ---- bundle.c: the model ---- */

/* A new authority from a certificate's DER: one CA certificate, a supported key, nothing
 * after the DER. Messages carry no entry label (the caller wraps them). */
int bd_bundle__authority_from_der(bd_authority **out, const uint8_t *der, size_t len) TL_MUST_USE;

/* A new JWT or WIT authority; takes ownership of `key` on success and on failure. */
int bd_bundle__authority_from_key(bd_authority **out, bd_authority_kind kind, const char *kid, EVP_PKEY *key)
	TL_MUST_USE;

void bd_bundle__authority_free(bd_authority *a);

/* Appends an authority read from the input (the bundle owns it on success and failure);
 * checks BD_MAX_AUTHORITIES. Order and duplicates are settled by bd_bundle__parse_done. */
int bd_bundle__push(bd_bundle *b, bd_authority *a) TL_MUST_USE;

/* "keys[3] (x509-svid)", "PEM block 2", "DER certificate 1": where an authority came from. */
void bd_bundle__origin_label(char *buf, size_t size, bd_bundle_format format, size_t origin, bd_authority_kind kind);

/* The reader's common ending: finish, record the format, check validity at the current time. */
int bd_bundle__parse_done(bd_bundle *b, bd_bundle_report *report) TL_MUST_USE;

#endif
