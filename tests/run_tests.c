/*
 * The one Check runner: every suite found by the Makefile in tests/unit/ and
 * tests/integration/ is registered here through the generated suites.h. Some suites need
 * what a machine may lack, and are then left out with a note before Check's summary, never
 * counted as passed: integration suites (suite_it_*) need the real IPFS node that
 * scripts/test.sh starts (suite_it_cluster also its IPFS Cluster); peer suites (suite_peer_*) the Go tooling of tests/peers/ that it
 * builds and names in BUNDLED_TEST_PEERS_BIN; PKCS#11 suites (suite_hsm*) SoftHSM2; and
 * suites that find they cannot run here say so themselves (tu_suite_left_out: the crash and
 * power-loss suites without fork or FUSE).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "translog/pkcs11.h"

#include "testutil.h"

#define SUITE(name) Suite *name(void);
#include "suites.h"
#undef SUITE

/* SoftHSM2's module and its token tool, which suite_hsm needs (Debian package softhsm2). */
static int have_softhsm2(void)
{
	return access(tl_pkcs11_default_module(), R_OK) == 0 && system("command -v softhsm2-util >/dev/null 2>&1") == 0;
}

static int env_set(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0';
}

int main(void)
{
	int have_ipfs = env_set("BUNDLED_TEST_IPFS_API");
	int have_cluster = env_set("BUNDLED_TEST_CLUSTER_API") && env_set("BUNDLED_TEST_CLUSTER_PROXY");
	int have_peers = env_set("BUNDLED_TEST_PEERS_BIN");
	int have_hsm = have_softhsm2();
	int skipped = 0, skipped_peers = 0, skipped_hsm = 0;
	SRunner *sr = srunner_create(NULL);
	int failed;

#define SUITE(name)                                                                     \
	if (strncmp(#name, "suite_it_", 9) == 0 &&                                      \
	    !(strcmp(#name, "suite_it_cluster") == 0 ? have_cluster : have_ipfs))       \
		skipped++;                                                              \
	else if (strncmp(#name, "suite_peer_", 11) == 0 && !have_peers)                 \
		skipped_peers++;                                                        \
	else if (strncmp(#name, "suite_hsm", 9) == 0 && !have_hsm)                      \
		skipped_hsm++;                                                          \
	else                                                                            \
		srunner_add_suite(sr, name());
#include "suites.h"
#undef SUITE

	if (skipped)
		printf("note: %d integration suite(s) left out: no IPFS node or Cluster (make test starts them)\n",
			skipped);
	if (skipped_peers)
		printf("note: %d peer suite(s) left out: BUNDLED_TEST_PEERS_BIN is not set (make test builds tests/peers)\n",
			skipped_peers);
	if (skipped_hsm)
		printf("note: %d PKCS#11 suite(s) left out: SoftHSM2 not found (%s, softhsm2-util; "
		       "scripts/install-deps.sh installs it)\n", skipped_hsm, tl_pkcs11_default_module());
	tu_print_left_out();
	fflush(stdout);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
