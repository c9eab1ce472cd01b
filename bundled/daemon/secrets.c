#include "secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "translog/bytes.h"

/* The authority of url: [*start, *end) after "scheme://", up to the path, query or fragment. */
static int authority(const char *url, const char **start, const char **end)
{
	const char *s = strstr(url, "://");

	if (s == NULL)
		return 0;
	*start = s + 3;
	*end = *start + strcspn(*start, "/?#");
	return 1;
}

int secrets_url_has_userinfo(const char *url)
{
	const char *a, *e;

	return authority(url, &a, &e) && memchr(a, '@', (size_t)(e - a)) != NULL;
}

void secrets_redact_url(char *out, size_t cap, const char *url)
{
	const char *a, *e, *at = NULL;

	if (authority(url, &a, &e))
		for (const char *p = a; p < e; p++)
			if (*p == '@')
				at = p;
	if (at == NULL)
		snprintf(out, cap, "%s", url);
	else
		snprintf(out, cap, "%.*s***%s", (int)(a - url), url, at);
}

int secrets_load_auth(char *out, size_t cap, const char *path)
{
	char text[SECRETS_MAX_FILE + 1];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), err = 0;
	tl_buf b64 = tl_buf_make(cap);

	if (fd < 0)
		return tl_error_set(TL_E_IO, "ipfs_api_auth_file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err = tl_error_set(TL_E_INPUT, "ipfs_api_auth_file %s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		err = tl_error_set(TL_E_INPUT, "ipfs_api_auth_file %s: group or others may access it (mode %04o); chmod 600 it",
			path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((n = read(fd, text, sizeof(text))) < 0 || n > SECRETS_MAX_FILE) {
		err = tl_error_set(TL_E_INPUT, "ipfs_api_auth_file %s: unreadable or larger than %d bytes", path,
			SECRETS_MAX_FILE);
		goto out;
	}
	text[n] = '\0';
	if (n > 0 && text[n - 1] == '\n')
		text[--n] = '\0';
	if (n > 0 && text[n - 1] == '\r')
		text[--n] = '\0';
	for (ssize_t i = 0; i < n; i++) {
		if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] == 0x7f) {
			err = tl_error_set(TL_E_INPUT, "ipfs_api_auth_file %s: must be one line of printable text", path);
			goto out;
		}
	}
	if ((strncmp(text, "Bearer ", 7) == 0 && n > 7) || (strncmp(text, "Basic ", 6) == 0 && n > 6)) {
		if ((size_t)n >= cap) {
			err = tl_error_set(TL_E_INPUT, "ipfs_api_auth_file %s: longer than %zu bytes", path, cap - 1);
			goto out;
		}
		memcpy(out, text, (size_t)n + 1);
	} else if (strchr(text, ':') != NULL && text[0] != ':') {
		if ((err = tl_buf_append_str(&b64, "Basic ")) != 0 || (err = tl_base64_encode(&b64, text, (size_t)n)) != 0 ||
		    b64.len >= cap) {
			err = tl_error_set(TL_E_INPUT, "ipfs_api_auth_file %s: credentials too long", path);
			goto out;
		}
		memcpy(out, b64.data, b64.len + 1);
	} else {
		err = tl_error_set(TL_E_INPUT,
			"ipfs_api_auth_file %s: expected one line \"user:password\", \"Basic <base64>\" or \"Bearer <token>\"",
			path);
	}
out:
	explicit_bzero(text, sizeof(text));
	if (b64.data != NULL)
		explicit_bzero(b64.data, b64.alloc);
	tl_buf_free(&b64);
	close(fd);
	return err;
}
