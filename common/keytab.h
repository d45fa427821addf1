/* keytab: a bounded table of values keyed by short strings ("{class_div}/
 * {student_id}"), for every per-student table: hashed with index chains,
 * kept in least-recently-used order, and full at its capacity, when a new
 * key takes the place of the key used longest ago (the caller hears of it
 * first, to keep what that entry counted). All operations O(1) on average
 * (common/slotmap.h keeps the slots); the memory is allocated once, at
 * keytab_new.
 *
 * A value is value_size bytes the caller lays out (a struct), zeroed when
 * its key is new; pointers to values stay valid until the key is evicted. */
#ifndef JCW_KEYTAB_H
#define JCW_KEYTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest key (a student's key is at most 82 bytes). */
#define KEYTAB_KEY_MAX 95

/* Told of a key and its value just before they make room for another. */
typedef void (*keytab_evict_fn)(void *ctx, const char *key, void *value);

struct keytab;

/* 0, -EINVAL (capacity 0 or too large) or -ENOMEM. evict may be NULL. */
int keytab_new(size_t capacity, size_t value_size, keytab_evict_fn evict, void *ctx,
	       struct keytab **out);
void keytab_free(struct keytab *t);

/* The value of key, now the most recently used; made (zeroed, *fresh set)
 * when key is not there. NULL for a key over KEYTAB_KEY_MAX bytes. fresh
 * may be NULL. */
void *keytab_get(struct keytab *t, const char *key, bool *fresh);
/* The value of key, or NULL; the order is left as it is. */
void *keytab_find(const struct keytab *t, const char *key);
/* Calls fn for every key in the table (in no particular order). */
void keytab_each(struct keytab *t, void (*fn)(void *ctx, const char *key, void *value),
		 void *ctx);
size_t keytab_size(const struct keytab *t);
/* Keys evicted to make room, since the start. */
uint64_t keytab_evicted(const struct keytab *t);
/* Bytes it allocated (all at keytab_new). */
size_t keytab_memory(const struct keytab *t);

#endif
