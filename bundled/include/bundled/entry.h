/*
 * The entries of bundled's transparency log: one strict text record per domain registration
 * or key change, bundle version, and revocation. One reader and one writer (entry.c); the
 * grammar is fixed in docs/formats.md ("Log entries"), and an independent implementation must
 * be able to check every entry and signature from that page alone.
 *
 * An entry is lines of "key value", LF-terminated, keys in a fixed order per kind, no
 * trailing space, decimals without leading zeros, lower-case hex. The first line names the
 * format ("bundled-entry v1"), the second the kind. For example:
 *
 *   bundled-entry v1
 *   kind bundle
 *   domain example.org
 *   sequence 7
 *   refresh-hint 300
 *   size 1234
 *   sha256 <64 lower-case hex: SHA-256 of the canonical bytes>
 *   cid <CIDv1, base32 lower-case, of the canonical bytes' UnixFS DAG>
 *   time <unix seconds, as the publisher claims it>
 *   key <64 lower-case hex: bd_key_fingerprint of the publisher key>
 *   signature <standard base64 of the 64-byte Ed25519 signature>
 *
 *   kind domain: domain, action (register | add-key | remove-key), one "publisher-key <vkey>"
 *     line per key (register: 1..BD_ENTRY_MAX_KEYS, ordered by fingerprint, no repeats;
 *     add-key and remove-key: exactly one), time, authorized-by (the word "operator" for a
 *     registration, else the fingerprint of the current key that signs), and signature (only
 *     when authorized-by is a key).
 *   kind revocation: domain, authority ("sha256:<64 hex>" of an X.509 authority's DER, or
 *     "kid:<kid>"), reason (printable ASCII, 1..BD_ENTRY_MAX_REASON bytes, no leading or
 *     trailing space), then sequence, sha256, cid of the bundle version that results, time,
 *     key, signature. It is logged in the same batch as that version's bundle entry.
 *
 * What a publisher signs (bd_entry_signed_message) is domain-separated: the context line
 * "bundled publisher signature v1", a line "origin <log origin>", then the entry text without
 * its signature line. So a signature made for one kind of entry, one entry or one log can
 * never verify as another.
 */
#ifndef BUNDLED_ENTRY_H
#define BUNDLED_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundled/bundle.h"
#include "bundled/chunker.h"
#include "bundled/dag.h"
#include "translog/bytes.h"
#include "translog/error.h"
#include "translog/hash.h"
#include "translog/key.h"

#define BD_ENTRY_MAX_SIZE 8192u   /* bytes of one entry's text */
#define BD_ENTRY_MAX_KEYS 16u     /* publisher keys in a registration, and held by a domain */
#define BD_ENTRY_MAX_REASON 200u  /* bytes of a revocation reason */
#define BD_MAX_DOMAIN 255u        /* bytes of a trust domain name */
#define BD_MAX_VKEY 256u          /* bytes of a publisher verifier key's text */
#define BD_MAX_CID_TEXT 128u      /* bytes of a CID's text */
#define BD_MAX_KID 256u           /* bytes of a JWT/WIT authority's kid (as bundle.h) */
#define BD_ENTRY_SIGNATURE_CONTEXT "bundled publisher signature v1"

typedef enum bd_entry_kind {
	BD_ENTRY_DOMAIN = 1,
	BD_ENTRY_BUNDLE = 2,
	BD_ENTRY_REVOCATION = 3,
} bd_entry_kind;

typedef enum bd_domain_action {
	BD_DOMAIN_REGISTER = 1,
	BD_DOMAIN_ADD_KEY = 2,
	BD_DOMAIN_REMOVE_KEY = 3,
} bd_domain_action;

/* One entry, parsed or to be written. Plain data: copy it, keep it on the heap (it is a few
 * KiB with its keys). Fields that a kind does not have are zero. */
typedef struct bd_entry {
	bd_entry_kind kind;
	char domain[BD_MAX_DOMAIN + 1];
	uint64_t time;

	/* domain */
	bd_domain_action action;
	size_t n_keys;
	char keys[BD_ENTRY_MAX_KEYS][BD_MAX_VKEY + 1]; /* verifier key text, as `keygen` prints */
	bool by_operator;                              /* authorized-by operator (registration) */

	/* bundle, and the version a revocation results in */
	uint64_t sequence;
	uint64_t refresh_hint; /* bundle only; 0 when the bundle has none */
	uint64_t size;         /* bundle only */
	tl_hash sha256;
	char cid[BD_MAX_CID_TEXT + 1];

	/* revocation */
	bool authority_is_kid;
	tl_hash authority_sha256;
	char authority_kid[BD_MAX_KID + 1];
	char reason[BD_ENTRY_MAX_REASON + 1];

	/* who signed: the publisher key's fingerprint, and the signature when there is one */
	tl_hash key;
	bool has_signature;
	uint8_t signature[TL_ED25519_SIGNATURE_SIZE];
} bd_entry;

/* Parses one entry; anything not in the canonical grammar is TL_E_INPUT with a message naming
 * the line. Checks syntax only (a valid domain name, well-formed keys and CID), not
 * signatures. */
int bd_entry_parse(bd_entry *out, const uint8_t *text, size_t len) TL_MUST_USE;

/* Appends the entry's canonical text (with its signature line when has_signature). The
 * writer refuses (TL_E_INPUT) an entry the reader would refuse: parse(write(e)) == e. */
int bd_entry_write(tl_buf *out, const bd_entry *e) TL_MUST_USE;

/* Appends what a publisher signs for `e` in the log named `origin` (see the top). */
int bd_entry_signed_message(tl_buf *out, const char *origin, const bd_entry *e) TL_MUST_USE;

/* Sets e->key to the key's fingerprint and signs; e->has_signature becomes true. */
int bd_entry_sign(bd_entry *e, const char *origin, const tl_signer *key) TL_MUST_USE;

/* Checks that e is signed by `key` (its fingerprint is e->key and the signature verifies
 * over the signed message): 0, or TL_E_UNAUTHORIZED naming what failed. */
int bd_entry_verify(const bd_entry *e, const char *origin, const tl_verifier *key) TL_MUST_USE;

/* The version fields of a bundle entry for bundle `b`: sets b's sequence and refresh hint
 * (0: none) as given, writes its canonical bytes and derives size, SHA-256 and root CID
 * (chunker NULL: "lines"), storing them with the sequence and refresh hint in `e` (nothing
 * else of `e` is touched). The canonical bytes are appended to `canon` and the DAG handed
 * to *dag when those are not NULL (the caller frees it). TL_E_INPUT for a bundle without
 * authorities. What a publisher computes before signing, and what the server re-derives
 * from a submitted bundle to compare with what was signed. */
int bd_entry_set_version(bd_entry *e, tl_buf *canon, bd_dag **dag, bd_bundle *b, uint64_t sequence,
	uint64_t refresh_hint, const bd_chunker *chunker) TL_MUST_USE;

/* SHA-256 of a publisher key's 32-byte Ed25519 public key: how entries name keys. */
void bd_key_fingerprint(tl_hash *out, const tl_verifier *key);

/* A trust domain name as SPIFFE says (lower-case letters, digits, '.', '-', '_'; 1..255
 * bytes; no scheme, port, path or user-info), except "." and "..", which are refused as
 * path segments: 0 or TL_E_INPUT naming the rule. */
int bd_domain_name_check(const char *td, size_t len) TL_MUST_USE;

#endif
