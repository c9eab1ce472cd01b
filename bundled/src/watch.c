#include "bundled/watch.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundled/sse.h"
#include "translog/text.h"

#define MAX_ERROR_BODY 512 /* bytes of a refusal's body kept for the message */
#define POLL_MS 1000

struct bd_watch {
	bd_http *probe;          /* the checked options; its URL is the one messages show */
	char *url;               /* base + "/v1/watch?domains=..." */
	char name[16];           /* the server's name in messages */
	char *authorization, *proxy, *ca_file, *client_cert, *client_key;
	long connect_timeout_ms;
	char domains[BD_WATCH_MAX_DOMAINS][BD_MAX_DOMAIN + 1];
	size_t n_domains;
	unsigned backoff_min_ms, backoff_max_ms, idle_timeout_ms;
	int (*on_event)(void *ctx, const bd_watch_event *ev);
	void (*on_state)(void *ctx, bool connected, const char *why);
	void *ctx;
	CURLM *multi;
	bool stop;               /* atomic */
	bool have_id;
	uint64_t last_id;        /* atomic */
	uint64_t rng;
	/* One connection's state. */
	CURL *easy;
	bd_sse_parser sse;
	long status;
	bool refused;            /* a status other than 200: its body is the message */
	tl_buf error_body;
	int err;                 /* why on_data stopped the transfer */
	bool callback_stopped;   /* on_event returned non-zero (err holds it) */
	size_t delivered;        /* events handed to on_event */
};

static char *dup_opt(const char *s, int *err)
{
	char *d;

	if (s == NULL || *err != 0)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*err = tl_error_set(TL_E_NOMEM, "out of memory");
	return d;
}

static int build_url(bd_watch *w, const char *base)
{
	size_t n = strlen(base), cap;
	char *p;

	while (n > 0 && base[n - 1] == '/')
		n--;
	cap = n + sizeof("/v1/watch?domains=") + w->n_domains * (BD_MAX_DOMAIN + 1);
	if ((w->url = p = malloc(cap)) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	p += snprintf(p, cap, "%.*s/v1/watch?domains=", (int)n, base);
	for (size_t i = 0; i < w->n_domains; i++)
		p += snprintf(p, cap - (size_t)(p - w->url), "%s%s", i ? "," : "", w->domains[i]);
	return 0;
}

int bd_watch_new(bd_watch **out, const bd_watch_options *o)
{
	bd_watch *w = calloc(1, sizeof(*w));
	int err = 0;

	if (w == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	bd_sse_init(&w->sse);
	w->error_body = tl_buf_make(MAX_ERROR_BODY);
	if ((err = bd_http_open(&w->probe, &o->http)) != 0)
		goto fail;
	if (o->n_domains == 0 || o->n_domains > BD_WATCH_MAX_DOMAINS || o->domains == NULL) {
		err = tl_error_set(TL_E_INPUT, "watch: give 1 to %d trust domains", BD_WATCH_MAX_DOMAINS);
		goto fail;
	}
	for (size_t i = 0; i < o->n_domains; i++) {
		size_t n = strlen(o->domains[i]);

		if (o->n_domains == 1 && strcmp(o->domains[i], BD_WATCH_ALL_DOMAINS) == 0) {
			memcpy(w->domains[i], o->domains[i], n + 1);
			continue;
		}
		if (n == 0 || n > BD_MAX_DOMAIN || bd_domain_name_check(o->domains[i], n) != 0) {
			err = tl_error_set(TL_E_INPUT, "watch: \"%.64s\" is not a SPIFFE trust domain name", o->domains[i]);
			goto fail;
		}
		memcpy(w->domains[i], o->domains[i], n + 1);
	}
	if (o->on_event == NULL) {
		err = tl_error_set(TL_E_INPUT, "watch: no on_event callback");
		goto fail;
	}
	w->n_domains = o->n_domains;
	snprintf(w->name, sizeof(w->name), "%s", o->http.name);
	w->authorization = dup_opt(o->http.authorization, &err);
	w->proxy = dup_opt(o->http.proxy, &err);
	w->ca_file = dup_opt(o->http.ca_file, &err);
	w->client_cert = dup_opt(o->http.client_cert, &err);
	w->client_key = dup_opt(o->http.client_key, &err);
	if (err != 0 || (err = build_url(w, o->http.url)) != 0)
		goto fail;
	w->connect_timeout_ms = o->http.connect_timeout_ms ? o->http.connect_timeout_ms : BD_HTTP_CONNECT_TIMEOUT_MS;
	w->backoff_min_ms = o->backoff_min_ms ? o->backoff_min_ms : BD_WATCH_BACKOFF_MIN_MS;
	w->backoff_max_ms = o->backoff_max_ms ? o->backoff_max_ms : BD_WATCH_BACKOFF_MAX_MS;
	if (w->backoff_max_ms < w->backoff_min_ms)
		w->backoff_max_ms = w->backoff_min_ms;
	w->idle_timeout_ms = o->idle_timeout_ms ? o->idle_timeout_ms : BD_WATCH_IDLE_TIMEOUT_MS;
	w->on_event = o->on_event;
	w->on_state = o->on_state;
	w->ctx = o->ctx;
	w->have_id = o->resume;
	w->last_id = o->after;
	w->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)w;
	if ((w->multi = curl_multi_init()) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "watch: out of memory");
		goto fail;
	}
	*out = w;
	return 0;
fail:
	bd_watch_free(w);
	return err;
}

void bd_watch_free(bd_watch *w)
{
	if (w == NULL)
		return;
	if (w->multi != NULL)
		curl_multi_cleanup(w->multi);
	bd_http_close(w->probe);
	bd_sse_free(&w->sse);
	tl_buf_free(&w->error_body);
	free(w->url);
	free(w->authorization);
	free(w->proxy);
	free(w->ca_file);
	free(w->client_cert);
	free(w->client_key);
	free(w);
}

void bd_watch_stop(bd_watch *w)
{
	__atomic_store_n(&w->stop, true, __ATOMIC_RELEASE);
	curl_multi_wakeup(w->multi);
}

static bool stopped(bd_watch *w)
{
	return __atomic_load_n(&w->stop, __ATOMIC_ACQUIRE);
}

uint64_t bd_watch_last_id(bd_watch *w)
{
	return __atomic_load_n(&w->last_id, __ATOMIC_ACQUIRE);
}

/* A non-negative integer member; false if absent or of another type. */
static bool get_u64(uint64_t *out, json_t *doc, const char *name)
{
	json_t *v = json_object_get(doc, name);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

static const char *get_str(json_t *doc, const char *name, size_t max)
{
	const char *s = json_string_value(json_object_get(doc, name));

	return s != NULL && s[0] != '\0' && strlen(s) <= max ? s : NULL;
}

static bool watched(const bd_watch *w, const char *domain)
{
	if (strcmp(w->domains[0], BD_WATCH_ALL_DOMAINS) == 0)
		return true;
	for (size_t i = 0; i < w->n_domains; i++)
		if (strcmp(w->domains[i], domain) == 0)
			return true;
	return false;
}

/* Checks an event's data against its type and id (schema/watch-event.schema.json), then hands
 * it to the application. */
static int on_sse(void *ctx, const bd_sse_event *sev)
{
	bd_watch *w = ctx;
	bool revocation = strcmp(sev->type, "revocation") == 0;
	json_error_t jerr;
	json_t *doc;
	bd_watch_event ev = { .json = sev->data, .revocation = revocation };
	uint64_t id;
	int rc;

	if (!revocation && strcmp(sev->type, "version") != 0)
		return 0; /* a type this client does not know: a later server's, ignored */
	if ((doc = json_loadb(sev->data, sev->data_len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return tl_error_set(TL_E_INPUT, "%s GET /v1/watch: an event's data is not JSON: %s", w->name, jerr.text);
	ev.domain = get_str(doc, "domain", BD_MAX_DOMAIN);
	ev.sha256 = get_str(doc, "sha256", 2 * TL_HASH_SIZE);
	ev.cid = get_str(doc, "cid", BD_MAX_CID_TEXT);
	if (ev.domain == NULL || !watched(w, ev.domain) || ev.cid == NULL || ev.sha256 == NULL ||
	    strlen(ev.sha256) != 2 * TL_HASH_SIZE || strspn(ev.sha256, "0123456789abcdef") != 2 * TL_HASH_SIZE ||
	    !get_u64(&ev.sequence, doc, "sequence") || !get_u64(&ev.index, doc, "index") ||
	    !get_u64(&ev.tree_size, doc, "tree_size") || ev.tree_size <= ev.index ||
	    strcmp(json_string_value(json_object_get(doc, "kind")) ? json_string_value(json_object_get(doc, "kind")) : "",
		    sev->type) != 0 ||
	    (revocation && (!get_u64(&ev.revocation_index, doc, "revocation_index") || ev.revocation_index >= ev.index)) ||
	    tl_parse_u64(&id, sev->id, strlen(sev->id)) != 0 || id != ev.index) {
		json_decref(doc);
		return tl_error_set(TL_E_INPUT, "%s GET /v1/watch: a malformed %s event (id \"%.20s\")", w->name, sev->type, sev->id);
	}
	rc = w->on_event(w->ctx, &ev);
	w->delivered++;
	json_decref(doc);
	w->have_id = true;
	__atomic_store_n(&w->last_id, id, __ATOMIC_RELEASE);
	if (rc != 0)
		w->callback_stopped = true;
	return rc;
}

static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
	bd_watch *w = ctx;
	size_t len = size * n;
	int rc;

	if (w->status == 0) {
		const char *type = NULL;

		curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &w->status);
		curl_easy_getinfo(w->easy, CURLINFO_CONTENT_TYPE, &type);
		w->refused = w->status != 200;
		if (!w->refused && (type == NULL || strncmp(type, "text/event-stream", 17) != 0)) {
			w->err = tl_error_set(TL_E_INPUT, "%s GET /v1/watch: 200 with a Content-Type other than text/event-stream",
				w->name);
			return 0;
		}
		if (!w->refused && w->on_state != NULL)
			w->on_state(w->ctx, true, NULL);
	}
	if (w->refused) {
		/* A refusal's body (the JSON error), kept to its first bytes for the message. */
		size_t room = tl_buf_room(&w->error_body);

		if (tl_buf_append(&w->error_body, data, len < room ? len : room) != 0) {
			/* full: the rest is dropped */
		}
		return len;
	}
	if ((rc = bd_sse_feed(&w->sse, (const uint8_t *)data, len, on_sse, w)) != 0) {
		w->err = rc;
		return 0; /* stops the transfer */
	}
	return len;
}

/* The request's header lines: Accept, Last-Event-ID once an id is known, Authorization. */
static struct curl_slist *request_headers(bd_watch *w, int *err)
{
	struct curl_slist *h = NULL, *t;
	char line[BD_HTTP_AUTH_MAX + 32];
	const char *lines[3];
	size_t n = 0;
	char id[48];

	lines[n++] = "Accept: text/event-stream";
	if (w->have_id) {
		snprintf(id, sizeof(id), "Last-Event-ID: %llu", (unsigned long long)bd_watch_last_id(w));
		lines[n++] = id;
	}
	if (w->authorization != NULL) {
		snprintf(line, sizeof(line), "Authorization: %s", w->authorization);
		lines[n++] = line;
	}
	for (size_t i = 0; i < n; i++) {
		if ((t = curl_slist_append(h, lines[i])) == NULL) {
			curl_slist_free_all(h);
			*err = tl_error_set(TL_E_NOMEM, "out of memory");
			return NULL;
		}
		h = t;
	}
	return h;
}

/* The error for a status other than 200: the message of the daemon's JSON error, or the
 * body's first line. */
static int refusal(bd_watch *w)
{
	char text[BD_HTTP_TEXT_MAX + 8];
	bd_http_reply r = { .body = w->error_body, .status = w->status };
	json_t *doc = json_loadb((const char *)w->error_body.data, w->error_body.len, 0, NULL);
	const char *message = json_string_value(json_object_get(json_object_get(doc, "error"), "message"));
	int err;

	err = tl_error_set(bd_http_status_err(w->status), "%s GET /v1/watch: %ld: %.200s", w->name, w->status,
		message != NULL ? message : bd_http_reply_text(text, sizeof(text), &r));
	json_decref(doc);
	return err;
}

/* One connection, until it ends, breaks or the watch is stopped: 0 when stopped, else the
 * reason it ended (the message set). */
static int connect_once(bd_watch *w)
{
	struct curl_slist *headers;
	CURLcode cc = CURLE_OK;
	char errbuf[CURL_ERROR_SIZE] = "";
	int err = 0, running = 1;

	w->status = 0;
	w->delivered = 0;
	w->refused = false;
	w->err = 0;
	tl_buf_reset(&w->error_body);
	bd_sse_reset(&w->sse);
	if ((headers = request_headers(w, &err)) == NULL)
		return err;
	if ((w->easy = curl_easy_init()) == NULL) {
		curl_slist_free_all(headers);
		return tl_error_set(TL_E_NOMEM, "out of memory");
	}
	curl_easy_setopt(w->easy, CURLOPT_URL, w->url);
	curl_easy_setopt(w->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(w->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->easy, CURLOPT_CONNECTTIMEOUT_MS, w->connect_timeout_ms);
	/* A stream has no end: a silent one (not even keep-alive comments) is a dead one. */
	curl_easy_setopt(w->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(w->easy, CURLOPT_LOW_SPEED_TIME, (long)((w->idle_timeout_ms + 999) / 1000));
	curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(w->easy, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(w->easy, CURLOPT_USERAGENT, "bundled");
	curl_easy_setopt(w->easy, CURLOPT_PROXY, w->proxy != NULL ? w->proxy : "");
	if (w->ca_file != NULL) {
		curl_easy_setopt(w->easy, CURLOPT_CAINFO, w->ca_file);
		curl_easy_setopt(w->easy, CURLOPT_CAPATH, NULL);
	}
	if (w->client_cert != NULL) {
		curl_easy_setopt(w->easy, CURLOPT_SSLCERT, w->client_cert);
		curl_easy_setopt(w->easy, CURLOPT_SSLKEY, w->client_key);
	}
	curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
	curl_multi_add_handle(w->multi, w->easy);
	while (running && !stopped(w)) {
		CURLMsg *m;
		int left;

		if (curl_multi_perform(w->multi, &running) != CURLM_OK)
			break;
		while ((m = curl_multi_info_read(w->multi, &left)) != NULL)
			if (m->msg == CURLMSG_DONE)
				cc = m->data.result;
		if (running && curl_multi_poll(w->multi, NULL, 0, POLL_MS, NULL) != CURLM_OK)
			break;
	}
	curl_multi_remove_handle(w->multi, w->easy);
	curl_easy_cleanup(w->easy);
	w->easy = NULL;
	curl_slist_free_all(headers);
	if (stopped(w))
		return 0;
	if (w->err != 0)
		return w->err;
	if (w->refused)
		return refusal(w);
	if (cc != CURLE_OK)
		return tl_error_set(TL_E_UNAVAILABLE, "%s GET /v1/watch: %s: %s", w->name, bd_http_url(w->probe),
			errbuf[0] ? errbuf : curl_easy_strerror(cc));
	return tl_error_set(TL_E_UNAVAILABLE, "%s GET /v1/watch: %s ended the stream", w->name,
		bd_http_url(w->probe));
}

/* A uniform delay in [ms/2, ms] (xorshift64: jitter, not secrecy), so that clients cut off
 * together do not come back together. */
static unsigned jitter(bd_watch *w, unsigned ms)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return ms / 2 + (unsigned)(w->rng % (ms / 2 + 1));
}

static uint64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Sleeps ms unless stopped first. */
static void pause_ms(bd_watch *w, unsigned ms)
{
	uint64_t t0 = mono_ms(), waited = 0;

	while (!stopped(w) && waited < ms) {
		if (curl_multi_poll(w->multi, NULL, 0, (int)(ms - waited), NULL) != CURLM_OK)
			return;
		waited = mono_ms() - t0;
	}
}

/* Refusals that waiting will not change. */
static bool permanent(const bd_watch *w, int err)
{
	return w->refused && (err == TL_E_INPUT || err == TL_E_NOTFOUND || err == TL_E_UNAUTHORIZED);
}

int bd_watch_run(bd_watch *w)
{
	unsigned backoff = w->backoff_min_ms, delay;
	int err;

	while (!stopped(w)) {
		uint64_t t0 = mono_ms();

		if ((err = connect_once(w)) == 0)
			return 0;
		if (w->callback_stopped || permanent(w, err))
			return err;
		if (w->on_state != NULL)
			w->on_state(w->ctx, false, tl_error_message());
		/* A connection that worked starts the back-off again: one that delivered events, or
		 * stayed up for an idle timeout (not a server that answers 200 and then fails). */
		if (w->status == 200 && (w->delivered > 0 || mono_ms() - t0 >= w->idle_timeout_ms))
			backoff = w->backoff_min_ms;
		delay = jitter(w, backoff);
		/* The server may ask for a longer delay (its "retry"), within the back-off's bound. */
		if (w->sse.retry_ms > delay && w->sse.retry_ms <= w->backoff_max_ms)
			delay = (unsigned)w->sse.retry_ms;
		pause_ms(w, delay);
		backoff = backoff > w->backoff_max_ms / 2 ? w->backoff_max_ms : backoff * 2;
	}
	return 0;
}
