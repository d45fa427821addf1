/* Retry delays: exponential growth, cap, full-jitter range, Retry-After. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>

#include "delivery/backoff.h"

static double fixed(void *arg)
{
	return *(double *)arg;
}

Test(backoff, grows_exponentially_until_cap)
{
	double one = 0.999999;   /* top of the jitter range: the window itself */

	cr_assert_float_eq(backoff_delay(1, 0.5, 60, fixed, &one), 0.5 * one, 1e-9);
	cr_assert_float_eq(backoff_delay(2, 0.5, 60, fixed, &one), 1.0 * one, 1e-9);
	cr_assert_float_eq(backoff_delay(3, 0.5, 60, fixed, &one), 2.0 * one, 1e-9);
	cr_assert_float_eq(backoff_delay(5, 0.5, 60, fixed, &one), 8.0 * one, 1e-9);
	cr_assert_float_eq(backoff_delay(8, 0.5, 60, fixed, &one), 60.0 * one, 1e-9);
	/* attempt 0 is the first retry */
	cr_assert_float_eq(backoff_delay(0, 0.5, 60, fixed, &one), 0.5 * one, 1e-9);
}

Test(backoff, huge_attempt_stays_at_cap)
{
	double one = 0.999999;

	cr_assert_float_eq(backoff_delay(4000000000u, 1, 30, fixed, &one), 30 * one, 1e-9);
}

Test(backoff, base_above_cap_is_capped)
{
	double half = 0.5;

	cr_assert_float_eq(backoff_delay(1, 10, 4, fixed, &half), 2.0, 1e-9);
}

Test(backoff, full_jitter_spans_zero_to_window)
{
	double zero = 0, half = 0.5;

	cr_assert_float_eq(backoff_delay(4, 1, 60, fixed, &zero), 0, 1e-12);
	cr_assert_float_eq(backoff_delay(4, 1, 60, fixed, &half), 4.0, 1e-9);
}

Test(backoff, broken_random_source_gives_zero)
{
	double bad = 1.5, nan_v = NAN;

	cr_assert_float_eq(backoff_delay(3, 1, 60, fixed, &bad), 0, 1e-12);
	cr_assert_float_eq(backoff_delay(3, 1, 60, fixed, &nan_v), 0, 1e-12);
}

Test(backoff, zero_config_gives_zero)
{
	double half = 0.5;

	cr_assert_float_eq(backoff_delay(3, 0, 60, fixed, &half), 0, 1e-12);
	cr_assert_float_eq(backoff_delay(3, 1, 0, fixed, &half), 0, 1e-12);
}

Test(backoff, rng_stays_in_unit_interval_and_spreads)
{
	struct backoff_rng r;
	unsigned low = 0, high = 0;

	backoff_rng_seed(&r);
	for (int i = 0; i < 10000; i++) {
		double v = backoff_rng_next(&r);

		cr_assert(v >= 0 && v < 1, "value %f out of [0,1)", v);
		if (v < 0.5)
			low++;
		else
			high++;
	}
	/* a degenerate generator (constant, stuck bit) fails this by far */
	cr_assert(low > 4000 && high > 4000, "low %u high %u", low, high);
}

Test(retry_after, delta_seconds)
{
	double s = -1;

	cr_assert_eq(backoff_parse_retry_after("120", 0, &s), 0);
	cr_assert_float_eq(s, 120, 1e-9);
	cr_assert_eq(backoff_parse_retry_after(" 0 ", 0, &s), 0);
	cr_assert_float_eq(s, 0, 1e-9);
}

Test(retry_after, http_date)
{
	/* Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 */
	double s = -1;

	cr_assert_eq(backoff_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT",
					       1445412480 - 90, &s), 0);
	cr_assert_float_eq(s, 90, 1e-9);
	/* in the past: retry now */
	cr_assert_eq(backoff_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT",
					       1445412480 + 5, &s), 0);
	cr_assert_float_eq(s, 0, 1e-9);
}

Test(retry_after, rejects_garbage)
{
	double s = 7;

	cr_assert_eq(backoff_parse_retry_after(NULL, 0, &s), -EINVAL);
	cr_assert_eq(backoff_parse_retry_after("", 0, &s), -EINVAL);
	cr_assert_eq(backoff_parse_retry_after("-5", 0, &s), -EINVAL);
	cr_assert_eq(backoff_parse_retry_after("12abc", 0, &s), -EINVAL);
	cr_assert_eq(backoff_parse_retry_after("99999999999999999999999", 0, &s), -EINVAL);
	cr_assert_eq(backoff_parse_retry_after("Wed, 21 Foo 2015 07:28:00 GMT", 0, &s), -EINVAL);
	cr_assert_eq(backoff_parse_retry_after("Wed, 21 Oct 2015 07:28:00 PST", 0, &s), -EINVAL);
	cr_assert_eq(backoff_parse_retry_after("Wed, 21 Oct 2015 25:28:00 GMT", 0, &s), -EINVAL);
	cr_assert_eq(backoff_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT x", 0, &s), -EINVAL);
	cr_assert_float_eq(s, 7, 1e-12, "untouched on error");
}
