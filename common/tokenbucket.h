/* tokenbucket: tokens refilled at a rate up to a burst, on the caller's
 * clock (any nanosecond clock used consistently: the event's own time, so
 * that a replay limits as the live run did). One implementation for every
 * per-student limit (delivery's event limit, the snapshots' file and byte
 * budgets).
 *
 * Time that goes a little backwards (events of several processes meet
 * out of order) refills nothing and leaves the clock where it was, else
 * the next event would refill the same interval twice; a step back of
 * more than TB_CLOCK_STEP_NS is a clock set back (or another capture),
 * and the refill starts again from there. */
#ifndef JCW_TOKENBUCKET_H
#define JCW_TOKENBUCKET_H

#include <stdbool.h>
#include <stdint.h>

#define TB_CLOCK_STEP_NS (60 * 1000000000ull)

struct token_bucket {
	double tokens;
	uint64_t at_ns;      /* the time tokens were counted at */
};

/* A full bucket at now. */
static inline void tb_fill(struct token_bucket *b, double burst, uint64_t now_ns)
{
	b->tokens = burst;
	b->at_ns = now_ns;
}

/* Adds rate per second since the last refill, up to burst. */
static inline void tb_refill(struct token_bucket *b, double rate, double burst, uint64_t now_ns)
{
	double t;

	if (now_ns > b->at_ns) {
		t = b->tokens + (double)(now_ns - b->at_ns) * 1e-9 * rate;
		b->tokens = t < burst ? t : burst;
		b->at_ns = now_ns;
	} else if (b->at_ns - now_ns > TB_CLOCK_STEP_NS) {
		b->at_ns = now_ns;
	}
}

/* Takes n tokens if there are that many. */
static inline bool tb_take(struct token_bucket *b, double n)
{
	if (b->tokens < n)
		return false;
	b->tokens -= n;
	return true;
}

/* Gives n back, up to burst (what a taken reservation did not use). */
static inline void tb_give(struct token_bucket *b, double n, double burst)
{
	b->tokens = b->tokens + n < burst ? b->tokens + n : burst;
}

/* Nanoseconds until the bucket holds n tokens at rate (> 0), at least 1. */
static inline uint64_t tb_wait_ns(const struct token_bucket *b, double n, double rate)
{
	return b->tokens >= n ? 1 : (uint64_t)((n - b->tokens) / rate * 1e9) + 1;
}

#endif
