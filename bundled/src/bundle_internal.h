/*
 * Shared by the bundle modules, which form layers; each calls only the layers below it:
 *   bundle_parse.c                            the entry point that sniffs the format
 *   bundle_json.c  bundle_pem.c  bundle_der.c one reader and its writer per format
 *   bundle_jose.c                             what go-jose reads of a JWK (JSON reader's)
 *   bundle.c                                  the model: authorities, order, validity
 *   bundle_jwk.c  bundle_x509.c               key helpers; Go's certificate parsing rules
 *   bundle_url.c                              Go's URL parsing rules (x509 SANs, JWK x5u)
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

/* A domain-separated SHA-256 of the members a JWK's public key is read from (kty, crv, x,
 * y, n, e: the key, its checks and any refusal are a function of them alone). False if one
 * of them is not a string (nothing worth keeping: the read refuses it). */
bool bd_jwk__params_fp(tl_hash *out, const json_t *jwk);

/* Reads the public key of a JWK object (kty EC, RSA or OKP and their members); rejects
 * private key members. Messages carry no entry label (the caller wraps them). `fp` is
 * bd_jwk__params_fp of the object, or NULL: with it, a key read before comes from the cache
 * (bundle_cache.c) and a newly read one goes there. */
int bd_jwk__read_key(EVP_PKEY **out, const json_t *jwk, const tl_hash *fp) TL_MUST_USE;

/* ---- bundle_x509.c: what Go's crypto/x509 parser refuses and OpenSSL takes ---- */

#define BD_X509__MAX_EXTENSIONS 64

/* Applies Go's certificate parsing rules (parseCertificate, processExtensions) to one DER
 * certificate OpenSSL has read: TL_E_INPUT with the rule broken (negative serial, explicit
 * EC parameters, a critical key identifier, a malformed name or time, ...). */
int bd_x509__go_check(const uint8_t *der, size_t len) TL_MUST_USE;

/* ---- bundle_url.c: the URLs Go's url.Parse refuses ---- */

/* 0 for a URL Go's net/url.Parse reads, with *host set to its host (port included, as Go's
 * URL.Host; NULL and 0 when it has no authority); TL_E_INPUT otherwise. */
int bd_url__check(const char **host, size_t *host_len, const char *s, size_t len) TL_MUST_USE;

/* Strict unpadded base64url (RFC 7515 §2, zero pad bits): decodes at most out_cap bytes. */
int bd_jwk__b64url_decode(uint8_t *out, size_t out_cap, size_t *out_len, const char *in, size_t in_len) TL_MUST_USE;

/* ---- bundle_jose.c: what go-jose and Go's encoding/json refuse in the JSON ---- */

/* Checks the members of one JWK that go-jose decodes (string members, base64url key
 * parameters, x5u as a URL, x5t and x5t#S256 as digests, which must be those of `der`
 * when it is not NULL). Messages carry no entry label. */
int bd_jose__check_members(const json_t *jwk, const uint8_t *der, size_t der_len) TL_MUST_USE;

/* Refuses a top-level member that Go's case-insensitive JSON decoder reads as "keys",
 * "spiffe_sequence" or "spiffe_refresh_hint" without being spelled so. */
int bd_jose__check_top_members(json_t *root) TL_MUST_USE;

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

/* The same for what was learned from JWK members alone: a public key (jwk NULL) or a JWT
 * authority's canonical line with its key, under a domain-separated hash of what it is a
 * function of (bd_jwk__params_fp and bd_bundle__authority_from_key). A hit gives a new
 * reference to the key and a malloc'ed copy of the line (NULL if none was kept). */
bool bd_bundle__cache_get_key(EVP_PKEY **key, char **jwk, size_t *jwk_len, const tl_hash *fp);
void bd_bundle__cache_put_key(const tl_hash *fp, EVP_PKEY *key, const char *jwk, size_t jwk_len);

/* Forgets every certificate and key (benchmarks measure the cold path with it). */
void bd_bundle__cache_clear(void);

/* ---- bundle.c: the model ---- */

/* A new authority from a certificate's DER: one CA certificate, a supported key, nothing
 * after the DER. Messages carry no entry label (the caller wraps them). */
int bd_bundle__authority_from_der(bd_authority **out, const uint8_t *der, size_t len) TL_MUST_USE;

/* A new JWT or WIT authority; takes ownership of `key` on success and on failure. `key_fp`
 * is bd_jwk__params_fp of the JWK the key was read from, or NULL: with it, the canonical
 * line made before for the same key, kind and kid comes from the cache (the checks of the
 * key and the rendering are functions of those alone). */
int bd_bundle__authority_from_key(bd_authority **out, bd_authority_kind kind, const char *kid, EVP_PKEY *key,
	const tl_hash *key_fp)
	TL_MUST_USE;

void bd_bundle__authority_free(bd_authority *a);

/* Appends an authority read from the input (the bundle owns it on success and failure);
 * checks BD_MAX_AUTHORITIES. Order and duplicates are settled by bd_bundle__parse_done. */
int bd_bundle__push(bd_bundle *b, bd_authority *a) TL_MUST_USE;

/* "keys[3] (x509-svid)", "PEM block 2", "DER certificate 1": where an authority came from. */
void bd_bundle__origin_label(char *buf, size_t size, bd_bundle_format format, size_t origin, bd_authority_kind kind);

/* The reader's common ending: finish, record the format, check validity at the current time. */
/* The readers' first check: TL_E_INPUT for input over BD_MAX_BUNDLE_SIZE, and for an input
 * with no content (0 bytes, or only space, tab, CR and LF) unless BD_PARSE_ALLOW_EMPTY. */
int bd_bundle__check_input(const uint8_t *data, size_t len, unsigned flags) TL_MUST_USE;

int bd_bundle__parse_done(bd_bundle *b, bd_bundle_report *report) TL_MUST_USE;

/* Adds a warning line to a report (NULL report: nothing). */
int bd_bundle__report_warn(bd_bundle_report *report, const char *fmt, ...) TL_PRINTF(2, 3) TL_MUST_USE;

#endif
