/*
 * Per-client rate limits on writes: one token bucket per client address (`rate` tokens a
 * second, at most `burst` held). Reads are not limited here. The table of buckets has a
 * fixed size; when it is full, the bucket that was idle longest is reused (a full bucket
 * again, which is what an idle client would have by now anyway when rate * idle >= burst).
 */
#ifndef BUNDLED_DAEMON_RATELIMIT_H
#define BUNDLED_DAEMON_RATELIMIT_H

#include <stdint.h>

#include "translog/error.h"

#define RATELIMIT_MAX_CLIENTS 4096
#define RATELIMIT_ADDR_MAX 64

struct ratelimit;

/* rate 0 turns limiting off. */
int ratelimit_new(struct ratelimit **out, double rate, double burst) TL_MUST_USE;
void ratelimit_free(struct ratelimit *rl);

/* Takes one token for `addr` at monotonic time now_ms: 0 if there was one, else the whole
 * seconds (>= 1) until there will be, for Retry-After. */
uint64_t ratelimit_take(struct ratelimit *rl, const char *addr, uint64_t now_ms);

/* Monotonic milliseconds. */
uint64_t ratelimit_now_ms(void);

#endif
