/*
 * The one Check runner: every suite found by the Makefile in tests/unit/ and
 * tests/integration/ is registered here through the generated suites.h. Integration suites
 * (named suite_it_*) need the real IPFS node that scripts/test.sh starts, and
 * suite_it_cluster also its IPFS Cluster; without them they are left out, and the runner says
 * so before Check's summary.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE(name) Suite *name(void);
#include "suites.h"
#undef SUITE

static int env_set(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0';
}

/* Whether the peers the suite `name` needs are there. */
static int peers_present(const char *name)
{
	if (strncmp(name, "suite_it_", 9) != 0)
		return 1;
	if (strcmp(name, "suite_it_cluster") == 0)
		return env_set("BUNDLED_TEST_CLUSTER_API") && env_set("BUNDLED_TEST_CLUSTER_PROXY");
	return env_set("BUNDLED_TEST_IPFS_API");
}

int main(void)
{
	int skipped = 0;
	SRunner *sr = srunner_create(NULL);
	int failed;

#define SUITE(name)                           \
	if (peers_present(#name))             \
		srunner_add_suite(sr, name()); \
	else                                  \
		skipped++;
#include "suites.h"
#undef SUITE

	if (skipped)
		printf("note: %d integration suite(s) left out: no IPFS node or Cluster (make test starts them)\n",
			skipped);
	fflush(stdout);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
