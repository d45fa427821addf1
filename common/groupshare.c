#include "groupshare.h"

#include <errno.h>
#include <stdlib.h>

#include "hash.h"

int groupshare_init(struct groupshare *s, size_t max_groups, void *link_base, size_t stride)
{
	size_t nb = 1, i;

	if (max_groups == 0)
		max_groups = 1;
	while (nb < max_groups * 2)
		nb <<= 1;
	s->g = calloc(max_groups, sizeof(*s->g));
	s->buckets = malloc(nb * sizeof(*s->buckets));
	if (!s->g || !s->buckets) {
		groupshare_free(s);
		return -ENOMEM;
	}
	for (i = 0; i < nb; i++)
		s->buckets[i] = ILIST_NIL;
	for (i = 0; i < max_groups; i++)
		s->g[i].hash_next = i + 1 < max_groups ? (uint32_t)(i + 1) : ILIST_NIL;
	s->mask = (uint32_t)(nb - 1);
	s->free_head = 0;
	s->base = link_base;
	s->stride = stride;
	s->ngroups = max_groups;
	return 0;
}

size_t groupshare_memory(const struct groupshare *s)
{
	return s->g ? s->ngroups * sizeof(*s->g) + ((size_t)s->mask + 1) * sizeof(*s->buckets) : 0;
}

void groupshare_free(struct groupshare *s)
{
	free(s->g);
	free(s->buckets);
	s->g = NULL;
	s->buckets = NULL;
}

static uint32_t *groupshare_link(const struct groupshare *s, uint64_t key)
{
	uint32_t *link = &s->buckets[hash_mix64(key) & s->mask];

	while (*link != ILIST_NIL && s->g[*link].key != key)
		link = &s->g[*link].hash_next;
	return link;
}

uint32_t groupshare_find(const struct groupshare *s, uint64_t key)
{
	return *groupshare_link(s, key);
}

uint32_t groupshare_add(struct groupshare *s, uint64_t key, uint32_t i, size_t bytes)
{
	uint32_t *link = groupshare_link(s, key), gi = *link;
	struct groupshare_group *g;

	if (gi == ILIST_NIL) {
		gi = s->free_head;
		g = &s->g[gi];
		s->free_head = g->hash_next;
		g->key = key;
		g->bytes = 0;
		g->count = 0;
		g->members = (struct ilist)ILIST_INIT;
		g->hash_next = ILIST_NIL;
		*link = gi;
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
	uint32_t *link;

	ilist_remove(&g->members, s->base, s->stride, i);
	g->bytes -= bytes;
	if (--g->count)
		return;
	link = groupshare_link(s, g->key);
	*link = g->hash_next;
	g->hash_next = s->free_head;
	s->free_head = gi;
}
