/*
 * The one reader of Server-Sent Events (the WHATWG HTML "event stream" format), as
 * GET /v1/watch sends them: incremental (bytes arrive in any pieces), bounded (a line over
 * BD_SSE_MAX_LINE bytes or an event whose data grows over BD_SSE_MAX_EVENT bytes is an
 * error, never a bigger buffer), and strict where the daemon is: the stream must be valid
 * UTF-8 without NUL bytes.
 *
 * Otherwise as the specification says: lines end in CR LF, LF or CR; a leading BOM is
 * skipped; a line starting with ':' is a comment; "field: value" loses one space after the
 * colon; "data" lines are joined with LF; "event" names the type ("message" by default);
 * "id" sets the last event id (it persists across events); "retry" with only digits sets the
 * reconnection time; other fields are ignored; an empty line dispatches the event if it has
 * data. A stream that ends without a final empty line drops its incomplete event.
 */
#ifndef BUNDLED_SSE_H
#define BUNDLED_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "translog/bytes.h"
#include "translog/error.h"

#define BD_SSE_MAX_LINE 8192    /* bytes of one line, without its end */
#define BD_SSE_MAX_EVENT 65536  /* bytes of one event's data */
#define BD_SSE_MAX_TYPE 64      /* bytes of an event type */
#define BD_SSE_MAX_ID 64        /* bytes of an event id */

typedef struct bd_sse_event {
	const char *type;  /* "message" unless the event named one */
	const char *data;  /* the data lines joined with LF, NUL-terminated */
	size_t data_len;
	const char *id;    /* the last event id ("" if none yet) */
} bd_sse_event;

/* Called for each complete event; a non-zero return stops bd_sse_feed, which returns it. */
typedef int (*bd_sse_callback)(void *ctx, const bd_sse_event *ev);

typedef struct bd_sse_parser {
	tl_buf line;       /* the line being read, capped at BD_SSE_MAX_LINE */
	tl_buf data;       /* the event's data, capped at BD_SSE_MAX_EVENT + 1 (for the NUL) */
	bool has_data;
	bool after_cr;     /* the previous byte ended a line with CR: an LF now is part of it */
	bool started;      /* past the optional BOM */
	char type[BD_SSE_MAX_TYPE + 1];
	char id[BD_SSE_MAX_ID + 1];
	uint64_t retry_ms; /* the server's reconnection time, 0 until it sends one */
} bd_sse_parser;

void bd_sse_init(bd_sse_parser *p);
void bd_sse_free(bd_sse_parser *p);
/* Forgets a partial line and event (a new connection), keeping the last event id and retry. */
void bd_sse_reset(bd_sse_parser *p);

/* Reads data[0..len), calling fn for each event it completes. TL_E_INPUT on a line or event
 * over its limit, a NUL byte or invalid UTF-8, an event type or id over its limit: the
 * parser is then unusable until bd_sse_reset. */
int bd_sse_feed(bd_sse_parser *p, const uint8_t *data, size_t len, bd_sse_callback fn, void *ctx) TL_MUST_USE;

#endif
