/* Operator endpoints: liveness and Prometheus metrics. */
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "routes.h"

int route_healthz(bd_httpd_response *res, const struct http_request *req, void *app)
{
	return bd_httpd_reply(res, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

int route_metrics(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	struct tl_log_stats ls;
	uint64_t by_class[6];
	tl_buf *b = &res->body;
	int err;

	tl_log_stats(&ls, d->log);
	http_counts(by_class);
	res->status = 200;
	res->content_type = "text/plain; version=0.0.4; charset=utf-8";
	tl_buf_reset(b);
/* The response body is the caller's: nothing to clean up, so a failure returns at once. */
#define METRIC(name, type, help, fmt, ...)                                                          \
	do {                                                                                        \
		if ((err = tl_buf_printf(b, "# HELP " name " " help "\n# TYPE " name " " type "\n" fmt "\n", \
			     __VA_ARGS__)) != 0)                                                    \
			return err;                                                                 \
	} while (0)
	METRIC("bundled_up_since_seconds", "gauge", "Unix time the daemon started.", "bundled_up_since_seconds %lld",
		(long long)d->started);
	METRIC("bundled_log_size", "gauge", "Entries in the transparency log.", "bundled_log_size %llu",
		(unsigned long long)ls.size);
	METRIC("bundled_log_appends_total", "counter", "Entries appended since start.", "bundled_log_appends_total %llu",
		(unsigned long long)ls.appends);
	METRIC("bundled_log_commits_total", "counter", "Group commits since start.", "bundled_log_commits_total %llu",
		(unsigned long long)ls.commits);
	METRIC("bundled_log_commit_seconds_total", "counter", "Time spent in group commits since start.",
		"bundled_log_commit_seconds_total %.6f", (double)ls.commit_us_total / 1e6);
	METRIC("bundled_log_failed_commits", "gauge", "1 once a commit failed: the log refuses appends until restarted.",
		"bundled_log_failed_commits %llu", (unsigned long long)ls.failed_commits);
	METRIC("bundled_log_last_batch_entries", "gauge", "Entries in the last group commit.",
		"bundled_log_last_batch_entries %llu", (unsigned long long)ls.last_batch);
	METRIC("bundled_log_last_commit_seconds", "gauge", "Duration of the last group commit.",
		"bundled_log_last_commit_seconds %.6f", (double)ls.last_commit_us / 1e6);
	if ((err = tl_buf_printf(b, "# HELP bundled_http_responses_total HTTP responses by status class.\n"
				    "# TYPE bundled_http_responses_total counter\n")) != 0)
		return err;
	for (int i = 1; i < 6; i++)
		if ((err = tl_buf_printf(b, "bundled_http_responses_total{class=\"%dxx\"} %llu\n", i,
			     (unsigned long long)by_class[i])) != 0)
			return err;
	if (d->pins != NULL) {
		bd_pinq_counts pc;

		bd_pinq_counts_get(&pc, d->pins);
		if ((err = tl_buf_printf(b, "# HELP bundled_pins Items of the IPFS pin queue by state.\n"
					       "# TYPE bundled_pins gauge\n"
					       "bundled_pins{state=\"pending\"} %zu\nbundled_pins{state=\"pinned\"} %zu\n"
					       "bundled_pins{state=\"failed\"} %zu\n",
				pc.pending, pc.pinned, pc.failed)) != 0)
			return err;
		METRIC("bundled_pin_attempts_failed_total", "counter", "Failed pin attempts since start.",
			"bundled_pin_attempts_failed_total %llu", (unsigned long long)pc.attempts_failed);
		METRIC("bundled_pin_storage_errors_total", "counter", "Pin queue steps that could not read or write the queue.",
			"bundled_pin_storage_errors_total %llu", (unsigned long long)pc.storage_errors);
	}
#undef METRIC
	return 0;
}
