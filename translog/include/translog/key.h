/*
 * Ed25519 keys in the text encodings of C2SP signed-note and golang.org/x/mod/sumdb/note:
 *
 *   signer (secret)  PRIVATE+KEY+<name>+<hex key id>+<base64(type || 32-byte seed)>
 *   verifier key     <name>+<hex key id>+<base64(type || 32-byte public key)>
 *
 * key id = SHA-256(name || 0x0A || type || public key)[:4] read as a big-endian uint32.
 * Two key types are supported: 0x01 (plain Ed25519 note signatures, used by logs and
 * publishers) and 0x04 (C2SP tlog-cosignature cosignature/v1, used by witnesses). A key of
 * one type never verifies a signature of the other, because the key id differs.
 *
 * libsodium does the cryptography; every function here initialises it as needed. A signer's
 * private key is either held here (a key file, a seed, a fresh key) or held elsewhere, such
 * as in a PKCS#11 token (translog/pkcs11.h), and reached through tl_signer_ops: everything
 * that signs (notes, checkpoints, cosignatures, the log) sees the same tl_signer either way.
 */
#ifndef TRANSLOG_KEY_H
#define TRANSLOG_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/error.h"

#define TL_KEY_TYPE_ED25519 0x01     /* signed-note Ed25519 */
#define TL_KEY_TYPE_COSIGNATURE 0x04 /* tlog-cosignature cosignature/v1 (timestamped Ed25519) */

/* Key names are at most this many bytes (the spec sets no limit; checkpoint origins, which
 * must equal the log's key name, are capped at the same length). */
#define TL_MAX_KEY_NAME 255
#define TL_ED25519_PUBLIC_KEY_SIZE 32
#define TL_ED25519_SEED_SIZE 32
#define TL_ED25519_SIGNATURE_SIZE 64
/* A key file or a verifier key string is never longer than this. */
#define TL_MAX_KEY_TEXT 1024

typedef struct tl_signer tl_signer;     /* Ed25519 signing key with its name, type and key id */
typedef struct tl_verifier tl_verifier; /* a verifier key: name, key id, type, public key */

/* Initialises libsodium (idempotent, thread-safe). TL_E_INTERNAL if it cannot start. */
int tl_crypto_init(void) TL_MUST_USE;

/* True when `name` (len bytes) is a valid signed-note key name: non-empty, valid UTF-8, no
 * Unicode white space, no '+', no ASCII control characters. No length limit is applied
 * here (signature lines may name keys of any length); parsed and generated keys also have
 * to fit TL_MAX_KEY_NAME. */
int tl_key_name_valid(const char *name, size_t len);

/* The signed-note key id of a public key. */
uint32_t tl_key_id(const char *name, size_t name_len, uint8_t type, const uint8_t *pub, size_t pub_len);

/* A fresh random Ed25519 key of type TL_KEY_TYPE_ED25519 named `name`. */
int tl_signer_generate(tl_signer **out, const char *name) TL_MUST_USE;
/* The same for a chosen type (TL_KEY_TYPE_ED25519 or TL_KEY_TYPE_COSIGNATURE). */
int tl_signer_generate_typed(tl_signer **out, const char *name, uint8_t type) TL_MUST_USE;
/* A key from a 32-byte seed (deterministic: tests and vectors). */
int tl_signer_from_seed(tl_signer **out, const char *name, uint8_t type, const uint8_t seed[TL_ED25519_SEED_SIZE]) TL_MUST_USE;

/* How a signer whose private key is not in this process signs. `sign` writes a raw Ed25519
 * signature of msg (as tl_signer_sign promises) or returns a negative tl_err with a message
 * set; it may be called from several threads, so it serialises what needs serialising.
 * `release` frees ctx (may be NULL). */
struct tl_signer_ops {
	int (*sign)(void *ctx, uint8_t sig[TL_ED25519_SIGNATURE_SIZE], const void *msg, size_t len);
	void (*release)(void *ctx);
};

/* A signer named `name` of key type `type` whose public key is `pub` and whose signatures
 * come from ops->sign(ctx, ...). Every signature it returns is checked against `pub` before
 * tl_signer_sign hands it out (TL_E_INTERNAL if it does not verify), so a token that signs
 * with another key is caught at the first signature. On success the signer owns ctx (freed
 * through ops->release by tl_signer_free); on failure the caller still does. `ops` must
 * outlive the signer. tl_signer_format and tl_signer_save refuse such a signer (TL_E_INPUT):
 * its secret is not here to export. */
int tl_signer_from_ops(tl_signer **out, const char *name, uint8_t type, const uint8_t pub[TL_ED25519_PUBLIC_KEY_SIZE],
	const struct tl_signer_ops *ops, void *ctx) TL_MUST_USE;

/* Parses "PRIVATE+KEY+<name>+<hex keyid>+<base64(type||seed)>" with one optional trailing
 * newline. The key id must be lowercase hex and must match the key derived from the seed.
 * TL_E_INPUT on anything else; the message never contains secret bytes. */
int tl_signer_parse(tl_signer **out, const char *text, size_t len) TL_MUST_USE;

/* Reads a key file written by tl_signer_save. Refuses (TL_E_INPUT) files that are not
 * regular files or that group or others may access in any way (mode & 077), as ssh does;
 * TL_E_IO if it cannot be read. */
int tl_signer_load(tl_signer **out, const char *path) TL_MUST_USE;

/* Writes the private key text and a newline to a new file created with mode 0600. Never
 * overwrites (O_EXCL: TL_E_CONFLICT if the path exists); fsyncs the file and its directory.
 * On failure no partial file is left behind. */
int tl_signer_save(const tl_signer *s, const char *path) TL_MUST_USE;

/* Appends the private key text "PRIVATE+KEY+..." (no newline). Secret: wipe `out` after.
 * TL_E_INPUT for a signer made by tl_signer_from_ops. */
int tl_signer_format(tl_buf *out, const tl_signer *s) TL_MUST_USE;

/* Appends the verifier key "name+hex(keyid)+base64(type||pubkey)" (no newline). */
int tl_signer_vkey(tl_buf *out, const tl_signer *s) TL_MUST_USE;

const char *tl_signer_name(const tl_signer *s);
uint32_t tl_signer_key_id(const tl_signer *s);
uint8_t tl_signer_type(const tl_signer *s);
const uint8_t *tl_signer_public_key(const tl_signer *s); /* 32 bytes */

/* A raw Ed25519 signature of msg (no note framing, no type prefix). Callers that need
 * domain separation put it in msg. */
int tl_signer_sign(uint8_t sig[TL_ED25519_SIGNATURE_SIZE], const tl_signer *s, const void *msg, size_t len) TL_MUST_USE;

/* Wipes the secret key (sodium_memzero), releases an ops signer's ctx, and frees. NULL is
 * allowed. */
void tl_signer_free(tl_signer *s);

/* Parses a verifier key "name+hex(keyid)+base64(type||pubkey)" with one optional trailing
 * newline. The type must be 0x01 or 0x04 with a 32-byte key, the key id lowercase hex and
 * correct for name, type and key. TL_E_INPUT on anything else. */
int tl_verifier_parse(tl_verifier **out, const char *vkey, size_t len) TL_MUST_USE;

/* A verifier from its parts (e.g. a publisher key registered as raw bytes). */
int tl_verifier_make(tl_verifier **out, const char *name, uint8_t type, const uint8_t pub[TL_ED25519_PUBLIC_KEY_SIZE]) TL_MUST_USE;

/* The verifier of a signer's key. */
int tl_verifier_from_signer(tl_verifier **out, const tl_signer *s) TL_MUST_USE;

/* Appends the verifier key text (no newline); tl_verifier_parse reads it back. */
int tl_verifier_format(tl_buf *out, const tl_verifier *v) TL_MUST_USE;

const char *tl_verifier_name(const tl_verifier *v);
uint32_t tl_verifier_key_id(const tl_verifier *v);
uint8_t tl_verifier_type(const tl_verifier *v);
const uint8_t *tl_verifier_public_key(const tl_verifier *v); /* 32 bytes */

/* Refuses (TL_E_INPUT) a list of known keys (NULL entries are skipped) in which one key
 * appears twice: the same name and key id, or the same type and public key under two names.
 * A signature does not bind the name: a line by one key can be copied under another name
 * with the key id that name gives, so one key listed twice would be counted as two signers
 * (a witness quorum met by one witness). */
int tl_verifier_check_distinct(const tl_verifier *const *keys, size_t n) TL_MUST_USE;

/* Checks a raw Ed25519 signature (as tl_signer_sign makes) over msg: 0 if valid,
 * TL_E_UNAUTHORIZED if not (including a signature of the wrong length). */
int tl_verifier_verify(const tl_verifier *v, const void *msg, size_t len, const uint8_t *sig, size_t sig_len) TL_MUST_USE;

void tl_verifier_free(tl_verifier *v);

/* Raw cosignatures (tlog-cosignature "cosignature/v1", see cosig.h for the line format): the
 * signed message and the check of one decoded signature, next to the key code so that note.c
 * (which verifies every signature of a note) needs nothing above it. */
#define TL_COSIG_HEADER "cosignature/v1\n"
#define TL_COSIG_MAX_TIMESTAMP ((uint64_t)INT64_MAX)

/* Appends the signed message: header line, time line, then body. */
int tl_cosig_message(tl_buf *out, uint64_t timestamp, const uint8_t *body, size_t len) TL_MUST_USE;

/* Checks a decoded cosignature: 0 or TL_E_UNAUTHORIZED (bad signature, timestamp above
 * 2^63-1, or a verifier that is not of type 0x04). */
int tl_cosig_verify_raw(const tl_verifier *witness, const uint8_t *body, size_t len, uint64_t timestamp,
	const uint8_t *sig, size_t sig_len) TL_MUST_USE;

#endif
