/*
 * The watch hub: every open GET /v1/watch stream, and the recent events they are told of.
 *
 * Publishing tells the hub of a committed version or revocation (watch_hub_publish); the hub
 * formats its Server-Sent Event once into a ring of recent events, and its thread (not the
 * publisher's: the publisher's answer never waits for a fan-out) wakes the streams that watch
 * its domain. Each stream's producer, run by the HTTP server's event loop when its
 * client can take bytes, copies the events it has not sent from the ring: an idle watcher is a
 * paused stream (no thread, no buffer), and an event is stored once however many watch it. A
 * watcher so slow that the ring passes it is disconnected; it resumes with Last-Event-ID and
 * the route replays what it missed from the log (routes_watch.c).
 *
 * The same thread wakes every stream each keepalive_ms for a keep-alive comment, so proxies
 * and clients see a live connection.
 */
#ifndef BUNDLED_DAEMON_WATCH_H
#define BUNDLED_DAEMON_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundled/entry.h"
#include "bundled/httpd.h"
#include "translog/bytes.h"
#include "translog/error.h"

#define WATCH_MAX_DOMAINS 16          /* trust domains one stream may name */
#define WATCH_RING_EVENTS 4096u       /* recent events kept for streams that lag */
#define WATCH_MAX_EVENT_TEXT 2048     /* bytes of one formatted event */
#define WATCH_ADDR_MAX 64             /* bytes of a client address, with the NUL */
#define WATCH_ALL_DOMAINS "*"         /* the domains list that watches every domain */

struct metrics;
struct watch_hub;
struct watch;

struct watch_options {
	unsigned max_watchers;   /* open streams overall; more are answered 503 */
	unsigned max_per_client; /* open streams per client address; more are answered 429 */
	unsigned keepalive_ms;   /* a comment to every stream this often */
};

/* One new version or revocation of a domain, as a stream reports it (schema/watch-event.schema.json). */
struct watch_event {
	char domain[BD_MAX_DOMAIN + 1];
	bool revocation;           /* the version a revocation made (its entry at revocation_index) */
	uint64_t sequence;
	char sha256[2 * TL_HASH_SIZE + 1]; /* hex, of the canonical bundle */
	char cid[BD_MAX_CID_TEXT + 1];
	uint64_t index;            /* the version's bundle entry's leaf index: the event's id */
	uint64_t revocation_index; /* when revocation */
	uint64_t tree_size;        /* a checkpoint of this size includes it */
};

/* Fills ev from a logged bundle entry. */
void watch_event_from_entry(struct watch_event *ev, const bd_entry *e, uint64_t index, uint64_t tree_size);
/* Appends the event as one Server-Sent Event: "id: INDEX", "event: version|revocation",
 * "data: JSON", and an empty line. */
int watch_event_format(tl_buf *out, const struct watch_event *ev) TL_MUST_USE;

/* The hub, with its series registered in `m` (bundled_watchers, bundled_watch_events_sent_total,
 * bundled_watch_refused_total) when m is not NULL. */
int watch_hub_new(struct watch_hub **out, const struct watch_options *opts, struct metrics *m) TL_MUST_USE;
/* Stops the keep-alive thread and frees the hub: every stream must be gone (the HTTP server
 * stopped first, which releases them). NULL is ignored. */
void watch_hub_free(struct watch_hub *h);

/* Tells the streams watching ev->domain. Any thread. */
void watch_hub_publish(struct watch_hub *h, const struct watch_event *ev);

/* A new watcher from client `addr` of the comma-separated `domains` (already checked),
 * counting in the limits, that will send the hub's events published from now on with a leaf
 * index above `after`. TL_E_UNAVAILABLE: over max_watchers; TL_E_CONFLICT: over
 * max_per_client (the route answers 429). */
int watch_open(struct watch **out, struct watch_hub *h, const char *addr, const char *domains, uint64_t after)
	TL_MUST_USE;
/* Events replayed before the live ones: `text` (formatted events) and `indices` (their n
 * leaf indices, increasing, malloc'ed), both taken over by the watcher; a live event among
 * them is not sent again. Before watch_reply only. */
void watch_set_replay(struct watch *w, tl_buf *text, uint64_t *indices, size_t n);
/* Answers res with the watcher's event stream; the server then owns the watcher (it leaves
 * the hub when the stream ends). On failure the caller still owns it. */
int watch_reply(bd_httpd_response *res, struct watch *w) TL_MUST_USE;
/* Leaves the hub and frees (a watcher never replied with). */
void watch_close(struct watch *w);

/* Open streams now. */
unsigned watch_hub_count(struct watch_hub *h);

#endif
