/*
 * The HTTP server (bundled/src/httpd.c) over real loopback sockets: keep-alive, pipelining,
 * HEAD, chunked uploads, Expect: 100-continue (with curl), the server's own answers (JSON,
 * counted, one status line), deadlines, the per-address and global connection limits (a
 * second client address is 127.0.0.2: all of 127/8 is loopback), blocking handlers in the
 * worker pool, borrowed and streamed bodies, and a stop with connections open.
 */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bundled/httpd.h"
#include "testhttp.h"

struct app {
	unsigned statuses[600];   /* answers seen by the observer */
	unsigned unparsed;        /* of which for requests that could not be parsed */
	unsigned released;        /* borrowed bodies handed back */
	unsigned stream_pieces;
	pthread_mutex_t mu;
	bd_httpd_stream *push;    /* the /push stream, while open */
	tl_buf pushed;            /* bytes the pusher thread has for /push */
	bool push_done;
};

static struct app app;
static bd_httpd *srv;

static const char borrowed_body[] = "borrowed bytes, never copied";

/* /file: FILE_LEN bytes of a temporary file from FILE_OFF, sent with sendfile; more than a
 * socket buffer, so the server sends it in several calls. Byte i of the file is pattern(i). */
enum { FILE_OFF = 1000, FILE_LEN = 600000 };
static FILE *body_file;

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 % 251);
}

static void on_release(void *ctx)
{
	__atomic_add_fetch(&app.released, 1, __ATOMIC_RELAXED);
}

/* /stream: three pieces, then the end. */
static int three_pieces(tl_buf *out, void *ctx)
{
	unsigned n = __atomic_add_fetch(&app.stream_pieces, 1, __ATOMIC_RELAXED);

	if (n > 3)
		return 0;
	return tl_buf_printf(out, "piece %u\n", n) != 0 ? -1 : 1;
}

/* /push: whatever the pusher thread left, paused when there is nothing. */
static int pushed_bytes(tl_buf *out, void *ctx)
{
	int rc;

	pthread_mutex_lock(&app.mu);
	rc = tl_buf_append(out, app.pushed.data, app.pushed.len) != 0 ? -1 : app.push_done && app.pushed.len == 0 ? 0 : 1;
	tl_buf_reset(&app.pushed);
	pthread_mutex_unlock(&app.mu);
	return rc;
}

static bool path_is(const bd_httpd_request *req, const char *path)
{
	return req->path_len == strlen(path) && memcmp(req->target, path, req->path_len) == 0;
}

static int handle(bd_httpd_response *res, const bd_httpd_request *req, void *ctx)
{
	if (path_is(req, "/hello"))
		return bd_httpd_reply(res, 200, "text/plain", "hello\n", 6);
	if (path_is(req, "/echo") && strcmp(req->method, "POST") == 0)
		return bd_httpd_reply(res, 200, "application/octet-stream", req->body, req->body_len);
	if (path_is(req, "/slow")) {
		struct timespec ts = { 0, 300 * 1000000L };

		nanosleep(&ts, NULL);
		return bd_httpd_reply(res, 200, "text/plain", "slow\n", 5);
	}
	if (path_is(req, "/borrowed")) {
		bd_httpd_reply_borrowed(res, 200, "text/plain", borrowed_body, strlen(borrowed_body), on_release, NULL);
		return 0;
	}
	if (path_is(req, "/file")) {
		bd_httpd_reply_file(res, 200, "application/octet-stream", fileno(body_file), FILE_OFF, FILE_LEN, on_release,
			NULL);
		return 0;
	}
	if (path_is(req, "/stream"))
		return bd_httpd_reply_stream(res, 200, "text/plain", three_pieces, NULL, NULL, NULL);
	if (path_is(req, "/push")) {
		int err;

		pthread_mutex_lock(&app.mu);
		err = bd_httpd_reply_stream(res, 200, "text/event-stream", pushed_bytes, NULL, NULL, &app.push);
		pthread_mutex_unlock(&app.mu);
		return err;
	}
	if (path_is(req, "/probe")) {
		const bd_httpd_field *f = bd_httpd_field_get(req, "X-Probe");
		char out[128];
		int n = snprintf(out, sizeof(out), "%s %.*s %zu", req->method, f ? (int)f->value_len : 0,
			f ? f->value : "", req->body_len);

		return bd_httpd_reply(res, 200, "text/plain", out, (size_t)n);
	}
	if (path_is(req, "/fail"))
		return tl_error_set(TL_E_CONFLICT, "a conflict with \"quotes\" and \xc3\xa9");
	return tl_error_set(TL_E_NOTFOUND, "no such thing");
}

static bool is_blocking(const bd_httpd_request *req, void *ctx)
{
	return path_is(req, "/slow");
}

static void observe(const bd_httpd_request *req, const bd_httpd_response *res, uint64_t micros, void *ctx)
{
	pthread_mutex_lock(&app.mu);
	if (res->status < 600)
		app.statuses[res->status]++;
	if (req == NULL)
		app.unparsed++;
	pthread_mutex_unlock(&app.mu);
}

static unsigned seen(unsigned status)
{
	unsigned n;

	pthread_mutex_lock(&app.mu);
	n = app.statuses[status];
	pthread_mutex_unlock(&app.mu);
	return n;
}

static void start(bd_httpd_options *o)
{
	o->host = "127.0.0.1";
	o->handler = handle;
	o->blocking = is_blocking;
	o->observe = observe;
	ck_assert_msg(bd_httpd_start(&srv, o) == 0, "%s", tl_error_message());
}

static void setup(void)
{
	bd_httpd_options o = { .max_body = 4096, .request_timeout_ms = 600, .idle_timeout_ms = 400 };

	memset(&app, 0, sizeof(app));
	pthread_mutex_init(&app.mu, NULL);
	ck_assert_ptr_nonnull(body_file = tmpfile());
	for (size_t i = 0; i < FILE_OFF + FILE_LEN + 100; i++)
		ck_assert_int_ne(fputc(pattern(i), body_file), EOF);
	ck_assert_int_eq(fflush(body_file), 0);
	start(&o);
}

static void teardown(void)
{
	bd_httpd_stop(srv);
	srv = NULL;
	fclose(body_file);
	tl_buf_free(&app.pushed);
	pthread_mutex_destroy(&app.mu);
}

/* Waits (at most 5 s) until the server counts n connections. */
static void th_wait_connections(bd_httpd *server, unsigned n)
{
	for (int i = 0; i < 500 && bd_httpd_connections(server) != n; i++) {
		struct timespec ts = { 0, 10 * 1000000L };

		nanosleep(&ts, NULL);
	}
	ck_assert_uint_eq(bd_httpd_connections(server), n);
}

static int dial(void)
{
	return th_connect("127.0.0.1", "127.0.0.1", bd_httpd_port(srv));
}

/* One request on a fresh connection; the response (head and body) as text. */
static char *once(const char *request, size_t *len)
{
	int fd = dial();
	char *r;

	th_send(fd, request, strlen(request));
	r = th_read_all(fd, len);
	close(fd);
	return r;
}

/* A server answer of its own: the status, a JSON error body, closed afterwards. */
static void expect_refusal(const char *request, unsigned status)
{
	size_t len;
	char *r = once(request, &len);
	char line[64];
	json_t *doc;
	const char *body;

	snprintf(line, sizeof(line), "HTTP/1.1 %u ", status);
	ck_assert_msg(strncmp(r, line, strlen(line)) == 0, "%s: got %s", request, r);
	/* One status line, one body, nothing after. */
	ck_assert_msg(strstr(r, "\nHTTP/1.") == NULL, "%s: two answers in %s", request, r);
	ck_assert_ptr_nonnull(strstr(r, "\r\nContent-Type: application/json\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "\r\nConnection: close\r\n"));
	ck_assert_ptr_nonnull(body = strstr(r, "\r\n\r\n"));
	ck_assert_ptr_nonnull(doc = json_loads(body + 4, 0, NULL));
	ck_assert_ptr_nonnull(json_string_value(json_object_get(json_object_get(doc, "error"), "message")));
	ck_assert_uint_eq(th_content_length(r), strlen(body + 4));
	json_decref(doc);
	free(r);
}

START_TEST(keep_alive_and_pipelining)
{
	static const char three[] = "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"
				    "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd"
				    "GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	size_t len;
	char *r = once(three, &len);
	const char *p = r;

	for (int i = 0; i < 3; i++) {
		ck_assert_msg(strncmp(p, "HTTP/1.1 200 OK\r\n", 17) == 0, "response %d: %s", i, p);
		p = strstr(p, "\r\n\r\n") + 4;
		ck_assert(strncmp(p, i == 1 ? "abcd" : "hello\n", i == 1 ? 4 : 6) == 0);
		p += i == 1 ? 4 : 6;
	}
	ck_assert_str_eq(p, "");
	free(r);
	/* A connection serves request after request. */
	{
		int fd = dial();

		for (int i = 0; i < 5; i++) {
			th_send(fd, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", 32);
			r = th_read_response(fd, &len);
			ck_assert_ptr_nonnull(strstr(r, "\r\n\r\nhello\n"));
			free(r);
		}
		close(fd);
	}
}
END_TEST

START_TEST(http_1_0_keep_alive_is_answered_in_kind)
{
	int fd = dial();
	size_t len;
	char *r;

	for (int i = 0; i < 2; i++) {
		th_send(fd, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 47);
		r = th_read_response(fd, &len);
		ck_assert_ptr_nonnull(strstr(r, "\r\nConnection: keep-alive\r\n"));
		free(r);
	}
	close(fd);
	/* and without asking, the answer closes */
	r = once("GET /hello HTTP/1.0\r\n\r\n", &len);
	ck_assert_ptr_nonnull(strstr(r, "\r\nConnection: close\r\n"));
	free(r);
}
END_TEST

START_TEST(deep_pipelining_does_not_recurse)
{
	enum { N = 3000 };
	static const char one[] = "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n";
	char *many = malloc(N * (sizeof(one) - 1) + 64);
	size_t len = 0, n = 0;
	char *r;
	const char *p;

	ck_assert_ptr_nonnull(many);
	for (int i = 0; i < N; i++) {
		memcpy(many + len, one, sizeof(one) - 1);
		len += sizeof(one) - 1;
	}
	strcpy(many + len, "GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
	r = once(many, &len);
	for (p = r; (p = strstr(p, "HTTP/1.1 200 OK")) != NULL; p++)
		n++;
	ck_assert_uint_eq(n, N + 1);
	free(r);
	free(many);
}
END_TEST

START_TEST(head_gets_the_headers_of_get)
{
	size_t len;
	char *get = once("GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &len);
	char *head = once("HEAD /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &len);

	ck_assert_uint_eq(th_content_length(head), 6);
	ck_assert_uint_eq(th_content_length(get), 6);
	ck_assert_str_eq(strstr(head, "\r\n\r\n"), "\r\n\r\n");
	free(get);
	free(head);
	/* and a borrowed body is handed back even when it is not sent */
	head = once("HEAD /borrowed HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &len);
	ck_assert_uint_eq(th_content_length(head), strlen(borrowed_body));
	ck_assert_uint_eq(__atomic_load_n(&app.released, __ATOMIC_RELAXED), 1);
	free(head);
}
END_TEST

START_TEST(borrowed_bodies_are_released_once_sent)
{
	size_t len;
	char *r = once("GET /borrowed HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &len);

	ck_assert_ptr_nonnull(strstr(r, borrowed_body));
	ck_assert_uint_eq(__atomic_load_n(&app.released, __ATOMIC_RELAXED), 1);
	free(r);
}
END_TEST

START_TEST(file_bodies_are_sent_whole_and_released)
{
	size_t len;
	char *r = once("GET /file HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		&len);
	const char *body = strstr(r, "\r\n\r\n");

	/* the whole range, then the pipelined answer right after it */
	ck_assert_ptr_nonnull(body);
	body += 4;
	ck_assert_uint_eq(th_content_length(r), FILE_LEN);
	ck_assert_uint_ge(len, (size_t)(body - r) + FILE_LEN);
	for (size_t i = 0; i < FILE_LEN; i++)
		ck_assert_msg((uint8_t)body[i] == pattern(FILE_OFF + i), "byte %zu differs", i);
	ck_assert_msg(strncmp(body + FILE_LEN, "HTTP/1.1 200 ", 13) == 0, "no answer after the file body");
	ck_assert_ptr_nonnull(strstr(body + FILE_LEN, "\r\n\r\nhello\n"));
	ck_assert_uint_eq(__atomic_load_n(&app.released, __ATOMIC_RELAXED), 1);
	free(r);
	/* HEAD: the length, no body, released all the same */
	r = once("HEAD /file HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &len);
	ck_assert_uint_eq(th_content_length(r), FILE_LEN);
	ck_assert_str_eq(strstr(r, "\r\n\r\n"), "\r\n\r\n");
	ck_assert_uint_eq(__atomic_load_n(&app.released, __ATOMIC_RELAXED), 2);
	free(r);
}
END_TEST

START_TEST(chunked_uploads)
{
	size_t len;
	char *r = once("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
		       "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n", &len);

	ck_assert_ptr_nonnull(strstr(r, "\r\n\r\nhello world"));
	ck_assert_uint_eq(th_content_length(r), 11);
	free(r);
	/* Over max_body (4096): 413, answered, not a dropped connection. */
	{
		int fd = dial();
		char chunk[1100];

		th_send(fd, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 60);
		memset(chunk, 'x', sizeof(chunk));
		for (int i = 0; i < 5; i++) {
			th_send(fd, "400\r\n", 5);
			th_send(fd, chunk, 1024);
			th_send(fd, "\r\n", 2);
		}
		r = th_read_all(fd, &len);
		ck_assert_msg(strncmp(r, "HTTP/1.1 413 ", 13) == 0, "%s", r);
		ck_assert_ptr_nonnull(strstr(r, "larger than 4096 bytes"));
		free(r);
		close(fd);
	}
	expect_refusal("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4097\r\n\r\n", 413);
	expect_refusal("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x\r\nhello\r\n0\r\n\r\n", 400);
}
END_TEST

/* A body that arrives over many reads makes the input buffer grow and move after the head
 * was parsed: the parsed method, target and headers must move with it (ASan finds it if not). */
START_TEST(a_long_body_keeps_the_head_valid)
{
	bd_httpd_options o = { .max_body = 1u << 20 };
	static char piece[20000];
	size_t len;
	char *r;
	int fd;

	bd_httpd_stop(srv);
	start(&o);
	fd = dial();
	th_send(fd, "POST /probe HTTP/1.1\r\nHost: a\r\nX-Probe: still-here\r\nContent-Length: 200000\r\n"
		    "Connection: close\r\n\r\n", 97);
	memset(piece, 'b', sizeof(piece));
	for (int i = 0; i < 10; i++) {
		struct timespec ts = { 0, 5 * 1000000L };

		th_send(fd, piece, sizeof(piece));
		nanosleep(&ts, NULL); /* separate reads */
	}
	r = th_read_all(fd, &len);
	ck_assert_msg(strstr(r, "\r\n\r\nPOST still-here 200000") != NULL, "%s", r);
	free(r);
	close(fd);
}
END_TEST

static size_t sink(char *p, size_t size, size_t n, void *ctx)
{
	tl_buf *b = ctx;

	return tl_buf_append(b, p, size * n) == 0 ? size * n : 0;
}

START_TEST(expect_100_continue_with_curl)
{
	CURL *curl = curl_easy_init();
	char url[64], body[3000];
	tl_buf got = tl_buf_make(1 << 20);
	long status = 0;
	double took;
	struct curl_slist *hdrs = curl_slist_append(NULL, "Expect: 100-continue");

	memset(body, 'e', sizeof(body));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/echo", bd_httpd_port(srv));
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)sizeof(body));
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	/* Without our 100 Continue, curl would wait this long before sending the body. */
	curl_easy_setopt(curl, CURLOPT_EXPECT_100_TIMEOUT_MS, 5000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &got);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
	ck_assert_int_eq(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME, &took);
	ck_assert_int_eq(status, 200);
	ck_assert_uint_eq(got.len, sizeof(body));
	ck_assert(memcmp(got.data, body, sizeof(body)) == 0);
	ck_assert_msg(took < 2.0, "took %.2f s: no 100 Continue", took);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	tl_buf_free(&got);
}
END_TEST

START_TEST(own_answers_are_json_single_and_counted)
{
	char big[BD_HTTPD_MAX_TARGET + 100];
	unsigned before = seen(400);

	expect_refusal("GET / HTTP/1.1\nHost: a\r\n\r\n", 400);
	expect_refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400);
	expect_refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na", 400);
	expect_refusal("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
	expect_refusal("GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	snprintf(big, sizeof(big), "GET /%0*d HTTP/1.1\r\nHost: a\r\n\r\n", BD_HTTPD_MAX_TARGET, 0);
	expect_refusal(big, 414);
	expect_refusal("GET /fail HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 409);
	ck_assert_uint_eq(seen(400), before + 4);
	ck_assert_uint_eq(seen(505), 1);
	ck_assert_uint_eq(seen(414), 1);
	ck_assert_uint_ge(app.unparsed, 6);
}
END_TEST

START_TEST(slow_requests_get_408)
{
	int fd = dial();
	size_t len;
	char *r;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	th_send(fd, "GET /hello HTTP/1.1\r\nHo", 23);
	/* Dribbling bytes does not extend the deadline. */
	for (int i = 0; i < 4; i++) {
		struct timespec ts = { 0, 100 * 1000000L };

		nanosleep(&ts, NULL);
		th_send(fd, "s", 1);
	}
	r = th_read_all(fd, &len);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_msg(strncmp(r, "HTTP/1.1 408 ", 13) == 0, "%s", r);
	ck_assert_ptr_nonnull(strstr(r, "\"error\""));
	ck_assert_int_lt((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 2000);
	free(r);
	close(fd);
	ck_assert_uint_eq(seen(408), 1);
}
END_TEST

START_TEST(idle_connections_are_closed)
{
	int fd = dial();
	size_t len;
	char *r;

	th_send(fd, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", 32);
	free(th_read_response(fd, &len));
	/* idle_timeout is 400 ms: then the server hangs up without a word. */
	r = th_read_all(fd, &len);
	ck_assert_uint_eq(len, 0);
	free(r);
	close(fd);
	ck_assert_uint_eq(bd_httpd_connections(srv), 0);
}
END_TEST

START_TEST(per_address_limit_refuses_only_that_address)
{
	bd_httpd_options o = { .max_per_address = 3, .max_connections = 100 };
	int held[3], fd, other;
	size_t len;
	char *r;

	bd_httpd_stop(srv);
	start(&o);
	for (int i = 0; i < 3; i++)
		held[i] = dial();
	th_wait_connections(srv, 3);
	fd = dial();
	th_send(fd, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", 32);
	r = th_read_all(fd, &len);
	ck_assert_msg(strncmp(r, "HTTP/1.1 429 ", 13) == 0, "%s", r);
	ck_assert_ptr_nonnull(strstr(r, "\r\nRetry-After: 1\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "too many connections from this address"));
	free(r);
	close(fd);
	/* Another client address is served meanwhile. */
	other = th_connect("127.0.0.2", "127.0.0.1", bd_httpd_port(srv));
	th_send(other, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", 32);
	r = th_read_response(other, &len);
	ck_assert_ptr_nonnull(strstr(r, "\r\n\r\nhello\n"));
	free(r);
	close(other);
	/* and the first one again once it closed one of its connections */
	close(held[0]);
	th_wait_connections(srv, 2);
	fd = dial();
	th_send(fd, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", 32);
	r = th_read_response(fd, &len);
	ck_assert_ptr_nonnull(strstr(r, "\r\n\r\nhello\n"));
	free(r);
	close(fd);
	close(held[1]);
	close(held[2]);
	ck_assert_uint_eq(seen(429), 1);
}
END_TEST

/* A burst of connections (wrk opens its 64 at once) is spread over the loops: the loop that
 * accepts them hands each to the one with the fewest, where it once kept them all. */
START_TEST(a_burst_of_connections_is_spread_over_the_loops)
{
	enum { BURST = 64 };
	bd_httpd_options o = { .loops = 2 };
	bd_httpd_stats st;
	int fds[BURST];
	size_t len;
	char *r;

	bd_httpd_stop(srv);
	start(&o);
	for (int i = 0; i < BURST; i++)
		fds[i] = dial();
	th_wait_connections(srv, BURST);
	bd_httpd_stats_get(&st, srv);
	ck_assert_msg(st.loop_connections_min + st.loop_connections_max == BURST &&
			st.loop_connections_max - st.loop_connections_min <= 2,
		"%llu and %llu connections on the two loops", (unsigned long long)st.loop_connections_min,
		(unsigned long long)st.loop_connections_max);
	/* and every one of them is served, wherever it went */
	for (int i = 0; i < BURST; i++) {
		th_send(fds[i], "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", 32);
		r = th_read_response(fds[i], &len);
		ck_assert_ptr_nonnull(strstr(r, "\r\n\r\nhello\n"));
		free(r);
		close(fds[i]);
	}
	th_wait_connections(srv, 0);
	bd_httpd_stats_get(&st, srv);
	ck_assert_uint_eq(st.loop_connections_max, 0);
}
END_TEST

START_TEST(global_limit_answers_503)
{
	bd_httpd_options o = { .max_connections = 2 };
	int a, b, fd;
	size_t len;
	char *r;

	bd_httpd_stop(srv);
	start(&o);
	a = th_connect("127.0.0.3", "127.0.0.1", bd_httpd_port(srv));
	b = th_connect("127.0.0.4", "127.0.0.1", bd_httpd_port(srv));
	th_wait_connections(srv, 2);
	fd = th_connect("127.0.0.5", "127.0.0.1", bd_httpd_port(srv));
	r = th_read_all(fd, &len);
	ck_assert_msg(strncmp(r, "HTTP/1.1 503 ", 13) == 0, "%s", r);
	ck_assert_ptr_nonnull(strstr(r, "\"code\":\"unavailable\""));
	free(r);
	close(fd);
	close(a);
	close(b);
}
END_TEST

struct fetch {
	const char *path;
	char *response;
	double ms;
};

static void *fetch_thread(void *arg)
{
	struct fetch *f = arg;
	char req[128];
	size_t len;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", f->path);
	f->response = once(req, &len);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	f->ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	return NULL;
}

START_TEST(blocking_handlers_run_in_the_worker_pool)
{
	struct fetch slow[4], fast = { "/hello", NULL, 0 };
	pthread_t th[4];
	struct timespec ts = { 0, 50 * 1000000L };

	for (int i = 0; i < 4; i++) {
		slow[i] = (struct fetch){ "/slow", NULL, 0 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, fetch_thread, &slow[i]), 0);
	}
	nanosleep(&ts, NULL);
	/* The loops stay free while the four workers sleep. */
	fetch_thread(&fast);
	/* well under the 300 ms the blocking handlers sleep */
	ck_assert_msg(fast.ms < 250, "a loop request took %.0f ms beside blocking ones", fast.ms);
	ck_assert_ptr_nonnull(strstr(fast.response, "hello"));
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_ptr_nonnull(strstr(slow[i].response, "\r\n\r\nslow\n"));
		/* Four workers: they ran side by side (one after the other would take 1200 ms). */
		ck_assert_msg(slow[i].ms < 900, "took %.0f ms", slow[i].ms);
		free(slow[i].response);
	}
	free(fast.response);
}
END_TEST

START_TEST(streamed_bodies_are_chunked)
{
	size_t len;
	char *r = once("GET /stream HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &len);
	char *body;

	ck_assert_ptr_nonnull(strstr(r, "\r\nTransfer-Encoding: chunked\r\n"));
	ck_assert_ptr_null(strstr(r, "Content-Length"));
	ck_assert_ptr_nonnull(body = strstr(r, "\r\n\r\n"));
	ck_assert_str_eq(body + 4, "8\r\npiece 1\n\r\n8\r\npiece 2\n\r\n8\r\npiece 3\n\r\n0\r\n\r\n");
	free(r);
	/* HTTP/1.0: no chunks, the end of the body is the end of the connection. */
	__atomic_store_n(&app.stream_pieces, 0, __ATOMIC_RELAXED);
	r = once("GET /stream HTTP/1.0\r\n\r\n", &len);
	ck_assert_ptr_nonnull(body = strstr(r, "\r\n\r\n"));
	ck_assert_str_eq(body + 4, "piece 1\npiece 2\npiece 3\n");
	ck_assert_ptr_nonnull(strstr(r, "\r\nConnection: close\r\n"));
	free(r);
}
END_TEST

static void push(const char *text, bool done)
{
	bd_httpd_stream *s;

	pthread_mutex_lock(&app.mu);
	ck_assert_int_eq(tl_buf_append_str(&app.pushed, text), 0);
	app.push_done = done;
	s = app.push;
	pthread_mutex_unlock(&app.mu);
	bd_httpd_stream_wake(s);
}

START_TEST(streams_take_pushes_from_other_threads)
{
	int fd = dial();
	char buf[4096];
	size_t got = 0;
	bd_httpd_stream *s;

	th_send(fd, "GET /push HTTP/1.1\r\nHost: a\r\n\r\n", 31);
	/* The head comes at once; then the stream waits, beyond the idle timeout (400 ms). */
	got = th_read_until(fd, buf, sizeof(buf), "\r\n\r\n");
	ck_assert_ptr_nonnull(strstr(buf, "Transfer-Encoding: chunked"));
	{
		struct timespec ts = { 0, 700 * 1000000L };

		nanosleep(&ts, NULL);
	}
	for (int i = 0; i < 3; i++) {
		char event[64];

		snprintf(event, sizeof(event), "data: %d\n\n", i);
		push(event, false);
		got = th_read_until(fd, buf, sizeof(buf), "\n\n\r\n");
		ck_assert_msg(strstr(buf, event) != NULL, "no %s in %.*s", event, (int)got, buf);
	}
	pthread_mutex_lock(&app.mu);
	s = app.push;
	pthread_mutex_unlock(&app.mu);
	ck_assert(bd_httpd_stream_open(s));
	push("", true);
	got = th_read_until(fd, buf, sizeof(buf), "0\r\n\r\n");
	/* The connection serves the next request after the stream. */
	th_send(fd, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", 32);
	got = th_read_until(fd, buf, sizeof(buf), "hello\n");
	ck_assert(!bd_httpd_stream_open(s));
	bd_httpd_stream_wake(s); /* nothing happens: the response is over */
	bd_httpd_stream_release(s);
	close(fd);
}
END_TEST

START_TEST(a_stream_whose_client_left_is_closed)
{
	int fd = dial();
	char buf[4096];
	bd_httpd_stream *s;

	th_send(fd, "GET /push HTTP/1.1\r\nHost: a\r\n\r\n", 31);
	th_read_until(fd, buf, sizeof(buf), "\r\n\r\n");
	close(fd);
	pthread_mutex_lock(&app.mu);
	s = app.push;
	pthread_mutex_unlock(&app.mu);
	for (int i = 0; i < 200 && bd_httpd_stream_open(s); i++) {
		struct timespec ts = { 0, 10 * 1000000L };

		nanosleep(&ts, NULL);
	}
	ck_assert(!bd_httpd_stream_open(s));
	ck_assert_uint_eq(bd_httpd_connections(srv), 0);
	bd_httpd_stream_release(s);
}
END_TEST

START_TEST(stop_with_connections_open)
{
	int idle = dial(), partial = dial(), working = dial();
	size_t len;
	char *r;
	struct fetch slow = { "/slow", NULL, 0 };
	pthread_t th;
	bd_httpd_stream *s;
	int pushfd = dial();
	char buf[1024];

	th_send(partial, "GET /hel", 8);
	th_send(pushfd, "GET /push HTTP/1.1\r\nHost: a\r\n\r\n", 31);
	th_read_until(pushfd, buf, sizeof(buf), "\r\n\r\n");
	ck_assert_int_eq(pthread_create(&th, NULL, fetch_thread, &slow), 0);
	{
		struct timespec ts = { 0, 100 * 1000000L };

		nanosleep(&ts, NULL);
	}
	th_wait_connections(srv, 5);
	pthread_mutex_lock(&app.mu);
	s = app.push;
	pthread_mutex_unlock(&app.mu);
	bd_httpd_stop(srv);
	srv = NULL;
	/* The handler in flight finished first; every connection is closed. */
	pthread_join(th, NULL);
	ck_assert_ptr_nonnull(slow.response);
	free(slow.response);
	r = th_read_all(idle, &len);
	ck_assert_uint_eq(len, 0);
	free(r);
	r = th_read_all(partial, &len);
	free(r);
	ck_assert(!bd_httpd_stream_open(s));
	bd_httpd_stream_wake(s);
	bd_httpd_stream_release(s);
	close(idle);
	close(partial);
	close(working);
	close(pushfd);
	/* teardown stops a NULL server: start a fresh one for it */
	{
		bd_httpd_options o = { 0 };

		start(&o);
	}
}
END_TEST

Suite *suite_httpd(void)
{
	Suite *s = suite_create("httpd");
	TCase *tc = tcase_create("server");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, keep_alive_and_pipelining);
	tcase_add_test(tc, a_long_body_keeps_the_head_valid);
	tcase_add_test(tc, http_1_0_keep_alive_is_answered_in_kind);
	tcase_add_test(tc, deep_pipelining_does_not_recurse);
	tcase_add_test(tc, head_gets_the_headers_of_get);
	tcase_add_test(tc, borrowed_bodies_are_released_once_sent);
	tcase_add_test(tc, file_bodies_are_sent_whole_and_released);
	tcase_add_test(tc, chunked_uploads);
	tcase_add_test(tc, expect_100_continue_with_curl);
	tcase_add_test(tc, own_answers_are_json_single_and_counted);
	tcase_add_test(tc, slow_requests_get_408);
	tcase_add_test(tc, idle_connections_are_closed);
	tcase_add_test(tc, per_address_limit_refuses_only_that_address);
	tcase_add_test(tc, global_limit_answers_503);
	tcase_add_test(tc, blocking_handlers_run_in_the_worker_pool);
	tcase_add_test(tc, streamed_bodies_are_chunked);
	tcase_add_test(tc, streams_take_pushes_from_other_threads);
	tcase_add_test(tc, a_stream_whose_client_left_is_closed);
	tcase_add_test(tc, stop_with_connections_open);
	tcase_add_test(tc, a_burst_of_connections_is_spread_over_the_loops);
	suite_add_tcase(s, tc);
	return s;
}
