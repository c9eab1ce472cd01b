/*
 * The HTTP server (bundled/src/httpd.c) with TLS, over real loopback connections and libcurl
 * as the client: keep-alive on one TLS connection, a large streamed body, a blocking handler,
 * client certificates (verified from the client CA, absent, or from another CA), a client that
 * never finishes its handshake, plain HTTP sent to the TLS port, a refusal over a limit
 * answered through TLS, and 200 concurrent TLS clients.
 */
#define _GNU_SOURCE
#include <check.h>
#include <curl/curl.h>
#include <pthread.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundled/httpd.h"
#include "testhttp.h"
#include "testpki.h"
#include "testutil.h"

#define BIG_PIECES 160 /* 160 pieces of 64 KiB: a 10 MiB streamed body */
#define CONCURRENT 200

static char *pki;
static bd_httpd *srv;

static const char *at(const char *name)
{
	return tp_path(pki, name);
}

static bool path_is(const bd_httpd_request *req, const char *path)
{
	return req->path_len == strlen(path) && memcmp(req->target, path, req->path_len) == 0;
}

/* /big: BIG_PIECES pieces, piece i filled with the letter 'a' + i % 26. */
static int big_pieces(tl_buf *out, void *ctx)
{
	unsigned *n = ctx;
	uint8_t piece[BD_HTTPD_STREAM_CHUNK];

	if (*n == BIG_PIECES)
		return 0;
	memset(piece, 'a' + (int)(*n % 26), sizeof(piece));
	(*n)++;
	return tl_buf_append(out, piece, sizeof(piece)) != 0 ? -1 : 1;
}

/* /file: a file body (bd_httpd_reply_file), which TLS cannot sendfile: read into memory. */
static void close_file(void *ctx)
{
	fclose(ctx);
}

static int handle(bd_httpd_response *res, const bd_httpd_request *req, void *ctx)
{
	if (path_is(req, "/file")) {
		FILE *f = tmpfile();

		if (f == NULL || fputs("skipped|the file body over TLS", f) == EOF || fflush(f) != 0) {
			if (f != NULL)
				fclose(f);
			return tl_error_set(TL_E_IO, "tmpfile");
		}
		bd_httpd_reply_file(res, 200, "text/plain", fileno(f), 8, 22, close_file, f);
		return 0;
	}
	if (path_is(req, "/whoami")) {
		char text[400];
		int n = snprintf(text, sizeof(text), "tls=%d verified=%d subject=%s\n", req->tls,
			req->tls_client_verified, req->tls_client_subject);

		return bd_httpd_reply(res, 200, "text/plain", text, (size_t)n);
	}
	if (path_is(req, "/slow")) {
		struct timespec ts = { 0, 300 * 1000000L };

		nanosleep(&ts, NULL);
		return bd_httpd_reply(res, 200, "text/plain", "slow\n", 5);
	}
	if (path_is(req, "/big")) {
		unsigned *n = calloc(1, sizeof(*n));

		if (n == NULL)
			return tl_error_set(TL_E_NOMEM, "out of memory");
		return bd_httpd_reply_stream(res, 200, "application/octet-stream", big_pieces, free, n, NULL);
	}
	if (path_is(req, "/echo") && strcmp(req->method, "POST") == 0)
		return bd_httpd_reply(res, 200, "application/octet-stream", req->body, req->body_len);
	return tl_error_set(TL_E_NOTFOUND, "no such thing");
}

static bool is_blocking(const bd_httpd_request *req, void *ctx)
{
	return path_is(req, "/slow");
}

static void start(bd_httpd_options *o)
{
	o->host = "127.0.0.1";
	o->handler = handle;
	o->blocking = is_blocking;
	o->tls_cert = at("server.pem");
	o->tls_key = at("server.key");
	ck_assert_msg(bd_httpd_start(&srv, o) == 0, "%s", tl_error_message());
}

static void make_pki(void)
{
	pki = tp_make_pki();
}

static void drop_pki(void)
{
	tu_rm_rf(pki);
	free(pki);
}

static void setup(void)
{
	bd_httpd_options o = { .request_timeout_ms = 800, .max_body = 4u << 20, .tls_client_ca = NULL };

	make_pki();
	o.tls_client_ca = at("ca.pem");
	start(&o);
}

static void teardown(void)
{
	bd_httpd_stop(srv);
	srv = NULL;
	drop_pki();
}

static size_t sink(char *p, size_t size, size_t n, void *ctx)
{
	tl_buf *b = ctx;

	return tl_buf_append(b, p, size * n) == 0 ? size * n : 0;
}

/* A curl handle for https://localhost:PORT/path (resolved to 127.0.0.1) that trusts the test
 * CA and writes the body to `into`. */
static CURL *client(const char *path, tl_buf *into, struct curl_slist **resolve)
{
	CURL *curl = curl_easy_init();
	char url[128], entry[64];

	snprintf(url, sizeof(url), "https://localhost:%u%s", bd_httpd_port(srv), path);
	snprintf(entry, sizeof(entry), "localhost:%u:127.0.0.1", bd_httpd_port(srv));
	*resolve = curl_slist_append(NULL, entry);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_RESOLVE, *resolve);
	curl_easy_setopt(curl, CURLOPT_CAINFO, at("ca.pem"));
	curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, into);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	return curl;
}

/* GET path with the given client certificate (NULL: none); the body, or NULL if curl failed. */
static char *fetch(const char *path, const char *cert, const char *key, CURLcode *rc)
{
	tl_buf got = tl_buf_make(1 << 20);
	struct curl_slist *resolve;
	CURL *curl = client(path, &got, &resolve);

	if (cert != NULL) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, key);
	}
	*rc = curl_easy_perform(curl);
	curl_easy_cleanup(curl);
	curl_slist_free_all(resolve);
	if (*rc != CURLE_OK || tl_buf_append(&got, "", 1) != 0) {
		tl_buf_free(&got);
		return NULL;
	}
	return (char *)got.data;
}

START_TEST(keep_alive_over_tls)
{
	tl_buf got = tl_buf_make(1 << 20);
	struct curl_slist *resolve;
	CURL *curl = client("/whoami", &got, &resolve);
	long connects, status;
	char body[3000], url[128];

	for (int i = 0; i < 5; i++) {
		tl_buf_reset(&got);
		ck_assert_int_eq(curl_easy_perform(curl), CURLE_OK);
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
		ck_assert_int_eq(status, 200);
		/* One connection for all five. */
		ck_assert_int_eq(connects, i == 0 ? 1 : 0);
		ck_assert(got.len > 0 && memcmp(got.data, "tls=1 verified=0 subject=\n", got.len) == 0);
	}
	/* A body up through TLS on the same connection. */
	memset(body, 'p', sizeof(body));
	tl_buf_reset(&got);
	snprintf(url, sizeof(url), "https://localhost:%u/echo", bd_httpd_port(srv));
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)sizeof(body));
	ck_assert_int_eq(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
	ck_assert_int_eq(connects, 0);
	ck_assert_uint_eq(got.len, sizeof(body));
	ck_assert(memcmp(got.data, body, sizeof(body)) == 0);
	ck_assert_uint_eq(bd_httpd_tls_failures(srv), 0);
	curl_easy_cleanup(curl);
	curl_slist_free_all(resolve);
	tl_buf_free(&got);
}
END_TEST

START_TEST(file_body_over_tls)
{
	tl_buf got = tl_buf_make(1 << 20);
	struct curl_slist *resolve;
	CURL *curl = client("/file", &got, &resolve);

	ck_assert_int_eq(curl_easy_perform(curl), CURLE_OK);
	ck_assert_uint_eq(got.len, 22);
	ck_assert(memcmp(got.data, "the file body over TLS", 22) == 0);
	curl_easy_cleanup(curl);
	curl_slist_free_all(resolve);
	tl_buf_free(&got);
}
END_TEST

START_TEST(large_streamed_body)
{
	tl_buf got = tl_buf_make((size_t)BIG_PIECES * BD_HTTPD_STREAM_CHUNK);
	struct curl_slist *resolve;
	CURL *curl = client("/big", &got, &resolve);

	ck_assert_int_eq(curl_easy_perform(curl), CURLE_OK);
	ck_assert_uint_eq(got.len, (size_t)BIG_PIECES * BD_HTTPD_STREAM_CHUNK);
	for (size_t i = 0; i < BIG_PIECES; i++) {
		const uint8_t *piece = got.data + i * BD_HTTPD_STREAM_CHUNK;

		ck_assert_msg(piece[0] == 'a' + i % 26 && piece[BD_HTTPD_STREAM_CHUNK - 1] == 'a' + i % 26,
			"piece %zu", i);
	}
	curl_easy_cleanup(curl);
	curl_slist_free_all(resolve);
	tl_buf_free(&got);
}
END_TEST

START_TEST(blocking_handler_over_tls)
{
	CURLcode rc;
	char *body = fetch("/slow", NULL, NULL, &rc);

	ck_assert_int_eq(rc, CURLE_OK);
	ck_assert_str_eq(body, "slow\n");
	free(body);
}
END_TEST

START_TEST(client_certificates)
{
	CURLcode rc;
	char *body;

	body = fetch("/whoami", at("client.pem"), at("client.key"), &rc);
	ck_assert_int_eq(rc, CURLE_OK);
	ck_assert_str_eq(body, "tls=1 verified=1 subject=/CN=operator\n");
	free(body);
	/* No certificate: still served (reads are anonymous), not verified. */
	body = fetch("/whoami", NULL, NULL, &rc);
	ck_assert_int_eq(rc, CURLE_OK);
	ck_assert_str_eq(body, "tls=1 verified=0 subject=\n");
	free(body);
	ck_assert_uint_eq(bd_httpd_tls_failures(srv), 0);
	/* Same subject, another CA: the handshake is refused, and counted. */
	body = fetch("/whoami", at("other-client.pem"), at("other-client.key"), &rc);
	ck_assert_ptr_null(body);
	ck_assert_int_ne(rc, CURLE_OK);
	/* In TLS 1.3 the client may see the refusal before the server has counted it. */
	for (int i = 0; i < 500 && bd_httpd_tls_failures(srv) == 0; i++) {
		struct timespec ts = { 0, 10 * 1000000L };

		nanosleep(&ts, NULL);
	}
	ck_assert_uint_eq(bd_httpd_tls_failures(srv), 1);
}
END_TEST

/* Waits (at most 5 s) until the server counts n connections. */
static void wait_connections(unsigned n)
{
	for (int i = 0; i < 500 && bd_httpd_connections(srv) != n; i++) {
		struct timespec ts = { 0, 10 * 1000000L };

		nanosleep(&ts, NULL);
	}
	ck_assert_uint_eq(bd_httpd_connections(srv), n);
}

START_TEST(unfinished_handshake_meets_the_deadline)
{
	/* The first bytes of a TLS record header, and then nothing. */
	static const unsigned char partial[] = { 0x16, 0x03, 0x01 };
	int idle = th_connect("127.0.0.1", "127.0.0.1", bd_httpd_port(srv));
	int part = th_connect("127.0.0.1", "127.0.0.1", bd_httpd_port(srv));
	struct timespec t0, t1;
	size_t len;
	char *r;
	double ms;

	th_send(part, partial, sizeof(partial));
	wait_connections(2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = th_read_all(idle, &len);
	ck_assert_uint_eq(len, 0);
	free(r);
	r = th_read_all(part, &len);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_uint_eq(len, 0);
	free(r);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	/* The 800 ms request deadline, checked four times a second. */
	ck_assert_msg(ms < 2500, "closed after %.0f ms", ms);
	ck_assert_uint_eq(bd_httpd_tls_failures(srv), 2);
	wait_connections(0);
	close(idle);
	close(part);
}
END_TEST

START_TEST(plain_http_to_the_tls_port_is_refused_clearly)
{
	static const char req[] = "GET /whoami HTTP/1.1\r\nHost: a\r\n\r\n";
	int fd = th_connect("127.0.0.1", "127.0.0.1", bd_httpd_port(srv));
	CURLcode rc;
	size_t len;
	char *r, *body;

	th_send(fd, req, strlen(req));
	r = th_read_all(fd, &len);
	close(fd);
	ck_assert_msg(strncmp(r, "HTTP/1.1 400 ", 13) == 0, "got %s", r);
	ck_assert_ptr_nonnull(strstr(r, "\r\nConnection: close\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "https://"));
	free(r);
	ck_assert_uint_eq(bd_httpd_tls_failures(srv), 1);
	/* TLS clients are served as before. */
	body = fetch("/whoami", NULL, NULL, &rc);
	ck_assert_int_eq(rc, CURLE_OK);
	free(body);
}
END_TEST

START_TEST(refusal_over_a_limit_is_sent_through_tls)
{
	bd_httpd_options o = { .max_connections = 1 };
	tl_buf got = tl_buf_make(1 << 16);
	struct curl_slist *resolve;
	CURL *curl;
	int hold;
	long status = 0;

	bd_httpd_stop(srv);
	start(&o);
	hold = th_connect("127.0.0.1", "127.0.0.1", bd_httpd_port(srv));
	wait_connections(1);
	curl = client("/whoami", &got, &resolve);
	ck_assert_int_eq(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	ck_assert_int_eq(status, 503);
	ck_assert_ptr_nonnull(memmem(got.data, got.len, "too many connections", 20));
	curl_easy_cleanup(curl);
	curl_slist_free_all(resolve);
	tl_buf_free(&got);
	close(hold);
}
END_TEST

START_TEST(concurrent_tls_clients)
{
	CURLM *multi = curl_multi_init();
	CURL *easy[CONCURRENT];
	tl_buf got[CONCURRENT];
	struct curl_slist *resolve[CONCURRENT];
	int running = 1;
	unsigned ok = 0;
	CURLMsg *msg;
	int left;
	bd_httpd_options o = { .tls_client_ca = NULL };

	/* The default deadlines: 200 handshakes at once take a while on a small machine. */
	bd_httpd_stop(srv);
	start(&o);
	for (int i = 0; i < CONCURRENT; i++) {
		got[i] = tl_buf_make(1 << 10);
		easy[i] = client("/whoami", &got[i], &resolve[i]);
		/* Every transfer its own connection and handshake, all at once. */
		curl_easy_setopt(easy[i], CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(easy[i], CURLOPT_FORBID_REUSE, 1L);
		curl_easy_setopt(easy[i], CURLOPT_TIMEOUT, 60L);
		curl_multi_add_handle(multi, easy[i]);
	}
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
	while (running) {
		ck_assert_int_eq(curl_multi_perform(multi, &running), CURLM_OK);
		if (running)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	}
	while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
		long status = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		ck_assert_msg(msg->data.result == CURLE_OK, "%s", curl_easy_strerror(msg->data.result));
		ck_assert_int_eq(status, 200);
		ok++;
	}
	ck_assert_uint_eq(ok, CONCURRENT);
	for (int i = 0; i < CONCURRENT; i++) {
		ck_assert(got[i].len > 4 && memcmp(got[i].data, "tls=1", 5) == 0);
		curl_multi_remove_handle(multi, easy[i]);
		curl_easy_cleanup(easy[i]);
		curl_slist_free_all(resolve[i]);
		tl_buf_free(&got[i]);
	}
	curl_multi_cleanup(multi);
	ck_assert_uint_eq(bd_httpd_tls_failures(srv), 0);
}
END_TEST

START_TEST(start_refuses_unusable_tls_files)
{
	bd_httpd *other = NULL;
	bd_httpd_options o = { .host = "127.0.0.1", .handler = handle, .tls_cert = at("server.pem"),
		.tls_key = at("other.key") };

	ck_assert_int_eq(bd_httpd_start(&other, &o), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "other.key"));
	o.tls_key = NULL;
	ck_assert_int_eq(bd_httpd_start(&other, &o), TL_E_INPUT);
	ck_assert_ptr_null(other);
}
END_TEST

Suite *suite_httpd_https(void)
{
	Suite *s = suite_create("httpd_https");
	TCase *tc = tcase_create("https");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, keep_alive_over_tls);
	tcase_add_test(tc, large_streamed_body);
	tcase_add_test(tc, file_body_over_tls);
	tcase_add_test(tc, blocking_handler_over_tls);
	tcase_add_test(tc, client_certificates);
	tcase_add_test(tc, unfinished_handshake_meets_the_deadline);
	tcase_add_test(tc, plain_http_to_the_tls_port_is_refused_clearly);
	tcase_add_test(tc, refusal_over_a_limit_is_sent_through_tls);
	tcase_add_test(tc, concurrent_tls_clients);
	tcase_add_test(tc, start_refuses_unusable_tls_files);
	suite_add_tcase(s, tc);
	return s;
}
