/*
 * The daemon's metric registry, rendered by GET /metrics in the Prometheus text format 0.0.4.
 *
 * A feature registers each of its series once, at start, in one line, and keeps the handle:
 *
 *     struct metric *published;
 *     if ((err = metrics_counter(&published, d->metrics, "bundled_publishes_total",
 *             "Writes that added an entry to the log.", "kind=\"bundle\"")) != 0)
 *             goto out;
 *     ...
 *     metric_inc(published);             (any thread, lock-free)
 *
 * or, for a value another module already keeps, registers a function the scrape calls:
 *
 *     err = metrics_sampled(d->metrics, METRIC_GAUGE, "bundled_watchers", "Open watch streams.",
 *             NULL, watchers_count, hub);       (double watchers_count(void *hub))
 *
 * Series of one name form a family (one HELP and TYPE): register them with the same type,
 * help and, for histograms, buckets. `labels` is the inside of the braces, already escaped
 * ("route=\"/checkpoint\",method=\"GET\""), or NULL; its label set must be bounded (route
 * patterns, reasons, never raw paths or peer addresses), since every series lives until the
 * registry is freed. `help` is one line without backslashes. Names follow Prometheus
 * conventions: base units (_seconds, _bytes), counters end in _total (and only they).
 * Registration checks all this (TL_E_INPUT) and is safe from any thread; updates never block
 * and never fail. docs/operations.md lists every series: add yours there.
 */
#ifndef BUNDLED_DAEMON_METRICS_H
#define BUNDLED_DAEMON_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/error.h"

#define METRICS_MAX_NAME 128    /* bytes of a metric name */
#define METRICS_MAX_LABELS 256  /* bytes of a series' label text */
#define METRICS_MAX_BUCKETS 32  /* upper bounds of a histogram, +Inf not counted */

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metrics;
struct metric; /* one series */

/* Request latencies, in seconds: 0.5 ms to 10 s. */
extern const double metrics_latency_buckets[];
extern const size_t metrics_latency_nbuckets;

int metrics_new(struct metrics **out) TL_MUST_USE;
/* Frees the registry and every series: no handle may be used afterwards. NULL is ignored. */
void metrics_free(struct metrics *m);

/* A counter (name ends in _total) or a gauge the caller updates. */
int metrics_counter(struct metric **out, struct metrics *m, const char *name, const char *help, const char *labels)
	TL_MUST_USE;
int metrics_gauge(struct metric **out, struct metrics *m, const char *name, const char *help, const char *labels)
	TL_MUST_USE;
/* A histogram with the given strictly increasing upper bounds (the +Inf bucket is implied). */
int metrics_histogram(struct metric **out, struct metrics *m, const char *name, const char *help, const char *labels,
	const double *bounds, size_t nbounds) TL_MUST_USE;

/* A counter or gauge whose value read(ctx) returns at each scrape (called with the registry's
 * lock held: it must be quick and must not register). */
int metrics_sampled(struct metrics *m, enum metric_type type, const char *name, const char *help, const char *labels,
	double (*read)(void *ctx), void *ctx) TL_MUST_USE;

/* What a sampled histogram's reader fills: counts[i] observations <= bounds[i] and above
 * bounds[i-1] (not cumulative), `over` those above the last bound. */
struct metric_hist_sample {
	uint64_t counts[METRICS_MAX_BUCKETS];
	uint64_t over;
	double sum;
};
int metrics_sampled_histogram(struct metrics *m, const char *name, const char *help, const char *labels,
	const double *bounds, size_t nbounds, void (*read)(struct metric_hist_sample *out, void *ctx), void *ctx)
	TL_MUST_USE;

/* Updates. A counter only grows; handles of the wrong type are a programming error. */
void metric_add(struct metric *s, uint64_t n);
void metric_inc(struct metric *s);
void metric_set(struct metric *s, double v);
void metric_gauge_add(struct metric *s, double delta);
void metric_observe(struct metric *s, double v);

/* Appends the exposition of every family, in the order they were first registered. */
int metrics_render(tl_buf *out, struct metrics *m) TL_MUST_USE;

#endif
