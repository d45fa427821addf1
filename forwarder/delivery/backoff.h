/* backoff: retry delays for delivery.
 *
 * Capped exponential backoff with "full jitter": the n-th retry waits a
 * uniformly random time in [0, min(cap, base * 2^(n-1))). Spreading retries
 * over the whole window (rather than base*2^n +- a little) keeps many
 * forwarders that failed together from retrying together; see the AWS
 * Architecture Blog, "Exponential Backoff And Jitter" (2015), which
 * fluent-bit's scheduler also follows. Pure: the random source is injected. */
#ifndef JCW_BACKOFF_H
#define JCW_BACKOFF_H

#include <stdint.h>
#include <time.h>

/* Returns a uniform double in [0, 1). */
typedef double (*backoff_rand_fn)(void *arg);

/* Delay in seconds before retry number `attempt` (1 = first retry).
 * attempt 0 is treated as 1; base and cap <= 0 give 0. */
double backoff_delay(unsigned attempt, double base_s, double cap_s,
		     backoff_rand_fn rnd, void *arg);

/* Parses a Retry-After value: delta-seconds ("120") or an HTTP-date
 * ("Wed, 21 Oct 2015 07:28:00 GMT", relative to now). A date in the past
 * gives 0. Returns 0 and *out_s, or -EINVAL. */
int backoff_parse_retry_after(const char *value, time_t now, double *out_s);

/* A small xorshift64* generator for backoff_delay (state must not be 0;
 * backoff_rng_seed picks a non-zero seed from the clock and pid). */
struct backoff_rng {
	uint64_t s;
};
void backoff_rng_seed(struct backoff_rng *r);
double backoff_rng_next(void *rng);

#endif
