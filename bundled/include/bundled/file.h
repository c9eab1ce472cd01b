/*
 * Files that other users read, such as the agent's bundle files: replaced atomically and
 * durably as tl_file_replace does (translog/file.h), which makes private (0600) files, but
 * with the mode asked for, set before the file appears under its name.
 */
#ifndef BUNDLED_FILE_H
#define BUNDLED_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "translog/error.h"

#define BD_FILE_MAX_PATH 4096

/* Replaces `path` with `len` bytes of `data`, mode `mode`: "<path>.new" is written and
 * synced (tl_file_replace), given the mode, renamed over `path`, and the directory synced,
 * so a reader sees the old file or the new one, whole and readable. TL_E_IO naming the step
 * that failed; the old file is then untouched. */
int bd_file_publish(const char *path, const void *data, size_t len, mode_t mode) TL_MUST_USE;

#endif
