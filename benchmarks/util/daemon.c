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
#include "file.h"

#define MAX_ARGS 32

static const char *bin_path(void)
{
	static char path[PATH_MAX + 16];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0'; /* <build>/bench */
	*strrchr(exe, '/') = '\0'; /* <build> */
	snprintf(path, sizeof(path), "%s/bin/bundled", exe);
	return path;
}

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	return tl_buf_append(ctx, ptr, size * nmemb) == 0 ? size * nmemb : 0;
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

/* The operator token the daemon made, as a header line. */
static char *read_token(const struct bench_daemon *d)
{
	char path[PATH_MAX + 32], *auth = malloc(128);
	size_t len;
	uint8_t *t;

	snprintf(path, sizeof(path), "%s/data/operator.token", d->dir);
	if (auth == NULL || (t = bench_read_file(path, 4096, &len)) == NULL || len != 65) {
		free(auth);
		return NULL;
	}
	snprintf(auth, 128, "Authorization: Bearer %.64s", (const char *)t);
	free(t);
	return auth;
}

int bench_daemon_start(struct bench_daemon *d, const char *const *extra)
{
	char data[PATH_MAX + 8], log[PATH_MAX + 16];
	const char *bin = bin_path(), *argv[MAX_ARGS + 8];
	tl_buf b = tl_buf_make(1u << 20);
	size_t n = 0;
	CURL *curl;
	json_t *doc;
	int rc = -1;

	snprintf(data, sizeof(data), "%s/data", d->dir);
	snprintf(log, sizeof(log), "%s/daemon.log", d->dir);
	unlink(log);
	argv[n++] = "bundled";
	argv[n++] = "--data";
	argv[n++] = data;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	for (size_t i = 0; extra != NULL && extra[i] != NULL && i < MAX_ARGS; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	if ((d->pid = fork()) == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, STDERR_FILENO);
		execv(bin, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	d->url[0] = '\0';
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
	if (bench_request(curl, d, "/v1/log", NULL, NULL, 0, &b) == 200 &&
	    (doc = json_loadb((const char *)b.data, b.len, 0, NULL)) != NULL) {
		snprintf(d->origin, sizeof(d->origin), "%s", json_string_value(json_object_get(doc, "origin")));
		json_decref(doc);
		rc = (d->auth = read_token(d)) != NULL ? 0 : -1;
	}
	curl_easy_cleanup(curl);
	tl_buf_free(&b);
	return rc;
}

void bench_daemon_stop(struct bench_daemon *d)
{
	int status;

	free(d->auth);
	d->auth = NULL;
	if (d->pid <= 0)
		return;
	kill(d->pid, SIGTERM);
	waitpid(d->pid, &status, 0);
	d->pid = 0;
	d->url[0] = '\0';
}

int bench_register_domain(CURL *curl, const struct bench_daemon *d, const char *td, const tl_signer *key)
{
	tl_buf vkey = tl_buf_make(TL_MAX_KEY_TEXT), body = tl_buf_make(1u << 16), out = tl_buf_make(1u << 20);
	const char *keys[1];
	long status = -1;

	if (tl_signer_vkey(&vkey, key) == 0) {
		keys[0] = (const char *)vkey.data;
		if (bd_register_request_write(&body, td, keys, 1) == 0)
			status = bench_request(curl, d, "/v1/domains", d->auth, (const char *)body.data, body.len, &out);
	}
	tl_buf_free(&vkey);
	tl_buf_free(&body);
	tl_buf_free(&out);
	return status == 201 ? 0 : -1;
}

int bench_publish_make(struct bench_publish *r, const struct bench_daemon *d, bd_bundle *b, const char *td,
	uint64_t seq, const tl_signer *key)
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
