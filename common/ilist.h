/* ilist: a doubly linked list threaded by index through an array, oldest
 * first: the order a bounded table keeps for eviction (least recently
 * used, or insertion order). Each element holds a struct ilist_link; the
 * functions find element i's link at base + i * stride, so one list code
 * serves every table ("&t->e[0].link, sizeof(t->e[0])"). */
#ifndef JCW_ILIST_H
#define JCW_ILIST_H

#include <stddef.h>
#include <stdint.h>

#define ILIST_NIL UINT32_MAX

struct ilist_link {
	uint32_t prev, next;   /* towards first (older) and last (newer) */
};

struct ilist {
	uint32_t first, last;  /* oldest and newest; ILIST_NIL when empty */
};

#define ILIST_INIT {ILIST_NIL, ILIST_NIL}

static inline struct ilist_link *ilist_at(void *base, size_t stride, uint32_t i)
{
	return (struct ilist_link *)((char *)base + (size_t)i * stride);
}

static inline void ilist_remove(struct ilist *l, void *base, size_t stride, uint32_t i)
{
	struct ilist_link *e = ilist_at(base, stride, i);

	if (e->prev != ILIST_NIL)
		ilist_at(base, stride, e->prev)->next = e->next;
	else
		l->first = e->next;
	if (e->next != ILIST_NIL)
		ilist_at(base, stride, e->next)->prev = e->prev;
	else
		l->last = e->prev;
}

/* Makes i the newest. */
static inline void ilist_append(struct ilist *l, void *base, size_t stride, uint32_t i)
{
	struct ilist_link *e = ilist_at(base, stride, i);

	e->prev = l->last;
	e->next = ILIST_NIL;
	if (l->last != ILIST_NIL)
		ilist_at(base, stride, l->last)->next = i;
	else
		l->first = i;
	l->last = i;
}

#endif
