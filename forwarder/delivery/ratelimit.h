/* ratelimit: a token bucket per student, so one student's flood (a
 * `while true; do ./a.out; done` loop runs ~1,400 times a second on one
 * core) cannot fill the delivery queue and the API with copies of itself.
 *
 * Each key (the api_request's student_key, "{class_div}/{student_id}") has a
 * bucket of `burst` tokens refilled at `rate` per second; an event takes one
 * token or is refused. Refused events are counted per student until the
 * next ratelimit_report, which hands each student's count to the caller to
 * log, so excess is summarised, never silently dropped.
 *
 * Pure: the clock is the caller's (any nanosecond clock, used consistently;
 * the forwarder passes the event's own time so replays limit exactly as the
 * live run did). An event a little older than the student's last (events
 * meet out of order) refills nothing and leaves the clock where it was; one
 * over RATELIMIT_CLOCK_STEP_NS older restarts the refill from its time
 * (common/tokenbucket.h). Memory is fixed at ratelimit_new: a keytab of
 * max_students entries, evicting the student seen least recently (an idle
 * one: a full bucket is the same as a new entry). */
#ifndef JCW_RATELIMIT_H
#define JCW_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "process/student.h"

#define RATELIMIT_STUDENTS_DEFAULT 4096
/* An event this much older than the student's last is not reordering but
 * a clock set back (or another capture): the refill starts again from it. */
#define RATELIMIT_CLOCK_STEP_NS (60 * 1000000000ull)

struct ratelimit_config {
	uint64_t rate;          /* tokens per second; 0 disables the limit */
	uint64_t burst;         /* bucket size, at least 1 when rate > 0 */
	size_t max_students;    /* table size, at least 1 */
};

struct ratelimit_stats {
	uint64_t allowed;
	uint64_t limited;       /* refused, over all students */
	uint64_t evicted;       /* entries reused for another student */
	uint64_t untracked;     /* keys over STUDENT_KEY_MAX: allowed, not limited */
	size_t students;        /* entries in use */
};

struct ratelimit;

/* 0, -EINVAL (rate > 0 with burst 0, or max_students 0) or -ENOMEM. */
int ratelimit_new(const struct ratelimit_config *cfg, struct ratelimit **out);
void ratelimit_free(struct ratelimit *rl);

/* true if the event of key (NULL = "") at now_ns may go; false if it is
 * over the student's limit (counted). Always true when the limit is off. */
bool ratelimit_allow(struct ratelimit *rl, const char *key, uint64_t now_ns);

/* Called once per student with events refused since the last report:
 * suppressed in that interval and since the start. key is NULL for the
 * refusals of students whose entries were evicted meanwhile. */
typedef void (*ratelimit_report_fn)(void *ctx, const char *key, uint64_t suppressed,
				    uint64_t total);
/* Reports and resets the per-interval counts; returns how many students
 * (and the evicted group) were reported. */
size_t ratelimit_report(struct ratelimit *rl, ratelimit_report_fn fn, void *ctx);

const struct ratelimit_stats *ratelimit_stats(const struct ratelimit *rl);

/* Bytes its table allocated (NULL: 0). */
size_t ratelimit_memory(const struct ratelimit *rl);

#endif
