#include "snap_debounce.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

/* A binary min-heap on (deadline, order) for next and pop, and an
 * open-addressing index from key to heap position for add: every
 * operation is O(log n), so a flood of distinct files costs each save a
 * hash and a few swaps, not a scan of everything waiting. */
struct snap_debounce_entry {
	char *key;
	uint64_t hash;
	uint64_t first;      /* time of the burst's first event */
	uint64_t deadline;
	uint64_t order;      /* creation order: ties go to the older entry */
	size_t slot;         /* its place in the index */
	void *data;
};

struct snap_debounce {
	struct snap_debounce_config cfg;
	struct snap_debounce_entry *e;   /* the heap, n entries */
	size_t n;
	size_t *index;                   /* heap position + 1, 0: free */
	size_t mask;                     /* index size - 1, a power of two >= 2 * max_pending */
	uint64_t created;
};

int snap_debounce_new(const struct snap_debounce_config *cfg, struct snap_debounce **out)
{
	struct snap_debounce *d;
	size_t size = 2;

	if (!cfg->max_pending || cfg->max_pending > SIZE_MAX / 4)
		return -EINVAL;
	while (size < 2 * cfg->max_pending)
		size <<= 1;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cfg = *cfg;
	d->e = calloc(cfg->max_pending, sizeof(*d->e));
	d->index = calloc(size, sizeof(*d->index));
	if (!d->e || !d->index) {
		free(d->e);
		free(d->index);
		free(d);
		return -ENOMEM;
	}
	d->mask = size - 1;
	*out = d;
	return 0;
}

void snap_debounce_free(struct snap_debounce *d, void (*free_data)(void *))
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		if (free_data)
			free_data(d->e[i].data);
		free(d->e[i].key);
	}
	free(d->e);
	free(d->index);
	free(d);
}

/* a + b without wrapping past SNAP_DEBOUNCE_NONE - 1. */
static uint64_t snap_debounce_sum(uint64_t a, uint64_t b)
{
	return a > SNAP_DEBOUNCE_NONE - 1 - b ? SNAP_DEBOUNCE_NONE - 1 : a + b;
}

static uint64_t snap_debounce_deadline(const struct snap_debounce *d, uint64_t first,
				       uint64_t now)
{
	uint64_t quiet = snap_debounce_sum(now, d->cfg.window_ns);
	uint64_t cap = snap_debounce_sum(first, d->cfg.max_wait_ns);

	return quiet < cap ? quiet : cap;
}

/* --- the heap ---------------------------------------------------------------- */

static bool snap_debounce_before(const struct snap_debounce_entry *a,
				 const struct snap_debounce_entry *b)
{
	return a->deadline < b->deadline || (a->deadline == b->deadline && a->order < b->order);
}

/* Puts entry *x at heap position i and tells the index. */
static void snap_debounce_place(struct snap_debounce *d, size_t i, const struct snap_debounce_entry *x)
{
	d->e[i] = *x;
	d->index[d->e[i].slot] = i + 1;
}

static void snap_debounce_up(struct snap_debounce *d, size_t i)
{
	struct snap_debounce_entry x = d->e[i];

	while (i > 0 && snap_debounce_before(&x, &d->e[(i - 1) / 2])) {
		snap_debounce_place(d, i, &d->e[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	snap_debounce_place(d, i, &x);
}

static void snap_debounce_down(struct snap_debounce *d, size_t i)
{
	struct snap_debounce_entry x = d->e[i];
	size_t c;

	while ((c = 2 * i + 1) < d->n) {
		if (c + 1 < d->n && snap_debounce_before(&d->e[c + 1], &d->e[c]))
			c++;
		if (!snap_debounce_before(&d->e[c], &x))
			break;
		snap_debounce_place(d, i, &d->e[c]);
		i = c;
	}
	snap_debounce_place(d, i, &x);
}

/* --- the index (linear probing, backward-shift deletion) ---------------------- */

/* The slot holding key, or the free slot where it would go. */
static size_t snap_debounce_find(const struct snap_debounce *d, const char *key, uint64_t h)
{
	size_t s = (size_t)h & d->mask;

	while (d->index[s]) {
		const struct snap_debounce_entry *e = &d->e[d->index[s] - 1];

		if (e->hash == h && strcmp(e->key, key) == 0)
			break;
		s = (s + 1) & d->mask;
	}
	return s;
}

static void snap_debounce_unindex(struct snap_debounce *d, size_t s)
{
	size_t next = s, home;

	d->index[s] = 0;
	for (;;) {
		next = (next + 1) & d->mask;
		if (!d->index[next])
			return;
		home = (size_t)d->e[d->index[next] - 1].hash & d->mask;
		/* Moves back only entries whose home is not in (s, next]. */
		if (((next - home) & d->mask) >= ((next - s) & d->mask)) {
			d->index[s] = d->index[next];
			d->e[d->index[s] - 1].slot = s;
			d->index[next] = 0;
			s = next;
		}
	}
}

/* --- the interface --------------------------------------------------------------- */

int snap_debounce_add(struct snap_debounce *d, const char *key, uint64_t now, void *data,
		      void **replaced)
{
	uint64_t h = hash_fnv1a(key, strlen(key));
	size_t s = snap_debounce_find(d, key, h), i;
	struct snap_debounce_entry *e;

	if (d->index[s]) {
		i = d->index[s] - 1;
		e = &d->e[i];
		/* An event older than the burst's start (clocks of two CPUs)
		 * does not move the start back. */
		e->deadline = snap_debounce_deadline(d, e->first, now > e->first ? now : e->first);
		*replaced = e->data;
		e->data = data;
		snap_debounce_down(d, i);   /* a deadline only moves later */
		return 1;
	}
	if (d->n == d->cfg.max_pending)
		return -ENOBUFS;
	e = &d->e[d->n];
	e->key = strdup(key);
	if (!e->key)
		return -ENOMEM;
	e->hash = h;
	e->first = now;
	e->deadline = snap_debounce_deadline(d, now, now);
	e->order = d->created++;
	e->data = data;
	e->slot = s;
	d->index[s] = d->n + 1;
	d->n++;
	snap_debounce_up(d, d->n - 1);
	return 0;
}

uint64_t snap_debounce_next(const struct snap_debounce *d)
{
	return d->n ? d->e[0].deadline : SNAP_DEBOUNCE_NONE;
}

void *snap_debounce_pop(struct snap_debounce *d, uint64_t now, uint64_t *deadline)
{
	void *data;

	if (!d->n || (now != SNAP_DEBOUNCE_NONE && d->e[0].deadline > now))
		return NULL;
	data = d->e[0].data;
	if (deadline)
		*deadline = d->e[0].deadline;
	free(d->e[0].key);
	snap_debounce_unindex(d, d->e[0].slot);
	if (--d->n) {
		snap_debounce_place(d, 0, &d->e[d->n]);
		snap_debounce_down(d, 0);
	}
	return data;
}

size_t snap_debounce_pending(const struct snap_debounce *d)
{
	return d->n;
}

void snap_debounce_each(const struct snap_debounce *d, void (*fn)(void *ctx, void *data), void *ctx)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		fn(ctx, d->e[i].data);
}

size_t snap_debounce_memory(const struct snap_debounce *d)
{
	size_t i, n = sizeof(*d) + d->cfg.max_pending * sizeof(*d->e) + (d->mask + 1) * sizeof(*d->index);

	for (i = 0; i < d->n; i++)
		n += strlen(d->e[i].key) + 1;
	return n;
}
