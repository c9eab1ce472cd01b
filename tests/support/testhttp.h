/*
 * Raw HTTP/1.1 over loopback sockets for the server suites: requests byte for byte as a
 * hostile or slow client would send them, and the answers read back whole. Every read waits
 * at most 10 s, so a server that never answers fails the test instead of hanging it.
 */
#ifndef BUNDLED_TESTHTTP_H
#define BUNDLED_TESTHTTP_H

#include <stddef.h>

/* A blocking TCP connection from address `from` (any port) to to:port; fails the test if
 * it cannot connect. */
int th_connect(const char *from, const char *to, unsigned port);
/* Sends all n bytes (a peer that already closed is not an error: its answer is still read). */
void th_send(int fd, const void *data, size_t n);
/* Everything until the peer closes (or 10 s); malloc'ed, NUL-terminated. */
char *th_read_all(int fd, size_t *len);
/* One response with a Content-Length; malloc'ed, NUL-terminated. */
char *th_read_response(int fd, size_t *len);
/* Reads into buf until `marker` appears in what was read by this call; NUL-terminates, returns
 * the bytes read. Fails the test on a close or timeout before. */
size_t th_read_until(int fd, char *buf, size_t cap, const char *marker);
/* The Content-Length of a response text (-1 if it has none). */
long th_content_length(const char *response);

#endif
