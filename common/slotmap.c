#include "slotmap.h"

#include <errno.h>
#include <stdlib.h>

#define LINKS(m) (m)->link, sizeof(*(m)->link)

int slotmap_init(struct slotmap *m, size_t capacity)
{
	size_t nb = 1, i;

	*m = (struct slotmap){.order = ILIST_INIT};
	if (!capacity || capacity > SLOTMAP_MAX)
		return -EINVAL;
	while (nb < capacity * 2)
		nb <<= 1;
	m->hash = malloc(capacity * sizeof(*m->hash));
	m->next = malloc(capacity * sizeof(*m->next));
	m->link = malloc(capacity * sizeof(*m->link));
	m->bucket = malloc(nb * sizeof(*m->bucket));
	if (!m->hash || !m->next || !m->link || !m->bucket) {
		slotmap_free(m);
		return -ENOMEM;
	}
	for (i = 0; i < nb; i++)
		m->bucket[i] = SLOTMAP_NIL;
	for (i = 0; i < capacity; i++)
		m->next[i] = i + 1 < capacity ? (uint32_t)(i + 1) : SLOTMAP_NIL;
	m->mask = (uint32_t)(nb - 1);
	m->cap = (uint32_t)capacity;
	return 0;
}

void slotmap_free(struct slotmap *m)
{
	free(m->hash);
	free(m->next);
	free(m->link);
	free(m->bucket);
	*m = (struct slotmap){.order = ILIST_INIT};
}

size_t slotmap_memory(const struct slotmap *m)
{
	return m->bucket ? (size_t)m->cap * (sizeof(*m->hash) + sizeof(*m->next) + sizeof(*m->link)) +
				   ((size_t)m->mask + 1) * sizeof(*m->bucket)
			 : 0;
}

/* Takes used slot i out of its bucket's chain. */
static void unchain(struct slotmap *m, uint32_t i)
{
	uint32_t *pp = &m->bucket[(uint32_t)m->hash[i] & m->mask];

	while (*pp != i)
		pp = &m->next[*pp];
	*pp = m->next[i];
}

static void chain(struct slotmap *m, uint32_t i, uint64_t hash)
{
	uint32_t b = (uint32_t)hash & m->mask;

	m->hash[i] = hash;
	m->next[i] = m->bucket[b];
	m->bucket[b] = i;
}

uint32_t slotmap_add(struct slotmap *m, uint64_t hash)
{
	uint32_t i = m->free_head;

	if (m->used == m->cap)
		return SLOTMAP_NIL;
	m->free_head = m->next[i];
	chain(m, i, hash);
	ilist_append(&m->order, LINKS(m), i);
	m->used++;
	return i;
}

void slotmap_rehash(struct slotmap *m, uint32_t i, uint64_t hash)
{
	unchain(m, i);
	chain(m, i, hash);
}

void slotmap_del(struct slotmap *m, uint32_t i)
{
	unchain(m, i);
	ilist_remove(&m->order, LINKS(m), i);
	m->next[i] = m->free_head;
	m->free_head = i;
	m->used--;
}

void slotmap_touch(struct slotmap *m, uint32_t i)
{
	if (m->order.last == i)
		return;
	ilist_remove(&m->order, LINKS(m), i);
	ilist_append(&m->order, LINKS(m), i);
}

static uint32_t same_hash(const struct slotmap *m, uint32_t i, uint64_t hash)
{
	while (i != SLOTMAP_NIL && m->hash[i] != hash)
		i = m->next[i];
	return i;
}

uint32_t slotmap_first(const struct slotmap *m, uint64_t hash)
{
	return same_hash(m, m->bucket[(uint32_t)hash & m->mask], hash);
}

uint32_t slotmap_next(const struct slotmap *m, uint32_t i)
{
	return same_hash(m, m->next[i], m->hash[i]);
}
