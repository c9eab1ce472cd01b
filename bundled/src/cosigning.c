/*
 * The log's witness policy: one coordinator thread that starts a round per new checkpoint,
 * one thread per witness that asks it, and the served checkpoint behind a lock of its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundled/cosigning.h"
#include "bundled/witness_client.h"
#include "translog/file.h"
#include "translog/follow.h"
#include "translog/note.h"

/* How often the coordinator looks at the log's size: the log has no commit callback, and a
 * size read is a lock and a load. Commits closer together than this share a round, which the
 * witnesses' protocol allows (they cosign whichever checkpoint they are shown). */
#define POLL_MS 20
/* A checkpoint note with its witnesses' lines: the log's note is far below this. */
#define MAX_SERVED (TL_NOTE_MAX_SIZE + BD_COSIGNING_MAX_WITNESSES * 512u)
#define MAX_LINES (64u * 1024)
#define MAX_ERROR 256
#define MAX_PATH 4096

struct witness {
	bd_cosigning *c;
	bd_witness_client *client;
	const tl_verifier *key;
	pthread_t thread;
	bool started;
	pthread_cond_t wake;
	/* Under c->lock. A witness is idle when job == done. */
	uint64_t job, done, missed; /* round numbers: given, answered, closed without its answer */
	bool ok;                    /* the answer of round `done` was a valid cosignature */
	tl_buf job_note;            /* the checkpoint of round `job` */
	tl_buf lines;               /* its cosignature lines of round `done` */
	uint64_t cosigned_size, cosignatures, failures;
};

struct bd_cosigning {
	tl_log *log;
	size_t n, quorum;
	bool hold;
	long timeout_ms;
	unsigned refresh_s;
	void (*report)(void *ctx, const char *witness, const char *message);
	void *report_ctx;
	char state_path[MAX_PATH]; /* "" = the held checkpoint is not kept on disk */
	struct witness w[BD_COSIGNING_MAX_WITNESSES];

	pthread_mutex_t lock;
	pthread_cond_t round_cond; /* the coordinator waits on it: answers, stop */
	bool stop;
	pthread_t coordinator;
	bool coordinator_started;
	uint64_t round;            /* the last round started */
	bd_cosigning_stats stats;  /* under lock */
	tl_buf held;               /* the coordinator's: the newest checkpoint that met the quorum */
	uint64_t held_size;
	bool have_held;

	pthread_mutex_t serve_lock; /* only the served checkpoint: readers never wait on a round */
	tl_buf served;
	uint64_t served_size;
	bool have_served;
};

static void deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool past(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void report(bd_cosigning *c, const struct witness *w, const char *fmt, ...) TL_PRINTF(3, 4);

static void report(bd_cosigning *c, const struct witness *w, const char *fmt, ...)
{
	char message[MAX_ERROR];
	va_list ap;

	if (c->report == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	c->report(c->report_ctx, w != NULL ? tl_verifier_name(w->key) : NULL, message);
}

static int prove(tl_hash *proof, size_t *n, void *ctx, uint64_t old_size, uint64_t size)
{
	return tl_log_prove_consistency(proof, n, ctx, old_size, size);
}

static void *witness_main(void *arg)
{
	struct witness *w = arg;
	bd_cosigning *c = w->c;
	tl_buf note = tl_buf_make(TL_NOTE_MAX_SIZE), lines = tl_buf_make(MAX_LINES), swap;
	char error[MAX_ERROR];
	uint64_t job;
	int err;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->stop && w->job == w->done)
			pthread_cond_wait(&w->wake, &c->lock);
		if (c->stop)
			break;
		job = w->job;
		tl_buf_reset(&note);
		err = tl_buf_append(&note, w->job_note.data, w->job_note.len);
		pthread_mutex_unlock(&c->lock);

		tl_buf_reset(&lines);
		if (err == 0)
			err = bd_witness_client_cosign(&lines, w->client, note.data, note.len, prove, c->log);
		if (err != 0)
			snprintf(error, sizeof(error), "%s", tl_error_message());

		pthread_mutex_lock(&c->lock);
		w->done = job;
		w->ok = err == 0;
		swap = w->lines;
		w->lines = lines;
		lines = swap;
		if (err == 0) {
			w->cosigned_size = bd_witness_client_known_size(w->client);
			w->cosignatures++;
		} else if (w->missed != job) {
			w->failures++; /* a round closed without it counted it already */
		}
		pthread_cond_signal(&c->round_cond);
		if (err != 0) {
			pthread_mutex_unlock(&c->lock);
			report(c, w, "%s", error);
			pthread_mutex_lock(&c->lock);
		}
	}
	pthread_mutex_unlock(&c->lock);
	tl_buf_free(&note);
	tl_buf_free(&lines);
	return NULL;
}

/* Replaces the served checkpoint with `note`. */
static int serve(bd_cosigning *c, const tl_buf *note, uint64_t size)
{
	int err;

	pthread_mutex_lock(&c->serve_lock);
	tl_buf_reset(&c->served);
	err = tl_buf_append(&c->served, note->data, note->len);
	c->have_served = err == 0;
	c->served_size = size;
	pthread_mutex_unlock(&c->serve_lock);
	return err;
}

/* Hands the checkpoint to every idle witness, waits for their answers until the deadline,
 * and decides what to serve; *keep tells whether `got` (the checkpoint with its
 * cosignatures) met the quorum and should be kept on disk. Called and returns with c->lock
 * held. */
static int run_round(bool *keep, bd_cosigning *c, const tl_buf *note, uint64_t size, tl_buf *got)
{
	uint64_t round = ++c->round;
	struct timespec deadline;
	size_t cosigned = 0, pending;
	bool quorum;
	int err;

	for (size_t i = 0; i < c->n; i++) {
		struct witness *w = &c->w[i];

		if (w->job != w->done)
			continue; /* still on an earlier round: it sits this one out */
		tl_buf_reset(&w->job_note);
		if ((err = tl_buf_append(&w->job_note, note->data, note->len)) != 0)
			return err;
		w->job = round;
		pthread_cond_signal(&w->wake);
	}
	deadline_in(&deadline, c->timeout_ms);
	for (;;) {
		pending = 0;
		for (size_t i = 0; i < c->n; i++)
			pending += c->w[i].job == round && c->w[i].done != round;
		if (pending == 0 || c->stop || pthread_cond_timedwait(&c->round_cond, &c->lock, &deadline) == ETIMEDOUT)
			break;
	}
	if (c->stop)
		return 0; /* shutting down: the round decides nothing */

	tl_buf_reset(got);
	if ((err = tl_buf_append(got, note->data, note->len)) != 0)
		return err;
	for (size_t i = 0; i < c->n; i++) {
		struct witness *w = &c->w[i];

		if (w->done == round && w->ok) {
			if ((err = tl_buf_append(got, w->lines.data, w->lines.len)) != 0)
				return err;
			cosigned++;
		} else if (w->done != round) {
			w->failures++;
			w->missed = w->job;
			report(c, w, "no answer within %ld ms for size %" PRIu64 "%s", c->timeout_ms, size,
				w->job == round ? "" : " (still busy with an earlier checkpoint)");
		}
	}
	quorum = cosigned >= c->quorum;
	if (quorum != c->stats.quorum_met || c->stats.rounds == 0)
		report(c, NULL, "size %" PRIu64 ": %zu of %zu witnesses cosigned, quorum %zu %s%s", size, cosigned, c->n,
			c->quorum, quorum ? "met" : "not met",
			quorum ? "" : c->hold && c->have_held ? "; holding the last checkpoint that met it" : "; serving it short of the quorum");
	c->stats.rounds++;
	c->stats.quorum_met = quorum;
	if (quorum) {
		c->stats.cosigned_unix = (uint64_t)time(NULL);
		tl_buf_reset(&c->held);
		if ((err = tl_buf_append(&c->held, got->data, got->len)) != 0)
			return err;
		c->held_size = size;
		c->have_held = true;
		*keep = true;
	}
	if (!quorum && c->hold && c->have_held) {
		if ((err = serve(c, &c->held, c->held_size)) == 0)
			c->stats.served_size = c->held_size;
		return err;
	}
	if ((err = serve(c, got, size)) == 0)
		c->stats.served_size = size;
	return err;
}

static void *coordinator_main(void *arg)
{
	bd_cosigning *c = arg;
	tl_buf note = tl_buf_make(TL_NOTE_MAX_SIZE), got = tl_buf_make(MAX_SERVED);
	struct timespec refresh = { 0 }, wait;
	uint64_t last = 0, size;
	bool first = true, keep;
	int err;

	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		size = tl_log_size(c->log);
		if (!first && size == last && (c->refresh_s == 0 || !past(&refresh))) {
			deadline_in(&wait, POLL_MS);
			pthread_cond_timedwait(&c->round_cond, &c->lock, &wait);
			continue;
		}
		pthread_mutex_unlock(&c->lock);
		tl_buf_reset(&note);
		err = tl_log_head(&size, NULL, &note, c->log);
		pthread_mutex_lock(&c->lock);
		keep = false;
		if (err == 0)
			err = run_round(&keep, c, &note, size, &got);
		if (err != 0)
			report(c, NULL, "round for size %" PRIu64 " failed: %s", size, tl_error_message());
		/* Kept for a restart (a daemon under "hold" then serves it at once), outside the lock
		 * the metrics read: an fsync. Not fatal. */
		if (keep && c->state_path[0] != '\0') {
			pthread_mutex_unlock(&c->lock);
			if (tl_file_replace(c->state_path, got.data, got.len) != 0)
				report(c, NULL, "cannot keep the cosigned checkpoint: %s", tl_error_message());
			pthread_mutex_lock(&c->lock);
		}
		first = false;
		last = size;
		deadline_in(&refresh, (long)c->refresh_s * 1000);
	}
	pthread_mutex_unlock(&c->lock);
	tl_buf_free(&note);
	tl_buf_free(&got);
	return NULL;
}

/* The cosigned checkpoint a run before kept in state_path, if it is still one of this log's
 * with the quorum (the witnesses or the quorum may have changed since; the log cannot have
 * shrunk, but a data directory restored from an older backup could hold a shorter log): it is
 * held, and under "hold" served until a round does better. Anything else is reported and
 * ignored: it is derived state. */
static void load_held(bd_cosigning *c, const tl_verifier *log_key)
{
	const tl_verifier *keys[BD_COSIGNING_MAX_WITNESSES];
	tl_follow_config cfg = { { NULL, NULL }, log_key, keys, c->n, c->quorum };
	tl_buf text = tl_buf_make(MAX_SERVED);
	tl_checkpoint cp;
	tl_hash root;
	int err;

	for (size_t i = 0; i < c->n; i++)
		keys[i] = c->w[i].key;
	if ((err = tl_file_read(&text, c->state_path)) == TL_E_NOTFOUND)
		goto out;
	if (err == 0 && (err = tl_follow_verify_checkpoint(&cp, &cfg, text.data, text.len)) == 0 &&
	    cp.size > tl_log_size(c->log))
		err = tl_error_set(TL_E_CONFLICT, "its size %" PRIu64 " is above the log's", cp.size);
	if (err == 0 && (err = tl_log_root(&root, c->log, cp.size)) == 0 && !tl_hash_equal(&root, &cp.root))
		err = tl_error_set(TL_E_CONFLICT, "its root is not the log's at size %" PRIu64, cp.size);
	if (err != 0) {
		report(c, NULL, "the kept cosigned checkpoint %s is ignored: %s", c->state_path, tl_error_message());
		goto out;
	}
	if (tl_buf_append(&c->held, text.data, text.len) != 0)
		goto out;
	c->held_size = cp.size;
	c->have_held = true;
	if (c->hold && serve(c, &c->held, cp.size) == 0)
		c->stats.served_size = cp.size;
out:
	tl_buf_free(&text);
}

static int check_options(const bd_cosigning_options *o)
{
	if (o->log == NULL || o->n_witnesses == 0 || o->n_witnesses > BD_COSIGNING_MAX_WITNESSES)
		return tl_error_set(TL_E_INPUT, "a witness policy needs the log and 1 to %d witnesses",
			BD_COSIGNING_MAX_WITNESSES);
	if (o->quorum == 0 || o->quorum > o->n_witnesses)
		return tl_error_set(TL_E_INPUT, "witness quorum %zu is not from 1 to the %zu witnesses", o->quorum,
			o->n_witnesses);
	if (o->timeout_ms <= 0)
		return tl_error_set(TL_E_INPUT, "a witness round needs a deadline");
	if (o->state_path != NULL && (strlen(o->state_path) >= MAX_PATH || o->log_key == NULL))
		return tl_error_set(TL_E_INPUT, "a kept cosigned checkpoint needs a path under %d bytes and the log's key",
			MAX_PATH);
	for (size_t i = 0; i < o->n_witnesses; i++)
		for (size_t j = 0; j < i; j++)
			if (tl_verifier_key_id(o->witnesses[i].key) == tl_verifier_key_id(o->witnesses[j].key) &&
			    strcmp(tl_verifier_name(o->witnesses[i].key), tl_verifier_name(o->witnesses[j].key)) == 0)
				return tl_error_set(TL_E_INPUT, "witness key \"%s\" is given twice: it would count twice "
					"toward the quorum", tl_verifier_name(o->witnesses[i].key));
	return 0;
}

int bd_cosigning_start(bd_cosigning **out, const bd_cosigning_options *o)
{
	bd_cosigning *c;
	pthread_condattr_t attr;
	int err;

	if ((err = check_options(o)) != 0)
		return err;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	c->log = o->log;
	c->n = o->n_witnesses;
	c->quorum = o->quorum;
	c->hold = o->hold;
	c->timeout_ms = o->timeout_ms;
	c->refresh_s = o->refresh_s;
	c->report = o->report;
	c->report_ctx = o->report_ctx;
	c->held = tl_buf_make(MAX_SERVED);
	c->served = tl_buf_make(MAX_SERVED);
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->serve_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->round_cond, &attr);
	for (size_t i = 0; i < c->n; i++) {
		struct witness *w = &c->w[i];
		bd_witness_client_options wo = {
			.url = o->witnesses[i].url,
			.key = o->witnesses[i].key,
			.timeout_ms = o->timeout_ms,
			.connect_timeout_ms = o->timeout_ms,
			.ca_file = o->ca_file,
		};

		w->c = c;
		w->key = o->witnesses[i].key;
		w->job_note = tl_buf_make(TL_NOTE_MAX_SIZE);
		w->lines = tl_buf_make(MAX_LINES);
		pthread_cond_init(&w->wake, NULL);
		if ((err = bd_witness_client_open(&w->client, &wo)) != 0) {
			c->n = i + 1; /* what stop must undo */
			goto fail;
		}
	}
	pthread_condattr_destroy(&attr);
	if (o->state_path != NULL) {
		memcpy(c->state_path, o->state_path, strlen(o->state_path) + 1);
		load_held(c, o->log_key);
	}
	for (size_t i = 0; i < c->n; i++) {
		if (pthread_create(&c->w[i].thread, NULL, witness_main, &c->w[i]) != 0) {
			err = tl_error_set(TL_E_INTERNAL, "cannot start a witness thread");
			goto fail_started;
		}
		c->w[i].started = true;
	}
	if (pthread_create(&c->coordinator, NULL, coordinator_main, c) != 0) {
		err = tl_error_set(TL_E_INTERNAL, "cannot start the witness coordinator");
		goto fail_started;
	}
	c->coordinator_started = true;
	*out = c;
	return 0;
fail:
	pthread_condattr_destroy(&attr);
fail_started:
	bd_cosigning_stop(c);
	return err;
}

void bd_cosigning_stop(bd_cosigning *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_broadcast(&c->round_cond);
	for (size_t i = 0; i < c->n; i++)
		if (c->w[i].started)
			pthread_cond_broadcast(&c->w[i].wake);
	pthread_mutex_unlock(&c->lock);
	if (c->coordinator_started)
		pthread_join(c->coordinator, NULL);
	for (size_t i = 0; i < c->n; i++) {
		struct witness *w = &c->w[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		bd_witness_client_close(w->client);
		pthread_cond_destroy(&w->wake);
		tl_buf_free(&w->job_note);
		tl_buf_free(&w->lines);
	}
	pthread_cond_destroy(&c->round_cond);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->serve_lock);
	tl_buf_free(&c->held);
	tl_buf_free(&c->served);
	free(c);
}

int bd_cosigning_checkpoint(uint64_t *size, tl_buf *note, bd_cosigning *c, tl_log *log, uint64_t min_size)
{
	int err;

	if (c != NULL) {
		pthread_mutex_lock(&c->serve_lock);
		if (c->have_served && c->served_size >= min_size) {
			err = tl_buf_append(note, c->served.data, c->served.len);
			if (size != NULL)
				*size = c->served_size;
			pthread_mutex_unlock(&c->serve_lock);
			return err;
		}
		pthread_mutex_unlock(&c->serve_lock);
	}
	return tl_log_head(size, NULL, note, log);
}

void bd_cosigning_stats_get(bd_cosigning_stats *out, bd_cosigning *c)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	pthread_mutex_unlock(&c->lock);
}

size_t bd_cosigning_witness_count(const bd_cosigning *c)
{
	return c->n;
}

void bd_cosigning_witness_stats_get(bd_cosigning_witness_stats *out, bd_cosigning *c, size_t i)
{
	const struct witness *w = &c->w[i];

	pthread_mutex_lock(&c->lock);
	*out = (bd_cosigning_witness_stats){
		.name = tl_verifier_name(w->key),
		.cosigned_size = w->cosigned_size,
		.cosignatures = w->cosignatures,
		.failures = w->failures,
	};
	pthread_mutex_unlock(&c->lock);
}
