/*
 * The log's full tiles on the real Kubo node: a daemon started with --ipfs-api over a log
 * of 3 bundles and a half adds every full hash tile and entry bundle under one UnixFS
 * directory in the tlog-tiles URL space and pins it; `cat <root>/tile/...` through Kubo's
 * API gives the very bytes the daemon serves at /tile/..., the root's entries are the
 * tlog-tiles names, and a restart goes on from its state file.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testdaemon.h"
#include "testpublish.h"
#include "testutil.h"

#define FILL 900 /* 3 full bundles and a partial one */

static void prepare(const char *data, size_t n)
{
	char(*text)[TU_FILLER_ENTRY_MAX] = calloc(n, sizeof(*text));
	const void **entries = calloc(n, sizeof(*entries));
	size_t *lens = calloc(n, sizeof(*lens));

	for (size_t i = 0; i < n; i++) {
		tu_filler_entry(text[i], sizeof(text[i]), "tiles", i);
		entries[i] = text[i];
		lens[i] = strlen(text[i]);
	}
	tu_daemon_prepare(data, "bundled.local/log", entries, lens, n, 100, NULL);
	free(text);
	free(entries);
	free(lens);
}

/* The root the state file names once the directory holds tree size `size`, or "". */
static void wait_root(char *root, size_t cap, const char *data, unsigned long long size)
{
	char path[4096];
	struct timespec ts = { 0, 100000000L };

	snprintf(path, sizeof(path), "%s/ipfs-tiles.state", data);
	for (int i = 0; i < 300; i++) {
		size_t len;
		char *text = (char *)tu_read_file(path, &len);
		unsigned long long got = 0;
		char cid[128] = "";

		if (text != NULL && sscanf(text, "bundled ipfs tiles v1\nsize %llu\nroot %127s", &got, cid) == 2 &&
		    got == size) {
			snprintf(root, cap, "%s", cid);
			free(text);
			return;
		}
		free(text);
		nanosleep(&ts, NULL);
	}
	ck_abort_msg("the tiles directory did not reach size %llu", size);
}

/* Kubo's cat of <root>/<path> is what the daemon serves at /<path>. */
static void expect_same(const struct tu_daemon *d, const char *api, const char *root, const char *path)
{
	char url[1024], p[256], *mine = NULL, *theirs = NULL;
	size_t ml = 0, tl = 0;

	snprintf(url, sizeof(url), "%s/api/v0/cat?arg=/ipfs/%s/%s", api, root, path);
	ck_assert_msg(tu_http_fetch("POST", url, NULL, 0, &theirs, &tl) == 200, "ipfs cat %s: %s", path,
		theirs ? theirs : "");
	snprintf(p, sizeof(p), "/%s", path);
	ck_assert_int_eq(tu_http_get(d, p, &mine, &ml), 200);
	ck_assert_msg(ml == tl && memcmp(mine, theirs, ml) == 0, "%s differs on IPFS", path);
	free(mine);
	free(theirs);
}

static void expect_pinned(const char *api, const char *root)
{
	char url[1024], *body = NULL;
	size_t len = 0;

	snprintf(url, sizeof(url), "%s/api/v0/pin/ls?arg=%s&type=recursive", api, root);
	ck_assert_msg(tu_http_fetch("POST", url, NULL, 0, &body, &len) == 200, "pin ls: %s", body ? body : "");
	ck_assert_ptr_nonnull(strstr(body, root));
	free(body);
}

static void wait_pinned(const char *api, const char *root)
{
	char url[1024], *body = NULL;
	size_t len = 0;
	struct timespec ts = { 0, 100000000L };

	snprintf(url, sizeof(url), "%s/api/v0/pin/ls?arg=%s&type=recursive", api, root);
	for (int i = 0; i < 300; i++) {
		long status = tu_http_fetch("POST", url, NULL, 0, &body, &len);

		free(body);
		body = NULL;
		if (status == 200)
			return;
		nanosleep(&ts, NULL);
	}
	ck_abort_msg("%s was not pinned in 30 s", root);
}

START_TEST(full_tiles_are_pinned_under_the_tlog_tiles_layout)
{
	const char *api = getenv("BUNDLED_TEST_IPFS_API");
	const char *args[] = { "--ipfs-api", api, NULL };
	char *dir = tu_mkdtemp(), data[4096], root[128], url[1024], *body = NULL;
	struct tu_daemon d;
	size_t len;

	snprintf(data, sizeof(data), "%s/data", dir);
	prepare(data, FILL);
	ck_assert_int_eq(tu_daemon_start(&d, data, args), 0);
	wait_root(root, sizeof(root), data, 768);
	wait_pinned(api, root);
	expect_pinned(api, root);
	for (int n = 0; n < 3; n++) {
		char path[64];

		snprintf(path, sizeof(path), "tile/0/%03d", n);
		expect_same(&d, api, root, path);
		snprintf(path, sizeof(path), "tile/entries/%03d", n);
		expect_same(&d, api, root, path);
	}
	/* The directory holds the tlog-tiles names, and nothing partial. */
	snprintf(url, sizeof(url), "%s/api/v0/ls?arg=/ipfs/%s/tile", api, root);
	ck_assert_int_eq(tu_http_fetch("POST", url, NULL, 0, &body, &len), 200);
	ck_assert_ptr_nonnull(strstr(body, "\"Name\":\"0\""));
	ck_assert_ptr_nonnull(strstr(body, "\"Name\":\"entries\""));
	free(body);
	snprintf(url, sizeof(url), "%s/api/v0/cat?arg=/ipfs/%s/tile/0/003", api, root);
	ck_assert_int_ne(tu_http_fetch("POST", url, NULL, 0, &body, &len), 200);
	free(body);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);

	/* A restart goes on from its state: the same root, still served. */
	ck_assert_int_eq(tu_daemon_start(&d, data, args), 0);
	{
		char again[128];

		wait_root(again, sizeof(again), data, 768);
		ck_assert_str_eq(again, root);
	}
	expect_same(&d, api, root, "tile/entries/002");
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	tu_rm_rf(dir);
	free(dir);
}
END_TEST

Suite *suite_it_ipfs_tiles(void)
{
	Suite *s = suite_create("it_ipfs_tiles");
	TCase *tc = tcase_create("kubo");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, full_tiles_are_pinned_under_the_tlog_tiles_layout);
	suite_add_tcase(s, tc);
	return s;
}
