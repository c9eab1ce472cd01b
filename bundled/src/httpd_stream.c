/*
 * The handle of a streamed response, shared by the server (which sends it) and the
 * application (which wakes it from any thread). Reference-counted, because either side may
 * be done first: a client may hang up while the application still holds its handle.
 */
#include "httpd_internal.h"

#include <stdlib.h>

int bd_httpd__stream_new(bd_httpd_stream **out, unsigned refs)
{
	bd_httpd_stream *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	pthread_mutex_init(&s->mu, NULL);
	s->refs = refs;
	*out = s;
	return 0;
}

void bd_httpd__stream_unref(bd_httpd_stream *s)
{
	bool last;

	pthread_mutex_lock(&s->mu);
	last = --s->refs == 0;
	pthread_mutex_unlock(&s->mu);
	if (last) {
		pthread_mutex_destroy(&s->mu);
		free(s);
	}
}

void bd_httpd_stream_wake(bd_httpd_stream *s)
{
	pthread_mutex_lock(&s->mu);
	s->woken = true;
	/* Queued under the lock: the connection cannot close, nor the server stop, meanwhile. */
	if (s->conn != NULL && !s->queued) {
		s->queued = true;
		s->refs++;
		s->queue(s);
	}
	pthread_mutex_unlock(&s->mu);
}

bool bd_httpd_stream_open(bd_httpd_stream *s)
{
	bool open;

	pthread_mutex_lock(&s->mu);
	open = !s->closed;
	pthread_mutex_unlock(&s->mu);
	return open;
}

void bd_httpd_stream_release(bd_httpd_stream *s)
{
	if (s != NULL)
		bd_httpd__stream_unref(s);
}
