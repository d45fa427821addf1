/* The fate of one attempt, from what came back. */
#include <criterion/criterion.h>

#include "delivery/verdict.h"

Test(verdict, answers)
{
	static const struct { long status; enum verdict v; } cases[] = {
		{200, VERDICT_OK}, {201, VERDICT_OK}, {204, VERDICT_OK}, {299, VERDICT_OK},
		{409, VERDICT_OK},   /* the API has it already */
		{400, VERDICT_ERROR}, {401, VERDICT_ERROR}, {404, VERDICT_ERROR},
		{413, VERDICT_ERROR}, {422, VERDICT_ERROR}, {499, VERDICT_ERROR},
		{408, VERDICT_RETRY}, {429, VERDICT_RETRY},
		{500, VERDICT_RETRY}, {502, VERDICT_RETRY}, {503, VERDICT_RETRY}, {599, VERDICT_RETRY},
		{100, VERDICT_RETRY}, {301, VERDICT_RETRY}, {304, VERDICT_RETRY}, /* not expected */
		{0, VERDICT_RETRY}, {-1, VERDICT_RETRY}, {1000, VERDICT_RETRY},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(verdict_of(true, cases[i].status), cases[i].v, "HTTP %ld", cases[i].status);
}

Test(verdict, no_answer_is_retried)
{
	cr_assert_eq(verdict_of(false, 0), VERDICT_RETRY);
	/* whatever status a failed transfer left behind */
	cr_assert_eq(verdict_of(false, 200), VERDICT_RETRY);
	cr_assert_eq(verdict_of(false, 422), VERDICT_RETRY);
}

Test(verdict, retry_after)
{
	cr_assert(verdict_reads_retry_after(429));
	cr_assert(verdict_reads_retry_after(503));
	cr_assert_not(verdict_reads_retry_after(500));
	cr_assert_not(verdict_reads_retry_after(200));
}
