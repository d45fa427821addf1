/* outbox_flow: the forwarder's delivery guarantee, between input, the join
 * table, delivery and the outbox, on the app's libev loop.
 *
 * - Every sequenced frame handed over by input is "seen"; an Exec is staged
 *   into pending_exec, its join with the Exit removes it, the event the
 *   pipeline made of them is staged into the outbox. A group commit makes
 *   all of that durable in one transaction, on a thread of its own (the
 *   loop never waits for the fsync), and only then are the collector's
 *   frames acknowledged, up to the last seq seen per boot (the app's:
 *   below every frame still waiting in its lanes). The first write staged
 *   waits commit_interval_s (or commit_batch writes), so that events the
 *   API answers meanwhile are never written; with an interval of 0 it is
 *   committed at the end of the loop's turn, with whatever else that turn
 *   read. Under load each commit starts as the one before ends, with all
 *   that was staged meanwhile, so a slower disk makes bigger batches.
 * - Delivery is fed from the outbox's rows, staged ones too (outbox.h),
 *   oldest first, as far as its queue has room; 2xx/409 deletes the row, a final 4xx moves it to
 *   dead_letter, an abandoned request (shutdown) stays for the next start.
 * - Backpressure: while the outbox is at OUTBOX_MAX_BYTES or commits fail
 *   (disk full), can_take() says no: input stops reading, no Acks go out,
 *   and the collector's buffer fills (then its Lost counter). A failed
 *   commit is retried on a timer (doubling from the interval, or 5 ms, to 1 s).
 * - Without a state dir (--print, or STATE_DIR empty) there is no outbox:
 *   frames are acknowledged once processed, at the commits' pace, and
 *   events go straight to delivery as before (nothing survives a crash). */
#ifndef JCW_OUTBOX_FLOW_H
#define JCW_OUTBOX_FLOW_H

/* Staged writes that start a commit at once, whatever the interval. */
#define FLOW_COMMIT_BATCH_DEFAULT 512
/* With the outbox, delivery is fed this many requests per transfer it may
 * have in flight, at most deliver_queue_max: the rest wait in the outbox
 * (its ready list, then the file), not twice in memory. 32 keeps every
 * transfer busy across the per-student lanes at a fraction of the memory
 * of a full queue (docs/performance.md figure 6). */
#define FLOW_FEED_PER_INFLIGHT 32

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "delivery/deliver.h"
#include "input/input.h"
#include "input/join.h"
#include "outbox.h"

struct outbox_flow_config {
	const char *state_dir;      /* NULL or "": no outbox */
	uint64_t max_bytes;         /* OUTBOX_MAX_BYTES */
	double commit_interval_s;   /* group commit period; 0: at the end of the loop's turn */
	size_t commit_batch;        /* commit at once at this many staged writes (0: FLOW_COMMIT_BATCH_DEFAULT) */
	double exec_ttl_s;          /* JOIN_TTL: pending execs older than this go */
	size_t deliver_queue_max;   /* feed delivery up to this many queued */
	size_t deliver_inflight;    /* API_MAX_INFLIGHT: with the outbox, feed at most
				     * FLOW_FEED_PER_INFLIGHT times this (0: no such cap) */
	uint64_t dataset_max_bytes; /* > 0: queue every event for the dataset (outbox.h) */
	struct bootseq *boots;      /* the boots' sequence numbers, input's too (NULL: its own) */
	/* At start, each File frame held when the last run ended
	 * (outbox_flow_hold), to be handed to the snapshots again. */
	void (*restore_file)(void *arg, const char *boot_id, const Jcw__Frame *f);
	void *restore_arg;
};

/* What the flow counts itself (the outbox counts the rest). */
struct outbox_flow_stats {
	uint64_t outcome[DELIVER_OUTCOME_COUNT];   /* outbox events by final outcome */
	uint64_t retries;           /* failed attempts of outbox events */
	uint64_t feed_invalid;      /* stored rows delivery refused (moved to dead_letter) */
	uint64_t backpressure;      /* times input was told to pause */
};

struct outbox_flow;

/* Opens the outbox (if any). 0, or -errno with a message in err. */
int outbox_flow_new(struct ev_loop *loop, const struct outbox_flow_config *cfg,
		    struct outbox_flow **out, char *err, size_t errlen);
/* Wires the flow to the rest (dl may be NULL with --print) and restores
 * the last run's state: boots' sequence numbers into input, pending execs
 * into the join table; then starts feeding delivery. 0 or -errno. */
int outbox_flow_start(struct outbox_flow *fl, struct input *in, struct deliver *dl,
		      struct join_table *join, uint64_t now_ns);

/* A frame input handed over, before the app uses it (an Exec is still
 * whole here); seen: the boot's frames up to that seq are all processed
 * (f->seq, or less while frames before it wait in input's lanes). */
void outbox_flow_frame(struct outbox_flow *fl, const char *boot_id, const Jcw__Frame *f,
		       uint64_t seen);
/* A file action's frame waits in memory for its snapshot (snapshots.h's
 * hold): kept in the outbox until outbox_flow_release(event_id), and
 * handed to restore_file at the next start if the process ends first.
 * Without an outbox nothing is kept. */
void outbox_flow_hold(struct outbox_flow *fl, const char *event_id, const char *boot_id,
		      const Jcw__Frame *f);
void outbox_flow_release(struct outbox_flow *fl, const char *event_id);
/* The exec of (tgid, start) was taken from the join table by its exit. */
void outbox_flow_joined(struct outbox_flow *fl, uint32_t tgid, uint64_t start_ns);
/* An event for delivery: staged in the outbox (req is left to the caller
 * to free), or without an outbox submitted to delivery (deliver_submit's
 * contract: on 0 the request's contents are taken). 0 or -errno. */
int outbox_flow_put(struct outbox_flow *fl, struct api_request *req);
/* The dataset writer has the lines up to id on its disk
 * (outbox_dataset_release, then a commit is scheduled). 0 or -errno. */
int outbox_flow_dataset_release(struct outbox_flow *fl, uint64_t id, uint64_t rows,
				uint64_t bytes);
/* Input may hand over more frames. */
bool outbox_flow_can_take(struct outbox_flow *fl);
/* Delivery's on_result and on_retry. */
void outbox_flow_result(struct outbox_flow *fl, const struct api_request *req,
			enum deliver_outcome outcome, long status);
void outbox_flow_retry(struct outbox_flow *fl, const struct api_request *req,
		       unsigned attempts, double delay_s);
/* Nothing staged, no commit out, and nothing stored that delivery has not
 * been given. */
bool outbox_flow_idle(const struct outbox_flow *fl);
/* Shutdown began: feed delivery no more. */
void outbox_flow_stop(struct outbox_flow *fl);
/* Commits what is staged (at exit). 0 or -errno. */
int outbox_flow_finish(struct outbox_flow *fl);

const struct outbox_flow_stats *outbox_flow_stats(const struct outbox_flow *fl);
/* NULL without an outbox. */
struct outbox *outbox_flow_outbox(const struct outbox_flow *fl);

void outbox_flow_free(struct outbox_flow *fl);

#endif
