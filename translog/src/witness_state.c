/*
 * The witness's state files. A file is replaced by rename(2) of a fully written and synced
 * temp file, and the directory is synced after, so after a crash each file holds either the
 * old checkpoint or the new one, never a mix and never a rolled-back one once cosigned.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "translog/hash.h"
#include "translog/witness.h"
#include "witness_state.h"

int tl_witness_dir_open(tl_witness_dir *d, const char *path)
{
	d->path = NULL;
	d->dir_fd = -1;
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return tl_error_set(TL_E_IO, "witness state %s: cannot create: %s", path, strerror(errno));
	if ((d->path = strdup(path)) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((d->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		int err = tl_error_set(TL_E_IO, "witness state %s: %s", path, strerror(errno));

		tl_witness_dir_close(d);
		return err;
	}
	return 0;
}

void tl_witness_dir_close(tl_witness_dir *d)
{
	if (d->dir_fd >= 0)
		close(d->dir_fd);
	free(d->path);
	d->path = NULL;
	d->dir_fd = -1;
}

static void name_of(char name[TL_WITNESS_STATE_NAME], const char *origin, const char *suffix)
{
	tl_hash h;

	tl_sha256(&h, origin, strlen(origin));
	tl_hex_encode(name, h.b, sizeof(h.b));
	snprintf(name + 64, TL_WITNESS_STATE_NAME - 64, "%s", suffix);
}

void tl_witness_state_name(char name[TL_WITNESS_STATE_NAME], const char *origin)
{
	name_of(name, origin, ".checkpoint");
}

void tl_witness_lock_name(char name[TL_WITNESS_STATE_NAME], const char *origin)
{
	name_of(name, origin, ".lock");
}

int tl_witness_lock_open(int *fd, tl_witness_dir *d, const char *name)
{
	if ((*fd = openat(d->dir_fd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return tl_error_set(TL_E_IO, "witness state %s/%s: %s", d->path, name, strerror(errno));
	return 0;
}

int tl_witness_lock_take(int fd, const tl_witness_dir *d)
{
	while (flock(fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return tl_error_set(TL_E_IO, "witness state %s: flock: %s", d->path, strerror(errno));
	return 0;
}

void tl_witness_lock_drop(int fd)
{
	(void)flock(fd, LOCK_UN);
}

int tl_witness_state_read(tl_buf *out, tl_witness_dir *d, const char *name)
{
	size_t start = out->len;
	struct stat st;
	uint8_t chunk[4096];
	int fd, err = 0;

	if ((fd = openat(d->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			return tl_error_set(TL_E_NOTFOUND, "no witness state %s", name);
		return tl_error_set(TL_E_IO, "witness state %s/%s: %s", d->path, name, strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)TL_WITNESS_STATE_MAX) {
		err = tl_error_set(TL_E_INTERNAL, "witness state %s/%s is not a regular file of at most %u bytes", d->path,
			name, (unsigned)TL_WITNESS_STATE_MAX);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = tl_error_set(TL_E_IO, "witness state %s/%s: read: %s", d->path, name, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (out->len - start + (size_t)n > TL_WITNESS_STATE_MAX) {
			err = tl_error_set(TL_E_INTERNAL, "witness state %s/%s grew over %u bytes", d->path, name,
				(unsigned)TL_WITNESS_STATE_MAX);
			goto out;
		}
		if ((err = tl_buf_append(out, chunk, (size_t)n)) != 0)
			goto out;
	}
out:
	close(fd);
	if (err)
		tl_buf_truncate(out, start);
	return err;
}

static int write_all(int fd, const uint8_t *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int tl_witness_state_write(tl_witness_dir *d, const char *name, const uint8_t *data, size_t len)
{
	char tmp[TL_WITNESS_STATE_NAME + 4];
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	fd = openat(d->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return tl_error_set(TL_E_IO, "witness state %s/%s: %s", d->path, tmp, strerror(errno));
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		err = tl_error_set(TL_E_IO, "witness state %s/%s: write: %s", d->path, tmp, strerror(errno));
		close(fd);
		goto out;
	}
	if (close(fd) != 0) {
		err = tl_error_set(TL_E_IO, "witness state %s/%s: close: %s", d->path, tmp, strerror(errno));
		goto out;
	}
	if (renameat(d->dir_fd, tmp, d->dir_fd, name) != 0) {
		err = tl_error_set(TL_E_IO, "witness state %s/%s: rename: %s", d->path, name, strerror(errno));
		goto out;
	}
	/* The rename is durable only once the directory is: until then a crash could bring back
	 * the older checkpoint after a cosignature on the newer one was handed out. */
	if (fsync(d->dir_fd) != 0)
		return tl_error_set(TL_E_IO, "witness state %s: fsync: %s", d->path, strerror(errno));
	return 0;
out:
	(void)unlinkat(d->dir_fd, tmp, 0);
	return err;
}
