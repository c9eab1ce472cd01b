/*
 * Fills a data directory for bench_http.sh through the daemon's own API: starts the real
 * daemon (build/bin/bundled) on DIR/data (which must not exist yet), registers DOMAINS trust
 * domains with the operator token (POST /v1/domains) and publishes signed versions
 * (POST /v1/domains/<td>/bundles) from PUBLISHERS threads, each on its own keep-alive
 * connection from its own loopback address 127.0.0.N (benchmarks/util/daemon.c, the publisher
 * of bench_publish_http), until the log holds exactly ENTRIES entries (each registration and
 * each version is one entry). Then stops the daemon cleanly (SIGTERM, waited for).
 *
 *   fill DIR ENTRIES [PUBLISHERS [DOMAINS]]      defaults 64 and 1024
 *
 * Versions are signed by the publisher threads just before they are sent: a fill of 1M takes
 * longer than the 600 s an entry's claimed time may differ from the daemon's clock. The daemon
 * runs with --write-rate 0 while filling (the default, 100 writes/s per client address, would
 * make a 1M fill take hours from 64 addresses); everything else is its default.
 *
 * The bundles (synthetic self-signed P-256 CAs, benchmarks/util/synth.c):
 *  - the bulk domains publish two CAs (~1.4 KB canonical, one raw leaf);
 *  - two more domains publish one version each whose canonical form is a single leaf of the
 *    "lines" chunker (so a single raw block) of about 6 KB and 33 KB: CAs are picked so that
 *    no line of the document ends a leaf (bundled/include/bundled/chunker.h). The blocks are
 *    then found through the API: the publish answer's CID (the version's root) is a raw CID,
 *    and GET /ipfs/<cid>?format=raw must answer exactly GET /v1/domains/<td>/bundles/1.
 *
 * Prints on stdout, one `name=value` a line, what bench_http.sh needs: the blocks' CIDs and
 * sizes, a mid-log version's path and the federation path of the same domain, the fill's time
 * and rate. Built by the script (not a bench_* program: `make bench` does not run it).
 */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundled/bundle.h"
#include "bundled/chunker.h"
#include "translog/key.h"
#include "util/clock.h"
#include "util/daemon.h"
#include "util/synth.h"

enum { BULK_CAS = 2, MAX_PUBLISHERS = 250 };

/* One publisher's share: the (domain, sequence) of each of its requests, in order. */
struct share {
	bd_bundle *bundle; /* this thread's own: signing sets its sequence */
	uint32_t *domain, *seq;
};

static struct bench_daemon daemon_;
static char (*names)[64];
static tl_signer **keys;

static int fail(const char *what)
{
	fprintf(stderr, "fill: %s: %s\n", what, tl_error_message());
	bench_daemon_stop(&daemon_);
	return 1;
}

/* Request i of a publisher: signed now, so its claimed time is now. */
static int make(struct bench_request *r, size_t i, void *ctx)
{
	struct share *s = ctx;

	return bench_make_request(r, &daemon_, s->bundle, names[s->domain[i]], s->seq[i], keys[s->domain[i]]);
}

static int bundle_of(bd_bundle **out, const struct bench_certs *certs, const uint8_t *take)
{
	if (bd_bundle_new(out) != 0)
		return -1;
	for (size_t i = 0; i < certs->n; i++)
		if (take[i] && bd_bundle_add_x509_der(*out, certs->der[i], certs->len[i]) != 0)
			return -1;
	return 0;
}

/* A bundle of CAs from `certs` whose canonical form is one leaf of the default chunker and
 * at least `target` bytes (a cert is left out when, with it, a line would end a leaf; the
 * last line, which holds the sequence, ends the document whatever it is). */
static int single_leaf(bd_bundle **out, const struct bench_certs *certs, size_t target)
{
	uint8_t *take = calloc(certs->n, 1);
	bd_chunker lines = bd_chunker_default();
	tl_buf canon = tl_buf_make(BD_MAX_BUNDLE_SIZE);
	int rc = -1;

	*out = NULL;
	for (size_t i = 0; i < certs->n && rc != 0; i++) {
		take[i] = 1;
		tl_buf_reset(&canon);
		if (bundle_of(out, certs, take) != 0)
			break;
		bd_bundle_set_sequence(*out, 1);
		if (bd_bundle_write_canonical(&canon, *out) != 0)
			break;
		if (bd_chunker_next(&lines, canon.data, canon.len) != canon.len)
			take[i] = 0;
		else if (canon.len >= target)
			rc = 0;
		if (rc != 0)
			bd_bundle_free(*out), *out = NULL;
	}
	tl_buf_free(&canon);
	free(take);
	return rc;
}

/* GETs `path` into out; 0 on 200. */
static int get(CURL *curl, const char *path, tl_buf *out)
{
	tl_buf_reset(out);
	return bench_request(curl, &daemon_, path, NULL, NULL, 0, out) == 200 ? 0 : -1;
}

/* Publishes `b` as version 1 of domain k and checks that it is one raw block the gateway
 * serves: prints "<name>=<cid>" and "<name>_bytes=<size>". */
static int publish_block(CURL *curl, size_t k, bd_bundle *b, const char *name)
{
	struct bench_request r;
	tl_buf out = tl_buf_make(1u << 20), version = tl_buf_make(1u << 20);
	char path[256];
	json_t *doc = NULL;
	const char *cid;
	int rc = -1;

	if (bench_make_request(&r, &daemon_, b, names[k], 1, keys[k]) != 0)
		return -1;
	if (bench_request(curl, &daemon_, r.path, NULL, r.body, r.len, &out) != 201 ||
	    (doc = json_loadb((const char *)out.data, out.len, 0, NULL)) == NULL ||
	    (cid = json_string_value(json_object_get(doc, "cid"))) == NULL) {
		fprintf(stderr, "fill: publishing %s: %.*s\n", names[k], (int)out.len, (const char *)out.data);
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/domains/%s/bundles/1", names[k]);
	if (get(curl, path, &version) != 0)
		goto out;
	snprintf(path, sizeof(path), "/ipfs/%s?format=raw", cid);
	/* A raw CID (bafkrei...) names the version's only leaf; a dag-pb root would be a node. */
	if (strncmp(cid, "bafkrei", 7) != 0 || get(curl, path, &out) != 0 || out.len != version.len ||
	    memcmp(out.data, version.data, out.len) != 0) {
		fprintf(stderr, "fill: %s's version 1 (%s) is not one raw block served at /ipfs/\n", names[k], cid);
		goto out;
	}
	printf("%s=%s\n%s_bytes=%zu\n", name, cid, name, out.len);
	rc = 0;
out:
	json_decref(doc);
	free(r.body);
	tl_buf_free(&out);
	tl_buf_free(&version);
	return rc;
}

/* The log's size (GET /v1/log), or 0. */
static uint64_t log_size(CURL *curl)
{
	tl_buf out = tl_buf_make(1u << 16);
	json_t *doc;
	uint64_t n = 0;

	if (get(curl, "/v1/log", &out) == 0 && (doc = json_loadb((const char *)out.data, out.len, 0, NULL)) != NULL) {
		n = (uint64_t)json_integer_value(json_object_get(doc, "size"));
		json_decref(doc);
	}
	tl_buf_free(&out);
	return n;
}

struct storm {
	volatile int done;
};

/* Prints the log's size every 15 s while the storm lasts (the count through the API). */
static void *progress(void *arg)
{
	struct storm *s = arg;
	CURL *curl = curl_easy_init();
	double t0 = bench_now_s(), last = t0;
	uint64_t n0 = log_size(curl);

	while (!s->done) {
		usleep(200000);
		if (bench_now_s() - last >= 15) {
			uint64_t n = log_size(curl);

			last = bench_now_s();
			fprintf(stderr, "fill: %llu entries, %.0f publishes/s so far\n", (unsigned long long)n,
				(double)(n - n0) / (last - t0));
		}
	}
	curl_easy_cleanup(curl);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *extra[] = { "--write-rate", "0", NULL };
	struct bench_certs certs = { 0 };
	struct bench_publisher *pubs;
	struct share *shares;
	pthread_t *threads, monitor;
	struct storm storm = { 0 };
	bd_bundle *b6 = NULL, *b33 = NULL;
	uint8_t *take;
	uint64_t entries, publishers = 64, domains = 1024, bulk_versions, size;
	size_t failed = 0, mid;
	CURL *curl;
	char *auth, path[PATH_MAX];
	struct stat st;
	double t0, wall;

	if (argc < 3 || argc > 5 || (entries = strtoull(argv[2], NULL, 10)) == 0 ||
	    (argc > 3 && ((publishers = strtoull(argv[3], NULL, 10)) == 0 || publishers > MAX_PUBLISHERS)) ||
	    (argc > 4 && (domains = strtoull(argv[4], NULL, 10)) < publishers) || domains % publishers != 0) {
		fprintf(stderr, "usage: fill DIR ENTRIES [PUBLISHERS (1..%d) [DOMAINS (a multiple of PUBLISHERS)]]\n",
			MAX_PUBLISHERS);
		return 2;
	}
	/* Registrations, the two block versions, and at least one version per bulk domain. */
	if (entries < 2 * domains + 4) {
		fprintf(stderr, "fill: %llu entries are too few for %llu domains\n", (unsigned long long)entries,
			(unsigned long long)domains);
		return 2;
	}
	snprintf(daemon_.dir, sizeof(daemon_.dir), "%s", argv[1]);
	snprintf(path, sizeof(path), "%s/data", argv[1]);
	if (stat(path, &st) == 0) {
		fprintf(stderr, "fill: %s exists: fill an empty directory\n", path);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_ALL);
	curl = curl_easy_init();

	/* The bundles: two CAs for the bulk; single leaves of ~6 KB and ~33 KB. */
	if (bench_synth_cas(&certs, 48u << 10) != 0 || certs.n < BULK_CAS + 8)
		return fail("making CAs");
	if ((take = calloc(certs.n, 1)) == NULL)
		return 1;
	memset(take, 1, BULK_CAS);
	{
		struct bench_certs rest = { certs.der + BULK_CAS, certs.len + BULK_CAS, certs.n - BULK_CAS };

		if (single_leaf(&b6, &rest, 6u << 10) != 0 ||
		    single_leaf(&b33, &rest, 33u << 10) != 0)
			return fail("no single-leaf bundle of 6 KB and 33 KB from these CAs");
	}

	if (bench_daemon_start(&daemon_, extra) != 0 || (auth = bench_read_token(&daemon_)) == NULL)
		return fail("starting the daemon");
	/* Domains 0..domains-1 the bulk, then the 6 KB and the 33 KB block's. */
	names = calloc(domains + 2, sizeof(*names));
	keys = calloc(domains + 2, sizeof(*keys));
	t0 = bench_now_s();
	for (size_t k = 0; k < domains + 2; k++) {
		if (k < domains)
			snprintf(names[k], sizeof(names[k]), "d%04zu.fill.bench.test", k);
		else
			snprintf(names[k], sizeof(names[k]), "%s.fill.bench.test", k == domains ? "block6k" : "block33k");
		if (tl_signer_generate(&keys[k], names[k]) != 0 ||
		    bench_register_domain(curl, &daemon_, auth, names[k], keys[k]) != 0)
			return fail("registering a domain");
	}
	if (publish_block(curl, domains, b6, "block6k") != 0 || publish_block(curl, domains + 1, b33, "block33k") != 0)
		return fail("the block versions");
	fflush(stdout);

	/* The storm: publisher p owns domains p, p + P, ...; it publishes sequence v of each of
	 * them, then v + 1; the first (bulk % domains) domains get one version more. */
	bulk_versions = entries - (domains + 4);
	pubs = calloc(publishers, sizeof(*pubs));
	shares = calloc(publishers, sizeof(*shares));
	threads = calloc(publishers, sizeof(*threads));
	for (size_t p = 0; p < publishers; p++) {
		size_t per = (size_t)(bulk_versions / publishers) + 1, n = 0;

		shares[p].domain = calloc(per, sizeof(uint32_t));
		shares[p].seq = calloc(per, sizeof(uint32_t));
		if (bundle_of(&shares[p].bundle, &certs, take) != 0)
			return fail("a bundle");
		for (uint64_t v = 1; v <= bulk_versions / domains + 1; v++)
			for (size_t k = p; k < domains; k += publishers)
				if (v <= bulk_versions / domains || k < bulk_versions % domains) {
					shares[p].domain[n] = (uint32_t)k;
					shares[p].seq[n++] = (uint32_t)v;
				}
		pubs[p] = (struct bench_publisher){ &daemon_, (int)p, NULL, n, NULL, 0, make, &shares[p] };
	}
	fprintf(stderr, "fill: %llu domains registered in %.1f s; publishing %llu versions from %llu publishers\n",
		(unsigned long long)domains + 2, bench_now_s() - t0, (unsigned long long)bulk_versions,
		(unsigned long long)publishers);
	t0 = bench_now_s();
	pthread_create(&monitor, NULL, progress, &storm);
	for (size_t p = 0; p < publishers; p++)
		pthread_create(&threads[p], NULL, bench_publish, &pubs[p]);
	for (size_t p = 0; p < publishers; p++) {
		pthread_join(threads[p], NULL);
		failed += pubs[p].failed;
	}
	wall = bench_now_s() - t0;
	storm.done = 1;
	pthread_join(monitor, NULL);
	if (failed != 0 || (size = log_size(curl)) != entries) {
		fprintf(stderr, "fill: %zu publishes failed; the log has %llu entries, not %llu\n", failed,
			(unsigned long long)log_size(curl), (unsigned long long)entries);
		bench_daemon_stop(&daemon_);
		return 1;
	}
	/* A mid-log version: the middle sequence of a middle domain. */
	mid = domains / 2;
	printf("version=/v1/domains/%s/bundles/%llu\n", names[mid], (unsigned long long)(bulk_versions / domains / 2 + 1));
	printf("federation=/v1/domains/%s/bundle\n", names[mid]);
	printf("publish_seconds=%.1f\npublishes_per_second=%.0f\n", wall, (double)bulk_versions / wall);
	bench_daemon_stop(&daemon_);

	for (size_t p = 0; p < publishers; p++) {
		bd_bundle_free(shares[p].bundle);
		free(shares[p].domain);
		free(shares[p].seq);
	}
	for (size_t k = 0; k < domains + 2; k++)
		tl_signer_free(keys[k]);
	free(shares);
	free(pubs);
	free(threads);
	free(names);
	free(keys);
	free(auth);
	free(take);
	bd_bundle_free(b6);
	bd_bundle_free(b33);
	bench_certs_free(&certs);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	return 0;
}
