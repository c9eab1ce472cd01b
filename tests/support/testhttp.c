#include "testhttp.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define READ_TIMEOUT_S 10

int th_connect(const char *from, const char *to, unsigned port)
{
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	struct timeval tv = { READ_TIMEOUT_S, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(inet_pton(AF_INET, from, &src.sin_addr), 1);
	ck_assert_int_eq(inet_pton(AF_INET, to, &dst.sin_addr), 1);
	dst.sin_port = htons((unsigned short)port);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

void th_send(int fd, const void *data, size_t n)
{
	const char *p = data;

	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

char *th_read_all(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	ck_assert_ptr_nonnull(buf);
	for (;;) {
		ssize_t r;

		if (cap - n < 2048) {
			ck_assert_ptr_nonnull(buf = realloc(buf, cap *= 2));
		}
		r = recv(fd, buf + n, cap - n - 1, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

long th_content_length(const char *response)
{
	const char *end = strstr(response, "\r\n\r\n");

	for (const char *p = strstr(response, "\r\n"); p != NULL && p < end; p = strstr(p + 2, "\r\n"))
		if (strncasecmp(p + 2, "Content-Length:", 15) == 0)
			return strtol(p + 17, NULL, 10);
	return -1;
}

char *th_read_response(int fd, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	const char *end = NULL;

	ck_assert_ptr_nonnull(buf);
	for (;;) {
		ssize_t r;

		buf[n] = '\0';
		if (end == NULL)
			end = strstr(buf, "\r\n\r\n");
		if (end != NULL) {
			long cl = th_content_length(buf);

			ck_assert_int_ge(cl, 0);
			if (n >= (size_t)(end - buf) + 4 + (size_t)cl)
				break;
		}
		ck_assert_uint_lt(n, cap - 1);
		r = recv(fd, buf + n, 1, 0);
		ck_assert_msg(r > 0, "connection closed or timed out after %zu bytes: %s", n, buf);
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

size_t th_read_until(int fd, char *buf, size_t cap, const char *marker)
{
	size_t n = 0;

	buf[0] = '\0';
	while (strstr(buf, marker) == NULL) {
		ssize_t r;

		ck_assert_uint_lt(n, cap - 1);
		r = recv(fd, buf + n, 1, 0);
		ck_assert_msg(r > 0, "connection closed or timed out before \"%s\": %s", marker, buf);
		n += (size_t)r;
		buf[n] = '\0';
	}
	return n;
}
