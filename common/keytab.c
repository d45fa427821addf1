#include "keytab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "ilist.h"

struct kt_entry {
	char key[KEYTAB_KEY_MAX + 1];
	uint64_t hash;
	uint32_t hnext;            /* hash chain */
	struct ilist_link lru;     /* least recently used first */
};

struct keytab {
	char *e;                   /* capacity entries of stride bytes */
	size_t stride, value_off, capacity;
	uint32_t *buckets;
	size_t mask;
	uint32_t used;             /* entries 0..used-1 have been handed out */
	struct ilist lru;
	keytab_evict_fn evict;
	void *ctx;
	uint64_t evicted;
};

static struct kt_entry *kt_at(const struct keytab *t, uint32_t i)
{
	return (struct kt_entry *)(t->e + (size_t)i * t->stride);
}

static void *kt_value(const struct keytab *t, uint32_t i)
{
	return t->e + (size_t)i * t->stride + t->value_off;
}

#define KT_LRU(t) &((struct kt_entry *)(t)->e)->lru, (t)->stride

int keytab_new(size_t capacity, size_t value_size, keytab_evict_fn evict, void *ctx,
	       struct keytab **out)
{
	struct keytab *t;
	size_t nb = 1, align = _Alignof(max_align_t);

	if (!capacity || capacity >= ILIST_NIL / 2)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->value_off = (sizeof(struct kt_entry) + align - 1) / align * align;
	t->stride = (t->value_off + value_size + align - 1) / align * align;
	t->capacity = capacity;
	t->evict = evict;
	t->ctx = ctx;
	t->lru = (struct ilist)ILIST_INIT;
	while (nb < capacity * 2)
		nb *= 2;
	t->mask = nb - 1;
	t->e = calloc(capacity, t->stride);
	t->buckets = malloc(nb * sizeof(*t->buckets));
	if (!t->e || !t->buckets) {
		keytab_free(t);
		return -ENOMEM;
	}
	memset(t->buckets, 0xff, nb * sizeof(*t->buckets));
	*out = t;
	return 0;
}

void keytab_free(struct keytab *t)
{
	if (!t)
		return;
	free(t->e);
	free(t->buckets);
	free(t);
}

static uint32_t kt_lookup(const struct keytab *t, const char *key, size_t len, uint64_t h)
{
	uint32_t i;

	for (i = t->buckets[h & t->mask]; i != ILIST_NIL; i = kt_at(t, i)->hnext) {
		struct kt_entry *e = kt_at(t, i);

		if (e->hash == h && memcmp(e->key, key, len + 1) == 0)
			return i;
	}
	return ILIST_NIL;
}

static void kt_unlink(struct keytab *t, uint32_t i)
{
	uint32_t *pp = &t->buckets[kt_at(t, i)->hash & t->mask];

	while (*pp != i)
		pp = &kt_at(t, *pp)->hnext;
	*pp = kt_at(t, i)->hnext;
}

/* A free entry, or the least recently used one, handed to evict first. */
static uint32_t kt_take(struct keytab *t)
{
	uint32_t i;

	if (t->used < t->capacity)
		return t->used++;
	i = t->lru.first;
	if (t->evict)
		t->evict(t->ctx, kt_at(t, i)->key, kt_value(t, i));
	ilist_remove(&t->lru, KT_LRU(t), i);
	kt_unlink(t, i);
	t->evicted++;
	return i;
}

void *keytab_get(struct keytab *t, const char *key, bool *fresh)
{
	size_t len = strlen(key);
	uint64_t h;
	uint32_t i;
	struct kt_entry *e;

	if (fresh)
		*fresh = false;
	if (len > KEYTAB_KEY_MAX)
		return NULL;
	h = hash_fnv1a(key, len);
	i = kt_lookup(t, key, len, h);
	if (i != ILIST_NIL) {
		ilist_remove(&t->lru, KT_LRU(t), i);
		ilist_append(&t->lru, KT_LRU(t), i);
		return kt_value(t, i);
	}
	i = kt_take(t);
	e = kt_at(t, i);
	memset(e, 0, t->stride);
	memcpy(e->key, key, len + 1);
	e->hash = h;
	e->hnext = t->buckets[h & t->mask];
	t->buckets[h & t->mask] = i;
	ilist_append(&t->lru, KT_LRU(t), i);
	if (fresh)
		*fresh = true;
	return kt_value(t, i);
}

void *keytab_find(const struct keytab *t, const char *key)
{
	size_t len = strlen(key);
	uint32_t i;

	if (len > KEYTAB_KEY_MAX)
		return NULL;
	i = kt_lookup(t, key, len, hash_fnv1a(key, len));
	return i == ILIST_NIL ? NULL : kt_value(t, i);
}

void keytab_each(struct keytab *t, void (*fn)(void *ctx, const char *key, void *value),
		 void *ctx)
{
	uint32_t i;

	for (i = 0; i < t->used; i++)
		fn(ctx, kt_at(t, i)->key, kt_value(t, i));
}

size_t keytab_size(const struct keytab *t)
{
	return t->used;
}

uint64_t keytab_evicted(const struct keytab *t)
{
	return t->evicted;
}

size_t keytab_memory(const struct keytab *t)
{
	return t ? sizeof(*t) + t->capacity * t->stride + (t->mask + 1) * sizeof(*t->buckets) : 0;
}
