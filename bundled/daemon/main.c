/*
 * bundled: the daemon. Opens the data directory (one RocksDB database), the log with its
 * signing key (created on first start), the block store, and serves the HTTP API until
 * SIGINT or SIGTERM, then shuts down in reverse order.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon.h"
#include "diff_cache.h"
#include "logging.h"
#include "metrics_daemon.h"
#include "mirrors.h"
#include "secrets.h"
#include "witnesses.h"
#include "translog/pkcs11.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bundled [options]\n"
		"\n"
		"Serves the bundled HTTP API: the transparency log (C2SP tlog-tiles), proofs, and\n"
		"content-addressed bundle blocks.\n"
		"\n"
		"options (they override the config file, which overrides the defaults):\n"
		"  --config FILE      JSON config file (keys: listen, data_dir, log_key, pkcs11_pin_file,\n"
		"                     log_name, ipfs_api, ipfs_api_auth_file, log_level, write_rate,\n"
		"                     write_burst, and the HTTP limits below)\n"
		"  --listen ADDR      host:port to listen on (default 127.0.0.1:8440)\n"
		"  --data DIR         data directory (default ./data)\n"
		"  --log-key FILE     the log's private key (default DIR/log.key, created if absent), or\n"
		"                     an RFC 7512 URI 'pkcs11:token=...;object=...' of a key in a PKCS#11\n"
		"                     token (made by bundlectl keygen --pkcs11)\n"
		"  --pkcs11-pin-file FILE  the token's PIN (default: $BUNDLED_PKCS11_PIN)\n"
		"  --log-name NAME    the log's origin, used when the key is created (default bundled.local/log)\n"
		"  --ipfs-api URL     Kubo RPC API (or IPFS Cluster proxy) to pin to (default: none)\n"
		"  --ipfs-api-auth-file FILE\n"
		"                     the API's credentials, mode 0600: one line \"user:password\",\n"
		"                     \"Basic <base64>\" or \"Bearer <token>\" (never put them in the URL)\n"
		"  --log-level LEVEL  debug, info, warn or error (default info)\n"
		"  --write-rate N     writes a second per client address (default 100; 0: no limit)\n"
		"  --write-burst N    writes a client may make at once (default 200)\n"
		"  --rebuild-index    rebuild the domain registry from the log, then exit\n"
		"  --list-routes      print the route table (\"METHOD PATH\", a PATH ending in / is a\n"
		"                     prefix), then exit: what schema/routes.json must map\n"
		"  -h, --help         this text\n"
		"\n%s\n%s\n%s",
		config_http_usage, config_mirror_usage, config_witness_usage);
}

/* The daemon's own flags, then the HTTP server's (config_http.c), in one getopt table. */
enum { OPT_CONFIG = 256, OPT_LISTEN, OPT_DATA, OPT_KEY, OPT_NAME, OPT_IPFS, OPT_IPFS_AUTH, OPT_LEVEL, OPT_PIN, OPT_RATE,
	OPT_BURST };
static int rebuild_index, list_routes;
static const struct option base_opts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "data", required_argument, NULL, OPT_DATA },
	{ "log-key", required_argument, NULL, OPT_KEY },
	{ "log-name", required_argument, NULL, OPT_NAME },
	{ "ipfs-api", required_argument, NULL, OPT_IPFS },
	{ "ipfs-api-auth-file", required_argument, NULL, OPT_IPFS_AUTH },
	{ "log-level", required_argument, NULL, OPT_LEVEL },
	{ "pkcs11-pin-file", required_argument, NULL, OPT_PIN },
	{ "write-rate", required_argument, NULL, OPT_RATE },
	{ "write-burst", required_argument, NULL, OPT_BURST },
	{ "rebuild-index", no_argument, &rebuild_index, 1 },
	{ "list-routes", no_argument, &list_routes, 1 },
	{ "help", no_argument, NULL, 'h' },
};
#define NBASE (sizeof(base_opts) / sizeof(base_opts[0]))
#define MAX_OPTS 64

static int parse_args(struct config *cfg, int argc, char **argv)
{
	struct option opts[MAX_OPTS] = { { NULL, 0, NULL, 0 } };
	const char *config_file = NULL;
	size_t nopts = NBASE;
	int c, idx, err;

	memcpy(opts, base_opts, sizeof(base_opts));
	for (size_t i = 0; config_http_flags[i].name != NULL && nopts + 1 < MAX_OPTS; i++)
		opts[nopts++] = config_http_flags[i];
	for (size_t i = 0; config_mirror_flags[i].name != NULL && nopts + 1 < MAX_OPTS; i++)
		opts[nopts++] = config_mirror_flags[i];
	for (size_t i = 0; config_witness_flags[i].name != NULL && nopts + 1 < MAX_OPTS; i++)
		opts[nopts++] = config_witness_flags[i];

	/* The config file is applied first, whatever its place on the command line. */
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--config") == 0)
			config_file = argv[i + 1];
	if (config_file != NULL && (err = config_load_file(cfg, config_file)) != 0)
		return err;
	while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		char *dst = NULL;
		size_t cap = CONFIG_MAX_STRING;

		if (c >= CONFIG_WITNESS_FLAG) {
			if ((err = config_witness_flag(&cfg->witness, c, optarg)) != 0)
				return err;
			continue;
		}
		if (c >= CONFIG_MIRROR_FLAG) {
			if ((err = config_mirror_flag(&cfg->mirror, c, optarg)) != 0)
				return err;
			continue;
		}
		if (c >= CONFIG_HTTP_FLAG) {
			if ((err = config_http_flag(&cfg->http, c, optarg)) != 0)
				return err;
			continue;
		}
		switch (c) {
		case OPT_CONFIG:
		case 0: /* a flag getopt set */
			continue;
		case OPT_RATE:
		case OPT_BURST:
			if ((err = config_set_rate(c == OPT_RATE ? &cfg->write_rate : &cfg->write_burst, optarg,
				     c == OPT_RATE ? "--write-rate" : "--write-burst")) != 0)
				return err;
			continue;
		case OPT_LISTEN:
			if ((err = config_set_listen(cfg, optarg)) != 0)
				return err;
			continue;
		case OPT_DATA: dst = cfg->data_dir; break;
		case OPT_KEY: dst = cfg->log_key; break;
		case OPT_NAME: dst = cfg->log_name; break;
		case OPT_IPFS: dst = cfg->ipfs_api; break;
		case OPT_IPFS_AUTH: dst = cfg->ipfs_api_auth_file; break;
		case OPT_LEVEL: dst = cfg->log_level; cap = sizeof(cfg->log_level); break;
		case OPT_PIN: dst = cfg->pkcs11_pin_file; break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
		if (strlen(optarg) >= cap)
			return tl_error_set(TL_E_INPUT, "argument of --%s is too long", opts[idx].name);
		memcpy(dst, optarg, strlen(optarg) + 1);
	}
	if (optind != argc)
		return tl_error_set(TL_E_INPUT, "unexpected argument \"%s\"", argv[optind]);
	return config_finish(cfg);
}

/* The log key in a PKCS#11 token: it must exist (bundlectl keygen --pkcs11 makes it). */
static int open_pkcs11_key(tl_signer **out, const struct config *cfg)
{
	char pin[TL_PKCS11_MAX_PIN + 1];
	int err;

	if ((err = tl_pkcs11_pin_load(pin, cfg->pkcs11_pin_file[0] ? cfg->pkcs11_pin_file : NULL, "BUNDLED_PKCS11_PIN")) == 0)
		err = tl_pkcs11_signer_open(out, cfg->log_key, pin);
	tl_pkcs11_pin_wipe(pin);
	if (err == 0)
		log_at(LOG_INFO, "log key in a PKCS#11 token", "uri=\"%s\"", cfg->log_key);
	return err;
}

/* Loads the log key, or creates it (mode 0600) on the first start of a new data directory. */
static int open_key(tl_signer **out, const struct config *cfg)
{
	tl_signer *s = NULL;
	struct stat st;
	int err;

	if (tl_pkcs11_uri_is(cfg->log_key))
		return open_pkcs11_key(out, cfg);
	if (stat(cfg->log_key, &st) == 0)
		return tl_signer_load(out, cfg->log_key);
	if (errno != ENOENT)
		return tl_error_set(TL_E_IO, "%s: %s", cfg->log_key, strerror(errno));
	if ((err = tl_signer_generate(&s, cfg->log_name)) != 0 || (err = tl_signer_save(s, cfg->log_key)) != 0)
		goto out;
	log_at(LOG_INFO, "created log key", "path=\"%s\" name=\"%s\"", cfg->log_key, cfg->log_name);
	*out = s;
	s = NULL;
out:
	tl_signer_free(s);
	return err;
}

/* The IPFS API's credentials: from the auth file, or (discouraged) the URL's user-info,
 * which is then only ever shown redacted. */
static int open_ipfs_credentials(struct daemon *d, char *auth, size_t cap)
{
	int in_url = secrets_url_has_userinfo(d->cfg.ipfs_api);

	secrets_redact_url(d->ipfs_api_shown, sizeof(d->ipfs_api_shown), d->cfg.ipfs_api);
	if (in_url && d->cfg.ipfs_api_auth_file[0] != '\0')
		return tl_error_set(TL_E_INPUT, "ipfs_api %s has credentials and ipfs_api_auth_file is set: give them in the file only",
			d->ipfs_api_shown);
	if (in_url)
		log_at(LOG_WARN, "ipfs_api carries credentials; move them to ipfs_api_auth_file", "api=\"%s\"",
			d->ipfs_api_shown);
	if (d->cfg.ipfs_api_auth_file[0] == '\0')
		return 0;
	return secrets_load_auth(auth, cap, d->cfg.ipfs_api_auth_file);
}

/* Pinning never blocks startup: a node that is down now is retried by the queue's worker. */
static int open_pinning(struct daemon *d)
{
	char auth[BD_IPFS_AUTH_MAX + 1] = "";
	bd_ipfs_options io = { .api = d->cfg.ipfs_api };
	bd_pinq_transport transport;
	bd_ipfs_info info;
	int err;

	if ((err = open_ipfs_credentials(d, auth, sizeof(auth))) != 0)
		return err;
	io.authorization = auth[0] != '\0' ? auth : NULL;
	err = bd_ipfs_open(&d->ipfs, &io);
	explicit_bzero(auth, sizeof(auth));
	if (err != 0)
		return err;
	if (bd_ipfs_version(&info, d->ipfs) == 0)
		log_at(LOG_INFO, "ipfs node", "api=\"%s\" implementation=%s version=%s", d->ipfs_api_shown,
			info.implementation, info.version);
	else
		log_at(LOG_WARN, "ipfs node not reachable; pins wait in the queue", "api=\"%s\" error=\"%s\"",
			d->ipfs_api_shown, tl_error_message());
	transport = bd_pinq_transport_ipfs(d->ipfs);
	if ((err = bd_pinq_open(&d->pins, d->db, d->blocks, &transport, NULL)) != 0)
		return err;
	return bd_pinq_start(d->pins);
}

/* The publisher over the log, registry, blocks and pins; the operator's token; the limits
 * on writes. */
static int open_publishing(struct daemon *d)
{
	bd_publish_options po = { .log = d->log, .registry = d->registry, .blocks = d->blocks, .pins = d->pins };
	int err;

	if ((err = bd_publisher_new(&d->publisher, &po)) != 0 || (err = auth_open(&d->auth, d->cfg.data_dir)) != 0)
		return err;
	return ratelimit_new(&d->writes, d->cfg.write_rate, d->cfg.write_burst);
}

/* bundled --rebuild-index: the registry again from the log alone. */
static int rebuild(struct daemon *d)
{
	tl_hash digest;
	char hex[2 * TL_HASH_SIZE + 1];
	int err;

	if ((err = bd_registry_rebuild(d->registry, d->log)) != 0 || (err = bd_registry_digest(&digest, d->registry)) != 0)
		return err;
	tl_hex_encode(hex, digest.b, TL_HASH_SIZE);
	log_at(LOG_INFO, "registry rebuilt from the log", "size=%llu digest=%s",
		(unsigned long long)tl_log_size(d->log), hex);
	return 0;
}

/* One index slot of the bundles' cache per 16 KiB of it: 8,192 for the default 128 MiB, four
 * times the ~2,000 bundles of ~100 KB (and their ~30 KB gzip forms) it holds, so that few
 * collide in the direct-mapped index. */
#define BUNDLE_SLOT_BYTES ((size_t)16 << 10)

static int open_state(struct daemon *d)
{
	const char *cfs[TL_LOG_COLUMN_FAMILY_COUNT + 4];
	/* Decoded full tiles for proofs (16 KiB each, filled as they are read): with the
	 * default 1,024, random inclusion proofs on a 1M-entry log re-read and re-hashed a tile
	 * for most proofs (benchmarks/README.md, "HTTP"); 16,384 slots hold every tile of a
	 * 1M-entry log (64 MB) with few collisions, and at most 256 MB. */
	const struct tl_log_options log_opts = { .cache_tiles = 16384 };
	char db_path[CONFIG_MAX_STRING + 8];
	size_t ncf = 0;
	tl_buf vkey = tl_buf_make(1024);
	int err;

	if (mkdir(d->cfg.data_dir, 0700) != 0 && errno != EEXIST)
		return tl_error_set(TL_E_IO, "creating %s: %s", d->cfg.data_dir, strerror(errno));
	/* A replica has no key of its own: it serves the checkpoints its primary signed. */
	if ((!mirrors_is_replica(d) && (err = open_key(&d->key, &d->cfg)) != 0) || (err = mirrors_open_log_key(d)) != 0)
		return err;
	for (size_t i = 0; i < TL_LOG_COLUMN_FAMILY_COUNT; i++)
		cfs[ncf++] = tl_log_column_families[i];
	cfs[ncf++] = bd_blockstore_column_family;
	cfs[ncf++] = bd_pinq_column_family;
	cfs[ncf++] = BD_REGISTRY_COLUMN_FAMILY;
	cfs[ncf++] = DIFF_CACHE_COLUMN_FAMILY;
	snprintf(db_path, sizeof(db_path), "%s/db", d->cfg.data_dir);
	if ((err = tl_db_open(&d->db, db_path, cfs, ncf)) != 0 ||
	    (err = d->key != NULL ? tl_log_open(&d->log, d->db, d->key, &log_opts) :
				    tl_log_open_replica(&d->log, d->db, d->log_vkey, &log_opts)) != 0 ||
	    (err = bd_blockstore_open(&d->blocks, d->db)) != 0 ||
	    (err = http_file_cache_new(&d->files, HTTP_FILE_ARENA_BYTES)) != 0 ||
	    (err = http_file_cache_new_sized(&d->bundles, d->cfg.http.bundle_cache / 2,
		     d->cfg.http.bundle_cache / BUNDLE_SLOT_BYTES)) != 0 ||
	    (err = version_cache_new(&d->versions)) != 0)
		return err;
	if ((err = bd_registry_open(&d->registry, d->db, d->log)) != 0)
		return err;
	if (bd_registry_skipped(d->registry) > 0)
		log_at(LOG_ERROR, "the log holds entries the registry cannot apply: a damaged or forged store; audit it",
			"entries=%llu", (unsigned long long)bd_registry_skipped(d->registry));
	if (!rebuild_index && (err = diff_cache_open(&d->diffs, d)) != 0)
		return err;
	if (rebuild_index)
		return 0;
	if (d->cfg.ipfs_api[0] != '\0' && (err = open_pinning(d)) != 0)
		return err;
	if ((!mirrors_is_replica(d) && (err = open_publishing(d)) != 0) || (err = mirrors_open(d)) != 0 ||
	    (err = witnesses_open(d)) != 0)
		return err;
	if ((err = tl_verifier_format(&vkey, d->log_vkey)) == 0)
		log_at(LOG_INFO, "log open", "origin=\"%s\" size=%llu vkey=%s", tl_log_origin(d->log),
			(unsigned long long)tl_log_size(d->log), (char *)vkey.data);
	tl_buf_free(&vkey);
	return err;
}

static void close_state(struct daemon *d)
{
	witnesses_close(d);
	mirrors_close(d);
	ratelimit_free(d->writes);
	diff_cache_close(d->diffs);
	bd_publisher_free(d->publisher);
	if (d->pins != NULL) {
		bd_pinq_stop(d->pins);
		bd_pinq_close(d->pins);
	}
	bd_ipfs_close(d->ipfs);
	bd_registry_close(d->registry);
	http_file_cache_free(d->files);
	http_file_cache_free(d->bundles);
	version_cache_free(d->versions);
	bd_blockstore_close(d->blocks);
	tl_log_close(d->log);
	tl_db_close(d->db);
	tl_signer_free(d->key);
	tl_verifier_free(d->log_vkey);
}

int main(int argc, char **argv)
{
	struct daemon d;
	struct http_server *srv = NULL;
	struct http_options hopts;
	struct watch_options wopts;
	sigset_t stop;
	int sig = 0, rc = 1, err;

	memset(&d, 0, sizeof(d));
	config_defaults(&d.cfg);
	if ((err = parse_args(&d.cfg, argc, argv)) != 0) {
		fprintf(stderr, "bundled: %s\n", tl_error_message());
		return 2;
	}
	for (size_t i = 0; list_routes && i < daemon_nroutes; i++)
		printf("%s %s\n", daemon_routes[i].method, daemon_routes[i].path);
	if (list_routes)
		return 0;
	/* Block the stop signals in every thread; the main thread waits for them below. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.started = time(NULL);
	if ((err = metrics_new(&d.metrics)) != 0) {
		log_at(LOG_ERROR, "cannot start", "error=\"%s\"", tl_error_message());
		return 1;
	}
	hopts = (struct http_options){
		.host = d.cfg.listen_host,
		.port = d.cfg.listen_port,
		.max_body = d.cfg.http.max_body,
		.loops = d.cfg.http.loops,
		.workers = d.cfg.http.workers,
		.max_connections = d.cfg.http.max_connections,
		.max_per_address = d.cfg.http.max_per_address,
		.request_timeout_ms = d.cfg.http.request_timeout_ms,
		.idle_timeout_ms = d.cfg.http.idle_timeout_ms,
		.write_timeout_ms = d.cfg.http.write_timeout_ms,
		.tls_cert = d.cfg.http.tls_cert[0] ? d.cfg.http.tls_cert : NULL,
		.tls_key = d.cfg.http.tls_key[0] ? d.cfg.http.tls_key : NULL,
		.tls_client_ca = d.cfg.http.tls_client_ca[0] ? d.cfg.http.tls_client_ca : NULL,
		.routes = daemon_routes,
		.nroutes = daemon_nroutes,
		.app = &d,
		.metrics = d.metrics,
	};
	wopts = (struct watch_options){
		.max_watchers = d.cfg.http.watch_max,
		.max_per_client = d.cfg.http.watch_max_per_client,
		.keepalive_ms = d.cfg.http.watch_keepalive_ms,
	};
	if (rebuild_index) {
		if ((err = open_state(&d)) != 0 || (err = rebuild(&d)) != 0)
			log_at(LOG_ERROR, "cannot rebuild the registry", "error=\"%s\"", tl_error_message());
		close_state(&d);
		metrics_free(d.metrics);
		return err ? 1 : 0;
	}
	if ((err = open_state(&d)) != 0 || (err = daemon_metrics_register(&d)) != 0 ||
	    (err = publish_metrics_register(&d.publishes, d.metrics)) != 0 ||
	    (err = mirrors_metrics_register(&d)) != 0 || (err = watch_hub_new(&d.watch, &wopts, d.metrics)) != 0 ||
	    (err = http_start(&srv, &hopts)) != 0 || (err = mirrors_start(&d)) != 0) {
		log_at(LOG_ERROR, "cannot start", "error=\"%s\"", tl_error_message());
		goto out;
	}
	log_at(LOG_INFO, "listening", "addr=%s:%u tls=%s data=\"%s\"", d.cfg.listen_host, http_port(srv),
		!d.cfg.http.tls_cert[0] ? "off" : d.cfg.http.tls_client_ca[0] ? "mtls" : "on", d.cfg.data_dir);
	sigwait(&stop, &sig);
	log_at(LOG_INFO, "stopping", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	rc = 0;
out:
	/* The server first: closing the streams takes them out of the hub; then the replica's
	 * follower, which tells the hub of what it takes. */
	http_stop(srv);
	mirrors_stop(&d);
	watch_hub_free(d.watch);
	d.watch = NULL;
	close_state(&d);
	metrics_free(d.metrics);
	if (rc == 0)
		log_at(LOG_INFO, "stopped", "data=\"%s\"", d.cfg.data_dir);
	return rc;
}
