#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct worker {
	struct ev_loop *loop;
	ev_async wake;
	worker_fn work, done;
	void *ctx;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t has_job, idle;
	/* One ring of capacity jobs: [head, worked) worked, waiting for
	 * done(); [worked, tail) to work. Counts only grow. */
	void **ring;
	size_t cap;
	size_t head, worked, tail;
	bool stop;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	void *job;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->worked == w->tail && !w->stop)
			pthread_cond_wait(&w->has_job, &w->mu);
		if (w->worked == w->tail)
			break;
		job = w->ring[w->worked % w->cap];
		pthread_mutex_unlock(&w->mu);
		w->work(job, w->ctx);
		pthread_mutex_lock(&w->mu);
		w->worked++;
		if (w->worked == w->tail)
			pthread_cond_broadcast(&w->idle);
		ev_async_send(w->loop, &w->wake);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* On the loop: done() for every job worked so far, in order. */
static void worker_finish(struct worker *w)
{
	void *job;

	pthread_mutex_lock(&w->mu);
	while (w->head < w->worked) {
		job = w->ring[w->head % w->cap];
		w->head++;
		pthread_mutex_unlock(&w->mu);
		w->done(job, w->ctx);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
}

static void worker_wake_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	(void)loop;
	(void)revents;
	worker_finish(a->data);
}

int worker_new(struct ev_loop *loop, size_t capacity, worker_fn work, worker_fn done,
		    void *ctx, struct worker **out)
{
	struct worker *w;
	int e;

	*out = NULL;
	if (!capacity)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->ring = calloc(capacity, sizeof(*w->ring));
	if (!w->ring) {
		free(w);
		return -ENOMEM;
	}
	w->loop = loop;
	w->cap = capacity;
	w->work = work;
	w->done = done;
	w->ctx = ctx;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->has_job, NULL);
	pthread_cond_init(&w->idle, NULL);
	ev_async_init(&w->wake, worker_wake_cb);
	w->wake.data = w;
	ev_async_start(loop, &w->wake);
	ev_unref(loop);   /* the worker alone keeps no loop running */
	e = pthread_create(&w->thread, NULL, worker_main, w);
	if (e) {
		ev_ref(loop);
		ev_async_stop(loop, &w->wake);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->has_job);
		pthread_cond_destroy(&w->idle);
		free(w->ring);
		free(w);
		return -e;
	}
	*out = w;
	return 0;
}

int worker_submit(struct worker *w, void *job)
{
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	if (w->tail - w->head == w->cap) {
		rc = -EAGAIN;
	} else {
		w->ring[w->tail % w->cap] = job;
		w->tail++;
		pthread_cond_signal(&w->has_job);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void worker_drain(struct worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	while (w->worked != w->tail)
		pthread_cond_wait(&w->idle, &w->mu);
	pthread_mutex_unlock(&w->mu);
	worker_finish(w);
}

size_t worker_queued(const struct worker *w)
{
	size_t n;

	if (!w)
		return 0;
	pthread_mutex_lock((pthread_mutex_t *)&w->mu);
	n = w->tail - w->head;
	pthread_mutex_unlock((pthread_mutex_t *)&w->mu);
	return n;
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	worker_drain(w);
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->has_job);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	ev_ref(w->loop);
	ev_async_stop(w->loop, &w->wake);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->has_job);
	pthread_cond_destroy(&w->idle);
	free(w->ring);
	free(w);
}
