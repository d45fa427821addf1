#include "measures.h"

#include <string.h>

static bool share_type(const struct compile_obs *a, const struct compile_obs *b)
{
	size_t i, j;

	for (i = 0; i < a->ntypes; i++)
		for (j = 0; j < b->ntypes; j++)
			if (!strcmp(a->types[i], b->types[j]))
				return true;
	return false;
}

static bool same_state(const struct compile_obs *a, const struct compile_obs *b)
{
	return a->code_state && b->code_state && a->code_state[0] &&
	       !strcmp(a->code_state, b->code_state);
}

void measures_of(const struct compile_obs *c, size_t n, struct measures *out)
{
	size_t i, pairs = 0, run = 0;
	double eq = 0, red = 0;

	memset(out, 0, sizeof(*out));
	out->compiles = n;
	for (i = 0; i < n; i++)
		out->failed += c[i].failed;
	out->failed_share = n ? (double)out->failed / (double)n : 0;
	for (i = 0; i + 1 < n; i++) {
		const struct compile_obs *a = &c[i], *b = &c[i + 1];
		bool shared;
		int score = 0;

		if (same_state(a, b))
			continue;
		pairs++;
		shared = share_type(a, b);
		if (a->failed && b->failed)
			score = 8 + (shared ? 3 : 0);
		eq += score / 11.0;
		if (shared) {
			run++;
		} else {
			red += run ? (double)(run * run) / (double)(run + 1) : 0;
			run = 0;
		}
	}
	red += run ? (double)(run * run) / (double)(run + 1) : 0;
	if (n && !out->failed) {
		out->defined = true;   /* eq = red = 0 */
		return;
	}
	if (!pairs)
		return;
	out->defined = true;
	out->eq = eq / (double)pairs;
	out->red = red;
}
