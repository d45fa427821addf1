#include "join.h"

#include <errno.h>
#include <stdlib.h>

#include "hash.h"
#include "ilist.h"

#define JOIN_NIL ILIST_NIL
/* The age list's arguments to ilist.h. */
#define JOIN_AGE(t) &(t)->e[0].age, sizeof((t)->e[0])

struct join_entry {
	Jcw__Frame *frame;        /* NULL: slot free */
	uint64_t start_ns;
	uint64_t put_ns;
	uint32_t tgid;
	uint32_t hash_next;       /* chain of the bucket */
	struct ilist_link age;    /* oldest first; the free list uses age.next */
};

struct join_table {
	struct join_entry *e;
	uint32_t *buckets;
	uint32_t mask;            /* buckets - 1 (a power of two) */
	uint32_t cap;
	uint32_t size;
	struct ilist age;
	uint32_t free_head;
	struct join_stats stats;
};

/* By tgid alone, so join_find_tgid() walks one chain: two live entries
 * share a tgid only when an exit was missed. */
static uint32_t join_hash(uint32_t tgid, uint64_t start_ns)
{
	(void)start_ns;
	return (uint32_t)hash_mix64(tgid);
}

int join_new(size_t max_entries, struct join_table **out)
{
	struct join_table *t;
	size_t nb = 1, i;

	if (max_entries == 0)
		max_entries = 1;
	if (max_entries > UINT32_MAX / 4)
		return -EINVAL;
	while (nb < max_entries * 2)
		nb <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->e = calloc(max_entries, sizeof(*t->e));
	t->buckets = malloc(nb * sizeof(*t->buckets));
	if (!t->e || !t->buckets) {
		free(t->e);
		free(t->buckets);
		free(t);
		return -ENOMEM;
	}
	for (i = 0; i < nb; i++)
		t->buckets[i] = JOIN_NIL;
	t->mask = (uint32_t)(nb - 1);
	t->cap = (uint32_t)max_entries;
	t->age = (struct ilist)ILIST_INIT;
	/* Free list threaded through age.next. */
	for (i = 0; i < max_entries; i++)
		t->e[i].age.next = i + 1 < max_entries ? (uint32_t)(i + 1) : JOIN_NIL;
	t->free_head = 0;
	*out = t;
	return 0;
}

void join_free(struct join_table *t)
{
	uint32_t i;

	if (!t)
		return;
	for (i = 0; i < t->cap; i++)
		if (t->e[i].frame)
			jcw__frame__free_unpacked(t->e[i].frame, NULL);
	free(t->e);
	free(t->buckets);
	free(t);
}

static uint32_t *join_find_link(struct join_table *t, uint32_t tgid, uint64_t start_ns)
{
	uint32_t *link = &t->buckets[join_hash(tgid, start_ns) & t->mask];

	while (*link != JOIN_NIL) {
		struct join_entry *en = &t->e[*link];

		if (en->tgid == tgid && en->start_ns == start_ns)
			return link;
		link = &en->hash_next;
	}
	return link;
}

/* Unlinks entry i (found through *link) and returns its frame. */
static Jcw__Frame *join_remove(struct join_table *t, uint32_t *link)
{
	uint32_t i = *link;
	struct join_entry *en = &t->e[i];
	Jcw__Frame *f = en->frame;

	*link = en->hash_next;
	ilist_remove(&t->age, JOIN_AGE(t), i);
	en->frame = NULL;
	en->age.next = t->free_head;
	t->free_head = i;
	t->size--;
	return f;
}

/* Drops the oldest entry (it exists: the table is not empty). */
static void join_drop_oldest(struct join_table *t)
{
	struct join_entry *en = &t->e[t->age.first];
	uint32_t *link = join_find_link(t, en->tgid, en->start_ns);

	jcw__frame__free_unpacked(join_remove(t, link), NULL);
}

int join_put(struct join_table *t, Jcw__Frame *f, uint64_t now_ns)
{
	const Jcw__Exec *x;
	uint32_t *link, i;
	struct join_entry *en;

	if (!f || f->body_case != JCW__FRAME__BODY_EXEC || !f->exec) {
		if (f)
			jcw__frame__free_unpacked(f, NULL);
		return -EINVAL;
	}
	x = f->exec;
	link = join_find_link(t, x->tgid, x->start_boottime_ns);
	if (*link != JOIN_NIL) {
		/* The process exec'd again: it is the new program now. */
		en = &t->e[*link];
		jcw__frame__free_unpacked(en->frame, NULL);
		en->frame = f;
		en->put_ns = now_ns;
		ilist_remove(&t->age, JOIN_AGE(t), *link);
		ilist_append(&t->age, JOIN_AGE(t), *link);
		t->stats.replaced++;
		return 1;
	}
	if (t->size == t->cap) {
		join_drop_oldest(t);
		t->stats.evicted++;
		/* the dropped entry may have been on our chain: look again */
		link = join_find_link(t, x->tgid, x->start_boottime_ns);
	}
	i = t->free_head;
	en = &t->e[i];
	t->free_head = en->age.next;
	en->frame = f;
	en->tgid = x->tgid;
	en->start_ns = x->start_boottime_ns;
	en->put_ns = now_ns;
	en->hash_next = JOIN_NIL;
	*link = i;
	ilist_append(&t->age, JOIN_AGE(t), i);
	t->size++;
	return 0;
}

Jcw__Frame *join_take(struct join_table *t, uint32_t tgid, uint64_t start_boottime_ns)
{
	uint32_t *link = join_find_link(t, tgid, start_boottime_ns);

	return *link == JOIN_NIL ? NULL : join_remove(t, link);
}

const Jcw__Frame *join_peek(const struct join_table *t, uint32_t tgid, uint64_t start_boottime_ns)
{
	uint32_t i = t->buckets[join_hash(tgid, start_boottime_ns) & t->mask];

	for (; i != JOIN_NIL; i = t->e[i].hash_next)
		if (t->e[i].tgid == tgid && t->e[i].start_ns == start_boottime_ns)
			return t->e[i].frame;
	return NULL;
}

const Jcw__Frame *join_find_tgid(const struct join_table *t, uint32_t tgid)
{
	uint32_t i = t->buckets[join_hash(tgid, 0) & t->mask];
	const Jcw__Frame *best = NULL;
	uint64_t start = 0;

	for (; i != JOIN_NIL; i = t->e[i].hash_next)
		if (t->e[i].tgid == tgid && (!best || t->e[i].start_ns > start)) {
			best = t->e[i].frame;
			start = t->e[i].start_ns;
		}
	return best;
}

size_t join_expire(struct join_table *t, uint64_t now_ns, uint64_t ttl_ns)
{
	size_t n = 0;

	if (now_ns < ttl_ns)
		return 0;
	while (t->age.first != JOIN_NIL && t->e[t->age.first].put_ns < now_ns - ttl_ns) {
		join_drop_oldest(t);
		n++;
	}
	t->stats.expired += n;
	return n;
}

size_t join_size(const struct join_table *t)
{
	return t->size;
}

const struct join_stats *join_get_stats(const struct join_table *t)
{
	return &t->stats;
}
