/*
 * The series of the daemon's own modules, read from them at each scrape: the process, the
 * log (tl_log_stats) and the pin queue (bd_pinq_counts). Features register theirs where
 * they are built (see metrics.h).
 */
#include "metrics_daemon.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "logging.h"

static double read_started(void *ctx)
{
	return (double)((struct daemon *)ctx)->started;
}

static struct tl_log_stats log_stats(void *ctx)
{
	struct tl_log_stats ls;

	tl_log_stats(&ls, ((struct daemon *)ctx)->log);
	return ls;
}

/* The plain fields of tl_log_stats, each one series. */
static const struct {
	const char *name, *help;
	enum metric_type type;
	size_t offset; /* of a uint64_t in struct tl_log_stats */
	double scale;
} log_fields[] = {
	{ "bundled_log_size", "Entries in the transparency log.", METRIC_GAUGE, offsetof(struct tl_log_stats, size), 1 },
	{ "bundled_log_appends_total", "Entries appended since start.", METRIC_COUNTER,
		offsetof(struct tl_log_stats, appends), 1 },
	{ "bundled_log_commits_total", "Group commits since start.", METRIC_COUNTER,
		offsetof(struct tl_log_stats, commits), 1 },
	{ "bundled_log_failed_commits", "1 once a commit failed: the log refuses appends until restarted.",
		METRIC_GAUGE, offsetof(struct tl_log_stats, failed_commits), 1 },
	{ "bundled_log_last_batch_entries", "Entries in the last group commit.", METRIC_GAUGE,
		offsetof(struct tl_log_stats, last_batch), 1 },
	{ "bundled_log_last_commit_timestamp_seconds", "Unix time the last group commit ended; 0 if none since start.",
		METRIC_GAUGE, offsetof(struct tl_log_stats, last_commit_unix_ms), 1e-3 },
};
#define NLOG_FIELDS (sizeof(log_fields) / sizeof(log_fields[0]))

/* A reader's context per field: the process runs one daemon, so one set suffices. */
static struct log_field {
	struct daemon *d;
	size_t i;
} log_field_ctx[NLOG_FIELDS];

static double read_log_field(void *ctx)
{
	const struct log_field *f = ctx;
	struct tl_log_stats ls = log_stats(f->d);
	uint64_t v;

	memcpy(&v, (const char *)&ls + log_fields[f->i].offset, sizeof(v));
	return (double)v * log_fields[f->i].scale;
}

/* A histogram of tl_log_stats in the registry's shape. */
static void hist_from(struct metric_hist_sample *out, const uint64_t *counts, size_t n, double sum)
{
	for (size_t i = 0; i < n; i++)
		out->counts[i] = counts[i];
	out->over = counts[n];
	out->sum = sum;
}

static void read_commit_hist(struct metric_hist_sample *out, void *ctx)
{
	struct tl_log_stats ls = log_stats(ctx);

	hist_from(out, ls.commit_us_hist, TL_LOG_COMMIT_BUCKETS, (double)ls.commit_us_total / 1e6);
}

static void read_batch_hist(struct metric_hist_sample *out, void *ctx)
{
	struct tl_log_stats ls = log_stats(ctx);

	hist_from(out, ls.batch_hist, TL_LOG_BATCH_BUCKETS, (double)ls.appends);
}

static bd_pinq_counts pin_counts(void *ctx)
{
	bd_pinq_counts pc;

	bd_pinq_counts_get(&pc, ((struct daemon *)ctx)->pins);
	return pc;
}

static double read_pins_pending(void *ctx)
{
	return (double)pin_counts(ctx).pending;
}

static double read_pins_pinned(void *ctx)
{
	return (double)pin_counts(ctx).pinned;
}

static double read_pins_failed(void *ctx)
{
	return (double)pin_counts(ctx).failed;
}

static double read_pin_attempts_failed(void *ctx)
{
	return (double)pin_counts(ctx).attempts_failed;
}

static double read_pin_storage_errors(void *ctx)
{
	return (double)pin_counts(ctx).storage_errors;
}

/* 0 with nothing pending; a queue that cannot be read shows NaN, which no alert mistakes
 * for "fine" (and bundled_pin_queue_storage_errors_total tells why). */
static double read_pin_oldest(void *ctx)
{
	struct daemon *d = ctx;
	struct timespec now;
	uint64_t enqueued, now_ms;
	int err = bd_pinq_oldest_pending(&enqueued, d->pins);

	if (err == TL_E_NOTFOUND)
		return 0;
	if (err != 0) {
		log_at(LOG_WARN, "metrics: cannot read the pin queue", "error=\"%s\"", tl_error_message());
		return 0.0 / 0.0;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	now_ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
	return now_ms > enqueued ? (double)(now_ms - enqueued) / 1e3 : 0;
}

static int register_log(struct metrics *m, struct daemon *d)
{
	double commit_bounds[TL_LOG_COMMIT_BUCKETS], batch_bounds[TL_LOG_BATCH_BUCKETS];
	int err;

	for (size_t i = 0; i < TL_LOG_COMMIT_BUCKETS; i++)
		commit_bounds[i] = (double)tl_log_commit_bounds_us[i] / 1e6;
	for (size_t i = 0; i < TL_LOG_BATCH_BUCKETS; i++)
		batch_bounds[i] = (double)tl_log_batch_bounds[i];
	for (size_t i = 0; i < NLOG_FIELDS; i++) {
		log_field_ctx[i] = (struct log_field){ d, i };
		if ((err = metrics_sampled(m, log_fields[i].type, log_fields[i].name, log_fields[i].help, NULL,
			     read_log_field, &log_field_ctx[i])) != 0)
			return err;
	}
	if ((err = metrics_sampled_histogram(m, "bundled_log_commit_duration_seconds",
		     "Group commits by duration: sequencing, hashing, signing, write and sync.", NULL, commit_bounds,
		     TL_LOG_COMMIT_BUCKETS, read_commit_hist, d)) != 0)
		return err;
	return metrics_sampled_histogram(m, "bundled_log_batch_entries", "Group commits by entries committed.", NULL,
		batch_bounds, TL_LOG_BATCH_BUCKETS, read_batch_hist, d);
}

static int register_pins(struct metrics *m, struct daemon *d)
{
	static const char help[] = "Items of the IPFS pin queue by state.";
	int err;

	if ((err = metrics_sampled(m, METRIC_GAUGE, "bundled_pin_queue_items", help, "state=\"pending\"",
		     read_pins_pending, d)) != 0 ||
	    (err = metrics_sampled(m, METRIC_GAUGE, "bundled_pin_queue_items", help, "state=\"pinned\"",
		     read_pins_pinned, d)) != 0 ||
	    (err = metrics_sampled(m, METRIC_GAUGE, "bundled_pin_queue_items", help, "state=\"failed\"",
		     read_pins_failed, d)) != 0 ||
	    (err = metrics_sampled(m, METRIC_GAUGE, "bundled_pin_queue_oldest_pending_seconds",
		     "Age of the longest-waiting pending pin; 0 with none pending.", NULL, read_pin_oldest, d)) != 0 ||
	    (err = metrics_sampled(m, METRIC_COUNTER, "bundled_pin_attempts_failed_total",
		     "Failed pin attempts since start.", NULL, read_pin_attempts_failed, d)) != 0)
		return err;
	return metrics_sampled(m, METRIC_COUNTER, "bundled_pin_queue_storage_errors_total",
		"Pin queue steps that could not read or write the queue.", NULL, read_pin_storage_errors, d);
}

static double read_lent(void *ctx)
{
	return (double)http_lent_bytes();
}

static struct http_file_cache_stats file_cache_stats(void *cache)
{
	struct http_file_cache_stats st;

	http_file_cache_stats(&st, cache);
	return st;
}

static double read_file_cache_bytes(void *cache)
{
	return (double)file_cache_stats(cache).bytes;
}

static double read_file_cache_hits(void *cache)
{
	return (double)file_cache_stats(cache).hits;
}

static double read_file_cache_misses(void *cache)
{
	return (double)file_cache_stats(cache).misses;
}

/* The memory files of raw blocks and of entry bundles (http_filecache.c): their memory is
 * shared memory, not in the daemon's RSS, so it is shown here. */
static int register_file_cache(struct metrics *m, struct http_file_cache *c, const char *name)
{
	char bytes_labels[64], hit_labels[64], miss_labels[64];
	int err;

	snprintf(bytes_labels, sizeof(bytes_labels), "cache=\"%s\"", name);
	snprintf(hit_labels, sizeof(hit_labels), "cache=\"%s\",result=\"hit\"", name);
	snprintf(miss_labels, sizeof(miss_labels), "cache=\"%s\",result=\"miss\"", name);
	if ((err = metrics_sampled(m, METRIC_GAUGE, "bundled_http_file_cache_bytes",
		     "Bytes in the memory files an HTTP body cache indexes (its bound is twice its file size).",
		     bytes_labels, read_file_cache_bytes, c)) != 0 ||
	    (err = metrics_sampled(m, METRIC_COUNTER, "bundled_http_file_cache_lookups_total",
		     "Lookups in an HTTP body cache, by result.", hit_labels, read_file_cache_hits, c)) != 0)
		return err;
	return metrics_sampled(m, METRIC_COUNTER, "bundled_http_file_cache_lookups_total",
		"Lookups in an HTTP body cache, by result.", miss_labels, read_file_cache_misses, c);
}

int daemon_metrics_register(struct daemon *d)
{
	int err;

	if ((err = metrics_sampled(d->metrics, METRIC_GAUGE, "bundled_start_time_seconds",
		     "Unix time the daemon started.", NULL, read_started, d)) != 0 ||
	    (err = metrics_sampled(d->metrics, METRIC_GAUGE, "bundled_http_lent_bytes",
		     "Bytes of RocksDB's block cache lent to responses being sent (capped).", NULL, read_lent, d)) != 0 ||
	    (err = register_file_cache(d->metrics, d->files, "blocks")) != 0 ||
	    (err = register_file_cache(d->metrics, d->bundles, "bundles")) != 0 ||
	    (err = register_log(d->metrics, d)) != 0)
		return err;
	return d->pins != NULL ? register_pins(d->metrics, d) : 0;
}
