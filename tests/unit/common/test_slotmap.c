/* The slots every keyed table shares: lookups by hash (shared hashes and
 * shared buckets told apart), the order and its moves, rehashing in
 * place, free slots coming back, bounds, and a long random run checked
 * against a plain array. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>

#include "hash.h"
#include "slotmap.h"

static struct slotmap m;

static void teardown(void)
{
	slotmap_free(&m);
}

TestSuite(slotmap, .fini = teardown);

/* The slots under h, as a bit set (capacity <= 64). */
static uint64_t under(uint64_t h)
{
	uint64_t set = 0;
	uint32_t i;

	for (i = slotmap_first(&m, h); i != SLOTMAP_NIL; i = slotmap_next(&m, i))
		set |= 1ull << i;
	return set;
}

/* The used slots, oldest first, into out; returns how many. */
static int order(uint32_t *out, int max)
{
	uint32_t i;
	int n = 0;

	for (i = slotmap_oldest(&m); i != SLOTMAP_NIL && n < max; i = slotmap_newer(&m, i))
		out[n++] = i;
	return n;
}

Test(slotmap, bad_capacities)
{
	cr_assert_eq(slotmap_init(&m, 0), -EINVAL);
	cr_assert_eq(slotmap_init(&m, (size_t)SLOTMAP_MAX + 1), -EINVAL);
	cr_assert_eq(slotmap_memory(&m), 0);
}

Test(slotmap, slots_are_found_by_their_hash_until_freed)
{
	uint32_t a, b, c;

	cr_assert_eq(slotmap_init(&m, 4), 0);
	a = slotmap_add(&m, 100);
	b = slotmap_add(&m, 200);
	c = slotmap_add(&m, 100);   /* two keys, one hash: the caller tells them apart */
	cr_assert(a != b && b != c && a != c);
	cr_assert_eq(under(100), (1ull << a) | (1ull << c));
	cr_assert_eq(under(200), 1ull << b);
	cr_assert_eq(under(300), 0);
	/* 100 + 8 shares 100's bucket (8 buckets) but not its hash. */
	slotmap_add(&m, 108);
	cr_assert_eq(under(100), (1ull << a) | (1ull << c));
	cr_assert(slotmap_full(&m));
	cr_assert_eq(slotmap_add(&m, 5), SLOTMAP_NIL);
	slotmap_del(&m, a);
	cr_assert_eq(under(100), 1ull << c);
	cr_assert_eq(slotmap_used(&m), 3);
	cr_assert_eq(slotmap_add(&m, 7), a, "the freed slot comes back");
	cr_assert_eq(under(7), 1ull << a);
}

Test(slotmap, the_order_is_kept_and_moved)
{
	uint32_t o[8], s[4];
	int i;

	cr_assert_eq(slotmap_init(&m, 4), 0);
	for (i = 0; i < 4; i++)
		s[i] = slotmap_add(&m, hash_mix64((uint64_t)i));
	cr_assert_eq(order(o, 8), 4);
	for (i = 0; i < 4; i++)
		cr_assert_eq(o[i], s[i], "insertion order");
	slotmap_touch(&m, s[3]);   /* already the newest */
	slotmap_touch(&m, s[0]);
	cr_assert_eq(order(o, 8), 4);
	cr_assert_eq(o[0], s[1]);
	cr_assert_eq(o[2], s[3]);
	cr_assert_eq(o[3], s[0]);
	cr_assert_eq(slotmap_oldest(&m), s[1]);
	/* Rehashing keeps the slot and its place. */
	slotmap_rehash(&m, s[2], 999);
	cr_assert_eq(under(999), 1ull << s[2]);
	cr_assert_eq(under(hash_mix64(2)), 0);
	cr_assert_eq(order(o, 8), 4);
	cr_assert_eq(o[1], s[2]);
	slotmap_del(&m, s[1]);
	cr_assert_eq(slotmap_oldest(&m), s[2]);
}

/* 200,000 random adds, deletes, touches and rehashes on 64 slots with 16
 * hashes (long chains), checked against a plain array after each step. */
Test(slotmap, a_random_run_matches_a_plain_array)
{
	enum { CAP = 64 };
	uint64_t hash[CAP] = {0};
	long stamp[CAP] = {0};    /* the order: larger is newer; 0: free */
	long now = 0;
	uint32_t i, prev;
	int step, k, used = 0;

	cr_assert_eq(slotmap_init(&m, CAP), 0);
	srand(7);
	for (step = 0; step < 200000; step++) {
		int op = rand() % 4;
		uint64_t h = (uint64_t)(rand() % 16) * 0x9e3779b97f4a7c15ull;

		if (op == 0 && used < CAP) {
			i = slotmap_add(&m, h);
			cr_assert_neq(i, SLOTMAP_NIL);
			cr_assert_eq(stamp[i], 0, "a used slot handed out");
			hash[i] = h;
			stamp[i] = ++now;
			used++;
		} else if (used) {
			do
				k = rand() % CAP;
			while (!stamp[k]);
			if (op == 1) {
				slotmap_del(&m, (uint32_t)k);
				stamp[k] = 0;
				used--;
			} else if (op == 2) {
				slotmap_touch(&m, (uint32_t)k);
				stamp[k] = ++now;
			} else {
				slotmap_rehash(&m, (uint32_t)k, h);
				hash[k] = h;
			}
		}
		cr_assert_eq(slotmap_used(&m), (uint32_t)used);
		if (step % 97)
			continue;
		for (k = 0; k < 16; k++) {
			uint64_t hk = (uint64_t)k * 0x9e3779b97f4a7c15ull, want = 0;

			for (i = 0; i < CAP; i++)
				if (stamp[i] && hash[i] == hk)
					want |= 1ull << i;
			cr_assert_eq(under(hk), want, "step %d hash %d", step, k);
		}
		prev = SLOTMAP_NIL;
		k = 0;
		for (i = slotmap_oldest(&m); i != SLOTMAP_NIL; i = slotmap_newer(&m, i), k++) {
			cr_assert(stamp[i]);
			if (prev != SLOTMAP_NIL)
				cr_assert_lt(stamp[prev], stamp[i], "step %d: out of order", step);
			prev = i;
		}
		cr_assert_eq(k, used);
	}
}
