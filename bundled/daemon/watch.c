#include "watch.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "translog/text.h"

#define ADDR_BUCKETS 256u
#define KEEPALIVE ": keep-alive\n\n"

/* Open streams of one client address. */
struct addr_count {
	struct addr_count *next;
	unsigned n;
	char addr[WATCH_ADDR_MAX];
};

struct watch {
	struct watch_hub *hub;
	struct watch *prev, *next;    /* the hub's list (under its lock) */
	bd_httpd_stream *stream;      /* set once replied (under the hub's lock) */
	struct addr_count *client;
	char *domains;                /* ",a,b," so that ",td," finds a domain */
	uint64_t cursor;              /* the next ring event to look at */
	uint64_t after;               /* the resume point: events at or below it are not sent */
	uint64_t *replayed;           /* leaf indices of the replayed events, increasing */
	uint64_t keepalive_seen;      /* the hub's keep-alive round last sent */
	tl_buf replay;                /* replayed events not sent yet, from replay_off */
	size_t replay_off;
	size_t n_replayed;
	bool greeted;
};

struct ring_event {
	char domain[BD_MAX_DOMAIN + 1];
	uint64_t index;
	tl_buf text;
};

struct watch_hub {
	struct watch_options opts;
	pthread_rwlock_t lock;        /* the ring, the list and the address counts */
	struct ring_event ring[WATCH_RING_EVENTS];
	uint64_t next_event;          /* events published so far: ring[i % WATCH_RING_EVENTS] */
	struct watch *watchers;
	unsigned count;
	struct addr_count *addrs[ADDR_BUCKETS];
	uint64_t keepalive_round;     /* atomic */
	pthread_t waker;
	pthread_mutex_t stop_mu;      /* the waker's flags */
	pthread_cond_t stop_cv;
	bool stopping;
	bool wake_pending;            /* events were published since the waker last looked */
	struct metric *sent, *refused_client, *refused_total, *lagged;
};

void watch_event_from_entry(struct watch_event *ev, const bd_entry *e, uint64_t index, uint64_t tree_size)
{
	memset(ev, 0, sizeof(*ev));
	memcpy(ev->domain, e->domain, sizeof(ev->domain));
	ev->sequence = e->sequence;
	tl_hex_encode(ev->sha256, e->sha256.b, TL_HASH_SIZE);
	memcpy(ev->cid, e->cid, sizeof(ev->cid));
	ev->index = index;
	ev->tree_size = tree_size;
}

int watch_event_format(tl_buf *out, const struct watch_event *ev)
{
	json_t *doc = json_pack("{s:s,s:s,s:I,s:s,s:s,s:I,s:I}", "domain", ev->domain, "kind",
		ev->revocation ? "revocation" : "version", "sequence", (json_int_t)ev->sequence, "cid", ev->cid, "sha256",
		ev->sha256, "index", (json_int_t)ev->index, "tree_size", (json_int_t)ev->tree_size);
	char *text = NULL;
	int err;

	if (doc != NULL && ev->revocation &&
	    json_object_set_new(doc, "revocation_index", json_integer((json_int_t)ev->revocation_index)) != 0) {
		json_decref(doc);
		doc = NULL;
	}
	/* Compact JSON has no newline, so the data is one "data:" line. */
	if (doc == NULL || (text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory formatting a watch event");
		goto out;
	}
	err = tl_buf_printf(out, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)ev->index,
		ev->revocation ? "revocation" : "version", text);
out:
	free(text);
	json_decref(doc);
	return err;
}

static double read_count(void *ctx)
{
	return (double)watch_hub_count(ctx);
}

static int register_metrics(struct watch_hub *h, struct metrics *m)
{
	int err;

	if (m == NULL)
		return 0;
	if ((err = metrics_sampled(m, METRIC_GAUGE, "bundled_watchers", "Open /v1/watch streams.", NULL, read_count,
		     h)) != 0 ||
	    (err = metrics_counter(&h->sent, m, "bundled_watch_events_sent_total",
		     "Events written to /v1/watch streams (replayed ones included).", NULL)) != 0 ||
	    (err = metrics_counter(&h->refused_client, m, "bundled_watch_refused_total",
		     "Watch streams refused over a limit.", "limit=\"per_client\"")) != 0 ||
	    (err = metrics_counter(&h->refused_total, m, "bundled_watch_refused_total",
		     "Watch streams refused over a limit.", "limit=\"total\"")) != 0 ||
	    (err = metrics_counter(&h->lagged, m, "bundled_watch_lagged_total",
		     "Watch streams cut because their client fell more than the ring of recent events behind.", NULL)) != 0)
		return err;
	return 0;
}

static void count(struct metric *s, uint64_t n)
{
	if (s != NULL && n > 0)
		metric_add(s, n);
}

/* Whether `w` watches the domain of the ring's event `ev`. Under the lock. */
static bool wants(const struct watch *w, const struct ring_event *ev)
{
	char key[BD_MAX_DOMAIN + 3];

	if (strcmp(w->domains, "," WATCH_ALL_DOMAINS ",") == 0)
		return true;
	snprintf(key, sizeof(key), ",%s,", ev->domain);
	return strstr(w->domains, key) != NULL;
}

/* Wakes every stream (all = true, for the keep-alive) or those that watch a domain of the
 * events from `from` on. Under the lock, shared. */
static void wake_locked(struct watch_hub *h, bool all, uint64_t from)
{
	if (h->next_event - from > WATCH_RING_EVENTS)
		from = h->next_event - WATCH_RING_EVENTS;
	for (struct watch *w = h->watchers; w != NULL; w = w->next) {
		bool wake = all;

		for (uint64_t i = from; !wake && i < h->next_event; i++)
			wake = wants(w, &h->ring[i % WATCH_RING_EVENTS]);
		if (wake && w->stream != NULL)
			bd_httpd_stream_wake(w->stream);
	}
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The hub's thread: wakes the streams an event concerns (off the publisher's thread, so
 * that the publisher's answer never waits for a fan-out to thousands), and every stream each
 * keepalive_ms for its keep-alive comment. */
static void *waker_main(void *arg)
{
	struct watch_hub *h = arg;
	uint64_t next_keepalive = mono_ms() + h->opts.keepalive_ms, woken_upto = 0;

	pthread_mutex_lock(&h->stop_mu);
	while (!h->stopping) {
		bool keepalive, events;

		if (!h->wake_pending && mono_ms() < next_keepalive) {
			struct timespec at = { .tv_sec = (time_t)(next_keepalive / 1000),
				.tv_nsec = (long)(next_keepalive % 1000) * 1000000L };

			pthread_cond_timedwait(&h->stop_cv, &h->stop_mu, &at);
			continue;
		}
		events = h->wake_pending;
		h->wake_pending = false;
		pthread_mutex_unlock(&h->stop_mu);
		keepalive = mono_ms() >= next_keepalive;
		if (keepalive) {
			__atomic_add_fetch(&h->keepalive_round, 1, __ATOMIC_RELEASE);
			next_keepalive = mono_ms() + h->opts.keepalive_ms;
		}
		pthread_rwlock_rdlock(&h->lock);
		if (keepalive || events)
			wake_locked(h, keepalive, woken_upto);
		woken_upto = h->next_event;
		pthread_rwlock_unlock(&h->lock);
		pthread_mutex_lock(&h->stop_mu);
	}
	pthread_mutex_unlock(&h->stop_mu);
	return NULL;
}

int watch_hub_new(struct watch_hub **out, const struct watch_options *opts, struct metrics *m)
{
	struct watch_hub *h = calloc(1, sizeof(*h));
	pthread_condattr_t ca;
	int err;

	if (h == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	h->opts = *opts;
	if (h->opts.keepalive_ms == 0)
		h->opts.keepalive_ms = 15000;
	pthread_rwlock_init(&h->lock, NULL);
	pthread_mutex_init(&h->stop_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->stop_cv, &ca);
	pthread_condattr_destroy(&ca);
	for (size_t i = 0; i < WATCH_RING_EVENTS; i++)
		h->ring[i].text = tl_buf_make(WATCH_MAX_EVENT_TEXT);
	if ((err = register_metrics(h, m)) != 0)
		goto fail;
	if (pthread_create(&h->waker, NULL, waker_main, h) != 0) {
		err = tl_error_set(TL_E_INTERNAL, "cannot start the watch hub's thread");
		goto fail;
	}
	*out = h;
	return 0;
fail:
	pthread_cond_destroy(&h->stop_cv);
	pthread_mutex_destroy(&h->stop_mu);
	pthread_rwlock_destroy(&h->lock);
	free(h);
	return err;
}

void watch_hub_free(struct watch_hub *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->stop_mu);
	h->stopping = true;
	pthread_cond_signal(&h->stop_cv);
	pthread_mutex_unlock(&h->stop_mu);
	pthread_join(h->waker, NULL);
	/* Streams still listed (a server that was never started) are the caller's bug, but
	 * their memory is the hub's to free. */
	while (h->watchers != NULL)
		watch_close(h->watchers);
	for (size_t i = 0; i < WATCH_RING_EVENTS; i++)
		tl_buf_free(&h->ring[i].text);
	pthread_cond_destroy(&h->stop_cv);
	pthread_mutex_destroy(&h->stop_mu);
	pthread_rwlock_destroy(&h->lock);
	free(h);
}

unsigned watch_hub_count(struct watch_hub *h)
{
	return __atomic_load_n(&h->count, __ATOMIC_RELAXED);
}

void watch_hub_publish(struct watch_hub *h, const struct watch_event *ev)
{
	struct ring_event *slot;
	tl_buf text = tl_buf_make(WATCH_MAX_EVENT_TEXT);

	/* Formatted outside the lock; an event that cannot be formatted reaches the watchers by
	 * their next resume's replay, never as broken text. */
	if (watch_event_format(&text, ev) != 0) {
		tl_buf_free(&text);
		return;
	}
	pthread_rwlock_wrlock(&h->lock);
	slot = &h->ring[h->next_event % WATCH_RING_EVENTS];
	tl_buf_free(&slot->text);
	slot->text = text;
	memcpy(slot->domain, ev->domain, sizeof(slot->domain));
	slot->index = ev->index;
	h->next_event++;
	pthread_rwlock_unlock(&h->lock);
	pthread_mutex_lock(&h->stop_mu);
	h->wake_pending = true;
	pthread_cond_signal(&h->stop_cv);
	pthread_mutex_unlock(&h->stop_mu);
}

static unsigned addr_bucket(const char *addr)
{
	uint32_t x = 2166136261u; /* FNV-1a */

	for (; *addr; addr++)
		x = (x ^ (uint8_t)*addr) * 16777619u;
	return x % ADDR_BUCKETS;
}

/* The address's count, made if absent (NULL when out of memory). Under the lock, exclusive. */
static struct addr_count *addr_get(struct watch_hub *h, const char *addr)
{
	struct addr_count **head = &h->addrs[addr_bucket(addr)], *a;

	for (a = *head; a != NULL; a = a->next)
		if (strcmp(a->addr, addr) == 0)
			return a;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	snprintf(a->addr, sizeof(a->addr), "%s", addr);
	a->next = *head;
	*head = a;
	return a;
}

static void addr_put(struct watch_hub *h, struct addr_count *a)
{
	struct addr_count **p = &h->addrs[addr_bucket(a->addr)];

	if (--a->n > 0)
		return;
	while (*p != a)
		p = &(*p)->next;
	*p = a->next;
	free(a);
}

int watch_open(struct watch **out, struct watch_hub *h, const char *addr, const char *domains, uint64_t after)
{
	struct watch *w = calloc(1, sizeof(*w));
	size_t n = strlen(domains);
	int err = 0;

	if (w == NULL || (w->domains = malloc(n + 3)) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto fail;
	}
	w->domains[0] = ',';
	memcpy(w->domains + 1, domains, n);
	memcpy(w->domains + 1 + n, ",", 2);
	w->hub = h;
	w->after = after;
	w->replay = tl_buf_make(SIZE_MAX);
	pthread_rwlock_wrlock(&h->lock);
	if (h->count >= h->opts.max_watchers) {
		err = tl_error_set(TL_E_UNAVAILABLE, "the server holds its maximum of %u watch streams; retry later",
			h->opts.max_watchers);
		count(h->refused_total, 1);
	} else if ((w->client = addr_get(h, addr)) == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
	} else if (w->client->n >= h->opts.max_per_client) {
		err = tl_error_set(TL_E_CONFLICT, "%s holds its maximum of %u watch streams", addr,
			h->opts.max_per_client);
		w->client->n++;
		addr_put(h, w->client);
		count(h->refused_client, 1);
	} else {
		w->client->n++;
		w->cursor = h->next_event;
		w->keepalive_seen = __atomic_load_n(&h->keepalive_round, __ATOMIC_ACQUIRE);
		w->next = h->watchers;
		if (h->watchers != NULL)
			h->watchers->prev = w;
		h->watchers = w;
		__atomic_add_fetch(&h->count, 1, __ATOMIC_RELAXED);
	}
	pthread_rwlock_unlock(&h->lock);
	if (err != 0)
		goto fail;
	*out = w;
	return 0;
fail:
	if (w != NULL)
		free(w->domains);
	free(w);
	return err;
}

void watch_set_replay(struct watch *w, tl_buf *text, uint64_t *indices, size_t n)
{
	free(w->replayed);
	w->replayed = indices;
	w->n_replayed = n;
	tl_buf_free(&w->replay);
	w->replay = *text;
	*text = tl_buf_make(text->cap);
	w->replay_off = 0;
}

void watch_close(struct watch *w)
{
	struct watch_hub *h = w->hub;
	bd_httpd_stream *s;

	pthread_rwlock_wrlock(&h->lock);
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		h->watchers = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	addr_put(h, w->client);
	__atomic_sub_fetch(&h->count, 1, __ATOMIC_RELAXED);
	s = w->stream;
	pthread_rwlock_unlock(&h->lock);
	bd_httpd_stream_release(s);
	tl_buf_free(&w->replay);
	free(w->replayed);
	free(w->domains);
	free(w);
}

static void release(void *ctx)
{
	watch_close(ctx);
}

/* Whether the event at leaf `index` was replayed: the hub's ring may hold it too. */
static bool was_replayed(const struct watch *w, uint64_t index)
{
	size_t lo = 0, hi = w->n_replayed;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->replayed[mid] == index)
			return true;
		if (w->replayed[mid] < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Appends as much of src[0..n) as `out` has room for; returns the bytes taken. */
static size_t take(tl_buf *out, const uint8_t *src, size_t n)
{
	size_t room = tl_buf_room(out);

	if (n > room)
		n = room;
	return n > 0 && tl_buf_append(out, src, n) == 0 ? n : 0;
}

/* The stream's producer, on the server's event loop: the greeting, the replay, then the
 * ring's events for its domains, then a keep-alive comment if one is due. Always 1 (the
 * stream never ends by itself) unless the watcher lags too far behind. */
static int produce(tl_buf *out, void *ctx)
{
	struct watch *w = ctx;
	struct watch_hub *h = w->hub;
	uint64_t sent = 0, round;
	int rc = 1;

	if (!w->greeted) {
		/* The reconnection delay the spec lets a server suggest, and a first byte. */
		if (tl_buf_append(out, "retry: 1000\n\n", 13) != 0)
			return 1;
		w->greeted = true;
	}
	if (w->replay_off < w->replay.len) {
		w->replay_off += take(out, w->replay.data + w->replay_off, w->replay.len - w->replay_off);
		if (w->replay_off < w->replay.len)
			return 1;
		tl_buf_free(&w->replay);
		sent = w->n_replayed;
	}
	pthread_rwlock_rdlock(&h->lock);
	if (h->next_event - w->cursor > WATCH_RING_EVENTS) {
		rc = tl_error_set(TL_E_UNAVAILABLE, "a watcher fell %llu events behind",
			(unsigned long long)(h->next_event - w->cursor));
		count(h->lagged, 1);
	}
	for (; rc == 1 && w->cursor < h->next_event; w->cursor++) {
		const struct ring_event *ev = &h->ring[w->cursor % WATCH_RING_EVENTS];

		if (ev->index <= w->after || was_replayed(w, ev->index) || !wants(w, ev))
			continue;
		if (tl_buf_room(out) < ev->text.len || tl_buf_append(out, ev->text.data, ev->text.len) != 0)
			break; /* the rest at the next call */
		sent++;
	}
	pthread_rwlock_unlock(&h->lock);
	round = __atomic_load_n(&h->keepalive_round, __ATOMIC_ACQUIRE);
	if (rc == 1 && round != w->keepalive_seen && tl_buf_append(out, KEEPALIVE, strlen(KEEPALIVE)) == 0)
		w->keepalive_seen = round;
	count(h->sent, sent);
	return rc;
}

int watch_reply(bd_httpd_response *res, struct watch *w)
{
	bd_httpd_stream *s;
	int err;

	/* Proxies must neither cache nor buffer the stream. Headers first: once the stream is
	 * the response's, the server owns the watcher. */
	if ((err = bd_httpd_add_header(res, "Cache-Control", "no-store")) != 0 ||
	    (err = bd_httpd_add_header(res, "X-Accel-Buffering", "no")) != 0 ||
	    (err = bd_httpd_reply_stream(res, 200, "text/event-stream", produce, release, w, &s)) != 0)
		return err;
	pthread_rwlock_wrlock(&w->hub->lock);
	w->stream = s;
	pthread_rwlock_unlock(&w->hub->lock);
	return 0;
}
