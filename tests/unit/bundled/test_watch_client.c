/*
 * The watch client (bundled/watch.h) against a scripted server (the project's HTTP server
 * with a handler that answers each connection as the script says): busy answers and wrong
 * content types are retried, a malformed event is never delivered and costs a reconnection,
 * every reconnection resumes with the last event id, and a bad request ends the run.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "bundled/httpd.h"
#include "bundled/watch.h"

#define SHA_A "5856683ff8b7d94ba7ea51551202797bb14be9d3c3a5b3f073ecfecab413b5dc"
#define EV(id, kind, extra) \
	"id: " #id "\nevent: " kind "\ndata: {\"domain\":\"a.test\",\"kind\":\"" kind "\",\"sequence\":" #id \
	",\"cid\":\"bafkreiexample\",\"sha256\":\"" SHA_A "\",\"index\":" #id ",\"tree_size\":" #id "0" extra "}\n\n"

/* One answer per connection, in order. */
static const struct step {
	unsigned status;
	const char *type, *body;
} script[] = {
	{ 503, "application/json", "{\"error\":{\"code\":\"unavailable\",\"message\":\"busy\"}}\n" },
	{ 200, "text/plain", EV(3, "version", "") },
	/* A good event, then one whose id is not its index: the first only is delivered. */
	{ 200, "text/event-stream", "retry: 5\n\n" EV(5, "version", "") "id: 6\nevent: version\ndata: {}\n\n" },
	/* Resumed from 5: a revocation, an event of a type this client does not know (ignored),
	 * then an event for a domain it does not watch (malformed). */
	{ 200, "text/event-stream", EV(9, "revocation", ",\"revocation_index\":8") "event: other\ndata: x\n\n"
		"id: 11\nevent: version\ndata: {\"domain\":\"b.test\"}\n\n" },
	{ 400, "application/json", "{\"error\":{\"code\":\"bad_input\",\"message\":\"go away\"}}\n" },
};
#define STEPS (sizeof(script) / sizeof(script[0]))

static struct {
	pthread_mutex_t mu;
	size_t requests;
	char last_id[STEPS][32];
	char target[256];
} seen = { PTHREAD_MUTEX_INITIALIZER, 0, { { 0 } }, { 0 } };

static int handle(bd_httpd_response *res, const bd_httpd_request *req, void *ctx)
{
	const bd_httpd_field *id = bd_httpd_field_get(req, "Last-Event-ID");
	size_t i;

	pthread_mutex_lock(&seen.mu);
	i = seen.requests++;
	if (i < STEPS && id != NULL)
		snprintf(seen.last_id[i], sizeof(seen.last_id[i]), "%.*s", (int)id->value_len, id->value);
	snprintf(seen.target, sizeof(seen.target), "%s", req->target);
	pthread_mutex_unlock(&seen.mu);
	if (i >= STEPS)
		i = STEPS - 1;
	return bd_httpd_reply(res, script[i].status, script[i].type, script[i].body, strlen(script[i].body));
}

struct got {
	size_t n;
	uint64_t index[8];
	bool revocation[8];
	uint64_t revocation_index[8];
};

static int on_event(void *ctx, const bd_watch_event *ev)
{
	struct got *g = ctx;

	ck_assert_uint_lt(g->n, 8);
	ck_assert_str_eq(ev->domain, "a.test");
	ck_assert_str_eq(ev->sha256, SHA_A);
	ck_assert_uint_eq(ev->sequence, ev->index);
	g->index[g->n] = ev->index;
	g->revocation[g->n] = ev->revocation;
	g->revocation_index[g->n] = ev->revocation_index;
	g->n++;
	return 0;
}

START_TEST(retries_resumes_and_never_delivers_a_malformed_event)
{
	static const char *const domains[] = { "a.test", "c.test" };
	bd_httpd_options so = { .host = "127.0.0.1", .handler = handle };
	bd_httpd *srv;
	char url[64];
	struct got g = { 0 };
	bd_watch_options o = { .http = { .name = "test", .url = url }, .domains = domains, .n_domains = 2,
		.backoff_min_ms = 10, .backoff_max_ms = 40, .on_event = on_event, .ctx = &g };
	bd_watch *w;
	int err;

	ck_assert_int_eq(bd_httpd_start(&srv, &so), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", bd_httpd_port(srv));
	ck_assert_int_eq(bd_watch_new(&w, &o), 0);
	err = bd_watch_run(w);
	ck_assert_int_eq(err, TL_E_INPUT);
	ck_assert_ptr_nonnull(strstr(tl_error_message(), "400: go away"));
	ck_assert_uint_eq(seen.requests, STEPS);
	ck_assert_str_eq(seen.target, "/v1/watch?domains=a.test,c.test");
	/* Delivered: 5, then 9 (a revocation); never 3 (not an event stream), 6 or 11. */
	ck_assert_uint_eq(g.n, 2);
	ck_assert_uint_eq(g.index[0], 5);
	ck_assert(!g.revocation[0]);
	ck_assert_uint_eq(g.index[1], 9);
	ck_assert(g.revocation[1]);
	ck_assert_uint_eq(g.revocation_index[1], 8);
	/* Every reconnection after an event resumes from it. */
	ck_assert_str_eq(seen.last_id[0], "");
	ck_assert_str_eq(seen.last_id[2], "");
	ck_assert_str_eq(seen.last_id[3], "5");
	ck_assert_str_eq(seen.last_id[4], "9");
	ck_assert_uint_eq(bd_watch_last_id(w), 9);
	bd_watch_free(w);
	bd_httpd_stop(srv);
}
END_TEST

START_TEST(bad_options_are_refused)
{
	static const char *const bad_name[] = { "Not_A_Domain" }, *const good[] = { "a.test" };
	bd_watch_options o = { .http = { .name = "test", .url = "http://127.0.0.1:1" }, .domains = good,
		.n_domains = 1 };
	bd_watch *w = NULL;

	ck_assert_int_eq(bd_watch_new(&w, &o), TL_E_INPUT); /* no callback */
	o.on_event = on_event;
	o.n_domains = 0;
	ck_assert_int_eq(bd_watch_new(&w, &o), TL_E_INPUT);
	o.n_domains = BD_WATCH_MAX_DOMAINS + 1;
	ck_assert_int_eq(bd_watch_new(&w, &o), TL_E_INPUT);
	o.domains = bad_name;
	o.n_domains = 1;
	ck_assert_int_eq(bd_watch_new(&w, &o), TL_E_INPUT);
	o.domains = good;
	o.http.url = "ftp://127.0.0.1";
	ck_assert_int_eq(bd_watch_new(&w, &o), TL_E_INPUT);
	ck_assert_ptr_null(w);
}
END_TEST

Suite *suite_watch_client(void)
{
	Suite *s = suite_create("watch_client");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, retries_resumes_and_never_delivers_a_malformed_event);
	tcase_add_test(tc, bad_options_are_refused);
	suite_add_tcase(s, tc);
	return s;
}
