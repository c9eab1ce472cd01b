/*
 * GET /v1/watch?domains=a,b[&after=INDEX]: a Server-Sent Events stream of the named domains'
 * new versions and revocations (watch.h holds the streams). Events with a leaf index above
 * `after`, or above the Last-Event-ID a reconnecting client sends (the higher of the two),
 * are replayed first from the registry and the log, at most WATCH_MAX_REPLAY per domain (the
 * newest: an older version is superseded by them); then every new one as it is committed.
 * domains=* watches every domain (a read replica's follower): its replay is the versions
 * among the log's newest WATCH_MAX_REPLAY_ALL entries.
 */
#include <stdlib.h>
#include <string.h>

#include "committed.h"
#include "daemon.h"
#include "logging.h"
#include "routes.h"
#include "translog/text.h"

#define WATCH_MAX_REPLAY 64u /* replayed events per domain */
/* Log entries looked at for the events of every domain (domains=*) */
#define WATCH_MAX_REPLAY_ALL (WATCH_MAX_DOMAINS * WATCH_MAX_REPLAY)

struct replay {
	struct daemon *d;
	const char *domain;
	struct watch_event *events;
	size_t n, cap;
	uint64_t tree_size;
	int err;
};

static int replay_one(void *ctx, uint64_t sequence, uint64_t index)
{
	struct replay *r = ctx;
	struct watch_event *ev;
	bool is_version;
	int err;

	if (r->n == r->cap)
		return 1; /* enough: the newest WATCH_MAX_REPLAY */
	ev = &r->events[r->n];
	if ((err = committed_event_at(ev, &is_version, r->d, index, r->tree_size)) != 0)
		return err;
	if (!is_version || ev->sequence != sequence || strcmp(ev->domain, r->domain) != 0)
		return tl_error_set(TL_E_INTERNAL, "registry: version %llu of %s is not the entry at %llu",
			(unsigned long long)sequence, r->domain, (unsigned long long)index);
	r->n++;
	return 0;
}

/* Every domain's: the versions among the log's newest WATCH_MAX_REPLAY_ALL entries after
 * `after`. */
static int replay_all(struct replay *r, uint64_t after)
{
	uint64_t from = after + 1, size = r->tree_size;
	bool is_version;
	int err;

	if (size > WATCH_MAX_REPLAY_ALL && from < size - WATCH_MAX_REPLAY_ALL)
		from = size - WATCH_MAX_REPLAY_ALL;
	for (uint64_t i = from; i < size; i++) {
		if ((err = committed_event_at(&r->events[r->n], &is_version, r->d, i, size)) != 0)
			return err;
		if (is_version)
			r->n++;
	}
	return 0;
}

static int by_index(const void *a, const void *b)
{
	const struct watch_event *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* The events after `after` of each domain, formatted in log order into `out`, and their leaf
 * indices (*count of them, malloc'ed) into *indices. */
static int replay(tl_buf *out, uint64_t **indices, size_t *count, struct daemon *d, char (*domains)[BD_MAX_DOMAIN + 1], size_t n,
	uint64_t after)
{
	struct replay r = { .d = d, .tree_size = tl_log_size(d->log) };
	size_t cap = n > 0 ? n * WATCH_MAX_REPLAY : WATCH_MAX_REPLAY_ALL;
	int err = 0;

	*count = 0;
	if ((r.events = calloc(cap, sizeof(*r.events))) == NULL || (*indices = calloc(cap, sizeof(**indices))) == NULL) {
		free(r.events);
		return tl_error_set(TL_E_NOMEM, "out of memory");
	}
	if (n == 0 && (err = replay_all(&r, after)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		r.domain = domains[i];
		r.cap = r.n + WATCH_MAX_REPLAY;
		if ((err = bd_registry_versions_since(d->registry, domains[i], after, replay_one, &r)) < 0)
			goto out;
	}
	err = 0;
	qsort(r.events, r.n, sizeof(*r.events), by_index);
	*count = r.n;
	for (size_t i = 0; i < r.n && err == 0; i++) {
		err = watch_event_format(out, &r.events[i]);
		(*indices)[i] = r.events[i].index;
	}
out:
	if (err != 0) {
		free(*indices);
		*indices = NULL;
	}
	free(r.events);
	return err;
}

/* Splits "a,b" into checked, distinct trust domains, then checks each is registered. */
static int parse_domains(char (*out)[BD_MAX_DOMAIN + 1], size_t *n, struct daemon *d, const char *list)
{
	const char *p = list;
	bd_domain_state *st;
	int err = 0;

	*n = 0;
	if (strcmp(list, WATCH_ALL_DOMAINS) == 0)
		return 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		char safe[80];

		tl_text_printable(safe, sizeof(safe), p, len);
		if (len == 0 || len > BD_MAX_DOMAIN || bd_domain_name_check(p, len) != 0)
			return tl_error_set(TL_E_INPUT, "domains: \"%s\" is not a SPIFFE trust domain name", safe);
		if (*n == WATCH_MAX_DOMAINS)
			return tl_error_set(TL_E_INPUT, "domains: more than %d", WATCH_MAX_DOMAINS);
		memcpy(out[*n], p, len);
		out[*n][len] = '\0';
		for (size_t i = 0; i < *n; i++)
			if (strcmp(out[i], out[*n]) == 0)
				return tl_error_set(TL_E_INPUT, "domains: %s is named twice", out[i]);
		(*n)++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if ((st = malloc(sizeof(*st))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	for (size_t i = 0; i < *n && err == 0; i++)
		if ((err = bd_registry_get(st, d->registry, out[i])) == TL_E_NOTFOUND)
			tl_error_set(err, "no such trust domain: %s", out[i]);
	free(st);
	return err;
}

/* The resume point: the higher of ?after= and Last-Event-ID, both canonical decimals. */
static int resume_point(uint64_t *out, const struct http_request *req)
{
	const char *id = http_header(req, "Last-Event-ID");
	uint64_t v;
	int err;

	*out = 0;
	if (http_query(req, "after") != NULL && (err = http_query_u64(out, req, "after")) != 0)
		return err;
	if (id != NULL) {
		if (tl_parse_u64(&v, id, strlen(id)) != 0)
			return tl_error_set(TL_E_INPUT, "Last-Event-ID is not an event id (an unsigned decimal)");
		if (v > *out)
			*out = v;
	}
	return 0;
}

int route_watch(bd_httpd_response *res, const struct http_request *req, void *app)
{
	struct daemon *d = app;
	char (*domains)[BD_MAX_DOMAIN + 1] = malloc(WATCH_MAX_DOMAINS * sizeof(*domains));
	const char *list = http_query(req, "domains");
	char addr[WATCH_ADDR_MAX];
	tl_buf text = tl_buf_make(SIZE_MAX);
	struct watch *w = NULL;
	uint64_t after = 0, *indices;
	bool resuming;
	size_t n, count = 0;
	int err;

	if (domains == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if (list == NULL) {
		err = tl_error_set(TL_E_INPUT, "missing query parameter \"domains\"");
		goto out;
	}
	resuming = http_query(req, "after") != NULL || http_header(req, "Last-Event-ID") != NULL;
	if ((err = parse_domains(domains, &n, d, list)) != 0 || (err = resume_point(&after, req)) != 0)
		goto out;
	http_client_addr(addr, sizeof(addr), req);
	/* In the hub before the replay is read, so that nothing committed in between is lost;
	 * what both would send, the watcher sends once (watch_set_replay). Without a resume
	 * point, `after` is 0: leaf 0 is the log's first registration, never a version. */
	if ((err = watch_open(&w, d->watch, addr, list, after)) != 0) {
		if (err == TL_E_CONFLICT) {
			log_at(LOG_WARN, "watch refused", "client=%s reason=\"%s\"", addr, tl_error_message());
			err = route_reply_error(res, 429, "too_many_watchers", tl_error_message());
		}
		goto out;
	}
	if (resuming) {
		if ((err = replay(&text, &indices, &count, d, domains, n, after)) != 0)
			goto out;
		watch_set_replay(w, &text, indices, count);
	}
	if ((err = watch_reply(res, w)) == 0)
		w = NULL;
out:
	if (w != NULL)
		watch_close(w);
	tl_buf_free(&text);
	free(domains);
	return err;
}
