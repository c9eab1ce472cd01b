/*
 * The source `bundlectl follow` reads: a SPIFFE bundle endpoint served over the https_web
 * profile (SPIFFE Federation §5.1), such as a SPIRE server's federation.bundle_endpoint.
 * Each read GETs the endpoint and returns the bundle it serves with its spiffe_sequence,
 * which is what follow compares to the domain's newest logged version.
 *
 * https only (https_web is web PKI; a plain http source could be changed on the way), checked
 * against the system's trust store or, with a CA file, against that file alone.
 */
#ifndef BUNDLECTL_FOLLOW_SOURCE_H
#define BUNDLECTL_FOLLOW_SOURCE_H

#include <stdint.h>

#include "bundled/bundle.h"
#include "bundled/http.h"
#include "translog/bytes.h"
#include "translog/error.h"

struct follow_source {
	bd_http *http;                  /* to scheme://host[:port] */
	char path[BD_HTTP_PATH_MAX];    /* the endpoint's path, "/" when the URL has none */
};

/* Opens a source at `url` ("https://host[:port][/path]"), trusting the CAs in `ca_file`
 * (NULL: the system's). Nothing is sent yet. TL_E_INPUT for a URL that is not https. */
int follow_source_open(struct follow_source *s, const char *url, const char *ca_file) TL_MUST_USE;
void follow_source_close(struct follow_source *s);

/* GETs the endpoint: *out owns the bundle read from the answer (strictly, as bd_bundle_parse
 * reads a SPIFFE bundle) and *sequence is its spiffe_sequence. TL_E_INPUT if the answer is not
 * a SPIFFE bundle or has no spiffe_sequence (a bundle endpoint must say which version it
 * serves); the bd_http errors otherwise (an untrusted certificate is TL_E_UNAVAILABLE). */
int follow_source_read(bd_bundle **out, uint64_t *sequence, struct follow_source *s) TL_MUST_USE;

#endif
