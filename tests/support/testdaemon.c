#include "testdaemon.h"

#include <check.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bundled/blockstore.h"
#include "bundled/dag.h"
#include "testhttp.h"
#include "testutil.h"
#include "translog/db.h"
#include "translog/key.h"
#include "translog/log.h"

const char *tu_bin_path(const char *name)
{
	static _Thread_local char path[PATH_MAX + 64];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	/* <build>/tests/run-tests -> <build>/bin/<name> */
	for (int i = 0; i < 2; i++) {
		if ((slash = strrchr(exe, '/')) == NULL)
			return NULL;
		*slash = '\0';
	}
	snprintf(path, sizeof(path), "%s/bin/%s", exe, name);
	return path;
}

struct tl_db *tu_daemon_db_open(const char *data_dir)
{
	const char *cfs[TL_LOG_COLUMN_FAMILY_COUNT + 1];
	char path[4200];
	tl_db *db;

	for (size_t i = 0; i < TL_LOG_COLUMN_FAMILY_COUNT; i++)
		cfs[i] = tl_log_column_families[i];
	cfs[TL_LOG_COLUMN_FAMILY_COUNT] = bd_blockstore_column_family;
	snprintf(path, sizeof(path), "%s/db", data_dir);
	ck_assert_int_eq(tl_db_open(&db, path, cfs, TL_LOG_COLUMN_FAMILY_COUNT + 1), 0);
	return db;
}

void tu_daemon_prepare(const char *data_dir, const char *origin, const void *const *entries, const size_t *lens,
	size_t n, size_t per_commit, const struct bd_dag *dag)
{
	char path[4200];
	tl_signer *key;
	tl_db *db;
	tl_log *log;
	bd_blockstore *bs;
	uint64_t first;

	ck_assert_int_eq(mkdir(data_dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/log.key", data_dir);
	ck_assert_int_eq(tl_signer_generate(&key, origin), 0);
	ck_assert_int_eq(tl_signer_save(key, path), 0);
	db = tu_daemon_db_open(data_dir);
	ck_assert_int_eq(tl_log_open(&log, db, key, NULL), 0);
	for (size_t done = 0, take; done < n; done += take) {
		take = per_commit == 0 || n - done < per_commit ? n - done : per_commit;
		ck_assert_int_eq(tl_log_append_batch(&first, log, entries + done, lens + done, take), 0);
		ck_assert_uint_eq(first, done);
	}
	tl_log_close(log);
	if (dag != NULL) {
		ck_assert_int_eq(bd_blockstore_open(&bs, db), 0);
		ck_assert_int_eq(bd_blockstore_put_dag(bs, dag), 0);
		bd_blockstore_close(bs);
	}
	tl_db_close(db);
	tl_signer_free(key);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Reads the daemon's log for its "listening" and "log open" lines. */
static int scan_log(struct tu_daemon *d)
{
	size_t len;
	char *text = (char *)tu_read_file(d->log_path, &len);
	const char *p;
	int ok = 0;

	if (text == NULL)
		return 0;
	if ((p = strstr(text, "vkey=")) != NULL)
		sscanf(p + 5, "%511s", d->vkey);
	if ((p = strstr(text, "msg=\"listening\" addr=")) != NULL &&
	    (p = strchr(p + strlen("msg=\"listening\" addr="), ':')) != NULL && sscanf(p + 1, "%u", &d->port) == 1)
		ok = 1;
	free(text);
	return ok;
}

/* execv takes char *const[] for historical reasons; it never writes through them. */
static char *unconst(const char *s)
{
	return (char *)(uintptr_t)s;
}

pid_t tu_spawn(const char *bin_name, const char *const *args, const char *log_path)
{
	char *argv[32] = { unconst(bin_name) };
	size_t argc = 1;
	const char *bin = tu_bin_path(bin_name);
	pid_t pid;

	for (size_t i = 0; args != NULL && args[i] != NULL && argc < 31; i++)
		argv[argc++] = unconst(args[i]);
	argv[argc] = NULL;
	/* A log left by an earlier run would say what that run said. */
	unlink(log_path);
	pid = fork();
	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(127);
		execv(bin, argv);
		_exit(127);
	}
	return pid;
}

int tu_server_start(struct tu_daemon *d, const char *bin_name, const char *const *args, const char *log_path)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->log_path, sizeof(d->log_path), "%s", log_path);
	d->is_bundled = strcmp(bin_name, "bundled") == 0;
	if ((d->pid = tu_spawn(bin_name, args, d->log_path)) < 0)
		return -1;
	for (int i = 0; i < 400; i++) {
		int status;

		if (scan_log(d)) {
			snprintf(d->base_url, sizeof(d->base_url), "http://127.0.0.1:%u", d->port);
			return 0;
		}
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = 0;
			return -1;
		}
		sleep_ms(50);
	}
	tu_daemon_stop(d);
	return -1;
}

int tu_daemon_start(struct tu_daemon *d, const char *data_dir, const char *const *extra_args)
{
	const char *args[32] = { "--data", data_dir, "--listen", "127.0.0.1:0" };
	char log_path[sizeof(d->log_path)];
	size_t n = 4;

	for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL && n < 31; i++)
		args[n++] = extra_args[i];
	args[n] = NULL;
	snprintf(log_path, sizeof(log_path), "%s.log", data_dir);
	return tu_server_start(d, "bundled", args, log_path);
}

int tu_daemon_stop(struct tu_daemon *d)
{
	int status;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	for (int i = 0; i < 200; i++) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		sleep_ms(50);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	d->pid = 0;
	return -1;
}

struct body {
	char *data;
	size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct body *b = ctx;
	size_t n = size * nmemb;
	char *grown = realloc(b->data, b->len + n + 1);

	if (grown == NULL)
		return 0;
	memcpy(grown + b->len, ptr, n);
	b->data = grown;
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* One request to url; when `target` (the path and query of url) is not NULL, the exchange
 * also goes to the record the schema check reads (th_record). */
static long fetch(const char *method, const char *url, const char *target, const void *data, size_t data_len,
	char **body, size_t *len)
{
	CURL *curl = curl_easy_init();
	struct body b = { calloc(1, 1), 0 };
	long status = -1;

	if (curl == NULL || b.data == NULL) {
		free(b.data);
		curl_easy_cleanup(curl);
		return -1;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (data != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, data);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)data_len);
	}
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (target != NULL && status > 0) {
		struct th_exchange x = { .method = method, .target = target, .status = status, .body = b.data,
			.len = b.len, .request = data, .request_len = data_len };

		curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &x.type);
		th_record(&x);
	}
	curl_easy_cleanup(curl);
	if (body != NULL)
		*body = b.data;
	else
		free(b.data);
	if (len != NULL)
		*len = b.len;
	return status;
}

long tu_http_fetch(const char *method, const char *url, const void *data, size_t data_len, char **body,
	size_t *len)
{
	return fetch(method, url, NULL, data, data_len, body, len);
}

long tu_http_request(const struct tu_daemon *d, const char *method, const char *path, const void *data,
	size_t data_len, char **body, size_t *len)
{
	char url[4096];

	snprintf(url, sizeof(url), "%s%s", d->base_url, path);
	return fetch(method, url, d->is_bundled ? path : NULL, data, data_len, body, len);
}

long tu_http_get(const struct tu_daemon *d, const char *path, char **body, size_t *len)
{
	return tu_http_request(d, "GET", path, NULL, 0, body, len);
}

long tu_metric(const struct tu_daemon *d, const char *series)
{
	char *body = NULL, *p, want[256];
	long v = -1;

	snprintf(want, sizeof(want), "\n%s ", series);
	if (tu_http_get(d, "/metrics", &body, NULL) == 200 && (p = strstr(body, want)) != NULL)
		v = strtol(p + strlen(want), NULL, 10);
	free(body);
	return v;
}
