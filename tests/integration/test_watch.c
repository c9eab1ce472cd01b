/*
 * GET /v1/watch against the real daemon, published to with bundlectl as an operator would:
 * a committed version or revocation reaches the watchers with the fields of the log's entry;
 * a watcher that resumes (Last-Event-ID through the library's client, ?after= raw) gets what
 * it missed, in log order, once; the per-client bound refuses cleanly (429 JSON) and leaves
 * the others streaming; bad queries are 400; many idle watchers all hear of a version; and
 * the daemon stops cleanly with watchers connected.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdarg.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bundled/watch.h"
#include "testdaemon.h"
#include "testhttp.h"
#include "testpublish.h"
#include "testrun.h"
#include "testutil.h"

#define TD "watched.test"
#define OTHER "other.test"
#define PER_CLIENT 40

static const char *const daemon_args[] = { "--watch-max-per-client", "40", "--watch-keepalive", "1", NULL };

struct fixture {
	char *dir;
	char data[4200];
	struct tu_daemon d;
};

/* A formatted string kept until the end of the test (at most 16 live at once). */
static const char *fmt(const char *format, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *format, ...)
{
	static char bufs[16][512];
	static unsigned next;
	char *b = bufs[next++ % 16];
	va_list ap;

	va_start(ap, format);
	vsnprintf(b, sizeof(bufs[0]), format, ap);
	va_end(ap);
	return b;
}

/* Runs bundlectl against the daemon; asserts exit 0 and returns stdout (malloc'ed). */
static char *cli(struct fixture *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *cli(struct fixture *f, const char *fmt, ...)
{
	struct tu_output o = { 0 };
	va_list ap;
	char *args, *out;
	int rc;

	va_start(ap, fmt);
	args = tu_vformat(fmt, ap);
	va_end(ap);
	/* "<command> --server URL <the rest>" */
	rc = tu_run(&o, f->dir, "bundlectl", "%.*s --server %s%s", (int)strcspn(args, " "), args, f->d.base_url,
		args + strcspn(args, " "));
	ck_assert_msg(rc == 0, "bundlectl %s: exit %d: %s", args, rc, o.err);
	out = strdup(o.out);
	tu_output_free(&o);
	free(args);
	return out;
}

/* A domain registered with a publisher key in DIR/<td>.key. */
static void register_domain(struct fixture *f, const char *td)
{
	struct tu_output o = { 0 };
	char *vkey;

	ck_assert_int_eq(tu_run(&o, f->dir, "bundlectl", "keygen --name publisher.%s --out %s", td,
				 tu_path_in(f->dir, td)), 0);
	vkey = strdup(o.out);
	vkey[strcspn(vkey, "\n")] = '\0';
	tu_output_free(&o);
	free(cli(f, "domain register --operator-token %s/operator.token --domain %s --publisher-key '%s'", f->data, td,
		vkey));
	free(vkey);
}

/* What `bundlectl publish|revoke --json` answered. */
struct published {
	uint64_t index, sequence, first;
	char sha256[65], cid[BD_MAX_CID_TEXT + 1];
};

static void parse_published(struct published *p, char *out)
{
	json_t *doc = json_loads(out, 0, NULL);

	ck_assert_msg(doc != NULL, "not JSON: %s", out);
	p->index = (uint64_t)json_integer_value(json_object_get(doc, "index"));
	p->first = (uint64_t)json_integer_value(json_object_get(doc, "first"));
	p->sequence = (uint64_t)json_integer_value(json_object_get(doc, "sequence"));
	snprintf(p->sha256, sizeof(p->sha256), "%s", json_string_value(json_object_get(doc, "sha256")));
	snprintf(p->cid, sizeof(p->cid), "%s", json_string_value(json_object_get(doc, "cid")));
	ck_assert_uint_gt(p->sequence, 0);
	json_decref(doc);
	free(out);
}

/* Publishes tests/vectors/bundle/<files> (several files concatenated) as td's next version. */
static void publish(struct published *p, struct fixture *f, const char *td, const char *files, unsigned hint)
{
	const char *bundle = fmt("%s/bundle-%u.pem", f->dir, hint);

	ck_assert_int_eq(tu_system("cd %s && cat %s > %s", tu_source_path("tests/vectors/bundle"), files, bundle), 0);
	parse_published(p, cli(f, "publish --json --key %s --domain %s --refresh-hint %u %s", tu_path_in(f->dir, td), td,
				   hint, bundle));
}

static void revoke_authority(struct published *p, struct fixture *f, const char *td, const char *ca_file)
{
	char sha[128];
	FILE *pipe;

	pipe = popen(fmt("openssl x509 -in %s -outform DER | sha256sum", tu_source_path(fmt("tests/vectors/bundle/%s",
		ca_file))), "r");
	ck_assert_ptr_nonnull(pipe);
	ck_assert_ptr_nonnull(fgets(sha, sizeof(sha), pipe));
	pclose(pipe);
	sha[64] = '\0';
	parse_published(p, cli(f, "revoke --json --key %s --domain %s --authority %s --reason 'key compromise'",
				   tu_path_in(f->dir, td), td, sha));
}

static void setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->dir = tu_mkdtemp();
	snprintf(f->data, sizeof(f->data), "%s/data", f->dir);
	ck_assert_int_eq(tu_daemon_start(&f->d, f->data, daemon_args), 0);
	register_domain(f, TD);
	register_domain(f, OTHER);
}

static void teardown(struct fixture *f)
{
	ck_assert_int_eq(tu_daemon_stop(&f->d), 0);
	tu_rm_rf(f->dir);
	free(f->dir);
}

/* ---- a raw SSE connection, as any client (curl, a browser) makes it ---- */

struct raw {
	int fd;
	long status;
	char buf[65536];
	size_t len;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Reads until `needle` is in the buffer (true) or timeout_ms pass or the peer closes (false). */
static bool raw_wait(struct raw *r, const char *needle, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		struct pollfd pfd = { r->fd, POLLIN, 0 };
		ssize_t n;

		r->buf[r->len] = '\0';
		if (strstr(r->buf, needle) != NULL)
			return true;
		if (now_ms() >= end || poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			return false;
		if (r->len + 1 >= sizeof(r->buf))
			return false;
		n = read(r->fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
		if (n <= 0)
			return false;
		r->len += (size_t)n;
	}
}

/* Sends GET target from source address `from` with extra header lines (or ""), and reads the
 * response head. */
static void raw_open(struct raw *r, const struct fixture *f, const char *from, const char *target, const char *headers)
{
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	char req[2048];
	int n;

	memset(r, 0, sizeof(*r));
	r->fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(r->fd, 0);
	inet_pton(AF_INET, from, &src.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	dst.sin_port = htons((uint16_t)f->d.port);
	ck_assert_int_eq(bind(r->fd, (struct sockaddr *)&src, sizeof(src)), 0);
	ck_assert_int_eq(connect(r->fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: test\r\n%s\r\n", target, headers);
	ck_assert_int_eq(write(r->fd, req, (size_t)n), n);
	ck_assert_msg(raw_wait(r, "\r\n\r\n", 5000), "no response head for %s", target);
	ck_assert_int_eq(sscanf(r->buf, "HTTP/1.1 %ld", &r->status), 1);
	/* For the schema check: a stream's head says its type (the events are read by the tests). */
	if (r->status == 200)
		th_record_raw(req, (size_t)n, r->buf, r->len);
}

static void raw_close(struct raw *r)
{
	close(r->fd);
	r->fd = -1;
}

/* ---- the library's client in a thread ---- */

struct follower {
	bd_watch *w;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t n, connects;
	struct published ev[16];
	bool revocation[16];
	uint64_t tree_size[16];
	char domain[16][BD_MAX_DOMAIN + 1];
	int rc;
	char message[256]; /* the error message of run, set in its thread */
	bool done;
};

static int follower_event(void *ctx, const bd_watch_event *ev)
{
	struct follower *fl = ctx;

	pthread_mutex_lock(&fl->mu);
	if (fl->n < 16) {
		struct published *p = &fl->ev[fl->n];

		p->index = ev->index;
		p->sequence = ev->sequence;
		p->first = ev->revocation ? ev->revocation_index : ev->index;
		snprintf(p->sha256, sizeof(p->sha256), "%s", ev->sha256);
		snprintf(p->cid, sizeof(p->cid), "%s", ev->cid);
		fl->revocation[fl->n] = ev->revocation;
		fl->tree_size[fl->n] = ev->tree_size;
		snprintf(fl->domain[fl->n], sizeof(fl->domain[0]), "%s", ev->domain);
		fl->n++;
	}
	pthread_cond_broadcast(&fl->cv);
	pthread_mutex_unlock(&fl->mu);
	return 0;
}

static void follower_state(void *ctx, bool connected, const char *why)
{
	struct follower *fl = ctx;

	(void)why;
	pthread_mutex_lock(&fl->mu);
	if (connected)
		fl->connects++;
	pthread_cond_broadcast(&fl->cv);
	pthread_mutex_unlock(&fl->mu);
}

static void *follower_main(void *arg)
{
	struct follower *fl = arg;
	int rc = bd_watch_run(fl->w);

	pthread_mutex_lock(&fl->mu);
	fl->rc = rc;
	snprintf(fl->message, sizeof(fl->message), "%s", rc != 0 ? tl_error_message() : "");
	fl->done = true;
	pthread_cond_broadcast(&fl->cv);
	pthread_mutex_unlock(&fl->mu);
	return NULL;
}

static void follower_start(struct follower *fl, const struct fixture *f, const char *const *domains, size_t n,
	bool resume, uint64_t after)
{
	bd_watch_options o = { .http = { .name = "bundled", .url = f->d.base_url }, .domains = domains,
		.n_domains = n, .resume = resume, .after = after, .backoff_min_ms = 50, .backoff_max_ms = 200,
		.on_event = follower_event, .on_state = follower_state };

	memset(fl, 0, sizeof(*fl));
	o.ctx = fl;
	pthread_mutex_init(&fl->mu, NULL);
	pthread_cond_init(&fl->cv, NULL);
	ck_assert_int_eq(bd_watch_new(&fl->w, &o), 0);
	ck_assert_int_eq(pthread_create(&fl->thread, NULL, follower_main, fl), 0);
}

/* Waits until the follower has `events` events and `connects` connections (or is done). */
static bool follower_wait(struct follower *fl, size_t events, size_t connects, int timeout_ms)
{
	struct timespec at;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &at);
	at.tv_sec += timeout_ms / 1000;
	at.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (at.tv_nsec >= 1000000000L) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&fl->mu);
	while ((fl->n < events || fl->connects < connects) && !fl->done &&
	       pthread_cond_timedwait(&fl->cv, &fl->mu, &at) == 0)
		;
	ok = fl->n >= events && fl->connects >= connects;
	pthread_mutex_unlock(&fl->mu);
	return ok;
}

static int follower_stop(struct follower *fl)
{
	bd_watch_stop(fl->w);
	pthread_join(fl->thread, NULL);
	bd_watch_free(fl->w);
	pthread_cond_destroy(&fl->cv);
	pthread_mutex_destroy(&fl->mu);
	return fl->rc;
}

static void assert_event(const struct follower *fl, size_t i, const struct published *want, bool revocation)
{
	ck_assert_str_eq(fl->domain[i], TD);
	ck_assert_uint_eq(fl->ev[i].index, want->index);
	ck_assert_uint_eq(fl->ev[i].sequence, want->sequence);
	ck_assert_str_eq(fl->ev[i].sha256, want->sha256);
	ck_assert_str_eq(fl->ev[i].cid, want->cid);
	ck_assert_uint_gt(fl->tree_size[i], want->index);
	ck_assert(fl->revocation[i] == revocation);
	if (revocation) /* logged with its version, just before it */
		ck_assert_uint_eq(fl->ev[i].first, want->index - 1);
}

/* ---- the tests ---- */

START_TEST(a_committed_version_and_a_revocation_reach_the_watcher)
{
	static const char *const domains[] = { TD };
	struct fixture f;
	struct follower fl;
	struct published v1, v2, other;
	struct raw raw;
	char needle[64];

	setup(&f);
	follower_start(&fl, &f, domains, 1, false, 0);
	ck_assert(follower_wait(&fl, 0, 1, 5000));
	publish(&v1, &f, TD, "ca-p256.pem ca-rsa.pem", 300);
	publish(&other, &f, OTHER, "ca-p384.pem", 300); /* not watched */
	revoke_authority(&v2, &f, TD, "ca-rsa.pem");
	ck_assert(follower_wait(&fl, 2, 1, 5000));
	assert_event(&fl, 0, &v1, false);
	assert_event(&fl, 1, &v2, true);
	/* The other domain's version never came. */
	ck_assert(!follower_wait(&fl, 3, 1, 300));
	ck_assert_int_eq(follower_stop(&fl), 0);

	/* The raw stream: the headers, the event's SSE framing, valid against the schema. */
	raw_open(&raw, &f, "127.0.0.1", "/v1/watch?domains=" TD "&after=0", "");
	ck_assert_int_eq(raw.status, 200);
	ck_assert_ptr_nonnull(strstr(raw.buf, "Content-Type: text/event-stream\r\n"));
	ck_assert_ptr_nonnull(strstr(raw.buf, "Cache-Control: no-store\r\n"));
	snprintf(needle, sizeof(needle), "id: %llu\nevent: revocation\ndata: {", (unsigned long long)v2.index);
	ck_assert(raw_wait(&raw, needle, 5000));
	{
		const char *data = strstr(raw.buf, needle) + strlen(needle) - 1;
		char *doc = strndup(data, strcspn(data, "\n"));

		tu_expect_schema(f.dir, "watch-event.schema.json", doc);
		free(doc);
	}
	/* Keep-alive comments while nothing happens (every second here). */
	ck_assert(raw_wait(&raw, ": keep-alive\n\n", 3000));
	raw_close(&raw);
	teardown(&f);
}
END_TEST

START_TEST(a_resumed_watcher_gets_what_it_missed_once_in_order)
{
	static const char *const domains[] = { TD, OTHER };
	struct fixture f;
	struct follower fl;
	struct published v[4], o1;
	uint64_t last;
	struct raw raw;
	char needle[64];

	setup(&f);
	follower_start(&fl, &f, domains, 2, false, 0);
	ck_assert(follower_wait(&fl, 0, 1, 5000));
	publish(&v[0], &f, TD, "ca-p256.pem", 1);
	ck_assert(follower_wait(&fl, 1, 1, 5000));
	last = bd_watch_last_id(fl.w);
	ck_assert_uint_eq(last, v[0].index);
	ck_assert_int_eq(follower_stop(&fl), 0);

	/* Missed while away: two versions of TD and one of OTHER. */
	publish(&v[1], &f, TD, "ca-p256.pem", 2);
	publish(&o1, &f, OTHER, "ca-p384.pem", 2);
	publish(&v[2], &f, TD, "ca-p256.pem", 3);
	follower_start(&fl, &f, domains, 2, true, last);
	ck_assert(follower_wait(&fl, 3, 1, 5000));
	assert_event(&fl, 0, &v[1], false);
	ck_assert_str_eq(fl.domain[1], OTHER);
	ck_assert_uint_eq(fl.ev[1].index, o1.index);
	assert_event(&fl, 2, &v[2], false);
	/* Then live, and nothing twice. */
	publish(&v[3], &f, TD, "ca-p256.pem", 4);
	ck_assert(follower_wait(&fl, 4, 1, 5000));
	assert_event(&fl, 3, &v[3], false);
	ck_assert(!follower_wait(&fl, 5, 1, 300));
	ck_assert_int_eq(follower_stop(&fl), 0);

	/* Raw: Last-Event-ID wins over a lower ?after=. */
	raw_open(&raw, &f, "127.0.0.1", "/v1/watch?domains=" TD "&after=0", fmt("Last-Event-ID: %llu\r\n",
		(unsigned long long)v[2].index));
	ck_assert_int_eq(raw.status, 200);
	snprintf(needle, sizeof(needle), "id: %llu\n", (unsigned long long)v[3].index);
	ck_assert(raw_wait(&raw, needle, 5000));
	snprintf(needle, sizeof(needle), "id: %llu\n", (unsigned long long)v[1].index);
	ck_assert_ptr_null(strstr(raw.buf, needle));
	raw_close(&raw);
	teardown(&f);
}
END_TEST

START_TEST(the_per_client_bound_refuses_cleanly)
{
	struct fixture f;
	struct raw held[PER_CLIENT], over, other;
	struct published v;
	char needle[64], *metrics = NULL;
	json_t *doc;

	setup(&f);
	for (size_t i = 0; i < PER_CLIENT; i++) {
		raw_open(&held[i], &f, "127.0.0.3", "/v1/watch?domains=" TD, "");
		ck_assert_int_eq(held[i].status, 200);
	}
	raw_open(&over, &f, "127.0.0.3", "/v1/watch?domains=" TD, "");
	ck_assert_int_eq(over.status, 429);
	ck_assert(raw_wait(&over, "}\n", 2000));
	doc = json_loads(strstr(over.buf, "\r\n\r\n") + 4, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "error"), "code")), "too_many_watchers");
	tu_expect_schema(f.dir, "error.schema.json", strstr(over.buf, "\r\n\r\n") + 4);
	json_decref(doc);
	raw_close(&over);
	/* Another client is not held back, and the held streams still hear of a version. */
	raw_open(&other, &f, "127.0.0.4", "/v1/watch?domains=" TD, "");
	ck_assert_int_eq(other.status, 200);
	publish(&v, &f, TD, "ca-p256.pem", 7);
	snprintf(needle, sizeof(needle), "id: %llu\n", (unsigned long long)v.index);
	ck_assert(raw_wait(&other, needle, 5000));
	for (size_t i = 0; i < PER_CLIENT; i++)
		ck_assert_msg(raw_wait(&held[i], needle, 5000), "watcher %zu", i);
	ck_assert_int_eq(tu_http_get(&f.d, "/metrics", &metrics, NULL), 200);
	ck_assert_ptr_nonnull(strstr(metrics, "\nbundled_watchers " "41\n"));
	ck_assert_ptr_nonnull(strstr(metrics, "\nbundled_watch_refused_total{limit=\"per_client\"} 1\n"));
	free(metrics);
	/* A closed stream gives its place back. */
	raw_close(&held[0]);
	usleep(200000);
	raw_open(&over, &f, "127.0.0.3", "/v1/watch?domains=" TD, "");
	ck_assert_int_eq(over.status, 200);
	raw_close(&over);
	for (size_t i = 1; i < PER_CLIENT; i++)
		raw_close(&held[i]);
	raw_close(&other);
	teardown(&f);
}
END_TEST

START_TEST(bad_queries_are_refused)
{
	static const struct {
		const char *target, *headers;
		long status;
		const char *reason;
	} cases[] = {
		{ "/v1/watch", "", 400, "missing query parameter" },
		{ "/v1/watch?domains=", "", 400, "not a SPIFFE trust domain name" },
		{ "/v1/watch?domains=" TD ",", "", 400, "not a SPIFFE trust domain name" },
		{ "/v1/watch?domains=Bad_Name", "", 400, "not a SPIFFE trust domain name" },
		{ "/v1/watch?domains=" TD "," TD, "", 400, "named twice" },
		{ "/v1/watch?domains=" TD "&after=-1", "", 400, "not an unsigned decimal" },
		{ "/v1/watch?domains=" TD "&after=01", "", 400, "not an unsigned decimal" },
		{ "/v1/watch?domains=" TD "&after=1&after=2", "", 400, "more than once" },
		{ "/v1/watch?domains=" TD "&since=1", "", 400, "unknown query parameter" },
		{ "/v1/watch?domains=" TD, "Last-Event-ID: x\r\n", 400, "Last-Event-ID" },
		{ "/v1/watch?domains=a.test,b.test,c.test,d.test,e.test,f.test,g.test,h.test,i.test,j.test,k.test,"
		  "l.test,m.test,n.test,o.test,p.test,q.test", "", 400, "more than 16" },
		{ "/v1/watch?domains=unknown.test", "", 404, "no such trust domain: unknown.test" },
	};
	struct fixture f;

	setup(&f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct raw r;
		json_t *doc;
		const char *msg;

		raw_open(&r, &f, "127.0.0.1", cases[i].target, cases[i].headers);
		ck_assert_msg(r.status == cases[i].status, "%s: %ld", cases[i].target, r.status);
		ck_assert(raw_wait(&r, "}\n", 2000));
		doc = json_loads(strstr(r.buf, "\r\n\r\n") + 4, 0, NULL);
		msg = json_string_value(json_object_get(json_object_get(doc, "error"), "message"));
		ck_assert_msg(msg != NULL && strstr(msg, cases[i].reason) != NULL, "%s: %s", cases[i].target, msg);
		json_decref(doc);
		raw_close(&r);
	}
	{
		struct tu_reply r;

		ck_assert_int_eq(tu_api_json(&r, &f.d, "POST", "/v1/watch?domains=" TD, "{}", NULL), 405);
		tu_reply_free(&r);
	}
	teardown(&f);
}
END_TEST

START_TEST(the_client_gives_up_on_refusals_and_stops_at_once)
{
	static const char *const unknown[] = { "unknown.test" }, *const known[] = { TD };
	struct fixture f;
	struct follower fl;
	struct tu_daemon down;
	uint64_t t0;

	setup(&f);
	/* An unregistered domain is a refusal waiting will not change: run returns it. */
	follower_start(&fl, &f, unknown, 1, false, 0);
	ck_assert(!follower_wait(&fl, 1, 1, 5000));
	ck_assert(fl.done);
	ck_assert_int_eq(follower_stop(&fl), TL_E_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(fl.message, "no such trust domain: unknown.test"));
	/* A server that is down: the client retries with back-off until told to stop, then
	 * returns at once. */
	down = f.d;
	ck_assert_int_eq(tu_daemon_stop(&f.d), 0);
	f.d = down;
	follower_start(&fl, &f, known, 1, false, 0);
	usleep(500000);
	t0 = now_ms();
	ck_assert_int_eq(follower_stop(&fl), 0);
	ck_assert_uint_lt(now_ms() - t0, 500);
	ck_assert_uint_eq(fl.connects, 0);
	tu_rm_rf(f.dir);
	free(f.dir);
}
END_TEST

#define MANY 400
#define ADDRS (MANY / PER_CLIENT)

START_TEST(many_idle_watchers_all_hear_and_the_daemon_stops_cleanly)
{
	struct fixture f;
	struct raw *w = calloc(MANY, sizeof(*w));
	struct follower fl;
	static const char *const domains[] = { TD };
	struct published v;
	char needle[64], from[32], *metrics = NULL;
	uint64_t t0;

	setup(&f);
	for (size_t i = 0; i < MANY; i++) {
		snprintf(from, sizeof(from), "127.0.1.%zu", 1 + i / PER_CLIENT);
		raw_open(&w[i], &f, from, "/v1/watch?domains=" OTHER "," TD, "");
		ck_assert_int_eq(w[i].status, 200);
	}
	follower_start(&fl, &f, domains, 1, false, 0);
	ck_assert(follower_wait(&fl, 0, 1, 5000));
	ck_assert_int_eq(tu_http_get(&f.d, "/metrics", &metrics, NULL), 200);
	ck_assert_ptr_nonnull(strstr(metrics, fmt("\nbundled_watchers %d\n", MANY + 1)));
	free(metrics);
	publish(&v, &f, TD, "ca-p256.pem", 9);
	t0 = now_ms();
	snprintf(needle, sizeof(needle), "id: %llu\n", (unsigned long long)v.index);
	for (size_t i = 0; i < MANY; i++)
		ck_assert_msg(raw_wait(&w[i], needle, 5000), "watcher %zu", i);
	/* All of them within a second of the publisher's answer (here, far within). */
	ck_assert_uint_lt(now_ms() - t0, 1000);
	ck_assert(follower_wait(&fl, 1, 1, 5000));

	/* SIGTERM with everyone connected: a clean exit, every stream ended. */
	ck_assert_int_eq(tu_daemon_stop(&f.d), 0);
	for (size_t i = 0; i < MANY; i++) {
		ck_assert(!raw_wait(&w[i], "never", 2000));
		raw_close(&w[i]);
	}
	/* The library's client is reconnecting now, and stops at once when told. */
	ck_assert_int_eq(follower_stop(&fl), 0);
	{
		size_t len;
		char *log = (char *)tu_read_file(f.d.log_path, &len);

		ck_assert_ptr_nonnull(strstr(log, "msg=\"stopped\""));
		free(log);
	}
	tu_rm_rf(f.dir);
	free(f.dir);
	free(w);
}
END_TEST

Suite *suite_watch(void)
{
	Suite *s = suite_create("watch");
	TCase *tc = tcase_create("daemon");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_committed_version_and_a_revocation_reach_the_watcher);
	tcase_add_test(tc, a_resumed_watcher_gets_what_it_missed_once_in_order);
	tcase_add_test(tc, the_per_client_bound_refuses_cleanly);
	tcase_add_test(tc, bad_queries_are_refused);
	tcase_add_test(tc, the_client_gives_up_on_refusals_and_stops_at_once);
	tcase_add_test(tc, many_idle_watchers_all_hear_and_the_daemon_stops_cleanly);
	suite_add_tcase(s, tc);
	return s;
}
