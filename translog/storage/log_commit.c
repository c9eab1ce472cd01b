/*
 * Group commit. Appenders queue requests; the committer thread takes what is queued (up to
 * max_batch entries, whole requests), sequences the entries, and writes in ONE synced
 * RocksDB write batch:
 *   - every entry bundle completed by the batch (whole, with the offsets of its entries) and a
 *     piece holding the entries the batch added to the rightmost bundle,
 *   - every hash tile completed by the batch (whole, with its inner nodes) and, per level, a
 *     piece holding the hashes the batch added to the rightmost tile,
 *   - the new signed checkpoint,
 *   - and whatever the log's hook (tl_log_set_hook) puts in for each request.
 * Pieces of a tile or bundle are deleted in the batch that writes it whole. Only after the
 * write returns does the committer publish the new state to readers and wake the appenders.
 */
#include "log_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void delete_tile_pieces(tl_log *log, unsigned level, uint64_t index, const log_pieces *p)
{
	uint8_t key[LOG_TILE_KEY_MAX];

	for (unsigned s = 0; s < TL_TILE_WIDTH; s++)
		if (log_pieces_has(p, s))
			rocksdb_writebatch_delete_cf(log->wb, log->cf_tiles, (const char *)key,
				tl_log__tile_key(key, level, index, (int)s));
}

/* Tile (level, index) is complete: write it whole, base hashes first, then its inner nodes. */
static void finish_tile(tl_log *log, unsigned level, uint64_t index)
{
	struct log_edge *e = &log->stage[level];
	uint8_t key[LOG_TILE_KEY_MAX];

	if (e->index != index || e->width != TL_TILE_WIDTH) {
		log->batch_err = tl_error_set(TL_E_INTERNAL, "tile %u/%llu finished at width %u (edge at %llu)",
			level, (unsigned long long)index, e->width, (unsigned long long)e->index);
		return;
	}
	rocksdb_writebatch_put_cf(log->wb, log->cf_tiles, (const char *)key, tl_log__tile_key(key, level, index, -1),
		(const char *)e->nodes, sizeof(e->nodes));
	delete_tile_pieces(log, level, index, &e->pieces);
	e->index = index + 1;
	e->width = 0;
	memset(&e->pieces, 0, sizeof(e->pieces));
	log->batch_from[level] = 0;
}

/* Called by the frontier for every node that becomes complete, lowest level first: a node
 * at tree level 8(L+1) is the hash of the level-L tile below it, which is then complete. */
static void on_node(void *ctx, unsigned level, uint64_t index, const tl_hash *hash)
{
	tl_log *log = ctx;
	unsigned tl, sub, pos;
	uint64_t ti;
	struct log_edge *e;

	if (log->batch_err || level >= TL_TILE_HEIGHT * LOG_LEVELS)
		return;
	tl_tile_locate(&tl, &ti, &sub, &pos, level, index);
	if (sub == 0 && tl > 0) {
		finish_tile(log, tl - 1, index);
		if (log->batch_err)
			return;
	}
	e = &log->stage[tl];
	if (e->index != ti || (sub == 0 && pos > e->width)) {
		log->batch_err = tl_error_set(TL_E_INTERNAL, "node %u/%llu does not extend tile %u/%llu of width %u",
			level, (unsigned long long)index, tl, (unsigned long long)e->index, e->width);
		return;
	}
	e->nodes[tl_tile_node_slot(sub, pos)] = *hash;
	if (sub == 0 && pos == e->width)
		e->width = pos + 1;
}

static void delete_bundle_pieces(tl_log *log, uint64_t index, const log_pieces *p)
{
	uint8_t key[LOG_BUNDLE_KEY_MAX];

	for (unsigned s = 0; s < TL_TILE_WIDTH; s++)
		if (log_pieces_has(p, s))
			rocksdb_writebatch_delete_cf(log->wb, log->cf_entries, (const char *)key,
				tl_log__bundle_key(key, index, (int)s));
}

/* Puts where each entry of the bundle just completed starts, so that reading one entry of
 * it does not walk the length prefixes before it (docs/storage.md, "Reading one entry"). */
static void put_offsets(tl_log *log)
{
	uint8_t key[LOG_BUNDLE_KEY_MAX], offsets[LOG_OFFSETS_BYTES];
	size_t off = 0;

	for (unsigned i = 0; i < TL_TILE_WIDTH; i++) {
		tl_store_u32be(offsets + 4 * i, (uint32_t)off);
		off += 2 + (size_t)tl_load_u16be(log->bundle.buf.data + off);
	}
	rocksdb_writebatch_put_cf(log->wb, log->cf_meta, (const char *)key, tl_log__offsets_key(key, log->bundle.index),
		(const char *)offsets, sizeof(offsets));
}

static int add_entry(tl_log *log, const void *entry, size_t len, const tl_hash *leaf)
{
	uint8_t key[LOG_BUNDLE_KEY_MAX];
	int err;

	if ((err = tl_buf_append_u16be(&log->bundle.buf, (uint16_t)len)) != 0 ||
	    (err = tl_buf_append(&log->bundle.buf, entry, len)) != 0)
		return err;
	if (++log->bundle.count == TL_TILE_WIDTH) {
		rocksdb_writebatch_put_cf(log->wb, log->cf_entries, (const char *)key,
			tl_log__bundle_key(key, log->bundle.index, -1), (const char *)log->bundle.buf.data,
			log->bundle.buf.len);
		put_offsets(log);
		delete_bundle_pieces(log, log->bundle.index, &log->bundle.pieces);
		log->bundle.index++;
		log->bundle.count = 0;
		tl_buf_reset(&log->bundle.buf);
		memset(&log->bundle.pieces, 0, sizeof(log->bundle.pieces));
		log->bundle.from = 0;
		log->bundle.from_off = 0;
	}
	tl_frontier_append(&log->frontier, leaf, on_node, log);
	return log->batch_err;
}

/* Puts the pieces the batch added to the rightmost bundle and tiles. */
static void put_pieces(tl_log *log)
{
	uint8_t key[LOG_TILE_KEY_MAX];

	if (log->bundle.count > log->bundle.from) {
		rocksdb_writebatch_put_cf(log->wb, log->cf_entries, (const char *)key,
			tl_log__bundle_key(key, log->bundle.index, (int)log->bundle.from),
			(const char *)log->bundle.buf.data + log->bundle.from_off,
			log->bundle.buf.len - log->bundle.from_off);
		log_pieces_set(&log->bundle.pieces, log->bundle.from);
	}
	for (unsigned l = 0; l < LOG_LEVELS; l++) {
		struct log_edge *e = &log->stage[l];
		unsigned from = log->batch_from[l];

		if (e->width <= from)
			continue;
		rocksdb_writebatch_put_cf(log->wb, log->cf_tiles, (const char *)key,
			tl_log__tile_key(key, l, e->index, (int)from), (const char *)&e->nodes[from],
			(size_t)(e->width - from) * TL_HASH_SIZE);
		log_pieces_set(&e->pieces, from);
	}
}

/* A replica's commit: the origin's signed checkpoint must be for exactly the tree the
 * committer has built. */
static int check_note(const tl_log *log, const uint8_t *note, size_t len, const tl_hash *root)
{
	tl_checkpoint cp;
	int err;

	if ((err = tl_checkpoint_open(&cp, note, len, log->verifier)) != 0)
		return tl_error_wrap(err, "the checkpoint of replicated size %llu", (unsigned long long)log->frontier.size);
	if (cp.size != log->frontier.size || !tl_hash_equal(&cp.root, root))
		return tl_error_set(TL_E_CONFLICT,
			"the origin's checkpoint (size %llu) is not the tree of the replicated entries (size %llu)",
			(unsigned long long)cp.size, (unsigned long long)log->frontier.size);
	return 0;
}

/* Puts the checkpoint of the committer's frontier: signed with the log's key, or for a
 * replica the origin's note (`note`, checked against the tree). */
static int put_head(tl_log *log, tl_hash *root, const uint8_t *note, size_t note_len)
{
	tl_checkpoint cp;
	int err;

	memset(&cp, 0, sizeof(cp));
	memcpy(cp.origin, log->origin, sizeof(cp.origin));
	cp.size = log->frontier.size;
	tl_frontier_root(&log->frontier, root);
	cp.root = *root;
	tl_buf_reset(&log->note);
	if (note != NULL) {
		if ((err = check_note(log, note, note_len, root)) != 0 ||
		    (err = tl_buf_append(&log->note, note, note_len)) != 0)
			return err;
	} else if ((err = tl_checkpoint_sign(&log->note, &cp, log->key)) != 0) {
		return tl_error_wrap(err, "signing checkpoint %llu", (unsigned long long)cp.size);
	}
	rocksdb_writebatch_put_cf(log->wb, log->cf_meta, tl_log__meta_checkpoint, strlen(tl_log__meta_checkpoint),
		(const char *)log->note.data, log->note.len);
	return 0;
}

/* Makes the committer's state the one readers see. */
const uint64_t tl_log_commit_bounds_us[TL_LOG_COMMIT_BUCKETS] = { 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
	250000, 500000, 1000000, 2500000 };
const uint64_t tl_log_batch_bounds[TL_LOG_BATCH_BUCKETS] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024 };

static uint64_t unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The histogram bucket of v: the first bound v does not exceed, or n (above every bound). */
static size_t bucket_of(const uint64_t *bounds, size_t n, uint64_t v)
{
	size_t i = 0;

	while (i < n && v > bounds[i])
		i++;
	return i;
}

static void publish(tl_log *log, const tl_hash *root, size_t entries, uint64_t started)
{
	uint64_t took = now_us() - started;

	pthread_rwlock_wrlock(&log->lock);
	log->size = log->frontier.size;
	log->root = *root;
	tl_buf_reset(&log->checkpoint);
	{
		tl_buf t = log->checkpoint;

		log->checkpoint = log->note;
		log->note = t;
	}
	for (unsigned l = 0; l < LOG_LEVELS; l++)
		tl_log__edge_copy(&log->pub[l], &log->stage[l]);
	log->stats.size = log->size;
	log->stats.appends += entries;
	log->stats.commits++;
	log->stats.last_batch = entries;
	log->stats.last_commit_us = took;
	log->stats.commit_us_total += took;
	log->stats.last_commit_unix_ms = unix_ms();
	log->stats.commit_us_hist[bucket_of(tl_log_commit_bounds_us, TL_LOG_COMMIT_BUCKETS, took)]++;
	log->stats.batch_hist[bucket_of(tl_log_batch_bounds, TL_LOG_BATCH_BUCKETS, entries)]++;
	pthread_rwlock_unlock(&log->lock);
}

static void begin_batch(tl_log *log)
{
	rocksdb_writebatch_clear(log->wb);
	log->batch_err = 0;
	for (unsigned l = 0; l < LOG_LEVELS; l++)
		log->batch_from[l] = log->stage[l].width;
	log->bundle.from = log->bundle.count;
	log->bundle.from_off = log->bundle.buf.len;
}

int tl_log__commit_empty(tl_log *log)
{
	tl_hash root;
	int err;

	begin_batch(log);
	if ((err = put_head(log, &root, NULL, 0)) != 0 || (err = tl_db_write(log->db, log->wb)) != 0)
		return err;
	publish(log, &root, 0, now_us());
	log->stats.commits = 0;
	memset(log->stats.commit_us_hist, 0, sizeof(log->stats.commit_us_hist));
	memset(log->stats.batch_hist, 0, sizeof(log->stats.batch_hist));
	return 0;
}

/* Sequences and durably writes the requests of one batch, with what the hook (if any) adds
 * for each. On failure the committer's state is ahead of the database, so the caller stops
 * the log. */
static int commit(tl_log *log, const tl_log_hook *hook, struct log_request *reqs, size_t *entries)
{
	uint64_t started = now_us();
	tl_hash root;
	int err;

	*entries = 0;
	begin_batch(log);
	for (struct log_request *r = reqs; r != NULL; r = r->next) {
		r->first = log->frontier.size;
		for (size_t i = 0; i < r->n; i++)
			if ((err = add_entry(log, r->entries[i], r->lens[i], &r->leaves[i])) != 0)
				return err;
		if (hook != NULL && (err = hook->stage(hook->ctx, log->wb, r->first, r->entries, r->lens, r->n, r->req)) != 0)
			return tl_error_wrap(err, "the commit hook");
		*entries += r->n;
	}
	put_pieces(log);
	if ((err = put_head(log, &root, reqs->note, reqs->note_len)) != 0 || (err = tl_db_write(log->db, log->wb)) != 0)
		return err;
	publish(log, &root, *entries, started);
	return 0;
}

/* commit(), and the hook's end, under commit_lock (see tl_log_set_hook). */
static int commit_hooked(tl_log *log, struct log_request *reqs, size_t *entries)
{
	tl_log_hook hook;
	bool hooked;
	int err;

	pthread_mutex_lock(&log->commit_lock);
	hook = log->hook;
	hooked = log->has_hook;
	err = commit(log, hooked ? &hook : NULL, reqs, entries);
	if (hooked) {
		char msg[LOG_MSG_MAX];

		/* end() may set messages of its own: the commit's stays the one reported. */
		snprintf(msg, sizeof(msg), "%s", err ? tl_error_message() : "");
		hook.end(hook.ctx, err);
		if (err)
			tl_error_set(err, "%s", msg);
	}
	pthread_mutex_unlock(&log->commit_lock);
	return err;
}

static void complete(struct log_request *reqs, int err, const char *msg)
{
	struct log_request *next;

	for (struct log_request *r = reqs; r != NULL; r = next) {
		next = r->next;
		r->err = err;
		if (err)
			snprintf(r->msg, sizeof(r->msg), "%s", msg);
		r->done = true;
		pthread_cond_signal(&r->cond);
	}
}

void *tl_log__committer_main(void *arg)
{
	tl_log *log = arg;

	pthread_mutex_lock(&log->qlock);
	for (;;) {
		struct log_request *batch, *last;
		size_t n, bytes, entries;
		int err;

		while (log->qhead == NULL && !log->stopping)
			pthread_cond_wait(&log->qcond, &log->qlock);
		if (log->qhead == NULL)
			break;
		if (log->failed) {
			complete(log->qhead, TL_E_UNAVAILABLE, log->failed_msg);
			log->qhead = log->qtail = NULL;
			continue;
		}
		/* Whole requests, at least one, up to max_batch entries and a bounded write batch. A
		 * replica's request comes with the checkpoint of its own result: it goes alone. */
		batch = last = log->qhead;
		n = batch->n;
		bytes = batch->bytes;
		while (last->next != NULL && batch->note == NULL && last->next->note == NULL &&
		       n + last->next->n <= log->max_batch &&
		       bytes + last->next->bytes <= TL_LOG_MAX_APPEND_BYTES) {
			last = last->next;
			n += last->n;
			bytes += last->bytes;
		}
		log->qhead = last->next;
		if (log->qhead == NULL)
			log->qtail = NULL;
		last->next = NULL;
		if (n >= TL_MAX_TREE_SIZE - log->frontier.size) {
			complete(batch, TL_E_INPUT, "the log is full: it holds at most 2^63 - 1 entries");
			continue;
		}
		pthread_mutex_unlock(&log->qlock);

		err = commit_hooked(log, batch, &entries);

		pthread_mutex_lock(&log->qlock);
		if (err) {
			log->failed = err;
			snprintf(log->failed_msg, sizeof(log->failed_msg), "log stopped after a failed commit: %s",
				tl_error_message());
			pthread_rwlock_wrlock(&log->lock);
			log->stats.failed_commits = 1;
			pthread_rwlock_unlock(&log->lock);
		}
		complete(batch, err, tl_error_message());
	}
	pthread_mutex_unlock(&log->qlock);
	return NULL;
}
