/*
 * The git mirror (libgit2): see bundled/gitmirror.h. The writer (open, sync, the thread) and
 * the audit of a clone share the commit message's grammar, which is defined here once.
 */
#include "bundled/gitmirror.h"

#include <git2.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundled/bundle.h"
#include "bundled/cid.h"
#include "bundled/entry.h"
#include "ticker.h"
#include "translog/text.h"

#define BRANCH "refs/heads/main"
#define TRAILER "\n\nLog-Index: "
#define DEFAULT_INTERVAL_MS 200u
#define MAX_NOTE (64u << 10)
#define MAX_MESSAGE (TL_TILE_MAX_ENTRY + 512u)

struct bd_gitmirror {
	bd_gitmirror_options opts;
	git_repository *repo;
	uint64_t position; /* the writer's own; `status` is what others read */

	pthread_mutex_t lock; /* status */
	bd_gitmirror_status status;
	struct bd__ticker ticker;
};

/* A libgit2 failure as a tl_err, with libgit2's own message. */
static int git_fail(const char *what)
{
	const git_error *e = git_error_last();

	return tl_error_set(TL_E_IO, "git mirror: %s: %s", what, e != NULL && e->message != NULL ? e->message : "failed");
}

/* ---- the commit message ---- */

static const char *kind_name(const bd_entry *e)
{
	switch (e->kind) {
	case BD_ENTRY_BUNDLE: return "bundle";
	case BD_ENTRY_REVOCATION: return "revocation";
	case BD_ENTRY_DOMAIN:
		return e->action == BD_DOMAIN_REGISTER ? "register" : e->action == BD_DOMAIN_ADD_KEY ? "add-key" : "remove-key";
	}
	return "entry";
}

/* The message of entry `index` (parsed into e, or e NULL for one bundled cannot read). */
static int message_write(tl_buf *out, const bd_entry *e, uint64_t index, const uint8_t *text, size_t len)
{
	int err;

	if (e == NULL)
		err = tl_buf_printf(out, "entry (log entry %" PRIu64 ")\n\n", index);
	else if (e->kind == BD_ENTRY_BUNDLE)
		err = tl_buf_printf(out, "%s %s %" PRIu64 " (log entry %" PRIu64 ")\n\n", kind_name(e), e->domain, e->sequence,
			index);
	else
		err = tl_buf_printf(out, "%s %s (log entry %" PRIu64 ")\n\n", kind_name(e), e->domain, index);
	if (err == 0)
		err = tl_buf_append(out, text, len);
	if (err == 0)
		err = tl_buf_printf(out, "%sLog-Index: %" PRIu64 "\n", len > 0 && text[len - 1] == '\n' ? "\n" : "\n\n", index);
	return err;
}

/* The entry text and index a message carries. TL_E_INPUT if it is not one of ours. An entry
 * ends with its newline (docs/formats.md), so the blank line before the trailer is one more. */
static int message_read(const uint8_t **text, size_t *len, uint64_t *index, const char *msg)
{
	const char *body = strstr(msg, "\n\n"), *trailer = NULL, *p;
	size_t tail;

	for (p = msg; (p = strstr(p, TRAILER)) != NULL; p++)
		trailer = p;
	if (body == NULL || trailer == NULL || trailer < body + 2)
		return tl_error_set(TL_E_INPUT, "a commit message without an entry and its Log-Index");
	p = trailer + strlen(TRAILER);
	tail = strlen(p);
	if (tail < 2 || p[tail - 1] != '\n' || tl_parse_u64(index, p, tail - 1) != 0)
		return tl_error_set(TL_E_INPUT, "a commit message with a malformed Log-Index");
	*text = (const uint8_t *)body + 2;
	*len = (size_t)(trailer + 1 - (body + 2));
	return 0;
}

/* ---- the writer ---- */

static int head_commit(git_commit **out, git_repository *repo)
{
	git_oid oid;
	int rc = git_reference_name_to_id(&oid, repo, BRANCH);

	*out = NULL;
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc != 0 || git_commit_lookup(out, repo, &oid) != 0)
		return git_fail("reading " BRANCH);
	return 0;
}

/* The position the repository records: one past HEAD's Log-Index, checked against the log. */
static int find_position(bd_gitmirror *g)
{
	git_commit *head = NULL;
	tl_buf entry = tl_buf_make(TL_TILE_MAX_ENTRY);
	const uint8_t *text;
	size_t len;
	uint64_t index;
	int err;

	g->position = 0;
	if ((err = head_commit(&head, g->repo)) != 0 || head == NULL)
		goto out;
	if ((err = message_read(&text, &len, &index, git_commit_message(head))) != 0)
		goto out;
	if (strcmp(git_commit_committer(head)->email, tl_log_origin(g->opts.log)) != 0) {
		err = tl_error_set(TL_E_CONFLICT, "git mirror %s is of the log %s, not %s", g->opts.dir,
			git_commit_committer(head)->email, tl_log_origin(g->opts.log));
		goto out;
	}
	if ((err = tl_log_entry(&entry, g->opts.log, index)) != 0 || entry.len != len || memcmp(entry.data, text, len) != 0) {
		err = tl_error_set(TL_E_CONFLICT, "git mirror %s: its entry %" PRIu64 " is not the log's", g->opts.dir, index);
		goto out;
	}
	g->position = index + 1;
out:
	git_commit_free(head);
	tl_buf_free(&entry);
	return err;
}

int bd_gitmirror_open(bd_gitmirror **out, const bd_gitmirror_options *opts)
{
	bd_gitmirror *g = calloc(1, sizeof(*g));
	git_reference *ref = NULL;
	int err = 0;

	if (g == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	git_libgit2_init();
	g->opts = *opts;
	pthread_mutex_init(&g->lock, NULL);
	if (git_repository_open_bare(&g->repo, opts->dir) != 0) {
		if (git_repository_init(&g->repo, opts->dir, 1) != 0 ||
		    git_reference_symbolic_create(&ref, g->repo, "HEAD", BRANCH, 1, "bundled git mirror") != 0) {
			err = git_fail(opts->dir);
			goto out;
		}
	}
	if ((err = find_position(g)) != 0)
		goto out;
	g->status.position = g->position;
out:
	git_reference_free(ref);
	if (err) {
		bd_gitmirror_close(g);
		return err;
	}
	*out = g;
	return 0;
}

struct batch {
	git_tree *tree;     /* the tree of the last commit made (NULL: none yet) */
	git_oid parent;
	bool has_parent;
	git_oid checkpoint; /* the blob of the batch's checkpoint */
	tl_buf text, message, content;
	bd_entry e;
};

/* The tag of a version, "refs/tags/<td>/<sequence>": false if git refuses the name. */
static bool tag_name(char *out, size_t cap, const bd_entry *e)
{
	int valid = 0;

	snprintf(out, cap, "refs/tags/%s/%" PRIu64, e->domain, e->sequence);
	return git_reference_name_is_valid(&valid, out) == 0 && valid;
}

static const git_commit **parents_of(const git_commit **parents, const git_commit *parent)
{
	parents[0] = parent;
	return parents;
}

/* Commits entry `index` on top of the batch's last commit. */
static int commit_entry(bd_gitmirror *g, struct batch *b, uint64_t index)
{
	git_tree_update up[2] = { { GIT_TREE_UPDATE_UPSERT, b->checkpoint, GIT_FILEMODE_BLOB, "checkpoint" } };
	size_t nup = 1;
	char path[BD_MAX_DOMAIN + 32];
	git_oid tree_oid, commit_oid;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_commit *parent = NULL;
	const git_commit *parents[1];
	bool parsed;
	int err = 0;

	tl_buf_reset(&b->text);
	tl_buf_reset(&b->message);
	if ((err = tl_log_entry(&b->text, g->opts.log, index)) != 0)
		return err;
	parsed = bd_entry_parse(&b->e, b->text.data, b->text.len) == 0;
	if (parsed && b->e.kind == BD_ENTRY_BUNDLE) {
		bd_cid cid;

		tl_buf_reset(&b->content);
		if ((err = bd_cid_parse(&cid, b->e.cid, strlen(b->e.cid))) != 0 ||
		    (err = bd_blockstore_cat(&b->content, g->opts.blocks, &cid)) != 0)
			return tl_error_wrap(err, "git mirror: the bytes of %s version %" PRIu64, b->e.domain, b->e.sequence);
		snprintf(path, sizeof(path), "domains/%s/bundle.json", b->e.domain);
		up[1] = (git_tree_update){ GIT_TREE_UPDATE_UPSERT, { { 0 } }, GIT_FILEMODE_BLOB, path };
		if (git_blob_create_from_buffer(&up[1].id, g->repo, b->content.data, b->content.len) != 0)
			return git_fail("writing a bundle");
		nup = 2;
	}
	if ((err = message_write(&b->message, parsed ? &b->e : NULL, index, b->text.data, b->text.len)) != 0 ||
	    (err = tl_buf_append_u8(&b->message, 0)) != 0)
		return err;
	if (git_tree_create_updated(&tree_oid, g->repo, b->tree, nup, up) != 0 || git_tree_lookup(&tree, g->repo, &tree_oid) != 0 ||
	    git_signature_new(&sig, "bundled", tl_log_origin(g->opts.log), parsed ? (git_time_t)b->e.time : 0, 0) != 0 ||
	    (b->has_parent && git_commit_lookup(&parent, g->repo, &b->parent) != 0) ||
	    git_commit_create(&commit_oid, g->repo, NULL, sig, sig, NULL, (const char *)b->message.data, tree,
		    b->has_parent ? 1 : 0, parents_of(parents, parent)) != 0) {
		err = git_fail("writing a commit");
		goto out;
	}
	if (parsed && b->e.kind == BD_ENTRY_BUNDLE) {
		git_reference *tag = NULL;
		char name[BD_MAX_DOMAIN + 48];

		/* A domain git cannot name in a ref (one ending in ".lock") has no tags. */
		if (tag_name(name, sizeof(name), &b->e) &&
		    git_reference_create(&tag, g->repo, name, &commit_oid, 1, "bundled git mirror") != 0)
			err = git_fail(name);
		git_reference_free(tag);
	}
	git_tree_free(b->tree);
	b->tree = tree;
	tree = NULL;
	b->parent = commit_oid;
	b->has_parent = true;
out:
	git_tree_free(tree);
	git_signature_free(sig);
	git_commit_free(parent);
	return err;
}

/* One batch from the position: a chain of commits, then the branch moves once. */
static int sync_batch(bd_gitmirror *g, uint64_t size, const tl_buf *note)
{
	struct batch b = { .text = tl_buf_make(TL_TILE_MAX_ENTRY), .message = tl_buf_make(MAX_MESSAGE),
		.content = tl_buf_make(BD_MAX_BUNDLE_SIZE) };
	uint64_t upto = size - g->position > BD_GITMIRROR_BATCH ? g->position + BD_GITMIRROR_BATCH : size;
	git_commit *head = NULL;
	git_reference *ref = NULL;
	int err;

	if ((err = head_commit(&head, g->repo)) != 0)
		goto out;
	if (head != NULL) {
		b.parent = *git_commit_id(head);
		b.has_parent = true;
		if (git_commit_tree(&b.tree, head) != 0) {
			err = git_fail("reading HEAD's tree");
			goto out;
		}
	}
	if (git_blob_create_from_buffer(&b.checkpoint, g->repo, note->data, note->len) != 0) {
		err = git_fail("writing the checkpoint");
		goto out;
	}
	for (uint64_t i = g->position; i < upto && err == 0; i++)
		err = commit_entry(g, &b, i);
	if (err == 0 && git_reference_create(&ref, g->repo, BRANCH, &b.parent, 1, "bundled git mirror") != 0)
		err = git_fail("moving " BRANCH);
	if (err == 0)
		g->position = upto;
out:
	git_reference_free(ref);
	git_commit_free(head);
	git_tree_free(b.tree);
	tl_buf_free(&b.text);
	tl_buf_free(&b.message);
	tl_buf_free(&b.content);
	return err;
}

int bd_gitmirror_sync(bd_gitmirror *g)
{
	tl_buf note = tl_buf_make(MAX_NOTE);
	uint64_t size;
	int err;

	if ((err = tl_log_head(&size, NULL, &note, g->opts.log)) != 0) {
		tl_buf_free(&note);
		return err == TL_E_UNAVAILABLE ? 0 : err; /* a replica with nothing yet */
	}
	while (err == 0 && g->position < size) {
		err = sync_batch(g, size, &note);
		pthread_mutex_lock(&g->lock);
		g->status.position = g->position;
		pthread_mutex_unlock(&g->lock);
	}
	pthread_mutex_lock(&g->lock);
	if (err != 0) {
		g->status.failures++;
		snprintf(g->status.error, sizeof(g->status.error), "%s", tl_error_message());
	} else {
		g->status.error[0] = '\0';
	}
	pthread_mutex_unlock(&g->lock);
	tl_buf_free(&note);
	return err;
}

static void round_(void *arg)
{
	bd_gitmirror *g = arg;
	int err = tl_log_size(g->opts.log) > g->position ? bd_gitmirror_sync(g) : 0;

	(void)err; /* kept in the status; retried on the next round */
}

int bd_gitmirror_start(bd_gitmirror *g)
{
	return bd__ticker_start(&g->ticker, g->opts.interval_ms ? g->opts.interval_ms : DEFAULT_INTERVAL_MS, round_, g);
}

void bd_gitmirror_stop(bd_gitmirror *g)
{
	if (g != NULL)
		bd__ticker_stop(&g->ticker);
}

void bd_gitmirror_get_status(bd_gitmirror_status *out, bd_gitmirror *g)
{
	pthread_mutex_lock(&g->lock);
	*out = g->status;
	pthread_mutex_unlock(&g->lock);
}

void bd_gitmirror_close(bd_gitmirror *g)
{
	if (g == NULL)
		return;
	bd_gitmirror_stop(g);
	git_repository_free(g->repo);
	pthread_mutex_destroy(&g->lock);
	free(g);
	git_libgit2_shutdown();
}

/* ---- the audit of a clone ---- */

struct audit {
	bd_gitmirror_report *rep;
	git_repository *repo;
	git_oid *commits;
	bd_entry e;
};

static void finding(struct audit *a, const char *fmt, ...) TL_PRINTF(2, 3);
static void finding(struct audit *a, const char *fmt, ...)
{
	va_list ap;

	if (a->rep->mismatches++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(a->rep->first, sizeof(a->rep->first), fmt, ap);
	va_end(ap);
}

/* The version's bytes in the commit's tree, and its tag. */
static int check_version(struct audit *a, git_commit *c, uint64_t index)
{
	char path[BD_MAX_DOMAIN + 48];
	git_tree *tree = NULL;
	git_tree_entry *te = NULL;
	git_blob *blob = NULL;
	git_oid tagged;
	tl_hash h;

	snprintf(path, sizeof(path), "domains/%s/bundle.json", a->e.domain);
	if (git_commit_tree(&tree, c) != 0 || git_tree_entry_bypath(&te, tree, path) != 0 ||
	    git_blob_lookup(&blob, a->repo, git_tree_entry_id(te)) != 0) {
		finding(a, "entry %" PRIu64 ": the commit has no %s", index, path);
	} else {
		tl_sha256(&h, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
		if ((uint64_t)git_blob_rawsize(blob) != a->e.size || !tl_hash_equal(&h, &a->e.sha256))
			finding(a, "entry %" PRIu64 ": %s is not the %" PRIu64 " bytes %s version %" PRIu64 " commits to", index,
				path, a->e.size, a->e.domain, a->e.sequence);
	}
	if (tag_name(path, sizeof(path), &a->e) &&
	    (git_reference_name_to_id(&tagged, a->repo, path) != 0 || !git_oid_equal(&tagged, &a->commits[index])))
		finding(a, "entry %" PRIu64 ": the tag %s/%" PRIu64 " is not on its commit", index, a->e.domain,
			a->e.sequence);
	a->rep->versions++;
	git_blob_free(blob);
	git_tree_entry_free(te);
	git_tree_free(tree);
	return 0;
}

static int check_entry(void *ctx, uint64_t index, const uint8_t *entry, size_t len)
{
	struct audit *a = ctx;
	git_commit *c = NULL;
	const uint8_t *text;
	size_t tlen;
	uint64_t logged;
	int err = 0;

	a->rep->checked++;
	if (git_commit_lookup(&c, a->repo, &a->commits[index]) != 0)
		return git_fail("reading a commit");
	if (message_read(&text, &tlen, &logged, git_commit_message(c)) != 0 || logged != index)
		finding(a, "commit %" PRIu64 " of the clone does not carry log entry %" PRIu64, index, index);
	else if (tlen != len || memcmp(text, entry, len) != 0)
		finding(a, "commit %" PRIu64 " carries other bytes than log entry %" PRIu64, index, index);
	else if (bd_entry_parse(&a->e, entry, len) == 0 && a->e.kind == BD_ENTRY_BUNDLE)
		err = check_version(a, c, index);
	git_commit_free(c);
	return err;
}

/* The commits of HEAD, oldest first. */
static int list_commits(git_oid **out, uint64_t *n, git_repository *repo)
{
	git_revwalk *walk = NULL;
	git_oid oid, *v = NULL;
	size_t cap = 0;
	int err = 0;

	*n = 0;
	if (git_revwalk_new(&walk, repo) != 0 || git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) != 0 ||
	    git_revwalk_push_head(walk) != 0) {
		err = git_fail("walking HEAD");
		goto out;
	}
	while (git_revwalk_next(&oid, walk) == 0) {
		if (*n == cap) {
			git_oid *bigger = realloc(v, (cap ? cap * 2 : 1024) * sizeof(*v));

			if (bigger == NULL) {
				err = tl_error_set(TL_E_NOMEM, "out of memory");
				goto out;
			}
			v = bigger;
			cap = cap ? cap * 2 : 1024;
		}
		v[(*n)++] = oid;
	}
out:
	git_revwalk_free(walk);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	return 0;
}

int bd_gitmirror_audit(bd_gitmirror_report *rep, const char *dir, const tl_follow_config *cfg)
{
	struct audit a = { .rep = rep };
	tl_checkpoint cp;
	uint64_t n;
	int err;

	memset(rep, 0, sizeof(*rep));
	git_libgit2_init();
	if (git_repository_open_ext(&a.repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) != 0) {
		err = git_fail(dir);
		goto out;
	}
	if ((err = list_commits(&a.commits, &rep->commits, a.repo)) != 0 ||
	    (err = tl_follow_update(&cp, NULL, NULL, cfg, NULL)) != 0)
		goto out;
	rep->log_size = cp.size;
	if (rep->commits > cp.size)
		finding(&a, "the clone has %" PRIu64 " commits, the log %" PRIu64 " entries", rep->commits, cp.size);
	n = rep->commits < cp.size ? rep->commits : cp.size;
	if (n > 0)
		err = tl_follow_entries(cfg, &cp, 0, n, check_entry, &a);
out:
	free(a.commits);
	git_repository_free(a.repo);
	git_libgit2_shutdown();
	return err;
}
