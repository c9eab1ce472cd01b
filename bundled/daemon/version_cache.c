#include "version_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "translog/text.h"

struct slot {
	bool used;
	uint64_t applied; /* newest slots: valid while the registry's applied index is this */
	struct watch_event v;
};

struct version_cache {
	pthread_mutex_t lock;
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

/* The domain's hash, the sequence mixed in after. */
static size_t slot_index(const char *td, uint64_t sequence, size_t n)
{
	uint64_t h = tl_text_hash(td);

	return (size_t)((((h ^ sequence) * 0x9E3779B97F4A7C15ull) >> 20) % n);
}

/* Copies the slot's summary out if it is td's (and of `sequence`, unless any); lock held. */
static bool take(struct watch_event *out, const struct slot *s, const char *td, bool any, uint64_t sequence)
{
	if (!s->used || strcmp(s->v.domain, td) != 0 || (!any && s->v.sequence != sequence))
		return false;
	*out = s->v;
	return true;
}

bool version_cache_get(struct watch_event *out, struct version_cache *c, const char *td, uint64_t sequence)
{
	bool found;

	pthread_mutex_lock(&c->lock);
	found = take(out, &c->versions[slot_index(td, sequence, VERSION_CACHE_SLOTS)], td, false, sequence);
	pthread_mutex_unlock(&c->lock);
	return found;
}

bool version_cache_newest(struct watch_event *out, struct version_cache *c, const char *td, uint64_t applied)
{
	const struct slot *s;
	bool found;

	pthread_mutex_lock(&c->lock);
	s = &c->newest[slot_index(td, 0, VERSION_CACHE_NEWEST_SLOTS)];
	found = s->applied == applied && take(out, s, td, true, 0);
	pthread_mutex_unlock(&c->lock);
	return found;
}

/* Lock held. */
static void fill(struct slot *s, const struct watch_event *v, uint64_t applied)
{
	s->used = true;
	s->applied = applied;
	s->v = *v;
}

void version_cache_put(struct version_cache *c, const struct watch_event *v, bool newest, uint64_t applied)
{
	struct slot *s;

	pthread_mutex_lock(&c->lock);
	fill(&c->versions[slot_index(v->domain, v->sequence, VERSION_CACHE_SLOTS)], v, 0);
	s = &c->newest[slot_index(v->domain, 0, VERSION_CACHE_NEWEST_SLOTS)];
	/* Never back to an older version of the domain, nor to an older applied index. */
	if (newest && !(s->used && strcmp(s->v.domain, v->domain) == 0 &&
			      (s->v.sequence > v->sequence || s->applied > applied)))
		fill(s, v, applied);
	pthread_mutex_unlock(&c->lock);
}

static uint64_t used(const struct slot *slots, size_t n)
{
	uint64_t count = 0;

	for (size_t i = 0; i < n; i++)
		count += slots[i].used;
	return count;
}

void version_cache_count(uint64_t *versions, uint64_t *newest, struct version_cache *c)
{
	pthread_mutex_lock(&c->lock);
	*versions = used(c->versions, VERSION_CACHE_SLOTS);
	*newest = used(c->newest, VERSION_CACHE_NEWEST_SLOTS);
	pthread_mutex_unlock(&c->lock);
}
