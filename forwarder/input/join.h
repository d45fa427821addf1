/* join: execs waiting for their exits.
 *
 * Keyed by (tgid, start_boottime_ns), which names one process even when its
 * pid is reused. The table owns the decoded Exec frames it holds: the caller
 * hands over the whole Jcw__Frame that frame_decode() returned (no copy), and
 * gets it back from join_take() when the exit arrives, to pass
 * frame->exec to pipeline_process() and then free it with
 * jcw__frame__free_unpacked(frame, NULL).
 *
 * Entries live in a fixed array allocated once (bounded size, no allocation
 * per operation), hashed with open chaining through indices, and threaded on
 * a list in insertion order, so expiry and eviction take the oldest entry
 * first without scanning. All operations are O(1) on average. */
#ifndef JCW_JOIN_H
#define JCW_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "jcw.pb-c.h"

struct join_stats {
	uint64_t replaced;   /* a second exec of the same process (the first freed) */
	uint64_t expired;    /* no exit within the TTL */
	uint64_t evicted;    /* the table was full: the oldest entry was dropped */
};

struct join_table;

/* Room for max_entries execs (at least 1). 0 or -ENOMEM. */
int join_new(size_t max_entries, struct join_table **out);
/* Frees the table and every frame still in it. */
void join_free(struct join_table *t);

/* Stores f, whose body must be an Exec; the table owns it from now on, also
 * on error. now_ns is the caller's clock for expiry (any clock, used
 * consistently). 0, 1 if it replaced an exec of the same process, -EINVAL
 * if f holds no Exec (f is freed). A full table evicts its oldest entry. */
int join_put(struct join_table *t, Jcw__Frame *f, uint64_t now_ns);

/* Removes and returns the exec frame of (tgid, start_boottime_ns), or NULL.
 * The caller owns the frame. */
Jcw__Frame *join_take(struct join_table *t, uint32_t tgid, uint64_t start_boottime_ns);

/* The exec frame of (tgid, start_boottime_ns), left in the table, or NULL. */
const Jcw__Frame *join_peek(const struct join_table *t, uint32_t tgid, uint64_t start_boottime_ns);

/* The newest exec frame of a process with this tgid, left in the table, or
 * NULL: a parent, known from a child's ppid. */
const Jcw__Frame *join_find_tgid(const struct join_table *t, uint32_t tgid);

/* Frees the entries put before now_ns - ttl_ns. Returns how many. */
size_t join_expire(struct join_table *t, uint64_t now_ns, uint64_t ttl_ns);

size_t join_size(const struct join_table *t);
const struct join_stats *join_get_stats(const struct join_table *t);

#endif
