/* The real daemon for the HTTP benchmarks: see daemon.h. */
#include "daemon.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bundled/entry.h"
#include "bundled/request.h"
#include "clock.h"
#include "file.h"

const char *bench_bin_path(const char *name)
{
	static char path[PATH_MAX + 16];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0'; /* <build>/bench */
	*strrchr(exe, '/') = '\0'; /* <build> */
	snprintf(path, sizeof(path), "%s/bin/%s", exe, name);
	return path;
}

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	return tl_buf_append(ctx, ptr, size * nmemb) == 0 ? size * nmemb : 0;
}

/* One request on `curl` (reused: keep-alive); the status, and the body into out. */
double bench_daemon_cpu_s(const struct bench_daemon *d)
{
	char path[64], buf[1024], *p;
	unsigned long long utime = 0, stime = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)d->pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after the command name in parentheses: state is field 3, utime 14, stime 15 */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
		return 0;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

long bench_request(CURL *curl, const struct bench_daemon *d, const char *path, const char *auth, const char *body,
	size_t len, tl_buf *out)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	char url[256];
	long status = -1;

	h = curl_slist_append(h, "Expect:");
	if (auth != NULL)
		h = curl_slist_append(h, auth);
	snprintf(url, sizeof(url), "%s%s", d->url, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	if (body != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	return status;
}

int bench_daemon_start(struct bench_daemon *d, const char *const *extra)
{
	char data[PATH_MAX + 8], log[PATH_MAX + 16];
	const char *bin = bench_bin_path("bundled");
	tl_buf b = tl_buf_make(1u << 20);
	CURL *curl;
	json_t *doc;

	snprintf(data, sizeof(data), "%s/data", d->dir);
	snprintf(log, sizeof(log), "%s/daemon.log", d->dir);
	unlink(log);
	if ((d->pid = fork()) == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, STDERR_FILENO);
		const char *argv[32] = { "bundled", "--data", data, "--listen", "127.0.0.1:0" };
		size_t n = 5;

		for (size_t i = 0; extra != NULL && extra[i] != NULL && n + 1 < 32; i++)
			argv[n++] = extra[i];
		argv[n] = NULL;
		execv(bin, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	for (int i = 0; i < 400; i++) {
		size_t len;
		char *text = (char *)bench_read_file(log, 1u << 20, &len);
		const char *p = text ? strstr(text, "msg=\"listening\" addr=127.0.0.1:") : NULL;
		unsigned port = 0;

		for (p = p ? p + strlen("msg=\"listening\" addr=127.0.0.1:") : NULL; p && *p >= '0' && *p <= '9'; p++)
			port = port * 10 + (unsigned)(*p - '0');
		free(text);
		if (port != 0) {
			snprintf(d->url, sizeof(d->url), "http://127.0.0.1:%u", port);
			break;
		}
		usleep(50000);
	}
	if (d->url[0] == '\0' || (curl = curl_easy_init()) == NULL)
		return -1;
	if (bench_request(curl, d, "/v1/log", NULL, NULL, 0, &b) != 200 ||
	    (doc = json_loadb((const char *)b.data, b.len, 0, NULL)) == NULL)
		return -1;
	snprintf(d->origin, sizeof(d->origin), "%s", json_string_value(json_object_get(doc, "origin")));
	json_decref(doc);
	curl_easy_cleanup(curl);
	tl_buf_free(&b);
	return 0;
}

void bench_daemon_stop(struct bench_daemon *d)
{
	int status;

	if (d->pid <= 0)
		return;
	kill(d->pid, SIGTERM);
	waitpid(d->pid, &status, 0);
	d->pid = 0;
	d->url[0] = '\0';
}

/* Registers td with the key's verifier key. */
int bench_register_domain(CURL *curl, const struct bench_daemon *d, const char *auth, const char *td, const tl_signer *key)
{
	tl_buf vkey = tl_buf_make(TL_MAX_KEY_TEXT), body = tl_buf_make(1u << 16), out = tl_buf_make(1u << 20);
	const char *keys[1];
	long status = -1;

	if (tl_signer_vkey(&vkey, key) == 0) {
		keys[0] = (const char *)vkey.data;
		if (bd_register_request_write(&body, td, keys, 1) == 0)
			status = bench_request(curl, d, "/v1/domains", auth, (const char *)body.data, body.len, &out);
	}
	tl_buf_free(&vkey);
	tl_buf_free(&body);
	tl_buf_free(&out);
	return status == 201 ? 0 : -1;
}

/* The body publishing bundle `b` as version `seq` of td (its canonical bytes, which carry
 * that sequence). */
int bench_make_request(struct bench_request *r, const struct bench_daemon *d, bd_bundle *b, const char *td, uint64_t seq,
	const tl_signer *key)
{
	tl_buf canon = tl_buf_make(BD_MAX_BUNDLE_SIZE), text = tl_buf_make(BD_ENTRY_MAX_SIZE + 1);
	tl_buf body = tl_buf_make(BD_REQUEST_MAX_BODY);
	bd_entry e;
	int err;

	memset(&e, 0, sizeof(e));
	e.kind = BD_ENTRY_BUNDLE;
	snprintf(e.domain, sizeof(e.domain), "%s", td);
	e.time = (uint64_t)time(NULL);
	if ((err = bd_entry_set_version(&e, &canon, NULL, b, seq, 0, NULL)) == 0 &&
	    (err = bd_entry_sign(&e, d->origin, key)) == 0 && (err = bd_entry_write(&text, &e)) == 0 &&
	    (err = bd_bundle_request_write(&body, text.data, text.len, canon.data, canon.len)) == 0) {
		snprintf(r->path, sizeof(r->path), "/v1/domains/%s/bundles", td);
		r->body = (char *)tl_buf_detach(&body, &r->len);
	}
	tl_buf_free(&canon);
	tl_buf_free(&text);
	tl_buf_free(&body);
	return err;
}

char *bench_read_token(const struct bench_daemon *d)
{
	char path[PATH_MAX + 32], *auth = malloc(128);
	size_t len;
	uint8_t *t;

	snprintf(path, sizeof(path), "%s/data/operator.token", d->dir);
	if ((t = bench_read_file(path, 4096, &len)) == NULL || len != 65)
		return NULL;
	snprintf(auth, 128, "Authorization: Bearer %.64s", (const char *)t);
	free(t);
	return auth;
}


void *bench_publish(void *arg)
{
	struct bench_publisher *p = arg;
	CURL *curl = curl_easy_init();
	char iface[64];
	tl_buf out = tl_buf_make(1u << 20);

	snprintf(iface, sizeof(iface), "host!127.0.0.%d", p->id + 1);
	curl_easy_setopt(curl, CURLOPT_INTERFACE, iface);
	for (size_t i = 0; i < p->n; i++) {
		struct bench_request made, *r = &p->reqs[i];
		double t0;

		if (p->make != NULL) {
			r = &made;
			if (p->make(r, i, p->ctx) != 0) {
				if (p->failed++ == 0)
					fprintf(stderr, "bench: making a request failed: %s\n", tl_error_message());
				continue;
			}
		}
		t0 = bench_now_s();
		tl_buf_reset(&out);
		if (bench_request(curl, p->d, r->path, NULL, r->body, r->len, &out) != 201) {
			if (p->failed++ == 0 && (p->id == 0 || p->make != NULL))
				fprintf(stderr, "bench: a publish failed: %.*s\n", (int)out.len, (const char *)out.data);
		}
		if (p->latency != NULL)
			p->latency[i] = bench_now_s() - t0;
		if (p->make != NULL)
			free(made.body);
	}
	tl_buf_free(&out);
	curl_easy_cleanup(curl);
	return NULL;
}
