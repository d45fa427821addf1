/* The error measures of dataset/measures.h on their worked examples. */
#include <criterion/criterion.h>
#include <math.h>

#include "measures.h"

#define X "'ID' undeclared (first use in this function)"
#define Y "expected ';' before 'ID'"

static const char *const x[] = {X}, *const y[] = {Y}, *const xy[] = {X, Y};

static struct compile_obs err(const char *const *t, size_t n, const char *state)
{
	return (struct compile_obs){.failed = true, .types = t, .ntypes = n, .code_state = state};
}

static struct compile_obs ok(const char *state)
{
	return (struct compile_obs){.failed = false, .code_state = state};
}

/* Jadud's example: errors X, X, Y. (X, X) scores 8 + 3 of 11, (X, Y) 8:
 * (1 + 8/11) / 2 = 0.8636... */
Test(measures, eq_x_x_y)
{
	struct compile_obs c[] = {err(x, 1, "s1"), err(x, 1, "s2"), err(y, 1, "s3")};
	struct measures m;

	measures_of(c, 3, &m);
	cr_assert(m.defined);
	cr_assert(fabs(m.eq - 0.863636) < 1e-6, "EQ %f", m.eq);
	cr_assert_eq(m.compiles, 3);
	cr_assert_eq(m.failed, 3);
	cr_assert(fabs(m.failed_share - 1.0) < 1e-9);
	/* One repeated pair (X, X), then a new error: 1^2 / 2. */
	cr_assert(fabs(m.red - 0.5) < 1e-9, "RED %f", m.red);
}

/* Becker's r^2 / (r + 1) per run of r repeated pairs: X X X is one run of
 * two (4/3); X X Y Y two runs of one (1/2 + 1/2); X Y X Y none. */
Test(measures, red_runs)
{
	struct compile_obs xxx[] = {err(x, 1, "a"), err(x, 1, "b"), err(x, 1, "c")};
	struct compile_obs xxyy[] = {err(x, 1, "a"), err(x, 1, "b"), err(y, 1, "c"), err(y, 1, "d")};
	struct compile_obs xyxy[] = {err(x, 1, "a"), err(y, 1, "b"), err(x, 1, "c"), err(y, 1, "d")};
	struct measures m;

	measures_of(xxx, 3, &m);
	cr_assert(fabs(m.red - 4.0 / 3.0) < 1e-9, "RED %f", m.red);
	cr_assert(fabs(m.eq - 1.0) < 1e-9, "EQ %f", m.eq);
	measures_of(xxyy, 4, &m);
	cr_assert(fabs(m.red - 1.0) < 1e-9, "RED %f", m.red);
	/* (8+3) + 8 + (8+3) over 3 pairs of 11 */
	cr_assert(fabs(m.eq - 30.0 / 33.0) < 1e-9, "EQ %f", m.eq);
	measures_of(xyxy, 4, &m);
	cr_assert(fabs(m.red) < 1e-9, "RED %f", m.red);
	cr_assert(fabs(m.eq - 8.0 / 11.0) < 1e-9, "EQ %f", m.eq);
}

/* A compile with several errors repeats when it shares one type. */
Test(measures, shared_type_among_many)
{
	struct compile_obs c[] = {err(xy, 2, "a"), err(y, 1, "b")};
	struct measures m;

	measures_of(c, 2, &m);
	cr_assert(fabs(m.eq - 1.0) < 1e-9);
	cr_assert(fabs(m.red - 0.5) < 1e-9);
}

/* Fixing: an error then a success scores 0; (X, X, Y, ok) is the
 * end-to-end test's student B: (1 + 8/11 + 0) / 3. */
Test(measures, errors_then_fixed)
{
	struct compile_obs c[] = {err(x, 1, "a"), err(x, 1, "b"), err(y, 1, "c"), ok("d")};
	struct measures m;

	measures_of(c, 4, &m);
	cr_assert(fabs(m.eq - (1 + 8.0 / 11.0) / 3) < 1e-9, "EQ %f", m.eq);
	cr_assert(fabs(m.red - 0.5) < 1e-9);
	cr_assert(fabs(m.failed_share - 0.75) < 1e-9);
}

/* A recompile of the same code state is no pair: X, X (same code), Y
 * counts only (X, Y). An unknown state (NULL or "") never matches. */
Test(measures, unchanged_code_skips_the_pair)
{
	struct compile_obs same[] = {err(x, 1, "s"), err(x, 1, "s"), err(y, 1, "t")};
	struct compile_obs unknown[] = {err(x, 1, ""), err(x, 1, ""), err(y, 1, NULL)};
	struct measures m;

	measures_of(same, 3, &m);
	cr_assert(fabs(m.eq - 8.0 / 11.0) < 1e-9, "EQ %f", m.eq);
	cr_assert(fabs(m.red) < 1e-9);
	measures_of(unknown, 3, &m);
	cr_assert(fabs(m.eq - 0.863636) < 1e-6, "EQ %f", m.eq);
}

/* No error at all: 0 (even with a single compile). Errors but no pair:
 * undefined. Nothing: undefined. */
Test(measures, edges)
{
	struct compile_obs one_ok[] = {ok("a")}, one_err[] = {err(x, 1, "a")};
	struct compile_obs all_ok[] = {ok("a"), ok("b"), ok("c")};
	struct measures m;

	measures_of(one_ok, 1, &m);
	cr_assert(m.defined && m.eq == 0 && m.red == 0);
	measures_of(all_ok, 3, &m);
	cr_assert(m.defined && m.eq == 0 && m.red == 0 && m.failed_share == 0);
	measures_of(one_err, 1, &m);
	cr_assert(!m.defined);
	cr_assert(fabs(m.failed_share - 1) < 1e-9);
	measures_of(NULL, 0, &m);
	cr_assert(!m.defined && m.compiles == 0);
}

/* A failed compile whose messages were not captured still fails: two of
 * them score 8 (no shared type known). */
Test(measures, failed_without_types)
{
	struct compile_obs c[] = {err(NULL, 0, "a"), err(NULL, 0, "b")};
	struct measures m;

	measures_of(c, 2, &m);
	cr_assert(fabs(m.eq - 8.0 / 11.0) < 1e-9);
	cr_assert(m.red == 0);
}
