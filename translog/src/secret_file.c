#include "secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tl_secret_file_read(char *buf, size_t cap, size_t *len, const char *path, const char *what)
{
	struct stat st;
	int fd, err = 0;

	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return tl_error_set(TL_E_IO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		err = tl_error_set(TL_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = tl_error_set(TL_E_INPUT, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		err = tl_error_set(TL_E_INPUT, "%s: %s is accessible by group or others (mode %04o); chmod 600 it", path,
			what, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + *len, cap - *len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = tl_error_set(TL_E_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
		if (*len == cap) {
			err = tl_error_set(TL_E_INPUT, "%s: longer than a %s can be", path, what);
			goto out;
		}
	}
out:
	close(fd);
	return err;
}
