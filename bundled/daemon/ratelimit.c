#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bucket {
	char addr[RATELIMIT_ADDR_MAX];
	double tokens;
	uint64_t last_ms;
};

struct ratelimit {
	pthread_mutex_t lock;
	double rate, burst;
	size_t n;
	struct bucket buckets[RATELIMIT_MAX_CLIENTS];
};

int ratelimit_new(struct ratelimit **out, double rate, double burst)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));

	if (rl == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	pthread_mutex_init(&rl->lock, NULL);
	rl->rate = rate;
	rl->burst = burst < 1 ? 1 : burst;
	*out = rl;
	return 0;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

uint64_t ratelimit_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The client's bucket, or the one idle longest made new for it. A linear scan: the table is
 * small and a write costs far more (an fsync) than this. */
static struct bucket *find(struct ratelimit *rl, const char *addr, uint64_t now_ms)
{
	struct bucket *oldest = NULL;

	for (size_t i = 0; i < rl->n; i++) {
		if (strcmp(rl->buckets[i].addr, addr) == 0)
			return &rl->buckets[i];
		if (oldest == NULL || rl->buckets[i].last_ms < oldest->last_ms)
			oldest = &rl->buckets[i];
	}
	if (rl->n < RATELIMIT_MAX_CLIENTS)
		oldest = &rl->buckets[rl->n++];
	memset(oldest, 0, sizeof(*oldest));
	memcpy(oldest->addr, addr, strnlen(addr, sizeof(oldest->addr) - 1));
	oldest->tokens = rl->burst;
	oldest->last_ms = now_ms;
	return oldest;
}

uint64_t ratelimit_take(struct ratelimit *rl, const char *addr, uint64_t now_ms)
{
	struct bucket *b;
	uint64_t wait = 0;

	if (rl == NULL || rl->rate <= 0)
		return 0;
	pthread_mutex_lock(&rl->lock);
	b = find(rl, addr, now_ms);
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * rl->rate / 1000.0;
		if (b->tokens > rl->burst)
			b->tokens = rl->burst;
		b->last_ms = now_ms;
	}
	if (b->tokens >= 1.0)
		b->tokens -= 1.0;
	else
		wait = (uint64_t)((1.0 - b->tokens) / rl->rate) + 1;
	pthread_mutex_unlock(&rl->lock);
	return wait;
}
