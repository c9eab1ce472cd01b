/* The server side of TLS (httpd_tls.c) against an OpenSSL client over a socket pair: the
 * handshake and data through the non-blocking calls, client certificates verified against
 * the client CA (and a client without one still served), and the context's refusals. */
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "../../../bundled/src/httpd_tls.h"
#include "testpki.h"
#include "testutil.h"

static char *dir;

static void make_pki(void)
{
	dir = tp_make_pki();
}

static void drop_pki(void)
{
	tu_rm_rf(dir);
	free(dir);
}

static const char *at(const char *name)
{
	return tp_path(dir, name);
}

struct client {
	int fd;
	bool with_cert;
	char reply[64];
	int ok;
};

/* A blocking OpenSSL client: verifies the server against the CA, sends "ping", reads the
 * answer. */
static void *client_main(void *arg)
{
	struct client *cl = arg;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = NULL;
	size_t n = 0;

	SSL_CTX_load_verify_locations(ctx, at("ca.pem"), NULL);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cl->with_cert) {
		SSL_CTX_use_certificate_file(ctx, at("client.pem"), SSL_FILETYPE_PEM);
		SSL_CTX_use_PrivateKey_file(ctx, at("client.key"), SSL_FILETYPE_PEM);
	}
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, cl->fd);
	SSL_set1_host(ssl, "127.0.0.1");
	if (SSL_connect(ssl) == 1 && SSL_write(ssl, "ping", 4) == 4 &&
	    SSL_read_ex(ssl, cl->reply, sizeof(cl->reply) - 1, &n) == 1)
		cl->ok = 1;
	cl->reply[n] = '\0';
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return NULL;
}

/* Serves one exchange on fd with the non-blocking calls, polling as they ask. */
static int serve_one(bd_httpd_tls_conn *c, int fd)
{
	char buf[64];
	size_t got = 0, sent = 0;
	ssize_t n;

	while (got < 4) {
		struct pollfd p = { fd, POLLIN, 0 };

		n = bd_httpd__tls_read(c, buf + got, sizeof(buf) - got);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == BD_TLS_WANT_WRITE)
			p.events = POLLOUT;
		else if (n != BD_TLS_WANT_READ)
			return -1;
		poll(&p, 1, 5000);
	}
	while (sent < 4) {
		struct pollfd p = { fd, POLLOUT, 0 };

		n = bd_httpd__tls_write(c, "pong" + sent, 4 - sent);
		if (n > 0) {
			sent += (size_t)n;
			continue;
		}
		if (n == BD_TLS_WANT_READ)
			p.events = POLLIN;
		else if (n != BD_TLS_WANT_WRITE)
			return -1;
		poll(&p, 1, 5000);
	}
	return memcmp(buf, "ping", 4) == 0 ? 0 : -1;
}

static void exchange(const char *client_ca, bool with_cert, bool expect_verified)
{
	bd_httpd_tls *t = NULL;
	bd_httpd_tls_conn *c = NULL;
	struct client cl = { 0 };
	pthread_t th;
	char subject[128] = "";
	int sv[2];

	ck_assert_int_eq(bd_httpd__tls_new(&t, at("server.pem"), at("server.key"), client_ca), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	ck_assert_int_eq(bd_httpd__tls_conn_new(&c, t, sv[0]), 0);
	cl.fd = sv[1];
	cl.with_cert = with_cert;
	pthread_create(&th, NULL, client_main, &cl);
	ck_assert_int_eq(serve_one(c, sv[0]), 0);
	pthread_join(th, NULL);
	ck_assert_int_eq(cl.ok, 1);
	ck_assert_str_eq(cl.reply, "pong");
	ck_assert_int_eq(bd_httpd__tls_client(c, subject, sizeof(subject)), expect_verified);
	if (expect_verified)
		ck_assert_ptr_nonnull(strstr(subject, "CN=operator"));
	bd_httpd__tls_conn_free(c);
	bd_httpd__tls_free(t);
	close(sv[0]);
	close(sv[1]);
}

START_TEST(handshake_and_data_without_client_ca)
{
	exchange(NULL, false, false);
}
END_TEST

START_TEST(client_certificate_verified_when_given)
{
	exchange(at("ca.pem"), true, true);
}
END_TEST

START_TEST(client_without_certificate_still_served)
{
	exchange(at("ca.pem"), false, false);
}
END_TEST

START_TEST(context_refuses_bad_files)
{
	bd_httpd_tls *t = NULL;

	ck_assert_int_eq(bd_httpd__tls_new(&t, at("missing.pem"), at("server.key"), NULL), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "missing.pem"));
	ck_assert_int_eq(bd_httpd__tls_new(&t, at("server.pem"), at("other.key"), NULL), TL_E_INPUT);
	/* OpenSSL 3 already refuses the key itself; either way the message names it. */
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "other.key"));
	ck_assert_int_eq(bd_httpd__tls_new(&t, at("server.pem"), at("server.key"), at("missing-ca.pem")), TL_E_INPUT);
	/* A key that others may read is refused, like the log key. */
	ck_assert_int_eq(chmod(at("server.key"), 0640), 0);
	ck_assert_int_eq(bd_httpd__tls_new(&t, at("server.pem"), at("server.key"), NULL), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "chmod 600"));
	ck_assert_int_eq(chmod(at("server.key"), 0600), 0);
	ck_assert_ptr_null(t);
}
END_TEST

Suite *suite_httpd_tls(void)
{
	Suite *s = suite_create("httpd_tls");
	TCase *tc = tcase_create("tls");

	tcase_add_unchecked_fixture(tc, make_pki, drop_pki);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, handshake_and_data_without_client_ca);
	tcase_add_test(tc, client_certificate_verified_when_given);
	tcase_add_test(tc, client_without_certificate_still_served);
	tcase_add_test(tc, context_refuses_bad_files);
	suite_add_tcase(s, tc);
	return s;
}
