/*
 * The log's full tiles on IPFS under one tlog-tiles directory: see bundled/tiledir.h.
 * A round collects its new files into an overlay of the directory tree (only the paths that
 * change), then writes each changed directory node once, merging the overlay with the node
 * of the previous root.
 */
#include "bundled/tiledir.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundled/chunker.h"
#include "translog/bytes.h"
#include "bundled/dag.h"
#include "ticker.h"
#include "translog/follow.h"
#include "translog/tile.h"
#include "unixfs.h"

#define DEFAULT_INTERVAL_MS 1000u
#define STATE_MAGIC "bundled ipfs tiles v1\n"
#define MAX_STATE 512
#define MAX_DEPTH 12 /* tile/<L>/ and up to 7 groups of three digits */

struct bd_tiledir {
	bd_tiledir_options opts;
	bd_chunker chunker;
	uint64_t size;  /* the writer's own; `status` is what others read */
	bool has_root;
	bd_cid root;

	pthread_mutex_t lock; /* status */
	bd_tiledir_status status;
	struct bd__ticker ticker;
};

/* One name of the overlay: a file added this round, or a directory with some below it. */
struct ovl {
	char name[16];
	bool leaf;
	bd_cid cid;
	uint64_t tsize;
	struct ovl *kids; /* sorted by name */
	size_t nkids, cap;
};

static void ovl_free(struct ovl *o)
{
	for (size_t i = 0; i < o->nkids; i++)
		ovl_free(&o->kids[i]);
	free(o->kids);
}

/* The child of `o` named `name`, made (in order) if absent. */
static int ovl_child(struct ovl **out, struct ovl *o, const char *name, size_t len)
{
	size_t i = 0;

	if (len == 0 || len >= sizeof(o->name))
		return tl_error_set(TL_E_INTERNAL, "tile path component of %zu bytes", len);
	for (; i < o->nkids; i++) {
		int c = strncmp(o->kids[i].name, name, len);

		if (c == 0 && o->kids[i].name[len] == '\0') {
			*out = &o->kids[i];
			return 0;
		}
		if (c > 0 || (c == 0 && o->kids[i].name[len] != '\0'))
			break;
	}
	if (o->nkids == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 8;
		struct ovl *k = realloc(o->kids, cap * sizeof(*k));

		if (k == NULL)
			return tl_error_set(TL_E_NOMEM, "out of memory");
		o->kids = k;
		o->cap = cap;
	}
	memmove(&o->kids[i + 1], &o->kids[i], (o->nkids - i) * sizeof(*o->kids));
	memset(&o->kids[i], 0, sizeof(o->kids[i]));
	memcpy(o->kids[i].name, name, len);
	o->nkids++;
	*out = &o->kids[i];
	return 0;
}

/* Adds the file at tlog-tiles path `path` ("tile/0/x001/234") to the overlay. */
static int ovl_add(struct ovl *root, const char *path, const bd_cid *cid, uint64_t tsize)
{
	struct ovl *o = root;
	int err;

	for (const char *p = path;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);

		if ((err = ovl_child(&o, o, p, len)) != 0)
			return err;
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	o->leaf = true;
	o->cid = *cid;
	o->tsize = tsize;
	return 0;
}

/* The entries of the directory node `base`, or none. names[i] are NUL-terminated copies. */
struct dir {
	bd_unixfs__node node;
	char (*names)[BD_UNIXFS_MAX_NAME + 1];
	uint8_t *block;
};

static void dir_free(struct dir *d)
{
	bd_unixfs__node_free(&d->node);
	free(d->names);
	free(d->block);
}

static int dir_read(struct dir *d, bd_blockstore *bs, const bd_cid *base)
{
	size_t len;
	int err;

	memset(d, 0, sizeof(*d));
	if (base == NULL)
		return 0;
	if ((err = bd_blockstore_get(&d->block, &len, bs, base)) != 0 ||
	    (err = bd_unixfs__read_any_node(&d->node, d->block, len)) != 0)
		return tl_error_wrap(err, "the tiles directory");
	if (d->node.type != BD_UNIXFS_TYPE_DIRECTORY)
		return tl_error_set(TL_E_INPUT, "the tiles directory holds a file where a directory belongs");
	if (d->node.nlinks > 0 && (d->names = calloc(d->node.nlinks, sizeof(*d->names))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	for (size_t i = 0; i < d->node.nlinks; i++)
		memcpy(d->names[i], d->node.info[i].name, d->node.info[i].name_len);
	return 0;
}

/* Writes the directory the overlay `o` makes of `base` (NULL: a new one). */
static int write_dir(bd_cid *out, uint64_t *tsize, bd_tiledir *t, const struct ovl *o, const bd_cid *base)
{
	struct dir d;
	bd_unixfs__dirent *ents = NULL;
	tl_buf node = tl_buf_make(BD_UNIXFS_MAX_BLOCK);
	size_t n = 0, i = 0, k = 0;
	uint64_t total = 0;
	int err;

	if ((err = dir_read(&d, t->opts.blocks, base)) != 0)
		goto out;
	if ((ents = calloc(d.node.nlinks + o->nkids + 1, sizeof(*ents))) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	while (i < d.node.nlinks || k < o->nkids) {
		int c = i == d.node.nlinks ? 1 : k == o->nkids ? -1 : strcmp(d.names[i], o->kids[k].name);
		bd_unixfs__dirent *e = &ents[n++];

		if (c < 0) { /* unchanged */
			*e = (bd_unixfs__dirent){ d.names[i], d.node.links[i], d.node.info[i].tsize };
			i++;
			continue;
		}
		e->name = o->kids[k].name;
		if (o->kids[k].leaf) {
			e->cid = o->kids[k].cid;
			e->tsize = o->kids[k].tsize;
		} else if ((err = write_dir(&e->cid, &e->tsize, t, &o->kids[k], c == 0 ? &d.node.links[i] : NULL)) != 0) {
			goto out;
		}
		if (c == 0)
			i++;
		k++;
	}
	for (size_t j = 0; j < n; j++)
		total += ents[j].tsize;
	if ((err = bd_unixfs__write_dir_node(&node, ents, n)) != 0)
		goto out;
	bd_cid_of(out, BD_CODEC_DAG_PB, node.data, node.len);
	*tsize = total + node.len;
	err = bd_blockstore_put(t->opts.blocks, out, node.data, node.len);
out:
	free(ents);
	dir_free(&d);
	tl_buf_free(&node);
	return err;
}

/* ---- the state file ---- */

/* The value of the line "<key> <value>\n" at *p, which moves past it; NULL if it is not one. */
static const char *state_line(size_t *len, const char **p, const char *key)
{
	const char *v = *p + strlen(key), *nl;

	if (strncmp(*p, key, strlen(key)) != 0 || (nl = strchr(v, '\n')) == NULL)
		return NULL;
	*len = (size_t)(nl - v);
	*p = nl + 1;
	return v;
}

/* The state file: STATE_MAGIC, "size N", "root CID"; absent, nothing added yet. */
static int state_load(bd_tiledir *t)
{
	char text[MAX_STATE + 1];
	const char *p = text, *size = NULL, *root = NULL;
	FILE *f = fopen(t->opts.state_file, "r");
	size_t len, size_len = 0, root_len = 0;

	if (f == NULL)
		return errno == ENOENT ? 0 : tl_error_set(TL_E_IO, "%s: %s", t->opts.state_file, strerror(errno));
	len = fread(text, 1, MAX_STATE, f);
	fclose(f);
	text[len] = '\0';
	if (strncmp(p, STATE_MAGIC, strlen(STATE_MAGIC)) == 0) {
		p += strlen(STATE_MAGIC);
		if ((size = state_line(&size_len, &p, "size ")) != NULL)
			root = state_line(&root_len, &p, "root ");
	}
	if (root == NULL || *p != '\0' || tl_parse_u64(&t->size, size, size_len) != 0 ||
	    bd_cid_parse(&t->root, root, root_len) != 0)
		return tl_error_set(TL_E_INPUT, "%s is not a tiles directory state", t->opts.state_file);
	t->has_root = true;
	return 0;
}

/* Replaces the state file: a temporary file, synced, renamed over it. */
static int state_save(bd_tiledir *t)
{
	char tmp[4096], cid[BD_CID_TEXT_MAX];
	FILE *f;
	int ok, err;

	if ((err = bd_cid_format(cid, sizeof(cid), &t->root)) != 0)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.tmp", t->opts.state_file);
	if ((f = fopen(tmp, "w")) == NULL)
		return tl_error_set(TL_E_IO, "%s: %s", tmp, strerror(errno));
	ok = fprintf(f, STATE_MAGIC "size %" PRIu64 "\nroot %s\n", t->size, cid) > 0;
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, t->opts.state_file) != 0)
		return tl_error_set(TL_E_IO, "%s: cannot write: %s", t->opts.state_file, strerror(errno));
	return 0;
}

/* ---- rounds ---- */

int bd_tiledir_open(bd_tiledir **out, const bd_tiledir_options *opts)
{
	bd_tiledir *t = calloc(1, sizeof(*t));
	int err;

	if (t == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	t->opts = *opts;
	pthread_mutex_init(&t->lock, NULL);
	if ((err = bd_chunker_parse(&t->chunker, BD_TILEDIR_CHUNKER)) != 0 || (err = state_load(t)) != 0) {
		bd_tiledir_close(t);
		return err;
	}
	if (t->size > tl_log_size(opts->log)) {
		err = tl_error_set(TL_E_CONFLICT, "%s is for a log of %" PRIu64 " entries, this one has %" PRIu64,
			opts->state_file, t->size, tl_log_size(opts->log));
		bd_tiledir_close(t);
		return err;
	}
	t->status.size = t->size;
	t->status.has_root = t->has_root;
	t->status.root = t->root;
	*out = t;
	return 0;
}

/* Stores, pins and adds to the overlay the full tile (or bundle) `tile`. */
static int add_file(bd_tiledir *t, struct ovl *root, const tl_tile *tile, tl_buf *buf)
{
	char path[TL_TILE_PATH_MAX];
	bd_dag *dag = NULL;
	const bd_cid *cid;
	uint64_t tsize;
	int err;

	tl_buf_reset(buf);
	if ((err = tl_tile_path_format(path, tile)) != 0 || (err = tl_log_tile(buf, t->opts.log, tile)) != 0 ||
	    (err = bd_dag_build(&dag, buf->data, buf->len, &t->chunker)) != 0 ||
	    (err = bd_blockstore_put_dag(t->opts.blocks, dag)) != 0)
		goto out;
	cid = bd_dag_root(dag);
	/* A Link's Tsize: the file's bytes (raw leaves) and, over several leaves, the file node. */
	tsize = bd_dag_file_size(dag) + (bd_dag_count(dag) > 1 ? bd_dag_block(dag, bd_dag_count(dag) - 1)->len : 0);
	if ((err = bd_pinq_enqueue(t->opts.pins, cid)) == 0)
		err = ovl_add(root, path, cid, tsize);
out:
	bd_dag_free(dag);
	return err == 0 ? 0 : tl_error_wrap(err, "tiles directory: %s", path);
}

/* The files of the tree sizes from t->size up to `size` (whole bundles), at most a round's;
 * *upto gets the size they complete. */
static int add_files(uint64_t *upto, size_t *files, bd_tiledir *t, struct ovl *root, uint64_t size)
{
	tl_buf buf = tl_buf_make(TL_FOLLOW_MAX_BUNDLE);
	uint64_t s = t->size - t->size % TL_TILE_WIDTH;
	int err = 0;

	*upto = t->size;
	*files = 0;
	while (err == 0 && s + TL_TILE_WIDTH <= size && *files < BD_TILEDIR_ROUND_MAX) {
		uint64_t n = s / TL_TILE_WIDTH; /* the bundle and level-0 tile now full */
		tl_tile tile = { true, 0, n, TL_TILE_WIDTH };

		s += TL_TILE_WIDTH;
		if ((err = add_file(t, root, &tile, &buf)) != 0)
			break;
		(*files)++;
		tile.entries = false;
		/* Level L's tile n >> 8L completes when the level below completes its last one. */
		for (unsigned level = 0; err == 0 && level < 8; level++, n >>= TL_TILE_HEIGHT) {
			tile.level = level;
			tile.index = n;
			if ((err = add_file(t, root, &tile, &buf)) == 0)
				(*files)++;
			if ((n + 1) % TL_TILE_WIDTH != 0)
				break;
		}
		if (err == 0)
			*upto = s;
	}
	tl_buf_free(&buf);
	return err;
}

int bd_tiledir_sync(bd_tiledir *t)
{
	struct ovl root = { .name = "" };
	uint64_t upto, tsize, size = tl_log_size(t->opts.log);
	size_t files = 0;
	bd_cid cid;
	int err;

	if ((err = add_files(&upto, &files, t, &root, size)) != 0 || files == 0)
		goto out;
	if ((err = write_dir(&cid, &tsize, t, &root, t->has_root ? &t->root : NULL)) != 0 ||
	    (err = bd_pinq_enqueue(t->opts.pins, &cid)) != 0)
		goto out;
	t->root = cid;
	t->has_root = true;
	t->size = upto;
	err = state_save(t);
out:
	ovl_free(&root);
	pthread_mutex_lock(&t->lock);
	t->status.size = t->size;
	t->status.has_root = t->has_root;
	t->status.root = t->root;
	t->status.files += files;
	if (err != 0) {
		t->status.failures++;
		snprintf(t->status.error, sizeof(t->status.error), "%s", tl_error_message());
	} else {
		t->status.error[0] = '\0';
	}
	pthread_mutex_unlock(&t->lock);
	return err;
}

static void round_(void *arg)
{
	bd_tiledir *t = arg;
	int err = 0;

	/* Round after round while whole bundles wait (a catch-up is cut into rounds). */
	while (err == 0 && tl_log_size(t->opts.log) >= t->size - t->size % TL_TILE_WIDTH + TL_TILE_WIDTH)
		err = bd_tiledir_sync(t); /* kept in the status; retried on the next round */
}

int bd_tiledir_start(bd_tiledir *t)
{
	return bd__ticker_start(&t->ticker, t->opts.interval_ms ? t->opts.interval_ms : DEFAULT_INTERVAL_MS, round_, t);
}

void bd_tiledir_stop(bd_tiledir *t)
{
	if (t != NULL)
		bd__ticker_stop(&t->ticker);
}

void bd_tiledir_get_status(bd_tiledir_status *out, bd_tiledir *t)
{
	pthread_mutex_lock(&t->lock);
	*out = t->status;
	pthread_mutex_unlock(&t->lock);
}

void bd_tiledir_close(bd_tiledir *t)
{
	if (t == NULL)
		return;
	bd_tiledir_stop(t);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
