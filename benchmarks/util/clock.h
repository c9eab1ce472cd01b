/*
 * The benchmarks' stopwatch. Not part of any library: the Makefile links every .c file of
 * benchmarks/util into every benchmark.
 */
#ifndef BUNDLED_BENCH_CLOCK_H
#define BUNDLED_BENCH_CLOCK_H

/* Seconds on the monotonic clock (CLOCK_MONOTONIC): only differences mean anything. */
double bench_now_s(void);

#endif
