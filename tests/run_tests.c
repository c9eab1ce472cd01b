/*
 * The one Check runner: every suite found by the Makefile in tests/unit/ and
 * tests/integration/ is registered here through the generated suites.h. Integration suites
 * (named suite_it_*) need the real IPFS node that scripts/test.sh starts; without it they
 * are left out, and the runner says so before Check's summary. Peer suites (suite_peer_*)
 * run the Go tooling of tests/peers/ that scripts/test.sh builds and names in
 * BUNDLED_TEST_PEERS_BIN; without it they are left out the same way. So are suites that
 * cannot run here (tu_suite_left_out: the crash and power-loss suites without fork or FUSE): a skipped
 * suite is named as such, never counted as passed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define SUITE(name) Suite *name(void);
#include "suites.h"
#undef SUITE

int main(void)
{
	const char *ipfs = getenv("BUNDLED_TEST_IPFS_API");
	const char *peers = getenv("BUNDLED_TEST_PEERS_BIN");
	int have_ipfs = ipfs != NULL && ipfs[0] != '\0';
	int have_peers = peers != NULL && peers[0] != '\0';
	int skipped = 0, skipped_peers = 0;
	SRunner *sr = srunner_create(NULL);
	int failed;

#define SUITE(name)                                                  \
	if (strncmp(#name, "suite_it_", 9) == 0 && !have_ipfs)       \
		skipped++;                                           \
	else if (strncmp(#name, "suite_peer_", 11) == 0 && !have_peers) \
		skipped_peers++;                                     \
	else                                                         \
		srunner_add_suite(sr, name());
#include "suites.h"
#undef SUITE

	if (skipped)
		printf("note: %d integration suite(s) left out: no IPFS node (make test starts one)\n", skipped);
	if (skipped_peers)
		printf("note: %d peer suite(s) left out: BUNDLED_TEST_PEERS_BIN is not set (make test builds tests/peers)\n",
			skipped_peers);
	tu_print_left_out();
	fflush(stdout);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
