/*
 * Credentials the daemon holds for others (the IPFS API's), kept out of everything it
 * shows: user-info in a URL is redacted wherever the URL is logged or served, and the
 * credentials themselves come from a file only its owner can read.
 */
#ifndef BUNDLED_DAEMON_SECRETS_H
#define BUNDLED_DAEMON_SECRETS_H

#include <stddef.h>

#include "translog/error.h"

/* The largest credentials file read. */
#define SECRETS_MAX_FILE 4096

/* Writes url with any user-info replaced by three asterisks, cut to cap. */
void secrets_redact_url(char *out, size_t cap, const char *url);

/* Whether url carries user-info ("scheme://user[:pass]@host"). */
int secrets_url_has_userinfo(const char *url);

/* Reads an IPFS API credentials file into an Authorization value: a line "Bearer <token>" or
 * "Basic <base64>" is taken as it is, a line "user:password" becomes Basic. The file must be
 * a regular file that neither group nor others can access (like the log key). Errors never
 * quote the file's content. */
int secrets_load_auth(char *out, size_t cap, const char *path) TL_MUST_USE;

#endif
