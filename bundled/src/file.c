#include "bundled/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The directory holding `path`, fsynced so that a rename in it is durable. */
static int sync_dir_of(const char *path)
{
	char dir[BD_FILE_MAX_PATH];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return tl_error_set(TL_E_IO, "%s: %s", dir, strerror(errno));
	rc = fsync(fd);
	close(fd);
	return rc != 0 ? tl_error_set(TL_E_IO, "fsync %s: %s", dir, strerror(errno)) : 0;
}

int bd_file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[BD_FILE_MAX_PATH + 8];
	int fd, err = 0;

	if (strlen(path) >= BD_FILE_MAX_PATH)
		return tl_error_set(TL_E_INPUT, "a path of more than %d bytes", BD_FILE_MAX_PATH);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) < 0)
		return tl_error_set(TL_E_IO, "%s: %s", tmp, strerror(errno));
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0)
		err = tl_error_set(TL_E_IO, "%s: %s", tmp, strerror(errno));
	if (close(fd) != 0 && err == 0)
		err = tl_error_set(TL_E_IO, "%s: %s", tmp, strerror(errno));
	if (err == 0 && rename(tmp, path) != 0)
		err = tl_error_set(TL_E_IO, "rename to %s: %s", path, strerror(errno));
	if (err != 0) {
		unlink(tmp);
		return err;
	}
	return sync_dir_of(path);
}

int bd_file_read(tl_buf *out, const char *path)
{
	uint8_t chunk[65536];
	size_t start = out->len;
	ssize_t n;
	int fd, err = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return tl_error_set(errno == ENOENT ? TL_E_NOTFOUND : TL_E_IO, "%s: %s", path, strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = tl_error_set(TL_E_IO, "%s: %s", path, strerror(errno));
			break;
		}
		if (tl_buf_append(out, chunk, (size_t)n) != 0) {
			err = tl_error_set(TL_E_INPUT, "%s: larger than %zu bytes", path, out->cap);
			break;
		}
	}
	close(fd);
	if (err != 0)
		tl_buf_truncate(out, start);
	return err;
}
