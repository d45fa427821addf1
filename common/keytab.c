#include "keytab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "slotmap.h"

struct keytab {
	char *e;                   /* capacity entries of stride bytes: key, then value */
	size_t stride, value_off;
	struct slotmap slots;      /* least recently used first */
	keytab_evict_fn evict;
	void *ctx;
	uint64_t evicted;
};

static char *kt_key(const struct keytab *t, uint32_t i)
{
	return t->e + (size_t)i * t->stride;
}

static void *kt_value(const struct keytab *t, uint32_t i)
{
	return t->e + (size_t)i * t->stride + t->value_off;
}

int keytab_new(size_t capacity, size_t value_size, keytab_evict_fn evict, void *ctx,
	       struct keytab **out)
{
	struct keytab *t;
	size_t align = _Alignof(max_align_t);
	int rc;

	if (!capacity || capacity > SLOTMAP_MAX)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->value_off = (KEYTAB_KEY_MAX + 1 + align - 1) / align * align;
	t->stride = (t->value_off + value_size + align - 1) / align * align;
	t->evict = evict;
	t->ctx = ctx;
	rc = slotmap_init(&t->slots, capacity);
	t->e = calloc(capacity, t->stride);
	if (rc || !t->e) {
		keytab_free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void keytab_free(struct keytab *t)
{
	if (!t)
		return;
	free(t->e);
	slotmap_free(&t->slots);
	free(t);
}

static uint32_t kt_lookup(const struct keytab *t, const char *key, size_t len, uint64_t h)
{
	uint32_t i;

	for (i = slotmap_first(&t->slots, h); i != SLOTMAP_NIL; i = slotmap_next(&t->slots, i))
		if (memcmp(kt_key(t, i), key, len + 1) == 0)
			return i;
	return SLOTMAP_NIL;
}

void *keytab_get(struct keytab *t, const char *key, bool *fresh)
{
	size_t len = strlen(key);
	uint64_t h;
	uint32_t i;

	if (fresh)
		*fresh = false;
	if (len > KEYTAB_KEY_MAX)
		return NULL;
	h = hash_fnv1a(key, len);
	i = kt_lookup(t, key, len, h);
	if (i != SLOTMAP_NIL) {
		slotmap_touch(&t->slots, i);
		return kt_value(t, i);
	}
	if (slotmap_full(&t->slots)) {
		/* The key used longest ago makes room, its owner told first. */
		i = slotmap_oldest(&t->slots);
		if (t->evict)
			t->evict(t->ctx, kt_key(t, i), kt_value(t, i));
		slotmap_del(&t->slots, i);
		t->evicted++;
	}
	i = slotmap_add(&t->slots, h);
	memset(kt_key(t, i), 0, t->stride);
	memcpy(kt_key(t, i), key, len + 1);
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
	return i == SLOTMAP_NIL ? NULL : kt_value(t, i);
}

void keytab_each(struct keytab *t, void (*fn)(void *ctx, const char *key, void *value),
		 void *ctx)
{
	uint32_t i;

	for (i = slotmap_oldest(&t->slots); i != SLOTMAP_NIL; i = slotmap_newer(&t->slots, i))
		fn(ctx, kt_key(t, i), kt_value(t, i));
}

size_t keytab_size(const struct keytab *t)
{
	return slotmap_used(&t->slots);
}

uint64_t keytab_evicted(const struct keytab *t)
{
	return t->evicted;
}

size_t keytab_memory(const struct keytab *t)
{
	return t ? sizeof(*t) + (size_t)t->slots.cap * t->stride + slotmap_memory(&t->slots) : 0;
}
