#include "bundled/http.h"

#include <assert.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "translog/text.h"

#define NAME_MAX_LEN 15

struct bd_http {
	pthread_mutex_t lock; /* one request at a time on the one handle */
	CURL *curl;
	char name[NAME_MAX_LEN + 1];
	char url[BD_HTTP_URL_MAX];      /* what libcurl is given, user-info included */
	char shown[BD_HTTP_URL_MAX];    /* what messages name: no user-info */
	char userinfo[BD_HTTP_URL_MAX]; /* "" or the user-info, kept out of every message */
	char authorization[BD_HTTP_AUTH_MAX + 32];
	char proxy[BD_HTTP_URL_MAX];
	char ca_file[BD_HTTP_FILE_MAX];     /* "" = the system's CA store */
	char client_cert[BD_HTTP_FILE_MAX]; /* "" = none */
	char client_key[BD_HTTP_FILE_MAX];
	long connect_timeout_ms;
	long timeout_ms;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Checks and copies the base URL into h->url (less trailing slashes) and its printable
 * form into h->shown, with the user-info (if any) kept apart in h->userinfo. */
static int set_url(bd_http *h, const char *url)
{
	size_t n, scheme, host_end, at = 0;

	if (url == NULL || url[0] == '\0')
		return tl_error_set(TL_E_INPUT, "%s: no API URL given", h->name);
	if (strncmp(url, "http://", 7) == 0)
		scheme = 7;
	else if (strncmp(url, "https://", 8) == 0)
		scheme = 8;
	else
		return tl_error_set(TL_E_INPUT, "%s: API URL must start with http:// or https://", h->name);
	n = strlen(url);
	if (n >= BD_HTTP_URL_MAX)
		return tl_error_set(TL_E_INPUT, "%s: API URL longer than %d bytes", h->name, BD_HTTP_URL_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f || url[i] == '?' || url[i] == '#')
			return tl_error_set(TL_E_INPUT,
				"%s: API URL has a space, control, non-ASCII, '?' or '#' character", h->name);
	memcpy(h->url, url, n + 1);
	while (n > scheme && h->url[n - 1] == '/')
		h->url[--n] = '\0';
	host_end = scheme + strcspn(h->url + scheme, "/");
	for (size_t i = scheme; i < host_end; i++)
		if (h->url[i] == '@')
			at = i;
	if (at != 0) {
		memcpy(h->userinfo, h->url + scheme, at - scheme);
		h->userinfo[at - scheme] = '\0';
	}
	snprintf(h->shown, sizeof(h->shown), "%.*s%s", (int)scheme, h->url, h->url + (at ? at + 1 : scheme));
	if (host_end == (at ? at + 1 : scheme))
		return tl_error_set(TL_E_INPUT, "%s: API URL has no host", h->name);
	return 0;
}

/* Copies an optional file name; TL_E_INPUT naming the option if it is empty or too long. */
static int copy_file(char *dst, const char *path, const char *name, const char *what)
{
	size_t n;

	if (path == NULL)
		return 0;
	if ((n = strlen(path)) == 0 || n >= BD_HTTP_FILE_MAX)
		return tl_error_set(TL_E_INPUT, "%s: the %s file name must have 1..%d bytes", name, what,
			BD_HTTP_FILE_MAX - 1);
	memcpy(dst, path, n + 1);
	return 0;
}

int bd_http_open(bd_http **out, const bd_http_options *opts)
{
	bd_http *h = NULL;
	int err;

	assert(opts->name != NULL && strlen(opts->name) <= NAME_MAX_LEN);
	if (opts->connect_timeout_ms < 0 || opts->timeout_ms < 0)
		return tl_error_set(TL_E_INPUT, "%s: negative timeout", opts->name);
	if (opts->authorization != NULL) {
		size_t n = strlen(opts->authorization);

		if (n == 0 || n > BD_HTTP_AUTH_MAX || strpbrk(opts->authorization, "\r\n") != NULL)
			return tl_error_set(TL_E_INPUT, "%s: the Authorization value must be one line of 1..%d bytes",
				opts->name, BD_HTTP_AUTH_MAX);
	}
	if (opts->proxy != NULL && strlen(opts->proxy) >= BD_HTTP_URL_MAX)
		return tl_error_set(TL_E_INPUT, "%s: proxy URL longer than %d bytes", opts->name, BD_HTTP_URL_MAX - 1);
	if ((opts->client_cert == NULL) != (opts->client_key == NULL))
		return tl_error_set(TL_E_INPUT, "%s: a client certificate needs its key, and a key its certificate",
			opts->name);
	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK)
		return tl_error_set(TL_E_INTERNAL, "%s: libcurl did not initialise: %s", opts->name,
			curl_easy_strerror(curl_init_result));
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	snprintf(h->name, sizeof(h->name), "%s", opts->name);
	if ((err = set_url(h, opts->url)) != 0 || (err = copy_file(h->ca_file, opts->ca_file, h->name, "CA")) != 0 ||
	    (err = copy_file(h->client_cert, opts->client_cert, h->name, "client certificate")) != 0 ||
	    (err = copy_file(h->client_key, opts->client_key, h->name, "client key")) != 0)
		goto out;
	if (opts->authorization != NULL)
		snprintf(h->authorization, sizeof(h->authorization), "Authorization: %s", opts->authorization);
	if (opts->proxy != NULL)
		snprintf(h->proxy, sizeof(h->proxy), "%s", opts->proxy);
	h->connect_timeout_ms = opts->connect_timeout_ms ? opts->connect_timeout_ms : BD_HTTP_CONNECT_TIMEOUT_MS;
	h->timeout_ms = opts->timeout_ms ? opts->timeout_ms : BD_HTTP_TIMEOUT_MS;
	if ((h->curl = curl_easy_init()) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "%s: cannot make a libcurl handle", h->name);
		goto out;
	}
	pthread_mutex_init(&h->lock, NULL);
	*out = h;
	h = NULL;
out:
	free(h);
	return err;
}

void bd_http_close(bd_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

const char *bd_http_url(const bd_http *h)
{
	return h->shown;
}


bd_http_reply bd_http_reply_make(size_t cap)
{
	bd_http_reply r;

	memset(&r, 0, sizeof(r));
	r.body = tl_buf_make(cap);
	return r;
}

int bd_http_status_err(long status)
{
	if (status >= 500 || status == 429)
		return TL_E_UNAVAILABLE;
	if (status == 401 || status == 403)
		return TL_E_UNAUTHORIZED;
	if (status == 404)
		return TL_E_NOTFOUND;
	if (status == 409)
		return TL_E_CONFLICT;
	return TL_E_INPUT;
}

const char *bd_http_reply_text(char *out, size_t size, const bd_http_reply *r)
{
	size_t n = r->body.len < BD_HTTP_TEXT_MAX ? r->body.len : BD_HTTP_TEXT_MAX;

	while (n > 0 && (r->body.data[n - 1] == '\n' || r->body.data[n - 1] == '\r'))
		n--;
	if (n == 0)
		return tl_text_printable(out, size, "(no message)", strlen("(no message)"));
	return tl_text_printable(out, size, r->body.data, n);
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	bd_http_reply *r = ctx;

	/* size is always 1 for write callbacks. Refusing the bytes (returning fewer than were
	 * given) makes libcurl stop with CURLE_WRITE_ERROR. */
	if (tl_buf_append(&r->body, data, n) != 0) {
		r->over = 1;
		return 0;
	}
	return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
	static const char name[] = "X-Stream-Error:";
	bd_http_reply *r = ctx;
	size_t len = size * n, k = sizeof(name) - 1;

	r->header_bytes += len;
	if (len > k && strncasecmp(data, name, k) == 0) {
		size_t i = k, end;

		while (i < len && data[i] == ' ')
			i++;
		end = i;
		while (end < len && data[end] != '\r' && data[end] != '\n')
			end++;
		tl_text_printable(r->stream_error, sizeof(r->stream_error), data + i, end - i);
	}
	return len;
}

/* libcurl's own message; only its generic one when the URL has user-info, which the
 * detailed message might repeat in some form (decoded, or just the user name). */
static const char *curl_message(const bd_http *h, const char *errbuf, CURLcode rc)
{
	if (errbuf[0] == '\0' || h->userinfo[0] != '\0')
		return curl_easy_strerror(rc);
	return errbuf;
}

/* What a failed transfer means, as one message and category. */
static int transfer_failure(const bd_http *h, const bd_http_request *req, const bd_http_reply *r,
	CURLcode rc, const char *errbuf)
{
	if (rc == CURLE_WRITE_ERROR && r->over)
		return tl_error_set(TL_E_INPUT, "%s %s: reply longer than %zu bytes", h->name, req->what, r->body.cap);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return tl_error_set(TL_E_UNAVAILABLE, "%s %s: no complete answer from %s within %ld ms",
			h->name, req->what, h->shown, h->timeout_ms);
	if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
		return tl_error_set(TL_E_INPUT, "%s %s: bad API URL %s: %s", h->name, req->what, h->shown,
			curl_message(h, errbuf, rc));
	return tl_error_set(TL_E_UNAVAILABLE, "%s %s: %s: %s", h->name, req->what, h->shown,
		curl_message(h, errbuf, rc));
}

/* Appends one header line, keeping the list as it was if that fails. */
static int add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);

	if (l == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	*list = l;
	return 0;
}

static int build_headers(struct curl_slist **list, const bd_http *h, const bd_http_request *req)
{
	int err;

	/* An empty "Expect:" keeps libcurl from waiting for "100 Continue" before an upload. */
	if ((err = add_header(list, "Expect:")) != 0)
		return err;
	if (h->authorization[0] != '\0' && (err = add_header(list, h->authorization)) != 0)
		return err;
	for (size_t i = 0; req->headers != NULL && req->headers[i] != NULL; i++)
		if ((err = add_header(list, req->headers[i])) != 0)
			return err;
	if (req->body != NULL) {
		char type[128];

		if ((size_t)snprintf(type, sizeof(type), "Content-Type: %s", req->body_type ? req->body_type : "text/plain") >=
		    sizeof(type))
			return tl_error_set(TL_E_INPUT, "%s %s: Content-Type too long", h->name, req->what);
		if ((err = add_header(list, type)) != 0)
			return err;
	}
	return 0;
}

int bd_http_request_send(bd_http_reply *r, bd_http *h, const bd_http_request *req)
{
	char url[BD_HTTP_URL_MAX + BD_HTTP_PATH_MAX], errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers = NULL;
	curl_mime *mime = NULL;
	int post = strcmp(req->method, "POST") == 0;
	CURLcode rc;
	int err = 0;

	assert(post || strcmp(req->method, "GET") == 0);
	assert(post || (req->upload == NULL && req->body == NULL));
	assert(req->upload == NULL || req->body == NULL);
	if ((size_t)snprintf(url, sizeof(url), "%s%s", h->url, req->path) >= sizeof(url))
		return tl_error_set(TL_E_INPUT, "%s %s: URL too long", h->name, req->what);
	pthread_mutex_lock(&h->lock);
	curl_easy_reset(h->curl);
	errbuf[0] = '\0';
	r->status = 0;
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "bundled");
	curl_easy_setopt(h->curl, CURLOPT_PROXY, h->proxy);
	if (h->ca_file[0] != '\0') {
		/* Only this CA: a directory of system CAs beside it would widen the trust. */
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, h->ca_file);
		curl_easy_setopt(h->curl, CURLOPT_CAPATH, NULL);
	}
	if (h->client_cert[0] != '\0') {
		curl_easy_setopt(h->curl, CURLOPT_SSLCERT, h->client_cert);
		curl_easy_setopt(h->curl, CURLOPT_SSLKEY, h->client_key);
	}
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, r);
	if ((err = build_headers(&headers, h, req)) != 0)
		goto out;
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers);
	if (req->upload != NULL) {
		curl_mimepart *part;

		if ((mime = curl_mime_init(h->curl)) == NULL || (part = curl_mime_addpart(mime)) == NULL) {
			err = tl_error_set(TL_E_NOMEM, "out of memory");
			goto out;
		}
		curl_mime_name(part, "file");
		curl_mime_filename(part, "data");
		curl_mime_type(part, "application/octet-stream");
		curl_mime_data(part, req->upload_len ? (const char *)req->upload : "", req->upload_len);
		curl_easy_setopt(h->curl, CURLOPT_MIMEPOST, mime);
	} else if (req->body != NULL) {
		curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, req->body_len ? (const char *)req->body : "");
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (post) {
		curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, 0L);
	} else {
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	}
	rc = curl_easy_perform(h->curl);
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status);
	/* An error status says what went wrong even when its body is over the cap: the caller
	 * gets the status and the first bytes (r->over stays set). */
	if (rc == CURLE_WRITE_ERROR && r->over && r->status >= 300)
		rc = CURLE_OK;
	if (rc != CURLE_OK)
		err = transfer_failure(h, req, r, rc, errbuf);
out:
	curl_mime_free(mime);
	curl_slist_free_all(headers);
	/* The handle keeps its connection for the next request, but not pointers into this one. */
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_MIMEPOST, NULL);
	pthread_mutex_unlock(&h->lock);
	return err;
}
