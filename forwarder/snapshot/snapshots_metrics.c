/* snapshots_metrics: the jcw_snapshot_* series, filled at each scrape
 * from the counters snapshots.c and snapshots_take.c keep. */
#include "snapshots_int.h"

#include <errno.h>
#include <stddef.h>

const char *snapshots_result_name(enum snapshots_result r)
{
	static const char *const names[SNAPSHOTS_RESULT_COUNT] = {
		[SNAPSHOTS_STORED] = "stored",
		[SNAPSHOTS_UNCHANGED] = "unchanged",
		[SNAPSHOTS_TOO_LARGE] = "too_large",
		[SNAPSHOTS_FILTERED] = "filtered",
		[SNAPSHOTS_READ_ERROR] = "read_error",
		[SNAPSHOTS_STORE_ERROR] = "store_error",
		[SNAPSHOTS_OVER_BUDGET] = "over_budget",
		[SNAPSHOTS_OVER_QUOTA] = "over_quota",
	};

	return (unsigned)r < SNAPSHOTS_RESULT_COUNT ? names[r] : "unknown";
}

/* --- metrics --------------------------------------------------------------- */

static void snapshots_collect(struct metrics *m, void *arg)
{
	struct snapshots *s = arg;
	size_t i;

	(void)m;
	for (i = 0; i < SNAPSHOTS_RESULT_COUNT; i++)
		metric_set(s->m_result[i], (double)s->st.result[i]);
	for (i = 1; i < SNAP_PATH_RESULT_COUNT; i++)
		metric_set(s->m_path[i], (double)s->st.filtered_path[i]);
	for (i = 1; i < SNAP_FILTER_REASON_COUNT; i++)
		metric_set(s->m_rule[i], (double)s->st.filtered_rule[i]);
	metric_set(s->m_kind, (double)s->st.filtered_kind);
	for (i = 1; i < SNAP_READ_RESULT_COUNT; i++)
		metric_set(s->m_read[i], (double)s->st.read_errors[i]);
	metric_set(s->m_debounced, (double)s->st.debounced);
	metric_set(s->m_forced, (double)s->st.forced);
	metric_set(s->m_deferred, (double)s->st.deferred);
	metric_set(s->m_io, (double)worker_queued(s->worker));
	metric_set(s->m_bytes, (double)s->st.bytes_stored);
	metric_set(s->m_pending, (double)s->st.pending);
}

/* The families of one series each: where they go in struct snapshots. */
#define SM(field) offsetof(struct snapshots, field)
static const struct metric_def snapshot_singles[] = {
	{SM(m_debounced), METRIC_COUNTER, "jcw_snapshot_debounced_total",
	 "File saves and deletions merged into a later one of the same file (DEBOUNCE_WINDOW)."},
	{SM(m_forced), METRIC_COUNTER, "jcw_snapshot_forced_total",
	 "Files taken before their debounce deadline because too many were waiting."},
	{SM(m_bytes), METRIC_COUNTER, "jcw_snapshot_stored_bytes_total",
	 "Bytes of snapshot content written to SNAPSHOT_BASE."},
	{SM(m_pending), METRIC_GAUGE, "jcw_snapshot_pending_files",
	 "Files waiting for their debounce deadline."},
	{SM(m_deferred), METRIC_COUNTER, "jcw_snapshot_deferred_total",
	 "Files kept waiting, unread, because their student's storage budget was spent "
	 "(SNAPSHOT_STUDENT_*)."},
	{SM(m_io), METRIC_GAUGE, "jcw_snapshot_io_queue",
	 "Files handed to the snapshot worker and not finished yet (read, stored, registered)."},
};

int snapshots_add_metrics(struct snapshots *s, struct metrics *reg)
{
	static const char *const l_result[] = {"result", NULL};
	static const char *const l_reason[] = {"reason", NULL};
	struct metric_family *fr, *ff, *fe;
	size_t i;

	fr = metrics_family(reg, METRIC_COUNTER, "jcw_snapshot_events_total",
			    "File saves and deletions (a rename is both) by outcome; those merged "
			    "into a later one of the same file are in jcw_snapshot_debounced_total.",
			    l_result, NULL, 0);
	ff = metrics_family(reg, METRIC_COUNTER, "jcw_snapshot_filtered_total",
			    "File saves and deletions not snapshotted, by reason.", l_reason, NULL, 0);
	fe = metrics_family(reg, METRIC_COUNTER, "jcw_snapshot_read_errors_total",
			    "Files that could not be read safely for a snapshot, by reason.",
			    l_reason, NULL, 0);
	if (!fr || !ff || !fe ||
	    metrics_add_table(reg, s, snapshot_singles, sizeof(snapshot_singles) / sizeof(snapshot_singles[0])))
		return -ENOMEM;
	for (i = 0; i < SNAPSHOTS_RESULT_COUNT; i++)
		s->m_result[i] = metrics_get(fr, snapshots_result_name(i));
	for (i = 1; i < SNAP_PATH_RESULT_COUNT; i++)
		s->m_path[i] = metrics_get(ff, snap_path_result_name(i));
	for (i = 1; i < SNAP_FILTER_REASON_COUNT; i++)
		s->m_rule[i] = metrics_get(ff, snap_filter_reason_name(i));
	s->m_kind = metrics_get(ff, "unknown_kind");
	for (i = 1; i < SNAP_READ_RESULT_COUNT; i++)
		if (i != SNAP_READ_TOO_LARGE)
			s->m_read[i] = metrics_get(fe, snap_read_result_name(i));
	s->reg = reg;
	return metrics_on_collect(reg, snapshots_collect, s);
}
