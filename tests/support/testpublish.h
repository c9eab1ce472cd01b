/*
 * Helpers for the publishing suites: raw HTTP requests with headers both ways, a publisher
 * that signs entries with the library as an independent client would, the bundle history to
 * publish (../shared/research/cacert-history/, or versions generated from the bundle
 * vectors when that folder is absent), and the state a refused write must leave untouched.
 */
#ifndef BUNDLED_TESTPUBLISH_H
#define BUNDLED_TESTPUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "bundled/entry.h"
#include "testdaemon.h"
#include "translog/bytes.h"
#include "translog/key.h"

struct tu_reply {
	long status;
	char *body; /* NUL-terminated */
	size_t len;
	char *headers; /* the raw header lines, NUL-terminated */
};

/* Sends method path with the given extra header lines (NULL-ended, may be NULL) and body
 * (may be NULL); the source address is bound to `from` when not NULL ("127.0.0.2"). Returns
 * the status (or -1). */
long tu_api(struct tu_reply *r, const struct tu_daemon *d, const char *method, const char *path,
	const char *const *headers, const void *body, size_t len, const char *from);
/* The same, as application/json. */
long tu_api_json(struct tu_reply *r, const struct tu_daemon *d, const char *method, const char *path,
	const char *body, const char *from);
/* The value of a response header (name as sent, case-insensitive), in a static buffer, or NULL. */
const char *tu_reply_header(const struct tu_reply *r, const char *name);
void tu_reply_free(struct tu_reply *r);

/* The operator token the daemon made in data_dir. */
char *tu_operator_token(const char *data_dir);

/* Registers td with the given verifier keys through the API; asserts the status. */
void tu_api_register(const struct tu_daemon *d, const char *data_dir, const char *td, const char *const *vkeys,
	size_t n, long want);

/* The signed entry of a bundle version (sequence set, refresh hint 0 unless the bundle has
 * one), for the log named origin; *canonical (if not NULL) gets the canonical bytes. */
void tu_api_bundle_entry(tl_buf *text, bd_entry *e, const uint8_t *bundle, size_t len, const char *td, uint64_t sequence,
	const char *origin, const tl_signer *key, tl_buf *canonical);

/* The JSON body of POST /v1/domains/<td>/bundles. Free with free(). */
char *tu_bundle_body(const tl_buf *entry, const uint8_t *bundle, size_t len);

/* The history to publish: n files, each a PEM bundle (malloc'ed). */
struct tu_history {
	size_t n;
	uint8_t *data[64];
	size_t len[64];
	char name[64][64];
};
void tu_history_load(struct tu_history *h, size_t max);
void tu_history_free(struct tu_history *h);

/* The log's origin (from GET /v1/log). */
void tu_log_origin(char *out, size_t cap, const struct tu_daemon *d);

/* Everything a refused write must leave as it was. */
struct tu_state {
	uint64_t size;
	char *domain; /* GET /v1/domains/<td> */
	char *pins;   /* the roots GET /v1/pins lists */
};
void tu_state_get(struct tu_state *s, const struct tu_daemon *d, const char *td);
void tu_state_assert_same(const struct tu_state *a, const struct tu_state *b, const char *what);
void tu_state_free(struct tu_state *s);

/* The daemon opens a log only if every entry in it is one of bundled's (its registry is
 * rebuilt from them): suites that fill a log directly use registrations of distinct domains
 * "<i>.<suite>.test", at most TU_FILLER_ENTRY_MAX bytes with the NUL. */
#define TU_FILLER_ENTRY_MAX 256
void tu_filler_entry(char *out, size_t cap, const char *suite, size_t i);

/* Asserts that the JSON text `doc` matches schema/<schema> (ajv, through tests/schema/);
 * dir holds the temporary file. */
void tu_expect_schema(const char *dir, const char *schema, const char *doc);

/* Blocks in a stopped daemon's block store. */
size_t tu_block_count(const char *data_dir);

#endif
