/* snap_worker: the snapshots' disk work (read, write, fsync, rename) on a
 * thread of its own, so that input, joins and delivery never wait for the
 * disk. The loop submits jobs; the thread runs work() on each, in order;
 * the loop then runs done() on each, in the same order (an ev_async wakes
 * it). The queue is bounded: a full one refuses the job and the caller
 * keeps it for later. work() must touch nothing the loop touches: it gets
 * the job and what the worker owns (snapshots.c gives it the store, the
 * read configuration and the read buffer, which only the thread uses).
 * The thread exists before the seccomp filter is installed, which covers
 * every thread (common/sandbox.h). */
#ifndef JCW_SNAP_WORKER_H
#define JCW_SNAP_WORKER_H

#include <stddef.h>

#include <ev.h>

struct snap_worker;

typedef void (*snap_worker_fn)(void *job, void *ctx);

/* 0, -EINVAL (capacity 0) or -errno (no thread). */
int snap_worker_new(struct ev_loop *loop, size_t capacity, snap_worker_fn work, snap_worker_fn done,
		    void *ctx, struct snap_worker **out);
/* Waits for every job, runs their done(), stops the thread; NULL is fine. */
void snap_worker_free(struct snap_worker *w);

/* 0, or -EAGAIN when capacity jobs are queued or running. */
int snap_worker_submit(struct snap_worker *w, void *job);
/* Waits until every submitted job is worked, then runs their done() here
 * (shutdown, and the tests). */
void snap_worker_drain(struct snap_worker *w);
/* Jobs submitted whose done() has not run yet. */
size_t snap_worker_queued(const struct snap_worker *w);

#endif
