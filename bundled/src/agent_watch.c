/*
 * The agent's watch (bundled/agent.h): one GET /v1/watch connection for the followed domains,
 * on a thread of its own, that wakes the agent's loop (bd_agent_wake) for the domain an event
 * names. The
 * stream is only a hint (the loop verifies everything as before), so this side only filters:
 * an event for a sequence not above the one held wakes nothing, which makes replays (resume,
 * a hostile server) free. Reconnection, back-off and Last-Event-ID are bd_watch's.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"
#include "bundled/watch.h"

struct agent_watch {
	void (*wake)(void *ctx, const char *domain);
	void *wake_ctx;
	const bd_agent_options *o;
	bd_watch *w;
	pthread_t thread;
	_Atomic uint64_t held[BD_AGENT_MAX_DOMAINS]; /* the sequence held of each domain (0: none) */
	atomic_bool stopping;
};

static void say(const struct agent_watch *aw, bd_agent_level level, const char *fmt, ...) TL_PRINTF(3, 4);
static void say(const struct agent_watch *aw, bd_agent_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (aw->o->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	aw->o->log(aw->o->log_ctx, level, msg);
}

static int on_event(void *ctx, const bd_watch_event *ev)
{
	struct agent_watch *aw = ctx;

	for (size_t i = 0; i < aw->o->n_domains; i++)
		if (strcmp(aw->o->domains[i], ev->domain) == 0 && ev->sequence > atomic_load(&aw->held[i]))
			aw->wake(aw->wake_ctx, aw->o->domains[i]);
	return 0;
}

static void on_state(void *ctx, bool connected, const char *why)
{
	struct agent_watch *aw = ctx;

	if (connected)
		say(aw, BD_AGENT_INFO, "watch: connected, new versions wake the agent at once");
	else if (!atomic_load(&aw->stopping))
		say(aw, BD_AGENT_WARN, "watch: connection lost (%s); reconnecting, polls go on meanwhile",
			why != NULL ? why : "closed");
}

static void *run(void *arg)
{
	struct agent_watch *aw = arg;

	if (bd_watch_run(aw->w) != 0 && !atomic_load(&aw->stopping))
		say(aw, BD_AGENT_ERROR, "watch: refused for good (%s); polling only", tl_error_message());
	return NULL;
}

int agent_watch_start(struct agent_watch **out, const bd_agent_options *o, bool resume, uint64_t after,
	void (*wake)(void *ctx, const char *domain), void *wake_ctx)
{
	struct agent_watch *aw;
	bd_watch_options wo = { .http = o->server, .domains = o->domains, .n_domains = o->n_domains,
		.resume = resume, .after = after, .on_event = on_event, .on_state = on_state };
	int err;

	*out = NULL;
	if (o->n_domains > BD_WATCH_MAX_DOMAINS)
		return tl_error_set(TL_E_INPUT, "watch: at most %d domains on one stream", BD_WATCH_MAX_DOMAINS);
	if ((aw = calloc(1, sizeof(*aw))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	aw->wake = wake;
	aw->wake_ctx = wake_ctx;
	aw->o = o;
	wo.http.name = "bundled"; /* as bd_client names it in messages */
	wo.http.timeout_ms = 0;
	wo.ctx = aw;
	if ((err = bd_watch_new(&aw->w, &wo)) != 0)
		goto out;
	if (pthread_create(&aw->thread, NULL, run, aw) != 0) {
		err = tl_error_set(TL_E_NOMEM, "watch: no thread");
		goto out;
	}
	*out = aw;
	aw = NULL;
out:
	if (aw != NULL)
		bd_watch_free(aw->w);
	free(aw);
	return err;
}

void agent_watch_held(struct agent_watch *aw, size_t i, uint64_t sequence)
{
	if (aw != NULL)
		atomic_store(&aw->held[i], sequence);
}

void agent_watch_stop(struct agent_watch *aw)
{
	if (aw == NULL)
		return;
	atomic_store(&aw->stopping, true);
	bd_watch_stop(aw->w);
	pthread_join(aw->thread, NULL);
	bd_watch_free(aw->w);
	free(aw);
}
