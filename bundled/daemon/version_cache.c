#include "version_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	bool used;
	struct watch_event v;
};

struct version_cache {
	pthread_mutex_t lock;
	uint64_t epoch; /* commits seen (under the lock) */
	uint64_t n_versions, n_newest;
	struct slot versions[VERSION_CACHE_SLOTS];
	struct slot newest[VERSION_CACHE_NEWEST_SLOTS];
};

int version_cache_new(struct version_cache **out)
{
	struct version_cache *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void version_cache_free(struct version_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* FNV-1a over the domain, then the sequence mixed in. */
static uint64_t key_hash(const char *td, uint64_t sequence)
{
	uint64_t h = 1469598103934665603ull;

	for (const char *p = td; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return (h ^ sequence) * 0x9E3779B97F4A7C15ull;
}

static struct slot *version_slot(struct version_cache *c, const char *td, uint64_t sequence)
{
	return &c->versions[(key_hash(td, sequence) >> 20) % VERSION_CACHE_SLOTS];
}

static struct slot *newest_slot(struct version_cache *c, const char *td)
{
	return &c->newest[(key_hash(td, 0) >> 20) % VERSION_CACHE_NEWEST_SLOTS];
}

bool version_cache_get(struct watch_event *out, struct version_cache *c, const char *td, bool newest,
	uint64_t sequence)
{
	struct slot *s;
	bool found;

	pthread_mutex_lock(&c->lock);
	s = newest ? newest_slot(c, td) : version_slot(c, td, sequence);
	found = s->used && strcmp(s->v.domain, td) == 0 && (newest || s->v.sequence == sequence);
	if (found)
		*out = s->v;
	pthread_mutex_unlock(&c->lock);
	return found;
}

uint64_t version_cache_epoch(struct version_cache *c)
{
	uint64_t epoch;

	pthread_mutex_lock(&c->lock);
	epoch = c->epoch;
	pthread_mutex_unlock(&c->lock);
	return epoch;
}

/* Lock held. */
static void fill(struct slot *s, uint64_t *count, const struct watch_event *v)
{
	if (!s->used)
		(*count)++;
	s->used = true;
	s->v = *v;
}

/* Lock held: v becomes its domain's newest unless the slot knows a later one of it. */
static void set_newest(struct version_cache *c, const struct watch_event *v)
{
	struct slot *s = newest_slot(c, v->domain);

	if (s->used && strcmp(s->v.domain, v->domain) == 0 && s->v.sequence > v->sequence)
		return;
	fill(s, &c->n_newest, v);
}

void version_cache_put(struct version_cache *c, const struct watch_event *v, bool newest, uint64_t epoch)
{
	pthread_mutex_lock(&c->lock);
	fill(version_slot(c, v->domain, v->sequence), &c->n_versions, v);
	if (newest && epoch == c->epoch)
		set_newest(c, v);
	pthread_mutex_unlock(&c->lock);
}

void version_cache_committed(struct version_cache *c, const struct watch_event *v)
{
	pthread_mutex_lock(&c->lock);
	c->epoch++;
	fill(version_slot(c, v->domain, v->sequence), &c->n_versions, v);
	set_newest(c, v);
	pthread_mutex_unlock(&c->lock);
}

void version_cache_forget_newest(struct version_cache *c)
{
	pthread_mutex_lock(&c->lock);
	c->epoch++;
	memset(c->newest, 0, sizeof(c->newest));
	c->n_newest = 0;
	pthread_mutex_unlock(&c->lock);
}

void version_cache_count(uint64_t *versions, uint64_t *newest, struct version_cache *c)
{
	pthread_mutex_lock(&c->lock);
	*versions = c->n_versions;
	*newest = c->n_newest;
	pthread_mutex_unlock(&c->lock);
}
