/* slotmap: the bookkeeping every bounded keyed table of the forwarder
 * shares (keytab, groupshare, the join and standard error tables, the
 * lanes). The table's entries live in the caller's own array of capacity
 * slots; the slotmap says which slots are used, finds them by a 64-bit
 * hash (chained in buckets; slots may share a hash, the caller compares
 * its keys), keeps them in an order (slotmap_add appends, slotmap_touch
 * moves to the end: insertion order or least recently used, oldest first,
 * for eviction), and hands out the free ones. O(1) on average; all memory
 * at slotmap_init. */
#ifndef JCW_SLOTMAP_H
#define JCW_SLOTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ilist.h"

#define SLOTMAP_NIL ILIST_NIL
/* The largest capacity (slot numbers and bucket counts stay in 32 bits). */
#define SLOTMAP_MAX (1u << 30)

struct slotmap {
	uint64_t *hash;             /* per slot */
	uint32_t *next;             /* a used slot's bucket chain; the free list */
	struct ilist_link *link;    /* the order of the used slots */
	uint32_t *bucket;
	uint32_t mask, cap, used, free_head;
	struct ilist order;
};

/* 0, -EINVAL (capacity 0 or over SLOTMAP_MAX) or -ENOMEM. */
int slotmap_init(struct slotmap *m, size_t capacity);
void slotmap_free(struct slotmap *m);
/* Bytes it allocated. */
size_t slotmap_memory(const struct slotmap *m);

/* A free slot, now used under hash (well mixed: its low bits pick the
 * bucket) and the newest in the order; SLOTMAP_NIL when all are used. */
uint32_t slotmap_add(struct slotmap *m, uint64_t hash);
/* Slot i (used) is free again. */
void slotmap_del(struct slotmap *m, uint32_t i);
/* Slot i (used) is now found under hash instead; its place in the order
 * stays. */
void slotmap_rehash(struct slotmap *m, uint32_t i, uint64_t hash);
/* Slot i (used) is the newest in the order. */
void slotmap_touch(struct slotmap *m, uint32_t i);

/* The used slots under hash, one after the other:
 *   for (i = slotmap_first(m, h); i != SLOTMAP_NIL; i = slotmap_next(m, i)) */
uint32_t slotmap_first(const struct slotmap *m, uint64_t hash);
uint32_t slotmap_next(const struct slotmap *m, uint32_t i);

/* The oldest used slot in the order, and the one after i (SLOTMAP_NIL at
 * the end): every used slot, oldest first. */
static inline uint32_t slotmap_oldest(const struct slotmap *m)
{
	return m->order.first;
}

static inline uint32_t slotmap_newer(const struct slotmap *m, uint32_t i)
{
	return m->link[i].next;
}

static inline uint32_t slotmap_used(const struct slotmap *m)
{
	return m->used;
}

static inline bool slotmap_full(const struct slotmap *m)
{
	return m->used == m->cap;
}

#endif
