/* groupshare: counts, bytes and the oldest entry per group, groups made
 * on first use and freed with their last entry. */
#include <criterion/criterion.h>

#include "groupshare.h"

struct item {
	int payload;
	struct ilist_link link;
};

static struct item items[8];
static struct groupshare s;

static void setup(void)
{
	cr_assert_eq(groupshare_init(&s, 8, &items[0].link, sizeof(items[0])), 0);
}

static void teardown(void)
{
	groupshare_free(&s);
}

TestSuite(groupshare, .init = setup, .fini = teardown);

Test(groupshare, counts_bytes_and_order_per_group)
{
	uint32_t a = groupshare_add(&s, 0xaaa, 0, 100);
	uint32_t b = groupshare_add(&s, 0xbbb, 1, 7);

	cr_assert_neq(a, b);
	cr_assert_eq(groupshare_add(&s, 0xaaa, 2, 50), a);
	cr_assert_eq(groupshare_add(&s, 0xaaa, 3, 1), a);
	cr_assert_eq(groupshare_count(&s, a), 3);
	cr_assert_eq(groupshare_bytes(&s, a), 151);
	cr_assert_eq(groupshare_oldest(&s, a), 0);
	groupshare_remove(&s, a, 0, 100);
	cr_assert_eq(groupshare_oldest(&s, a), 2, "the next oldest");
	cr_assert_eq(groupshare_bytes(&s, a), 51);
	cr_assert_eq(groupshare_find(&s, 0xbbb), b);
	cr_assert_eq(groupshare_count(&s, b), 1);
}

Test(groupshare, a_group_goes_with_its_last_entry_and_its_slot_is_reused)
{
	uint32_t i, g;

	g = groupshare_add(&s, 42, 0, 1);
	groupshare_remove(&s, g, 0, 1);
	cr_assert_eq(groupshare_find(&s, 42), ILIST_NIL);
	/* As many groups as entries, made and freed over and over. */
	for (i = 0; i < 1000; i++) {
		g = groupshare_add(&s, 1000 + i, i % 8, 3);
		cr_assert_eq(groupshare_find(&s, 1000 + i), g);
		groupshare_remove(&s, g, i % 8, 3);
	}
	for (i = 0; i < 8; i++)
		groupshare_add(&s, 7000 + i, i, 1);
	for (i = 0; i < 8; i++)
		cr_assert_eq(groupshare_count(&s, groupshare_find(&s, 7000 + i)), 1);
}
