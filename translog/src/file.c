#include "translog/file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Room for "<path>.tmp". */
#define MAX_PATH 4200

static int write_all(int fd, const unsigned char *data, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* The rename is durable only once the directory is. */
static int sync_dir_of(const char *path)
{
	char copy[MAX_PATH];
	int fd, err = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		err = tl_error_set(TL_E_IO, "%s: cannot sync its directory: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return err;
}

int tl_file_replace(const char *path, const void *data, size_t len)
{
	char tmp[MAX_PATH];
	int fd = -1, err = 0, renamed = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return tl_error_set(TL_E_INPUT, "%s: the path is too long", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		err = tl_error_set(TL_E_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		err = tl_error_set(TL_E_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		err = tl_error_set(TL_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	renamed = 1;
	err = sync_dir_of(path);
out:
	if (fd >= 0)
		close(fd);
	if (err && !renamed)
		unlink(tmp);
	return err;
}

int tl_file_read(tl_buf *out, const char *path)
{
	unsigned char chunk[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	ssize_t n;

	if (fd < 0)
		return tl_error_set(errno == ENOENT ? TL_E_NOTFOUND : TL_E_IO, "%s: %s", path, strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = tl_error_set(TL_E_IO, "%s: %s", path, strerror(errno));
			break;
		}
		if ((err = tl_buf_append(out, chunk, (size_t)n)) != 0) {
			err = tl_error_wrap(TL_E_INPUT, "%s: too large", path);
			break;
		}
	}
	close(fd);
	return err;
}
