/* snap_budget: each student's storage budget on the snapshot volume,
 * decided before the work: a file's burst is read and stored only if the
 * student has a file token left, and written only if its bytes fit. What
 * is over the budget costs a lookup and a counter, and waits (snapshots.c
 * keeps the file pending, so its latest version is stored once the budget
 * refills).
 *
 * Two token buckets per student ("{class_div}/{student_id}"): files, refilled
 * at files_per_min up to files_burst, and bytes, refilled at bytes_per_hour
 * up to bytes_burst. Defaults and why: docs/api.md, "Snapshots".
 *
 * Pure: the caller's clock (ns, monotonic in practice). Memory is fixed at
 * creation: max_students entries; when full, the entry used longest ago is
 * reused (its student starts again with full buckets: an idle student's
 * buckets are full anyway). */
#ifndef JCW_SNAP_BUDGET_H
#define JCW_SNAP_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct snap_budget_config {
	double files_per_min;       /* 0: no file budget */
	double files_burst;         /* >= 1 when files_per_min > 0 */
	double bytes_per_hour;      /* 0: no byte budget */
	double bytes_burst;         /* >= the largest snapshot when bytes_per_hour > 0 */
	size_t max_students;        /* >= 1 */
};

struct snap_budget;

/* 0, -EINVAL or -ENOMEM. */
int snap_budget_new(const struct snap_budget_config *cfg, struct snap_budget **out);
void snap_budget_free(struct snap_budget *b);

/* One file of student key at now: true and a token taken, or false with
 * *wait_ns the time until this file's turn (counted as refused). Turns are
 * handed out one token's time apart, so files that wait wake one by one. */
bool snap_budget_file(struct snap_budget *b, const char *key, uint64_t now_ns, uint64_t *wait_ns);
/* len bytes of that student: true and taken, or false with *wait_ns the
 * time until they fit (counted as refused; UINT64_MAX when they never fit
 * the burst). The file token stays spent: the attempt was work. */
bool snap_budget_bytes(struct snap_budget *b, const char *key, uint64_t len, uint64_t now_ns,
		       uint64_t *wait_ns);

/* Gives back what a taken file or bytes did not use (a reservation larger
 * than the file, a job that could not be queued), up to the bursts. */
void snap_budget_refund(struct snap_budget *b, const char *key, double files, uint64_t bytes,
			uint64_t now_ns);

/* Per student refused since the last report (files and bytes attempts);
 * returns how many students were reported. */
typedef void (*snap_budget_report_fn)(void *ctx, const char *key, uint64_t refused,
				      uint64_t total);
size_t snap_budget_report(struct snap_budget *b, snap_budget_report_fn fn, void *ctx);

/* Bytes its table allocated (NULL: 0). */
size_t snap_budget_memory(const struct snap_budget *b);

#endif
