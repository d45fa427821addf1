/* worker: disk work on a thread of its own, so that input, joins and
 * delivery never wait for the disk: the snapshots' reads, writes, fsyncs
 * and renames (snapshot/), the outbox's group commits (outbox/). The loop
 * submits jobs; the thread runs work() on each, in order; the loop then
 * runs done() on each, in the same order (an ev_async wakes it). The
 * queue is bounded: a full one refuses the job and the caller keeps it for
 * later. work() must touch nothing the loop touches while the job runs: it
 * gets the job and what the worker owns (snapshots.c gives it the store,
 * the read configuration and the read buffer; the outbox its database).
 * The thread exists before the seccomp filter is installed, which covers
 * every thread (common/sandbox.h). */
#ifndef JCW_WORKER_H
#define JCW_WORKER_H

#include <stddef.h>

#include <ev.h>

struct worker;

typedef void (*worker_fn)(void *job, void *ctx);

/* 0, -EINVAL (capacity 0) or -errno (no thread). */
int worker_new(struct ev_loop *loop, size_t capacity, worker_fn work, worker_fn done,
		    void *ctx, struct worker **out);
/* Waits for every job, runs their done(), stops the thread; NULL is fine. */
void worker_free(struct worker *w);

/* 0, or -EAGAIN when capacity jobs are queued or running. */
int worker_submit(struct worker *w, void *job);
/* Waits until every submitted job is worked, then runs their done() here
 * (shutdown, and the tests). */
void worker_drain(struct worker *w);
/* Jobs submitted whose done() has not run yet. */
size_t worker_queued(const struct worker *w);

#endif
