#include "groupshare.h"

#include <errno.h>
#include <stdlib.h>

#include "hash.h"

int groupshare_init(struct groupshare *s, size_t max_groups, void *link_base, size_t stride)
{
	if (max_groups == 0)
		max_groups = 1;
	s->base = link_base;
	s->stride = stride;
	s->g = calloc(max_groups, sizeof(*s->g));
	if (!s->g || slotmap_init(&s->groups, max_groups)) {
		groupshare_free(s);
		return -ENOMEM;
	}
	return 0;
}

size_t groupshare_memory(const struct groupshare *s)
{
	return s->g ? s->groups.cap * sizeof(*s->g) + slotmap_memory(&s->groups) : 0;
}

void groupshare_free(struct groupshare *s)
{
	free(s->g);
	s->g = NULL;
	slotmap_free(&s->groups);
}

uint32_t groupshare_find(const struct groupshare *s, uint64_t key)
{
	uint32_t gi;

	for (gi = slotmap_first(&s->groups, hash_mix64(key)); gi != SLOTMAP_NIL;
	     gi = slotmap_next(&s->groups, gi))
		if (s->g[gi].key == key)
			return gi;
	return ILIST_NIL;
}

uint32_t groupshare_add(struct groupshare *s, uint64_t key, uint32_t i, size_t bytes)
{
	uint32_t gi = groupshare_find(s, key);
	struct groupshare_group *g;

	if (gi == ILIST_NIL) {
		gi = slotmap_add(&s->groups, hash_mix64(key));
		g = &s->g[gi];
		g->key = key;
		g->bytes = 0;
		g->count = 0;
		g->members = (struct ilist)ILIST_INIT;
	}
	g = &s->g[gi];
	ilist_append(&g->members, s->base, s->stride, i);
	g->bytes += bytes;
	g->count++;
	return gi;
}

void groupshare_remove(struct groupshare *s, uint32_t gi, uint32_t i, size_t bytes)
{
	struct groupshare_group *g = &s->g[gi];

	ilist_remove(&g->members, s->base, s->stride, i);
	g->bytes -= bytes;
	if (--g->count == 0)
		slotmap_del(&s->groups, gi);
}
