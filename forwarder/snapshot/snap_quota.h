/* snap_quota: what each student holds on the snapshot volume in all, against
 * a cap (SNAPSHOT_STUDENT_TOTAL), so that however long a flood lasts, within
 * the per-window budget (snap_budget.h), it cannot fill the volume for
 * everybody. Defaults and why: docs/api.md, "Snapshots".
 *
 * A student's total starts from the disk: the first time they are seen
 * (since the start, or since their entry was reused) every snapshot under
 * {base}/{class_div}/{hw}/{student_id}/ is counted, those of earlier runs
 * and of the original's too; then each stored file is added. Links are not
 * followed and only regular files count.
 *
 * For the snapshot worker's thread only (worker.h): it does disk I/O.
 * Memory is fixed at creation: max_students entries, the one used longest
 * ago reused when full (its student is counted from the disk again). */
#ifndef JCW_SNAP_QUOTA_H
#define JCW_SNAP_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct snap_quota_config {
	const char *base;        /* SNAPSHOT_BASE */
	uint64_t max_bytes;      /* > 0 */
	size_t max_students;     /* >= 1 */
};

struct snap_quota;

/* 0, -EINVAL or -ENOMEM. */
int snap_quota_new(const struct snap_quota_config *cfg, struct snap_quota **out);
void snap_quota_free(struct snap_quota *q);

/* Whether len more bytes of the student fit under the cap; *used (may be
 * NULL) receives what they hold now. A base that cannot be read counts as
 * empty (the store then fails and says why). */
bool snap_quota_fits(struct snap_quota *q, const char *class_div, const char *student_id,
		     uint64_t len, uint64_t *used);
/* len bytes of the student were stored. */
void snap_quota_add(struct snap_quota *q, const char *class_div, const char *student_id,
		    uint64_t len);

/* Bytes its table allocated (NULL: 0). */
size_t snap_quota_memory(const struct snap_quota *q);

#endif
