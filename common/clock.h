/* clock: the daemons' two clocks, in the units they use them.
 *
 * CLOCK_REALTIME for what is reported or stored (event and row times),
 * CLOCK_MONOTONIC for every interval and deadline, so a clock step never
 * fires or starves a timer. */
#ifndef JCW_CLOCK_H
#define JCW_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_mono_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
static inline uint64_t clock_unix_ns(void) { return clock_ns(CLOCK_REALTIME); }
static inline double clock_mono_s(void) { return (double)clock_mono_ns() / 1e9; }
static inline double clock_unix_s(void) { return (double)clock_unix_ns() / 1e9; }

#endif
