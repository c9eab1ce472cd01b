/*
 * The Server-Sent Events reader: no input may crash it or make it keep more than its limits,
 * and splitting the input anywhere must not change what it reads (the watch client gets the
 * stream in whatever pieces the network makes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundled/sse.h"

struct seen {
	uint64_t digest;
	size_t events;
};

static void mix(struct seen *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s->digest = (s->digest ^ (uint8_t)p[i]) * 1099511628211u;
	s->digest = (s->digest ^ 0xff) * 1099511628211u;
}

static int on_event(void *ctx, const bd_sse_event *ev)
{
	struct seen *s = ctx;

	if (ev->data_len > BD_SSE_MAX_EVENT || strlen(ev->data) != ev->data_len || strlen(ev->type) > BD_SSE_MAX_TYPE ||
	    strlen(ev->id) > BD_SSE_MAX_ID)
		abort();
	mix(s, ev->type, strlen(ev->type));
	mix(s, ev->data, ev->data_len);
	mix(s, ev->id, strlen(ev->id));
	s->events++;
	return 0;
}

static int read_all(struct seen *s, uint64_t *retry, const uint8_t *data, size_t size, size_t piece)
{
	bd_sse_parser p;
	int rc = 0;

	bd_sse_init(&p);
	for (size_t off = 0; off < size && rc == 0; off += piece)
		rc = bd_sse_feed(&p, data + off, size - off < piece ? size - off : piece, on_event, s);
	*retry = p.retry_ms;
	bd_sse_free(&p);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen whole = { 14695981039346656037u, 0 }, pieces = whole;
	uint64_t r1, r2;
	size_t piece = size > 0 ? 1 + data[0] % 7 : 1;
	int a = read_all(&whole, &r1, data, size, size > 0 ? size : 1);
	int b = read_all(&pieces, &r2, data, size, piece);

	/* Pieces only change where an error is noticed, never what was read before it. */
	if ((a == 0) != (b == 0) || (a == 0 && (whole.digest != pieces.digest || whole.events != pieces.events || r1 != r2)))
		abort();
	return 0;
}
