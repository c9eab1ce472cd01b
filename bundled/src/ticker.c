/* The rounds' thread of the mirrors: see ticker.h. */
#include "ticker.h"

#include <errno.h>
#include <time.h>

static void *run(void *arg)
{
	struct bd__ticker *t = arg;

	pthread_mutex_lock(&t->lock);
	while (!t->stopping) {
		struct timespec until;

		t->kicked = false;
		pthread_mutex_unlock(&t->lock);
		t->fn(t->ctx);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)(t->interval_ms % 1000u) * 1000000L;
		until.tv_sec += t->interval_ms / 1000u + until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&t->lock);
		while (!t->stopping && !t->kicked && pthread_cond_timedwait(&t->wake, &t->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int bd__ticker_start(struct bd__ticker *t, unsigned interval_ms, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
	t->stopping = false;
	t->kicked = false;
	t->interval_ms = interval_ms;
	t->fn = fn;
	t->ctx = ctx;
	if (pthread_create(&t->thread, NULL, run, t) != 0) {
		pthread_mutex_destroy(&t->lock);
		pthread_cond_destroy(&t->wake);
		return tl_error_set(TL_E_INTERNAL, "cannot start a thread");
	}
	t->running = true;
	return 0;
}

/* Sets one of the thread's flags and wakes it from its wait. */
static void wake_with(struct bd__ticker *t, bool *flag)
{
	pthread_mutex_lock(&t->lock);
	*flag = true;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
}

void bd__ticker_kick(struct bd__ticker *t)
{
	if (t->running)
		wake_with(t, &t->kicked);
}

void bd__ticker_stop(struct bd__ticker *t)
{
	if (!t->running)
		return;
	wake_with(t, &t->stopping);
	pthread_join(t->thread, NULL);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->wake);
	t->running = false;
}
