/*
 * A client of GET /v1/watch: follows a bundled server's new versions and revocations of some
 * trust domains, as Server-Sent Events over one long-lived HTTP connection (libcurl).
 *
 *     bd_watch_options o = { .http = { .name = "bundled", .url = "https://bundles.example" },
 *             .domains = tds, .n_domains = 2, .on_event = got, .ctx = me };
 *     bd_watch *w;
 *     if (bd_watch_new(&w, &o) == 0) {
 *             err = bd_watch_run(w);      (blocks; bd_watch_stop(w) from another thread ends it)
 *             bd_watch_free(w);
 *     }
 *
 * It connects, reads events through the bounded parser (bundled/sse.h), checks each event's
 * fields, and calls on_event(ctx, ev) in log order. When the connection breaks, or nothing
 * (not even the server's keep-alive comment) arrives for idle_timeout_ms, it reconnects after
 * a jittered exponential back-off, sending the last event id (Last-Event-ID) so the server
 * replays what was missed. An event tells the client where to look; it proves nothing: a
 * verifying client checks the version against the log (its entry, inclusion, checkpoint)
 * before it trusts it.
 */
#ifndef BUNDLED_WATCH_H
#define BUNDLED_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundled/entry.h"
#include "bundled/http.h"
#include "translog/error.h"

#define BD_WATCH_MAX_DOMAINS 16             /* as the server allows */
#define BD_WATCH_BACKOFF_MIN_MS 250u        /* first reconnection delay (before jitter) */
#define BD_WATCH_BACKOFF_MAX_MS 30000u      /* the delay doubles up to this */
#define BD_WATCH_IDLE_TIMEOUT_MS 60000u     /* silence after which the connection is dropped */
/* The one domain that watches every domain (a read replica's follower; the server needs to
 * support it: see docs/http-api.md). */
#define BD_WATCH_ALL_DOMAINS "*"

/* One event, valid during the callback. */
typedef struct bd_watch_event {
	const char *domain;
	bool revocation;           /* the version a revocation made */
	uint64_t sequence;         /* the version's sequence */
	const char *sha256;        /* hex SHA-256 of its canonical bytes */
	const char *cid;           /* its CID */
	uint64_t index;            /* its bundle entry's leaf index (the event id) */
	uint64_t revocation_index; /* the revocation entry's leaf index, when revocation */
	uint64_t tree_size;        /* a checkpoint of this size includes the entry */
	const char *json;          /* the event's data as the server sent it */
} bd_watch_event;

typedef struct bd_watch_options {
	bd_http_options http;      /* the server (url, ca_file, client certificate, proxy, ...);
	                            * its timeout_ms is not used: a watch has no end */
	const char *const *domains;
	size_t n_domains;          /* 1 .. BD_WATCH_MAX_DOMAINS; or the one BD_WATCH_ALL_DOMAINS */
	bool resume;               /* replay the events after `after` on the first connection */
	uint64_t after;            /* (a leaf index: the last event id a previous run saw) */
	unsigned backoff_min_ms;   /* 0: BD_WATCH_BACKOFF_MIN_MS */
	unsigned backoff_max_ms;   /* 0: BD_WATCH_BACKOFF_MAX_MS */
	unsigned idle_timeout_ms;  /* 0: BD_WATCH_IDLE_TIMEOUT_MS */
	/* Each event; a non-zero return ends bd_watch_run with that value. */
	int (*on_event)(void *ctx, const bd_watch_event *ev);
	/* May be NULL: told of each connection made (connected, why NULL) and lost (why: the
	 * error message), for logs. */
	void (*on_state)(void *ctx, bool connected, const char *why);
	void *ctx;
} bd_watch_options;

typedef struct bd_watch bd_watch;

/* Checks the options (TL_E_INPUT naming the bad one) and copies them; connects nothing yet. */
int bd_watch_new(bd_watch **out, const bd_watch_options *opts) TL_MUST_USE;
/* Follows the stream until bd_watch_stop (then 0), on_event returns non-zero (that value),
 * or the server refuses the watch for good (TL_E_INPUT for a 400, TL_E_NOTFOUND for an
 * unknown domain, TL_E_UNAUTHORIZED: the message says why). Busy answers (429, 503), broken
 * connections and malformed streams are retried with back-off. Once per handle. */
int bd_watch_run(bd_watch *w) TL_MUST_USE;
/* Makes bd_watch_run return soon (within milliseconds). Any thread, any time. */
void bd_watch_stop(bd_watch *w);
/* The last event id seen (opts->after until an event arrives): where a later run resumes. */
uint64_t bd_watch_last_id(bd_watch *w);
/* Frees; bd_watch_run must have returned. NULL is ignored. */
void bd_watch_free(bd_watch *w);

#endif
