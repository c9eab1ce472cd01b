/*
 * The daemon's witnesses: the policy (bundled/cosigning.h) built from the configuration,
 * its report lines in the daemon's log, and its series in /metrics.
 */
#ifndef BUNDLED_DAEMON_WITNESSES_H
#define BUNDLED_DAEMON_WITNESSES_H

#include "daemon.h"

/* With witnesses configured: parses their keys, registers the witness series and starts the
 * policy (d->cosigning). Without: nothing, d->cosigning stays NULL and the daemon serves its
 * log's own checkpoints. */
int witnesses_open(struct daemon *d) TL_MUST_USE;

/* Stops the policy before the log closes. */
void witnesses_close(struct daemon *d);

#endif
