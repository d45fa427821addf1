/* errjoin: the standard error of processes still running, waiting for
 * their exits (docs/design.md "Standard error").
 *
 * Keyed like the join table by (tgid, start_boottime_ns). Pieces
 * (jcw.StderrPiece) go into the process's errtext as they come; its exit
 * takes the text, for its own log, or to be handed to the build of its
 * nearest reported ancestor (a compiler's cc1, as, ld). Bounded: at most
 * max_procs entries (the oldest is dropped for a new one) of head_cap +
 * tail_cap bytes each, allocated for a process's first piece, freed with
 * its exit. */
#ifndef JCW_ERRJOIN_H
#define JCW_ERRJOIN_H

#include <stddef.h>
#include <stdint.h>

#include "jcw.pb-c.h"
#include "process/errtext.h"

struct errjoin_stats {
	uint64_t pieces;      /* pieces stored */
	uint64_t unread;      /* bytes the pieces said could not be copied in the kernel */
	uint64_t evicted;     /* texts dropped for room */
	uint64_t evicted_share;   /* texts dropped because their container held its share */
	uint64_t expired;     /* texts of processes whose exit did not come within the TTL */
	uint64_t handed;      /* texts moved to an ancestor's */
};

struct errjoin;

/* Texts of at most max_procs processes, of one container (a group key)
 * at most share (0: no share). 0 or -ENOMEM. */
int errjoin_new(size_t max_procs, size_t share, size_t head_cap, size_t tail_cap,
		struct errjoin **out);
void errjoin_free(struct errjoin *j);

/* Stores a piece (a new entry for a new process of container group: a
 * key the caller gives each container). now_ns: the caller's clock for
 * expiry. */
void errjoin_piece(struct errjoin *j, const Jcw__StderrPiece *p, uint64_t group, uint64_t now_ns);

/* The text of (tgid, start), or NULL: valid until the next call. */
struct errtext *errjoin_find(struct errjoin *j, uint32_t tgid, uint64_t start);
/* Moves the text of (tgid, start) to the end of (to_tgid, to_start)'s,
 * and forgets it: a helper's text given to its build. */
void errjoin_handover(struct errjoin *j, uint32_t tgid, uint64_t start, uint32_t to_tgid,
		      uint64_t to_start);
/* Forgets (tgid, start). */
void errjoin_drop(struct errjoin *j, uint32_t tgid, uint64_t start);

/* Drops the texts made before now_ns - ttl_ns. Returns how many. */
size_t errjoin_expire(struct errjoin *j, uint64_t now_ns, uint64_t ttl_ns);

size_t errjoin_size(const struct errjoin *j);
const struct errjoin_stats *errjoin_stats(const struct errjoin *j);
/* Bytes it holds: its table, and the buffers of the texts in it. */
size_t errjoin_memory(const struct errjoin *j);

#endif
