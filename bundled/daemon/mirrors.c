#include "mirrors.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "committed.h"
#include "logging.h"
#include "routes.h"

bool mirrors_is_replica(const struct daemon *d)
{
	return d->cfg.mirror.replica_of[0] != '\0';
}

int mirrors_open_log_key(struct daemon *d)
{
	const char *vkey = d->cfg.mirror.replica_log_key;

	if (!mirrors_is_replica(d))
		return tl_verifier_from_signer(&d->log_vkey, d->key);
	if (tl_verifier_parse(&d->log_vkey, vkey, strlen(vkey)) != 0)
		return tl_error_wrap(TL_E_INPUT, "replica_log_key");
	return 0;
}

/* Logs what changed: a fork once, a failure when it differs from the last, a recovery. */
static void on_round(void *ctx, int err, const bd_replica_status *st)
{
	struct daemon *d = ctx;

	if (err == 0 && d->replica_last_err != 0)
		log_at(LOG_INFO, "replica caught up", "primary=\"%s\" size=%llu", bd_replica_primary(d->replica),
			(unsigned long long)st->size);
	else if (err == TL_E_CONFLICT && d->replica_last_err != TL_E_CONFLICT)
		log_at(LOG_ERROR, "the primary forked: the replica serves its last verified state and follows no more",
			"primary=\"%s\" size=%llu error=\"%s\"", bd_replica_primary(d->replica), (unsigned long long)st->size,
			st->error);
	else if (err != 0 && err != TL_E_CONFLICT && err != d->replica_last_err)
		log_at(LOG_WARN, "replica round failed; retrying", "primary=\"%s\" size=%llu error=\"%s\"",
			bd_replica_primary(d->replica), (unsigned long long)st->size, st->error);
	d->replica_last_err = err;
}

/* The primary's entries are stored: the replica's readers hear of them as a publish's would. */
static void on_appended(void *ctx, uint64_t first, uint64_t n, uint64_t tree_size)
{
	committed_entries(ctx, first, n, tree_size);
}

/* The watch connection to the primary, for the logs, once each way: the interval alone goes
 * on without it. On the watch's thread only. */
static void on_watch(void *ctx, bool connected, const char *why)
{
	struct daemon *d = ctx;
	int state = connected ? 1 : -1;

	if (state == d->replica_watch_state)
		return;
	d->replica_watch_state = state;
	if (connected)
		log_at(LOG_INFO, "replica watching the primary", "primary=\"%s\"", bd_replica_primary(d->replica));
	else
		log_at(LOG_WARN, "replica's watch of the primary lost; rounds every interval go on",
			"primary=\"%s\" error=\"%s\"", bd_replica_primary(d->replica), why);
}

/* The git mirror: where the repository is and how far it got. */
static int open_git(struct daemon *d)
{
	bd_gitmirror_options o = { .dir = d->cfg.mirror.git_mirror, .log = d->log, .blocks = d->blocks };
	bd_gitmirror_status st;
	int err;

	if (d->cfg.mirror.git_mirror[0] == '\0')
		return 0;
	if ((err = bd_gitmirror_open(&d->git, &o)) != 0)
		return err;
	bd_gitmirror_get_status(&st, d->git);
	log_at(LOG_INFO, "git mirror", "dir=\"%s\" position=%llu size=%llu", o.dir, (unsigned long long)st.position,
		(unsigned long long)tl_log_size(d->log));
	return 0;
}

/* The log's full tiles on IPFS, beside the versions the pin queue pins. */
static int open_tiles(struct daemon *d)
{
	bd_tiledir_options o = { .log = d->log, .blocks = d->blocks, .pins = d->pins, .state_file = d->tiles_state };
	bd_tiledir_status st;
	char root[BD_CID_TEXT_MAX] = "none";
	int err;

	if (d->pins == NULL)
		return 0;
	if (snprintf(d->tiles_state, sizeof(d->tiles_state), "%s/ipfs-tiles.state", d->cfg.data_dir) >=
	    (int)sizeof(d->tiles_state))
		return tl_error_set(TL_E_INPUT, "data_dir is too long");
	if ((err = bd_tiledir_open(&d->tiles, &o)) != 0)
		return err;
	bd_tiledir_get_status(&st, d->tiles);
	if (st.has_root && bd_cid_format(root, sizeof(root), &st.root) != 0)
		snprintf(root, sizeof(root), "?");
	log_at(LOG_INFO, "log tiles on ipfs", "root=%s size=%llu", root, (unsigned long long)st.size);
	return 0;
}

/* The replica's follower. */
static int open_replica(struct daemon *d)
{
	bd_replica_options o;
	int err;

	if (!mirrors_is_replica(d))
		return 0;
	if (snprintf(d->replica_evidence, sizeof(d->replica_evidence), "%s/" BD_REPLICA_EVIDENCE_DIR, d->cfg.data_dir) >=
	    (int)sizeof(d->replica_evidence))
		return tl_error_set(TL_E_INPUT, "data_dir is too long");
	memset(&o, 0, sizeof(o));
	o.log = d->log;
	o.registry = d->registry;
	o.blocks = d->blocks;
	o.log_key = d->log_vkey;
	o.primary.url = d->cfg.mirror.replica_of;
	o.primary.ca_file = d->cfg.mirror.replica_ca_file[0] ? d->cfg.mirror.replica_ca_file : NULL;
	o.evidence_dir = d->replica_evidence;
	o.interval_ms = d->cfg.mirror.replica_interval_ms;
	o.watch_primary = d->cfg.mirror.replica_watch;
	o.on_round = on_round;
	o.on_appended = on_appended;
	o.on_watch = on_watch;
	o.ctx = d;
	if ((err = bd_replica_new(&d->replica, &o)) != 0)
		return err;
	log_at(LOG_INFO, "read replica", "primary=\"%s\" origin=\"%s\" size=%llu", bd_replica_primary(d->replica),
		tl_log_origin(d->log), (unsigned long long)tl_log_size(d->log));
	return 0;
}

int mirrors_open(struct daemon *d)
{
	int err;

	if ((err = open_replica(d)) != 0 || (err = open_tiles(d)) != 0)
		return err;
	return open_git(d);
}

int mirrors_start(struct daemon *d)
{
	int err;

	if ((d->replica != NULL && (err = bd_replica_start(d->replica)) != 0) ||
	    (d->tiles != NULL && (err = bd_tiledir_start(d->tiles)) != 0))
		return err;
	return d->git != NULL ? bd_gitmirror_start(d->git) : 0;
}

void mirrors_stop(struct daemon *d)
{
	bd_replica_stop(d->replica);
}

void mirrors_close(struct daemon *d)
{
	bd_replica_free(d->replica);
	d->replica = NULL;
	bd_gitmirror_close(d->git);
	d->git = NULL;
	bd_tiledir_close(d->tiles);
	d->tiles = NULL;
}

int mirrors_refuse_write(bd_httpd_response *res, const struct daemon *d)
{
	char msg[CONFIG_MIRROR_MAX_STRING + 64];

	snprintf(msg, sizeof(msg), "read-only replica of %s: send writes to the primary", bd_replica_primary(d->replica));
	return route_reply_error(res, 503, "read_only_replica", msg);
}

void mirrors_health(bool *ok, char *text, size_t cap, struct daemon *d)
{
	bd_replica_status st;

	bd_replica_get_status(&st, d->replica);
	*ok = !st.halted;
	if (st.halted)
		snprintf(text, cap, "halted: %s", st.error);
	else
		snprintf(text, cap, "ok: replica of %s at size %llu of %llu\n", bd_replica_primary(d->replica),
			(unsigned long long)st.size, (unsigned long long)st.primary_size);
}

/* ---- metrics ---- */

static bd_replica_status status_of(void *ctx)
{
	bd_replica_status st;

	bd_replica_get_status(&st, ((struct daemon *)ctx)->replica);
	return st;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double read_lag_entries(void *ctx)
{
	bd_replica_status st = status_of(ctx);

	return st.primary_size > st.size ? (double)(st.primary_size - st.size) : 0;
}

static double read_lag_seconds(void *ctx)
{
	bd_replica_status st = status_of(ctx);

	return st.behind_since_unix_ms ? now_s() - (double)st.behind_since_unix_ms * 1e-3 : 0;
}

static double read_last_sync(void *ctx)
{
	return (double)status_of(ctx).last_sync_unix_ms * 1e-3;
}

static double read_halted(void *ctx)
{
	return status_of(ctx).halted ? 1 : 0;
}

static double read_failures(void *ctx)
{
	return (double)status_of(ctx).failures;
}

static bd_gitmirror_status git_status_of(void *ctx)
{
	bd_gitmirror_status st;

	bd_gitmirror_get_status(&st, ((struct daemon *)ctx)->git);
	return st;
}

static double read_git_position(void *ctx)
{
	return (double)git_status_of(ctx).position;
}

static double read_git_lag(void *ctx)
{
	uint64_t size = tl_log_size(((struct daemon *)ctx)->log), at = git_status_of(ctx).position;

	return size > at ? (double)(size - at) : 0;
}

static double read_git_failures(void *ctx)
{
	return (double)git_status_of(ctx).failures;
}

static bd_tiledir_status tiles_status_of(void *ctx)
{
	bd_tiledir_status st;

	bd_tiledir_get_status(&st, ((struct daemon *)ctx)->tiles);
	return st;
}

static double read_tiles_size(void *ctx)
{
	return (double)tiles_status_of(ctx).size;
}

/* Entries in whole bundles of the log that the directory does not hold yet. */
static double read_tiles_lag(void *ctx)
{
	uint64_t size = tl_log_size(((struct daemon *)ctx)->log), at = tiles_status_of(ctx).size;

	size -= size % TL_TILE_WIDTH;
	return size > at ? (double)(size - at) : 0;
}

static double read_tiles_failures(void *ctx)
{
	return (double)tiles_status_of(ctx).failures;
}

/* The one family every mirror reports its lag in (docker/grafana: BundledMirrorLagging). */
#define LAG_HELP "Entries a mirror is behind: the local log for git and ipfs (whole bundles), the primary for a replica."

/* One sampled series of the mirrors. */
struct series {
	const char *name, *help, *labels;
	enum metric_type type;
	double (*read)(void *ctx);
};

static int register_series(struct daemon *d, const struct series *series, size_t n)
{
	int err;

	for (size_t i = 0; i < n; i++)
		if ((err = metrics_sampled(d->metrics, series[i].type, series[i].name, series[i].help, series[i].labels,
			     series[i].read, d)) != 0)
			return err;
	return 0;
}

int mirrors_metrics_register(struct daemon *d)
{
	static const struct series git[] = {
		{ "bundled_git_mirror_position", "Log entries committed to the git mirror.", NULL, METRIC_GAUGE,
			read_git_position },
		{ "bundled_mirror_lag_entries", LAG_HELP, "mirror=\"git\"", METRIC_GAUGE, read_git_lag },
		{ "bundled_git_mirror_failed_batches_total", "Git mirror batches that failed (retried).", NULL, METRIC_COUNTER,
			read_git_failures },
	};
	static const struct series tiles[] = {
		{ "bundled_ipfs_tiles_size", "The tree size whose full tiles and entry bundles are in the IPFS tiles directory.",
			NULL, METRIC_GAUGE, read_tiles_size },
		{ "bundled_mirror_lag_entries", LAG_HELP, "mirror=\"ipfs\"", METRIC_GAUGE, read_tiles_lag },
		{ "bundled_ipfs_tiles_failed_rounds_total", "Rounds of the IPFS tiles directory that failed (retried).", NULL,
			METRIC_COUNTER, read_tiles_failures },
	};
	static const struct series replica[] = {
		{ "bundled_mirror_lag_entries", LAG_HELP, "mirror=\"replica\"", METRIC_GAUGE, read_lag_entries },
		{ "bundled_replica_lag_seconds", "Seconds since the replica first saw the primary ahead of it; 0 when level.",
			NULL, METRIC_GAUGE, read_lag_seconds },
		{ "bundled_replica_last_sync_timestamp_seconds", "Unix time the replica last reached the primary's size.", NULL,
			METRIC_GAUGE, read_last_sync },
		{ "bundled_replica_halted", "1 once the primary forked: the replica follows it no more.", NULL, METRIC_GAUGE,
			read_halted },
		{ "bundled_replica_failed_rounds_total", "Rounds of the follower that failed (retried).", NULL, METRIC_COUNTER,
			read_failures },
	};
	int err;

	if ((d->git != NULL && (err = register_series(d, git, sizeof(git) / sizeof(git[0]))) != 0) ||
	    (d->tiles != NULL && (err = register_series(d, tiles, sizeof(tiles) / sizeof(tiles[0]))) != 0))
		return err;
	return d->replica != NULL ? register_series(d, replica, sizeof(replica) / sizeof(replica[0])) : 0;
}
