/* deliver_lanes: per-student FIFO lanes, the ordering half of delivery.
 *
 * Items are pushed under a key (the student). Only the head of a lane can be
 * taken, and while it is taken (in flight, or waiting to retry) the lane is
 * busy: its later items wait. Lanes whose head can go sit in a FIFO ready
 * queue, so students are served in turn and one student's failures never
 * hold up another. Items are embedded in the caller's structures; the lanes
 * own only their lane records. */
#ifndef JCW_DELIVER_LANES_H
#define JCW_DELIVER_LANES_H

#include <stddef.h>

struct deliver_lane;

struct deliver_lanes_item {
	struct deliver_lanes_item *next;   /* in its lane */
	struct deliver_lane *lane;
};

struct deliver_lanes {
	struct deliver_lane **buckets;
	size_t nbuckets;
	size_t nlanes;                     /* lane records alive */
	struct deliver_lane *ready_head, *ready_tail;
};

int deliver_lanes_init(struct deliver_lanes *l);   /* 0 or -ENOMEM */
/* Frees the lane records; items still pushed are the caller's to free. */
void deliver_lanes_fini(struct deliver_lanes *l);

/* Appends it to the lane of key (NULL = ""). 0 or -ENOMEM. */
int deliver_lanes_push(struct deliver_lanes *l, const char *key,
		       struct deliver_lanes_item *it);
/* The head of the next ready lane, which becomes busy; NULL if none. */
struct deliver_lanes_item *deliver_lanes_take(struct deliver_lanes *l);
/* A taken head goes back to waiting, still first in its lane (a retry). */
void deliver_lanes_requeue(struct deliver_lanes *l, struct deliver_lanes_item *it);
/* A taken head is finished: it leaves its lane and the next item may go. */
void deliver_lanes_done(struct deliver_lanes *l, struct deliver_lanes_item *it);

#endif
