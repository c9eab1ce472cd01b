/*
 * The benchmarks' stopwatch. Not part of any library: the Makefile links every .c file of
 * benchmarks/util into every benchmark.
 */
#ifndef BUNDLED_BENCH_CLOCK_H
#define BUNDLED_BENCH_CLOCK_H

/* Seconds on the monotonic clock (CLOCK_MONOTONIC): only differences mean anything. */
double bench_now_s(void);

/* CPU seconds of the whole process (CLOCK_PROCESS_CPUTIME_ID), background threads included:
 * on a shared, loaded machine the wall clock also counts the time other jobs held the cores,
 * the CPU time much less. Only differences mean anything. */
double bench_cpu_s(void);

#endif
