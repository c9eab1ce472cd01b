/*
 * The SPIFFE trust bundle model: a set of authorities (X.509 CA certificates and JWT/WIT
 * signing keys) with an optional spiffe_sequence and spiffe_refresh_hint; strict readers of
 * SPIFFE bundle JSON, plain JWKS, PEM and concatenated DER; and the writers, first of all
 * the canonical form: one deterministic SPIFFE bundle JSON document per set of authorities,
 * which is what the transparency log commits to and IPFS stores.
 *
 * The exact rules (what is rejected, the canonical bytes, the fingerprint) are in
 * docs/bundles.md. In short:
 *  - Readers are strict like go-spiffe and SPIRE: any malformed or unsupported entry rejects
 *    the whole document, and the message names the entry ("keys[3] (x509-svid): ...",
 *    "PEM block 2: ...").
 *  - Every authority's key is re-derived from its key material, so the canonical bytes
 *    depend only on the set of authorities, the sequence and the refresh hint.
 *  - Authorities are kept in canonical order: X.509 CAs by SHA-256 of their DER, then JWT
 *    keys by kid, then WIT keys by kid. Index i of a bundle is line i+1 of its canonical form.
 *
 * A bd_bundle is not thread-safe to modify; concurrent readers of one bundle are fine.
 */
#ifndef BUNDLED_BUNDLE_H
#define BUNDLED_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/error.h"
#include "translog/hash.h"

/* Limits on what the readers accept. A document over a limit is rejected, never cut. */
#define BD_MAX_BUNDLE_SIZE (16u << 20) /* bytes of any input, and of the canonical form */
#define BD_MAX_AUTHORITIES 65536u      /* authorities in one bundle */
#define BD_MAX_JWK_MEMBERS 32u         /* members of one JWK object */
#define BD_MAX_JWK_SIZE (64u << 10)    /* bytes of one canonical JWK line */
#define BD_MAX_CERT_SIZE (32u << 10)   /* bytes of one certificate's DER */
#define BD_MAX_KID_SIZE 256u           /* bytes of one kid (UTF-8) */
#define BD_MAX_PEM_LINE 4096u          /* bytes of one PEM line, comments included */
#define BD_RSA_MIN_BITS 512u           /* RSA modulus sizes accepted (key strength */
#define BD_RSA_MAX_BITS 16384u         /*   policy is the relying party's business) */
#define BD_MAX_REFRESH_HINT 2147483647u /* seconds (68 years): fits every consumer's int */
#define BD_MAX_WARNINGS 256u           /* warnings kept in a report; more are counted */

typedef struct bd_bundle bd_bundle;
typedef struct bd_authority bd_authority;

typedef enum bd_authority_kind {
	BD_AUTHORITY_X509 = 1, /* use "x509-svid": one CA certificate */
	BD_AUTHORITY_JWT = 2,  /* use "jwt-svid": a JWT-SVID signing key with a kid */
	BD_AUTHORITY_WIT = 3,  /* use "wit-svid": a WIT-SVID signing key with a kid */
} bd_authority_kind;

/* What a document was read as. */
typedef enum bd_bundle_format {
	BD_FORMAT_NONE = 0,
	BD_FORMAT_SPIFFE = 1, /* SPIFFE bundle: JWKS whose keys carry "use" */
	BD_FORMAT_JWKS = 2,   /* plain JWKS, no key has "use": a JWT bundle (go-spiffe jwtbundle) */
	BD_FORMAT_PEM = 3,    /* PEM CERTIFICATE blocks, text between them allowed */
	BD_FORMAT_DER = 4,    /* concatenated DER certificates (the Workload API's form) */
} bd_bundle_format;

/* What a reader noticed without rejecting the document: the input format, and one-line
 * warnings (e.g. expired or not yet valid CAs) the caller may print. Zero-initialise it;
 * free it with bd_bundle_report_free. */
typedef struct bd_bundle_report {
	bd_bundle_format format;
	size_t n_warnings;  /* entries in `warnings` (at most BD_MAX_WARNINGS) */
	char **warnings;    /* each a NUL-terminated line without '\n' */
	size_t n_dropped;   /* warnings beyond BD_MAX_WARNINGS, counted but not kept */
	size_t warnings_alloc; /* room in `warnings` (the readers' business) */
} bd_bundle_report;

void bd_bundle_report_free(bd_bundle_report *report);

/* ---- reading ---- */

/* Reader flags (0 is the strict default). BD_PARSE_ALLOW_EMPTY: read an input with no
 * content (0 bytes, or only white space) as an empty bundle. Without it such an input is
 * refused: a 0-byte download or a truncated file would otherwise become a bundle that
 * trusts nothing, and publishing that is an outage (docs/bundles.md). An explicit
 * `{"keys":[]}` is a document, not an empty input: it is read either way. */
#define BD_PARSE_ALLOW_EMPTY 1u
/* BD_PARSE_SKIP_REFUSED (PEM only, and only with a report): a CERTIFICATE block whose
 * certificate is refused (not a CA, a negative serial number, explicit curve parameters...)
 * is left out instead of refusing the file, and the report gets one warning per block left
 * out ("PEM block 66 left out: ..."). For publishers of a public CA store, which carries
 * certificates that Go, and so SPIRE, refuses; never implied. Malformed PEM is still refused. */
#define BD_PARSE_SKIP_REFUSED 2u

/* Reads a bundle of any supported text format, chosen by content: a document whose first
 * non-whitespace byte is '{' is SPIFFE JSON (or a plain JWKS), anything else is PEM.
 * `flags` are the BD_PARSE_* flags above. On success *out owns a new bundle and `report`
 * (if not NULL) holds the format and the validity warnings at the current time. On failure
 * *out is NULL and TL_E_INPUT is returned with the exact reason (TL_E_NOMEM if memory ran
 * out); no warnings are added. */
int bd_bundle_parse(bd_bundle **out, const uint8_t *data, size_t len, unsigned flags, bd_bundle_report *report)
	TL_MUST_USE;

/* The same, for a known format. parse_json takes SPIFFE bundles and plain JWKS. An input
 * with no content is refused unless BD_PARSE_ALLOW_EMPTY (then PEM and DER read it as an
 * empty bundle); a non-empty PEM input without any block is rejected. */
int bd_bundle_parse_json(bd_bundle **out, const uint8_t *data, size_t len, unsigned flags,
	bd_bundle_report *report) TL_MUST_USE;
int bd_bundle_parse_pem(bd_bundle **out, const uint8_t *data, size_t len, unsigned flags,
	bd_bundle_report *report) TL_MUST_USE;
int bd_bundle_parse_der(bd_bundle **out, const uint8_t *data, size_t len, unsigned flags,
	bd_bundle_report *report) TL_MUST_USE;

/* Adds to `report` a warning for each X.509 authority that is expired or not yet valid at
 * `now` (seconds since the epoch). The readers call it with the current time. */
int bd_bundle_check_validity(bd_bundle_report *report, const bd_bundle *b, int64_t now) TL_MUST_USE;

/* ---- writing ---- (each appends to `out`; out->cap bounds the output) */

/* The canonical SPIFFE bundle JSON (docs/bundles.md). Fails if it would be larger than
 * BD_MAX_BUNDLE_SIZE, so canonical bytes can always be read back. Reading canonical bytes
 * and writing them again gives the same bytes. */
int bd_bundle_write_canonical(tl_buf *out, const bd_bundle *b) TL_MUST_USE;

/* The X.509 authorities as PEM CERTIFICATE blocks (64-column base64, no comments), in
 * canonical order. No X.509 authorities: no bytes. */
int bd_bundle_write_pem(tl_buf *out, const bd_bundle *b) TL_MUST_USE;

/* The X.509 authorities' DER, concatenated in canonical order (the Workload API's form). */
int bd_bundle_write_der(tl_buf *out, const bd_bundle *b) TL_MUST_USE;

/* A plain JWKS {"keys":[...]} of the JWT authorities only, one canonical JWK (with
 * "use":"jwt-svid" and its kid) per line, as a JWT bundle consumer expects. */
int bd_bundle_write_jwks(tl_buf *out, const bd_bundle *b) TL_MUST_USE;

/* ---- the model ---- */

/* A new empty bundle (no authorities, no sequence, no refresh hint). */
int bd_bundle_new(bd_bundle **out) TL_MUST_USE;
void bd_bundle_free(bd_bundle *b);

/* The sequence and refresh hint: true and *out set if present, false if absent. */
bool bd_bundle_sequence(uint64_t *out, const bd_bundle *b);
bool bd_bundle_refresh_hint(uint64_t *out, const bd_bundle *b);
void bd_bundle_set_sequence(bd_bundle *b, uint64_t sequence);
void bd_bundle_clear_sequence(bd_bundle *b);
/* Fails with TL_E_INPUT above BD_MAX_REFRESH_HINT. */
int bd_bundle_set_refresh_hint(bd_bundle *b, uint64_t seconds) TL_MUST_USE;
void bd_bundle_clear_refresh_hint(bd_bundle *b);

/* Adds one X.509 CA certificate (DER) under the readers' rules: TL_E_INPUT if it is not one
 * well-formed CA certificate with a supported key, TL_E_CONFLICT if the bundle already
 * holds it. */
int bd_bundle_add_x509_der(bd_bundle *b, const uint8_t *der, size_t len) TL_MUST_USE;

/* The format the bundle was read from (BD_FORMAT_NONE for bd_bundle_new). */
bd_bundle_format bd_bundle_input_format(const bd_bundle *b);

/* Authorities in canonical order; i < bd_bundle_count(b). The pointer lives as long as the
 * bundle is not modified. */
size_t bd_bundle_count(const bd_bundle *b);
const bd_authority *bd_bundle_at(const bd_bundle *b, size_t i);

/* The index of the authority with fingerprint `fp`, or TL_E_NOTFOUND. */
int bd_bundle_find(size_t *index, const bd_bundle *b, const tl_hash *fp) TL_MUST_USE;

/* Removes the authority with fingerprint `fp` (revocation), or TL_E_NOTFOUND. */
int bd_bundle_remove(bd_bundle *b, const tl_hash *fp) TL_MUST_USE;

bd_authority_kind bd_authority_get_kind(const bd_authority *a);

/* "x509-svid", "jwt-svid" or "wit-svid". */
const char *bd_authority_kind_name(bd_authority_kind kind);

/* The authority's identity, unique within a bundle and what a revocation names:
 *   X.509:    SHA-256 of the certificate's DER (what `openssl x509 -fingerprint -sha256` shows);
 *   JWT, WIT: SHA-256 of the authority's canonical JWK line, without the trailing ",\n"
 *             (so it covers use, kid and the key: the same key under two kids is two
 *             authorities). */
const tl_hash *bd_authority_fingerprint(const bd_authority *a);

/* The kid of a JWT or WIT authority; NULL for X.509. */
const char *bd_authority_kid(const bd_authority *a);

/* The certificate DER of an X.509 authority (*len set); NULL for JWT and WIT. */
const uint8_t *bd_authority_cert_der(const bd_authority *a, size_t *len);

/* The authority's canonical JWK (no trailing comma or newline) and its length. */
const char *bd_authority_jwk(const bd_authority *a, size_t *len);

/* The certificate's validity window in seconds since the epoch; false for JWT and WIT. */
bool bd_authority_validity(int64_t *not_before, int64_t *not_after, const bd_authority *a);

#endif
