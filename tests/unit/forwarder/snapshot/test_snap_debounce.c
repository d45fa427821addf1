/* Debounce timing with an injected clock (plain numbers, in ms). */
#include <criterion/criterion.h>
#include <errno.h>

#include "snapshot/snap_debounce.h"

#define MS 1000000ull

static struct snap_debounce *mk(size_t max_pending)
{
	struct snap_debounce_config cfg = {
		.window_ns = 600 * MS, .max_wait_ns = 3000 * MS, .max_pending = max_pending,
	};
	struct snap_debounce *d = NULL;

	cr_assert_eq(snap_debounce_new(&cfg, &d), 0);
	return d;
}

static int A = 1, B = 2, C = 3, D = 4;

Test(snap_debounce, quick_saves_make_one)
{
	struct snap_debounce *d = mk(8);
	void *old = NULL;
	uint64_t when = 0;

	cr_assert_eq(snap_debounce_next(d), SNAP_DEBOUNCE_NONE);
	cr_assert_eq(snap_debounce_add(d, "f", 1000 * MS, &A, &old), 0);
	cr_assert_eq(snap_debounce_next(d), 1600 * MS);
	cr_assert_eq(snap_debounce_add(d, "f", 1200 * MS, &B, &old), 1);
	cr_assert_eq(old, &A);
	cr_assert_eq(snap_debounce_add(d, "f", 1400 * MS, &C, &old), 1);
	cr_assert_eq(old, &B);
	cr_assert_eq(snap_debounce_next(d), 2000 * MS);
	cr_assert_null(snap_debounce_pop(d, 1999 * MS, NULL));
	cr_assert_eq(snap_debounce_pop(d, 2000 * MS, &when), &C);
	cr_assert_eq(when, 2000 * MS);
	cr_assert_eq(snap_debounce_pending(d), 0);
	cr_assert_null(snap_debounce_pop(d, 5000 * MS, NULL));
	snap_debounce_free(d, NULL);
}

Test(snap_debounce, max_wait_caps_a_busy_file)
{
	struct snap_debounce *d = mk(8);
	void *old = NULL;
	uint64_t t;

	cr_assert_eq(snap_debounce_add(d, "f", 0, &A, &old), 0);
	/* A save every 0.5 s never leaves 0.6 s of quiet ... */
	for (t = 500 * MS; t < 3000 * MS; t += 500 * MS) {
		cr_assert_eq(snap_debounce_add(d, "f", t, &B, &old), 1);
		cr_assert_null(snap_debounce_pop(d, t, NULL));
	}
	/* ... but the burst is taken 3 s after its first event. */
	cr_assert_eq(snap_debounce_next(d), 3000 * MS);
	cr_assert_eq(snap_debounce_pop(d, 3000 * MS, NULL), &B);
	/* The next save starts a new burst. */
	cr_assert_eq(snap_debounce_add(d, "f", 3100 * MS, &C, &old), 0);
	cr_assert_eq(snap_debounce_next(d), 3700 * MS);
	snap_debounce_free(d, NULL);
}

Test(snap_debounce, files_are_independent_and_ordered)
{
	struct snap_debounce *d = mk(8);
	void *old = NULL;

	cr_assert_eq(snap_debounce_add(d, "a", 0, &A, &old), 0);
	cr_assert_eq(snap_debounce_add(d, "b", 100 * MS, &B, &old), 0);
	cr_assert_eq(snap_debounce_add(d, "c", 100 * MS, &C, &old), 0);
	cr_assert_eq(snap_debounce_add(d, "a", 500 * MS, &D, &old), 1);
	cr_assert_eq(snap_debounce_pending(d), 3);
	/* b and c are due at 700 (b first: it was created first), a at 1100. */
	cr_assert_eq(snap_debounce_next(d), 700 * MS);
	cr_assert_eq(snap_debounce_pop(d, 1000 * MS, NULL), &B);
	cr_assert_eq(snap_debounce_pop(d, 1000 * MS, NULL), &C);
	cr_assert_null(snap_debounce_pop(d, 1000 * MS, NULL));
	cr_assert_eq(snap_debounce_pop(d, 1100 * MS, NULL), &D);
	snap_debounce_free(d, NULL);
}

Test(snap_debounce, late_event_does_not_move_the_burst_start)
{
	struct snap_debounce *d = mk(8);
	void *old = NULL;

	cr_assert_eq(snap_debounce_add(d, "f", 1000 * MS, &A, &old), 0);
	/* An event stamped earlier (another CPU's clock) counts from the start. */
	cr_assert_eq(snap_debounce_add(d, "f", 900 * MS, &B, &old), 1);
	cr_assert_eq(snap_debounce_next(d), 1600 * MS);
	snap_debounce_free(d, NULL);
}

Test(snap_debounce, bounded)
{
	struct snap_debounce *d = mk(2);
	void *old = NULL;

	cr_assert_eq(snap_debounce_add(d, "a", 0, &A, &old), 0);
	cr_assert_eq(snap_debounce_add(d, "b", 10 * MS, &B, &old), 0);
	cr_assert_eq(snap_debounce_add(d, "c", 20 * MS, &C, &old), -ENOBUFS);
	/* A waiting file still merges when the table is full. */
	cr_assert_eq(snap_debounce_add(d, "b", 30 * MS, &D, &old), 1);
	/* Making room: the one closest to its deadline goes first, early. */
	cr_assert_eq(snap_debounce_pop(d, SNAP_DEBOUNCE_NONE, NULL), &A);
	cr_assert_eq(snap_debounce_add(d, "c", 20 * MS, &C, &old), 0);
	cr_assert_eq(snap_debounce_pending(d), 2);
	snap_debounce_free(d, NULL);
}

static int freed;
static void count_free(void *p)
{
	(void)p;
	freed++;
}

Test(snap_debounce, free_releases_waiting_data)
{
	struct snap_debounce *d = mk(4);
	struct snap_debounce_config bad = {.window_ns = 1, .max_wait_ns = 1, .max_pending = 0};
	void *old = NULL;

	cr_assert_eq(snap_debounce_add(d, "a", 0, &A, &old), 0);
	cr_assert_eq(snap_debounce_add(d, "b", 0, &B, &old), 0);
	freed = 0;
	snap_debounce_free(d, count_free);
	cr_assert_eq(freed, 2);
	cr_assert_eq(snap_debounce_new(&bad, &d), -EINVAL);
}

Test(snap_debounce, clock_near_its_end_does_not_wrap)
{
	struct snap_debounce *d = mk(4);
	void *old = NULL;

	cr_assert_eq(snap_debounce_add(d, "a", UINT64_MAX - 10, &A, &old), 0);
	cr_assert_eq(snap_debounce_next(d), UINT64_MAX - 1);
	snap_debounce_free(d, NULL);
}
