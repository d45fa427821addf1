/* fairq: frames read but not yet processed, in one lane per container, so
 * that when the forwarder is behind one student's backlog does not delay
 * the others (docs/design.md "Fair input").
 *
 * Input decodes a frame (cheap) and the app puts it in its container's
 * lane (execs and exits: app_route.c says why only those); it takes frames
 * back round-robin over the lanes, one per lane per turn, for the
 * expensive stages (join, pipeline, outbox). Within a lane the order is the
 * stream's, so an exec always comes before its exit.
 *
 * Bounded: max_frames frames and max_lanes lanes, allocated once, and
 * max_bytes of decoded frames (fairq_frame_bytes: an exec of 4,096 one-byte
 * arguments is ~190 KiB decoded). When the frames or the bytes are all
 * taken the caller stops reading (the collector's backpressure) and
 * processes what it holds at once; when the lanes are, newcomers share one
 * overflow lane.
 *
 * Acknowledgements: a collector may forget a frame only once it and every
 * frame before it is processed. fairq_done() gives, per boot, the last seq
 * of which that holds: the seq before the oldest frame still queued, or
 * the last arrived when nothing of the boot waits. */
#ifndef JCW_FAIRQ_H
#define JCW_FAIRQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bootseq.h"
#include "jcw.pb-c.h"

/* Boots with frames queued at once; more is a collector restarting in a
 * loop, and the frames of a further boot are not queued (fairq_put says
 * -ENOBUFS and the caller processes them at once). */
#define FAIRQ_MAX_BOOTS 8

struct fairq_config {
	size_t max_frames;   /* >= 1 */
	size_t max_lanes;    /* >= 1 (one of them is the overflow lane) */
	size_t max_bytes;    /* >= 1 */
	struct bootseq *boots;   /* whose waiting and done it keeps (NULL: its own) */
};

/* What a decoded field of its own costs the heap: the allocator's
 * header and rounding of a small allocation, and its descriptor. */
#define FAIRQ_FIELD_BYTES 48

/* The memory a decoded frame holds, as the queue counts it. */
size_t fairq_frame_bytes(const Jcw__Frame *f);

struct fairq;

/* 0, -EINVAL or -ENOMEM. */
int fairq_new(const struct fairq_config *cfg, struct fairq **out);
/* Frees the queue and every frame still in it. */
void fairq_free(struct fairq *q);

/* The lane of a container: a hash of its hostname (a collision only makes
 * two containers share a turn). */
uint64_t fairq_lane_of(const void *hostname, size_t len);

/* Queues f (a sequenced frame of boot_id) in lane. The queue owns f on 0;
 * -ENOBUFS (full, or no boot slot) leaves it to the caller. An Exec's
 * (tgid, start) is indexed so its exit finds the lane (fairq_exec_lane). */
int fairq_put(struct fairq *q, uint64_t lane, const char *boot_id, Jcw__Frame *f);
/* The lane of the queued exec of (tgid, start), if it is queued. */
bool fairq_exec_lane(const struct fairq *q, uint32_t tgid, uint64_t start_ns, uint64_t *lane);
/* The next frame round-robin (the caller owns it), with its boot's id
 * (valid until the next call), or NULL when empty. */
Jcw__Frame *fairq_take(struct fairq *q, const char **boot_id);

/* Frame seq of boot_id is processed (taken from the queue, or never
 * queued: a heartbeat). Returns the last seq of that boot up to which every
 * arrived frame is processed, which is also the boot's done in bootseq. */
uint64_t fairq_done(struct fairq *q, const char *boot_id, uint64_t seq);

size_t fairq_len(const struct fairq *q);
size_t fairq_bytes(const struct fairq *q);   /* fairq_frame_bytes of the frames queued */
size_t fairq_memory(const struct fairq *q);  /* ... and the queue's own allocation */
size_t fairq_lanes(const struct fairq *q);   /* lanes with frames */
bool fairq_full(const struct fairq *q);

#endif
