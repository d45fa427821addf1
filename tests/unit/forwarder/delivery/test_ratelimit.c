/* Per-student token buckets: burst and refill on an injected clock, students
 * independent, a flood limited to rate and burst, per-interval reports,
 * bounded table with LRU eviction that keeps the counts. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "delivery/ratelimit.h"

#define MS 1000000ull
#define S 1000000000ull

static struct ratelimit *mk(uint64_t rate, uint64_t burst, size_t max)
{
	struct ratelimit_config c = {rate, burst, max};
	struct ratelimit *rl = NULL;

	cr_assert_eq(ratelimit_new(&c, &rl), 0);
	return rl;
}

/* How many of n events at `per_s` a second starting at *t are allowed. */
static unsigned run(struct ratelimit *rl, const char *key, unsigned n, uint64_t per_s, uint64_t *t)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++) {
		ok += ratelimit_allow(rl, key, *t);
		*t += S / per_s;
	}
	return ok;
}

Test(ratelimit, bad_config)
{
	struct ratelimit_config c = {20, 0, 16};
	struct ratelimit *rl = NULL;

	cr_assert_eq(ratelimit_new(&c, &rl), -EINVAL);
	c.burst = 1;
	c.max_students = 0;
	cr_assert_eq(ratelimit_new(&c, &rl), -EINVAL);
	cr_assert_null(rl);
}

Test(ratelimit, rate_zero_is_off)
{
	struct ratelimit *rl = mk(0, 0, 1);
	uint64_t t = 0;

	cr_assert_eq(run(rl, "os-1/1", 10000, 100000, &t), 10000);
	cr_assert_eq(ratelimit_stats(rl)->limited, 0);
	cr_assert_eq(ratelimit_stats(rl)->allowed, 10000);
	ratelimit_free(rl);
}

Test(ratelimit, burst_then_refill)
{
	struct ratelimit *rl = mk(20, 200, 16);

	for (int i = 0; i < 200; i++)
		cr_assert(ratelimit_allow(rl, "os-1/1", 0));
	cr_assert_not(ratelimit_allow(rl, "os-1/1", 0));
	cr_assert_not(ratelimit_allow(rl, "os-1/1", 49 * MS));   /* 0.98 tokens */
	cr_assert(ratelimit_allow(rl, "os-1/1", 50 * MS));       /* one token at 20/s */
	cr_assert_not(ratelimit_allow(rl, "os-1/1", 50 * MS));
	/* a long pause refills to the burst, never beyond */
	for (int i = 0; i < 200; i++)
		cr_assert(ratelimit_allow(rl, "os-1/1", 3600 * S));
	cr_assert_not(ratelimit_allow(rl, "os-1/1", 3600 * S));
	cr_assert_eq(ratelimit_stats(rl)->limited, 4);
	ratelimit_free(rl);
}

/* The default limit: a busy student at one run every 2 s (plus a test
 * script's burst of 100) is never limited; a `while true` loop at 1,400/s
 * gets the burst plus 20/s, and does not touch the other student. */
Test(ratelimit, loop_is_limited_student_is_not)
{
	struct ratelimit *rl = mk(20, 200, 16);
	uint64_t t = 0, u = 0;
	unsigned ok;

	cr_assert_eq(run(rl, "os-1/2", 100, 1000, &u), 100);
	ok = run(rl, "os-1/1", 14000, 1400, &t);   /* 10 s, less one step */

	cr_assert(ok >= 200 + 10 * 20 - 1 && ok <= 200 + 10 * 20, "%u", ok);
	cr_assert_eq(run(rl, "os-1/2", 1800, 1, &u), 1800);   /* an hour at 0.5/s */
	cr_assert_eq(ratelimit_stats(rl)->limited, 14000 - ok);
	ratelimit_free(rl);
}

Test(ratelimit, events_out_of_order_refill_once)
{
	struct ratelimit *rl = mk(10, 1, 4);

	cr_assert(ratelimit_allow(rl, "a", 100 * S));
	/* 2 s older (another process's event, met in its turn): no refill, and
	 * the interval back to 100 s is not refilled a second time. */
	cr_assert_not(ratelimit_allow(rl, "a", 98 * S));
	cr_assert_not(ratelimit_allow(rl, "a", 100 * S + 50 * MS));
	cr_assert(ratelimit_allow(rl, "a", 100 * S + 100 * MS));   /* 0.1 s after 100 s */
	ratelimit_free(rl);
}

Test(ratelimit, clock_set_back_restarts_refill)
{
	struct ratelimit *rl = mk(10, 1, 4);

	cr_assert(ratelimit_allow(rl, "a", 1000 * S));
	cr_assert_not(ratelimit_allow(rl, "a", 50 * S));          /* went back: no refill */
	cr_assert(ratelimit_allow(rl, "a", 50 * S + 100 * MS));   /* refills from 50 s */
	ratelimit_free(rl);
}

struct seen {
	char key[8][STUDENT_KEY_MAX + 1];
	uint64_t n[8], total[8];
	int count;
};

static void collect(void *ctx, const char *key, uint64_t n, uint64_t total)
{
	struct seen *s = ctx;

	cr_assert_lt(s->count, 8);
	snprintf(s->key[s->count], sizeof(s->key[0]), "%s", key ? key : "(null)");
	s->n[s->count] = n;
	s->total[s->count++] = total;
}

static uint64_t find(const struct seen *s, const char *key, uint64_t *total)
{
	for (int i = 0; i < s->count; i++) {
		if (!strcmp(s->key[i], key)) {
			if (total)
				*total = s->total[i];
			return s->n[i];
		}
	}
	return 0;
}

Test(ratelimit, report_per_student_and_interval)
{
	struct ratelimit *rl = mk(1, 1, 16);
	struct seen s = {0};
	uint64_t total = 0;

	for (int i = 0; i < 5; i++)
		ratelimit_allow(rl, "os-1/1", 0);   /* 1 allowed, 4 refused */
	for (int i = 0; i < 3; i++)
		ratelimit_allow(rl, "os-1/2", 0);   /* 1 allowed, 2 refused */
	ratelimit_allow(rl, "os-1/3", 0);
	cr_assert_eq(ratelimit_report(rl, collect, &s), 2);
	cr_assert_eq(find(&s, "os-1/1", NULL), 4);
	cr_assert_eq(find(&s, "os-1/2", NULL), 2);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(ratelimit_report(rl, collect, &s), 0);   /* nothing new */
	ratelimit_allow(rl, "os-1/1", 0);
	cr_assert_eq(ratelimit_report(rl, collect, &s), 1);
	cr_assert_eq(find(&s, "os-1/1", &total), 1);
	cr_assert_eq(total, 5);
	ratelimit_free(rl);
}

Test(ratelimit, lru_eviction_keeps_counts)
{
	struct ratelimit *rl = mk(1, 1, 2);
	struct seen s = {0};
	uint64_t total = 0;

	ratelimit_allow(rl, "a", 0);
	cr_assert_not(ratelimit_allow(rl, "a", 0));   /* a: 1 refused */
	ratelimit_allow(rl, "b", 0);
	cr_assert_not(ratelimit_allow(rl, "a", 0));   /* a: 2 refused, most recent */
	ratelimit_allow(rl, "c", 0);                  /* table full: b goes */
	cr_assert_eq(ratelimit_stats(rl)->evicted, 1);
	cr_assert_eq(ratelimit_stats(rl)->students, 2);
	cr_assert_not(ratelimit_allow(rl, "a", 0));   /* a kept its empty bucket */
	cr_assert_not(ratelimit_allow(rl, "c", 0));
	ratelimit_allow(rl, "d", 0);                  /* a is least recent now: evicted */
	cr_assert_eq(ratelimit_report(rl, collect, &s), 2);
	cr_assert_eq(find(&s, "c", NULL), 1);
	cr_assert_eq(find(&s, "(null)", &total), 3);  /* a's refusals, under "evicted" */
	cr_assert_eq(total, 3);
	cr_assert(ratelimit_allow(rl, "b", 0));       /* b is new again: full bucket */
	ratelimit_free(rl);
}

Test(ratelimit, many_students_bounded_table)
{
	struct ratelimit *rl = mk(1, 2, 64);
	char key[32];

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 1000; i++) {
			snprintf(key, sizeof(key), "os-1/%d", i);
			cr_assert(ratelimit_allow(rl, key, (uint64_t)round * S));
		}
	}
	cr_assert_eq(ratelimit_stats(rl)->students, 64);
	cr_assert_eq(ratelimit_stats(rl)->evicted, 3000 - 64);
	/* the 64 most recent stay tracked: their second event uses the burst */
	cr_assert(ratelimit_allow(rl, "os-1/999", 2 * S));
	cr_assert_not(ratelimit_allow(rl, "os-1/999", 2 * S));
	ratelimit_free(rl);
}

Test(ratelimit, long_keys_are_not_tracked)
{
	struct ratelimit *rl = mk(1, 1, 4);
	char key[STUDENT_KEY_MAX + 2];

	memset(key, 'x', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	cr_assert(ratelimit_allow(rl, key, 0));
	cr_assert(ratelimit_allow(rl, key, 0));
	cr_assert_eq(ratelimit_stats(rl)->untracked, 2);
	cr_assert(ratelimit_allow(rl, NULL, 0));   /* NULL is the "" student */
	cr_assert_not(ratelimit_allow(rl, "", 0));
	ratelimit_free(rl);
}
