/*
 * The operator's credential: a bearer token made on the first start of a data directory.
 * The token itself goes to DATA/operator.token (mode 0600, created with O_EXCL, never
 * rewritten) for the operator to read; the daemon keeps only its SHA-256
 * (DATA/operator.token.sha256) and compares a presented token's hash in constant time. An
 * operator may delete operator.token once they have stored it elsewhere.
 *
 * TLS client certificates are not a credential here yet: they come with the TLS work on the
 * HTTP layer (docs/security.md).
 */
#ifndef BUNDLED_DAEMON_AUTH_H
#define BUNDLED_DAEMON_AUTH_H

#include "http.h"
#include "translog/error.h"
#include "translog/hash.h"

#define AUTH_TOKEN_FILE "operator.token"
#define AUTH_HASH_FILE "operator.token.sha256"
#define AUTH_TOKEN_BYTES 32 /* random bytes; the token is their lower-case hex */

struct auth {
	tl_hash token_hash;
};

/* Loads the token's hash from data_dir, or makes the token and its hash on a first start
 * (and logs the token file's path, never the token). */
int auth_open(struct auth *a, const char *data_dir) TL_MUST_USE;

/* 0 if the request carries "Authorization: Bearer <the operator token>"; otherwise
 * TL_E_UNAUTHORIZED saying what is missing or wrong. */
int auth_check_operator(const struct auth *a, const struct http_request *req) TL_MUST_USE;

#endif
