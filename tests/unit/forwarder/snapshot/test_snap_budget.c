/* snap_budget: files and bytes per student, refilled over time, decided
 * before the work; refusals counted per student; students apart. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "snapshot/snap_budget.h"

#define S 1000000000ull

static struct snap_budget *mk(double fpm, double fburst, double bph, double bburst, size_t n)
{
	struct snap_budget_config c = {fpm, fburst, bph, bburst, n};
	struct snap_budget *b;

	cr_assert_eq(snap_budget_new(&c, &b), 0);
	return b;
}

Test(snap_budget, burst_then_refill)
{
	struct snap_budget *b = mk(30, 3, 0, 0, 16);   /* one file per 2 s after 3 */
	uint64_t w;
	int i;

	for (i = 0; i < 3; i++)
		cr_assert(snap_budget_file(b, "os-1/1", 10 * S, &w));
	cr_assert_not(snap_budget_file(b, "os-1/1", 10 * S, &w));
	cr_assert(w > 1.9 * S && w <= 2 * S + 1, "wait %llu", (unsigned long long)w);
	cr_assert_not(snap_budget_file(b, "os-1/1", 11 * S, &w));       /* half a token */
	cr_assert(snap_budget_file(b, "os-1/1", 12 * S, &w));           /* one */
	/* Never more than the burst, however long the pause. */
	for (i = 0; i < 3; i++)
		cr_assert(snap_budget_file(b, "os-1/1", 1000 * S, &w));
	cr_assert_not(snap_budget_file(b, "os-1/1", 1000 * S, &w));
	snap_budget_free(b);
}

struct seen {
	char key[32];
	uint64_t refused, total;
	int n;
};

static void on_report(void *ctx, const char *key, uint64_t refused, uint64_t total)
{
	struct seen *g = ctx;

	snprintf(g->key, sizeof(g->key), "%s", key);
	g->refused = refused;
	g->total = total;
	g->n++;
}

Test(snap_budget, students_apart_and_reported)
{
	struct snap_budget *b = mk(60, 1, 0, 0, 16);
	struct seen g = {{0}, 0, 0, 0};
	uint64_t w;

	cr_assert(snap_budget_file(b, "os-1/1", S, &w));
	cr_assert_not(snap_budget_file(b, "os-1/1", S, &w));
	cr_assert_not(snap_budget_file(b, "os-1/1", S, &w));
	cr_assert(snap_budget_file(b, "os-1/2", S, &w));    /* the bystander is not charged */
	cr_assert_eq(snap_budget_report(b, on_report, &g), 1);
	cr_assert_str_eq(g.key, "os-1/1");
	cr_assert_eq(g.refused, 2);
	cr_assert_eq(g.total, 2);
	/* Reset per report, total kept. */
	g.n = 0;
	cr_assert_eq(snap_budget_report(b, on_report, &g), 0);
	cr_assert_not(snap_budget_file(b, "os-1/1", S, &w));
	cr_assert_eq(snap_budget_report(b, on_report, &g), 1);
	cr_assert_eq(g.refused, 1);
	cr_assert_eq(g.total, 3);
	snap_budget_free(b);
}

Test(snap_budget, bytes_refill_and_never_fits)
{
	struct snap_budget *b = mk(0, 0, 3600, 100, 4);    /* 1 byte/s, 100 at most */
	uint64_t w;

	cr_assert(snap_budget_file(b, "a/1", S, &w));      /* no file budget: always */
	cr_assert(snap_budget_bytes(b, "a/1", 80, S, &w));
	cr_assert_not(snap_budget_bytes(b, "a/1", 30, S, &w));
	cr_assert(w > 9 * S && w <= 10 * S + 1, "wait %llu", (unsigned long long)w);
	cr_assert(snap_budget_bytes(b, "a/1", 30, 11 * S, &w));
	cr_assert_not(snap_budget_bytes(b, "a/1", 101, 1000 * S, &w));
	cr_assert_eq(w, UINT64_MAX);
	snap_budget_free(b);
}

Test(snap_budget, full_table_reuses_the_oldest)
{
	struct snap_budget *b = mk(60, 1, 0, 0, 2);
	uint64_t w;

	cr_assert(snap_budget_file(b, "a/1", 1 * S, &w));
	cr_assert(snap_budget_file(b, "a/2", 2 * S, &w));
	cr_assert(snap_budget_file(b, "a/3", 3 * S, &w));  /* evicts a/1, the oldest */
	cr_assert(snap_budget_file(b, "a/1", 3 * S, &w));  /* back, full again */
	cr_assert_not(snap_budget_file(b, "a/1", 3 * S, &w));
	snap_budget_free(b);
}

Test(snap_budget, refuses_bad_config)
{
	struct snap_budget_config c = {30, 0, 0, 0, 4};
	struct snap_budget *b;

	cr_assert_eq(snap_budget_new(&c, &b), -EINVAL);
	c.files_burst = 1;
	c.max_students = 0;
	cr_assert_eq(snap_budget_new(&c, &b), -EINVAL);
}

Test(snap_budget, waiting_files_get_turns_apart)
{
	struct snap_budget *b = mk(60, 1, 0, 0, 4);    /* a token a second */
	uint64_t w1, w2, w3;

	cr_assert(snap_budget_file(b, "a/1", 10 * S, &w1));
	cr_assert_not(snap_budget_file(b, "a/1", 10 * S, &w1));
	cr_assert_not(snap_budget_file(b, "a/1", 10 * S, &w2));
	cr_assert_not(snap_budget_file(b, "a/1", 10 * S, &w3));
	cr_assert(w1 > 0.9 * S && w1 <= S + 1, "%llu", (unsigned long long)w1);
	cr_assert(w2 > 1.9 * S && w2 <= 2 * S + 2, "%llu", (unsigned long long)w2);
	cr_assert(w3 > 2.9 * S && w3 <= 3 * S + 3, "%llu", (unsigned long long)w3);
	snap_budget_free(b);
}
