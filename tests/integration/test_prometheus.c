/*
 * A real Prometheus scrapes the real daemon: its generated configuration points at the
 * daemon on loopback with a 1 s interval, its storage is a temporary directory, and the
 * suite asks its HTTP API (/api/v1/query) whether the series arrived with the values the
 * requests made must give. promtool (same package) checks the exposition itself. Left out,
 * with a note, where prometheus is not installed (scripts/install-deps.sh installs it).
 */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testdaemon.h"
#include "testhttp.h"
#include "testutil.h"
#include "translog/key.h"
#include "translog/log.h"

enum { ENTRIES = 40, PER_COMMIT = 8, CHECKPOINTS = 7, WAIT_S = 60 };

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	s = tu_vformat(f, ap);
	va_end(ap);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* A loopback port free right now, for Prometheus' own listener. */
static unsigned free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static pid_t start_prometheus(const char *dir, unsigned port, unsigned target_port)
{
	char cfg[4200], listen[64], cfg_flag[4300], tsdb_flag[4300], log_path[4200];
	char *text;
	pid_t pid;

	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", dir);
	text = fmt("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
			 "scrape_configs:\n  - job_name: bundled\n    scrape_interval: 1s\n    scrape_timeout: 1s\n"
			 "    static_configs:\n      - targets: ['127.0.0.1:%u']\n",
		target_port);
	ck_assert_int_eq(tu_write_file(cfg, text, strlen(text)), 0);
	free(text);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%u", port);
	snprintf(cfg_flag, sizeof(cfg_flag), "--config.file=%s", cfg);
	snprintf(tsdb_flag, sizeof(tsdb_flag), "--storage.tsdb.path=%s/tsdb", dir);
	snprintf(log_path, sizeof(log_path), "%s/prometheus.log", dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		FILE *log = freopen(log_path, "w", stderr);

		(void)log;
		execlp("prometheus", "prometheus", cfg_flag, tsdb_flag, listen, "--log.level=warn", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void stop_prometheus(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	for (int i = 0; i < 200; i++) {
		struct timespec ts = { 0, 50 * 1000000L };

		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* The value of a PromQL query returning one sample; NaN while it returns none (or
 * Prometheus is not up yet). */
static double query(const struct tu_daemon *prom, const char *promql)
{
	CURL *curl = curl_easy_init();
	char *escaped = curl_easy_escape(curl, promql, 0);
	char *path = fmt("/api/v1/query?query=%s", escaped);
	char *body = NULL;
	double v = NAN;
	json_t *doc = NULL, *result;

	if (tu_http_get(prom, path, &body, NULL) == 200 && (doc = json_loads(body, 0, NULL)) != NULL) {
		result = json_object_get(json_object_get(doc, "data"), "result");
		if (json_array_size(result) == 1)
			v = strtod(json_string_value(json_array_get(json_object_get(json_array_get(result, 0), "value"), 1)),
				NULL);
	}
	json_decref(doc);
	free(body);
	free(path);
	curl_free(escaped);
	curl_easy_cleanup(curl);
	return v;
}

/* Waits until `promql` is at least `min` (and at most `max`), or fails after WAIT_S. */
static double await(const struct tu_daemon *prom, const char *promql, double min, double max)
{
	double v = NAN;

	for (int i = 0; i < WAIT_S * 4; i++) {
		struct timespec ts = { 0, 250 * 1000000L };

		v = query(prom, promql);
		if (v >= min && v <= max)
			return v;
		nanosleep(&ts, NULL);
	}
	ck_abort_msg("%s is %g after %d s, not in [%g, %g]", promql, v, WAIT_S, min, max);
	return v;
}

static void prepare_log(const char *dir)
{
	const void *entries[ENTRIES];
	size_t lens[ENTRIES];
	char texts[ENTRIES][48];

	for (size_t i = 0; i < ENTRIES; i++) {
		snprintf(texts[i], sizeof(texts[i]), "entry %zu of the prometheus suite\n", i);
		entries[i] = texts[i];
		lens[i] = strlen(texts[i]);
	}
	tu_daemon_prepare(dir, "prometheus.test/log", entries, lens, ENTRIES, PER_COMMIT, NULL);
}

START_TEST(prometheus_scrapes_the_daemon)
{
	const char *api = getenv("BUNDLED_TEST_IPFS_API");
	const char *args[] = { "--ipfs-api", api, NULL };
	char *dir = tu_mkdtemp(), *data, *body = NULL, *exposition, *reply;
	size_t reply_len;
	struct tu_daemon d, prom;
	time_t started = time(NULL);
	unsigned prom_port;
	pid_t prom_pid;
	int fd;

	ck_assert_ptr_nonnull(dir);
	data = fmt("%s/data", dir);
	prepare_log(data);
	ck_assert_int_eq(tu_daemon_start(&d, data, args), 0);

	/* Traffic with known counts: checkpoints, a miss, a malformed request. */
	for (int i = 0; i < CHECKPOINTS; i++)
		ck_assert_int_eq(tu_http_get(&d, "/checkpoint", NULL, NULL), 200);
	ck_assert_int_eq(tu_http_get(&d, "/no/such/route", NULL, NULL), 404);
	fd = th_connect("127.0.0.1", "127.0.0.1", d.port);
	th_send(fd, "GARBAGE\r\n\r\n", 11);
	reply = th_read_all(fd, &reply_len);
	ck_assert_ptr_nonnull(strstr(reply, "HTTP/1.1 400 "));
	free(reply);
	close(fd);

	/* promtool lints what Prometheus is about to parse. */
	ck_assert_int_eq(tu_http_get(&d, "/metrics", &body, NULL), 200);
	exposition = fmt("%s/exposition.txt", dir);
	ck_assert_int_eq(tu_write_file(exposition, body, strlen(body)), 0);
	ck_assert_msg(tu_system("promtool check metrics < '%s' > '%s.out' 2>&1", exposition, exposition) == 0,
		"promtool check metrics failed: see %s.out", exposition);
	free(body);

	prom_port = free_port();
	prom_pid = start_prometheus(dir, prom_port, d.port);
	memset(&prom, 0, sizeof(prom));
	snprintf(prom.base_url, sizeof(prom.base_url), "http://127.0.0.1:%u", prom_port);

	await(&prom, "up{job=\"bundled\"}", 1, 1);
	await(&prom, "bundled_log_size", ENTRIES, ENTRIES);
	await(&prom, "bundled_start_time_seconds", (double)started - 5, (double)time(NULL) + 1);
	await(&prom, "bundled_http_requests_total{route=\"/checkpoint\",method=\"GET\",code=\"2xx\"}", CHECKPOINTS,
		CHECKPOINTS);
	await(&prom, "bundled_http_request_duration_seconds_count{route=\"/checkpoint\"}", CHECKPOINTS, CHECKPOINTS);
	/* Every checkpoint took well under the top bucket: the 99th percentile is in (0, 10 s]. */
	await(&prom,
		"histogram_quantile(0.99, sum by (le) (bundled_http_request_duration_seconds_bucket{route=\"/checkpoint\"}))",
		1e-9, 10);
	await(&prom, "bundled_http_requests_total{route=\"none\",code=\"4xx\"}", 1, 1);
	await(&prom, "bundled_http_requests_refused_total{reason=\"malformed_request\"}", 1, 1);
	/* Prometheus' own scrapes are /metrics requests, and their connections stay open. */
	await(&prom, "bundled_http_requests_total{route=\"/metrics\",code=\"2xx\"}", 2, 1e9);
	await(&prom, "bundled_http_connections_accepted_total", CHECKPOINTS + 3, 1e9);
	await(&prom, "bundled_http_connections_open", 1, 64);
	await(&prom, "sum(bundled_http_connections_refused_total)", 0, 0);
	/* The prepared log was committed before the daemon started: nothing since. */
	await(&prom, "bundled_log_commits_total", 0, 0);
	await(&prom, "bundled_log_failed_commits", 0, 0);
	await(&prom, "bundled_pin_queue_items{state=\"pending\"}", 0, 0);
	await(&prom, "bundled_pin_queue_oldest_pending_seconds", 0, 0);
	await(&prom, "bundled_pin_queue_storage_errors_total", 0, 0);

	stop_prometheus(prom_pid);
	ck_assert_int_eq(tu_daemon_stop(&d), 0);
	tu_rm_rf(dir);
	free(exposition);
	free(data);
	free(dir);
}
END_TEST

Suite *suite_it_prometheus(void)
{
	Suite *s = suite_create("it_prometheus");
	TCase *tc;

	if (tu_system("command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1") != 0) {
		tu_suite_left_out("it_prometheus", "prometheus and promtool not found (scripts/install-deps.sh installs them)");
		return s;
	}
	tc = tcase_create("prometheus");
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, prometheus_scrapes_the_daemon);
	suite_add_tcase(s, tc);
	return s;
}
