/*
 * Files that must survive a crash whole: the agent's bundle file and state, the auditor's
 * state. A file is replaced by writing "<path>.tmp", fsyncing it, renaming it over `path` and
 * fsyncing the directory, so a reader (or a restart after kill -9 or power loss) sees the old
 * bytes or the new ones, never a mix.
 */
#ifndef BUNDLED_FILE_H
#define BUNDLED_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "translog/bytes.h"
#include "translog/error.h"

#define BD_FILE_MAX_PATH 4096

/* Replaces `path` with `len` bytes of `data` (mode for a new file), atomically and durably
 * as above. TL_E_IO naming the step that failed; the old file is then untouched (a stale
 * "<path>.tmp" may remain, and is overwritten next time). */
int bd_file_replace(const char *path, const void *data, size_t len, mode_t mode) TL_MUST_USE;

/* Appends the whole file to `out` (at most out's room): TL_E_NOTFOUND if it does not exist,
 * TL_E_INPUT if it is larger, TL_E_IO otherwise. */
int bd_file_read(tl_buf *out, const char *path) TL_MUST_USE;

#endif
