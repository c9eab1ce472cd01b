/*
 * The Go test tooling of tests/peers/ (reference verifiers, tampering proxy) for the suites
 * named suite_peer_*: scripts/test.sh builds the programs outside the checkout and exports
 * their directory as BUNDLED_TEST_PEERS_BIN; without it the runner leaves those suites out.
 */
#ifndef BUNDLED_TESTPEERS_H
#define BUNDLED_TESTPEERS_H

#include <stddef.h>
#include <sys/types.h>

/* $BUNDLED_TEST_PEERS_BIN/<name>, in a buffer reused by the next call; fails the test when
 * the program is not there. */
const char *tu_peer_path(const char *name);

/* A tamperproxy in front of `upstream` that corrupts the answers to paths starting with
 * `corrupt`; its base URL goes to url (cap bytes). `dir` holds its address file. Waits (at
 * most 20 s) until it listens; fails the test otherwise. Returns its pid for tu_proxy_stop. */
pid_t tu_proxy_start(char *url, size_t cap, const char *dir, const char *upstream, const char *corrupt);
/* The same with another of the proxy's -mode (tests/peers/cmd/tamperproxy/main.go). */
pid_t tu_proxy_start_mode(char *url, size_t cap, const char *dir, const char *upstream, const char *corrupt,
	const char *mode);

void tu_proxy_stop(pid_t pid);

#endif
