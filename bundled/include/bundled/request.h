/*
 * The JSON bodies of bundled's write requests (docs/http-api.md, schema/, one schema per body):
 * one strict reader per body for the daemon and one writer per body for clients, side by side.
 *
 *   POST /v1/domains                      {"domain":TD,"publisher_keys":[VKEY,...]}
 *   POST /v1/domains/<td>/keys            {"entry":TEXT}
 *   POST /v1/domains/<td>/bundles         {"entry":TEXT,"bundle":BASE64}
 *   POST /v1/domains/<td>/revocations     {"revocation":TEXT,"entry":TEXT}
 *
 * TEXT is a log entry's exact text as a JSON string (bundled/entry.h); BASE64 is the standard
 * base64 of the bundle file exactly as the publisher has it (a SPIFFE bundle, PEM or DER:
 * base64 carries any bytes without JSON escaping questions). The readers refuse, with
 * TL_E_INPUT naming the problem: a body over BD_REQUEST_MAX_BODY, anything but one JSON
 * object, duplicate or unknown members, a missing member, a member of the wrong type, a
 * string over its limit or with a NUL byte, non-canonical base64. They check the shape only:
 * what the entries say is bd_publish_*'s to check.
 */
#ifndef BUNDLED_REQUEST_H
#define BUNDLED_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "bundled/entry.h"
#include "translog/bytes.h"
#include "translog/error.h"

#define BD_REQUEST_MAX_BODY ((size_t)64 << 20) /* bytes of one request body */
#define BD_REQUEST_MAX_BUNDLE ((size_t)32 << 20) /* bytes of a submitted bundle, decoded */

/* POST /v1/domains */
typedef struct bd_register_request {
	char domain[BD_MAX_DOMAIN + 1];
	size_t n_keys; /* 1..BD_ENTRY_MAX_KEYS */
	char keys[BD_ENTRY_MAX_KEYS][BD_MAX_VKEY + 1];
} bd_register_request;

/* The signed requests: which members are set depends on the body (see the top). The
 * buffers are the caller's to free with bd_signed_request_free. */
typedef struct bd_signed_request {
	uint8_t *entry;
	size_t entry_len;
	uint8_t *revocation; /* revocations only */
	size_t revocation_len;
	uint8_t *bundle; /* bundles only: the decoded bundle file */
	size_t bundle_len;
} bd_signed_request;

int bd_register_request_parse(bd_register_request *out, const uint8_t *body, size_t len) TL_MUST_USE;
int bd_register_request_write(tl_buf *out, const char *domain, const char *const *keys, size_t n_keys) TL_MUST_USE;

int bd_key_request_parse(bd_signed_request *out, const uint8_t *body, size_t len) TL_MUST_USE;
int bd_key_request_write(tl_buf *out, const uint8_t *entry, size_t entry_len) TL_MUST_USE;

int bd_bundle_request_parse(bd_signed_request *out, const uint8_t *body, size_t len) TL_MUST_USE;
int bd_bundle_request_write(tl_buf *out, const uint8_t *entry, size_t entry_len, const uint8_t *bundle,
	size_t bundle_len) TL_MUST_USE;

int bd_revocation_request_parse(bd_signed_request *out, const uint8_t *body, size_t len) TL_MUST_USE;
int bd_revocation_request_write(tl_buf *out, const uint8_t *revocation, size_t revocation_len, const uint8_t *entry,
	size_t entry_len) TL_MUST_USE;

void bd_signed_request_free(bd_signed_request *r);

#endif
