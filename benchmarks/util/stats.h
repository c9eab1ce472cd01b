/* Latency samples: sorted, so that p50 is v[n / 2] and p99 v[n * 99 / 100]. */
#ifndef BUNDLED_BENCH_STATS_H
#define BUNDLED_BENCH_STATS_H

#include <stddef.h>

/* Sorts v[0..n) in increasing order. */
void bench_sort(double *v, size_t n);

#endif
