#include "bundled/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "translog/file.h"

int bd_file_publish(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[BD_FILE_MAX_PATH + 8], dir[BD_FILE_MAX_PATH];
	const char *slash = strrchr(path, '/');
	int fd, err;

	if (strlen(path) >= BD_FILE_MAX_PATH)
		return tl_error_set(TL_E_INPUT, "a path of more than %d bytes", BD_FILE_MAX_PATH);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if ((err = tl_file_replace(tmp, data, len)) != 0)
		return err;
	if (chmod(tmp, mode) != 0 || rename(tmp, path) != 0) {
		err = tl_error_set(TL_E_IO, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		return err;
	}
	/* The rename is durable only once the directory is. */
	snprintf(dir, sizeof(dir), "%.*s", slash == NULL ? 1 : slash == path ? 1 : (int)(slash - path),
		slash == NULL ? "." : path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) != 0)
		err = tl_error_set(TL_E_IO, "%s: cannot sync its directory: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return err;
}
