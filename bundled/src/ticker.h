/*
 * A thread that calls fn(ctx) at once and then every interval_ms until stopped: the
 * followers of the mirrors (replica, git mirror, IPFS tile directory) run their rounds on
 * one each. A stop wakes it from its wait; a round in progress finishes first.
 */
#ifndef BUNDLED_TICKER_H
#define BUNDLED_TICKER_H

#include <pthread.h>
#include <stdbool.h>

#include "translog/error.h"

struct bd__ticker {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping, running;
	bool kicked;            /* a round is due now, not at the end of the interval */
	pthread_t thread;
	unsigned interval_ms;
	void (*fn)(void *ctx);
	void *ctx;
};

int bd__ticker_start(struct bd__ticker *t, unsigned interval_ms, void (*fn)(void *ctx), void *ctx) TL_MUST_USE;
/* Runs the next round now (after the one in progress, if any) instead of at the end of the
 * interval; kicks while a round runs make one more round, not one each. Any thread. Harmless
 * if never started. */
void bd__ticker_kick(struct bd__ticker *t);
/* Harmless if never started; the ticker may be started again afterwards. */
void bd__ticker_stop(struct bd__ticker *t);

#endif
