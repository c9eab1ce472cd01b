/*
 * Responses of the HTTP server: the helpers handlers fill a response with, the one JSON
 * error shape, and the writer of a response head. The server's own answers (a malformed
 * request, a limit) go through the same functions as the handlers' answers.
 */
#include "httpd_internal.h"

#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "translog/text.h"

int bd_httpd_reply(bd_httpd_response *res, unsigned status, const char *type, const void *data, size_t len)
{
	res->status = status;
	res->content_type = type;
	bd_httpd__release_body(res);
	return tl_buf_append(&res->body, data, len);
}

void bd_httpd_reply_borrowed(bd_httpd_response *res, unsigned status, const char *type, const void *data, size_t len,
	void (*release)(void *release_ctx), void *release_ctx)
{
	res->status = status;
	res->content_type = type;
	bd_httpd__release_body(res);
	res->borrowed = data;
	res->borrowed_len = len;
	res->release = release;
	res->release_ctx = release_ctx;
}

void bd_httpd_reply_file(bd_httpd_response *res, unsigned status, const char *type, int fd, uint64_t off, size_t len,
	void (*release)(void *release_ctx), void *release_ctx)
{
	bd_httpd_reply_borrowed(res, status, type, NULL, len, release, release_ctx);
	res->body_file = true;
	res->body_fd = fd;
	res->body_off = off;
}

/* A file body read into the response (for a TLS connection): 0, or the read failed. */
int bd_httpd__file_to_memory(bd_httpd_response *res)
{
	size_t len = res->borrowed_len, done = 0;
	int fd = res->body_fd, err;
	uint64_t off = res->body_off;
	tl_buf copy = tl_buf_make(len + 1);

	if ((err = tl_buf_reserve(&copy, len)) != 0)
		goto out;
	while (done < len) {
		ssize_t n = pread(fd, copy.data + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = tl_error_set(TL_E_IO, "reading a response body: %s", n < 0 ? strerror(errno) : "short file");
			goto out;
		}
		done += (size_t)n;
	}
	copy.len = len;
	bd_httpd__release_body(res);
	tl_buf_free(&res->body);
	res->body = copy;
	copy = (tl_buf){ 0 };
out:
	tl_buf_free(&copy);
	return err;
}

int bd_httpd_reply_stream(bd_httpd_response *res, unsigned status, const char *type, bd_httpd_producer produce,
	void (*release)(void *ctx), void *ctx, bd_httpd_stream **handle)
{
	bd_httpd_stream *s;
	int err;

	if ((err = bd_httpd__stream_new(&s, handle != NULL ? 2 : 1)) != 0)
		return err;
	bd_httpd__release_body(res);
	res->status = status;
	res->content_type = type;
	res->produce = produce;
	res->release = release;
	res->release_ctx = ctx;
	res->stream = s;
	if (handle != NULL)
		*handle = s;
	return 0;
}

int bd_httpd_add_header(bd_httpd_response *res, const char *name, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (res->nheaders == BD_HTTPD_MAX_RESPONSE_HEADERS)
		return tl_error_set(TL_E_INTERNAL, "too many response headers");
	va_start(ap, fmt);
	if (strcmp(fmt, "%s") == 0) { /* most headers: a copy, without vsnprintf's cost */
		const char *v = va_arg(ap, const char *);
		size_t len = strnlen(v, sizeof(res->headers[0].value));

		n = (int)len;
		if (len < sizeof(res->headers[0].value))
			memcpy(res->headers[res->nheaders].value, v, len + 1);
	} else {
		n = vsnprintf(res->headers[res->nheaders].value, sizeof(res->headers[0].value), fmt, ap);
	}
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(res->headers[0].value))
		return tl_error_set(TL_E_INTERNAL, "response header %s too long", name);
	/* A header value is never allowed to end the line early. */
	if (strpbrk(res->headers[res->nheaders].value, "\r\n") != NULL)
		return tl_error_set(TL_E_INTERNAL, "response header %s has a line break", name);
	res->headers[res->nheaders++].name = name;
	return 0;
}

void bd_httpd_reply_error(bd_httpd_response *res, int err)
{
	static const char fallback[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}\n";
	char message[512];
	json_t *doc;
	char *text = NULL;
	unsigned status = (unsigned)tl_err_http_status(err);

	/* Printable ASCII only, so the body is always valid JSON and valid UTF-8, whatever
	 * bytes a client put into the request that the message quotes. */
	tl_text_printable(message, sizeof(message), tl_error_message()[0] ? tl_error_message() : tl_err_name(err),
		strlen(tl_error_message()[0] ? tl_error_message() : tl_err_name(err)));
	doc = json_pack("{s:{s:s,s:s}}", "error", "code", tl_err_name(err), "message", message);
	if (doc != NULL)
		text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	res->nheaders = 0;
	if (text == NULL || bd_httpd_reply(res, status, "application/json", text, strlen(text)) != 0 ||
	    tl_buf_append(&res->body, "\n", 1) != 0)
		bd_httpd_reply_borrowed(res, 500, "application/json", fallback, sizeof(fallback) - 1, NULL, NULL);
	free(text);
}

void bd_httpd__reply_status_error(bd_httpd_response *res, unsigned status)
{
	int err = status == 401 ? TL_E_UNAUTHORIZED : status == 404 ? TL_E_NOTFOUND :
		  status == 503 ? TL_E_UNAVAILABLE : status >= 500 && status != 501 && status != 505 ? TL_E_INTERNAL :
		  TL_E_INPUT;

	bd_httpd_reply_error(res, err);
	res->status = status;
}

void bd_httpd__release_body(bd_httpd_response *res)
{
	if (res->release != NULL)
		res->release(res->release_ctx);
	if (res->stream != NULL)
		bd_httpd__stream_unref(res->stream);
	res->borrowed = NULL;
	res->borrowed_len = 0;
	res->release = NULL;
	res->release_ctx = NULL;
	res->produce = NULL;
	res->stream = NULL;
	res->body_file = false;
	tl_buf_reset(&res->body);
}

static const char *reason(unsigned status)
{
	static const struct {
		unsigned status;
		const char *text;
	} reasons[] = {
		{ 100, "Continue" }, { 200, "OK" }, { 201, "Created" }, { 202, "Accepted" }, { 204, "No Content" },
		{ 206, "Partial Content" }, { 301, "Moved Permanently" }, { 304, "Not Modified" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 406, "Not Acceptable" }, { 408, "Request Timeout" },
		{ 409, "Conflict" }, { 411, "Length Required" }, { 412, "Precondition Failed" },
		{ 413, "Content Too Large" }, { 414, "URI Too Long" }, { 415, "Unsupported Media Type" },
		{ 417, "Expectation Failed" }, { 422, "Unprocessable Content" }, { 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
		{ 501, "Not Implemented" }, { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "Unknown";
}

bool bd_httpd__has_body(unsigned status)
{
	return status >= 200 && status != 204 && status != 304;
}

/* Appends pieces into room reserved before: no bound checks, no formatting. */
static char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static char *put_str(char *p, const char *s)
{
	return put(p, s, strlen(s));
}

static char *put_u64(char *p, uint64_t v)
{
	char digits[20];
	size_t n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

/* Written into one allocation of the exact size (every response pays for its head; with
 * printf and a buffer doubling from 64 bytes it took three reallocations and ~7 % of the CPU
 * of a 33 KB block: benchmarks/README.md, "HTTP"). */
int bd_httpd__write_head(tl_buf *out, const bd_httpd_response *res, size_t body_len, bool keep_alive,
	const char *date)
{
	static const char chunked[] = "Transfer-Encoding: chunked\r\n", nosniff[] = "X-Content-Type-Options: nosniff\r\n",
			  close_[] = "Connection: close\r\n";
	const char *why = reason(res->status);
	bool has_body = bd_httpd__has_body(res->status);
	bool is_chunked = has_body && body_len == BD_HTTPD__CHUNKED;
	bool has_length = has_body && !is_chunked && body_len != BD_HTTPD__UNTIL_CLOSE;
	size_t need = sizeof("HTTP/1.1  \r\nDate: \r\n") + 20 + strlen(why) + strlen(date) + sizeof(nosniff) + sizeof(close_) + 2;
	char *p;
	int err;

	assert(res->status >= 100 && res->status <= 999);
	if (res->content_type != NULL)
		need += sizeof("Content-Type: \r\n") + strlen(res->content_type);
	need += is_chunked ? sizeof(chunked) : has_length ? sizeof("Content-Length: \r\n") + 20 : 0;
	for (size_t i = 0; i < res->nheaders; i++)
		need += strlen(res->headers[i].name) + strlen(res->headers[i].value) + 4;
	tl_buf_reset(out);
	if ((err = tl_buf_reserve(out, need)) != 0)
		return err;
	p = (char *)out->data;
	p = put(p, "HTTP/1.1 ", 9);
	p = put_u64(p, res->status);
	*p++ = ' ';
	p = put_str(p, why);
	p = put(p, "\r\nDate: ", 8);
	p = put_str(p, date);
	p = put(p, "\r\n", 2);
	if (res->content_type != NULL) {
		p = put(p, "Content-Type: ", 14);
		p = put_str(p, res->content_type);
		p = put(p, "\r\n", 2);
	}
	if (is_chunked) {
		p = put(p, chunked, sizeof(chunked) - 1);
	} else if (has_length) {
		p = put(p, "Content-Length: ", 16);
		p = put_u64(p, body_len);
		p = put(p, "\r\n", 2);
	}
	for (size_t i = 0; i < res->nheaders; i++) {
		p = put_str(p, res->headers[i].name);
		p = put(p, ": ", 2);
		p = put_str(p, res->headers[i].value);
		p = put(p, "\r\n", 2);
	}
	p = put(p, nosniff, sizeof(nosniff) - 1);
	if (!keep_alive)
		p = put(p, close_, sizeof(close_) - 1);
	p = put(p, "\r\n", 2);
	out->len = (size_t)(p - (char *)out->data);
	assert(out->len < need);
	out->data[out->len] = '\0';
	return 0;
}

const bd_httpd_field *bd_httpd_field_get(const bd_httpd_request *req, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < req->nfields; i++)
		if (req->fields[i].name_len == n && strncasecmp(req->fields[i].name, name, n) == 0)
			return &req->fields[i];
	return NULL;
}
