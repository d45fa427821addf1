/* groupshare: what each group (a container) holds of a bounded table, so
 * that the table can bound a group's share as well as its own size: a
 * count and a byte total per group, and the group's entries in the order
 * they came (oldest first), for the table to evict the group's own oldest
 * when the group is over its share.
 *
 * The table keeps its entries in an array and owns the links: each entry
 * holds a struct ilist_link for its group's list, found at base + i *
 * stride as in ilist.h. Groups live in an array of max_groups (a table of
 * n entries never has more than n groups), found by their 64-bit key
 * through a slotmap, and are freed when their last entry goes. All
 * operations O(1) on average. */
#ifndef JCW_GROUPSHARE_H
#define JCW_GROUPSHARE_H

#include <stddef.h>
#include <stdint.h>

#include "ilist.h"
#include "slotmap.h"

struct groupshare_group {
	uint64_t key;
	size_t bytes;
	uint32_t count;
	struct ilist members;     /* the entries, oldest first */
};

struct groupshare {
	struct groupshare_group *g;   /* by slot of groups */
	struct slotmap groups;
	void *base;               /* the table's entries and where their links are */
	size_t stride;
};

/* Room for max_groups groups (>= 1) of entries whose group link is at
 * link_base + i * stride. 0 or -ENOMEM. */
int groupshare_init(struct groupshare *s, size_t max_groups, void *link_base, size_t stride);
void groupshare_free(struct groupshare *s);
/* Bytes it allocated. */
size_t groupshare_memory(const struct groupshare *s);

/* The group of key, or ILIST_NIL when it holds nothing. */
uint32_t groupshare_find(const struct groupshare *s, uint64_t key);
/* Entry i joins the group of key (made if need be: the caller keeps at
 * most max_groups groups with entries) with bytes. Returns its group. */
uint32_t groupshare_add(struct groupshare *s, uint64_t key, uint32_t i, size_t bytes);
/* Entry i of group gi leaves it with its bytes; the group goes with its
 * last entry. */
void groupshare_remove(struct groupshare *s, uint32_t gi, uint32_t i, size_t bytes);

static inline size_t groupshare_bytes(const struct groupshare *s, uint32_t gi)
{
	return s->g[gi].bytes;
}

static inline uint32_t groupshare_count(const struct groupshare *s, uint32_t gi)
{
	return s->g[gi].count;
}

/* The group's oldest entry. */
static inline uint32_t groupshare_oldest(const struct groupshare *s, uint32_t gi)
{
	return s->g[gi].members.first;
}

#endif
