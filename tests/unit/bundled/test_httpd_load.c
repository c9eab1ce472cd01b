/*
 * The HTTP server under the loads of issue 7 §4, on loopback only and in bounded loops:
 * 500 slow connections from one address while a second address keeps being answered in
 * time; 3,000 concurrent ordinary connections all answered; a client over its per-address
 * limit refused with a clear error while others are served. Client addresses are spread
 * over 127/8, all of which is loopback.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bundled/httpd.h"
#include "testhttp.h"

/* The issue asks for 60 s of slow connections; the suite runs 10 s by default so `make test`
 * stays short. BUNDLED_SLOW_SECONDS=60 runs the full length. */
#define DEFAULT_SLOW_SECONDS 10
#define SLOW_CONNECTIONS 500
#define MANY_CONNECTIONS 3000

static bd_httpd *srv;

static int hello(bd_httpd_response *res, const bd_httpd_request *req, void *ctx)
{
	return bd_httpd_reply(res, 200, "text/plain", "hello\n", 6);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Descriptors for both ends of every connection, in this one process. */
static void raise_nofile(rlim_t want)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur >= want)
		return;
	ck_assert_msg(rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want,
		"this test needs %llu descriptors; the hard limit is %llu", (unsigned long long)want,
		(unsigned long long)rl.rlim_max);
	rl.rlim_cur = want;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

static void start(bd_httpd_options *o)
{
	o->host = "127.0.0.1";
	o->handler = hello;
	ck_assert_msg(bd_httpd_start(&srv, o) == 0, "%s", tl_error_message());
}

static void teardown(void)
{
	bd_httpd_stop(srv);
	srv = NULL;
}

/* A non-blocking connection from `from`; -1 if the connect failed outright. */
static int dial_nonblocking(const char *from)
{
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	inet_pton(AF_INET, from, &src.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	dst.sin_port = htons((unsigned short)bd_httpd_port(srv));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request from `from` on a fresh connection: its latency in ms (fails on a bad answer). */
static double timed_hello(const char *from)
{
	double t0 = now_ms();
	int fd = th_connect(from, "127.0.0.1", bd_httpd_port(srv));
	size_t len;
	char *r;

	th_send(fd, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", 32);
	r = th_read_response(fd, &len);
	ck_assert_msg(strncmp(r, "HTTP/1.1 200 ", 13) == 0, "%s", r);
	free(r);
	close(fd);
	return now_ms() - t0;
}

START_TEST(slow_connections_do_not_starve_others)
{
	/* The slow clients are evicted only after request_timeout (then they re-dial at once). A
	 * server they starved would make the other address wait for an eviction: the bound below
	 * is under that timeout, but far above the scheduling delays of a loaded machine, so the
	 * test measures starvation, not speed. */
	bd_httpd_options o = { .max_per_address = SLOW_CONNECTIONS + 12, .request_timeout_ms = 5000 };
	const char *env = getenv("BUNDLED_SLOW_SECONDS");
	double seconds = env != NULL ? atof(env) : DEFAULT_SLOW_SECONDS;
	static int slow[SLOW_CONNECTIONS];
	double end, worst = 0, next_drip = 0;
	unsigned answered = 0, redialled = 0;

	raise_nofile(4 * SLOW_CONNECTIONS + 256);
	start(&o);
	for (int i = 0; i < SLOW_CONNECTIONS; i++)
		ck_assert_int_ge(slow[i] = dial_nonblocking("127.0.0.1"), 0);
	end = now_ms() + seconds * 1000;
	while (now_ms() < end) {
		double took;

		/* Every 200 ms each slow client sends one more byte of a head it never ends;
		 * one that was answered (408 after request_timeout) or cut comes back at once. */
		if (now_ms() >= next_drip) {
			for (int i = 0; i < SLOW_CONNECTIONS; i++) {
				char sink[512];
				ssize_t n = recv(slow[i], sink, sizeof(sink), MSG_DONTWAIT);
				bool gone = n >= 0 || errno != EAGAIN;

				if (!gone && send(slow[i], i % 2 ? "G" : "X", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
				    errno != EAGAIN)
					gone = true;
				if (gone) {
					close(slow[i]);
					ck_assert_int_ge(slow[i] = dial_nonblocking("127.0.0.1"), 0);
					redialled++;
				}
			}
			next_drip = now_ms() + 200;
		}
		took = timed_hello("127.0.0.2");
		if (took > worst)
			worst = took;
		answered++;
		{
			struct timespec ts = { 0, 20 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	for (int i = 0; i < SLOW_CONNECTIONS; i++)
		close(slow[i]);
	fprintf(stderr, "httpd_load: %.0f s of %d slow connections (%u re-dialled after 408): %u requests of "
			"another address answered, the slowest in %.1f ms\n",
		seconds, SLOW_CONNECTIONS, redialled, answered, worst);
	ck_assert_uint_ge(answered, (unsigned)seconds * 5);
	/* "In time": well under a second each, on a shared two-core machine under sanitizers. */
	ck_assert_msg(worst < 4000, "a request of the other address took %.0f ms", worst);
	ck_assert_uint_gt(redialled, 0); /* the 408 deadline did cut slow heads */
}
END_TEST

START_TEST(three_thousand_concurrent_connections)
{
	bd_httpd_options o = { 0 }; /* the defaults: 256 per address, 16384 overall */
	static int fds[MANY_CONNECTIONS];
	char from[32];
	double t0;
	size_t len;

	raise_nofile(2 * MANY_CONNECTIONS + 256);
	start(&o);
	t0 = now_ms();
	/* 250 connections from each of 12 addresses, all open at once. */
	for (int i = 0; i < MANY_CONNECTIONS; i++) {
		snprintf(from, sizeof(from), "127.0.1.%d", 1 + i / 250);
		fds[i] = th_connect(from, "127.0.0.1", bd_httpd_port(srv));
	}
	for (int i = 0; i < MANY_CONNECTIONS; i++)
		th_send(fds[i], "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", 32);
	for (int i = 0; i < MANY_CONNECTIONS; i++) {
		char *r = th_read_response(fds[i], &len);

		ck_assert_msg(strstr(r, "HTTP/1.1 200 ") == r, "connection %d: %s", i, r);
		free(r);
	}
	ck_assert_uint_eq(bd_httpd_connections(srv), MANY_CONNECTIONS);
	for (int i = 0; i < MANY_CONNECTIONS; i++)
		close(fds[i]);
	fprintf(stderr, "httpd_load: %d concurrent connections answered in %.0f ms\n", MANY_CONNECTIONS,
		now_ms() - t0);
}
END_TEST

START_TEST(over_the_per_address_limit_is_refused_clearly)
{
	bd_httpd_options o = { 0 }; /* 256 per address */
	static int fds[256];
	size_t len;
	char *r;
	int fd;

	raise_nofile(1024);
	start(&o);
	for (int i = 0; i < 256; i++)
		fds[i] = th_connect("127.0.0.1", "127.0.0.1", bd_httpd_port(srv));
	for (int i = 0; i < 500 && bd_httpd_connections(srv) < 256; i++) {
		struct timespec ts = { 0, 10 * 1000000L };

		nanosleep(&ts, NULL);
	}
	for (int k = 0; k < 20; k++) {
		fd = th_connect("127.0.0.1", "127.0.0.1", bd_httpd_port(srv));
		r = th_read_all(fd, &len);
		close(fd);
		ck_assert_msg(strncmp(r, "HTTP/1.1 429 Too Many Requests\r\n", 32) == 0, "%s", r);
		ck_assert_ptr_nonnull(strstr(r, "\r\nRetry-After: 1\r\n"));
		ck_assert_ptr_nonnull(strstr(r, "{\"error\":{\"code\":\"bad_input\",\"message\":\"too many connections from this "
						"address; close some and try again\"}}"));
		free(r);
		/* Meanwhile the others are served (the bound catches a hang, not slowness). */
		ck_assert_double_lt(timed_hello("127.0.0.2"), 10000);
	}
	/* and the held connections themselves still are */
	th_send(fds[0], "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", 32);
	r = th_read_response(fds[0], &len);
	ck_assert_ptr_nonnull(strstr(r, "hello"));
	free(r);
	for (int i = 0; i < 256; i++)
		close(fds[i]);
}
END_TEST

Suite *suite_httpd_load(void)
{
	Suite *s = suite_create("httpd_load");
	TCase *tc = tcase_create("load");
	const char *env = getenv("BUNDLED_SLOW_SECONDS");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 120 + (env != NULL ? atoi(env) : DEFAULT_SLOW_SECONDS));
	tcase_add_test(tc, slow_connections_do_not_starve_others);
	tcase_add_test(tc, three_thousand_concurrent_connections);
	tcase_add_test(tc, over_the_per_address_limit_is_refused_clearly);
	suite_add_tcase(s, tc);
	return s;
}
