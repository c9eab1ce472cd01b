#include "log_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merkle_ref.h"
#include "translog/tile.h"

size_t lc_make_entry(char *buf, size_t cap, uint32_t run, uint32_t seq)
{
	size_t len = (size_t)snprintf(buf, cap, "run %u seq %u ", run, seq);
	size_t pad = (seq * 2654435761u) % 400;

	for (size_t i = 0; i < pad && len + 1 < cap; i++)
		buf[len++] = (char)('a' + (seq + i) % 26);
	return len;
}

int lc_append_batch(struct lc_ack *acks, tl_log *log, uint32_t run, uint32_t *seq, size_t n)
{
	static _Thread_local char bufs[LC_MAX_BATCH][512];
	const void *ptrs[LC_MAX_BATCH];
	size_t lens[LC_MAX_BATCH];
	uint64_t first;

	if (n == 0 || n > LC_MAX_BATCH)
		return -1;
	for (size_t k = 0; k < n; k++) {
		lens[k] = lc_make_entry(bufs[k], sizeof(bufs[k]), run, *seq + (uint32_t)k);
		ptrs[k] = bufs[k];
	}
	if (tl_log_append_batch(&first, log, ptrs, lens, n) != 0) {
		fprintf(stderr, "append: %s\n", tl_error_message());
		return -1;
	}
	for (size_t k = 0; k < n; k++)
		acks[k] = (struct lc_ack){ first + k, run, *seq + (uint32_t)k };
	*seq += (uint32_t)n;
	return 0;
}

#define CHECK(cond, ...)                                   \
	do {                                               \
		if (!(cond)) {                             \
			fprintf(stderr, "log check: " __VA_ARGS__); \
			fprintf(stderr, "\n");             \
			goto out;                          \
		}                                          \
	} while (0)

int lc_check_log(uint64_t *size_out, tl_log *log, const tl_verifier *v, const struct lc_ack *acks, size_t nacks)
{
	tl_buf note = tl_buf_make(1 << 16), bundle = tl_buf_make(1 << 25), e = tl_buf_make(1 << 17);
	tl_checkpoint cp;
	uint64_t size = 0;
	tl_hash root, want, *leaves = NULL;
	char buf[512];
	int err = -1;

	CHECK(tl_log_head(&size, &root, &note, log) == 0, "head: %s", tl_error_message());
	CHECK(tl_checkpoint_open(&cp, note.data, note.len, v) == 0, "checkpoint: %s", tl_error_message());
	CHECK(cp.size == size && tl_hash_equal(&cp.root, &root), "checkpoint is not the head");

	/* The tree recomputed from the stored entry bundles. */
	CHECK((leaves = malloc((size + 1) * sizeof(*leaves))) != NULL, "out of memory");
	for (uint64_t n = 0; n * 256 < size; n++) {
		tl_tile t = { .entries = true, .index = n, .width = tl_tile_width_at(0, n, size) };
		tl_cursor c;

		tl_buf_reset(&bundle);
		CHECK(tl_log_tile(&bundle, log, &t) == 0, "bundle %llu: %s", (unsigned long long)n, tl_error_message());
		c = tl_cursor_make(bundle.data, bundle.len);
		for (unsigned i = 0; i < t.width; i++) {
			uint16_t len;
			const uint8_t *p;

			CHECK(tl_cursor_u16be(&len, &c) == 0 && tl_cursor_take(&p, &c, len) == 0, "bundle %llu short",
				(unsigned long long)n);
			tl_hash_leaf(&leaves[n * 256 + i], p, len);
		}
		CHECK(tl_cursor_left(&c) == 0, "bundle %llu long", (unsigned long long)n);
	}
	ref_mth_of_leaves(&want, leaves, size);
	CHECK(tl_hash_equal(&want, &cp.root), "checkpoint root is not the root of the stored entries (size %llu)",
		(unsigned long long)size);

	for (size_t i = 0; i < nacks; i++) {
		size_t len = lc_make_entry(buf, sizeof(buf), acks[i].run, acks[i].seq);

		CHECK(acks[i].index < size, "acknowledged entry %llu lost (size %llu)", (unsigned long long)acks[i].index,
			(unsigned long long)size);
		tl_buf_reset(&e);
		CHECK(tl_log_entry(&e, log, acks[i].index) == 0, "entry %llu: %s", (unsigned long long)acks[i].index,
			tl_error_message());
		CHECK(e.len == len && memcmp(e.data, buf, len) == 0, "entry %llu has the wrong bytes",
			(unsigned long long)acks[i].index);
	}
	*size_out = size;
	err = 0;
out:
	free(leaves);
	tl_buf_free(&note);
	tl_buf_free(&bundle);
	tl_buf_free(&e);
	return err;
}

const char *const lc_column_families[LC_COLUMN_FAMILY_COUNT] = { "tl_tiles", "tl_entries", "tl_meta", LC_RIDER_CF };

static int rider_stage(void *ctx, rocksdb_writebatch_t *wb, uint64_t first, const void *const *entries,
	const size_t *lens, size_t n, void *req)
{
	uint8_t key[8];

	(void)req;
	for (size_t i = 0; i < n; i++) {
		tl_store_u64be(key, first + i);
		rocksdb_writebatch_put_cf(wb, ctx, (const char *)key, sizeof(key), entries[i], lens[i]);
	}
	return 0;
}

static void rider_end(void *ctx, int err)
{
	(void)ctx;
	(void)err;
}

void lc_rider_hook(tl_log_hook *out, tl_db *db)
{
	*out = (tl_log_hook){ rider_stage, rider_end, tl_db_cf(db, LC_RIDER_CF) };
}

int lc_check_rider(tl_db *db, tl_log *log, uint64_t size)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(tl_db_rocks(db), tl_db_read(db), tl_db_cf(db, LC_RIDER_CF));
	tl_buf entry = tl_buf_make(TL_LOG_MAX_ENTRY + 1);
	uint64_t want = 0;
	int rc = 0;

	for (rocksdb_iter_seek_to_first(it); rc == 0 && rocksdb_iter_valid(it); rocksdb_iter_next(it), want++) {
		size_t kl, vl;
		const char *k = rocksdb_iter_key(it, &kl), *v = rocksdb_iter_value(it, &vl);

		tl_buf_reset(&entry);
		if (kl != 8 || tl_load_u64be((const uint8_t *)k) != want) {
			fprintf(stderr, "rider: key %llu missing or malformed\n", (unsigned long long)want);
			rc = -1;
		} else if (want >= size) {
			fprintf(stderr, "rider: holds entry %llu, beyond the log's %llu\n", (unsigned long long)want,
				(unsigned long long)size);
			rc = -1;
		} else if (tl_log_entry(&entry, log, want) != 0 || entry.len != vl || memcmp(entry.data, v, vl) != 0) {
			fprintf(stderr, "rider: entry %llu differs from the log's\n", (unsigned long long)want);
			rc = -1;
		}
	}
	if (rc == 0 && want != size) {
		fprintf(stderr, "rider: holds %llu entries, the log %llu\n", (unsigned long long)want, (unsigned long long)size);
		rc = -1;
	}
	rocksdb_iter_destroy(it);
	tl_buf_free(&entry);
	return rc;
}
