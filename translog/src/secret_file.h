/*
 * Reading small secret files (key files, PIN files) the way ssh reads keys: only regular
 * files that group and others cannot access.
 */
#ifndef TRANSLOG_SECRET_FILE_H
#define TRANSLOG_SECRET_FILE_H

#include <stddef.h>

#include "translog/error.h"

/* Reads the whole of `path` into buf (cap bytes; the file must be shorter than cap, so a
 * file that fills buf is refused as too long for `what`). TL_E_INPUT for a file that is not
 * regular, that group or others may access (mode & 077), or that is too long; TL_E_IO if it
 * cannot be read. The caller wipes buf. */
int tl_secret_file_read(char *buf, size_t cap, size_t *len, const char *path, const char *what) TL_MUST_USE;

#endif
