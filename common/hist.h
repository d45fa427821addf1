/* hist: observations counted under fixed upper bounds, kept where they
 * happen (delivery, the outbox) and copied into a Prometheus histogram
 * when scraped (metric_hist_from). */
#ifndef JCW_HIST_H
#define JCW_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_MAX_BUCKETS 16

struct hist {
	uint64_t le[HIST_MAX_BUCKETS];   /* cumulative: observations <= bounds[i] */
	uint64_t count;                  /* all observations (the +Inf bucket) */
	double sum;
};

/* bounds: n (<= HIST_MAX_BUCKETS) strictly increasing upper bounds. */
static inline void hist_observe(struct hist *h, const double *bounds, size_t n, double v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v <= bounds[i])
			h->le[i]++;
	h->count++;
	h->sum += v;
}

#endif
