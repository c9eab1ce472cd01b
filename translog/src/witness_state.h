/*
 * The witness's state directory: one file per log named by the SHA-256 of its origin, each
 * replaced atomically, and beside it that log's lock file, which serialises its
 * check-and-persist across processes (logs do not wait for each other's fsyncs).
 * Bytes only: what a state file must contain, and checking it, is witness.c's business.
 */
#ifndef TRANSLOG_WITNESS_STATE_H
#define TRANSLOG_WITNESS_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/error.h"
#include "translog/witness.h"

/* The most bytes a state file may hold: a request's note plus one cosignature line. */
#define TL_WITNESS_STATE_MAX (TL_WITNESS_MAX_NOTE + 1024)

typedef struct tl_witness_dir {
	char *path;
	int dir_fd; /* the directory, for fsync after a rename */
} tl_witness_dir;

/* Opens the directory, creating it (mode 0700) if absent. */
int tl_witness_dir_open(tl_witness_dir *d, const char *path) TL_MUST_USE;
void tl_witness_dir_close(tl_witness_dir *d);

/* The file names of an origin: "<hex SHA-256(origin)>.checkpoint" for its state and
 * "<hex>.lock" for its lock, into name (at least TL_WITNESS_STATE_NAME bytes). */
#define TL_WITNESS_STATE_NAME (64 + sizeof(".checkpoint"))
void tl_witness_state_name(char name[TL_WITNESS_STATE_NAME], const char *origin);
void tl_witness_lock_name(char name[TL_WITNESS_STATE_NAME], const char *origin);

/* Opens (creating) a lock file; *fd is -1 on failure. */
int tl_witness_lock_open(int *fd, tl_witness_dir *d, const char *name) TL_MUST_USE;
/* Takes and drops the exclusive cross-process lock on fd (retrying on EINTR). */
int tl_witness_lock_take(int fd, const tl_witness_dir *d) TL_MUST_USE;
void tl_witness_lock_drop(int fd);

/* Appends the file's bytes to out. TL_E_NOTFOUND if there is no such file, TL_E_INTERNAL if it
 * is not a regular file or passes TL_WITNESS_STATE_MAX, TL_E_IO if it cannot be read. */
int tl_witness_state_read(tl_buf *out, tl_witness_dir *d, const char *name) TL_MUST_USE;

/* Replaces the file with data: "<name>.tmp" written and fsynced, renamed over name, then the
 * directory fsynced. Call with the lock held (the temp name is fixed). TL_E_IO on failure,
 * after which the old file is intact. */
int tl_witness_state_write(tl_witness_dir *d, const char *name, const uint8_t *data, size_t len) TL_MUST_USE;

#endif
