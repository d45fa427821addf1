/* The bounded keyed table: lookups, least-recently-used eviction told to
 * the owner, zeroed new values, long keys refused, and a table far
 * smaller than its keys. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "keytab.h"

struct val {
	int n;
	char pad[13];   /* an odd size: values stay aligned */
	double d;
};

struct evictions {
	char keys[8][KEYTAB_KEY_MAX + 1];
	int n, sum;
};

static void on_evict(void *ctx, const char *key, void *value)
{
	struct evictions *e = ctx;
	struct val *v = value;

	if (e->n < 8)
		snprintf(e->keys[e->n], sizeof(e->keys[0]), "%s", key);
	e->n++;
	e->sum += v->n;
}

Test(keytab, get_find_and_lru_eviction)
{
	struct evictions ev = {0};
	struct keytab *t;
	struct val *a, *b;
	bool fresh;

	cr_assert_eq(keytab_new(2, sizeof(struct val), on_evict, &ev, &t), 0);
	a = keytab_get(t, "os-1/1", &fresh);
	cr_assert(fresh && a->n == 0 && a->d == 0);
	cr_assert_eq((uintptr_t)&a->d % _Alignof(double), 0);
	a->n = 5;
	b = keytab_get(t, "os-1/2", &fresh);
	cr_assert(fresh);
	b->n = 7;
	cr_assert_eq(keytab_get(t, "os-1/1", &fresh), a, "the same value again");
	cr_assert_not(fresh);
	cr_assert_eq(keytab_find(t, "os-1/2"), b);
	cr_assert_null(keytab_find(t, "os-1/3"));
	/* os-1/2 was used least recently (find does not count): it goes. */
	cr_assert_not_null(keytab_get(t, "os-1/3", &fresh));
	cr_assert(fresh);
	cr_assert_eq(ev.n, 1);
	cr_assert_str_eq(ev.keys[0], "os-1/2");
	cr_assert_eq(ev.sum, 7, "the owner saw the value before it went");
	cr_assert_null(keytab_find(t, "os-1/2"));
	cr_assert_eq(((struct val *)keytab_find(t, "os-1/1"))->n, 5);
	cr_assert_eq(keytab_size(t), 2);
	cr_assert_eq(keytab_evicted(t), 1);
	keytab_free(t);
}

Test(keytab, long_keys_and_bad_sizes)
{
	char key[KEYTAB_KEY_MAX + 2];
	struct keytab *t;

	cr_assert_eq(keytab_new(0, 8, NULL, NULL, &t), -EINVAL);
	cr_assert_eq(keytab_new(4, 8, NULL, NULL, &t), 0);
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	cr_assert_null(keytab_get(t, key, NULL));
	key[KEYTAB_KEY_MAX] = '\0';
	cr_assert_not_null(keytab_get(t, key, NULL), "a key of exactly the longest size");
	cr_assert_not_null(keytab_get(t, "", NULL), "the empty key is a key");
	keytab_free(t);
	keytab_free(NULL);
}

static void count(void *ctx, const char *key, void *value)
{
	(void)key;
	*(int *)ctx += *(int *)value;
}

/* 10,000 keys through 64 entries: the most recent 64 stay, each once. */
Test(keytab, many_keys_small_table)
{
	struct evictions ev = {0};
	struct keytab *t;
	char key[32];
	int i, sum = 0;

	cr_assert_eq(keytab_new(64, sizeof(int), on_evict, &ev, &t), 0);
	for (i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "c/%d", i);
		*(int *)keytab_get(t, key, NULL) = 1;
	}
	cr_assert_eq(keytab_size(t), 64);
	cr_assert_eq(ev.n, 10000 - 64);
	for (i = 10000 - 64; i < 10000; i++) {
		snprintf(key, sizeof(key), "c/%d", i);
		cr_assert_not_null(keytab_find(t, key), "%s", key);
	}
	keytab_each(t, count, &sum);
	cr_assert_eq(sum, 64);
	keytab_free(t);
}
