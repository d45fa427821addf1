/* snapshots_metrics: the jcw_snapshot_* series, filled at each scrape
 * from the counters snapshots.c and snapshots_take.c keep. */
#include <errno.h>

#include "snapshots_int.h"

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

int snapshots_add_metrics(struct snapshots *s, struct metrics *reg)
{
	static const char *const l_result[] = {"result", NULL};
	static const char *const l_reason[] = {"reason", NULL};
	struct metric_family *fr, *ff, *fe, *fd, *fo, *fb, *fp, *fw, *fi;
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
	fd = metrics_family(reg, METRIC_COUNTER, "jcw_snapshot_debounced_total",
			    "File saves and deletions merged into a later one of the same file "
			    "(DEBOUNCE_WINDOW).", NULL, NULL, 0);
	fo = metrics_family(reg, METRIC_COUNTER, "jcw_snapshot_forced_total",
			    "Files taken before their debounce deadline because too many were "
			    "waiting.", NULL, NULL, 0);
	fb = metrics_family(reg, METRIC_COUNTER, "jcw_snapshot_stored_bytes_total",
			    "Bytes of snapshot content written to SNAPSHOT_BASE.", NULL, NULL, 0);
	fp = metrics_family(reg, METRIC_GAUGE, "jcw_snapshot_pending_files",
			    "Files waiting for their debounce deadline.", NULL, NULL, 0);
	fw = metrics_family(reg, METRIC_COUNTER, "jcw_snapshot_deferred_total",
			    "Files kept waiting, unread, because their student's storage budget "
			    "was spent (SNAPSHOT_STUDENT_*).", NULL, NULL, 0);
	fi = metrics_family(reg, METRIC_GAUGE, "jcw_snapshot_io_queue",
			    "Files handed to the snapshot worker and not finished yet (read, "
			    "stored, registered).", NULL, NULL, 0);
	if (!fr || !ff || !fe || !fd || !fo || !fb || !fp || !fw || !fi)
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
	s->m_debounced = metrics_series(fd, NULL);
	s->m_forced = metrics_series(fo, NULL);
	s->m_bytes = metrics_series(fb, NULL);
	s->m_pending = metrics_series(fp, NULL);
	s->m_deferred = metrics_series(fw, NULL);
	s->m_io = metrics_series(fi, NULL);
	s->reg = reg;
	return metrics_on_collect(reg, snapshots_collect, s);
}
