#include "bootseq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A loaded boot's rank: its last update's unix time shifted below zero,
 * under every use of this process (the clock starts at 1). */
#define BOOTSEQ_LOADED_SHIFT 1e10

struct bootseq {
	struct bootseq_boot b[BOOTSEQ_MAX];
	double clock;
	unsigned last;       /* tried first: frames come boot after boot */
};

int bootseq_new(struct bootseq **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

int bootseq_use(struct bootseq *given, struct bootseq **t, bool *own)
{
	*t = given;
	*own = !given;
	return given ? 0 : bootseq_new(t);
}

void bootseq_release(struct bootseq *t, bool own)
{
	if (own)
		bootseq_free(t);
}

void bootseq_free(struct bootseq *t)
{
	unsigned i;

	if (!t)
		return;
	for (i = 0; i < BOOTSEQ_MAX; i++)
		free(t->b[i].id);
	free(t);
}

static int slot_of(const struct bootseq *t, const char *id)
{
	unsigned i;

	if (t->b[t->last].id && strcmp(t->b[t->last].id, id) == 0)
		return (int)t->last;
	for (i = 0; i < BOOTSEQ_MAX; i++)
		if (t->b[i].id && strcmp(t->b[i].id, id) == 0)
			return (int)i;
	return -1;
}

struct bootseq_boot *bootseq_find(const struct bootseq *t, const char *id)
{
	int i = slot_of(t, id);

	return i < 0 ? NULL : (struct bootseq_boot *)&t->b[i];
}

/* A free slot, else the least recently used boot that is not busy. */
static struct bootseq_boot *make(struct bootseq *t, const char *id)
{
	struct bootseq_boot *b, *victim = NULL;
	char *copy;
	unsigned i;

	for (i = 0; i < BOOTSEQ_MAX; i++) {
		b = &t->b[i];
		if (!b->id) {
			victim = b;
			break;
		}
		if (!bootseq_busy(b) && (!victim || b->used < victim->used))
			victim = b;
	}
	if (!victim || !(copy = strdup(id)))
		return NULL;
	free(victim->id);
	memset(victim, 0, sizeof(*victim));
	victim->id = copy;
	return victim;
}

struct bootseq_boot *bootseq_get(struct bootseq *t, const char *id, bool *created)
{
	int i = slot_of(t, id);
	struct bootseq_boot *b;

	if (created)
		*created = i < 0;
	b = i >= 0 ? &t->b[i] : make(t, id);
	if (!b)
		return NULL;
	b->used = ++t->clock;
	t->last = bootseq_slot(t, b);
	return b;
}

struct bootseq_boot *bootseq_load(struct bootseq *t, const char *id, uint64_t seq,
				  double updated_unix)
{
	int i = slot_of(t, id);
	struct bootseq_boot *b = i >= 0 ? &t->b[i] : make(t, id);

	if (!b)
		return NULL;
	bootseq_done(b, seq);
	if (seq > b->staged)
		b->staged = seq;
	if (seq > b->durable)
		b->durable = seq;
	if (i < 0)
		b->used = updated_unix - BOOTSEQ_LOADED_SHIFT;
	return b;
}

struct bootseq_boot *bootseq_at(struct bootseq *t, unsigned i)
{
	return &t->b[i];
}

unsigned bootseq_slot(const struct bootseq *t, const struct bootseq_boot *b)
{
	return (unsigned)(b - t->b);
}

size_t bootseq_size(const struct bootseq *t)
{
	size_t i, n = 0;

	for (i = 0; i < BOOTSEQ_MAX; i++)
		n += t->b[i].id != NULL;
	return n;
}
