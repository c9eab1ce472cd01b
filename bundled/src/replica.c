/*
 * The read replica's follower: see bundled/replica.h. One thread runs the rounds; the status
 * is read by the daemon's /metrics and /healthz under `lock`.
 */
#include "bundled/replica.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bundled/entry.h"
#include "bundled/evidence.h"
#include "bundled/watch.h"
#include "translog/follow.h"
#include "ticker.h"
#include "unixfs.h"

#define DEFAULT_INTERVAL_MS 1000u
#define EVIDENCE_PREFIX "primary"
/* A checkpoint note as the log stores it, with room for cosignatures. */
#define MAX_NOTE (64u << 10)

struct bd_replica {
	bd_replica_options opts;
	bd_client *client;
	tl_follow_config follow;
	char marker[BD_EVIDENCE_PATH_MAX]; /* the evidence file whose presence means halted */

	pthread_mutex_t lock; /* status */
	bd_replica_status status;
	struct bd__ticker ticker;
	bd_watch *watch;      /* with watch_primary, once started */
	pthread_t watch_thread;
	tl_log_hook hook;     /* the registry rides in the commits of the primary's entries */
};

/* The entries a round takes, length-prefixed as in an entry bundle, with their offsets. */
struct batch {
	tl_buf bytes;
	const void **entries;
	size_t *lens;
	size_t n, cap;
};

static uint64_t unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void set_status_error(bd_replica *r, bool halted)
{
	pthread_mutex_lock(&r->lock);
	snprintf(r->status.error, sizeof(r->status.error), "%s", tl_error_message());
	r->status.halted = r->status.halted || halted;
	pthread_mutex_unlock(&r->lock);
}

/* The log's commit hook, as the primary's publisher installs it (publish.c) but for the
 * registry alone: a round's entries and the registry's state after them are one write, so
 * once a reader sees the replica's new size, the versions in it are known too (a registry
 * synced after the append left a moment in which /checkpoint had a version that the domain
 * routes answered 404 for). The blocks are stored before the append (fetch_versions). */
static int hook_stage(void *ctx, rocksdb_writebatch_t *wb, uint64_t first, const void *const *entries,
	const size_t *lens, size_t n, void *req)
{
	bd_replica *r = ctx;

	(void)req;
	return bd_registry_stage(r->opts.registry, r->opts.log, wb, first, entries, lens, n);
}

static void hook_end(void *ctx, int err)
{
	bd_replica *r = ctx;

	bd_registry_end(r->opts.registry, err);
}

int bd_replica_new(bd_replica **out, const bd_replica_options *opts)
{
	bd_replica *r = calloc(1, sizeof(*r));
	struct stat st;
	int err;

	if (r == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	r->opts = *opts;
	pthread_mutex_init(&r->lock, NULL);
	if ((err = bd_client_open(&r->client, &opts->primary)) != 0) {
		bd_replica_free(r);
		return err;
	}
	r->follow = (tl_follow_config){ .transport = { bd_client_fetch, r->client }, .log_key = opts->log_key };
	snprintf(r->marker, sizeof(r->marker), "%s/" EVIDENCE_PREFIX "-fork.txt", opts->evidence_dir);
	r->hook = (tl_log_hook){ hook_stage, hook_end, r };
	tl_log_set_hook(opts->log, &r->hook);
	r->status.size = tl_log_size(opts->log);
	r->status.primary_size = r->status.size;
	if (stat(r->marker, &st) == 0) {
		r->status.halted = true;
		snprintf(r->status.error, sizeof(r->status.error), "the primary %s forked: evidence in %s",
			bd_client_url(r->client), opts->evidence_dir);
	}
	*out = r;
	return 0;
}

const char *bd_replica_primary(const bd_replica *r)
{
	return bd_client_url(r->client);
}

/* The checkpoint the replica stores, verified again with the key: NULL-equivalent (0 and
 * *have false) for a replica that has none yet. */
static int stored_checkpoint(tl_checkpoint *cp, bool *have, tl_buf *note, bd_replica *r)
{
	int err = tl_log_head(NULL, NULL, note, r->opts.log);

	*have = false;
	if (err == TL_E_UNAVAILABLE)
		return 0;
	if (err != 0)
		return err;
	if ((err = tl_checkpoint_open(cp, note->data, note->len, r->opts.log_key)) != 0)
		return tl_error_wrap(err, "the replica's stored checkpoint");
	*have = true;
	return 0;
}

static int halt(bd_replica *r, const tl_buf *old_note, const tl_buf *new_note, const tl_follow_fork *fork)
{
	char paths[BD_EVIDENCE_FILES][BD_EVIDENCE_PATH_MAX];
	size_t n;
	int err;

	err = bd_evidence_write(paths, &n, r->opts.evidence_dir, EVIDENCE_PREFIX, old_note->data, old_note->len,
		new_note->data, new_note->len, fork);
	if (err != 0)
		tl_error_wrap(err, "the primary %s %s, and its evidence could not be saved", bd_client_url(r->client),
			fork->rollback ? "rolled back" : "forked");
	else
		tl_error_set(TL_E_CONFLICT, "the primary %s %s (size %llu to %llu): replica halted, evidence in %s",
			bd_client_url(r->client), fork->rollback ? "rolled back" : "forked",
			(unsigned long long)fork->old.size, (unsigned long long)fork->new.size, r->opts.evidence_dir);
	set_status_error(r, true);
	return TL_E_CONFLICT;
}

static int take_entry(void *ctx, uint64_t index, const uint8_t *entry, size_t len)
{
	struct batch *b = ctx;

	(void)index;
	if (b->n == b->cap || b->bytes.len + len > TL_LOG_MAX_APPEND_BYTES)
		return tl_error_set(TL_E_INPUT, "more than %u entries or %u bytes in one round", TL_LOG_MAX_APPEND,
			TL_LOG_MAX_APPEND_BYTES);
	b->lens[b->n++] = len;
	return tl_buf_append(&b->bytes, entry, len);
}

/* Fetches the DAG under `cid` from the primary, children before their parent, so that a
 * stored parent always has all of its blocks. */
static int fetch_dag(bd_replica *r, const bd_cid *cid, unsigned depth, tl_buf *block)
{
	bd_unixfs__node node;
	bd_cid *links = NULL;
	size_t nlinks = 0;
	int err;

	if ((err = bd_blockstore_has(r->opts.blocks, cid)) != 0)
		return err < 0 ? err : 0;
	if (depth > BD_CAT_MAX_DEPTH)
		return tl_error_set(TL_E_INPUT, "a DAG deeper than %d levels", BD_CAT_MAX_DEPTH);
	tl_buf_reset(block);
	if ((err = bd_client_block(block, r->client, cid)) != 0)
		return err;
	if (cid->codec == BD_CODEC_DAG_PB) {
		if ((err = bd_unixfs__read_node(&node, block->data, block->len)) != 0)
			return err;
		nlinks = node.nlinks;
		links = node.links;
		node.links = NULL;
		bd_unixfs__node_free(&node);
		if (nlinks > 0) {
			/* The children reuse the buffer: keep this block aside. */
			tl_buf mine = tl_buf_make(block->cap);

			if ((err = tl_buf_append(&mine, block->data, block->len)) == 0)
				for (size_t i = 0; i < nlinks && err == 0; i++)
					err = fetch_dag(r, &links[i], depth + 1, block);
			if (err == 0)
				err = bd_blockstore_put(r->opts.blocks, cid, mine.data, mine.len);
			tl_buf_free(&mine);
			free(links);
			return err;
		}
		free(links);
	} else if (cid->codec != BD_CODEC_RAW) {
		return tl_error_set(TL_E_INPUT, "a block of codec 0x%llx", (unsigned long long)cid->codec);
	}
	return bd_blockstore_put(r->opts.blocks, cid, block->data, block->len);
}

/* A version's blocks, checked against what its entry commits to. */
static int fetch_version(bd_replica *r, const bd_entry *e, tl_buf *block)
{
	bd_cid root;
	tl_buf content = tl_buf_make(e->size);
	tl_hash digest;
	int err;

	if ((err = bd_cid_parse(&root, e->cid, strlen(e->cid))) != 0 || (err = fetch_dag(r, &root, 0, block)) != 0 ||
	    (err = bd_blockstore_cat(&content, r->opts.blocks, &root)) != 0)
		goto out;
	tl_sha256(&digest, content.data, content.len);
	if (content.len != e->size || !tl_hash_equal(&digest, &e->sha256))
		err = tl_error_set(TL_E_UNAUTHORIZED, "the blocks of %s are not the %llu bytes its entry commits to",
			e->cid, (unsigned long long)e->size);
out:
	tl_buf_free(&content);
	return err == 0 ? 0 : tl_error_wrap(err, "%s version %llu", e->domain, (unsigned long long)e->sequence);
}

/* Stores the blocks of every version among the entries. */
static int fetch_versions(bd_replica *r, const struct batch *b)
{
	bd_entry *e = malloc(sizeof(*e));
	tl_buf block = tl_buf_make(BD_CLIENT_MAX_BLOCK);
	int err = 0;

	if (e == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	for (size_t i = 0; i < b->n && err == 0; i++) {
		/* An entry the registry cannot read is the registry's to skip, as on the primary. */
		if (bd_entry_parse(e, b->entries[i], b->lens[i]) != 0 || e->kind != BD_ENTRY_BUNDLE)
			continue;
		err = fetch_version(r, e, &block);
	}
	tl_buf_free(&block);
	free(e);
	return err;
}

/* Reads entries [have, cp->size) and stores them with the primary's note. */
static int catch_up(bd_replica *r, const tl_checkpoint *cp, const tl_buf *note, uint64_t have)
{
	struct batch b = { .bytes = tl_buf_make(TL_LOG_MAX_APPEND_BYTES) };
	uint64_t gap = cp->size - have, first;
	size_t off = 0;
	int err;

	if (gap > TL_LOG_MAX_APPEND)
		return tl_error_set(TL_E_INPUT,
			"the primary is %llu entries ahead, more than a round takes (%u): seed the replica from a backup",
			(unsigned long long)gap, TL_LOG_MAX_APPEND);
	b.cap = (size_t)gap;
	if (gap > 0 && ((b.entries = calloc(b.cap, sizeof(*b.entries))) == NULL ||
			       (b.lens = calloc(b.cap, sizeof(*b.lens))) == NULL)) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = tl_follow_entries(&r->follow, cp, have, gap, take_entry, &b)) != 0)
		goto out;
	for (size_t i = 0; i < b.n; i++) {
		b.entries[i] = b.bytes.data + off;
		off += b.lens[i];
	}
	if ((err = fetch_versions(r, &b)) != 0 ||
	    (err = tl_log_append_signed(&first, r->opts.log, b.entries, b.lens, b.n, note->data, note->len)) != 0)
		goto out;
	if (b.n > 0 && r->opts.on_appended != NULL)
		r->opts.on_appended(r->opts.ctx, first, b.n, cp->size);
out:
	free(b.entries);
	free(b.lens);
	tl_buf_free(&b.bytes);
	return err;
}

int bd_replica_step(bd_replica *r)
{
	tl_buf old_note = tl_buf_make(MAX_NOTE), note = tl_buf_make(MAX_NOTE);
	tl_checkpoint old, cp;
	tl_follow_fork *fork = calloc(1, sizeof(*fork));
	bool have;
	int err;

	pthread_mutex_lock(&r->lock);
	r->status.rounds++;
	have = r->status.halted;
	pthread_mutex_unlock(&r->lock);
	if (have) {
		err = tl_error_set(TL_E_CONFLICT, "replica halted: the primary %s forked; evidence in %s",
			bd_client_url(r->client), r->opts.evidence_dir);
		goto out;
	}
	if (fork == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	if ((err = stored_checkpoint(&old, &have, &old_note, r)) != 0)
		goto out;
	err = tl_follow_update(&cp, &note, fork, &r->follow, have ? &old : NULL);
	if (err == TL_E_CONFLICT) {
		err = halt(r, &old_note, &note, fork);
		goto out;
	}
	if (err != 0)
		goto out;
	pthread_mutex_lock(&r->lock);
	r->status.primary_size = cp.size;
	if (have && cp.size > old.size && r->status.behind_since_unix_ms == 0)
		r->status.behind_since_unix_ms = unix_ms();
	pthread_mutex_unlock(&r->lock);
	/* Same tree, same note: nothing to do; same tree, new note (cosignatures): store it. */
	if (!have || cp.size > old.size || old_note.len != note.len || memcmp(old_note.data, note.data, note.len) != 0)
		err = catch_up(r, &cp, &note, have ? old.size : 0);
	if (err == 0) {
		pthread_mutex_lock(&r->lock);
		r->status.size = cp.size;
		r->status.behind_since_unix_ms = 0;
		r->status.last_sync_unix_ms = unix_ms();
		r->status.error[0] = '\0';
		pthread_mutex_unlock(&r->lock);
	}
out:
	if (err != 0) {
		pthread_mutex_lock(&r->lock);
		r->status.failures++;
		pthread_mutex_unlock(&r->lock);
		if (err != TL_E_CONFLICT)
			set_status_error(r, false);
	}
	free(fork);
	tl_buf_free(&old_note);
	tl_buf_free(&note);
	return err;
}

static void round_(void *arg)
{
	bd_replica *r = arg;
	int err = bd_replica_step(r); /* the status keeps what went wrong; the next round retries */

	if (r->opts.on_round != NULL) {
		bd_replica_status st;

		bd_replica_get_status(&st, r);
		r->opts.on_round(r->opts.ctx, err, &st);
	}
}

/* An event of the primary: a round now. What it says is not used: the round verifies. */
static int on_event(void *ctx, const bd_watch_event *ev)
{
	(void)ev;
	bd__ticker_kick(&((bd_replica *)ctx)->ticker);
	return 0;
}

/* A new connection may follow missed events: a round now too. */
static void on_watch_state(void *ctx, bool connected, const char *why)
{
	bd_replica *r = ctx;

	if (connected)
		bd__ticker_kick(&r->ticker);
	if (r->opts.on_watch != NULL)
		r->opts.on_watch(r->opts.ctx, connected, why);
}

static void *watch_main(void *arg)
{
	bd_replica *r = arg;

	/* Busy answers and broken connections are retried inside; a refusal for good (a primary
	 * without the watch) ends it, and the interval alone goes on. */
	if (bd_watch_run(r->watch) != 0 && r->opts.on_watch != NULL)
		r->opts.on_watch(r->opts.ctx, false, tl_error_message());
	return NULL;
}

static int start_watch(bd_replica *r)
{
	static const char *const all[] = { BD_WATCH_ALL_DOMAINS };
	bd_watch_options o = { .http = r->opts.primary, .domains = all, .n_domains = 1, .on_event = on_event,
		.on_state = on_watch_state, .ctx = r };
	int err;

	o.http.name = "primary";
	if ((err = bd_watch_new(&r->watch, &o)) != 0)
		return err;
	if (pthread_create(&r->watch_thread, NULL, watch_main, r) != 0) {
		bd_watch_free(r->watch);
		r->watch = NULL;
		return tl_error_set(TL_E_INTERNAL, "cannot start the replica's watch thread");
	}
	return 0;
}

int bd_replica_start(bd_replica *r)
{
	int err = bd__ticker_start(&r->ticker, r->opts.interval_ms ? r->opts.interval_ms : DEFAULT_INTERVAL_MS, round_, r);

	if (err == 0 && r->opts.watch_primary && (err = start_watch(r)) != 0)
		bd__ticker_stop(&r->ticker);
	return err;
}

void bd_replica_stop(bd_replica *r)
{
	if (r == NULL)
		return;
	/* The watch first: its events kick the ticker. */
	if (r->watch != NULL) {
		bd_watch_stop(r->watch);
		pthread_join(r->watch_thread, NULL);
		bd_watch_free(r->watch);
		r->watch = NULL;
	}
	bd__ticker_stop(&r->ticker);
}

void bd_replica_get_status(bd_replica_status *out, bd_replica *r)
{
	pthread_mutex_lock(&r->lock);
	*out = r->status;
	pthread_mutex_unlock(&r->lock);
}

void bd_replica_free(bd_replica *r)
{
	if (r == NULL)
		return;
	bd_replica_stop(r);
	if (r->hook.stage != NULL)
		tl_log_set_hook(r->opts.log, NULL);
	bd_client_close(r->client);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
