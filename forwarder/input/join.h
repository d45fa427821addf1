/* join: execs waiting for their exits.
 *
 * Keyed by (tgid, start_boottime_ns), which names one process even when its
 * pid is reused. The table takes the decoded Exec frame that frame_decode()
 * returned, keeps it packed (its wire bytes, one allocation) and frees it;
 * join_take() decodes it again when the exit arrives. Packed, because a
 * decoded exec costs an allocation per argument: 4,096 one-byte arguments
 * are ~190 KiB decoded and 12 KiB packed, and a student's hundreds of such
 * long-lived execs must not be able to take the forwarder's memory.
 *
 * Bounded in entries, in bytes, and in bytes per container (its hostname):
 * a container over its share gives up its own oldest exec, a full table
 * its oldest of all; each is counted. Entries live in a fixed array
 * allocated once, hashed with open chaining through indices, and threaded
 * on a list in insertion order (and one per container), so expiry and
 * eviction take the oldest first without scanning. All operations are O(1)
 * on average, plus the packing. */
#ifndef JCW_JOIN_H
#define JCW_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "jcw.pb-c.h"

/* What the table knows of an exec without decoding it. */
#define JOIN_HOST_MAX 64
struct join_exec {
	uint32_t tgid, ppid;
	uint64_t start_ns;
	uint64_t uts_ns_inum;
	uint8_t hostname[JOIN_HOST_MAX];
	size_t hostname_len;      /* a longer hostname keeps its first JOIN_HOST_MAX bytes */
};

struct join_limits {
	size_t max_entries;       /* >= 1 */
	size_t max_bytes;         /* packed bytes of all execs held; >= container_bytes */
	size_t container_bytes;   /* of one container's; >= JOIN_CONTAINER_BYTES_MIN */
};
/* Room for the largest exec the collector sends (its argv and path bounds). */
#define JOIN_CONTAINER_BYTES_MIN (256u << 10)

struct join_stats {
	uint64_t replaced;   /* a second exec of the same process (the first freed) */
	uint64_t expired;    /* no exit within the TTL */
	uint64_t evicted;    /* the table was full (entries or bytes): the oldest entry dropped */
	uint64_t evicted_share;   /* its container held its share of bytes: its oldest dropped */
	uint64_t undecodable;     /* a stored exec that would not pack or decode (no memory) */
};

struct join_table;

/* 0, -EINVAL (limits out of range) or -ENOMEM. */
int join_new(const struct join_limits *lim, struct join_table **out);
/* Frees the table and every exec still in it. */
void join_free(struct join_table *t);

/* Stores f, whose body must be an Exec, and frees it (also on error).
 * now_ns is the caller's clock for expiry (any clock, used consistently).
 * 0, 1 if it replaced an exec of the same process, -EINVAL if f holds no
 * Exec, -ENOMEM. */
int join_put(struct join_table *t, Jcw__Frame *f, uint64_t now_ns);

/* Removes the exec of (tgid, start_boottime_ns) and returns it decoded
 * (the caller frees it with jcw__frame__free_unpacked), or NULL. */
Jcw__Frame *join_take(struct join_table *t, uint32_t tgid, uint64_t start_boottime_ns);

/* The exec of (tgid, start_boottime_ns), left in the table, or NULL:
 * valid until the table next changes. */
const struct join_exec *join_peek(const struct join_table *t, uint32_t tgid,
				  uint64_t start_boottime_ns);
/* The newest exec of a process with this tgid, or NULL: a parent, known
 * from a child's ppid. */
const struct join_exec *join_find_tgid(const struct join_table *t, uint32_t tgid);
/* A copy of the whole exec of an entry join_peek or join_find_tgid gave,
 * decoded (free it with jcw__frame__free_unpacked), or NULL. */
Jcw__Frame *join_decode(struct join_table *t, const struct join_exec *x);

/* Frees the entries put before now_ns - ttl_ns. Returns how many. */
size_t join_expire(struct join_table *t, uint64_t now_ns, uint64_t ttl_ns);

size_t join_size(const struct join_table *t);
size_t join_bytes(const struct join_table *t);   /* packed bytes held */
size_t join_memory(const struct join_table *t);  /* ... and the table's own allocation */
const struct join_stats *join_get_stats(const struct join_table *t);

#endif
