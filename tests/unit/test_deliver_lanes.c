/* Per-student ordering: a student's later items wait behind a taken head,
 * other students keep flowing, lanes come and go. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "deliver_lanes.h"

struct item {
	struct deliver_lanes_item it;   /* first: the item is the struct */
	int id;
};

static struct deliver_lanes L;

static void setup(void)
{
	cr_assert_eq(deliver_lanes_init(&L), 0);
}

static void teardown(void)
{
	deliver_lanes_fini(&L);
}

static int take_id(void)
{
	struct deliver_lanes_item *it = deliver_lanes_take(&L);

	return it ? ((struct item *)it)->id : -1;
}

TestSuite(deliver_lanes, .init = setup, .fini = teardown);

Test(deliver_lanes, one_lane_is_strictly_sequential)
{
	struct item a = {.id = 1}, b = {.id = 2};

	cr_assert_eq(deliver_lanes_push(&L, "os-1/1", &a.it), 0);
	cr_assert_eq(deliver_lanes_push(&L, "os-1/1", &b.it), 0);
	cr_assert_eq(take_id(), 1);
	cr_assert_eq(take_id(), -1, "b must wait while a is taken");
	deliver_lanes_done(&L, &a.it);
	cr_assert_eq(take_id(), 2);
	deliver_lanes_done(&L, &b.it);
	cr_assert_eq(take_id(), -1);
	cr_assert_eq(L.nlanes, 0, "an empty idle lane is freed");
}

Test(deliver_lanes, other_students_flow_past_a_busy_lane)
{
	struct item a1 = {.id = 1}, a2 = {.id = 2}, b1 = {.id = 3}, c1 = {.id = 4};

	deliver_lanes_push(&L, "A", &a1.it);
	deliver_lanes_push(&L, "A", &a2.it);
	deliver_lanes_push(&L, "B", &b1.it);
	deliver_lanes_push(&L, "C", &c1.it);
	cr_assert_eq(L.nlanes, 3);
	cr_assert_eq(take_id(), 1);
	cr_assert_eq(take_id(), 3);
	cr_assert_eq(take_id(), 4);
	cr_assert_eq(take_id(), -1);
	deliver_lanes_done(&L, &b1.it);
	deliver_lanes_done(&L, &c1.it);
	cr_assert_eq(take_id(), -1, "A's second item still waits behind A's first");
	deliver_lanes_done(&L, &a1.it);
	cr_assert_eq(take_id(), 2);
	deliver_lanes_done(&L, &a2.it);
}

Test(deliver_lanes, requeued_head_stays_first)
{
	struct item a1 = {.id = 1}, a2 = {.id = 2}, b1 = {.id = 3};

	deliver_lanes_push(&L, "A", &a1.it);
	deliver_lanes_push(&L, "A", &a2.it);
	cr_assert_eq(take_id(), 1);
	deliver_lanes_push(&L, "B", &b1.it);
	deliver_lanes_requeue(&L, &a1.it);   /* a retry: A is ready again */
	cr_assert_eq(take_id(), 3, "B was ready first");
	cr_assert_eq(take_id(), 1, "the retried head, not A's second item");
	cr_assert_eq(take_id(), -1);
	deliver_lanes_done(&L, &a1.it);
	cr_assert_eq(take_id(), 2);
	deliver_lanes_done(&L, &a2.it);
	deliver_lanes_done(&L, &b1.it);
	cr_assert_eq(L.nlanes, 0);
}

Test(deliver_lanes, null_key_is_one_lane)
{
	struct item a = {.id = 1}, b = {.id = 2};

	deliver_lanes_push(&L, NULL, &a.it);
	deliver_lanes_push(&L, "", &b.it);
	cr_assert_eq(L.nlanes, 1);
	cr_assert_eq(take_id(), 1);
	cr_assert_eq(take_id(), -1);
	deliver_lanes_done(&L, &a.it);
	deliver_lanes_done(&L, &b.it);
}

Test(deliver_lanes, many_students_grow_the_table)
{
	enum { N = 1000 };
	static struct item items[2 * N];
	char key[32];
	int seen_second[N] = {0};

	for (int i = 0; i < 2 * N; i++) {
		items[i].id = i;
		snprintf(key, sizeof(key), "os-1/%d", i % N);
		cr_assert_eq(deliver_lanes_push(&L, key, &items[i].it), 0);
	}
	cr_assert_eq(L.nlanes, N);
	cr_assert_gt(L.nbuckets, 64);
	/* first round: every student's first item, in push order */
	for (int i = 0; i < N; i++)
		cr_assert_eq(take_id(), i);
	cr_assert_eq(take_id(), -1);
	for (int i = 0; i < N; i++)
		deliver_lanes_done(&L, &items[i].it);
	for (int i = 0; i < N; i++) {
		int id = take_id();

		cr_assert(id >= N && id < 2 * N);
		seen_second[id - N]++;
		deliver_lanes_done(&L, &items[id].it);
	}
	for (int i = 0; i < N; i++)
		cr_assert_eq(seen_second[i], 1);
	cr_assert_eq(L.nlanes, 0);
}
