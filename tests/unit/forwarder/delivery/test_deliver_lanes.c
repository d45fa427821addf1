/* Per-student ordering: a student's later items wait behind a taken head,
 * other students keep flowing, lanes come and go. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "delivery/deliver_lanes.h"

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

/* Fairness under a flood: two students each with 10,000 queued requests (a
 * `while true; do ./a.out; done` loop) hold at most one request each in
 * flight whatever the delivery window, and a third student's single request,
 * queued in the middle of the flood, goes out within one round: after at
 * most one request of each flooder. */
Test(deliver_lanes, a_flood_delays_another_student_by_one_round_at_most)
{
	enum { FLOOD = 10000, WINDOW = 8 };
	static struct item items[2 * FLOOD + 1];
	struct deliver_lanes_item *inflight[WINDOW];
	int takes = 0, single_at = -1, single_pushed_at = -1;

	for (int i = 0; i < 2 * FLOOD; i++) {
		items[i].id = i;
		cr_assert_eq(deliver_lanes_push(&L, i % 2 ? "os-1/2" : "os-1/1", &items[i].it), 0);
	}
	items[2 * FLOOD].id = 2 * FLOOD;
	while (single_at < 0) {
		int n = 0, a = 0, b = 0;

		/* fill the window, then finish everything taken (one round) */
		while (n < WINDOW && (inflight[n] = deliver_lanes_take(&L)) != NULL) {
			int id = ((struct item *)inflight[n])->id;

			takes++;
			if (id == 2 * FLOOD)
				single_at = takes;
			else if (id % 2)
				b++;
			else
				a++;
			n++;
		}
		cr_assert(a <= 1 && b <= 1, "a flooder had %d + %d requests in flight", a, b);
		for (int i = 0; i < n; i++)
			deliver_lanes_done(&L, inflight[i]);
		if (takes >= FLOOD && single_pushed_at < 0) {
			single_pushed_at = takes;
			cr_assert_eq(deliver_lanes_push(&L, "os-1/3", &items[2 * FLOOD].it), 0);
		}
	}
	/* queued behind at most one request of each of the two flooders */
	cr_assert_leq(single_at - single_pushed_at, 3, "pushed after %d takes, taken as %d",
		      single_pushed_at, single_at);
}
