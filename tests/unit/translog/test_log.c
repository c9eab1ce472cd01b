#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merkle_ref.h"
#include "testutil.h"
#include "translog/checkpoint.h"
#include "translog/key.h"
#include "translog/log.h"
#include "translog/proof.h"
#include "translog/tile.h"

static const char *const ORIGIN = "example.org/test-log";

struct fixture {
	char *dir;
	tl_signer *key;
	tl_verifier *verifier;
	tl_db *db;
	tl_log *log;
};

static void fx_open_log(struct fixture *fx)
{
	ck_assert_msg(tl_db_open(&fx->db, fx->dir, tl_log_column_families, TL_LOG_COLUMN_FAMILY_COUNT) == 0, "%s",
		tl_error_message());
	ck_assert_msg(tl_log_open(&fx->log, fx->db, fx->key, NULL) == 0, "%s", tl_error_message());
}

static void fx_close_log(struct fixture *fx)
{
	tl_log_close(fx->log);
	tl_db_close(fx->db);
	fx->log = NULL;
	fx->db = NULL;
}

static void fx_init(struct fixture *fx)
{
	tl_buf vkey = tl_buf_make(4096);

	memset(fx, 0, sizeof(*fx));
	ck_assert_ptr_nonnull(fx->dir = tu_mkdtemp());
	ck_assert_int_eq(tl_signer_generate(&fx->key, ORIGIN), 0);
	ck_assert_int_eq(tl_signer_vkey(&vkey, fx->key), 0);
	ck_assert_int_eq(tl_verifier_parse(&fx->verifier, (const char *)vkey.data, vkey.len), 0);
	tl_buf_free(&vkey);
	fx_open_log(fx);
}

static void fx_free(struct fixture *fx)
{
	if (fx->log)
		fx_close_log(fx);
	tl_verifier_free(fx->verifier);
	tl_signer_free(fx->key);
	tu_rm_rf(fx->dir);
	free(fx->dir);
}

/* ---- an independent model of the log: entries in order, RFC 6962 by definition ---- */

struct model {
	size_t n, cap;
	uint8_t **entries;
	size_t *lens;
	tl_hash *leaves;
};

static void model_set(struct model *m, uint64_t index, const void *e, size_t len)
{
	if (index >= m->cap) {
		size_t cap = m->cap ? m->cap : 1024;

		while (cap <= index)
			cap *= 2;
		m->entries = realloc(m->entries, cap * sizeof(*m->entries));
		m->lens = realloc(m->lens, cap * sizeof(*m->lens));
		m->leaves = realloc(m->leaves, cap * sizeof(*m->leaves));
		ck_assert(m->entries && m->lens && m->leaves);
		memset(m->entries + m->cap, 0, (cap - m->cap) * sizeof(*m->entries));
		m->cap = cap;
	}
	ck_assert_msg(m->entries[index] == NULL, "index %llu returned twice", (unsigned long long)index);
	m->entries[index] = malloc(len + 1);
	memcpy(m->entries[index], e, len);
	m->lens[index] = len;
	tl_hash_leaf(&m->leaves[index], e, len);
	if (index + 1 > m->n)
		m->n = index + 1;
}

static void model_free(struct model *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->entries[i]);
	free(m->entries);
	free(m->lens);
	free(m->leaves);
}

/* The tlog-tiles definition: hash i of tile (level, index) is MTH(D[(n*256+i)*256^l : +256^l]). */
static void model_tile(tl_buf *out, const struct model *m, unsigned level, uint64_t index, unsigned width)
{
	uint64_t span = (uint64_t)1 << (8 * level);

	for (unsigned i = 0; i < width; i++) {
		tl_hash h;

		ref_mth_of_leaves(&h, m->leaves + (index * 256 + i) * span, span);
		ck_assert_int_eq(tl_buf_append(out, h.b, sizeof(h.b)), 0);
	}
}

static void model_bundle(tl_buf *out, const struct model *m, uint64_t index, unsigned width)
{
	for (unsigned i = 0; i < width; i++) {
		uint64_t e = index * 256 + i;

		ck_assert_int_eq(tl_buf_append_u16be(out, (uint16_t)m->lens[e]), 0);
		ck_assert_int_eq(tl_buf_append(out, m->entries[e], m->lens[e]), 0);
	}
}

static void check_resource(tl_log *log, const struct model *m, const tl_tile *t)
{
	tl_buf got = tl_buf_make(1u << 25), want = tl_buf_make(1u << 25);
	char path[TL_TILE_PATH_MAX];

	ck_assert_int_eq(tl_tile_path_format(path, t), 0);
	ck_assert_msg(tl_log_tile(&got, log, t) == 0, "%s: %s", path, tl_error_message());
	if (t->entries)
		model_bundle(&want, m, t->index, t->width);
	else
		model_tile(&want, m, t->level, t->index, t->width);
	ck_assert_msg(got.len == want.len && memcmp(got.data, want.data, got.len) == 0, "%s differs", path);
	tl_buf_free(&got);
	tl_buf_free(&want);
}

/* Every tile and bundle of the tree of `size`, plus a few partial widths of full ones. */
static void check_all_resources(tl_log *log, const struct model *m, uint64_t size)
{
	for (unsigned level = 0; level < 8; level++) {
		uint64_t hashes = size >> (8 * level);

		for (uint64_t n = 0; n * 256 < hashes; n++) {
			tl_tile t = { .level = level, .index = n, .width = tl_tile_width_at(level, n, size) };

			check_resource(log, m, &t);
			if (level == 0) {
				t.entries = true;
				check_resource(log, m, &t);
				t.entries = false;
			}
			if (t.width == 256 && n % 7 == 0) {
				t.width = 1 + (unsigned)(n % 255);
				check_resource(log, m, &t);
				t.entries = level == 0;
				check_resource(log, m, &t);
			}
		}
	}
}

static void check_head(struct fixture *fx, const struct model *m)
{
	tl_buf note = tl_buf_make(1 << 16);
	tl_checkpoint cp;
	tl_hash want, root;
	uint64_t size;

	ck_assert_int_eq(tl_log_head(&size, &root, &note, fx->log), 0);
	ck_assert_uint_eq(size, m->n);
	ck_assert_msg(tl_checkpoint_open(&cp, note.data, note.len, fx->verifier) == 0, "%s", tl_error_message());
	ck_assert_str_eq(cp.origin, ORIGIN);
	ck_assert_uint_eq(cp.size, m->n);
	ref_mth_of_leaves(&want, m->leaves, m->n);
	ck_assert(tl_hash_equal(&cp.root, &want));
	ck_assert(tl_hash_equal(&root, &want));
	tl_buf_free(&note);
}

static void check_proofs(tl_log *log, const struct model *m, uint64_t step)
{
	tl_hash proof[TL_MAX_PROOF_HASHES], root, old_root;
	size_t n;

	for (uint64_t size = 1; size <= m->n; size += step) {
		ref_mth_of_leaves(&root, m->leaves, size);
		for (uint64_t i = 0; i < size; i += 1 + size / 5) {
			ck_assert_msg(tl_log_prove_inclusion(proof, &n, log, i, size) == 0, "%s", tl_error_message());
			ck_assert_msg(tl_verify_inclusion(&m->leaves[i], i, size, proof, n, &root) == 0,
				"inclusion %llu in %llu", (unsigned long long)i, (unsigned long long)size);
		}
		for (uint64_t old = 1; old <= size; old += 1 + size / 3) {
			ref_mth_of_leaves(&old_root, m->leaves, old);
			ck_assert_msg(tl_log_prove_consistency(proof, &n, log, old, size) == 0, "%s", tl_error_message());
			ck_assert_msg(tl_verify_consistency(old, size, proof, n, &old_root, &root) == 0,
				"consistency %llu -> %llu", (unsigned long long)old, (unsigned long long)size);
		}
		ck_assert_int_eq(tl_log_root(&old_root, log, size), 0);
		ck_assert(tl_hash_equal(&old_root, &root));
	}
}

/* ---- concurrent appenders ---- */

enum { THREADS = 4, PER_THREAD = 150 };

struct appender {
	tl_log *log;
	unsigned id;
	uint64_t index[PER_THREAD];
	char entry[PER_THREAD][64];
	size_t len[PER_THREAD];
	int err;
};

static void *append_thread(void *arg)
{
	struct appender *a = arg;

	for (unsigned i = 0; i < PER_THREAD;) {
		/* Mix single appends and batches of 2..9. */
		unsigned n = i % 3 == 0 ? 1 + (i % 9) : 1;
		const void *ptrs[16];

		if (n > PER_THREAD - i)
			n = PER_THREAD - i;
		for (unsigned k = 0; k < n; k++) {
			a->len[i + k] = (size_t)snprintf(a->entry[i + k], sizeof(a->entry[0]), "thread %u entry %u%.*s",
				a->id, i + k, (int)((i + k) % 20), "....................");
			ptrs[k] = a->entry[i + k];
		}
		if (n == 1)
			a->err = tl_log_append(&a->index[i], a->log, ptrs[0], a->len[i]);
		else if ((a->err = tl_log_append_batch(&a->index[i], a->log, ptrs, &a->len[i], n)) == 0)
			for (unsigned k = 1; k < n; k++)
				a->index[i + k] = a->index[i] + k;
		if (a->err)
			return NULL;
		i += n;
	}
	return NULL;
}

START_TEST(appends_from_threads_are_dense_and_verify)
{
	struct fixture fx;
	struct appender *a = calloc(THREADS, sizeof(*a));
	pthread_t th[THREADS];
	struct model m = { 0 };
	struct tl_log_stats st;
	tl_buf e = tl_buf_make(1 << 17);

	fx_init(&fx);
	for (unsigned t = 0; t < THREADS; t++) {
		a[t].log = fx.log;
		a[t].id = t;
		ck_assert_int_eq(pthread_create(&th[t], NULL, append_thread, &a[t]), 0);
	}
	for (unsigned t = 0; t < THREADS; t++) {
		pthread_join(th[t], NULL);
		ck_assert_int_eq(a[t].err, 0);
		for (unsigned i = 0; i < PER_THREAD; i++)
			model_set(&m, a[t].index[i], a[t].entry[i], a[t].len[i]);
	}
	/* Dense: every index below the count was returned exactly once. */
	ck_assert_uint_eq(m.n, THREADS * PER_THREAD);
	for (size_t i = 0; i < m.n; i++)
		ck_assert_ptr_nonnull(m.entries[i]);
	/* A thread's own appends are ordered. */
	for (unsigned t = 0; t < THREADS; t++)
		for (unsigned i = 1; i < PER_THREAD; i++)
			ck_assert_uint_gt(a[t].index[i], a[t].index[i - 1]);

	check_head(&fx, &m);
	for (size_t i = 0; i < m.n; i++) {
		tl_buf_reset(&e);
		ck_assert_int_eq(tl_log_entry(&e, fx.log, i), 0);
		ck_assert_uint_eq(e.len, m.lens[i]);
		ck_assert_int_eq(memcmp(e.data, m.entries[i], e.len), 0);
	}
	check_all_resources(fx.log, &m, m.n);
	check_proofs(fx.log, &m, 37);

	tl_log_stats(&st, fx.log);
	ck_assert_uint_eq(st.size, m.n);
	ck_assert_uint_eq(st.appends, m.n);
	ck_assert_uint_ge(st.commits, 1);
	ck_assert_uint_le(st.commits, m.n);
	ck_assert_uint_ge(st.last_batch, 1);
	ck_assert_uint_eq(st.failed_commits, 0);
	ck_assert_uint_gt(st.last_commit_unix_ms, 0);
	/* The histograms count every commit once, each batch in the bucket its size falls in. */
	{
		uint64_t commits = 0, batches = 0;

		for (size_t i = 0; i <= TL_LOG_COMMIT_BUCKETS; i++)
			commits += st.commit_us_hist[i];
		for (size_t i = 0; i <= TL_LOG_BATCH_BUCKETS; i++)
			batches += st.batch_hist[i];
		ck_assert_uint_eq(commits, st.commits);
		ck_assert_uint_eq(batches, st.commits);
	}

	/* Reopen: the same head, and appends continue where they stopped. */
	fx_close_log(&fx);
	fx_open_log(&fx);
	check_head(&fx, &m);
	{
		uint64_t idx;

		ck_assert_int_eq(tl_log_append(&idx, fx.log, "after reopen", 12), 0);
		ck_assert_uint_eq(idx, m.n);
		model_set(&m, idx, "after reopen", 12);
	}
	check_head(&fx, &m);
	check_all_resources(fx.log, &m, m.n);

	tl_buf_free(&e);
	model_free(&m);
	free(a);
	fx_free(&fx);
}
END_TEST

/* ---- the 70,000-leaf log against the independent Python construction ---- */

static size_t vector_entry(char *buf, size_t cap, uint64_t i)
{
	size_t len = 0;

	for (uint64_t r = 0; r < 1 + i % 13; r++)
		len += (size_t)snprintf(buf + len, cap - len, "%llu:", (unsigned long long)i);
	return len;
}

static void append_range(tl_log *log, uint64_t from, uint64_t to, size_t batch)
{
	static char bufs[1024][256];
	const void *ptrs[1024];
	size_t lens[1024];

	ck_assert_uint_le(batch, 1024);
	while (from < to) {
		size_t n = to - from < batch ? (size_t)(to - from) : batch;
		uint64_t first;

		for (size_t k = 0; k < n; k++) {
			lens[k] = vector_entry(bufs[k], sizeof(bufs[k]), from + k);
			ptrs[k] = bufs[k];
		}
		ck_assert_msg(tl_log_append_batch(&first, log, ptrs, lens, n) == 0, "%s", tl_error_message());
		ck_assert_uint_eq(first, from);
		from += n;
	}
}

START_TEST(tiles_match_independent_construction)
{
	json_t *j;
	json_error_t jerr;
	struct fixture fx;
	json_t *v;
	size_t i;
	tl_buf got = tl_buf_make(1u << 22);

	j = json_load_file(tu_source_path("tests/vectors/tiles/log_70000.json"), 0, &jerr);
	ck_assert_msg(j != NULL, "%s", jerr.text);
	fx_init(&fx);
	/* Uneven batches, single appends and a reopen, so that tiles and bundles are built from
	 * pieces of many commits and from state reloaded from storage. */
	append_range(fx.log, 0, 3, 1);
	append_range(fx.log, 3, 300, 7);
	append_range(fx.log, 300, 1000, 1);
	fx_close_log(&fx);
	fx_open_log(&fx);
	append_range(fx.log, 1000, 65537, 1000);
	append_range(fx.log, 65537, 69999, 333);
	fx_close_log(&fx);
	fx_open_log(&fx);
	append_range(fx.log, 69999, 70000, 1);
	ck_assert_uint_eq(tl_log_size(fx.log), 70000);

	json_array_foreach(json_object_get(j, "resources"), i, v) {
		const char *path = json_string_value(json_object_get(v, "path"));
		tl_tile t;
		tl_hash h;
		char hex[2 * TL_HASH_SIZE + 1];

		ck_assert_int_eq(tl_tile_path_parse(&t, path, strlen(path)), 0);
		tl_buf_reset(&got);
		ck_assert_msg(tl_log_tile(&got, fx.log, &t) == 0, "%s: %s", path, tl_error_message());
		ck_assert_uint_eq(got.len, (size_t)json_integer_value(json_object_get(v, "len")));
		tl_sha256(&h, got.data, got.len);
		tl_hex_encode(hex, h.b, sizeof(h.b));
		ck_assert_msg(strcmp(hex, json_string_value(json_object_get(v, "sha256"))) == 0, "%s differs", path);
	}
	ck_assert_uint_ge(i, 500);
	json_array_foreach(json_object_get(j, "roots"), i, v) {
		tl_hash root;
		char hex[2 * TL_HASH_SIZE + 1];

		ck_assert_int_eq(tl_log_root(&root, fx.log, (uint64_t)json_integer_value(json_object_get(v, "size"))), 0);
		tl_hex_encode(hex, root.b, sizeof(root.b));
		ck_assert_str_eq(hex, json_string_value(json_object_get(v, "root")));
	}
	tl_buf_free(&got);
	json_decref(j);
	fx_free(&fx);
}
END_TEST

/* Appends n (1..128) vector entries from index i in one call, into the log and the model;
 * returns i + n. */
static uint64_t append_model_batch(tl_log *log, struct model *m, uint64_t i, size_t n)
{
	const void *ptrs[128];
	size_t lens[128];
	char buf[256];
	uint64_t first;

	ck_assert(n >= 1 && n <= 128);
	for (size_t k = 0; k < n; k++) {
		lens[k] = vector_entry(buf, sizeof(buf), i + k);
		model_set(m, i + k, buf, lens[k]);
		ptrs[k] = m->entries[i + k];
	}
	ck_assert_int_eq(tl_log_append_batch(&first, log, ptrs, lens, n), 0);
	ck_assert_uint_eq(first, i);
	return i + n;
}

/* Every partial tile a published checkpoint needed stays available, byte-exact. */
START_TEST(partial_tiles_of_every_checkpoint_stay_served)
{
	struct fixture fx;
	struct model m = { 0 };
	uint64_t sizes[64];
	size_t nsizes = 0;

	fx_init(&fx);
	for (uint64_t i = 0; i < 1500;) {
		i = append_model_batch(fx.log, &m, i, 1 + (size_t)((i * 7919) % 97));
		if (nsizes < 64)
			sizes[nsizes++] = i;
	}
	for (size_t s = 0; s < nsizes; s++)
		for (unsigned level = 0; level < 2; level++) {
			uint64_t hashes = sizes[s] >> (8 * level);
			tl_tile t = { .level = level, .index = hashes / 256, .width = (unsigned)(hashes % 256) };

			if (t.width == 0)
				continue;
			check_resource(fx.log, &m, &t);
			if (level == 0) {
				t.entries = true;
				check_resource(fx.log, &m, &t);
			}
		}
	model_free(&m);
	fx_free(&fx);
}
END_TEST

/* Batches that finish a tile and leave the next one wider than the last, then proofs and
 * roots of every size (they read the in-memory right edge as much as stored tiles). */
START_TEST(proofs_after_batches_of_every_shape)
{
	static const size_t batches[] = { 200, 300, 1000, 5, 600, 256, 1, 255 };
	struct fixture fx;
	struct model m = { 0 };
	char buf[256];

	fx_init(&fx);
	for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
		const void **ptrs = malloc(batches[b] * sizeof(*ptrs));
		size_t *lens = malloc(batches[b] * sizeof(*lens));
		uint64_t first, from = m.n;

		for (size_t k = 0; k < batches[b]; k++) {
			lens[k] = vector_entry(buf, sizeof(buf), from + k);
			model_set(&m, from + k, buf, lens[k]);
			ptrs[k] = m.entries[from + k];
		}
		ck_assert_int_eq(tl_log_append_batch(&first, fx.log, ptrs, lens, batches[b]), 0);
		ck_assert_uint_eq(first, from);
		check_head(&fx, &m);
		check_proofs(fx.log, &m, 1 + m.n / 40);
		free(ptrs);
		free(lens);
	}
	check_all_resources(fx.log, &m, m.n);
	model_free(&m);
	fx_free(&fx);
}
END_TEST

/* Readers prove and verify against whatever head they see while a writer appends. */
struct reader {
	tl_log *log;
	volatile int *stop;
	unsigned checked;
	char failure[256];
};

static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	uint64_t old_size = 0, seed = 88172645463325252u;
	tl_hash old_root;
	char buf[256];

	tl_hash_empty(&old_root);
	while (!*r->stop) {
		uint64_t size;
		tl_hash root, leaf, proof[TL_MAX_PROOF_HASHES];
		size_t n;

		if (tl_log_head(&size, &root, NULL, r->log) != 0 || size == 0)
			continue;
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		{
			uint64_t i = seed % size;
			size_t len = vector_entry(buf, sizeof(buf), i);

			tl_hash_leaf(&leaf, buf, len);
			if (tl_log_prove_inclusion(proof, &n, r->log, i, size) != 0 ||
			    tl_verify_inclusion(&leaf, i, size, proof, n, &root) != 0) {
				snprintf(r->failure, sizeof(r->failure), "inclusion %llu in %llu: %s",
					(unsigned long long)i, (unsigned long long)size, tl_error_message());
				return NULL;
			}
		}
		if (tl_log_prove_consistency(proof, &n, r->log, old_size, size) != 0 ||
		    tl_verify_consistency(old_size, size, proof, n, &old_root, &root) != 0) {
			snprintf(r->failure, sizeof(r->failure), "consistency %llu -> %llu: %s",
				(unsigned long long)old_size, (unsigned long long)size, tl_error_message());
			return NULL;
		}
		old_size = size;
		old_root = root;
		r->checked++;
	}
	return NULL;
}

START_TEST(readers_verify_while_appends_run)
{
	struct fixture fx;
	struct reader r[2];
	pthread_t th[2];
	volatile int stop = 0;

	fx_init(&fx);
	for (int t = 0; t < 2; t++) {
		r[t] = (struct reader){ fx.log, &stop, 0, "" };
		ck_assert_int_eq(pthread_create(&th[t], NULL, reader_thread, &r[t]), 0);
	}
	for (uint64_t from = 0, b = 0; from < 20000; b++) {
		size_t n = (size_t)(1 + (b * 7919) % 700);

		append_range(fx.log, from, from + n, n > 1024 ? 1024 : n);
		from += n;
	}
	stop = 1;
	for (int t = 0; t < 2; t++) {
		pthread_join(th[t], NULL);
		ck_assert_msg(r[t].failure[0] == 0, "%s", r[t].failure);
		ck_assert_uint_gt(r[t].checked, 0);
	}
	fx_free(&fx);
}
END_TEST

START_TEST(oversized_entries_are_refused_and_nothing_is_written)
{
	struct fixture fx;
	uint8_t *big = calloc(1, TL_LOG_MAX_ENTRY + 2);
	tl_buf before = tl_buf_make(1 << 16), after = tl_buf_make(1 << 16), e = tl_buf_make(1 << 17);
	const void *ptrs[3] = { "a", big, "c" };
	size_t lens[3] = { 1, TL_LOG_MAX_ENTRY + 1, 1 };
	uint64_t idx;

	fx_init(&fx);
	ck_assert_int_eq(tl_log_append(&idx, fx.log, "first", 5), 0);
	ck_assert_int_eq(tl_log_head(NULL, NULL, &before, fx.log), 0);

	ck_assert_int_eq(tl_log_append(&idx, fx.log, big, TL_LOG_MAX_ENTRY + 1), TL_E_INPUT);
	ck_assert_int_eq(tl_log_append_batch(&idx, fx.log, ptrs, lens, 3), TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "entry 1"));
	ck_assert_int_eq(tl_log_append_batch(&idx, fx.log, ptrs, lens, 0), TL_E_INPUT);
	ck_assert_int_eq(tl_log_append_batch(&idx, fx.log, ptrs, lens, TL_LOG_MAX_APPEND + 1), TL_E_INPUT);
	ck_assert_int_eq(tl_log_append(&idx, fx.log, NULL, 3), TL_E_INPUT);
	{
		/* More than TL_LOG_MAX_APPEND_BYTES in one call. */
		size_t n = TL_LOG_MAX_APPEND_BYTES / TL_LOG_MAX_ENTRY + 1;
		const void **many = malloc(n * sizeof(*many));
		size_t *many_lens = malloc(n * sizeof(*many_lens));

		for (size_t i = 0; i < n; i++) {
			many[i] = big;
			many_lens[i] = TL_LOG_MAX_ENTRY;
		}
		ck_assert_int_eq(tl_log_append_batch(&idx, fx.log, many, many_lens, n), TL_E_INPUT);
		free(many);
		free(many_lens);
	}
	ck_assert_uint_eq(tl_log_size(fx.log), 1);
	ck_assert_int_eq(tl_log_head(NULL, NULL, &after, fx.log), 0);
	ck_assert(before.len == after.len && memcmp(before.data, after.data, before.len) == 0);
	/* Nothing reached storage either. */
	fx_close_log(&fx);
	fx_open_log(&fx);
	ck_assert_uint_eq(tl_log_size(fx.log), 1);

	/* The limits themselves are fine: 65535 bytes, and an empty entry. */
	memset(big, 'z', TL_LOG_MAX_ENTRY);
	ck_assert_int_eq(tl_log_append(&idx, fx.log, big, TL_LOG_MAX_ENTRY), 0);
	ck_assert_uint_eq(idx, 1);
	ck_assert_int_eq(tl_log_append(&idx, fx.log, "", 0), 0);
	ck_assert_uint_eq(idx, 2);
	ck_assert_int_eq(tl_log_entry(&e, fx.log, 1), 0);
	ck_assert_uint_eq(e.len, TL_LOG_MAX_ENTRY);
	ck_assert_int_eq(memcmp(e.data, big, e.len), 0);
	tl_buf_reset(&e);
	ck_assert_int_eq(tl_log_entry(&e, fx.log, 2), 0);
	ck_assert_uint_eq(e.len, 0);
	{
		tl_tile t = { .entries = true, .index = 0, .width = 3 };

		tl_buf_reset(&e);
		ck_assert_int_eq(tl_log_tile(&e, fx.log, &t), 0);
		ck_assert_uint_eq(e.len, 2 + 5 + 2 + TL_LOG_MAX_ENTRY + 2);
		ck_assert_int_eq(e.data[7], 0xff);
		ck_assert_int_eq(e.data[8], 0xff);
		ck_assert_int_eq(e.data[e.len - 2], 0);
		ck_assert_int_eq(e.data[e.len - 1], 0);
	}
	tl_buf_free(&before);
	tl_buf_free(&after);
	tl_buf_free(&e);
	free(big);
	fx_free(&fx);
}
END_TEST

START_TEST(reads_beyond_the_tree_are_not_found)
{
	struct fixture fx;
	tl_buf out = tl_buf_make(1 << 20);
	tl_hash proof[TL_MAX_PROOF_HASHES], h;
	size_t n;
	char buf[64];

	fx_init(&fx);
	/* An empty log has a checkpoint of size 0 and no tiles. */
	{
		uint64_t size;
		tl_hash root, empty;
		tl_checkpoint cp;

		ck_assert_int_eq(tl_log_head(&size, &root, &out, fx.log), 0);
		ck_assert_uint_eq(size, 0);
		tl_hash_empty(&empty);
		ck_assert(tl_hash_equal(&root, &empty));
		ck_assert_int_eq(tl_checkpoint_open(&cp, out.data, out.len, fx.verifier), 0);
		ck_assert_uint_eq(cp.size, 0);
		tl_buf_reset(&out);
		/* It reopens as the same empty log. */
		fx_close_log(&fx);
		fx_open_log(&fx);
		ck_assert_int_eq(tl_log_head(&size, &root, &out, fx.log), 0);
		ck_assert_uint_eq(size, 0);
		ck_assert(tl_hash_equal(&root, &empty));
		tl_buf_reset(&out);
	}
	for (uint64_t i = 0; i < 300; i++) {
		uint64_t idx;
		size_t len = vector_entry(buf, sizeof(buf), i);

		ck_assert_int_eq(tl_log_append(&idx, fx.log, buf, len), 0);
	}
	{
		tl_tile absent[] = {
			{ .level = 0, .index = 1, .width = 256 },  /* partial (44) now */
			{ .level = 0, .index = 1, .width = 45 },   /* wider than published */
			{ .level = 0, .index = 2, .width = 1 },    /* beyond */
			{ .level = 1, .index = 0, .width = 2 },    /* level 1 has width 1 */
			{ .level = 2, .index = 0, .width = 1 },
			{ .level = 8, .index = 0, .width = 1 },
			{ .level = 63, .index = 0, .width = 1 },
			{ .entries = true, .index = 1, .width = 45 },
			{ .entries = true, .index = 5, .width = 256 },
		};
		tl_tile bad = { .level = 0, .index = 0, .width = 0 };

		for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
			ck_assert_int_eq(tl_log_tile(&out, fx.log, &absent[i]), TL_E_NOTFOUND);
		ck_assert_int_eq(tl_log_tile(&out, fx.log, &bad), TL_E_INPUT);
		ck_assert_uint_eq(out.len, 0);
	}
	ck_assert_int_eq(tl_log_entry(&out, fx.log, 300), TL_E_NOTFOUND);
	ck_assert_int_eq(tl_log_entry(&out, fx.log, UINT64_MAX), TL_E_NOTFOUND);
	ck_assert_int_eq(tl_log_prove_inclusion(proof, &n, fx.log, 0, 301), TL_E_NOTFOUND);
	ck_assert_int_eq(tl_log_prove_inclusion(proof, &n, fx.log, 300, 300), TL_E_INPUT);
	ck_assert_int_eq(tl_log_prove_consistency(proof, &n, fx.log, 10, 301), TL_E_NOTFOUND);
	ck_assert_int_eq(tl_log_prove_consistency(proof, &n, fx.log, 11, 10), TL_E_INPUT);
	ck_assert_int_eq(tl_log_root(&h, fx.log, 301), TL_E_NOTFOUND);
	ck_assert_int_eq(tl_log_node(&h, fx.log, 0, 299), 0);
	ck_assert_int_eq(tl_log_node(&h, fx.log, 0, 300), TL_E_NOTFOUND);
	ck_assert_int_eq(tl_log_node(&h, fx.log, 8, 0), 0);
	ck_assert_int_eq(tl_log_node(&h, fx.log, 8, 1), TL_E_NOTFOUND);
	ck_assert_int_eq(tl_log_node(&h, fx.log, 9, 0), TL_E_NOTFOUND);
	ck_assert_int_eq(tl_log_node(&h, fx.log, 64, 0), TL_E_INPUT);
	tl_buf_free(&out);
	fx_free(&fx);
}
END_TEST

START_TEST(another_key_or_origin_is_refused)
{
	struct fixture fx;
	tl_signer *same_name = NULL, *other_name = NULL;
	tl_log *log = NULL;
	uint64_t idx;

	fx_init(&fx);
	ck_assert_int_eq(tl_log_append(&idx, fx.log, "x", 1), 0);
	tl_log_close(fx.log);
	fx.log = NULL;
	ck_assert_int_eq(tl_signer_generate(&same_name, ORIGIN), 0);
	ck_assert_int_eq(tl_signer_generate(&other_name, "example.org/other-log"), 0);
	ck_assert_int_eq(tl_log_open(&log, fx.db, same_name, NULL), TL_E_CONFLICT);
	ck_assert_int_eq(tl_log_open(&log, fx.db, other_name, NULL), TL_E_CONFLICT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "example.org/other-log"));
	ck_assert_int_eq(tl_log_open(&fx.log, fx.db, fx.key, NULL), 0);
	ck_assert_uint_eq(tl_log_size(fx.log), 1);
	tl_signer_free(same_name);
	tl_signer_free(other_name);
	fx_free(&fx);
}
END_TEST

/* Tampering with storage between runs is caught on open, with a clear message. */
static void tamper(struct fixture *fx, const char *cf, const void *key, size_t klen, const void *val, size_t vlen)
{
	char *errptr = NULL;
	rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();

	if (val)
		rocksdb_put_cf(tl_db_rocks(fx->db), wo, tl_db_cf(fx->db, cf), key, klen, val, vlen, &errptr);
	else
		rocksdb_delete_cf(tl_db_rocks(fx->db), wo, tl_db_cf(fx->db, cf), key, klen, &errptr);
	ck_assert_ptr_null(errptr);
	rocksdb_writeoptions_destroy(wo);
}

static void expect_corrupt(struct fixture *fx, const char *what)
{
	tl_log *log = NULL;

	ck_assert_int_eq(tl_log_open(&log, fx->db, fx->key, NULL), TL_E_INTERNAL);
	ck_assert_msg(strstr(tl_error_message(), "corrupt") != NULL, "%s: %s", what, tl_error_message());
}

START_TEST(corrupted_storage_is_refused)
{
	struct fixture fx;
	char buf[64];
	/* tl_tiles keys: level(1) index(8 BE) [piece start(1)]; tl_entries: index(8) [start(1)]. */
	const uint8_t tile0_piece0[10] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	const uint8_t tile0_full0[9] = { 0 };
	const uint8_t bundle_piece[9] = { 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	const uint8_t junk_hash[32] = { 1 };
	char *saved;
	size_t saved_len;

	fx_init(&fx);
	for (uint64_t i = 0; i < 300; i++) {
		uint64_t idx;
		size_t len = vector_entry(buf, sizeof(buf), i);

		ck_assert_int_eq(tl_log_append(&idx, fx.log, buf, len), 0);
	}
	tl_log_close(fx.log);
	fx.log = NULL;

	/* Checkpoints signed by the log's own key that the stored tree does not back: another
	 * size, another root. */
	ck_assert_int_eq(tl_db_get(&saved, &saved_len, fx.db, tl_db_cf(fx.db, "tl_meta"), "checkpoint", 10), 0);
	{
		tl_checkpoint cp;
		tl_buf forged = tl_buf_make(1 << 16);

		ck_assert_int_eq(tl_checkpoint_open(&cp, (const uint8_t *)saved, saved_len, fx.verifier), 0);
		cp.size = 301;
		ck_assert_int_eq(tl_checkpoint_sign(&forged, &cp, fx.key), 0);
		tamper(&fx, "tl_meta", "checkpoint", 10, forged.data, forged.len);
		expect_corrupt(&fx, "checkpoint of another size");
		cp.size = 300;
		cp.root.b[0] ^= 1;
		tl_buf_reset(&forged);
		ck_assert_int_eq(tl_checkpoint_sign(&forged, &cp, fx.key), 0);
		tamper(&fx, "tl_meta", "checkpoint", 10, forged.data, forged.len);
		expect_corrupt(&fx, "checkpoint of another root");
		tl_buf_free(&forged);
	}
	/* A checkpoint whose signature is broken is not ours. */
	saved[saved_len - 5] ^= 1;
	tamper(&fx, "tl_meta", "checkpoint", 10, saved, saved_len);
	{
		tl_log *log = NULL;

		ck_assert_int_eq(tl_log_open(&log, fx.db, fx.key, NULL), TL_E_CONFLICT);
	}
	saved[saved_len - 5] ^= 1;
	/* Tiles and entries without any checkpoint. */
	tamper(&fx, "tl_meta", "checkpoint", 10, NULL, 0);
	expect_corrupt(&fx, "no checkpoint");
	tamper(&fx, "tl_meta", "checkpoint", 10, saved, saved_len);
	free(saved);
	ck_assert_int_eq(tl_log_open(&fx.log, fx.db, fx.key, NULL), 0);
	tl_log_close(fx.log);
	fx.log = NULL;

	/* A full tile of the right edge is gone. */
	ck_assert_int_eq(tl_db_get(&saved, &saved_len, fx.db, tl_db_cf(fx.db, "tl_tiles"), tile0_full0, 9), 0);
	tamper(&fx, "tl_tiles", tile0_full0, 9, NULL, 0);
	expect_corrupt(&fx, "missing full tile");
	/* A full tile holds the wrong hashes: the recomputed root differs. */
	saved[5 * 32] ^= 1;
	tamper(&fx, "tl_tiles", tile0_full0, 9, saved, saved_len);
	expect_corrupt(&fx, "altered full tile");
	saved[5 * 32] ^= 1;
	tamper(&fx, "tl_tiles", tile0_full0, 9, saved, saved_len);
	free(saved);

	/* The partial level-0 tile lost its hashes, or gained some. */
	ck_assert_int_eq(tl_db_get(&saved, &saved_len, fx.db, tl_db_cf(fx.db, "tl_tiles"), tile0_piece0, 10), 0);
	tamper(&fx, "tl_tiles", tile0_piece0, 10, NULL, 0);
	expect_corrupt(&fx, "missing tile piece");
	tamper(&fx, "tl_tiles", tile0_piece0, 10, saved, saved_len);
	{
		uint8_t k[10];

		memcpy(k, tile0_piece0, 10);
		k[9] = 44; /* a piece after the 44 hashes of size 300 */
		tamper(&fx, "tl_tiles", k, 10, junk_hash, 32);
		expect_corrupt(&fx, "extra tile piece");
		tamper(&fx, "tl_tiles", k, 10, NULL, 0);
	}
	/* An altered hash in the partial tile no longer matches its entries. */
	saved[0] ^= 1;
	tamper(&fx, "tl_tiles", tile0_piece0, 10, saved, saved_len);
	expect_corrupt(&fx, "altered tile piece");
	saved[0] ^= 1;
	tamper(&fx, "tl_tiles", tile0_piece0, 10, saved, saved_len);
	free(saved);

	/* The partial bundle lost its entries. */
	ck_assert_int_eq(tl_db_get(&saved, &saved_len, fx.db, tl_db_cf(fx.db, "tl_entries"), bundle_piece, 9), 0);
	tamper(&fx, "tl_entries", bundle_piece, 9, NULL, 0);
	expect_corrupt(&fx, "missing bundle piece");
	tamper(&fx, "tl_entries", bundle_piece, 9, saved, saved_len);
	free(saved);

	/* Everything restored: it opens again. */
	ck_assert_msg(tl_log_open(&fx.log, fx.db, fx.key, NULL) == 0, "%s", tl_error_message());
	ck_assert_uint_eq(tl_log_size(fx.log), 300);
	fx_free(&fx);
}
END_TEST

/* Entries, tiles and bundles at every width come from the three places reads go to: full
 * values by point read, the rightmost hash tile from memory, the rightmost bundle from its
 * pieces; and pinned reads borrow the stored bytes. */
START_TEST(point_and_pinned_reads)
{
	struct fixture fx;
	struct model m = { 0 };
	tl_buf e = tl_buf_make(1 << 16), note = tl_buf_make(1 << 16);
	const uint8_t *v[2];
	size_t vlen[2];
	void *pin[2];
	const uint8_t bundle1[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };

	fx_init(&fx);
	for (uint64_t i = 0; i < 700;) {
		size_t n = 1 + (size_t)((i * 31) % 90);

		i = append_model_batch(fx.log, &m, i, i + n > 700 ? (size_t)(700 - i) : n);
	}
	for (uint64_t i = 0; i < 700; i++) {
		tl_buf_reset(&e);
		ck_assert_msg(tl_log_entry(&e, fx.log, i) == 0, "entry %llu: %s", (unsigned long long)i,
			tl_error_message());
		ck_assert(e.len == m.lens[i] && memcmp(e.data, m.entries[i], e.len) == 0);
	}
	for (unsigned w = 1; w <= 256; w++)
		for (uint64_t n = 0; n < 3; n++) {
			tl_tile t = { .level = 0, .index = n, .width = w };

			if (n == 2 && w > 700 - 512)
				continue;
			check_resource(fx.log, &m, &t);
			t.entries = true;
			check_resource(fx.log, &m, &t);
		}
	{
		tl_tile t = { .level = 1, .index = 0, .width = 2 };

		check_resource(fx.log, &m, &t);
	}

	/* Full tiles and bundles borrowed, the same bytes tl_log_tile serves; partial ones not. */
	{
		tl_tile full[3] = { { .index = 1, .width = 256 }, { .index = 1, .width = 256, .entries = true },
			{ .index = 0, .width = 256, .entries = true } };
		tl_tile partial[3] = { { .index = 2, .width = 256 }, { .index = 2, .width = 256, .entries = true },
			{ .index = 1, .width = 255, .entries = true } };

		for (int i = 0; i < 3; i++) {
			tl_buf_reset(&e);
			ck_assert_int_eq(tl_log_tile(&e, fx.log, &full[i]), 0);
			ck_assert_msg(tl_log_tile_pinned(&v[0], &vlen[0], &pin[0], fx.log, &full[i]) == 0, "%s",
				tl_error_message());
			ck_assert(vlen[0] == e.len && memcmp(v[0], e.data, e.len) == 0);
			tl_db_release(pin[0]);
			ck_assert_int_eq(tl_log_tile_pinned(&v[0], &vlen[0], &pin[0], fx.log, &partial[i]), TL_E_NOTFOUND);
		}
	}
	/* Two pins at once, released in either order; absent keys pin nothing. */
	ck_assert_int_eq(tl_log_head(NULL, NULL, &note, fx.log), 0);
	ck_assert_int_eq(tl_db_get_pinned(&v[0], &vlen[0], &pin[0], fx.db, tl_db_cf(fx.db, "tl_meta"), "checkpoint", 10),
		0);
	ck_assert_int_eq(tl_db_get_pinned(&v[1], &vlen[1], &pin[1], fx.db, tl_db_cf(fx.db, "tl_entries"), bundle1, 8),
		0);
	ck_assert(vlen[0] == note.len && memcmp(v[0], note.data, note.len) == 0);
	tl_buf_reset(&e);
	model_bundle(&e, &m, 1, 256);
	ck_assert(vlen[1] == e.len && memcmp(v[1], e.data, e.len) == 0);
	tl_db_release(pin[1]);
	tl_db_release(pin[0]);
	ck_assert_int_eq(tl_db_get_pinned(&v[0], &vlen[0], &pin[0], fx.db, tl_db_cf(fx.db, "tl_meta"), "nothing", 7),
		TL_E_NOTFOUND);

	/* Entries of a full bundle are found through its stored offsets; without them (a log
	 * written before they were stored) by walking the bundle; wrong ones are corruption. */
	{
		const uint8_t offsets0[9] = { 'o' };
		char *saved;
		size_t saved_len;

		ck_assert_int_eq(tl_db_get(&saved, &saved_len, fx.db, tl_db_cf(fx.db, "tl_meta"), offsets0, 9), 0);
		ck_assert_uint_eq(saved_len, 1024);
		tamper(&fx, "tl_meta", offsets0, 9, NULL, 0);
		for (uint64_t i = 0; i < 256; i += 51) {
			tl_buf_reset(&e);
			ck_assert_int_eq(tl_log_entry(&e, fx.log, i), 0);
			ck_assert(e.len == m.lens[i] && memcmp(e.data, m.entries[i], e.len) == 0);
		}
		saved[4 * 7 + 3] ^= 1;
		tamper(&fx, "tl_meta", offsets0, 9, saved, saved_len);
		ck_assert_int_eq(tl_log_entry(&e, fx.log, 7), TL_E_INTERNAL);
		ck_assert_int_eq(tl_log_entry(&e, fx.log, 6), TL_E_INTERNAL);
		tamper(&fx, "tl_meta", offsets0, 9, saved, 5);
		ck_assert_int_eq(tl_log_entry(&e, fx.log, 0), TL_E_INTERNAL);
		free(saved);
	}
	/* A full bundle that the published state says is stored but is not: corrupt, not absent. */
	tamper(&fx, "tl_entries", bundle1, 8, NULL, 0);
	ck_assert_int_eq(tl_log_entry(&e, fx.log, 300), TL_E_INTERNAL);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "corrupt"));
	tl_buf_free(&e);
	tl_buf_free(&note);
	model_free(&m);
	fx_free(&fx);
}
END_TEST

Suite *suite_log(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, appends_from_threads_are_dense_and_verify);
	tcase_add_test(tc, tiles_match_independent_construction);
	tcase_add_test(tc, partial_tiles_of_every_checkpoint_stay_served);
	tcase_add_test(tc, proofs_after_batches_of_every_shape);
	tcase_add_test(tc, readers_verify_while_appends_run);
	tcase_add_test(tc, oversized_entries_are_refused_and_nothing_is_written);
	tcase_add_test(tc, reads_beyond_the_tree_are_not_found);
	tcase_add_test(tc, another_key_or_origin_is_refused);
	tcase_add_test(tc, corrupted_storage_is_refused);
	tcase_add_test(tc, point_and_pinned_reads);
	suite_add_tcase(s, tc);
	return s;
}
