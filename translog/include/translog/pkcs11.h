/*
 * Ed25519 signing keys held in a PKCS#11 token (an HSM, a smart card, SoftHSM2), named by an
 * RFC 7512 URI such as
 *
 *     pkcs11:token=bundled;object=log-key?module-path=/usr/lib/softhsm/libsofthsm2.so
 *
 * The key signs with CKM_EDDSA (PKCS#11 3.0, Ed25519 on CKK_EC_EDWARDS keys). The module is
 * loaded with dlopen when a key is opened, so linking translog adds no PKCS#11 library:
 * verification-only users never load one. A token key is an ordinary tl_signer
 * (tl_signer_from_ops), so notes, checkpoints, cosignatures and the log sign with it unchanged.
 *
 * The note key name and type of a token key live in the token beside it, in a public data
 * object (CKO_DATA, CKA_APPLICATION "bundled verifier key", the key's CKA_LABEL) that holds
 * its verifier key text; opening checks that text against the token's public key.
 *
 * PINs are never part of a URI (pin-value and pin-source are refused): they come from a file
 * or an environment variable (tl_pkcs11_pin_load).
 */
#ifndef TRANSLOG_PKCS11_H
#define TRANSLOG_PKCS11_H

#include <stddef.h>
#include <stdint.h>

#include "translog/error.h"
#include "translog/key.h"

/* A URI is at most this many bytes. */
#define TL_PKCS11_MAX_URI 4096
/* An object label (CKA_LABEL) or id (CKA_ID), decoded, is at most this many bytes. */
#define TL_PKCS11_MAX_LABEL 255
#define TL_PKCS11_MAX_ID 255
/* module-path is at most this many bytes. */
#define TL_PKCS11_MAX_PATH 1024
/* A PIN is at most this many bytes. */
#define TL_PKCS11_MAX_PIN 255

/* The object classes RFC 7512's "type" attribute names. */
enum tl_pkcs11_type {
	TL_PKCS11_TYPE_ANY = 0, /* no type attribute */
	TL_PKCS11_TYPE_PUBLIC,
	TL_PKCS11_TYPE_PRIVATE,
	TL_PKCS11_TYPE_CERT,
	TL_PKCS11_TYPE_SECRET_KEY,
	TL_PKCS11_TYPE_DATA,
};

/* A parsed URI. Text attributes are NUL-terminated and "" when absent (an empty value is
 * refused, so "" never means "the empty label"). The sizes of the token and slot fields are
 * those of the CK_TOKEN_INFO, CK_SLOT_INFO and CK_INFO fields they are matched against. */
struct tl_pkcs11_uri {
	char token[32 + 1];
	char manufacturer[32 + 1];
	char serial[16 + 1];
	char model[16 + 1];
	char library_manufacturer[32 + 1];
	char library_description[32 + 1];
	char slot_description[64 + 1];
	char slot_manufacturer[32 + 1];
	char object[TL_PKCS11_MAX_LABEL + 1];
	uint8_t id[TL_PKCS11_MAX_ID];
	size_t id_len; /* 0: no id attribute */
	int has_slot_id;
	unsigned long slot_id;
	int has_library_version;
	unsigned library_version_major, library_version_minor;
	enum tl_pkcs11_type type;
	char module_path[TL_PKCS11_MAX_PATH + 1]; /* "" = the default module */
};

/* True when text starts with the scheme "pkcs11:" (any case): what tells a key URI from a
 * key file path. */
int tl_pkcs11_uri_is(const char *text);

/* Parses an RFC 7512 PKCS#11 URI strictly: the scheme, then path attributes separated by ';'
 * and query attributes separated by '&', each "name=value" with only the characters RFC
 * 7512 allows unencoded and %XX escapes otherwise. Refused (TL_E_INPUT, naming the reason):
 * an unknown or vendor-specific ("x-") attribute, an attribute given twice, an empty value,
 * a value longer than its field, NUL in a text value, a bad escape, slot-id that is not a
 * decimal number, a type other than the five RFC 7512 names, a relative module-path, and
 * module-name, pin-source and pin-value (this program takes no PIN from a URI and loads
 * modules by path). */
int tl_pkcs11_uri_parse(struct tl_pkcs11_uri *out, const char *text, size_t len) TL_MUST_USE;

/* The module loaded when a URI has no module-path: the first of SoftHSM2's paths on Debian
 * (/usr/lib/softhsm/libsofthsm2.so, then the multiarch one) that exists. */
const char *tl_pkcs11_default_module(void);

/* Opens the Ed25519 private key the URI names (it must name one private key, by object= or
 * id=, in one token) and returns a signer for it. `pin` (NUL-terminated, may be NULL when the
 * token needs no login) logs the session in; it is not kept. The signer holds one session
 * open until tl_signer_free; signing from several threads is serialised on it.
 * TL_E_INPUT: a bad URI, a token without CKM_EDDSA, a key that is not Ed25519;
 * TL_E_NOTFOUND: no such module, token or key; TL_E_UNAUTHORIZED: the PIN was refused;
 * TL_E_IO: any other failure of the module. */
int tl_pkcs11_signer_open(tl_signer **out, const char *uri, const char *pin) TL_MUST_USE;

/* Generates an Ed25519 key pair in the token the URI names, labelled with its object=
 * attribute (required; id= is used as CKA_ID if given, else a random 16-byte id): the private
 * key is CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE and not CKA_EXTRACTABLE, so it never leaves
 * the token. Stores the verifier key of (name, type, public key) in the token beside it and
 * returns the key opened as tl_pkcs11_signer_open would. TL_E_CONFLICT if the token already
 * holds a key with that label (or id); otherwise as tl_pkcs11_signer_open. */
int tl_pkcs11_keygen(tl_signer **out, const char *uri, const char *pin, const char *name, uint8_t type) TL_MUST_USE;

/* Reads a PIN into pin (NUL-terminated): from `file` when it is not NULL (a regular file that
 * group and others cannot access, one optional trailing newline), else from the environment
 * variable `env_var` when it is set and not empty; else pin is "" (no login). TL_E_INPUT for
 * an empty PIN, one with NUL or newline bytes, or one longer than TL_PKCS11_MAX_PIN; TL_E_IO
 * if the file cannot be read. */
int tl_pkcs11_pin_load(char pin[TL_PKCS11_MAX_PIN + 1], const char *file, const char *env_var) TL_MUST_USE;

/* Wipes a PIN buffer (in a way the compiler keeps). */
void tl_pkcs11_pin_wipe(char pin[TL_PKCS11_MAX_PIN + 1]);

#endif
