/* The daemon's own series (metrics_daemon.c): process, log, pin queue. */
#ifndef BUNDLED_DAEMON_METRICS_DAEMON_H
#define BUNDLED_DAEMON_METRICS_DAEMON_H

#include "daemon.h"

/* Registers them in d->metrics; d's log (and pin queue, when configured) must be open and
 * stay open while the registry is rendered. */
int daemon_metrics_register(struct daemon *d) TL_MUST_USE;

#endif
