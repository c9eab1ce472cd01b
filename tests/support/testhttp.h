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

/*
 * The record of what the suites saw, for the schema check after them (the test runner runs
 * tests/schema/check-exchanges.cjs over it, with schema/routes.json). Every exchange the test
 * helpers have with a bundled daemon, and every `bundlectl ... --json` they run, is one JSON
 * line {"method","target","status","type","body","request"} in the file $BUNDLED_TEST_RECORD
 * names; nothing is recorded when it is unset.
 */
struct th_exchange {
	const char *method;  /* "GET", "HEAD", "POST", ...; "bundlectl" for a command's output */
	const char *target;  /* the request-target as sent (path and query); the command's name */
	long status;         /* the HTTP status; the command's exit status */
	const char *type;    /* the answer's Content-Type, NULL if it had none */
	const void *body;    /* the answer (kept only when its type is JSON) */
	size_t len;
	const void *request; /* the request's body, or NULL */
	size_t request_len;
};
/* Appends x as one line, with one write(2) in O_APPEND mode: the forked tests of a run never
 * interleave their lines. */
void th_record(const struct th_exchange *x);
/* The same from a raw request (its request line) and the raw answer read back for it. */
void th_record_raw(const void *request, size_t n, const char *answer, size_t len);

#endif
