/*
 * Appends (queued for the committer in log_commit.c) and the reads and proofs over the
 * published state. Storage keys and tile reads are in log_store.c.
 */
#include "log_internal.h"
#include "translog/note.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

enum { SMALL_APPEND = 16 };

/* Queues n entries (and for a replica the checkpoint note of the result; `req` for the
 * commit hook) and waits for their commit. */
static int append(uint64_t *first, tl_log *log, const void *const *entries, const size_t *lens, size_t n,
	const uint8_t *note, size_t note_len, void *req)
{
	tl_hash small[SMALL_APPEND], *leaves = small;
	struct log_request r;
	size_t bytes = 0;
	int err = 0;

	assert(first != NULL && log != NULL);
	if ((n == 0 && note == NULL) || n > TL_LOG_MAX_APPEND)
		return tl_error_set(TL_E_INPUT, "a batch holds 1..%u entries, not %zu", TL_LOG_MAX_APPEND, n);
	for (size_t i = 0; i < n; i++) {
		if (lens[i] > TL_LOG_MAX_ENTRY)
			return tl_error_set(TL_E_INPUT, "entry %zu is %zu bytes, more than %u", i, lens[i],
				TL_LOG_MAX_ENTRY);
		if (entries[i] == NULL && lens[i] > 0)
			return tl_error_set(TL_E_INPUT, "entry %zu is NULL", i);
		if ((bytes += lens[i]) > TL_LOG_MAX_APPEND_BYTES)
			return tl_error_set(TL_E_INPUT, "a batch holds at most %u bytes of entries", TL_LOG_MAX_APPEND_BYTES);
	}
	if (n > SMALL_APPEND && (leaves = malloc(n * sizeof(*leaves))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	/* Hashing here spreads the leaf hashes over the appending threads. */
	for (size_t i = 0; i < n; i++)
		tl_hash_leaf(&leaves[i], entries[i], lens[i]);

	memset(&r, 0, sizeof(r));
	r.entries = entries;
	r.lens = lens;
	r.leaves = leaves;
	r.note = note;
	r.note_len = note_len;
	r.n = n;
	r.bytes = bytes;
	r.req = req;
	pthread_cond_init(&r.cond, NULL);
	pthread_mutex_lock(&log->qlock);
	if (log->failed || log->stopping) {
		err = tl_error_set(TL_E_UNAVAILABLE, "%s", log->failed ? log->failed_msg : "the log is closing");
		pthread_mutex_unlock(&log->qlock);
		goto out;
	}
	/* What `req` stands for would not ride in the commit: refuse rather than log without it. */
	if (req != NULL && !log->has_hook) {
		err = tl_error_set(TL_E_INTERNAL, "an append for the commit hook, but the log has no hook");
		pthread_mutex_unlock(&log->qlock);
		goto out;
	}
	if (log->qtail)
		log->qtail->next = &r;
	else
		log->qhead = &r;
	log->qtail = &r;
	pthread_cond_signal(&log->qcond);
	while (!r.done)
		pthread_cond_wait(&r.cond, &log->qlock);
	pthread_mutex_unlock(&log->qlock);
	if (r.err)
		err = tl_error_set(r.err, "%s", r.msg);
	else
		*first = r.first;
out:
	pthread_cond_destroy(&r.cond);
	if (leaves != small)
		free(leaves);
	return err;
}

int tl_log_append_batch(uint64_t *first, tl_log *log, const void *const *entries, const size_t *lens, size_t n)
{
	return tl_log_append_with(first, log, entries, lens, n, NULL);
}

int tl_log_append_signed(uint64_t *first, tl_log *log, const void *const *entries, const size_t *lens, size_t n,
	const uint8_t *note, size_t note_len)
{
	assert(note != NULL);
	if (log->key != NULL)
		return tl_error_set(TL_E_INPUT, "the log %s signs its own checkpoints", log->origin);
	if (note_len == 0 || note_len > TL_NOTE_MAX_SIZE)
		return tl_error_set(TL_E_INPUT, "a checkpoint note of %zu bytes", note_len);
	return append(first, log, entries, lens, n, note, note_len, NULL);
}

int tl_log_append_with(uint64_t *first, tl_log *log, const void *const *entries, const size_t *lens, size_t n,
	void *req)
{
	if (log->key == NULL)
		return tl_error_set(TL_E_UNAVAILABLE, "the log is a read-only replica of %s", log->origin);
	return append(first, log, entries, lens, n, NULL, 0, req);
}

void tl_log_set_hook(tl_log *log, const tl_log_hook *hook)
{
	pthread_mutex_lock(&log->commit_lock);
	pthread_mutex_lock(&log->qlock);
	log->has_hook = hook != NULL;
	if (hook != NULL)
		log->hook = *hook;
	pthread_mutex_unlock(&log->qlock);
	pthread_mutex_unlock(&log->commit_lock);
}

int tl_log_append(uint64_t *index, tl_log *log, const void *entry, size_t len)
{
	return tl_log_append_batch(index, log, &entry, &len, 1);
}

const char *tl_log_origin(const tl_log *log)
{
	return log->origin;
}

uint64_t tl_log_size(tl_log *log)
{
	uint64_t size;

	pthread_rwlock_rdlock(&log->lock);
	size = log->size;
	pthread_rwlock_unlock(&log->lock);
	return size;
}

int tl_log_head(uint64_t *size, tl_hash *root, tl_buf *note, tl_log *log)
{
	int err = 0;

	pthread_rwlock_rdlock(&log->lock);
	if (size)
		*size = log->size;
	if (root)
		*root = log->root;
	if (note && log->checkpoint.len == 0)
		err = tl_error_set(TL_E_UNAVAILABLE, "the replica of %s has no checkpoint yet", log->origin);
	else if (note)
		err = tl_buf_append(note, log->checkpoint.data, log->checkpoint.len);
	pthread_rwlock_unlock(&log->lock);
	return err;
}

/* Appends the first `width` hashes or entries of a full tile or bundle, by one point read. */
static int append_full(tl_buf *out, tl_log *log, const tl_tile *t)
{
	const uint8_t *v;
	size_t vlen, take;
	unsigned n;
	void *pin;
	int err;

	if ((err = tl_log__pin_full(&v, &vlen, &pin, log, t->entries, t->level, t->index)) != 0)
		return err;
	if (t->entries) {
		if ((err = tl_log__bundle_walk(&take, &n, v, vlen, t->width)) == 0 && n < t->width)
			err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: entry bundle %llu has %u entries",
				(unsigned long long)t->index, n);
	} else {
		take = (size_t)t->width * TL_HASH_SIZE;
	}
	if (!err)
		err = tl_buf_append(out, v, take);
	tl_db_release(pin);
	return err;
}

int tl_log_tile(tl_buf *out, tl_log *log, const tl_tile *t)
{
	size_t start = out->len;
	bool full = false, done = false;
	struct log_blob b;
	uint64_t size;
	unsigned have;
	int err = 0;

	if (t->width < 1 || t->width > TL_TILE_WIDTH)
		return tl_error_set(TL_E_INPUT, "tile width %u is not in 1..256", t->width);
	/* Which of three places holds the tile is decided on the published state: a tile or
	 * bundle below the rightmost is stored full (one point read, whatever width is asked);
	 * the rightmost hash tile is in memory; only the rightmost bundle is read as pieces. */
	pthread_rwlock_rdlock(&log->lock);
	size = log->size;
	have = (t->entries && t->level != 0) || t->level >= LOG_LEVELS ? 0 : tl_tile_width_at(t->level, t->index, size);
	if (have >= t->width) {
		const struct log_edge *e = &log->pub[t->level];

		if (t->entries) {
			full = t->index < size / TL_TILE_WIDTH;
		} else if (!(full = t->index < e->index)) {
			err = tl_buf_append(out, e->nodes, (size_t)t->width * TL_HASH_SIZE);
			done = true;
		}
	}
	pthread_rwlock_unlock(&log->lock);
	if (done)
		return err;
	if (have < t->width)
		return tl_error_set(TL_E_NOTFOUND, "%s %u/%llu of width %u is not in the tree of size %llu",
			t->entries ? "entry bundle" : "tile", t->level, (unsigned long long)t->index, t->width,
			(unsigned long long)size);
	if (full)
		err = append_full(out, log, t);
	else if ((err = tl_log__read_blob(out, &b, log, t->entries, t->level, t->index, t->width)) == 0 &&
		 b.units < t->width)
		err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: %s %u/%llu has %u of %u",
			t->entries ? "entry bundle" : "tile", t->level, (unsigned long long)t->index, b.units, t->width);
	if (err)
		tl_buf_truncate(out, start);
	return err;
}

int tl_log_tile_pinned(const uint8_t **data, size_t *len, void **pin, tl_log *log, const tl_tile *t)
{
	uint64_t size = tl_log_size(log);
	int err;

	/* Full in the published tree means stored full: the commit that completed it wrote it. */
	if (t->width != TL_TILE_WIDTH || t->level >= LOG_LEVELS || (t->entries && t->level != 0) ||
	    tl_tile_width_at(t->level, t->index, size) < TL_TILE_WIDTH)
		return tl_error_set(TL_E_NOTFOUND, "%s %u/%llu of width %u is not full in the tree of size %llu",
			t->entries ? "entry bundle" : "tile", t->level, (unsigned long long)t->index, t->width,
			(unsigned long long)size);
	if ((err = tl_log__pin_full(data, len, pin, log, t->entries, t->level, t->index)) != 0)
		return err;
	/* A full tile is served without the inner nodes stored after its base hashes. */
	if (!t->entries)
		*len = (size_t)TL_TILE_WIDTH * TL_HASH_SIZE;
	return 0;
}

/* Appends entry `pos` of a bundle (or of the first piece(s) of one) holding at least pos + 1. */
static int append_entry_at(tl_buf *out, const uint8_t *data, size_t len, unsigned pos, uint64_t index)
{
	tl_cursor c;
	const uint8_t *e;
	uint16_t elen;
	size_t skip;
	unsigned n;
	int err;

	if ((err = tl_log__bundle_walk(&skip, &n, data, len, pos)) != 0)
		return err;
	c = tl_cursor_make(data + skip, len - skip);
	if (n != pos || tl_cursor_u16be(&elen, &c) != 0 || tl_cursor_take(&e, &c, elen) != 0)
		return tl_error_set(TL_E_INTERNAL, "log storage is corrupt: entry %llu is missing",
			(unsigned long long)index);
	return tl_buf_append(out, e, elen);
}

/* Where entry `index` of a full bundle starts (its length prefix) and where the next one
 * starts (SIZE_MAX for the last: the bundle's end), from the stored offsets. *start is
 * SIZE_MAX if the bundle has none (written before offsets were stored): walk it then. */
static int entry_offsets(size_t *start, size_t *end, tl_log *log, uint64_t index)
{
	uint8_t key[LOG_BUNDLE_KEY_MAX];
	unsigned pos = (unsigned)(index % TL_TILE_WIDTH);
	const uint8_t *v;
	size_t vlen;
	void *pin;
	int err = tl_db_get_pinned(&v, &vlen, &pin, log->db, log->cf_meta, key,
		tl_log__offsets_key(key, index / TL_TILE_WIDTH));

	*start = *end = SIZE_MAX;
	if (err == TL_E_NOTFOUND) {
		tl_error_clear();
		return 0;
	}
	if (err)
		return tl_error_wrap(err, "log storage read failed (entry offsets)");
	if (vlen != LOG_OFFSETS_BYTES) {
		err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: the entry offsets of bundle %llu are %zu bytes",
			(unsigned long long)(index / TL_TILE_WIDTH), vlen);
	} else {
		*start = tl_load_u32be(v + 4 * pos);
		if (pos + 1 < TL_TILE_WIDTH)
			*end = tl_load_u32be(v + 4 * (pos + 1));
	}
	tl_db_release(pin);
	return err;
}

int tl_log_entry(tl_buf *out, tl_log *log, uint64_t index)
{
	uint64_t size = tl_log_size(log);
	tl_buf data = tl_buf_make(LOG_MAX_BUNDLE_BYTES);
	unsigned pos = (unsigned)(index % TL_TILE_WIDTH);
	struct log_blob b;
	const uint8_t *v;
	size_t vlen, start, end;
	void *pin;
	int err;

	if (index >= size)
		return tl_error_set(TL_E_NOTFOUND, "entry %llu is not in the log of size %llu",
			(unsigned long long)index, (unsigned long long)size);
	if (index / TL_TILE_WIDTH < size / TL_TILE_WIDTH) {
		/* A full bundle: its entry offsets, then the bundle pinned, and only the entry is
		 * copied. */
		if ((err = entry_offsets(&start, &end, log, index)) != 0)
			return err;
		if ((err = tl_log__pin_full(&v, &vlen, &pin, log, true, 0, index / TL_TILE_WIDTH)) != 0)
			return err;
		if (end == SIZE_MAX)
			end = vlen;
		if (start == SIZE_MAX)
			err = append_entry_at(out, v, vlen, pos, index);
		else if (start > end || end > vlen || end - start < 2 || tl_load_u16be(v + start) != end - start - 2)
			err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: the offsets of entry %llu do not match "
						   "its bundle", (unsigned long long)index);
		else
			err = tl_buf_append(out, v + start + 2, end - start - 2);
		tl_db_release(pin);
		return err;
	}
	/* The rightmost bundle, in pieces (or full by now): read up to the entry. */
	if ((err = tl_log__read_blob(&data, &b, log, true, 0, index / TL_TILE_WIDTH, pos + 1)) != 0)
		goto out;
	if (b.units != pos + 1) {
		err = tl_error_set(TL_E_INTERNAL, "log storage is corrupt: entry %llu is missing",
			(unsigned long long)index);
		goto out;
	}
	err = append_entry_at(out, data.data, data.len, pos, index);
out:
	tl_buf_free(&data);
	return err;
}

int tl_log_root(tl_hash *root, tl_log *log, uint64_t size)
{
	uint64_t cur;

	pthread_rwlock_rdlock(&log->lock);
	cur = log->size;
	if (size == cur)
		*root = log->root;
	pthread_rwlock_unlock(&log->lock);
	if (size > cur)
		return tl_error_set(TL_E_NOTFOUND, "tree size %llu is beyond the log's size %llu",
			(unsigned long long)size, (unsigned long long)cur);
	if (size == cur)
		return 0;
	return tl_root_at(root, size, tl_log__node, log);
}

int tl_log_prove_inclusion(tl_hash *hashes, size_t *n, tl_log *log, uint64_t index, uint64_t size)
{
	uint64_t cur = tl_log_size(log);

	if (size > cur)
		return tl_error_set(TL_E_NOTFOUND, "tree size %llu is beyond the log's size %llu",
			(unsigned long long)size, (unsigned long long)cur);
	if (index >= size)
		return tl_error_set(TL_E_INPUT, "leaf %llu is not in a tree of size %llu", (unsigned long long)index,
			(unsigned long long)size);
	return tl_proof_inclusion(hashes, n, index, size, tl_log__node, log);
}

int tl_log_prove_consistency(tl_hash *hashes, size_t *n, tl_log *log, uint64_t old_size, uint64_t size)
{
	uint64_t cur = tl_log_size(log);

	if (size > cur)
		return tl_error_set(TL_E_NOTFOUND, "tree size %llu is beyond the log's size %llu",
			(unsigned long long)size, (unsigned long long)cur);
	if (old_size > size)
		return tl_error_set(TL_E_INPUT, "old size %llu is above size %llu", (unsigned long long)old_size,
			(unsigned long long)size);
	return tl_proof_consistency(hashes, n, old_size, size, tl_log__node, log);
}

int tl_log_node(tl_hash *out, tl_log *log, unsigned level, uint64_t index)
{
	if (level >= TL_TILE_HEIGHT * LOG_LEVELS || index > (UINT64_MAX >> level))
		return tl_error_set(TL_E_INPUT, "node %u/%llu is outside any 64-bit tree", level,
			(unsigned long long)index);
	return tl_log__node(out, log, level, index);
}

void tl_log_stats(struct tl_log_stats *out, tl_log *log)
{
	pthread_rwlock_rdlock(&log->lock);
	*out = log->stats;
	pthread_rwlock_unlock(&log->lock);
}
