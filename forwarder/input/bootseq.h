/* bootseq: what the forwarder knows of each collector boot's frame numbers,
 * in one table that input, the fair queue, the outbox and the flow share
 * (the app makes it; a component given none makes its own, as the unit
 * tests do). A collector numbers the frames of a boot 1, 2, ...; of each
 * boot the table keeps
 *
 *   seen      the highest arrived: input drops a frame at or below it
 *   waiting   frames read ahead, still queued in the fair queue
 *   done      every frame up to it processed (none of them waits)
 *   staged    done, as the outbox's next commit will store it
 *   durable   committed by the outbox (without one: done, at the
 *             commits' pace)
 *   acked     the collector was told it may forget up to it
 *
 * with acked <= durable <= done <= seen (and durable <= staged <= done with
 * an outbox). bootseq_ackable() is the one rule of acknowledgement: only
 * what is durable and waits nowhere.
 *
 * A boot is forgotten, least recently used first, only when nothing of it
 * waits or is staged; one that comes back starts over (at worst its
 * duplicates pass once more, with the same event_ids). Boots loaded from
 * the outbox at start rank below every boot of this process. */
#ifndef JCW_BOOTSEQ_H
#define JCW_BOOTSEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Boots remembered at once (one per collector start: many more is a
 * collector restarting in a loop). */
#define BOOTSEQ_MAX 64

struct bootseq_boot {
	char *id;            /* NULL: a free slot */
	uint64_t seen, done, staged, durable, acked;
	uint32_t waiting;
	double used;         /* the table's LRU clock */
};

struct bootseq;

/* 0 or -ENOMEM. */
int bootseq_new(struct bootseq **out);
void bootseq_free(struct bootseq *t);
/* For a component's config: *t is given, or (given NULL) a table of its
 * own, *own set, to free with bootseq_release. 0 or -ENOMEM. */
int bootseq_use(struct bootseq *given, struct bootseq **t, bool *own);
void bootseq_release(struct bootseq *t, bool own);

/* The boot of id, now the most recently used; made when missing (*created
 * set, when created is not NULL). NULL when every slot holds a boot with
 * something waiting or staged, or without memory. */
struct bootseq_boot *bootseq_get(struct bootseq *t, const char *id, bool *created);
/* The boot of id, or NULL; the order is left as it is. */
struct bootseq_boot *bootseq_find(const struct bootseq *t, const char *id);
/* A boot stored by the outbox: every frame up to seq durable, acknowledged
 * again when its collector says Hello. updated_unix orders loaded boots
 * among themselves. NULL as bootseq_get. */
struct bootseq_boot *bootseq_load(struct bootseq *t, const char *id, uint64_t seq,
				  double updated_unix);

/* Slot i (0 <= i < BOOTSEQ_MAX), free or not, and the slot of a boot: for
 * who scans the table or keeps a boot in a byte. */
struct bootseq_boot *bootseq_at(struct bootseq *t, unsigned i);
unsigned bootseq_slot(const struct bootseq *t, const struct bootseq_boot *b);

static inline void bootseq_seen(struct bootseq_boot *b, uint64_t seq)
{
	if (seq > b->seen)
		b->seen = seq;
}

/* Every frame up to seq is processed (never goes back). */
static inline void bootseq_done(struct bootseq_boot *b, uint64_t seq)
{
	bootseq_seen(b, seq);
	if (seq > b->done)
		b->done = seq;
}

/* What may be acknowledged now beyond what was: 0 when nothing. */
static inline uint64_t bootseq_ackable(const struct bootseq_boot *b)
{
	uint64_t x = b->durable < b->done ? b->durable : b->done;

	return x > b->acked ? x : 0;
}

/* Something of the boot waits or is staged: it must not be forgotten. */
static inline bool bootseq_busy(const struct bootseq_boot *b)
{
	return b->waiting || b->staged > b->durable;
}

size_t bootseq_size(const struct bootseq *t);

#endif
