#include "testhttp.h"

#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "translog/text.h"

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

/* A JSON string of n bytes, or NULL when they are not UTF-8 (jansson refuses them). */
static int record_set(json_t *rec, const char *name, const void *data, size_t n)
{
	json_t *v = json_stringn(data, n);

	return v != NULL ? json_object_set_new(rec, name, v) : -1;
}

void th_record(const struct th_exchange *x)
{
	const char *file = getenv("BUNDLED_TEST_RECORD");
	json_t *rec;
	char *line = NULL, method[64], target[3 * 8192];
	int fd = -1;

	if (file == NULL || file[0] == '\0')
		return;
	/* A hostile request line may hold any byte: kept printable, as the daemon logs it. */
	tl_text_printable(method, sizeof(method), x->method, strlen(x->method));
	tl_text_printable(target, sizeof(target), x->target, strlen(x->target));
	rec = json_pack("{s:s,s:s,s:I}", "method", method, "target", target, "status", (json_int_t)x->status);
	ck_assert_ptr_nonnull(rec);
	if (x->type != NULL)
		ck_assert_int_eq(json_object_set_new(rec, "type", json_string(x->type)), 0);
	if (x->body != NULL && (strcmp(x->method, "bundlectl") == 0 ||
	    (x->type != NULL && strncmp(x->type, "application/json", 16) == 0)) &&
	    record_set(rec, "body", x->body, x->len) != 0)
		ck_assert_int_eq(json_object_set_new(rec, "body_error", json_string("the JSON body is not UTF-8")), 0);
	/* A hostile request body need not be text: it is only checked when it was accepted. */
	if (x->request != NULL)
		(void)record_set(rec, "request", x->request, x->request_len);
	line = json_dumps(rec, JSON_COMPACT);
	ck_assert_ptr_nonnull(line);
	fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0, "cannot open %s", file);
	{
		size_t n = strlen(line);

		line[n] = '\n';
		ck_assert_msg(write(fd, line, n + 1) == (ssize_t)(n + 1), "cannot append to %s", file);
	}
	close(fd);
	free(line);
	json_decref(rec);
}

void th_record_raw(const void *request, size_t n, const char *answer, size_t len)
{
	const char *req = request, *sp1 = memchr(req, ' ', n), *sp2, *head_end = strstr(answer, "\r\n\r\n");
	char method[32], target[8192], type[256] = "";
	struct th_exchange x = { .method = method, .target = target };
	long status;

	/* Only a request line that names a method and a target can be routed at all. */
	if (sp1 == NULL || (size_t)(sp1 - req) >= sizeof(method) ||
	    (sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - req))) == NULL ||
	    (size_t)(sp2 - sp1 - 1) >= sizeof(target) || head_end == NULL ||
	    sscanf(answer, "HTTP/1.%*c %ld ", &status) != 1)
		return;
	memcpy(method, req, (size_t)(sp1 - req));
	method[sp1 - req] = '\0';
	memcpy(target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	target[sp2 - sp1 - 1] = '\0';
	for (const char *p = strstr(answer, "\r\n"); p != NULL && p < head_end; p = strstr(p + 2, "\r\n"))
		if (strncasecmp(p + 2, "Content-Type: ", 14) == 0)
			sscanf(p + 16, "%255[^\r]", type);
	x.status = status;
	x.type = type[0] ? type : NULL;
	x.body = head_end + 4;
	x.len = len - (size_t)(head_end + 4 - answer);
	if (th_content_length(answer) >= 0 && (size_t)th_content_length(answer) < x.len)
		x.len = (size_t)th_content_length(answer);
	th_record(&x);
}
