/*
 * The publishing endpoints' series (publish_metrics.c): new entries by kind, and refused
 * writes by the error code of their answer. Counted once per answer, where the publish routes
 * return, so every refusal path (the server's error reply included) is counted the same way.
 */
#ifndef BUNDLED_DAEMON_PUBLISH_METRICS_H
#define BUNDLED_DAEMON_PUBLISH_METRICS_H

#include "bundled/httpd.h"
#include "metrics.h"

/* What a write adds: the `kind` label of bundled_publishes_total. */
enum publish_kind { PUBLISH_DOMAIN, PUBLISH_KEY, PUBLISH_BUNDLE, PUBLISH_REVOCATION, PUBLISH_NKINDS };

/* The codes a publish answer can carry (tl_err names and the routes' own), then "other". */
#define PUBLISH_METRICS_NREASONS 12

struct publish_metrics {
	struct metric *published[PUBLISH_NKINDS];
	struct metric *refused[PUBLISH_METRICS_NREASONS];
};

/* Registers every series in m, at 0; the handles live as long as m. */
int publish_metrics_register(struct publish_metrics *pm, struct metrics *m) TL_MUST_USE;

/* Counts the answer to a write of `kind`, given what its handler returned (err: the server
 * then answers the error; res: the answer made otherwise): a new entry (201) counts as a
 * publish, an error answer as a refusal by its code; an idempotent repeat (200) counts as
 * neither, since nothing entered the log. Returns err. */
int publish_metrics_count(struct publish_metrics *pm, const bd_httpd_response *res, enum publish_kind kind, int err);

#endif
