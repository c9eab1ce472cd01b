/*
 * powerfs: a FUSE filesystem for power-loss tests. It serves a mount point from a backing
 * directory and, like LazyFS, keeps what was written but not yet synced apart, in memory; a
 * power cut throws that away. After a cut the backing directory holds exactly what a disk
 * would hold after losing power under the durability model described in powerfs.c (and in
 * docs/storage.md, "Power-loss test"): file data only once the file was fsynced or
 * fdatasynced, directory entries (create, unlink, rename, mkdir, rmdir) only once their
 * directory was fsynced.
 *
 * The filesystem runs in its own process, forked by pfs_start, so the test process stays
 * single-threaded and may fork processes that use RocksDB. Processes using the mount must be
 * killed after the cut and before pfs_stop: once the power is out, every request on the mount
 * blocks until pfs_stop, as on a machine that stopped.
 */
#ifndef BUNDLED_POWERFS_H
#define BUNDLED_POWERFS_H

#include <stdbool.h>

struct pfs;

/* NULL if powerfs can run here, else why not (no /dev/fuse; not root and no fusermount3). A
 * suite that cannot run must be left out and said so (tu_suite_left_out), never pass. */
const char *pfs_unavailable(void);

/* Powers on: mounts a fresh instance at `mountpoint` (an existing empty directory) whose
 * durable content is `backing` (an existing directory). If fail_at_sync > 0, the power fails
 * by itself when the fail_at_sync-th fsync/fdatasync (of a file or a directory) arrives:
 * that sync takes no effect and is never answered. 0 on success, -1 with a message on
 * stderr. */
int pfs_start(struct pfs **out, const char *mountpoint, const char *backing, unsigned fail_at_sync);

/* Whether the power is out, waiting up to timeout_ms for it to fail by itself. */
bool pfs_power_is_out(struct pfs *fs, int timeout_ms);

/* Cuts the power now (if it is not out already): what was not synced is lost, and `backing`
 * holds what survived. Returns once that is so; 0, or -1 if the filesystem process died. */
int pfs_power_cut(struct pfs *fs);

/* Cuts the power if it is on, unmounts, ends the filesystem process and frees `fs`. Power on
 * again with pfs_start on the same backing directory. NULL is a no-op. */
void pfs_stop(struct pfs *fs);

#endif
