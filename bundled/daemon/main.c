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
#include "logging.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bundled [options]\n"
		"\n"
		"Serves the bundled HTTP API: the transparency log (C2SP tlog-tiles), proofs, and\n"
		"content-addressed bundle blocks.\n"
		"\n"
		"options (they override the config file, which overrides the defaults):\n"
		"  --config FILE      JSON config file (keys: listen, data_dir, log_key, log_name,\n"
		"                     ipfs_api, log_level, max_body, max_connections, connection_timeout,\n"
		"                     write_rate, write_burst)\n"
		"  --listen ADDR      host:port to listen on (default 127.0.0.1:8440)\n"
		"  --data DIR         data directory (default ./data)\n"
		"  --log-key FILE     the log's private key (default DIR/log.key, created if absent)\n"
		"  --log-name NAME    the log's origin, used when the key is created (default bundled.local/log)\n"
		"  --ipfs-api URL     Kubo RPC API (or IPFS Cluster proxy) to pin to (default: none)\n"
		"  --log-level LEVEL  debug, info, warn or error (default info)\n"
		"  --write-rate N     writes a second per client address (default 100; 0: no limit)\n"
		"  --write-burst N    writes a client may make at once (default 200)\n"
		"  --rebuild-index    rebuild the domain registry from the log, then exit\n"
		"  -h, --help         this text\n");
}

static int rebuild_index;

static int parse_args(struct config *cfg, int argc, char **argv)
{
	enum { OPT_CONFIG = 256, OPT_LISTEN, OPT_DATA, OPT_KEY, OPT_NAME, OPT_IPFS, OPT_LEVEL, OPT_RATE, OPT_BURST,
		OPT_REBUILD };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "data", required_argument, NULL, OPT_DATA },
		{ "log-key", required_argument, NULL, OPT_KEY },
		{ "log-name", required_argument, NULL, OPT_NAME },
		{ "ipfs-api", required_argument, NULL, OPT_IPFS },
		{ "log-level", required_argument, NULL, OPT_LEVEL },
		{ "write-rate", required_argument, NULL, OPT_RATE },
		{ "write-burst", required_argument, NULL, OPT_BURST },
		{ "rebuild-index", no_argument, &rebuild_index, 1 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_file = NULL;
	int c, err;

	/* The config file is applied first, whatever its place on the command line. */
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--config") == 0)
			config_file = argv[i + 1];
	if (config_file != NULL && (err = config_load_file(cfg, config_file)) != 0)
		return err;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *dst = NULL;
		size_t cap = CONFIG_MAX_STRING;

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
		case OPT_LEVEL: dst = cfg->log_level; cap = sizeof(cfg->log_level); break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
		if (strlen(optarg) >= cap)
			return tl_error_set(TL_E_INPUT, "argument of --%s is too long", opts[c - OPT_CONFIG].name);
		memcpy(dst, optarg, strlen(optarg) + 1);
	}
	if (optind != argc)
		return tl_error_set(TL_E_INPUT, "unexpected argument \"%s\"", argv[optind]);
	return config_finish(cfg);
}

/* Loads the log key, or creates it (mode 0600) on the first start of a new data directory. */
static int open_key(tl_signer **out, const struct config *cfg)
{
	tl_signer *s = NULL;
	struct stat st;
	int err;

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

/* Pinning never blocks startup: a node that is down now is retried by the queue's worker. */
static int open_pinning(struct daemon *d)
{
	bd_ipfs_options io = { .api = d->cfg.ipfs_api };
	bd_pinq_transport transport;
	bd_ipfs_info info;
	int err;

	if ((err = bd_ipfs_open(&d->ipfs, &io)) != 0)
		return err;
	if (bd_ipfs_version(&info, d->ipfs) == 0)
		log_at(LOG_INFO, "ipfs node", "api=\"%s\" implementation=%s version=%s", d->cfg.ipfs_api,
			info.implementation, info.version);
	else
		log_at(LOG_WARN, "ipfs node not reachable; pins wait in the queue", "api=\"%s\" error=\"%s\"",
			d->cfg.ipfs_api, tl_error_message());
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

static int open_state(struct daemon *d)
{
	const char *cfs[TL_LOG_COLUMN_FAMILY_COUNT + 3];
	char db_path[CONFIG_MAX_STRING + 8];
	size_t ncf = 0;
	tl_buf vkey = tl_buf_make(1024);
	int err;

	if (mkdir(d->cfg.data_dir, 0700) != 0 && errno != EEXIST)
		return tl_error_set(TL_E_IO, "creating %s: %s", d->cfg.data_dir, strerror(errno));
	if ((err = open_key(&d->key, &d->cfg)) != 0)
		return err;
	for (size_t i = 0; i < TL_LOG_COLUMN_FAMILY_COUNT; i++)
		cfs[ncf++] = tl_log_column_families[i];
	cfs[ncf++] = bd_blockstore_column_family;
	cfs[ncf++] = bd_pinq_column_family;
	cfs[ncf++] = BD_REGISTRY_COLUMN_FAMILY;
	snprintf(db_path, sizeof(db_path), "%s/db", d->cfg.data_dir);
	if ((err = tl_db_open(&d->db, db_path, cfs, ncf)) != 0 || (err = tl_log_open(&d->log, d->db, d->key, NULL)) != 0 ||
	    (err = bd_blockstore_open(&d->blocks, d->db)) != 0)
		return err;
	if ((err = bd_registry_open(&d->registry, d->db, d->log)) != 0)
		return err;
	if (rebuild_index)
		return 0;
	if (d->cfg.ipfs_api[0] != '\0' && (err = open_pinning(d)) != 0)
		return err;
	if ((err = open_publishing(d)) != 0)
		return err;
	if ((err = tl_signer_vkey(&vkey, d->key)) == 0)
		log_at(LOG_INFO, "log open", "origin=\"%s\" size=%llu vkey=%s", tl_signer_name(d->key),
			(unsigned long long)tl_log_size(d->log), (char *)vkey.data);
	tl_buf_free(&vkey);
	return err;
}

static void close_state(struct daemon *d)
{
	ratelimit_free(d->writes);
	bd_publisher_free(d->publisher);
	if (d->pins != NULL) {
		bd_pinq_stop(d->pins);
		bd_pinq_close(d->pins);
	}
	bd_ipfs_close(d->ipfs);
	bd_registry_close(d->registry);
	bd_blockstore_close(d->blocks);
	tl_log_close(d->log);
	tl_db_close(d->db);
	tl_signer_free(d->key);
}

int main(int argc, char **argv)
{
	struct daemon d;
	struct http_server *srv = NULL;
	struct http_options hopts;
	sigset_t stop;
	int sig = 0, rc = 1, err;

	memset(&d, 0, sizeof(d));
	config_defaults(&d.cfg);
	if ((err = parse_args(&d.cfg, argc, argv)) != 0) {
		fprintf(stderr, "bundled: %s\n", tl_error_message());
		return 2;
	}
	/* Block the stop signals in every thread; the main thread waits for them below. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.started = time(NULL);
	hopts = (struct http_options){
		.host = d.cfg.listen_host,
		.port = d.cfg.listen_port,
		.max_body = d.cfg.max_body,
		.max_connections = d.cfg.max_connections,
		.connection_timeout = d.cfg.connection_timeout,
		.routes = daemon_routes,
		.nroutes = daemon_nroutes,
		.app = &d,
	};
	if (rebuild_index) {
		if ((err = open_state(&d)) != 0 || (err = rebuild(&d)) != 0)
			log_at(LOG_ERROR, "cannot rebuild the registry", "error=\"%s\"", tl_error_message());
		close_state(&d);
		return err ? 1 : 0;
	}
	if ((err = open_state(&d)) != 0 || (err = http_start(&srv, &hopts)) != 0) {
		log_at(LOG_ERROR, "cannot start", "error=\"%s\"", tl_error_message());
		goto out;
	}
	log_at(LOG_INFO, "listening", "addr=%s:%u data=\"%s\"", d.cfg.listen_host, http_port(srv), d.cfg.data_dir);
	sigwait(&stop, &sig);
	log_at(LOG_INFO, "stopping", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	rc = 0;
out:
	http_stop(srv);
	close_state(&d);
	if (rc == 0)
		log_at(LOG_INFO, "stopped", "data=\"%s\"", d.cfg.data_dir);
	return rc;
}
