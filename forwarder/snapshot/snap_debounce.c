#include "snap_debounce.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct snap_debounce_entry {
	char *key;
	uint64_t first;      /* time of the burst's first event */
	uint64_t deadline;
	uint64_t order;      /* creation order: ties go to the older entry */
	void *data;
};

struct snap_debounce {
	struct snap_debounce_config cfg;
	struct snap_debounce_entry *e;
	size_t n;
	uint64_t created;
};

int snap_debounce_new(const struct snap_debounce_config *cfg, struct snap_debounce **out)
{
	struct snap_debounce *d;

	if (!cfg->max_pending)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cfg = *cfg;
	d->e = calloc(cfg->max_pending, sizeof(*d->e));
	if (!d->e) {
		free(d);
		return -ENOMEM;
	}
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

int snap_debounce_add(struct snap_debounce *d, const char *key, uint64_t now, void *data,
		      void **replaced)
{
	struct snap_debounce_entry *e;
	size_t i;

	for (i = 0; i < d->n; i++) {
		e = &d->e[i];
		if (strcmp(e->key, key) != 0)
			continue;
		/* An event older than the burst's start (clocks of two CPUs)
		 * does not move the start back. */
		e->deadline = snap_debounce_deadline(d, e->first, now > e->first ? now : e->first);
		*replaced = e->data;
		e->data = data;
		return 1;
	}
	if (d->n == d->cfg.max_pending)
		return -ENOBUFS;
	e = &d->e[d->n];
	e->key = strdup(key);
	if (!e->key)
		return -ENOMEM;
	e->first = now;
	e->deadline = snap_debounce_deadline(d, now, now);
	e->order = d->created++;
	e->data = data;
	d->n++;
	return 0;
}

static size_t snap_debounce_earliest(const struct snap_debounce *d)
{
	size_t i, best = 0;

	for (i = 1; i < d->n; i++)
		if (d->e[i].deadline < d->e[best].deadline ||
		    (d->e[i].deadline == d->e[best].deadline && d->e[i].order < d->e[best].order))
			best = i;
	return best;
}

uint64_t snap_debounce_next(const struct snap_debounce *d)
{
	return d->n ? d->e[snap_debounce_earliest(d)].deadline : SNAP_DEBOUNCE_NONE;
}

void *snap_debounce_pop(struct snap_debounce *d, uint64_t now, uint64_t *deadline)
{
	size_t i;
	void *data;

	if (!d->n)
		return NULL;
	i = snap_debounce_earliest(d);
	if (now != SNAP_DEBOUNCE_NONE && d->e[i].deadline > now)
		return NULL;
	data = d->e[i].data;
	if (deadline)
		*deadline = d->e[i].deadline;
	free(d->e[i].key);
	d->e[i] = d->e[--d->n];
	return data;
}

size_t snap_debounce_pending(const struct snap_debounce *d)
{
	return d->n;
}
