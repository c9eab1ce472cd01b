#include "httpd_tls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "translog/text.h"

struct bd_httpd_tls {
	SSL_CTX *ctx;
	bool ask_client;
};

struct bd_httpd_tls_conn {
	SSL *ssl;
};

/* OpenSSL's reason for the last failure, printable, and its queue emptied. */
static const char *ssl_reason(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();
	char raw[256];

	ERR_error_string_n(e, raw, sizeof(raw));
	ERR_clear_error();
	return tl_text_printable(buf, size, raw, strlen(raw));
}

/* The key file's mode: like the log key, a TLS key that group or others can read is refused. */
static int check_key_mode(const char *key_file)
{
	struct stat st;

	if (stat(key_file, &st) != 0)
		return tl_error_set(TL_E_INPUT, "TLS key %s: %s", key_file, strerror(errno));
	if (st.st_mode & 077)
		return tl_error_set(TL_E_INPUT, "TLS key %s is accessible by group or others (mode %04o); chmod 600 it",
			key_file, (unsigned)(st.st_mode & 07777));
	return 0;
}

int bd_httpd__tls_new(bd_httpd_tls **out, const char *cert_file, const char *key_file, const char *client_ca)
{
	bd_httpd_tls *t = calloc(1, sizeof(*t));
	char why[300];
	int err = 0;

	if (t == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((t->ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "TLS: %s", ssl_reason(why, sizeof(why)));
		goto out;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET |
					    SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Partial writes, and a retried write may come from a moved buffer (a grown reply). */
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
					 SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(t->ctx, cert_file) != 1) {
		err = tl_error_set(TL_E_INPUT, "TLS certificate %s: %s", cert_file, ssl_reason(why, sizeof(why)));
		goto out;
	}
	if ((err = check_key_mode(key_file)) != 0)
		goto out;
	if (SSL_CTX_use_PrivateKey_file(t->ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		err = tl_error_set(TL_E_INPUT, "TLS key %s: %s", key_file, ssl_reason(why, sizeof(why)));
		goto out;
	}
	if (SSL_CTX_check_private_key(t->ctx) != 1) {
		err = tl_error_set(TL_E_INPUT, "TLS key %s does not match the certificate %s", key_file, cert_file);
		ERR_clear_error();
		goto out;
	}
	if (client_ca != NULL) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);

		if (names == NULL || SSL_CTX_load_verify_locations(t->ctx, client_ca, NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			err = tl_error_set(TL_E_INPUT, "TLS client CA %s: %s", client_ca, ssl_reason(why, sizeof(why)));
			goto out;
		}
		SSL_CTX_set_client_CA_list(t->ctx, names);
		/* Asked, verified when given, but not required: reads are anonymous. */
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
		t->ask_client = true;
	}
	*out = t;
	t = NULL;
out:
	bd_httpd__tls_free(t);
	return err;
}

void bd_httpd__tls_free(bd_httpd_tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

int bd_httpd__tls_conn_new(bd_httpd_tls_conn **out, bd_httpd_tls *t, int fd)
{
	bd_httpd_tls_conn *c = calloc(1, sizeof(*c));
	char why[300];

	if (c == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((c->ssl = SSL_new(t->ctx)) == NULL || SSL_set_fd(c->ssl, fd) != 1) {
		bd_httpd__tls_conn_free(c);
		return tl_error_set(TL_E_NOMEM, "TLS: %s", ssl_reason(why, sizeof(why)));
	}
	SSL_set_accept_state(c->ssl);
	*out = c;
	return 0;
}

void bd_httpd__tls_conn_free(bd_httpd_tls_conn *c)
{
	if (c == NULL)
		return;
	SSL_free(c->ssl);
	free(c);
}

/* Maps OpenSSL's verdict on a call to the BD_TLS_* codes. */
static ssize_t outcome(bd_httpd_tls_conn *c, int rc)
{
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return BD_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return BD_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return BD_TLS_CLOSED;
	default:
		/* A failed handshake or a broken record: nothing to tell the peer. */
		ERR_clear_error();
		return BD_TLS_FAILED;
	}
}

int bd_httpd__tls_handshake(bd_httpd_tls_conn *c)
{
	int rc = SSL_do_handshake(c->ssl);

	return rc == 1 ? 1 : (int)outcome(c, rc);
}

size_t bd_httpd__tls_pending(const bd_httpd_tls_conn *c)
{
	return (size_t)SSL_pending(c->ssl);
}

void bd_httpd__tls_close_notify(bd_httpd_tls_conn *c)
{
	/* One attempt: a peer that does not take the alert now does not get it. */
	if (SSL_is_init_finished(c->ssl) && SSL_shutdown(c->ssl) < 0)
		ERR_clear_error();
}

ssize_t bd_httpd__tls_read(bd_httpd_tls_conn *c, void *buf, size_t n)
{
	size_t got = 0;
	int rc = SSL_read_ex(c->ssl, buf, n, &got);

	return rc == 1 ? (ssize_t)got : outcome(c, rc);
}

ssize_t bd_httpd__tls_write(bd_httpd_tls_conn *c, const void *buf, size_t n)
{
	size_t put = 0;
	int rc = SSL_write_ex(c->ssl, buf, n, &put);

	return rc == 1 ? (ssize_t)put : outcome(c, rc);
}

bool bd_httpd__tls_client(const bd_httpd_tls_conn *c, char *subject, size_t size)
{
	X509 *peer = SSL_get0_peer_certificate(c->ssl);
	char raw[512];

	if (peer == NULL || SSL_get_verify_result(c->ssl) != X509_V_OK)
		return false;
	if (subject != NULL && size > 0) {
		X509_NAME_oneline(X509_get_subject_name(peer), raw, sizeof(raw));
		tl_text_printable(subject, size, raw, strlen(raw));
	}
	return true;
}
