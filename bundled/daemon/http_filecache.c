/*
 * Immutable response bodies kept in memory files (memfd): a hit costs a lookup, no read of
 * the store and no copy by the daemon. Large bodies are sent with sendfile (the kernel hands
 * the file's pages to the socket), smaller ones and all over TLS are lent from the file's
 * read-only mapping (benchmarks/README.md, "HTTP", second and third passes). The daemon keeps
 * one cache of raw blocks and one of entry bundles. See http_cache.h.
 *
 * The bytes of a file are never rewritten: the kernel may still be sending a page after
 * sendfile returned, so a body's bytes must stay as they were until its last reader is done.
 * Bodies are appended to the current file (an arena); when it is full a new one starts, and
 * the one before it is dropped from the index (its last responses keep it open through their
 * references, and the kernel keeps the pages it still sends). So at most two arenas are
 * indexed, and memory is bounded by two arenas plus the ones in-flight responses still hold.
 */
#define _GNU_SOURCE /* memfd_create */
#include "http_cache.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "translog/text.h"

struct arena {
	int fd;
	const uint8_t *map; /* the whole file, read-only: bodies are also lent as memory */
	size_t cap;
	uint64_t used; /* bytes appended (under the cache's lock) */
	unsigned refs; /* the cache's (while indexed) and one per response reading it */
};

struct slot {
	struct arena *arena; /* NULL: empty; the index holds no reference of its own */
	uint64_t off;
	size_t len;
	char key[HTTP_FILE_MAX_KEY + 1];
};

struct http_file_cache {
	pthread_mutex_t lock;
	size_t arena_bytes;
	struct arena *cur, *prev;
	uint64_t bodies, hits, misses; /* for http_file_cache_stats */
	size_t nslots;
	struct slot *slots;
};

static void arena_unref(struct arena *a)
{
	if (a != NULL && __atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		if (a->map != NULL)
			munmap((void *)(uintptr_t)a->map, a->cap);
		close(a->fd);
		free(a);
	}
}

void http_file_release(void *ref)
{
	arena_unref(ref);
}

int http_file_cache_new_sized(struct http_file_cache **out, size_t arena_bytes, size_t slots)
{
	struct http_file_cache *c = calloc(1, sizeof(*c));

	assert(slots > 0);
	*out = NULL;
	if (c == NULL || (c->slots = calloc(slots, sizeof(*c->slots))) == NULL) {
		free(c);
		return tl_error_set(TL_E_NOMEM, "out of memory for a file cache of %zu bodies", slots);
	}
	pthread_mutex_init(&c->lock, NULL);
	c->arena_bytes = arena_bytes;
	c->nslots = slots;
	*out = c;
	return 0;
}

int http_file_cache_new(struct http_file_cache **out, size_t arena_bytes)
{
	return http_file_cache_new_sized(out, arena_bytes, HTTP_FILE_SLOTS);
}

void http_file_cache_free(struct http_file_cache *c)
{
	if (c == NULL)
		return;
	arena_unref(c->cur);
	arena_unref(c->prev);
	pthread_mutex_destroy(&c->lock);
	free(c->slots);
	free(c);
}

static struct slot *slot_of(struct http_file_cache *c, const char *key)
{
	return &c->slots[tl_text_hash(key) % c->nslots];
}

static void hand_out(struct http_file_body *out, const struct slot *s)
{
	__atomic_add_fetch(&s->arena->refs, 1, __ATOMIC_ACQ_REL);
	out->fd = s->arena->fd;
	out->data = s->arena->map + s->off;
	out->off = s->off;
	out->len = s->len;
	out->ref = s->arena;
}

bool http_file_cache_get(struct http_file_body *out, struct http_file_cache *c, const char *key)
{
	struct slot *s = slot_of(c, key);
	bool found;

	pthread_mutex_lock(&c->lock);
	found = s->arena != NULL && strcmp(s->key, key) == 0;
	if (found) {
		hand_out(out, s);
		c->hits++;
	} else {
		c->misses++;
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

/* A memory file of `cap` bytes (its pages are only allocated as they are written), mapped
 * read-only. Appends go through pwrite, which reports a lack of memory as an error where a
 * write into a shared mapping would get SIGBUS. */
static int arena_new(struct arena **out, size_t cap)
{
	struct arena *a = calloc(1, sizeof(*a));
	void *map;
	int err = 0;

	*out = NULL;
	if (a == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	a->fd = -1;
	if ((a->fd = memfd_create("bundled-bodies", MFD_CLOEXEC)) < 0) {
		err = tl_error_set(TL_E_IO, "memfd_create: %s", strerror(errno));
		goto out;
	}
	if (ftruncate(a->fd, (off_t)cap) != 0) {
		err = tl_error_set(TL_E_IO, "sizing a memory file to %zu bytes: %s", cap, strerror(errno));
		goto out;
	}
	if ((map = mmap(NULL, cap, PROT_READ, MAP_SHARED, a->fd, 0)) == MAP_FAILED) {
		err = tl_error_set(TL_E_NOMEM, "mapping a memory file of %zu bytes: %s", cap, strerror(errno));
		goto out;
	}
	a->map = map;
	a->cap = cap;
	a->refs = 1;
	*out = a;
	a = NULL;
out:
	if (a != NULL && a->fd >= 0)
		close(a->fd);
	free(a);
	return err;
}

/* A new current arena; the previous one leaves the index. Lock held. */
static int rotate(struct http_file_cache *c)
{
	struct arena *a;
	int err;

	if ((err = arena_new(&a, c->arena_bytes)) != 0)
		return err;
	if (c->prev != NULL) {
		for (size_t i = 0; i < c->nslots; i++)
			if (c->slots[i].arena == c->prev) {
				c->slots[i].arena = NULL;
				c->bodies--;
			}
		arena_unref(c->prev);
	}
	c->prev = c->cur;
	c->cur = a;
	return 0;
}

static int append(struct arena *a, const uint8_t *data, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pwrite(a->fd, data + done, len - done, (off_t)(a->used + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return tl_error_set(TL_E_IO, "writing a body to memory: %s", n < 0 ? strerror(errno) : "no progress");
		done += (size_t)n;
	}
	return 0;
}

int http_file_cache_put(struct http_file_body *out, struct http_file_cache *c, const char *key, const void *data,
	size_t len)
{
	struct slot *s = slot_of(c, key);
	size_t key_len = strlen(key);
	int err = 0;

	if (len == 0 || len > c->arena_bytes / 4 || key_len > HTTP_FILE_MAX_KEY)
		return tl_error_set(TL_E_INPUT, "a body of %zu bytes is not kept in a file", len);
	pthread_mutex_lock(&c->lock);
	if (s->arena != NULL && strcmp(s->key, key) == 0) /* another thread was first */
		goto found;
	if ((c->cur == NULL || c->cur->used + len > c->arena_bytes) && (err = rotate(c)) != 0)
		goto out;
	if ((err = append(c->cur, data, len)) != 0)
		goto out;
	/* A slot taken by another key is simply reused: its bytes stay in their arena, dead. */
	if (s->arena == NULL)
		c->bodies++;
	s->arena = c->cur;
	s->off = c->cur->used;
	s->len = len;
	memcpy(s->key, key, key_len + 1);
	c->cur->used += len;
found:
	hand_out(out, s);
out:
	pthread_mutex_unlock(&c->lock);
	return err;
}

/* Answers with a lent body: from memory (one writev with the head) when small or over TLS
 * (which cannot sendfile), else with sendfile. */
static void reply_body(bd_httpd_response *res, const struct http_file_body *f, const char *type, bool tls)
{
	if (tls || f->len < HTTP_FILE_SENDFILE_MIN)
		bd_httpd_reply_borrowed(res, 200, type, f->data, f->len, http_file_release, f->ref);
	else
		bd_httpd_reply_file(res, 200, type, f->fd, f->off, f->len, http_file_release, f->ref);
}

bool http_file_reply(bd_httpd_response *res, struct http_file_cache *c, const char *key, const char *type, bool tls)
{
	struct http_file_body f;

	if (!http_file_cache_get(&f, c, key))
		return false;
	reply_body(res, &f, type, tls);
	return true;
}

int http_file_reply_put(bd_httpd_response *res, struct http_file_cache *c, const char *key, const char *type,
	const void *data, size_t len, bool tls)
{
	struct http_file_body f;
	int err = http_file_cache_put(&f, c, key, data, len);

	if (err == 0)
		reply_body(res, &f, type, tls);
	return err;
}

void http_file_cache_stats(struct http_file_cache_stats *out, struct http_file_cache *c)
{
	pthread_mutex_lock(&c->lock);
	out->bytes = (c->cur != NULL ? c->cur->used : 0) + (c->prev != NULL ? c->prev->used : 0);
	out->bodies = c->bodies;
	out->hits = c->hits;
	out->misses = c->misses;
	pthread_mutex_unlock(&c->lock);
}
