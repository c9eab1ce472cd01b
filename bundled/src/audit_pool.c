/*
 * The auditor's worker pool: runs fn(ctx, i) for every i of a job on a few threads and the
 * caller's, and returns when all have returned (see audit_internal.h). Items are claimed one
 * at a time under the lock: a job is an entry bundle (at most 256 items of ~100 µs each,
 * Ed25519 verification), so the lock is never the cost.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "audit_internal.h"

struct audit_pool {
	pthread_mutex_t mu;
	pthread_cond_t work; /* a new job, or stop */
	pthread_cond_t done; /* the job's last item returned */
	pthread_t threads[AUDIT_POOL_MAX_THREADS];
	size_t n_threads;
	void (*fn)(void *ctx, size_t i);
	void *ctx;
	size_t n, next, finished;
	uint64_t job; /* counts jobs, so a worker takes each once */
	bool stop;
};

/* Claims and runs items of the current job until none is left; called with the lock held. */
static void drain(struct audit_pool *p)
{
	while (p->next < p->n) {
		size_t i = p->next++;

		pthread_mutex_unlock(&p->mu);
		p->fn(p->ctx, i);
		pthread_mutex_lock(&p->mu);
		if (++p->finished == p->n)
			pthread_cond_signal(&p->done);
	}
}

static void *worker(void *arg)
{
	struct audit_pool *p = arg;
	uint64_t seen = 0;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->job == seen)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		seen = p->job;
		drain(p);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int audit_pool_start(struct audit_pool **out, unsigned threads)
{
	struct audit_pool *p = calloc(1, sizeof(*p));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	*out = NULL;
	if (p == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory");
	if (threads == 0)
		threads = cpus > 0 ? (unsigned)cpus : 1;
	if (threads > AUDIT_POOL_MAX_THREADS)
		threads = AUDIT_POOL_MAX_THREADS;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	/* The caller's thread is one of them. */
	for (; p->n_threads + 1 < threads; p->n_threads++)
		if (pthread_create(&p->threads[p->n_threads], NULL, worker, p) != 0)
			break; /* fewer threads is slower, not wrong */
	*out = p;
	return 0;
}

void audit_pool_run(struct audit_pool *p, void (*fn)(void *ctx, size_t i), void *ctx, size_t n)
{
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->ctx = ctx;
	p->n = n;
	p->next = 0;
	p->finished = 0;
	p->job++;
	if (p->n_threads != 0 && n > 1)
		pthread_cond_broadcast(&p->work);
	drain(p);
	while (p->finished < p->n)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void audit_pool_stop(struct audit_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
