/*
 * The daemon pins through an IPFS Cluster: scripts/test.sh starts two ipfs-cluster-service
 * peers over two Kubo nodes with a replication factor of 2 (tests/peers/cluster.sh), and the
 * daemon is given peer 0's IPFS proxy API as its --ipfs-api, so every pin it makes becomes a
 * cluster pin. The cluster's own REST API then must show every bundle root pinned on every
 * peer, and the Kubo node behind peer 1, which bundled never talks to, must hold the pins and
 * serve the bytes; also after peer 1 was stopped, its node lost the pins meanwhile, and the
 * peer was started again.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundled/blockstore.h"
#include "bundled/chunker.h"
#include "bundled/dag.h"
#include "bundled/ipfs.h"
#include "bundled/pinq.h"
#include "testbundle.h"
#include "testdaemon.h"
#include "testutil.h"

enum { ROOTS = 3, WAIT_SECONDS = 60 };

struct roots {
	uint8_t *data[ROOTS];
	size_t len[ROOTS];
	bd_dag *dags[ROOTS];
	char cid[ROOTS][BD_CID_TEXT_MAX];
};

static const char *env(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v != NULL && v[0] != '\0', "%s is not set", name);
	return v;
}

static int replication(void)
{
	return atoi(env("BUNDLED_TEST_CLUSTER_PEERS"));
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A client of the Kubo node behind cluster peer `n` (its RPC API, not the proxy). */
static bd_ipfs *kubo_of_peer(int n)
{
	char path[4200], api[64];
	size_t len;
	uint8_t *port;
	bd_ipfs_options o;
	bd_ipfs *c = NULL;

	snprintf(path, sizeof(path), "%s/kubo%d/api_port", env("BUNDLED_TEST_CLUSTER_PATH"), n);
	port = tu_read_file(path, &len);
	ck_assert_ptr_nonnull(port);
	snprintf(api, sizeof(api), "http://127.0.0.1:%u", (unsigned)strtoul((const char *)port, NULL, 10));
	free(port);
	memset(&o, 0, sizeof(o));
	o.api = api;
	o.connect_timeout_ms = 2000;
	o.timeout_ms = 20000;
	ck_assert_msg(bd_ipfs_open(&c, &o) == 0, "%s", tl_error_message());
	return c;
}

static int cluster_script(const char *verb, int peer)
{
	return tu_system("'%s' %s %d", tu_source_path("tests/peers/cluster.sh"), verb, peer);
}

/* Three files no other run has made, cut three ways, the last with two levels of links. */
static void roots_make(struct roots *r, unsigned salt)
{
	static const char *const specs[ROOTS] = { "size-1024", "lines", "size-256" };
	static const size_t sizes[ROOTS] = { 3000, 5000, 256 * 180 };
	unsigned long run = (unsigned long)time(NULL) * 1000003ul + (unsigned long)getpid() * 31ul + salt;

	for (int i = 0; i < ROOTS; i++) {
		size_t n = sizes[i];
		char *t = malloc(n + 1);

		ck_assert_ptr_nonnull(t);
		for (size_t j = 0; j < n; j++)
			t[j] = (char)('a' + (run + j * (unsigned)(i + 7)) % 26);
		for (size_t j = 80; j < n; j += 81)
			t[j] = '\n';
		snprintf(t, n, "%lu-%d\n", run, i);
		t[strlen(t)] = 'x';
		r->data[i] = (uint8_t *)t;
		r->len[i] = n;
		r->dags[i] = tu_dag_build(t, n, specs[i]);
		ck_assert_int_eq(bd_cid_format(r->cid[i], sizeof(r->cid[i]), bd_dag_root(r->dags[i])), 0);
	}
	ck_assert_uint_gt(bd_dag_count(r->dags[2]), 175);
}

static void roots_free(struct roots *r)
{
	for (int i = 0; i < ROOTS; i++) {
		bd_dag_free(r->dags[i]);
		free(r->data[i]);
	}
}

/* Queues the roots in a fresh data directory the way a publish does (blocks in the store, one
 * durable enqueue each), starts the daemon against the cluster's IPFS proxy and waits until its
 * pin queue says all are pinned. */
static void publish_through_the_proxy(const struct roots *r)
{
	const char *proxy = env("BUNDLED_TEST_CLUSTER_PROXY");
	const char *cfs[] = { bd_blockstore_column_family, bd_pinq_column_family };
	const char *args[] = { "--ipfs-api", proxy, NULL };
	char *dir = tu_mkdtemp();
	char path[4200], needle[200];
	bd_ipfs_options io = { .api = proxy };
	bd_ipfs *ipfs;
	bd_pinq_transport transport;
	bd_blockstore *bs;
	bd_pinq *q;
	tl_db *db;
	struct tu_daemon d;
	char *body = NULL;
	int pinned = 0;

	ck_assert_ptr_nonnull(dir);
	snprintf(path, sizeof(path), "%s/db", dir);
	ck_assert_int_eq(tl_db_open(&db, path, cfs, 2), 0);
	ck_assert_int_eq(bd_blockstore_open(&bs, db), 0);
	ck_assert_int_eq(bd_ipfs_open(&ipfs, &io), 0);
	transport = bd_pinq_transport_ipfs(ipfs);
	ck_assert_int_eq(bd_pinq_open(&q, db, bs, &transport, NULL), 0);
	for (int i = 0; i < ROOTS; i++) {
		ck_assert_int_eq(bd_blockstore_put_dag(bs, r->dags[i]), 0);
		ck_assert_int_eq(bd_pinq_enqueue(q, bd_dag_root(r->dags[i])), 0);
	}
	bd_pinq_close(q);
	bd_blockstore_close(bs);
	tl_db_close(db);
	bd_ipfs_close(ipfs);

	ck_assert_int_eq(tu_daemon_start(&d, dir, args), 0);
	for (int i = 0; i < WAIT_SECONDS * 10 && pinned < ROOTS; i++) {
		free(body);
		ck_assert_int_eq(tu_http_get(&d, "/v1/pins", &body, NULL), 200);
		pinned = 0;
		for (int k = 0; k < ROOTS; k++) {
			snprintf(needle, sizeof(needle), "\"cid\":\"%s\",\"state\":\"pinned\"", r->cid[k]);
			pinned += strstr(body, needle) != NULL;
		}
		if (pinned < ROOTS)
			sleep_ms(100);
	}
	ck_assert_msg(pinned == ROOTS, "the daemon pinned %d of %d roots in %d s: %s", pinned, ROOTS, WAIT_SECONDS,
		body);
	free(body);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	tu_rm_rf(dir);
	free(dir);
}

/* The cluster's view of one root (GET /pins/CID on peer 0's REST API): how many peers report
 * it "pinned". -1 if the API did not answer with a pin. */
static int peers_pinning(const char *cid)
{
	char url[512], *body = NULL;
	json_t *root = NULL, *map, *info;
	const char *peer;
	int n = -1;

	snprintf(url, sizeof(url), "%s/pins/%s", env("BUNDLED_TEST_CLUSTER_API"), cid);
	if (tu_http_fetch("GET", url, NULL, 0, &body, NULL) != 200)
		goto out;
	root = json_loads(body, 0, NULL);
	map = json_object_get(root, "peer_map");
	if (!json_is_object(map))
		goto out;
	n = 0;
	json_object_foreach(map, peer, info) {
		const char *status = json_string_value(json_object_get(info, "status"));

		n += status != NULL && strcmp(status, "pinned") == 0;
	}
out:
	json_decref(root);
	free(body);
	return n;
}

/* Waits until every root is pinned on `want` peers (or, with `below`, on fewer than `want`);
 * fails the test with the last view after WAIT_SECONDS. */
static void wait_for_pinning(const struct roots *r, int want, int below)
{
	int last = -1, root = 0;

	for (int i = 0; i < WAIT_SECONDS * 5; i++) {
		for (root = 0; root < ROOTS; root++) {
			last = peers_pinning(r->cid[root]);
			if (below ? last >= want || last < 0 : last != want)
				break;
		}
		if (root == ROOTS)
			return;
		sleep_ms(200);
	}
	ck_abort_msg("after %d s, %s is pinned on %d peers (%s %d wanted)", WAIT_SECONDS, r->cid[root], last,
		below ? "fewer than" : "exactly", want);
}

/* The allocation the cluster recorded: replication factor `rf` both ways, `rf` peers. */
static void assert_allocated(const char *cid, int rf)
{
	char url[512], *body = NULL;
	json_t *pin;

	snprintf(url, sizeof(url), "%s/allocations/%s", env("BUNDLED_TEST_CLUSTER_API"), cid);
	ck_assert_int_eq(tu_http_fetch("GET", url, NULL, 0, &body, NULL), 200);
	pin = json_loads(body, 0, NULL);
	ck_assert_msg(pin != NULL, "%s", body);
	ck_assert_str_eq(json_string_value(json_object_get(pin, "cid")), cid);
	ck_assert_int_eq(json_integer_value(json_object_get(pin, "replication_factor_min")), rf);
	ck_assert_int_eq(json_integer_value(json_object_get(pin, "replication_factor_max")), rf);
	ck_assert_uint_eq(json_array_size(json_object_get(pin, "allocations")), (size_t)rf);
	json_decref(pin);
	free(body);
}

/* The Kubo node behind peer `n` holds (or lacks) the pins; when it holds them it serves the
 * bytes. */
static void assert_node_of_peer_pins(const struct roots *r, int n, int want)
{
	bd_ipfs *c = kubo_of_peer(n);

	for (int i = 0; i < ROOTS; i++) {
		const bd_cid *root = bd_dag_root(r->dags[i]);
		int pinned = -1;

		ck_assert_msg(bd_ipfs_pin_ls(&pinned, c, root) == 0, "%s", tl_error_message());
		ck_assert_msg(pinned == want, "Kubo node %d: %s pinned=%d, want %d", n, r->cid[i], pinned, want);
		if (want) {
			tl_buf out = tl_buf_make(r->len[i]);

			ck_assert_msg(bd_ipfs_cat(&out, c, root, r->len[i]) == 0, "%s", tl_error_message());
			ck_assert_uint_eq(out.len, r->len[i]);
			ck_assert(memcmp(out.data, r->data[i], r->len[i]) == 0);
			tl_buf_free(&out);
		}
	}
	bd_ipfs_close(c);
}

/* Every root pinned on `rf` peers as the cluster's REST API says, allocated with replication
 * factor `rf`, and held by each peer's Kubo node. */
static void assert_replicated(const struct roots *r, int rf)
{
	wait_for_pinning(r, rf, 0);
	for (int i = 0; i < ROOTS; i++)
		assert_allocated(r->cid[i], rf);
	for (int n = 0; n < rf; n++)
		assert_node_of_peer_pins(r, n, 1);
}

START_TEST(every_root_is_pinned_on_every_peer)
{
	struct roots r;
	int rf = replication();

	ck_assert_int_ge(rf, 2);
	roots_make(&r, 1);
	/* New roots: the cluster answers for them, with no peer pinning them. */
	for (int i = 0; i < ROOTS; i++)
		ck_assert_int_eq(peers_pinning(r.cid[i]), 0);
	publish_through_the_proxy(&r);
	assert_replicated(&r, rf);
	roots_free(&r);
}
END_TEST

/* Runs after the restart test case, in the runner: whatever happened in the test, peer 1 is
 * up again for what follows. */
static void peer_back_up(void)
{
	if (cluster_script("start-peer", 1) != 0)
		fprintf(stderr, "test_cluster: could not restart cluster peer 1\n");
}

START_TEST(a_restarted_peer_pins_every_root_again)
{
	struct roots r;
	int rf = replication();
	bd_ipfs *node1;

	roots_make(&r, 2);
	publish_through_the_proxy(&r);
	assert_replicated(&r, rf);

	/* Peer 1 goes down, and its Kubo node loses the pins meanwhile. */
	ck_assert_int_eq(cluster_script("stop-peer", 1), 0);
	node1 = kubo_of_peer(1);
	for (int i = 0; i < ROOTS; i++)
		ck_assert_msg(bd_ipfs_pin_rm(node1, bd_dag_root(r.dags[i])) == 0, "%s", tl_error_message());
	bd_ipfs_close(node1);
	assert_node_of_peer_pins(&r, 1, 0);
	/* The cluster notices: peer 0 no longer reports the roots pinned everywhere. */
	wait_for_pinning(&r, rf, 1);

	/* Back on the same state and ports, peer 1 finds its node lacks its allocations and pins
	 * them again: the cluster reports every root on every peer, and the node holds them. */
	ck_assert_int_eq(cluster_script("start-peer", 1), 0);
	assert_replicated(&r, rf);
	roots_free(&r);
}
END_TEST

Suite *suite_it_cluster(void)
{
	Suite *s = suite_create("it_cluster");
	TCase *tc = tcase_create("replication");
	TCase *restart = tcase_create("restart");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_root_is_pinned_on_every_peer);
	suite_add_tcase(s, tc);
	tcase_set_timeout(restart, 240);
	tcase_add_unchecked_fixture(restart, NULL, peer_back_up);
	tcase_add_test(restart, a_restarted_peer_pins_every_root_again);
	suite_add_tcase(s, restart);
	return s;
}
