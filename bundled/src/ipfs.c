#include "bundled/ipfs.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipfs_reply.h"
#include "translog/hash.h"

struct bd_ipfs {
	pthread_mutex_t lock; /* one call at a time on the one handle */
	CURL *curl;
	char api[BD_IPFS_URL_MAX];
	char authorization[BD_IPFS_AUTH_MAX + 32];
	char proxy[BD_IPFS_URL_MAX];
	long connect_timeout_ms;
	long timeout_ms;
};

/* What one call read: the body (capped), whether the cap refused bytes, and Kubo's
 * X-Stream-Error trailer (an error after a 200 status had been sent). */
struct reply {
	tl_buf body;
	int over;
	char stream_error[256];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static const char *cid_text(char buf[BD_CID_TEXT_MAX], const bd_cid *cid)
{
	if (bd_cid_format(buf, BD_CID_TEXT_MAX, cid) != 0)
		snprintf(buf, BD_CID_TEXT_MAX, "(codec 0x%llx)", (unsigned long long)cid->codec);
	return buf;
}

static int normalise_api(char *out, const char *api)
{
	size_t n, scheme;

	if (api == NULL || api[0] == '\0')
		return tl_error_set(TL_E_INPUT, "ipfs: no API URL given");
	if (strncmp(api, "http://", 7) == 0)
		scheme = 7;
	else if (strncmp(api, "https://", 8) == 0)
		scheme = 8;
	else
		return tl_error_set(TL_E_INPUT, "ipfs: API URL must start with http:// or https://");
	n = strlen(api);
	if (n >= BD_IPFS_URL_MAX)
		return tl_error_set(TL_E_INPUT, "ipfs: API URL longer than %d bytes", BD_IPFS_URL_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)api[i] <= 0x20 || (unsigned char)api[i] >= 0x7f || api[i] == '?' || api[i] == '#')
			return tl_error_set(TL_E_INPUT, "ipfs: API URL has a space, control, non-ASCII, '?' or '#' character");
	memcpy(out, api, n + 1);
	while (n > scheme && out[n - 1] == '/')
		out[--n] = '\0';
	if (n >= scheme + 7 && strcmp(out + n - 7, "/api/v0") == 0)
		out[n -= 7] = '\0';
	while (n > scheme && out[n - 1] == '/')
		out[--n] = '\0';
	if (n == scheme || out[scheme] == '/')
		return tl_error_set(TL_E_INPUT, "ipfs: API URL has no host");
	return 0;
}

int bd_ipfs_open(bd_ipfs **out, const bd_ipfs_options *opts)
{
	bd_ipfs *c;
	int err;

	if (opts->connect_timeout_ms < 0 || opts->timeout_ms < 0)
		return tl_error_set(TL_E_INPUT, "ipfs: negative timeout");
	if (opts->authorization != NULL) {
		size_t n = strlen(opts->authorization);

		if (n == 0 || n > BD_IPFS_AUTH_MAX || strpbrk(opts->authorization, "\r\n") != NULL)
			return tl_error_set(TL_E_INPUT, "ipfs: the Authorization value must be one line of 1..%d bytes",
				BD_IPFS_AUTH_MAX);
	}
	if (opts->proxy != NULL && strlen(opts->proxy) >= BD_IPFS_URL_MAX)
		return tl_error_set(TL_E_INPUT, "ipfs: proxy URL longer than %d bytes", BD_IPFS_URL_MAX - 1);
	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK)
		return tl_error_set(TL_E_INTERNAL, "ipfs: libcurl did not initialise: %s", curl_easy_strerror(curl_init_result));
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if ((err = normalise_api(c->api, opts->api)) != 0) {
		free(c);
		return err;
	}
	if (opts->authorization != NULL)
		snprintf(c->authorization, sizeof(c->authorization), "Authorization: %s", opts->authorization);
	if (opts->proxy != NULL)
		snprintf(c->proxy, sizeof(c->proxy), "%s", opts->proxy);
	c->connect_timeout_ms = opts->connect_timeout_ms ? opts->connect_timeout_ms : BD_IPFS_CONNECT_TIMEOUT_MS;
	c->timeout_ms = opts->timeout_ms ? opts->timeout_ms : BD_IPFS_TIMEOUT_MS;
	if ((c->curl = curl_easy_init()) == NULL) {
		free(c);
		return tl_error_set(TL_E_NOMEM, "ipfs: cannot make a libcurl handle");
	}
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void bd_ipfs_close(bd_ipfs *ipfs)
{
	if (ipfs == NULL)
		return;
	curl_easy_cleanup(ipfs->curl);
	pthread_mutex_destroy(&ipfs->lock);
	free(ipfs);
}

const char *bd_ipfs_api(const bd_ipfs *ipfs)
{
	return ipfs->api;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct reply *r = ctx;

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
	struct reply *r = ctx;
	size_t len = size * n, k = sizeof(name) - 1;

	if (len > k && strncasecmp(data, name, k) == 0) {
		size_t i = k, m = 0;

		while (i < len && data[i] == ' ')
			i++;
		while (i < len && data[i] != '\r' && data[i] != '\n' && m + 1 < sizeof(r->stream_error)) {
			unsigned char ch = (unsigned char)data[i++];

			r->stream_error[m++] = ch >= 0x20 && ch < 0x7f ? (char)ch : ' ';
		}
		r->stream_error[m] = '\0';
	}
	return len;
}

/* The status and body of a failed call as one message and category. */
static int http_failure(const char *what, long status, const struct reply *r)
{
	char msg[300];
	int code;

	if (status >= 500)
		code = TL_E_UNAVAILABLE;
	else if (status == 401 || status == 403)
		code = TL_E_UNAUTHORIZED;
	else
		code = TL_E_INPUT;
	if (bd_ipfs_reply_error(msg, sizeof(msg), r->body.data, r->body.len) != 0 || msg[0] == '\0') {
		size_t n = r->body.len < 120 ? r->body.len : 120, m = 0;

		for (size_t i = 0; i < n; i++) {
			unsigned char ch = r->body.data[i];

			msg[m++] = ch >= 0x20 && ch < 0x7f ? (char)ch : ' ';
		}
		msg[m] = '\0';
		if (m == 0)
			strcpy(msg, "(no message)");
	}
	if (status == 404)
		return tl_error_set(code, "ipfs %s: 404: %s (is the URL a Kubo RPC API?)", what, msg);
	return tl_error_set(code, "ipfs %s: %ld: %s", what, status, msg);
}

/*
 * One POST /api/v0/<cmd>?<query>: the body is read into r->body (whose cap the caller
 * sets); an HTTP status other than 200 becomes an error with the node's message. `upload`
 * (may be NULL) is sent as the one multipart file part that block/put and add take.
 */
static int call(bd_ipfs *c, const char *what, const char *query, const void *upload, size_t upload_len,
	struct reply *r)
{
	char url[BD_IPFS_URL_MAX + 512], errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers = NULL;
	curl_mime *mime = NULL;
	long status = 0;
	CURLcode rc;
	int err = 0;

	if ((size_t)snprintf(url, sizeof(url), "%s/api/v0/%s%s%s", c->api, what, query ? "?" : "",
			query ? query : "") >= sizeof(url))
		return tl_error_set(TL_E_INTERNAL, "ipfs %s: URL too long", what);
	pthread_mutex_lock(&c->lock);
	curl_easy_reset(c->curl);
	errbuf[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "bundled");
	curl_easy_setopt(c->curl, CURLOPT_PROXY, c->proxy);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, r);
	/* An empty "Expect:" keeps libcurl from waiting for "100 Continue" before an upload. */
	headers = curl_slist_append(headers, "Expect:");
	if (headers != NULL && c->authorization[0] != '\0')
		headers = curl_slist_append(headers, c->authorization);
	if (headers == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	if (upload != NULL) {
		curl_mimepart *part;

		if ((mime = curl_mime_init(c->curl)) == NULL || (part = curl_mime_addpart(mime)) == NULL) {
			err = tl_error_set(TL_E_NOMEM, "out of memory");
			goto out;
		}
		curl_mime_name(part, "file");
		curl_mime_filename(part, "data");
		curl_mime_type(part, "application/octet-stream");
		curl_mime_data(part, upload_len ? (const char *)upload : "", upload_len);
		curl_easy_setopt(c->curl, CURLOPT_MIMEPOST, mime);
	} else {
		curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, 0L);
	}
	rc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_WRITE_ERROR && r->over) {
		err = tl_error_set(TL_E_INPUT, "ipfs %s: reply longer than %zu bytes", what, r->body.cap);
		goto out;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		err = tl_error_set(TL_E_UNAVAILABLE, "ipfs %s: no complete answer from %s within %ld ms",
			what, c->api, c->timeout_ms);
		goto out;
	}
	if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
		err = tl_error_set(TL_E_INPUT, "ipfs %s: bad API URL %s: %s", what, c->api,
			errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	if (rc != CURLE_OK) {
		err = tl_error_set(TL_E_UNAVAILABLE, "ipfs %s: %s: %s", what, c->api,
			errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	if (status != 200) {
		err = http_failure(what, status, r);
		goto out;
	}
	if (r->stream_error[0] != '\0')
		err = tl_error_set(TL_E_UNAVAILABLE, "ipfs %s: the node failed while answering: %s", what, r->stream_error);
out:
	curl_mime_free(mime);
	curl_slist_free_all(headers);
	/* The handle keeps its connection for the next call, but not pointers into this one. */
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->curl, CURLOPT_MIMEPOST, NULL);
	pthread_mutex_unlock(&c->lock);
	return err;
}

static struct reply reply_make(size_t cap)
{
	struct reply r;

	memset(&r, 0, sizeof(r));
	r.body = tl_buf_make(cap);
	return r;
}

/* Keeps the message of `err` but names the call: "ipfs <what> <cid>: ...". */
static int with_cid(int err, const char *what, const bd_cid *cid)
{
	char text[BD_CID_TEXT_MAX];
	const char *m = tl_error_message();
	size_t k = strlen("ipfs ") + strlen(what);

	/* The HTTP layer already says "ipfs <what>: "; put the CID after <what>. */
	if (strncmp(m, "ipfs ", 5) == 0 && strncmp(m + 5, what, strlen(what)) == 0 && m[k] == ':') {
		char rest[512];

		snprintf(rest, sizeof(rest), "%s", m + k + 2);
		return tl_error_set(err, "ipfs %s %s: %s", what, cid_text(text, cid), rest);
	}
	return tl_error_wrap(err, "ipfs %s %s", what, cid_text(text, cid));
}

int bd_ipfs_version(bd_ipfs_info *out, bd_ipfs *ipfs)
{
	struct reply r = reply_make(BD_IPFS_MAX_REPLY);
	int err;

	if ((err = call(ipfs, "version", NULL, NULL, 0, &r)) == 0 &&
			(err = bd_ipfs_reply_version(out, r.body.data, r.body.len)) != 0)
		err = tl_error_wrap(err, "ipfs version");
	tl_buf_free(&r.body);
	return err;
}

int bd_ipfs_block_put(bd_ipfs *ipfs, const bd_block *block)
{
	char text[BD_CID_TEXT_MAX];
	struct reply r = reply_make(BD_IPFS_MAX_REPLY);
	const char *query;
	tl_hash h;
	int err;

	cid_text(text, &block->cid);
	if (block->len > BD_IPFS_MAX_BLOCK)
		return tl_error_set(TL_E_INPUT, "ipfs block/put %s: %zu bytes is over %u", text, block->len,
			BD_IPFS_MAX_BLOCK);
	tl_sha256(&h, block->data, block->len);
	if (!tl_hash_equal(&h, &block->cid.digest))
		return tl_error_set(TL_E_INPUT, "ipfs block/put %s: the bytes do not hash to the CID", text);
	/*
	 * Kubo reads cid-codec (and refuses the deprecated "format" beside any cid-codec but
	 * raw); js-ipfs reads only format and version, with format defaulting to dag-pb and
	 * version to 0. So raw leaves send format=raw and cid-codec=raw, which both read the
	 * same way, and dag-pb nodes send cid-codec=dag-pb and version=1 but no format. Both
	 * ignore what they do not know. The reply's CID is checked whatever the node did.
	 */
	if (block->cid.codec == BD_CODEC_RAW)
		query = "format=raw&cid-codec=raw&mhtype=sha2-256&mhlen=-1&cid-base=base32";
	else if (block->cid.codec == BD_CODEC_DAG_PB)
		query = "cid-codec=dag-pb&version=1&mhtype=sha2-256&mhlen=-1&cid-base=base32";
	else
		return tl_error_set(TL_E_INPUT, "ipfs block/put %s: codec 0x%llx is neither raw nor dag-pb", text,
			(unsigned long long)block->cid.codec);
	if ((err = call(ipfs, "block/put", query, block->data, block->len, &r)) != 0 ||
			(err = bd_ipfs_reply_block_put(&block->cid, block->len, r.body.data, r.body.len)) != 0)
		err = with_cid(err, "block/put", &block->cid);
	tl_buf_free(&r.body);
	return err;
}

int bd_ipfs_put_dag(bd_ipfs *ipfs, const bd_dag *dag)
{
	int err;

	for (size_t i = 0; i < bd_dag_count(dag); i++)
		if ((err = bd_ipfs_block_put(ipfs, bd_dag_block(dag, i))) != 0)
			return err;
	return 0;
}

static int cid_query(char *out, size_t cap, const bd_cid *cid, const char *extra)
{
	char text[BD_CID_TEXT_MAX];

	if (bd_cid_format(text, sizeof(text), cid) != 0)
		return tl_error_wrap(TL_E_INPUT, "ipfs");
	snprintf(out, cap, "arg=%s%s", text, extra);
	return 0;
}

int bd_ipfs_block_get(tl_buf *out, bd_ipfs *ipfs, const bd_cid *cid)
{
	char query[BD_CID_TEXT_MAX + 64];
	size_t room = out->cap - out->len;
	struct reply r;
	tl_hash h;
	int err;

	if ((err = cid_query(query, sizeof(query), cid, "")) != 0)
		return err;
	r = reply_make(room < BD_IPFS_MAX_BLOCK ? room : BD_IPFS_MAX_BLOCK);
	if ((err = call(ipfs, "block/get", query, NULL, 0, &r)) != 0) {
		err = with_cid(err, "block/get", cid);
		goto out;
	}
	tl_sha256(&h, r.body.data, r.body.len);
	if (!tl_hash_equal(&h, &cid->digest)) {
		char text[BD_CID_TEXT_MAX];

		err = tl_error_set(TL_E_CONFLICT, "ipfs block/get %s: the node returned %zu bytes that do not hash to the CID",
			cid_text(text, cid), r.body.len);
		goto out;
	}
	if ((err = tl_buf_append(out, r.body.data ? r.body.data : (const uint8_t *)"", r.body.len)) != 0)
		goto out;
out:
	tl_buf_free(&r.body);
	return err;
}

int bd_ipfs_pin_add(bd_ipfs *ipfs, const bd_cid *root)
{
	char query[BD_CID_TEXT_MAX + 64];
	struct reply r = reply_make(BD_IPFS_MAX_REPLY);
	int err;

	if ((err = cid_query(query, sizeof(query), root, "&recursive=true&progress=false&cid-base=base32")) != 0)
		return err;
	if ((err = call(ipfs, "pin/add", query, NULL, 0, &r)) != 0 ||
			(err = bd_ipfs_reply_pins(root, r.body.data, r.body.len)) != 0)
		err = with_cid(err, "pin/add", root);
	tl_buf_free(&r.body);
	return err;
}

int bd_ipfs_pin_ls(int *pinned, bd_ipfs *ipfs, const bd_cid *root)
{
	char query[BD_CID_TEXT_MAX + 64];
	struct reply r = reply_make(BD_IPFS_MAX_REPLY);
	int err;

	*pinned = 0;
	if ((err = cid_query(query, sizeof(query), root, "&type=recursive&cid-base=base32")) != 0)
		return err;
	err = call(ipfs, "pin/ls", query, NULL, 0, &r);
	/* Both Kubo and js-ipfs answer "<cid> is not pinned" with a 500 and that message. */
	if (err == TL_E_UNAVAILABLE && strstr(tl_error_message(), "is not pinned") != NULL) {
		tl_error_clear();
		err = 0;
		goto out;
	}
	if (err != 0 || (err = bd_ipfs_reply_pin_ls(pinned, root, r.body.data, r.body.len)) != 0)
		err = with_cid(err, "pin/ls", root);
out:
	tl_buf_free(&r.body);
	return err;
}

int bd_ipfs_pin_rm(bd_ipfs *ipfs, const bd_cid *root)
{
	char query[BD_CID_TEXT_MAX + 64];
	struct reply r = reply_make(BD_IPFS_MAX_REPLY);
	int err;

	if ((err = cid_query(query, sizeof(query), root, "&recursive=true&cid-base=base32")) != 0)
		return err;
	err = call(ipfs, "pin/rm", query, NULL, 0, &r);
	if (err == TL_E_UNAVAILABLE && strstr(tl_error_message(), "not pinned") != NULL) {
		err = with_cid(TL_E_NOTFOUND, "pin/rm", root);
		goto out;
	}
	if (err != 0 || (err = bd_ipfs_reply_pins(root, r.body.data, r.body.len)) != 0)
		err = with_cid(err, "pin/rm", root);
out:
	tl_buf_free(&r.body);
	return err;
}

int bd_ipfs_cat(tl_buf *out, bd_ipfs *ipfs, const bd_cid *root, size_t size)
{
	char query[BD_CID_TEXT_MAX + 64], text[BD_CID_TEXT_MAX];
	struct reply r;
	size_t cap;
	int err;

	if (size > out->cap - out->len)
		return tl_error_set(TL_E_INPUT, "ipfs cat %s: %zu bytes do not fit the buffer", cid_text(text, root), size);
	if ((err = cid_query(query, sizeof(query), root, "")) != 0)
		return err;
	/* One byte more than expected, so that a longer reply is seen as longer, not cut. */
	cap = size < SIZE_MAX ? size + 1 : size;
	r = reply_make(cap);
	err = call(ipfs, "cat", query, NULL, 0, &r);
	if (err != 0 && r.over) {
		err = tl_error_set(TL_E_CONFLICT, "ipfs cat %s: the node returned more than the %zu bytes expected",
			cid_text(text, root), size);
		goto out;
	}
	if (err != 0) {
		err = with_cid(err, "cat", root);
		goto out;
	}
	if (r.body.len != size) {
		err = tl_error_set(TL_E_CONFLICT, "ipfs cat %s: the node returned %zu bytes, expected %zu",
			cid_text(text, root), r.body.len, size);
		goto out;
	}
	err = tl_buf_append(out, r.body.data ? r.body.data : (const uint8_t *)"", r.body.len);
out:
	tl_buf_free(&r.body);
	return err;
}

int bd_ipfs_add(bd_cid *root, bd_ipfs *ipfs, const void *data, size_t len, const bd_chunker *chunker)
{
	char spec[64], query[160];
	struct reply r = reply_make(BD_IPFS_MAX_REPLY);
	int err;

	if (chunker->kind != BD_CHUNK_FIXED)
		return tl_error_set(TL_E_INPUT, "ipfs add: only fixed-size chunkers are known to IPFS nodes");
	if (len > BD_IPFS_MAX_ADD)
		return tl_error_set(TL_E_INPUT, "ipfs add: %zu bytes is over %u", len, BD_IPFS_MAX_ADD);
	if ((err = bd_chunker_format(spec, sizeof(spec), chunker)) != 0)
		return err;
	snprintf(query, sizeof(query),
		"cid-version=1&raw-leaves=true&chunker=%s&pin=false&progress=false&cid-base=base32", spec);
	if ((err = call(ipfs, "add", query, data, len, &r)) == 0 &&
			(err = bd_ipfs_reply_add(root, r.body.data, r.body.len)) != 0)
		err = tl_error_wrap(err, "ipfs add");
	tl_buf_free(&r.body);
	return err;
}
