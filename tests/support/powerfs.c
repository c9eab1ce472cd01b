/*
 * powerfs: see powerfs.h. The durability model, the strictest one POSIX allows that a
 * careful program (RocksDB with synced writes) can still be correct under:
 *
 * - File data and file size (write, truncate, O_TRUNC, extending writes) are durable only
 *   once that file is fsynced or fdatasynced (through any descriptor of it). The two are the
 *   same here: the size is what fdatasync must make durable to read the data back, and other
 *   metadata (times, mode) is not modelled. O_DIRECT writes are no different (they bypass the
 *   page cache, not the drive's volatile cache). sync_file_range, msync and syncfs are not
 *   seen by a FUSE filesystem and promise nothing; flush (close) promises nothing.
 * - A directory entry (create, mkdir, unlink, rmdir, rename) is durable only once that
 *   directory is fsynced: fsync of a directory makes its whole current list of names durable,
 *   each name pointing at its file's durable data (empty if that file was never synced).
 *   fsync of a file does not make its name durable (ext4 often does; POSIX does not promise
 *   it). A rename is two entries: it survives whole once both directories are synced; within
 *   one directory (RocksDB's CURRENT, OPTIONS) the cut leaves either all of the old names or
 *   all of the new ones, never a mix. Data synced under a name that is not durable is lost
 *   with the name.
 * - Hard links, symlinks, extended attributes and fallocate are not supported (errors), so a
 *   program relying on them fails loudly instead of being tested under a different model.
 *
 * The whole tree lives in memory in the filesystem process: each file has its current bytes
 * (what reads return) and its durable bytes (as of its last sync); each directory its current
 * entries and its durable entries (as of its last fsync). It is loaded from the backing
 * directory at power-on and, at a cut, the durable tree replaces the backing directory's
 * content. Nodes are never freed: an instance lives from one power-on to one cut.
 */
#define FUSE_USE_VERSION 35
#include "powerfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1u << 0) /* <linux/fs.h> */
#endif

struct pfs_bytes {
	uint8_t *data;
	size_t len, cap;
};

struct pfs_entry {
	char *name;
	struct pfs_node *node;
};

struct pfs_entries {
	struct pfs_entry *v;
	size_t n, cap;
};

struct pfs_node {
	bool dir;
	mode_t mode;
	uint64_t ino;
	struct timespec mtime;
	/* Files: current and durable bytes; [dirty_lo, dirty_hi) covers every byte of cur that
	 * may differ from dur. */
	struct pfs_bytes cur, dur;
	size_t dirty_lo, dirty_hi;
	/* Directories: current and durable names. */
	struct pfs_entries ents, durable_ents;
};

/* The filesystem process's state. */
static struct {
	struct fuse *fuse;
	struct pfs_node *root;
	const char *backing;
	uint64_t next_ino;
	unsigned syncs, fail_at_sync;
	int ctl, note;
	volatile sig_atomic_t orphaned;
} S;

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		fprintf(stderr, "powerfs: out of memory\n");
		_exit(70);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

/* Grows to `len` bytes; new bytes are zero. */
static void bytes_resize(struct pfs_bytes *b, size_t len)
{
	if (len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap < len)
			cap *= 2;
		p = xmalloc(cap);
		if (b->len)
			memcpy(p, b->data, b->len);
		free(b->data);
		b->data = p;
		b->cap = cap;
	}
	if (len > b->len)
		memset(b->data + b->len, 0, len - b->len);
	b->len = len;
}

static struct pfs_node *node_new(bool dir, mode_t mode)
{
	struct pfs_node *n = xmalloc(sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->dir = dir;
	n->mode = mode & 07777;
	n->ino = ++S.next_ino;
	clock_gettime(CLOCK_REALTIME, &n->mtime);
	return n;
}

static void node_dirty(struct pfs_node *n, size_t lo, size_t hi)
{
	if (n->dirty_lo >= n->dirty_hi) {
		n->dirty_lo = lo;
		n->dirty_hi = hi;
	} else {
		n->dirty_lo = lo < n->dirty_lo ? lo : n->dirty_lo;
		n->dirty_hi = hi > n->dirty_hi ? hi : n->dirty_hi;
	}
	clock_gettime(CLOCK_REALTIME, &n->mtime);
}

static void node_resize(struct pfs_node *n, size_t len)
{
	size_t old = n->cur.len;

	if (len != old)
		node_dirty(n, len < old ? len : old, len < old ? old : len);
	bytes_resize(&n->cur, len);
}

static struct pfs_entry *entries_find(struct pfs_entries *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->v[i].name, name) == 0)
			return &e->v[i];
	return NULL;
}

static void entries_add(struct pfs_entries *e, const char *name, struct pfs_node *node)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		struct pfs_entry *v = xmalloc(cap * sizeof(*v));

		if (e->n)
			memcpy(v, e->v, e->n * sizeof(*v));
		free(e->v);
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = (struct pfs_entry){ xstrdup(name), node };
}

static void entries_remove(struct pfs_entries *e, struct pfs_entry *x)
{
	free(x->name);
	*x = e->v[--e->n];
}

static void entries_clear(struct pfs_entries *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].name);
	e->n = 0;
}

/* The directory that holds the last component of `path`, and that component. */
static struct pfs_node *lookup_parent(const char *path, char *last, size_t cap)
{
	struct pfs_node *d = S.root;
	const char *p = path;

	for (;;) {
		const char *slash;
		size_t len;

		while (*p == '/')
			p++;
		slash = strchr(p, '/');
		len = slash ? (size_t)(slash - p) : strlen(p);
		if (len >= cap)
			return NULL;
		memcpy(last, p, len);
		last[len] = '\0';
		if (slash == NULL || slash[strspn(slash, "/")] == '\0')
			return d;
		{
			struct pfs_entry *e = entries_find(&d->ents, last);

			if (e == NULL || !e->node->dir)
				return NULL;
			d = e->node;
		}
		p = slash;
	}
}

static struct pfs_node *lookup(const char *path)
{
	char last[256];
	struct pfs_node *d;
	struct pfs_entry *e;

	if (path == NULL)
		return NULL;
	if ((d = lookup_parent(path, last, sizeof(last))) == NULL)
		return NULL;
	if (last[0] == '\0')
		return d;
	e = entries_find(&d->ents, last);
	return e ? e->node : NULL;
}

/* The node of an open file or directory, or of `path`. */
static struct pfs_node *node_of(const char *path, struct fuse_file_info *fi)
{
	return fi != NULL && fi->fh != 0 ? (struct pfs_node *)(uintptr_t)fi->fh : lookup(path);
}

/* ---- power ---- */

static int save_tree(const char *path, struct pfs_node *d)
{
	for (size_t i = 0; i < d->durable_ents.n; i++) {
		struct pfs_entry *e = &d->durable_ents.v[i];
		size_t len = strlen(path) + strlen(e->name) + 2;
		char *p = xmalloc(len);
		int err = 0;

		snprintf(p, len, "%s/%s", path, e->name);
		if (e->node->dir)
			err = mkdir(p, 0700) != 0 || save_tree(p, e->node) != 0;
		else
			err = tu_write_file(p, e->node->dur.data ? (const void *)e->node->dur.data : "", e->node->dur.len);
		if (err)
			fprintf(stderr, "powerfs: saving %s failed\n", p);
		free(p);
		if (err)
			return -1;
	}
	return 0;
}

/* The power is out: no request is answered any more. Writes what survived to the backing
 * directory, tells the test, waits for its word (or its death) to unmount, and ends. */
__attribute__((noreturn)) static void power_fail(void)
{
	char c;
	int err;

	tu_rm_rf(S.backing);
	err = mkdir(S.backing, 0700) != 0 || save_tree(S.backing, S.root) != 0;
	if (write(S.note, err ? "e" : "o", 1) != 1)
		err = 1;
	/* Until 'q', the end of the pipe, or the test's death (SIGTERM, EINTR). */
	while (!S.orphaned && read(S.ctl, &c, 1) == 1 && c != 'q')
		;
	fuse_unmount(S.fuse);
	_exit(err ? 1 : 0);
}

static void count_sync(void)
{
	if (S.fail_at_sync != 0 && ++S.syncs == S.fail_at_sync)
		power_fail();
}

/* ---- operations ---- */

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	/* An unlinked open file stays readable without a hidden rename (which would be a
	 * directory change of its own), and requests on it come with its handle. */
	cfg->hard_remove = 1;
	cfg->nullpath_ok = 1;
	return NULL;
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct pfs_node *n = node_of(path, fi);

	if (n == NULL)
		return -ENOENT;
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_mode = (n->dir ? S_IFDIR : S_IFREG) | n->mode;
	st->st_nlink = n->dir ? 2 : 1;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_size = n->dir ? 4096 : (off_t)n->cur.len;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((st->st_size + 511) / 512);
	st->st_mtim = st->st_ctim = st->st_atim = n->mtime;
	return 0;
}

static int op_access(const char *path, int mask)
{
	return lookup(path) ? 0 : -ENOENT;
}

static int add_node(const char *path, struct pfs_node *n)
{
	char last[256];
	struct pfs_node *d = lookup_parent(path, last, sizeof(last));

	if (d == NULL || last[0] == '\0')
		return -ENOENT;
	if (entries_find(&d->ents, last))
		return -EEXIST;
	entries_add(&d->ents, last, n);
	clock_gettime(CLOCK_REALTIME, &d->mtime);
	return 0;
}

static int op_mkdir(const char *path, mode_t mode)
{
	return add_node(path, node_new(true, mode));
}

/* Opens node n (of `path`) as a file or a directory; O_TRUNC empties a file. */
static int open_node(struct pfs_node *n, bool dir, struct fuse_file_info *fi)
{
	if (n == NULL)
		return -ENOENT;
	if (n->dir != dir)
		return dir ? -ENOTDIR : -EISDIR;
	if (!dir && (fi->flags & O_TRUNC))
		node_resize(n, 0);
	fi->fh = (uint64_t)(uintptr_t)n;
	return 0;
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct pfs_node *n = lookup(path);
	int err;

	if (n != NULL && (fi->flags & O_EXCL))
		return -EEXIST;
	if (n == NULL && (err = add_node(path, n = node_new(false, mode))) != 0)
		return err;
	return open_node(n, false, fi);
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
	return open_node(lookup(path), false, fi);
}

static int op_opendir(const char *path, struct fuse_file_info *fi)
{
	return open_node(lookup(path), true, fi);
}

static int op_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct pfs_node *n = node_of(path, fi);

	if (n == NULL)
		return -EBADF;
	if (off < 0)
		return -EINVAL;
	if ((size_t)off >= n->cur.len)
		return 0;
	if (size > n->cur.len - (size_t)off)
		size = n->cur.len - (size_t)off;
	memcpy(buf, n->cur.data + off, size);
	return (int)size;
}

static int op_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct pfs_node *n = node_of(path, fi);

	if (n == NULL)
		return -EBADF;
	if (off < 0 || (uint64_t)off > SIZE_MAX / 2 || size > SIZE_MAX / 2)
		return -EFBIG;
	if ((size_t)off + size > n->cur.len)
		node_resize(n, (size_t)off + size);
	memcpy(n->cur.data + off, buf, size);
	node_dirty(n, (size_t)off, (size_t)off + size);
	return (int)size;
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct pfs_node *n = node_of(path, fi);

	if (n == NULL)
		return -ENOENT;
	if (n->dir)
		return -EISDIR;
	if (size < 0 || (uint64_t)size > SIZE_MAX / 2)
		return -EINVAL;
	node_resize(n, (size_t)size);
	return 0;
}

/* fsync and fdatasync: the file's current bytes become its durable bytes. */
static int op_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct pfs_node *n = node_of(path, fi);

	count_sync();
	if (n == NULL)
		return -EBADF;
	bytes_resize(&n->dur, n->cur.len);
	if (n->dirty_lo < n->dirty_hi && n->dirty_lo < n->cur.len) {
		size_t hi = n->dirty_hi < n->cur.len ? n->dirty_hi : n->cur.len;

		memcpy(n->dur.data + n->dirty_lo, n->cur.data + n->dirty_lo, hi - n->dirty_lo);
	}
	n->dirty_lo = n->dirty_hi = 0;
	return 0;
}

/* fsync of a directory: its current names become its durable names. */
static int op_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct pfs_node *d = node_of(path, fi);

	count_sync();
	if (d == NULL || !d->dir)
		return -EBADF;
	entries_clear(&d->durable_ents);
	for (size_t i = 0; i < d->ents.n; i++)
		entries_add(&d->durable_ents, d->ents.v[i].name, d->ents.v[i].node);
	return 0;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi,
	enum fuse_readdir_flags flags)
{
	struct pfs_node *d = node_of(path, fi);

	if (d == NULL || !d->dir)
		return -ENOTDIR;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	for (size_t i = 0; i < d->ents.n; i++)
		if (fill(buf, d->ents.v[i].name, NULL, 0, 0) != 0)
			break;
	return 0;
}

static int remove_node(const char *path, bool dir)
{
	char last[256];
	struct pfs_node *d = lookup_parent(path, last, sizeof(last));
	struct pfs_entry *e = d ? entries_find(&d->ents, last) : NULL;

	if (e == NULL)
		return -ENOENT;
	if (e->node->dir != dir)
		return dir ? -ENOTDIR : -EISDIR;
	if (dir && e->node->ents.n != 0)
		return -ENOTEMPTY;
	entries_remove(&d->ents, e);
	clock_gettime(CLOCK_REALTIME, &d->mtime);
	return 0;
}

static int op_unlink(const char *path)
{
	return remove_node(path, false);
}

static int op_rmdir(const char *path)
{
	return remove_node(path, true);
}

static int op_rename(const char *from, const char *to, unsigned int flags)
{
	char a[256], b[256];
	struct pfs_node *da = lookup_parent(from, a, sizeof(a)), *db = lookup_parent(to, b, sizeof(b));
	struct pfs_entry *ea = da ? entries_find(&da->ents, a) : NULL, *eb;
	struct pfs_node *n;

	if (flags & ~(unsigned)RENAME_NOREPLACE)
		return -EINVAL;
	if (ea == NULL || db == NULL || b[0] == '\0')
		return -ENOENT;
	n = ea->node;
	if ((eb = entries_find(&db->ents, b)) != NULL) {
		if (eb->node == n)
			return 0;
		if (flags & RENAME_NOREPLACE)
			return -EEXIST;
		if (eb->node->dir != n->dir)
			return n->dir ? -ENOTDIR : -EISDIR;
		if (eb->node->dir && eb->node->ents.n != 0)
			return -ENOTEMPTY;
		eb->node = n;
	} else {
		entries_add(&db->ents, b, n);
	}
	/* Re-find: adding may have moved da's array when da == db. */
	entries_remove(&da->ents, entries_find(&da->ents, a));
	return 0;
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct pfs_node *n = node_of(path, fi);

	if (n == NULL)
		return -ENOENT;
	n->mode = mode & 07777;
	return 0;
}

static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	return node_of(path, fi) ? 0 : -ENOENT;
}

static int op_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	struct pfs_node *n = node_of(path, fi);

	if (n == NULL)
		return -ENOENT;
	clock_gettime(CLOCK_REALTIME, &n->mtime);
	return 0;
}

static int op_statfs(const char *path, struct statvfs *st)
{
	memset(st, 0, sizeof(*st));
	st->f_bsize = st->f_frsize = 4096;
	st->f_blocks = st->f_bfree = st->f_bavail = 1u << 24;
	st->f_files = st->f_ffree = 1u << 20;
	st->f_namemax = 255;
	return 0;
}

static const struct fuse_operations ops = {
	.init = op_init,
	.getattr = op_getattr,
	.access = op_access,
	.mkdir = op_mkdir,
	.create = op_create,
	.open = op_open,
	.opendir = op_opendir,
	.read = op_read,
	.write = op_write,
	.truncate = op_truncate,
	.fsync = op_fsync,
	.fsyncdir = op_fsyncdir,
	.readdir = op_readdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.rename = op_rename,
	.chmod = op_chmod,
	.chown = op_chown,
	.utimens = op_utimens,
	.statfs = op_statfs,
};

/* ---- the filesystem process ---- */

/* Loads the backing directory: everything in it is durable. */
static int load_tree(struct pfs_node *d, const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *de;
	int err = 0;

	if (dir == NULL)
		return -1;
	while (err == 0 && (de = readdir(dir)) != NULL) {
		size_t len = strlen(path) + strlen(de->d_name) + 2;
		char *p;
		struct stat st;
		struct pfs_node *n;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = xmalloc(len);
		snprintf(p, len, "%s/%s", path, de->d_name);
		if (lstat(p, &st) != 0 || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
			err = -1;
		} else if (S_ISDIR(st.st_mode)) {
			n = node_new(true, st.st_mode);
			err = load_tree(n, p);
		} else {
			uint8_t *data = tu_read_file(p, &len);

			n = node_new(false, st.st_mode);
			if (data == NULL) {
				err = -1;
			} else {
				bytes_resize(&n->cur, len);
				bytes_resize(&n->dur, len);
				if (len) {
					memcpy(n->cur.data, data, len);
					memcpy(n->dur.data, data, len);
				}
				free(data);
			}
		}
		if (err == 0) {
			entries_add(&d->ents, de->d_name, n);
			entries_add(&d->durable_ents, de->d_name, n);
		} else {
			fprintf(stderr, "powerfs: cannot load %s\n", p);
		}
		free(p);
	}
	closedir(dir);
	return err;
}

__attribute__((noreturn)) static void serve(const char *mountpoint)
{
	char *argv[] = { (char *)"powerfs", (char *)"-o", (char *)"fsname=powerfs,subtype=powerfs", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct fuse_session *se;
	struct fuse_buf buf = { .mem = NULL };

	S.root = node_new(true, 0755);
	if (load_tree(S.root, S.backing) != 0 || (S.fuse = fuse_new(&args, &ops, sizeof(ops), NULL)) == NULL ||
	    fuse_mount(S.fuse, mountpoint) != 0) {
		fprintf(stderr, "powerfs: cannot mount %s\n", mountpoint);
		_exit(1);
	}
	se = fuse_get_session(S.fuse);
	if (write(S.note, "r", 1) != 1)
		_exit(1);
	for (;;) {
		struct pollfd p[2] = { { fuse_session_fd(se), POLLIN, 0 }, { S.ctl, POLLIN, 0 } };
		int n;

		if (poll(p, 2, -1) < 0 && !S.orphaned)
			continue;
		/* A word from the test, or its end: the power goes out. */
		if (S.orphaned || p[1].revents)
			power_fail();
		if (!(p[0].revents & POLLIN))
			break;
		n = fuse_session_receive_buf(se, &buf);
		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n <= 0)
			break;
		fuse_session_process_buf(se, &buf);
	}
	/* Unmounted from outside: nothing to keep. */
	fprintf(stderr, "powerfs: %s was unmounted from outside\n", mountpoint);
	_exit(1);
}

/* ---- the test's side ---- */

static void on_orphaned(int sig)
{
	(void)sig;
	S.orphaned = 1;
}

struct pfs {
	pid_t pid;
	int ctl, note;
	bool out, failed;
};

/* Waits for the filesystem's word that the power is out and what survived is saved. */
static bool await_out(struct pfs *fs, int timeout_ms)
{
	struct pollfd p = { fs->note, POLLIN, 0 };
	char c;

	if (fs->out)
		return true;
	if (poll(&p, 1, timeout_ms) != 1)
		return false;
	fs->out = true;
	if (read(fs->note, &c, 1) != 1 || c != 'o') {
		fprintf(stderr, "powerfs: the filesystem failed at the cut\n");
		fs->failed = true;
	}
	return true;
}

const char *pfs_unavailable(void)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return "/dev/fuse cannot be opened";
	close(fd);
	if (geteuid() != 0 && tu_system("command -v fusermount3 >/dev/null 2>&1") != 0)
		return "not root and no fusermount3";
	return NULL;
}

int pfs_start(struct pfs **out, const char *mountpoint, const char *backing, unsigned fail_at_sync)
{
	int ctl[2], note[2];
	struct pfs *fs;
	char c = 0;

	if (pipe(ctl) != 0)
		return -1;
	if (pipe(note) != 0) {
		close(ctl[0]);
		close(ctl[1]);
		return -1;
	}
	fflush(NULL);
	fs = xmalloc(sizeof(*fs));
	if ((fs->pid = fork()) == 0) {
		close(ctl[1]);
		close(note[0]);
		S.ctl = ctl[0];
		S.note = note[1];
		S.backing = backing;
		S.fail_at_sync = fail_at_sync;
		/* The test's terminal signals are for the test; its death (a Check timeout) ends
		 * this process even while a process it forked, holding the control pipe, waits
		 * for this one. */
		struct sigaction sa = { .sa_handler = on_orphaned };

		signal(SIGINT, SIG_IGN);
		sigaction(SIGTERM, &sa, NULL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(1);
		serve(mountpoint);
	}
	close(ctl[0]);
	close(note[1]);
	fs->ctl = ctl[1];
	fs->note = note[0];
	fs->out = fs->failed = false;
	if (fs->pid < 0 || read(fs->note, &c, 1) != 1 || c != 'r') {
		fprintf(stderr, "powerfs: the filesystem did not start\n");
		fs->out = true;
		pfs_stop(fs);
		return -1;
	}
	*out = fs;
	return 0;
}

bool pfs_power_is_out(struct pfs *fs, int timeout_ms)
{
	return await_out(fs, timeout_ms);
}

int pfs_power_cut(struct pfs *fs)
{
	if (!fs->out && write(fs->ctl, "c", 1) != 1)
		fs->failed = true;
	await_out(fs, -1);
	return fs->failed ? -1 : 0;
}

void pfs_stop(struct pfs *fs)
{
	int status;

	if (fs == NULL)
		return;
	if (!fs->out)
		(void)pfs_power_cut(fs);
	if (write(fs->ctl, "q", 1) != 1)
		fprintf(stderr, "powerfs: the filesystem is gone\n");
	close(fs->ctl);
	close(fs->note);
	if (fs->pid > 0)
		waitpid(fs->pid, &status, 0);
	free(fs);
}
