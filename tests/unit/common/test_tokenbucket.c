/* The token bucket every per-student limit uses, on an injected clock. */
#include <criterion/criterion.h>
#include <math.h>

#include "tokenbucket.h"

#define S 1000000000ull

Test(tokenbucket, burst_then_rate)
{
	struct token_bucket b;
	int i;

	tb_fill(&b, 3, 10 * S);
	for (i = 0; i < 3; i++)
		cr_assert(tb_take(&b, 1));
	cr_assert_not(tb_take(&b, 1), "the burst is spent");
	cr_assert_eq(tb_wait_ns(&b, 1, 2.0), S / 2 + 1, "half a second at 2 a second");
	tb_refill(&b, 2.0, 3, 10 * S + S / 2);
	cr_assert(tb_take(&b, 1));
	tb_refill(&b, 2.0, 3, 100 * S);
	cr_assert(fabs(b.tokens - 3) < 1e-9, "never over the burst: %f", b.tokens);
	cr_assert_eq(tb_wait_ns(&b, 1, 2.0), 1, "no wait when there are tokens");
}

/* A little back in time: no refill and the clock stays, so the interval
 * is not refilled twice; far back: the clock restarts there. */
Test(tokenbucket, time_going_back)
{
	struct token_bucket b;

	tb_fill(&b, 10, 100 * S);
	cr_assert(tb_take(&b, 10));
	tb_refill(&b, 1.0, 10, 99 * S);
	cr_assert(b.tokens == 0 && b.at_ns == 100 * S);
	tb_refill(&b, 1.0, 10, 101 * S);
	cr_assert(fabs(b.tokens - 1) < 1e-9, "one second since 100 s: %f", b.tokens);
	tb_refill(&b, 1.0, 10, 101 * S - TB_CLOCK_STEP_NS - 1);
	cr_assert_eq(b.at_ns, 101 * S - TB_CLOCK_STEP_NS - 1, "a clock set back restarts");
	tb_refill(&b, 1.0, 10, 101 * S - TB_CLOCK_STEP_NS + 2 * S - 1);
	cr_assert(fabs(b.tokens - 3) < 1e-9, "refilled from the new time: %f", b.tokens);
}

Test(tokenbucket, give_back_up_to_burst)
{
	struct token_bucket b;

	tb_fill(&b, 100, 0);
	cr_assert(tb_take(&b, 60));
	tb_give(&b, 10, 100);
	cr_assert(fabs(b.tokens - 50) < 1e-9);
	tb_give(&b, 1000, 100);
	cr_assert(fabs(b.tokens - 100) < 1e-9);
	cr_assert_not(tb_take(&b, 101));
}
