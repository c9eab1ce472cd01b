/*
 * The IPFS client without an IPFS node: the JSON reply readers on canned replies (Kubo's
 * and js-ipfs' shapes, and broken ones), and the HTTP layer against a one-shot fake server
 * on loopback that answers each request with canned bytes (statuses, error bodies, wrong
 * CIDs, oversize and late replies, Kubo's X-Stream-Error trailer).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../../bundled/src/ipfs_reply.h"
#include "bundled/ipfs.h"

#define HELLO_CID "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
#define HELLO_CID_Z "zb2rhj7crUKTQYRGCRATFaQ6YFLTde2YzdqbbhAASkL9uRDXn"
#define OTHER_CID "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4" /* "hello world\n" */

static const uint8_t *B(const char *s)
{
	return (const uint8_t *)s;
}

static bd_cid hello(void)
{
	bd_cid c;

	bd_cid_of(&c, BD_CODEC_RAW, "hello world", 11);
	return c;
}

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void assert_message_has(const char *needle)
{
	ck_assert_msg(strstr(tl_error_message(), needle) != NULL, "message \"%s\" lacks \"%s\"",
		tl_error_message(), needle);
}

START_TEST(error_bodies_of_kubo_and_js_ipfs)
{
	char msg[64];
	const char *kubo = "{\"Message\":\"invalid path \\\"x\\\"\",\"Code\":0,\"Type\":\"error\"}\n";
	const char *js = "{\"Message\":\"File argument 'data' is required\",\"Code\":1,\"Type\":\"error\"}";

	ck_assert_int_eq(bd_ipfs_reply__error(msg, sizeof(msg), B(kubo), strlen(kubo)), 0);
	ck_assert_str_eq(msg, "invalid path \\x22x\\x22"); /* quotes are escaped for log lines */
	ck_assert_int_eq(bd_ipfs_reply__error(msg, sizeof(msg), B(js), strlen(js)), 0);
	ck_assert_str_eq(msg, "File argument 'data' is required");
	/* Only Message is needed. */
	ck_assert_int_eq(bd_ipfs_reply__error(msg, sizeof(msg), B("{\"Message\":\"m\"}"), 15), 0);
	ck_assert_str_eq(msg, "m");
}
END_TEST

START_TEST(error_bodies_are_sanitised_and_bounded)
{
	char msg[16], big[256];
	const char *ctl = "{\"Message\":\"a\\nb\\u0007c\\u00e9\"}";

	ck_assert_int_eq(bd_ipfs_reply__error(big, sizeof(big), B(ctl), strlen(ctl)), 0);
	ck_assert_str_eq(big, "a\\x0ab\\x07c\\xc3\\xa9"); /* é is two bytes, neither printable ASCII */
	/* Cut only between whole escapes. */
	ck_assert_int_eq(bd_ipfs_reply__error(msg, sizeof(msg), B(ctl), strlen(ctl)), 0);
	ck_assert_str_eq(msg, "a\\x0ab\\x07c...");
	snprintf(big, sizeof(big), "{\"Message\":\"%s\"}", "0123456789abcdefghijklmnopqrstuvwxyz");
	ck_assert_int_eq(bd_ipfs_reply__error(msg, sizeof(msg), B(big), strlen(big)), 0);
	ck_assert_uint_eq(strlen(msg), sizeof(msg) - 1);
	ck_assert_str_eq(msg, "0123456789ab...");
}
END_TEST

START_TEST(error_bodies_that_are_not_errors)
{
	static const char *bad[] = {
		"", "not json", "[]", "\"Message\"", "{}", "{\"Message\":3}", "{\"Message\":null}",
		"{\"Message\":\"a\",\"Message\":\"b\"}", "{\"Message\":\"a\"} trailing", "{\"Message\":\"a\\u0000b\"}",
	};
	char msg[32];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(msg, "unchanged");
		ck_assert_msg(bd_ipfs_reply__error(msg, sizeof(msg), B(bad[i]), strlen(bad[i])) == TL_E_INPUT,
			"accepted %s", bad[i]);
		ck_assert_str_eq(msg, "");
	}
	/* NUL bytes inside the body are not JSON. */
	ck_assert_int_eq(bd_ipfs_reply__error(msg, sizeof(msg), B("{\"Message\":\"a\"}\0"), 16), TL_E_INPUT);
}
END_TEST

START_TEST(block_put_reply_checks_the_cid)
{
	bd_cid h = hello();
	const char *ok = "{\"Key\":\"" HELLO_CID "\",\"Size\":11}\n";
	const char *ok_z = "{\"Key\":\"" HELLO_CID_Z "\",\"Size\":11}";
	const char *no_size = "{\"Key\":\"" HELLO_CID "\"}";
	const char *other = "{\"Key\":\"" OTHER_CID "\",\"Size\":11}";
	const char *size = "{\"Key\":\"" HELLO_CID "\",\"Size\":12}";
	const char *neg = "{\"Key\":\"" HELLO_CID "\",\"Size\":-1}";
	const char *str_size = "{\"Key\":\"" HELLO_CID "\",\"Size\":\"11\"}";

	ck_assert_int_eq(bd_ipfs_reply__block_put(&h, 11, B(ok), strlen(ok)), 0);
	ck_assert_int_eq(bd_ipfs_reply__block_put(&h, 11, B(ok_z), strlen(ok_z)), 0);
	ck_assert_int_eq(bd_ipfs_reply__block_put(&h, 11, B(no_size), strlen(no_size)), 0);
	ck_assert_int_eq(bd_ipfs_reply__block_put(&h, 11, B(other), strlen(other)), TL_E_CONFLICT);
	assert_message_has(OTHER_CID);
	assert_message_has(HELLO_CID);
	ck_assert_int_eq(bd_ipfs_reply__block_put(&h, 11, B(size), strlen(size)), TL_E_CONFLICT);
	ck_assert_int_eq(bd_ipfs_reply__block_put(&h, 11, B(neg), strlen(neg)), TL_E_CONFLICT);
	ck_assert_int_eq(bd_ipfs_reply__block_put(&h, 11, B(str_size), strlen(str_size)), TL_E_CONFLICT);
}
END_TEST

START_TEST(block_put_reply_refuses_bad_shapes)
{
	static const char *bad[] = {
		"{}", "{\"Key\":5}", "{\"Key\":\"\"}", "{\"Key\":\"not a cid\"}", "{\"key\":\"" HELLO_CID "\"}",
		"{\"Key\":\"" HELLO_CID "x\"}", "[\"" HELLO_CID "\"]", "{\"Key\":\"" HELLO_CID "\",\"Key\":\"" HELLO_CID "\"}",
		/* CIDv0 names a dag-pb block: not the raw leaf asked for. */
		"{\"Key\":\"QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn\"}",
	};
	bd_cid h = hello();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = bd_ipfs_reply__block_put(&h, 11, B(bad[i]), strlen(bad[i]));

		ck_assert_msg(err == TL_E_INPUT || err == TL_E_CONFLICT, "accepted %s", bad[i]);
	}
	ck_assert_int_eq(bd_ipfs_reply__block_put(&h, 11, B(bad[3]), strlen(bad[3])), TL_E_INPUT);
	assert_message_has("not a cid");
}
END_TEST

START_TEST(cidv0_answers_match_cidv1_dag_pb)
{
	/* js-ipfs answers dag-pb blocks in CIDv0 when not asked for version=1: still the same
	 * block, so it is accepted. */
	bd_cid v1;
	const char *r = "{\"Key\":\"QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn\",\"Size\":4}";

	ck_assert_int_eq(bd_cid_parse(&v1, "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354", 59), 0);
	ck_assert_int_eq(bd_ipfs_reply__block_put(&v1, 4, B(r), strlen(r)), 0);
}
END_TEST

START_TEST(pins_reply)
{
	bd_cid h = hello();
	const char *ok = "{\"Pins\":[\"" HELLO_CID "\"]}";
	const char *ok_progress = "{\"Pins\":[\"" HELLO_CID_Z "\"],\"Progress\":3}";
	const char *other = "{\"Pins\":[\"" OTHER_CID "\"]}";
	static const char *bad[] = {
		"{\"Pins\":[]}", "{\"Pins\":[\"" HELLO_CID "\",\"" HELLO_CID "\"]}", "{\"Pins\":\"" HELLO_CID "\"}",
		"{}", "{\"Pins\":[5]}", "{\"Pins\":null}",
	};

	ck_assert_int_eq(bd_ipfs_reply__pins(&h, B(ok), strlen(ok)), 0);
	ck_assert_int_eq(bd_ipfs_reply__pins(&h, B(ok_progress), strlen(ok_progress)), 0);
	ck_assert_int_eq(bd_ipfs_reply__pins(&h, B(other), strlen(other)), TL_E_CONFLICT);
	assert_message_has(OTHER_CID);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(bd_ipfs_reply__pins(&h, B(bad[i]), strlen(bad[i])) == TL_E_INPUT, "accepted %s", bad[i]);
}
END_TEST

START_TEST(pin_ls_reply)
{
	bd_cid h = hello();
	int pinned = -1;
	const char *rec = "{\"Keys\":{\"" HELLO_CID "\":{\"Type\":\"recursive\",\"Name\":\"\"}}}";
	const char *ind = "{\"Keys\":{\"" HELLO_CID_Z "\":{\"Type\":\"indirect through x\"}}}";
	const char *none = "{\"Keys\":{}}";
	const char *other = "{\"Keys\":{\"" OTHER_CID "\":{\"Type\":\"recursive\"}}}";
	static const char *bad[] = {
		"{}", "{\"Keys\":[]}", "{\"Keys\":{\"" HELLO_CID "\":{}}}", "{\"Keys\":{\"" HELLO_CID "\":\"recursive\"}}",
		"{\"Keys\":{\"nope\":{\"Type\":\"recursive\"}}}", "{\"Keys\":{\"" HELLO_CID "\":{\"Type\":1}}}",
	};

	ck_assert_int_eq(bd_ipfs_reply__pin_ls(&pinned, &h, B(rec), strlen(rec)), 0);
	ck_assert_int_eq(pinned, 1);
	ck_assert_int_eq(bd_ipfs_reply__pin_ls(&pinned, &h, B(ind), strlen(ind)), 0);
	ck_assert_int_eq(pinned, 0);
	pinned = -1;
	ck_assert_int_eq(bd_ipfs_reply__pin_ls(&pinned, &h, B(none), strlen(none)), 0);
	ck_assert_int_eq(pinned, 0);
	ck_assert_int_eq(bd_ipfs_reply__pin_ls(&pinned, &h, B(other), strlen(other)), TL_E_CONFLICT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(bd_ipfs_reply__pin_ls(&pinned, &h, B(bad[i]), strlen(bad[i])) == TL_E_INPUT,
			"accepted %s", bad[i]);
}
END_TEST

START_TEST(version_reply)
{
	bd_ipfs_info v;
	const char *js = "{\"Version\":\"0.18.1\",\"Commit\":\"\",\"Repo\":\"12\",\"ipfs-core\":\"0.18.1\"}";
	const char *kubo = "{\"Version\":\"0.29.0\",\"Commit\":\"3f0947b\",\"Repo\":\"15\",\"System\":\"amd64/linux\","
		"\"Golang\":\"go1.22.4\"}";
	const char *other = "{\"Version\":\"1.0\"}";

	ck_assert_int_eq(bd_ipfs_reply__version(&v, B(js), strlen(js)), 0);
	ck_assert_str_eq(v.version, "0.18.1");
	ck_assert_str_eq(v.implementation, "js-ipfs");
	ck_assert_int_eq(bd_ipfs_reply__version(&v, B(kubo), strlen(kubo)), 0);
	ck_assert_str_eq(v.version, "0.29.0");
	ck_assert_str_eq(v.implementation, "kubo");
	ck_assert_int_eq(bd_ipfs_reply__version(&v, B(other), strlen(other)), 0);
	ck_assert_str_eq(v.implementation, "unknown");
	ck_assert_int_eq(bd_ipfs_reply__version(&v, B("{}"), 2), TL_E_INPUT);
	ck_assert_int_eq(bd_ipfs_reply__version(&v, B("{\"Version\":\"\"}"), 14), TL_E_INPUT);
	ck_assert_int_eq(bd_ipfs_reply__version(&v, B("{\"Version\":1}"), 13), TL_E_INPUT);
}
END_TEST

START_TEST(add_reply)
{
	bd_cid root, h = hello();
	const char *one = "{\"Name\":\"data\",\"Hash\":\"" HELLO_CID "\",\"Size\":\"11\"}\n";
	const char *two = "{\"Name\":\"a\",\"Hash\":\"" OTHER_CID "\"}\n{\"Name\":\"data\",\"Hash\":\"" HELLO_CID "\"}";

	ck_assert_int_eq(bd_ipfs_reply__add(&root, B(one), strlen(one)), 0);
	ck_assert(bd_cid_equal(&root, &h));
	ck_assert_int_eq(bd_ipfs_reply__add(&root, B(two), strlen(two)), 0);
	ck_assert(bd_cid_equal(&root, &h));
	ck_assert_int_eq(bd_ipfs_reply__add(&root, B("\n\n"), 2), TL_E_INPUT);
	ck_assert_int_eq(bd_ipfs_reply__add(&root, B("{\"Hash\":\"x\"}"), 12), TL_E_INPUT);
	ck_assert_int_eq(bd_ipfs_reply__add(&root, B("{\"Name\":\"a\"}"), 12), TL_E_INPUT);
	{
		const char *tail = "{\"Hash\":\"" HELLO_CID "\"}\nnot json";

		ck_assert_int_eq(bd_ipfs_reply__add(&root, B(tail), strlen(tail)), TL_E_INPUT);
	}
}
END_TEST

/* ---- the HTTP layer against a fake server ---- */

struct fake {
	int fd;
	unsigned port;
	const char *response;
	size_t response_len;
	unsigned delay_ms;
	char request[16384];
	size_t request_len;
	pthread_t thread;
};

static void *fake_serve(void *arg)
{
	struct fake *f = arg;
	int c = accept(f->fd, NULL, NULL);
	size_t want = 0;

	if (c < 0)
		return NULL;
	/* Read the head, then as much body as Content-Length says (bounded by the buffer). */
	for (;;) {
		ssize_t n = recv(c, f->request + f->request_len, sizeof(f->request) - 1 - f->request_len, 0);
		char *end, *cl;

		if (n <= 0)
			break;
		f->request_len += (size_t)n;
		f->request[f->request_len] = '\0';
		if ((end = strstr(f->request, "\r\n\r\n")) == NULL)
			continue;
		if (want == 0) {
			cl = strcasestr(f->request, "Content-Length:");
			want = (size_t)(end + 4 - f->request) + (cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0);
		}
		if (f->request_len >= want || f->request_len >= sizeof(f->request) - 1)
			break;
	}
	if (f->delay_ms) {
		struct timespec ts = { f->delay_ms / 1000, (long)(f->delay_ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
	if (send(c, f->response, f->response_len, MSG_NOSIGNAL) < 0) {
		/* the client gave up first: fine */
	}
	shutdown(c, SHUT_RDWR);
	close(c);
	return NULL;
}

static void fake_start(struct fake *f, const char *response, size_t len)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(f->fd, 0);
	ck_assert_int_eq(bind(f->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(f->fd, 4), 0);
	ck_assert_int_eq(getsockname(f->fd, (struct sockaddr *)&a, &al), 0);
	f->port = ntohs(a.sin_port);
	f->response = response;
	f->response_len = len;
	f->request_len = 0;
	ck_assert_int_eq(pthread_create(&f->thread, NULL, fake_serve, f), 0);
}

static void fake_join(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->fd);
}

static bd_ipfs *client_for(const struct fake *f, long timeout_ms, const char *auth)
{
	char url[64];
	bd_ipfs_options o;
	bd_ipfs *c = NULL;

	memset(&o, 0, sizeof(o));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v0/", f->port);
	o.api = url;
	o.timeout_ms = timeout_ms;
	o.authorization = auth;
	ck_assert_msg(bd_ipfs_open(&c, &o) == 0, "%s", tl_error_message());
	return c;
}

static char *response(int status, const char *reason, const char *body)
{
	char *r = malloc(strlen(body) + 256);

	sprintf(r, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		"Connection: close\r\n\r\n%s", status, reason, strlen(body), body);
	return r;
}

/* Runs `fn` against a server answering `resp`; returns its result. */
static int against(struct fake *f, const char *resp, size_t len, unsigned delay_ms, long timeout_ms,
	const char *auth, int (*fn)(bd_ipfs *c))
{
	bd_ipfs *c;
	int err;

	memset(f, 0, sizeof(*f));
	f->delay_ms = delay_ms;
	fake_start(f, resp, len);
	c = client_for(f, timeout_ms, auth);
	err = fn(c);
	bd_ipfs_close(c);
	fake_join(f);
	return err;
}

static int do_pin_add(bd_ipfs *c)
{
	bd_cid h = hello();

	return bd_ipfs_pin_add(c, &h);
}

static int do_put_raw(bd_ipfs *c)
{
	bd_block b;

	bd_cid_of(&b.cid, BD_CODEC_RAW, "hello world", 11);
	b.data = (const uint8_t *)"hello world";
	b.len = 11;
	return bd_ipfs_block_put(c, &b);
}

static int do_put_dag_pb(bd_ipfs *c)
{
	bd_block b;

	bd_cid_of(&b.cid, BD_CODEC_DAG_PB, "\x0a\x02\x08\x01", 4);
	b.data = (const uint8_t *)"\x0a\x02\x08\x01";
	b.len = 4;
	return bd_ipfs_block_put(c, &b);
}

static int do_version(bd_ipfs *c)
{
	bd_ipfs_info v;

	return bd_ipfs_version(&v, c);
}

static int do_cat5(bd_ipfs *c)
{
	tl_buf out = tl_buf_make(100);
	bd_cid h = hello();
	int err = bd_ipfs_cat(&out, c, &h, 5);

	ck_assert(err != 0 || (out.len == 5 && memcmp(out.data, "hello", 5) == 0));
	tl_buf_free(&out);
	return err;
}

static int do_block_get(bd_ipfs *c)
{
	tl_buf out = tl_buf_make(100);
	bd_cid h = hello();
	int err = bd_ipfs_block_get(&out, c, &h);

	ck_assert(err != 0 || (out.len == 11 && memcmp(out.data, "hello world", 11) == 0));
	tl_buf_free(&out);
	return err;
}

static int do_pin_ls(bd_ipfs *c)
{
	bd_cid h = hello();
	int pinned = -1, err = bd_ipfs_pin_ls(&pinned, c, &h);

	return err ? err : pinned;
}

static int do_pin_rm(bd_ipfs *c)
{
	bd_cid h = hello();

	return bd_ipfs_pin_rm(c, &h);
}

START_TEST(http_statuses_map_to_categories)
{
	struct fake f;
	char *r;

	r = response(500, "Internal Server Error", "{\"Message\":\"merkledag: not found\",\"Code\":0,\"Type\":\"error\"}");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_pin_add), TL_E_UNAVAILABLE);
	ck_assert_str_eq(tl_error_message(), "ipfs pin/add " HELLO_CID ": 500: merkledag: not found");
	free(r);

	r = response(403, "Forbidden", "{\"Message\":\"403 - Forbidden\",\"Code\":0,\"Type\":\"error\"}");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_pin_add), TL_E_UNAUTHORIZED);
	assert_message_has("403 - Forbidden");
	free(r);

	r = response(400, "Bad Request", "{\"Message\":\"File argument 'data' is required\",\"Code\":1,\"Type\":\"error\"}");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_put_raw), TL_E_INPUT);
	ck_assert_str_eq(tl_error_message(), "ipfs block/put " HELLO_CID ": 400: File argument 'data' is required");
	free(r);

	r = response(404, "Not Found", "404 page not found\n");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_version), TL_E_INPUT);
	assert_message_has("404 page not found");
	assert_message_has("Kubo RPC API");
	free(r);

	r = response(502, "Bad Gateway", "");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_version), TL_E_UNAVAILABLE);
	assert_message_has("502: (no message)");
	free(r);
}
END_TEST

START_TEST(requests_have_the_documented_shape)
{
	struct fake f;
	char *r;

	r = response(200, "OK", "{\"Key\":\"" HELLO_CID "\",\"Size\":11}");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, "Basic dXNlcjpwYXNz", do_put_raw), 0);
	ck_assert(starts_with(f.request, "POST /api/v0/block/put?format=raw&cid-codec=raw&mhtype=sha2-256&mhlen=-1&"));
	ck_assert_ptr_nonnull(strstr(f.request, "\r\nAuthorization: Basic dXNlcjpwYXNz\r\n"));
	ck_assert_ptr_nonnull(strstr(f.request, "multipart/form-data"));
	ck_assert_ptr_nonnull(strstr(f.request, "name=\"file\""));
	ck_assert_ptr_nonnull(strstr(f.request, "\r\n\r\nhello world\r\n"));
	free(r);

	/* dag-pb: no "format" (Kubo refuses it beside cid-codec=dag-pb), version=1 for js-ipfs. */
	{
		bd_cid pb;
		char text[BD_CID_TEXT_MAX], body[200];

		bd_cid_of(&pb, BD_CODEC_DAG_PB, "\x0a\x02\x08\x01", 4);
		ck_assert_int_eq(bd_cid_format(text, sizeof(text), &pb), 0);
		snprintf(body, sizeof(body), "{\"Key\":\"%s\",\"Size\":4}", text);
		r = response(200, "OK", body);
		ck_assert_msg(against(&f, r, strlen(r), 0, 0, NULL, do_put_dag_pb) == 0, "%s", tl_error_message());
		ck_assert_msg(starts_with(f.request, "POST /api/v0/block/put?cid-codec=dag-pb&version=1&mhtype=sha2-256&mhlen=-1&"), "%s", f.request);
		ck_assert_ptr_null(strstr(f.request, "format="));
		ck_assert_ptr_null(strstr(f.request, "Authorization"));
		free(r);
	}

	r = response(200, "OK", "{\"Pins\":[\"" HELLO_CID "\"]}");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_pin_add), 0);
	ck_assert(starts_with(f.request, "POST /api/v0/pin/add?arg=" HELLO_CID "&recursive=true&"));
	free(r);
}
END_TEST

START_TEST(wrong_cids_from_the_node_are_conflicts)
{
	struct fake f;
	char *r;

	r = response(200, "OK", "{\"Key\":\"" OTHER_CID "\",\"Size\":11}");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_put_raw), TL_E_CONFLICT);
	ck_assert_str_eq(tl_error_message(), "ipfs block/put " HELLO_CID ": the stored block's CID is " OTHER_CID
		", expected " HELLO_CID);
	free(r);

	r = response(200, "OK", "{\"Pins\":[\"" OTHER_CID "\"]}");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_pin_add), TL_E_CONFLICT);
	assert_message_has(OTHER_CID);
	free(r);

	r = response(200, "OK", "hello world\n");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_block_get), TL_E_CONFLICT);
	assert_message_has("do not hash to the CID");
	free(r);

	r = response(200, "OK", "hello world");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_block_get), 0);
	free(r);
}
END_TEST

START_TEST(pin_ls_and_pin_rm_read_not_pinned)
{
	struct fake f;
	char *r;

	r = response(500, "Internal Server Error", "{\"Message\":\"path '" HELLO_CID "' is not pinned\",\"Code\":0}");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_pin_ls), 0);
	free(r);
	r = response(200, "OK", "{\"Keys\":{\"" HELLO_CID "\":{\"Type\":\"recursive\"}}}");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_pin_ls), 1);
	free(r);
	r = response(500, "Internal Server Error", "{\"Message\":\"not pinned or pinned indirectly\",\"Code\":0}");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_pin_rm), TL_E_NOTFOUND);
	free(r);
	r = response(500, "Internal Server Error", "{\"Message\":\"datastore closed\",\"Code\":0}");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_pin_ls), TL_E_UNAVAILABLE);
	free(r);
}
END_TEST

START_TEST(replies_are_capped)
{
	struct fake f;
	size_t n = BD_IPFS_MAX_REPLY + 100;
	char *body = malloc(n + 64), *r;

	memset(body, ' ', n);
	strcpy(body + n, "{\"Version\":\"1\"}");
	r = response(200, "OK", body);
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_version), TL_E_INPUT);
	assert_message_has("reply longer than");
	free(r);
	free(body);

	/* cat: exactly the expected size, neither more nor less. */
	r = response(200, "OK", "hello");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_cat5), 0);
	free(r);
	r = response(200, "OK", "hello!");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_cat5), TL_E_CONFLICT);
	assert_message_has("returned 6 bytes, expected 5");
	free(r);
	r = response(200, "OK", "hello, world");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_cat5), TL_E_CONFLICT);
	assert_message_has("more than the 5 bytes");
	free(r);
	r = response(200, "OK", "hell");
	ck_assert_int_eq(against(&f, r, strlen(r), 0, 0, NULL, do_cat5), TL_E_CONFLICT);
	assert_message_has("returned 4 bytes, expected 5");
	free(r);
}
END_TEST

START_TEST(late_and_broken_replies_are_unavailable)
{
	struct fake f;
	const char *chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Stream-Error\r\n"
		"Connection: close\r\n\r\n5\r\nhello\r\n0\r\nX-Stream-Error: merkledag: not found\r\n\r\n";
	const char *cut = "HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\n{\"Vers";
	char *r = response(200, "OK", "{\"Version\":\"1\"}");

	ck_assert_int_eq(against(&f, r, strlen(r), 1500, 300, NULL, do_version), TL_E_UNAVAILABLE);
	assert_message_has("within 300 ms");
	free(r);
	ck_assert_int_eq(against(&f, chunked, strlen(chunked), 0, 0, NULL, do_cat5), TL_E_UNAVAILABLE);
	assert_message_has("merkledag: not found");
	ck_assert_int_eq(against(&f, cut, strlen(cut), 0, 0, NULL, do_version), TL_E_UNAVAILABLE);
}
END_TEST

START_TEST(connection_refused_is_unavailable)
{
	struct fake f;
	bd_ipfs *c;

	/* A port that was just free: bind, read it, close. */
	memset(&f, 0, sizeof(f));
	fake_start(&f, "", 0);
	c = client_for(&f, 0, NULL);
	{
		/* Unblock and retire the fake server, then call the closed port. */
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a;

		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = htons((uint16_t)f.port);
		ck_assert_int_eq(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
		close(s);
		fake_join(&f);
	}
	ck_assert_int_eq(do_pin_add(c), TL_E_UNAVAILABLE);
	assert_message_has("ipfs pin/add " HELLO_CID ": http://127.0.0.1:");
	bd_ipfs_close(c);
}
END_TEST

START_TEST(open_checks_its_options)
{
	static const char *bad[] = {
		"", "127.0.0.1:5001", "ftp://127.0.0.1", "http://", "http:///api/v0", "http://a b", "http://a/?x",
		"http://h\x7f", "https://",
	};
	bd_ipfs_options o;
	bd_ipfs *c = NULL;

	memset(&o, 0, sizeof(o));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.api = bad[i];
		ck_assert_msg(bd_ipfs_open(&c, &o) == TL_E_INPUT, "accepted %s", bad[i]);
	}
	o.api = NULL;
	ck_assert_int_eq(bd_ipfs_open(&c, &o), TL_E_INPUT);
	o.api = "http://127.0.0.1:5001/api/v0/";
	ck_assert_int_eq(bd_ipfs_open(&c, &o), 0);
	ck_assert_str_eq(bd_ipfs_api(c), "http://127.0.0.1:5001");
	bd_ipfs_close(c);
	o.api = "https://cluster.example:9095/";
	ck_assert_int_eq(bd_ipfs_open(&c, &o), 0);
	ck_assert_str_eq(bd_ipfs_api(c), "https://cluster.example:9095");
	bd_ipfs_close(c);
	o.timeout_ms = -1;
	ck_assert_int_eq(bd_ipfs_open(&c, &o), TL_E_INPUT);
	o.timeout_ms = 0;
	o.authorization = "Basic a\r\nX-Evil: 1";
	ck_assert_int_eq(bd_ipfs_open(&c, &o), TL_E_INPUT);
	o.authorization = "";
	ck_assert_int_eq(bd_ipfs_open(&c, &o), TL_E_INPUT);
}
END_TEST

START_TEST(block_put_checks_the_block_first)
{
	bd_ipfs_options o;
	bd_ipfs *c = NULL;
	bd_block b;

	memset(&o, 0, sizeof(o));
	o.api = "http://127.0.0.1:1";
	ck_assert_int_eq(bd_ipfs_open(&c, &o), 0);
	bd_cid_of(&b.cid, BD_CODEC_RAW, "hello world", 11);
	b.data = (const uint8_t *)"hello there";
	b.len = 11;
	ck_assert_int_eq(bd_ipfs_block_put(c, &b), TL_E_INPUT);
	assert_message_has("do not hash to the CID");
	bd_cid_of(&b.cid, 0x71, "hello there", 11);
	ck_assert_int_eq(bd_ipfs_block_put(c, &b), TL_E_INPUT);
	assert_message_has("neither raw nor dag-pb");
	{
		bd_chunker lines = bd_chunker_default();
		bd_cid root;

		ck_assert_int_eq(bd_ipfs_add(&root, c, "x", 1, &lines), TL_E_INPUT);
	}
	bd_ipfs_close(c);
}
END_TEST

Suite *suite_ipfs_reply(void)
{
	Suite *s = suite_create("ipfs_reply");
	TCase *tc = tcase_create("readers");
	TCase *http = tcase_create("http");

	tcase_add_test(tc, error_bodies_of_kubo_and_js_ipfs);
	tcase_add_test(tc, error_bodies_are_sanitised_and_bounded);
	tcase_add_test(tc, error_bodies_that_are_not_errors);
	tcase_add_test(tc, block_put_reply_checks_the_cid);
	tcase_add_test(tc, block_put_reply_refuses_bad_shapes);
	tcase_add_test(tc, cidv0_answers_match_cidv1_dag_pb);
	tcase_add_test(tc, pins_reply);
	tcase_add_test(tc, pin_ls_reply);
	tcase_add_test(tc, version_reply);
	tcase_add_test(tc, add_reply);
	suite_add_tcase(s, tc);
	tcase_set_timeout(http, 20);
	tcase_add_test(http, http_statuses_map_to_categories);
	tcase_add_test(http, requests_have_the_documented_shape);
	tcase_add_test(http, wrong_cids_from_the_node_are_conflicts);
	tcase_add_test(http, pin_ls_and_pin_rm_read_not_pinned);
	tcase_add_test(http, replies_are_capped);
	tcase_add_test(http, late_and_broken_replies_are_unavailable);
	tcase_add_test(http, connection_refused_is_unavailable);
	tcase_add_test(http, open_checks_its_options);
	tcase_add_test(http, block_put_checks_the_block_first);
	suite_add_tcase(s, http);
	return s;
}
