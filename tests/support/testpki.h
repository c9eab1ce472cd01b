/*
 * A throw-away PKI made with the openssl CLI for the TLS suites: a CA, a server certificate
 * for 127.0.0.1 and localhost (SAN IP and DNS, serverAuth: what SPIFFE's https_web profile
 * asks of a bundle endpoint), a client certificate (CN=operator, clientAuth) from the same CA,
 * a second unrelated CA with a client certificate of its own, and a stray key.
 */
#ifndef BUNDLED_TESTPKI_H
#define BUNDLED_TESTPKI_H

/* Makes the files in a new temporary directory (fails the test if openssl does): ca.pem,
 * ca.key, server.pem, server.key, client.pem, client.key, other-ca.pem, other-client.pem,
 * other-client.key, other.key. Returns the directory (malloc'ed). */
char *tp_make_pki(void);
/* dir/name in a static buffer that the next few calls do not reuse (eight turns). */
const char *tp_path(const char *dir, const char *name);

#endif
