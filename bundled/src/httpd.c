/*
 * The HTTP server's connections and threads: a few event loops (epoll, level-triggered,
 * sharing one listening socket with EPOLLEXCLUSIVE) that read, parse and write without
 * blocking, and a small worker pool for handlers that may block. The loop that accepts a
 * connection gives it to the loop with the fewest; a connection belongs to that loop for its
 * whole life; while a worker runs its handler the loop ignores it, and the
 * worker hands it back through the loop's eventfd.
 *
 * Idle connections cost a struct and a descriptor, no thread and no buffer: the input buffer
 * is freed whenever a connection waits for its next request with nothing buffered.
 * Deadlines are checked by a sweep of each loop's connections four times a second.
 *
 * Every function that may close a connection returns whether it is still open, so no caller
 * touches a freed connection; pipelined requests are served by a loop, never by recursion.
 * A connection answered with "Connection: close" lingers a moment after its answer, reading
 * and dropping what the client still sends, so that unread request bytes do not turn the
 * close into a reset that destroys the answer before the client read it.
 *
 * With TLS (httpd_tls.c) every read and write goes through OpenSSL, whose WANT_READ and
 * WANT_WRITE set the epoll interest; the handshake is driven first, in the same loop, against
 * the request deadline. A client that speaks plain HTTP to the TLS port gets a plain 400 that
 * says so, rather than a reset it cannot explain.
 */
#define _GNU_SOURCE
#include "httpd_internal.h"
#include "httpd_tls.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK 16384
#define SWEEP_MS 250
#define MAX_EVENTS 256
#define LINGER_MS 2000 /* how long a closing connection's late bytes are read and dropped */

enum conn_state { C_READ, C_WORK, C_WRITE, C_LINGER };

struct loop;

struct conn {
	int fd;
	struct loop *loop;
	struct conn *prev, *next;   /* the loop's list of connections */
	struct conn *queue_next;    /* worker queue, or the loop's list of finished work */
	enum conn_state state;
	uint32_t interest;          /* the events epoll watches for now */
	struct sockaddr_storage addr;
	char peer[64];
	uint64_t deadline_ms;
	uint64_t started_us;        /* the current request's first byte */
	tl_buf in;
	bool head_done;
	size_t head_len;
	size_t body_end;            /* in.data[0..body_end) is this request, head and (raw) body */
	bd_httpd_request req;
	bd_httpd_framing fr;
	bd_httpd_chunked ch;
	bool keep_alive;
	bool parsed;                /* req is valid (for the observer) */
	bd_httpd_response res;
	tl_buf out_head;            /* the response head; for a stream, the next framed piece */
	size_t out_off;             /* bytes of head + body written */
	bool again;                 /* pipelined bytes wait to be parsed */
	bool counted;               /* holds a place in the connection limits */
	bool stream_end;            /* a streamed body's last piece is in out_head */
	bool stream_chunked;        /* framed in chunks (else: HTTP/1.0, until close) */
	bool paused;                /* a stream waits for bd_httpd_stream_wake */
	bd_httpd_tls_conn *tls;     /* NULL: plain HTTP */
	bool handshaken;            /* the TLS handshake is complete */
	bool tls_sniffed;           /* the first byte said TLS, not plain HTTP */
	bool tls_want_read;         /* a TLS write waits for the socket to be readable */
	bool read_wants_write;      /* a TLS read waits for the socket to be writable */
	bool refusing;              /* over a limit: answer res once the handshake is done */
	bool served;                /* a response was sent on it */
	bool tls_verified;          /* the client's certificate verified against the client CA */
	char tls_subject[256];
};

/* A connection accepted by one loop for another (under the other's done_mu). */
struct handoff {
	int fd;
	struct sockaddr_storage addr;
	struct handoff *next;
};

struct loop {
	bd_httpd *srv;
	pthread_t thread;
	int epfd;
	int evfd;
	struct conn *conns;
	unsigned assigned;          /* counted connections given to this loop, handed or not (atomic) */
	pthread_mutex_t done_mu;
	struct conn *done;          /* connections whose worker has finished */
	bd_httpd_stream *woken;     /* streams to resume (under done_mu) */
	struct handoff *handed;     /* connections accepted for this loop by another */
	char date[40];
	time_t date_at;
};

struct bd_httpd {
	bd_httpd_options opts;
	int listen_fd;
	unsigned port;
	unsigned nloops;
	struct loop *loops;
	pthread_t *workers;
	unsigned nworkers;
	pthread_mutex_t work_mu;
	pthread_cond_t work_cv;
	struct conn *work_head, *work_tail;
	bool stopping;
	unsigned open;              /* connections open now (atomic) */
	bd_httpd_stats stats;       /* atomic counters */
	int spare_fd;               /* given up to accept and refuse when out of descriptors */
	bd_httpd_addrs *addrs;
	bd_httpd_tls *tls;          /* NULL: plain HTTP */
	uint64_t tls_failures;      /* atomic */
};

/* Addresses that tell the listening socket and the eventfd from connections in epoll data. */
static int listen_marker, event_marker;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t now_ms(void)
{
	return now_us() / 1000u;
}

static const char *loop_date(struct loop *l)
{
	time_t t = time(NULL);
	struct tm tm;

	if (t != l->date_at && gmtime_r(&t, &tm) != NULL) {
		strftime(l->date, sizeof(l->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		l->date_at = t;
	}
	return l->date;
}

/* A keep-alive connection goes back to the same level-triggered interest after every
 * answer: that costs no system call (an edge-triggered interest is always re-armed). */
static void set_interest(struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (events == c->interest && !(events & EPOLLET))
		return;
	c->interest = events;
	epoll_ctl(c->loop->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* The response's stream, if any, no longer has a connection to push to. */
static void detach_stream(struct conn *c)
{
	if (c->res.stream == NULL)
		return;
	pthread_mutex_lock(&c->res.stream->mu);
	c->res.stream->conn = NULL;
	c->res.stream->closed = true;
	pthread_mutex_unlock(&c->res.stream->mu);
}

/* Closes and frees c; returns false, for the callers' "is it still open". */
static bool conn_close(struct conn *c)
{
	struct loop *l = c->loop;

	/* Counted out before the close, so a client that saw it sees the count too. */
	if (c->counted) {
		bd_httpd__addrs_give(l->srv->addrs, &c->addr);
		__atomic_sub_fetch(&l->srv->open, 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&l->assigned, 1, __ATOMIC_RELAXED);
	}
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	bd_httpd__tls_conn_free(c->tls);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	detach_stream(c);
	bd_httpd__release_body(&c->res);
	tl_buf_free(&c->res.body);
	tl_buf_free(&c->in);
	tl_buf_free(&c->out_head);
	free(c);
	return false;
}

static size_t body_len_of(const bd_httpd_response *res)
{
	return res->body_file || res->borrowed != NULL || res->release != NULL ? res->borrowed_len : res->body.len;
}

static const uint8_t *body_of(const bd_httpd_response *res)
{
	return res->borrowed != NULL || res->release != NULL ? (const uint8_t *)res->borrowed : res->body.data;
}

static bool conn_write(struct conn *c);
static void queue_woken(bd_httpd_stream *s);

/* Sends c->res: the head now, the body after it; the connection closes afterwards unless
 * the request allows keep-alive and the response is not the server's own error. */
static bool conn_respond(struct conn *c, bool keep_alive)
{
	bool has_body = bd_httpd__has_body(c->res.status);
	bool head_only = !has_body || (c->parsed && c->req.head);
	size_t len;

	/* OpenSSL cannot sendfile (no kTLS here): a file body is read into memory. */
	if (c->res.body_file && c->tls != NULL && !head_only && bd_httpd__file_to_memory(&c->res) != 0)
		bd_httpd_reply_error(&c->res, TL_E_IO);
	len = has_body ? body_len_of(&c->res) : 0;

	c->stream_end = false;
	c->paused = false;
	if (c->res.produce != NULL) {
		/* HTTP/1.0 knows no chunks: the body ends when the connection does. */
		c->stream_chunked = !c->parsed || c->req.minor_version == 1;
		if (!c->stream_chunked)
			keep_alive = false;
		len = c->stream_chunked ? BD_HTTPD__CHUNKED : BD_HTTPD__UNTIL_CLOSE;
		c->stream_end = head_only;
		if (c->res.stream != NULL) {
			pthread_mutex_lock(&c->res.stream->mu);
			c->res.stream->conn = c;
			c->res.stream->queue = queue_woken;
			pthread_mutex_unlock(&c->res.stream->mu);
		}
	}
	c->keep_alive = keep_alive && !__atomic_load_n(&c->loop->srv->stopping, __ATOMIC_ACQUIRE);
	/* An HTTP/1.0 client keeps the connection only when the answer says so. */
	if (c->keep_alive && c->parsed && c->req.minor_version == 0 &&
	    bd_httpd_add_header(&c->res, "Connection", "keep-alive") != 0)
		c->keep_alive = false;
	if (bd_httpd__write_head(&c->out_head, &c->res, len, c->keep_alive, loop_date(c->loop)) != 0)
		return conn_close(c);
	if (head_only && c->res.produce == NULL)
		bd_httpd__release_body(&c->res);
	c->state = C_WRITE;
	c->out_off = 0;
	c->deadline_ms = now_ms() + c->loop->srv->opts.write_timeout_ms;
	return conn_write(c);
}

static bool answer_status(struct conn *c, unsigned status)
{
	bd_httpd__reply_status_error(&c->res, status);
	return conn_respond(c, false);
}

/* After an answer with "Connection: close": no more writing, and the client's late bytes
 * are read and dropped until it closes too or LINGER_MS pass. */
static bool conn_linger(struct conn *c)
{
	if (c->tls != NULL)
		bd_httpd__tls_close_notify(c->tls);
	shutdown(c->fd, SHUT_WR);
	c->state = C_LINGER;
	c->deadline_ms = now_ms() + LINGER_MS;
	tl_buf_free(&c->in);
	set_interest(c, EPOLLIN | EPOLLRDHUP);
	return true;
}

static bool conn_drain(struct conn *c)
{
	char sink[4096];

	/* A bounded amount per wake-up, so a client that floods cannot hold the loop. */
	for (int i = 0; i < 16; i++) {
		ssize_t n = read(c->fd, sink, sizeof(sink));

		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		return conn_close(c);
	}
	return true;
}

static bool conn_finish_response(struct conn *c)
{
	bd_httpd *srv = c->loop->srv;
	size_t rest;

	if (srv->opts.observe)
		srv->opts.observe(c->parsed ? &c->req : NULL, &c->res, now_us() - c->started_us, srv->opts.ctx);
	/* An idle connection keeps no response memory. */
	detach_stream(c);
	bd_httpd__release_body(&c->res);
	tl_buf_free(&c->res.body);
	tl_buf_free(&c->out_head);
	c->res.status = 0;
	c->res.content_type = NULL;
	c->res.nheaders = 0;
	c->served = true;
	if (!c->keep_alive)
		return conn_linger(c);
	/* Pipelined bytes after this request start the next one. */
	rest = c->in.len - c->body_end;
	if (rest)
		memmove(c->in.data, c->in.data + c->body_end, rest);
	tl_buf_truncate(&c->in, rest);
	if (rest == 0)
		tl_buf_free(&c->in);
	c->head_done = false;
	c->parsed = false;
	c->state = C_READ;
	c->started_us = now_us();
	c->deadline_ms = now_ms() + (rest ? srv->opts.request_timeout_ms : srv->opts.idle_timeout_ms);
	set_interest(c, EPOLLIN | EPOLLRDHUP);
	c->again = rest > 0;
	return true;
}

/* Refills out_head with the stream's next piece, framed. False if the connection closed. */
static bool stream_fill(struct conn *c)
{
	bd_httpd_stream *s = c->res.stream;
	tl_buf piece = tl_buf_make(BD_HTTPD_STREAM_CHUNK);
	int rc;

	for (;;) {
		if (s != NULL) {
			pthread_mutex_lock(&s->mu);
			s->woken = false;
			pthread_mutex_unlock(&s->mu);
		}
		rc = c->res.produce(&piece, c->res.release_ctx);
		if (rc < 0) {
			tl_buf_free(&piece);
			return conn_close(c);
		}
		if (piece.len > 0 || rc == 0)
			break;
		/* Nothing now: pause, unless a wake came while the producer ran. */
		if (s == NULL) {
			c->paused = true;
		} else {
			pthread_mutex_lock(&s->mu);
			c->paused = !s->woken;
			pthread_mutex_unlock(&s->mu);
		}
		if (c->paused) {
			tl_buf_free(&piece);
			return true;
		}
	}
	tl_buf_reset(&c->out_head);
	c->out_off = 0;
	if (piece.len > 0 && c->stream_chunked)
		rc = tl_buf_printf(&c->out_head, "%zx\r\n", piece.len) != 0 ? -1 : rc;
	if (piece.len > 0 && tl_buf_append(&c->out_head, piece.data, piece.len) != 0)
		rc = -1;
	if (piece.len > 0 && c->stream_chunked && tl_buf_append(&c->out_head, "\r\n", 2) != 0)
		rc = -1;
	if (rc == 0) {
		c->stream_end = true;
		if (c->stream_chunked && tl_buf_append(&c->out_head, "0\r\n\r\n", 5) != 0)
			rc = -1;
	}
	tl_buf_free(&piece);
	return rc < 0 ? conn_close(c) : true;
}

static bool conn_write(struct conn *c)
{
	for (;;) {
		size_t head = c->out_head.len, body = body_len_of(&c->res);
		struct iovec iov[2] = { { NULL, 0 }, { NULL, 0 } };
		int n = 0;
		ssize_t w;

		if (c->out_off >= head + body) {
			if (c->res.produce == NULL || c->stream_end)
				return conn_finish_response(c);
			if (!stream_fill(c))
				return false;
			if (c->paused) {
				/* Woken by bd_httpd_stream_wake; a client that hangs up is noticed. */
				c->deadline_ms = UINT64_MAX;
				set_interest(c, EPOLLRDHUP | EPOLLET);
				return true;
			}
			continue;
		}
		if (c->out_off < head)
			iov[n++] = (struct iovec){ c->out_head.data + c->out_off, head - c->out_off };
		if (body && !c->res.body_file) {
			size_t skip = c->out_off > head ? c->out_off - head : 0;

			iov[n++] = (struct iovec){ (uint8_t *)(uintptr_t)body_of(&c->res) + skip, body - skip };
		}
		/* OpenSSL has no writev: one piece at a time. A retry after WANT_* passes the same
		 * bytes again, as it requires, since out_off only moves on progress. */
		if (c->tls != NULL) {
			w = bd_httpd__tls_write(c->tls, iov[0].iov_base, iov[0].iov_len);
		} else {
			if (n == 0) { /* the rest of a file body (never on TLS) */
				off_t off = (off_t)(c->res.body_off + (c->out_off - head));

				w = sendfile(c->fd, c->res.body_fd, &off, head + body - c->out_off);
			} else if (c->res.body_file && body != 0) { /* the head, the file body next */
				w = send(c->fd, iov[0].iov_base, iov[0].iov_len, MSG_MORE | MSG_NOSIGNAL);
			} else {
				w = writev(c->fd, iov, n);
			}
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				w = errno == EAGAIN ? BD_TLS_WANT_WRITE : BD_TLS_FAILED;
		}
		if (w == BD_TLS_WANT_WRITE || w == BD_TLS_WANT_READ) {
			c->tls_want_read = w == BD_TLS_WANT_READ;
			set_interest(c, c->tls_want_read ? EPOLLIN : EPOLLOUT);
			return true;
		}
		if (w <= 0)
			return conn_close(c);
		/* The write deadline counts from the last progress. */
		c->deadline_ms = now_ms() + c->loop->srv->opts.write_timeout_ms;
		c->out_off += (size_t)w;
	}
}

static void run_handler(struct conn *c)
{
	bd_httpd *srv = c->loop->srv;
	int err;

	tl_error_clear();
	c->res.status = 200;
	c->res.body = tl_buf_make(BD_HTTPD_MAX_RESPONSE);
	if ((err = srv->opts.handler(&c->res, &c->req, srv->opts.ctx)) != 0)
		bd_httpd_reply_error(&c->res, err);
}

static bool dispatch(struct conn *c)
{
	bd_httpd *srv = c->loop->srv;

	snprintf(c->req.peer, sizeof(c->req.peer), "%s", c->peer);
	c->req.tls = c->tls != NULL;
	c->req.tls_client_verified = c->tls_verified;
	memcpy(c->req.tls_client_subject, c->tls_subject, sizeof(c->req.tls_client_subject));
	c->parsed = true;
	if (srv->opts.blocking != NULL && srv->opts.blocking(&c->req, srv->opts.ctx)) {
		c->state = C_WORK;
		/* Nothing to watch while the worker runs (a hang-up is reported once, and ignored). */
		set_interest(c, EPOLLET);
		pthread_mutex_lock(&srv->work_mu);
		c->queue_next = NULL;
		if (srv->work_tail)
			srv->work_tail->queue_next = c;
		else
			srv->work_head = c;
		srv->work_tail = c;
		pthread_cond_signal(&srv->work_cv);
		pthread_mutex_unlock(&srv->work_mu);
		return true;
	}
	run_handler(c);
	return conn_respond(c, c->fr.keep_alive);
}

/* False if the connection failed (the caller closes it). */
static bool send_continue(struct conn *c)
{
	static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";

	/* Over TLS a write that does not complete binds the next one to the same bytes: on a
	 * fresh request it always completes, and when it does not the connection closes. */
	if (c->tls != NULL)
		return bd_httpd__tls_write(c->tls, msg, sizeof(msg) - 1) == (ssize_t)(sizeof(msg) - 1);

	/* A 25-byte write to a fresh socket buffer; if even that does not go out, the client
	 * simply sends its body after its own wait, as curl does. */
	return write(c->fd, msg, sizeof(msg) - 1) >= 0 || errno == EAGAIN;
}

/* Parses what has arrived; answers, waits for more, or refuses. */
static bool conn_process(struct conn *c)
{
	bd_httpd *srv = c->loop->srv;
	unsigned status = 0;
	int rc;

	if (!c->head_done) {
		rc = bd_httpd_parse_head(&c->req, &c->fr, &c->head_len, &status, (char *)c->in.data, c->in.len);
		if (rc < 0)
			return answer_status(c, status);
		if (rc == BD_HTTPD_PARSE_MORE)
			return true;
		c->head_done = true;
		memset(&c->ch, 0, sizeof(c->ch));
		if (!c->fr.chunked && c->fr.content_length > srv->opts.max_body) {
			tl_error_set(TL_E_INPUT, "request body larger than %zu bytes", srv->opts.max_body);
			return answer_status(c, 413);
		}
		if (c->fr.expect_continue && c->in.len == c->head_len && !send_continue(c))
			return conn_close(c);
	}
	if (c->fr.chunked) {
		uint8_t *body = c->in.data + c->head_len;

		rc = bd_httpd_parse_chunked(&c->ch, &status, body, c->in.len - c->head_len, srv->opts.max_body);
		if (rc < 0)
			return answer_status(c, status);
		/* Keep only the decoded body and the bytes not parsed yet, so framing overhead
		 * never costs memory. */
		if (c->ch.in > c->ch.out) {
			size_t tail = c->in.len - c->head_len - c->ch.in;

			memmove(body + c->ch.out, body + c->ch.in, tail);
			tl_buf_truncate(&c->in, c->head_len + c->ch.out + tail);
			c->ch.in = c->ch.out;
		}
		if (rc == BD_HTTPD_PARSE_MORE)
			return true;
		c->req.body = body;
		c->req.body_len = c->ch.out;
		c->body_end = c->head_len + c->ch.in;
	} else {
		if (c->in.len - c->head_len < c->fr.content_length)
			return true;
		c->req.body = c->in.data + c->head_len;
		c->req.body_len = (size_t)c->fr.content_length;
		c->body_end = c->head_len + c->req.body_len;
	}
	return dispatch(c);
}

/* Serves the requests that are in c's buffer, one after the other. */
static void conn_serve(struct conn *c)
{
	bool open = true;

	while (open && c->state == C_READ && c->again) {
		c->again = false;
		open = conn_process(c);
	}
}

/* Reads up to n bytes, plain or through TLS: a count, or one of the BD_TLS_* codes. */
static ssize_t conn_recv(struct conn *c, void *buf, size_t n)
{
	if (c->tls != NULL)
		return bd_httpd__tls_read(c->tls, buf, n);
	for (;;) {
		ssize_t r = read(c->fd, buf, n);

		if (r >= 0)
			return r;
		if (errno != EINTR)
			return errno == EAGAIN ? BD_TLS_WANT_READ : BD_TLS_FAILED;
	}
}

/* A TLS connection that will not get through: closed without a word, and counted. */
static bool tls_fail(struct conn *c)
{
	__atomic_add_fetch(&c->loop->srv->tls_failures, 1, __ATOMIC_RELAXED);
	return conn_close(c);
}

/* A TLS ClientHello starts with the handshake record type (22); a plain HTTP request with the
 * upper-case letters of its method. That client gets a plain 400 it can read. */
static bool tls_refuse_plain(struct conn *c)
{
	uint8_t first;
	ssize_t n;

	if (c->tls_sniffed)
		return true;
	n = recv(c->fd, &first, 1, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return tls_fail(c);
	if (first < 'A' || first > 'Z') {
		c->tls_sniffed = true;
		return true;
	}
	__atomic_add_fetch(&c->loop->srv->tls_failures, 1, __ATOMIC_RELAXED);
	bd_httpd__tls_conn_free(c->tls);
	c->tls = NULL;
	if (c->refusing)
		return conn_respond(c, false);
	tl_error_set(TL_E_INPUT, "this port speaks HTTPS: plain HTTP was sent to it; use an https:// URL");
	answer_status(c, 400);
	return false;
}

/* Moves the handshake on; true once it is complete and requests may be read. */
static bool conn_handshake(struct conn *c)
{
	int rc;

	if (!tls_refuse_plain(c) || c->tls == NULL)
		return false;
	rc = bd_httpd__tls_handshake(c->tls);
	if (rc == BD_TLS_WANT_READ || rc == BD_TLS_WANT_WRITE) {
		set_interest(c, rc == BD_TLS_WANT_READ ? EPOLLIN | EPOLLRDHUP : EPOLLOUT);
		return false;
	}
	if (rc != 1)
		return tls_fail(c);
	c->handshaken = true;
	c->tls_verified = bd_httpd__tls_client(c->tls, c->tls_subject, sizeof(c->tls_subject));
	set_interest(c, EPOLLIN | EPOLLRDHUP);
	if (c->refusing) {
		conn_respond(c, false);
		return false;
	}
	return true;
}

/* The parsed head points into c->in. When a body arriving in later reads makes the buffer
 * grow and move, the pointers move with it (as offsets: the old block is gone). */
static void rebase_request(struct conn *c, uintptr_t old)
{
	uintptr_t now = (uintptr_t)c->in.data;

#define REBASE(p) ((p) = (const char *)(now + ((uintptr_t)(p) - old)))
	if (!c->req.head) /* HEAD's method is the string "GET", not in the buffer */
		REBASE(c->req.method);
	REBASE(c->req.target);
	for (size_t i = 0; i < c->req.nfields; i++) {
		REBASE(c->req.fields[i].name);
		REBASE(c->req.fields[i].value);
	}
#undef REBASE
}

static void conn_read(struct conn *c)
{
	bd_httpd *srv = c->loop->srv;

	if (c->tls != NULL && !c->handshaken && !conn_handshake(c))
		return;
	/* One read per wake-up: a client with much to say waits for the next round (the
	 * socket stays readable), and pipelined requests never pile up past the cap. Over TLS,
	 * the rest of a record OpenSSL already decrypted is taken too: epoll cannot see it. */
	for (;;) {
		ssize_t n;

		uintptr_t before = (uintptr_t)c->in.data;

		/* The raw request may hold the head, the body and chunk framing still to strip. */
		c->in.cap = BD_HTTPD_MAX_HEAD + srv->opts.max_body + READ_CHUNK;
		if (tl_buf_reserve(&c->in, READ_CHUNK) != 0) {
			/* Only a client that keeps sending after a complete request gets here. */
			tl_error_set(TL_E_INPUT, "request larger than %zu bytes", (size_t)c->in.cap);
			answer_status(c, c->head_done ? 413 : 431);
			return;
		}
		if (c->head_done && before != 0 && before != (uintptr_t)c->in.data)
			rebase_request(c, before);
		n = conn_recv(c, c->in.data + c->in.len, READ_CHUNK);
		if (n == BD_TLS_WANT_READ || n == BD_TLS_WANT_WRITE) {
			/* Only TLS wants to write while reading (a key update, a ticket). */
			if (n == BD_TLS_WANT_WRITE || c->read_wants_write)
				set_interest(c, n == BD_TLS_WANT_WRITE ? EPOLLOUT : EPOLLIN | EPOLLRDHUP);
			c->read_wants_write = n == BD_TLS_WANT_WRITE;
			break;
		}
		if (n <= 0) {
			conn_close(c);
			return;
		}
		/* The request's first byte: its deadline starts now; over TLS the first request's
		 * started at the accept, so the handshake counts against it. */
		if (c->in.len == 0 && (c->tls == NULL || c->served)) {
			c->started_us = now_us();
			c->deadline_ms = now_ms() + srv->opts.request_timeout_ms;
		}
		c->in.len += (size_t)n;
		c->in.data[c->in.len] = '\0';
		if (c->tls == NULL || bd_httpd__tls_pending(c->tls) == 0)
			break;
	}
	c->again = c->in.len > 0;
	conn_serve(c);
}

/* A connection of loop l (and of its counts, when `counted`), or NULL when it could not be
 * set up: then fd is closed and the counts given back, so the caller has nothing to undo. */
static struct conn *conn_new(struct loop *l, int fd, const struct sockaddr_storage *addr, bool counted)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev;
	int one = 1;

	if (c == NULL) {
		if (counted) {
			bd_httpd__addrs_give(l->srv->addrs, addr);
			__atomic_sub_fetch(&l->srv->open, 1, __ATOMIC_RELAXED);
			__atomic_sub_fetch(&l->assigned, 1, __ATOMIC_RELAXED);
		}
		close(fd);
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->loop = l;
	c->addr = *addr;
	c->counted = counted;
	if (addr->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, c->peer, sizeof(c->peer));
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, c->peer, sizeof(c->peer));
	c->state = C_READ;
	c->started_us = now_us();
	/* A TLS client starts its handshake at once: it has the request deadline for it. */
	c->deadline_ms = now_ms() + (l->srv->tls != NULL ? l->srv->opts.request_timeout_ms : l->srv->opts.idle_timeout_ms);
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	c->interest = EPOLLIN | EPOLLRDHUP;
	ev = (struct epoll_event){ .events = c->interest, .data.ptr = c };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 ||
	    (l->srv->tls != NULL && bd_httpd__tls_conn_new(&c->tls, l->srv->tls, fd) != 0)) {
		conn_close(c);
		return NULL;
	}
	return c;
}

/* Answers a connection over a limit at once, before reading its request, and lets it linger
 * so the answer is read rather than reset. It holds no place in the limits meanwhile. */
static void refuse(struct loop *l, int fd, const struct sockaddr_storage *addr, unsigned status, const char *why)
{
	struct conn *c = conn_new(l, fd, addr, false);

	if (c == NULL)
		return;
	tl_error_set(status == 429 ? TL_E_INPUT : TL_E_UNAVAILABLE, "%s", why);
	bd_httpd__reply_status_error(&c->res, status);
	if (bd_httpd_add_header(&c->res, "Retry-After", "1") != 0) {
		conn_close(c);
		return;
	}
	/* Over TLS the answer waits for the handshake, within the request deadline. */
	if (c->tls != NULL) {
		c->refusing = true;
		return;
	}
	conn_respond(c, false);
}

/* Out of descriptors: the spare one makes room to accept and close the oldest waiting
 * connection, so the listener does not stay readable and spin the loop. */
static void shed_one(bd_httpd *srv)
{
	int spare = __atomic_exchange_n(&srv->spare_fd, -1, __ATOMIC_ACQ_REL);
	int fd;

	if (spare < 0)
		return;
	close(spare);
	if ((fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		close(fd);
		__atomic_add_fetch(&srv->stats.shed_no_descriptors, 1, __ATOMIC_RELAXED);
	}
	spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	__atomic_store_n(&srv->spare_fd, spare, __ATOMIC_RELEASE);
}

/* The loop with the fewest connections, l itself on a tie. */
static struct loop *least_loaded(struct loop *l)
{
	bd_httpd *srv = l->srv;
	struct loop *best = l;
	unsigned fewest = __atomic_load_n(&l->assigned, __ATOMIC_RELAXED);

	unsigned nloops = __atomic_load_n(&srv->nloops, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < nloops; i++) {
		unsigned n = __atomic_load_n(&srv->loops[i].assigned, __ATOMIC_RELAXED);

		if (n < fewest) {
			fewest = n;
			best = &srv->loops[i];
		}
	}
	return best;
}

/* Gives an accepted connection to the loop with the fewest. The loop that wakes for the
 * listener accepts every waiting connection (EPOLLEXCLUSIVE wakes one loop, and accepting one
 * at a time would leave the rest to chance); keeping them all put most of a burst on one loop
 * (48 and 16 of wrk's 64, so one core queued while the other idled, and the p99 doubled:
 * benchmarks/README.md, "HTTP"). The other loop takes its share through its eventfd. */
static void assign(struct loop *l, int fd, const struct sockaddr_storage *addr)
{
	struct loop *to = least_loaded(l);
	struct handoff *h;
	uint64_t one = 1;

	__atomic_add_fetch(&to->assigned, 1, __ATOMIC_RELAXED);
	if (to == l || (h = malloc(sizeof(*h))) == NULL) {
		if (to != l) {
			__atomic_sub_fetch(&to->assigned, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&l->assigned, 1, __ATOMIC_RELAXED);
		}
		conn_new(l, fd, addr, true);
		return;
	}
	h->fd = fd;
	h->addr = *addr;
	pthread_mutex_lock(&to->done_mu);
	h->next = to->handed;
	to->handed = h;
	pthread_mutex_unlock(&to->done_mu);
	if (write(to->evfd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: the loop is awake anyway */
	}
}

static void accept_all(struct loop *l)
{
	bd_httpd *srv = l->srv;

	for (;;) {
		struct sockaddr_storage addr;
		socklen_t alen = sizeof(addr);
		int fd = accept4(srv->listen_fd, (struct sockaddr *)&addr, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				shed_one(srv);
			/* EAGAIN: accepted all; anything else: the next wake-up tries again. */
			return;
		}
		if (__atomic_add_fetch(&srv->open, 1, __ATOMIC_RELAXED) > srv->opts.max_connections) {
			__atomic_sub_fetch(&srv->open, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&srv->stats.refused_max_connections, 1, __ATOMIC_RELAXED);
			refuse(l, fd, &addr, 503, "the server has too many connections; try again later");
			continue;
		}
		if (!bd_httpd__addrs_take(srv->addrs, &addr, srv->opts.max_per_address)) {
			__atomic_sub_fetch(&srv->open, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&srv->stats.refused_max_per_address, 1, __ATOMIC_RELAXED);
			refuse(l, fd, &addr, 429, "too many connections from this address; close some and try again");
			continue;
		}
		__atomic_add_fetch(&srv->stats.accepted, 1, __ATOMIC_RELAXED);
		assign(l, fd, &addr);
	}
}

/* Connections past their deadline: a request still arriving gets 408; an idle keep-alive
 * connection, a lingering one, or a response the client does not take is closed. */
static void sweep(struct loop *l)
{
	uint64_t now = now_ms();
	struct conn *c = l->conns, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		if (c->state == C_WORK || c->deadline_ms > now)
			continue;
		if (c->state == C_READ && c->in.len > 0) {
			tl_error_set(TL_E_INPUT, "the request was not received within %u ms",
				l->srv->opts.request_timeout_ms);
			answer_status(c, 408);
		} else if (c->tls != NULL && !c->handshaken) {
			tls_fail(c);
		} else {
			conn_close(c);
		}
	}
}

static void take_finished(struct loop *l)
{
	struct conn *c, *next;
	bd_httpd_stream *s, *snext;
	struct handoff *h, *hnext;
	uint64_t n;

	if (read(l->evfd, &n, sizeof(n)) < 0) {
		/* EAGAIN: another wake-up already drained it */
	}
	pthread_mutex_lock(&l->done_mu);
	c = l->done;
	l->done = NULL;
	s = l->woken;
	l->woken = NULL;
	h = l->handed;
	l->handed = NULL;
	pthread_mutex_unlock(&l->done_mu);
	for (; h != NULL; h = hnext) {
		hnext = h->next;
		conn_new(l, h->fd, &h->addr, true);
		free(h);
	}
	for (; c != NULL; c = next) {
		next = c->queue_next;
		if (conn_respond(c, c->fr.keep_alive))
			conn_serve(c);
	}
	for (; s != NULL; s = snext) {
		snext = s->next;
		pthread_mutex_lock(&s->mu);
		s->queued = false;
		c = s->conn;
		pthread_mutex_unlock(&s->mu);
		/* s->conn is cleared by conn_close, on this thread: c is alive if set. */
		if (c != NULL && c->state == C_WRITE && c->paused) {
			/* What it now has to send, the client must take within the write timeout. */
			c->paused = false;
			c->deadline_ms = now_ms() + l->srv->opts.write_timeout_ms;
			if (conn_write(c))
				conn_serve(c);
		}
		bd_httpd__stream_unref(s);
	}
}

static void on_event(struct conn *c, uint32_t events)
{
	switch (c->state) {
	case C_READ:
		conn_read(c);
		return;
	case C_WRITE:
		if (events & (EPOLLHUP | EPOLLERR) || (c->paused && (events & EPOLLRDHUP))) {
			conn_close(c);
			return;
		}
		if (((events & EPOLLOUT) || (c->tls_want_read && (events & EPOLLIN))) && conn_write(c))
			conn_serve(c);
		return;
	case C_LINGER:
		conn_drain(c);
		return;
	case C_WORK:
		return;
	}
}

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	struct epoll_event evs[MAX_EVENTS];
	uint64_t last_sweep = now_ms();

	while (!__atomic_load_n(&l->srv->stopping, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(l->epfd, evs, MAX_EVENTS, SWEEP_MS);

		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == (void *)&listen_marker)
				accept_all(l);
			else if (p == (void *)&event_marker)
				take_finished(l);
			else
				on_event(p, evs[i].events);
		}
		if (now_ms() - last_sweep >= SWEEP_MS) {
			sweep(l);
			last_sweep = now_ms();
		}
	}
	return NULL;
}

static void *worker_main(void *arg)
{
	bd_httpd *srv = arg;

	for (;;) {
		struct conn *c;
		struct loop *l;
		uint64_t one = 1;

		pthread_mutex_lock(&srv->work_mu);
		while (srv->work_head == NULL && !srv->stopping)
			pthread_cond_wait(&srv->work_cv, &srv->work_mu);
		c = srv->work_head;
		/* Stopping: requests still queued are not started; their connections close. */
		if (c == NULL || srv->stopping) {
			pthread_mutex_unlock(&srv->work_mu);
			return NULL;
		}
		srv->work_head = c->queue_next;
		if (srv->work_head == NULL)
			srv->work_tail = NULL;
		pthread_mutex_unlock(&srv->work_mu);

		run_handler(c);
		l = c->loop;
		pthread_mutex_lock(&l->done_mu);
		c->queue_next = l->done;
		l->done = c;
		pthread_mutex_unlock(&l->done_mu);
		if (write(l->evfd, &one, sizeof(one)) < 0) {
			/* the counter is saturated: the loop is awake anyway */
		}
	}
}

/* Queues a woken stream on its connection's loop (called by bd_httpd_stream_wake with the
 * stream's lock held, so the connection and its loop are alive). */
static void queue_woken(bd_httpd_stream *s)
{
	struct loop *l = ((struct conn *)s->conn)->loop;
	uint64_t one = 1;
	bool first;

	pthread_mutex_lock(&l->done_mu);
	first = l->woken == NULL;
	s->next = l->woken;
	l->woken = s;
	pthread_mutex_unlock(&l->done_mu);
	/* One wake-up per batch: a list that was not empty has its wake-up on the way (the loop
	 * takes the list whole after reading the eventfd), so waking 10,000 streams at once
	 * costs one system call per loop, not one each. */
	if (first && write(l->evfd, &one, sizeof(one)) < 0) {
		/* saturated: the loop is awake anyway */
	}
}

static int open_listener(bd_httpd *srv)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int one = 1, fd;

	if (inet_pton(AF_INET6, srv->opts.host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)srv->opts.port);
		len = sizeof(struct sockaddr_in6);
	} else if (inet_pton(AF_INET, srv->opts.host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)srv->opts.port);
		len = sizeof(struct sockaddr_in);
	} else {
		return tl_error_set(TL_E_INPUT, "listen address \"%s\" is not a numeric IPv4 or IPv6 address",
			srv->opts.host);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return tl_error_set(TL_E_IO, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 4096) != 0) {
		int e = errno;

		close(fd);
		return tl_error_set(TL_E_IO, "cannot listen on %s:%u: %s", srv->opts.host, srv->opts.port, strerror(e));
	}
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						  ((struct sockaddr_in *)&ss)->sin_port);
	srv->listen_fd = fd;
	return 0;
}

static void apply_defaults(bd_httpd_options *o)
{
	if (o->loops == 0)
		o->loops = 2;
	if (o->workers == 0)
		o->workers = 4;
	if (o->max_connections == 0)
		o->max_connections = 16384;
	if (o->max_per_address == 0)
		o->max_per_address = 256;
	if (o->request_timeout_ms == 0)
		o->request_timeout_ms = 10000;
	if (o->idle_timeout_ms == 0)
		o->idle_timeout_ms = 60000;
	if (o->write_timeout_ms == 0)
		o->write_timeout_ms = 30000;
	if (o->max_body == 0)
		o->max_body = 1u << 20;
}

static int start_loop(struct loop *l, bd_httpd *srv)
{
	struct epoll_event ev;

	l->srv = srv;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&l->done_mu, NULL);
	if (l->epfd < 0 || l->evfd < 0)
		return tl_error_set(TL_E_IO, "epoll: %s", strerror(errno));
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = (void *)&listen_marker };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, srv->listen_fd, &ev) != 0)
		return tl_error_set(TL_E_IO, "epoll_ctl: %s", strerror(errno));
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = (void *)&event_marker };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->evfd, &ev) != 0)
		return tl_error_set(TL_E_IO, "epoll_ctl: %s", strerror(errno));
	if (pthread_create(&l->thread, NULL, loop_main, l) != 0)
		return tl_error_set(TL_E_IO, "cannot start an event loop thread");
	return 0;
}

int bd_httpd_start(bd_httpd **out, const bd_httpd_options *opts)
{
	bd_httpd *srv = calloc(1, sizeof(*srv));
	int err;

	assert(opts != NULL && opts->handler != NULL && opts->host != NULL);
	if (srv == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	srv->opts = *opts;
	apply_defaults(&srv->opts);
	srv->listen_fd = -1;
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pthread_mutex_init(&srv->work_mu, NULL);
	pthread_cond_init(&srv->work_cv, NULL);
	if ((opts->tls_cert != NULL) != (opts->tls_key != NULL) || (opts->tls_client_ca && !opts->tls_cert)) {
		err = tl_error_set(TL_E_INPUT, "TLS needs both a certificate and its key");
		goto out;
	}
	if (opts->tls_cert != NULL &&
	    (err = bd_httpd__tls_new(&srv->tls, opts->tls_cert, opts->tls_key, opts->tls_client_ca)) != 0)
		goto out;
	if ((err = bd_httpd__addrs_new(&srv->addrs)) != 0 || (err = open_listener(srv)) != 0)
		goto out;
	srv->loops = calloc(srv->opts.loops, sizeof(*srv->loops));
	srv->workers = calloc(srv->opts.workers, sizeof(*srv->workers));
	if (srv->loops == NULL || srv->workers == NULL) {
		err = tl_error_set(TL_E_NOMEM, "out of memory");
		goto out;
	}
	for (; srv->nworkers < srv->opts.workers; srv->nworkers++) {
		if (pthread_create(&srv->workers[srv->nworkers], NULL, worker_main, srv) != 0) {
			err = tl_error_set(TL_E_IO, "cannot start a worker thread");
			goto out;
		}
	}
	/* Atomic: the loops already started read nloops when they hand connections over. */
	for (; srv->nloops < srv->opts.loops; __atomic_add_fetch(&srv->nloops, 1, __ATOMIC_RELEASE)) {
		if ((err = start_loop(&srv->loops[srv->nloops], srv)) != 0) {
			if (srv->loops[srv->nloops].epfd >= 0)
				close(srv->loops[srv->nloops].epfd);
			if (srv->loops[srv->nloops].evfd >= 0)
				close(srv->loops[srv->nloops].evfd);
			pthread_mutex_destroy(&srv->loops[srv->nloops].done_mu);
			goto out;
		}
	}
	*out = srv;
	return 0;
out:
	bd_httpd_stop(srv);
	return err;
}

unsigned bd_httpd_port(const bd_httpd *srv)
{
	return srv->port;
}

unsigned bd_httpd_connections(const bd_httpd *srv)
{
	return __atomic_load_n(&srv->open, __ATOMIC_RELAXED);
}

uint64_t bd_httpd_tls_failures(const bd_httpd *srv)
{
	return __atomic_load_n(&srv->tls_failures, __ATOMIC_RELAXED);
}

void bd_httpd_stats_get(bd_httpd_stats *out, const bd_httpd *srv)
{
	out->accepted = __atomic_load_n(&srv->stats.accepted, __ATOMIC_RELAXED);
	out->refused_max_connections = __atomic_load_n(&srv->stats.refused_max_connections, __ATOMIC_RELAXED);
	out->refused_max_per_address = __atomic_load_n(&srv->stats.refused_max_per_address, __ATOMIC_RELAXED);
	out->shed_no_descriptors = __atomic_load_n(&srv->stats.shed_no_descriptors, __ATOMIC_RELAXED);
	out->loop_connections_min = UINT64_MAX;
	out->loop_connections_max = 0;
	for (unsigned i = 0, n = __atomic_load_n(&srv->nloops, __ATOMIC_ACQUIRE); i < n; i++) {
		uint64_t c = __atomic_load_n(&srv->loops[i].assigned, __ATOMIC_RELAXED);

		out->loop_connections_min = c < out->loop_connections_min ? c : out->loop_connections_min;
		out->loop_connections_max = c > out->loop_connections_max ? c : out->loop_connections_max;
	}
	if (out->loop_connections_min == UINT64_MAX)
		out->loop_connections_min = 0;
}

void bd_httpd_stop(bd_httpd *srv)
{
	if (srv == NULL)
		return;
	pthread_mutex_lock(&srv->work_mu);
	__atomic_store_n(&srv->stopping, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&srv->work_cv);
	pthread_mutex_unlock(&srv->work_mu);
	/* Workers finish the handler they run; queued requests are dropped with their connection. */
	for (unsigned i = 0; i < srv->nworkers; i++)
		pthread_join(srv->workers[i], NULL);
	for (unsigned i = 0; i < srv->nloops; i++) {
		uint64_t one = 1;

		if (write(srv->loops[i].evfd, &one, sizeof(one)) < 0) {
			/* saturated: it wakes anyway */
		}
		pthread_join(srv->loops[i].thread, NULL);
	}
	for (unsigned i = 0; i < srv->nloops; i++) {
		struct loop *l = &srv->loops[i];

		while (l->conns != NULL)
			conn_close(l->conns);
		while (l->handed != NULL) {
			struct handoff *h = l->handed;

			l->handed = h->next;
			bd_httpd__addrs_give(srv->addrs, &h->addr);
			close(h->fd);
			free(h);
		}
		while (l->woken != NULL) {
			bd_httpd_stream *s = l->woken;

			l->woken = s->next;
			bd_httpd__stream_unref(s);
		}
		close(l->epfd);
		close(l->evfd);
		pthread_mutex_destroy(&l->done_mu);
	}
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->spare_fd >= 0)
		close(srv->spare_fd);
	bd_httpd__addrs_free(srv->addrs);
	bd_httpd__tls_free(srv->tls);
	pthread_mutex_destroy(&srv->work_mu);
	pthread_cond_destroy(&srv->work_cv);
	free(srv->loops);
	free(srv->workers);
	free(srv);
}
