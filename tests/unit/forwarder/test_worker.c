/* worker: jobs worked on another thread, finished on the caller's in
 * submission order; a bounded queue; drain; the loop woken by the worker. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include <ev.h>

#include "worker.h"

struct ctx {
	pthread_t loop_thread;
	int worked_elsewhere;
	intptr_t order[64];
	int n;
	bool done_on_loop_thread;
};

static void work(void *job, void *arg)
{
	struct ctx *c = arg;

	(void)job;
	if (!pthread_equal(pthread_self(), c->loop_thread))
		__atomic_add_fetch(&c->worked_elsewhere, 1, __ATOMIC_SEQ_CST);
	usleep(1000);   /* a disk */
}

static void done(void *job, void *arg)
{
	struct ctx *c = arg;

	c->order[c->n++] = (intptr_t)job;
	c->done_on_loop_thread = pthread_equal(pthread_self(), c->loop_thread);
}

Test(worker, order_bound_and_drain)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct ctx c = {.loop_thread = pthread_self(), .done_on_loop_thread = false};
	struct worker *w;
	intptr_t i;

	cr_assert_eq(worker_new(loop, 8, work, done, &c, &w), 0);
	for (i = 1; i <= 8; i++)
		cr_assert_eq(worker_submit(w, (void *)i), 0);
	cr_assert_eq(worker_submit(w, (void *)9), -EAGAIN);   /* full until done() */
	cr_assert_eq(worker_queued(w), 8);
	worker_drain(w);
	cr_assert_eq(c.n, 8);
	for (i = 0; i < 8; i++)
		cr_assert_eq(c.order[i], i + 1);
	cr_assert_eq(c.worked_elsewhere, 8);
	cr_assert(c.done_on_loop_thread);
	cr_assert_eq(worker_queued(w), 0);
	worker_free(w);
	ev_loop_destroy(loop);
}

static void stop_when_all(struct ev_loop *loop, ev_check *chk, int revents)
{
	struct ctx *c = chk->data;

	(void)revents;
	if (c->n == 20)
		ev_break(loop, EVBREAK_ALL);
}

static void give_up(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)t;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

Test(worker, the_loop_is_woken_to_finish)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct ctx c = {.loop_thread = pthread_self()};
	struct worker *w;
	ev_check chk;
	ev_timer guard;
	intptr_t i;

	cr_assert_eq(worker_new(loop, 32, work, done, &c, &w), 0);
	for (i = 1; i <= 20; i++)
		cr_assert_eq(worker_submit(w, (void *)i), 0);
	ev_check_init(&chk, stop_when_all);
	chk.data = &c;
	ev_check_start(loop, &chk);
	ev_timer_init(&guard, give_up, 5, 0);
	ev_timer_start(loop, &guard);
	ev_run(loop, 0);
	cr_assert_eq(c.n, 20, "the loop finished %d of 20 jobs", c.n);
	for (i = 0; i < 20; i++)
		cr_assert_eq(c.order[i], i + 1);
	ev_timer_stop(loop, &guard);
	ev_check_stop(loop, &chk);
	worker_free(w);
	ev_loop_destroy(loop);
}
