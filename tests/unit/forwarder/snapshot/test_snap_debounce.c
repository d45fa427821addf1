/* Debounce timing with an injected clock (plain numbers, in ms). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

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

/* Thousands of random adds and pops against a plain model (an array
 * scanned in full, as the table once was): the same entries come out in
 * the same order, with the same data, whatever the heap and the index do
 * inside (collisions, backward shifts, ties). */
struct model {
	int key;
	uint64_t first, deadline, order;
	intptr_t data;
};

Test(snap_debounce, random_against_a_model)
{
	struct snap_debounce_config c = {.window_ns = 50, .max_wait_ns = 300, .max_pending = 64};
	struct snap_debounce *d;
	struct model m[64];
	size_t n = 0, i, best;
	uint64_t now = 1000, order = 0, dl;
	unsigned seed = 12345;
	char key[16];
	void *rep, *got;
	int step, k, rc;

	cr_assert_eq(snap_debounce_new(&c, &d), 0);
	for (step = 0; step < 20000; step++) {
		seed = seed * 1103515245u + 12345u;
		now += (seed >> 16) % 7;
		if ((seed >> 8) % 3) {
			k = (int)((seed >> 20) % 100);   /* 100 keys, 64 places: collisions and full */
			snprintf(key, sizeof(key), "k%d", k);
			for (i = 0; i < n && m[i].key != k; i++)
				;
			rc = snap_debounce_add(d, key, now, (void *)(intptr_t)(step + 1), &rep);
			if (i < n) {
				cr_assert_eq(rc, 1);
				cr_assert_eq((intptr_t)rep, m[i].data);
				m[i].deadline = now + 50 < m[i].first + 300 ? now + 50 : m[i].first + 300;
				m[i].data = step + 1;
			} else if (n == 64) {
				cr_assert_eq(rc, -ENOBUFS);
			} else {
				cr_assert_eq(rc, 0);
				m[n] = (struct model){k, now, now + 50, order++, step + 1};
				n++;
			}
		} else {
			best = 0;
			for (i = 1; i < n; i++)
				if (m[i].deadline < m[best].deadline ||
				    (m[i].deadline == m[best].deadline && m[i].order < m[best].order))
					best = i;
			cr_assert_eq(snap_debounce_next(d), n ? m[best].deadline : SNAP_DEBOUNCE_NONE);
			got = snap_debounce_pop(d, now, &dl);
			if (!n || m[best].deadline > now) {
				cr_assert_null(got);
				continue;
			}
			cr_assert_eq((intptr_t)got, m[best].data, "step %d", step);
			cr_assert_eq(dl, m[best].deadline);
			m[best] = m[--n];
		}
		cr_assert_eq(snap_debounce_pending(d), n);
	}
	snap_debounce_free(d, NULL);
}
