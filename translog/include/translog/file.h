/*
 * Small state files that must never be seen half-written: the auditor's state, a client's
 * last verified checkpoint.
 */
#ifndef TRANSLOG_FILE_H
#define TRANSLOG_FILE_H

#include <stddef.h>

#include "translog/bytes.h"
#include "translog/error.h"

/* Replaces the file at `path` (mode 0600 if created) with `len` bytes, atomically and
 * durably: written to "<path>.tmp", fsynced, renamed over `path`, and the directory
 * fsynced, so after a crash the file holds either the old bytes or the new ones. One writer
 * per path at a time. TL_E_IO (naming the file) on failure. */
int tl_file_replace(const char *path, const void *data, size_t len) TL_MUST_USE;

/* Appends the whole file at `path` to `out` (its cap bounds the read: TL_E_INPUT past it).
 * TL_E_NOTFOUND if there is no such file, TL_E_IO for another failure. */
int tl_file_read(tl_buf *out, const char *path) TL_MUST_USE;

#endif
