/*
 * TLS for the HTTP server (OpenSSL, non-blocking): a server context made from a certificate
 * chain and key, optionally asking clients for a certificate from a configured CA (mTLS),
 * and per-connection read and write calls that say which readiness to wait for instead of
 * blocking. The handshake happens inside the first reads and writes.
 */
#ifndef BUNDLED_HTTPD_TLS_H
#define BUNDLED_HTTPD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "translog/error.h"

/* What a read or write returns besides a byte count (> 0). */
#define BD_TLS_CLOSED 0        /* the peer closed the connection cleanly */
#define BD_TLS_WANT_READ (-1)  /* wait until the socket is readable, then call again */
#define BD_TLS_WANT_WRITE (-2) /* wait until the socket is writable, then call again */
#define BD_TLS_FAILED (-3)     /* the connection is broken: close it */

typedef struct bd_httpd_tls bd_httpd_tls;
typedef struct bd_httpd_tls_conn bd_httpd_tls_conn;

/* A server context: TLS 1.2 and 1.3 only, no renegotiation, no compression, no session
 * tickets kept across restarts. The key file must be one that neither group nor others can
 * access (like the log key). `client_ca` (may be NULL) makes the server ask every client
 * for a certificate and verify it against that CA; a client without one is still served (reads
 * are anonymous), and bd_httpd__tls_client tells whether one was verified. TL_E_INPUT naming
 * the file when a file cannot be read or the key does not match the certificate. */
int bd_httpd__tls_new(bd_httpd_tls **out, const char *cert_file, const char *key_file, const char *client_ca)
	TL_MUST_USE;
void bd_httpd__tls_free(bd_httpd_tls *t);

int bd_httpd__tls_conn_new(bd_httpd_tls_conn **out, bd_httpd_tls *t, int fd) TL_MUST_USE;
void bd_httpd__tls_conn_free(bd_httpd_tls_conn *c);

/* Drives the handshake: 1 once it is complete, or a BD_TLS_* code (CLOSED and FAILED both
 * mean the peer will not get through: close). */
int bd_httpd__tls_handshake(bd_httpd_tls_conn *c);
/* Decrypted bytes OpenSSL holds that a read would return without touching the socket (epoll
 * cannot see them). */
size_t bd_httpd__tls_pending(const bd_httpd_tls_conn *c);
/* Sends close_notify if the socket takes it now (never waits): a client reading a body that
 * ends with the connection can then tell the end from a cut. */
void bd_httpd__tls_close_notify(bd_httpd_tls_conn *c);

/* Reads up to n bytes: a count, or one of the BD_TLS_* codes above. */
ssize_t bd_httpd__tls_read(bd_httpd_tls_conn *c, void *buf, size_t n);
/* Writes up to n bytes (a partial write is normal): a count, or a BD_TLS_* code. After a
 * WANT_*, the next call must pass the same bytes again (OpenSSL's rule). */
ssize_t bd_httpd__tls_write(bd_httpd_tls_conn *c, const void *buf, size_t n);

/* Whether the client presented a certificate that verified against the client CA; if so the
 * certificate's subject is written to subject (printable, NUL-terminated). */
bool bd_httpd__tls_client(const bd_httpd_tls_conn *c, char *subject, size_t size);

#endif
