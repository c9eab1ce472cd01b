/*
 * The daemon's log: one logfmt line per event on stderr
 * ("ts=2026-11-22T12:00:00.123Z level=info msg=\"...\" key=value"), so operators can grep it
 * and ship it to any collector without a parser of ours.
 */
#ifndef BUNDLED_DAEMON_LOGGING_H
#define BUNDLED_DAEMON_LOGGING_H

#include <stddef.h>

#include "translog/error.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Lines below `level` are dropped. */
void log_set_level(enum log_level level);

/* Whether lines at `level` are written (to skip preparing a line that would be dropped). */
int log_enabled(enum log_level level);

/* Parses "debug", "info", "warn" or "error"; -1 if none of these. */
int log_level_parse(const char *name);

/* `fmt` produces the fields after msg: log_at(LOG_INFO, "listening", "addr=%s", addr).
 * Outside text (a client's URL, a peer's message) goes through tl_text_printable
 * (translog/text.h) before it enters a quoted value, so it cannot forge log lines. */
void log_at(enum log_level level, const char *msg, const char *fmt, ...) TL_PRINTF(3, 4);

#endif
