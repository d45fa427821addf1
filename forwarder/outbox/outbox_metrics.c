#include "outbox_metrics.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "clock.h"

static const char *const l_outcome[] = {"outcome", NULL};

static void collect(struct metrics *m, void *arg)
{
	struct outbox_metrics *om = arg;
	struct outbox *ob = outbox_flow_outbox(om->fl);
	const struct outbox_flow_stats *fs = outbox_flow_stats(om->fl);
	const struct input_stats *is = om->in ? input_stats(om->in) : NULL;
	const struct outbox_stats *os;
	double oldest;
	int i;

	(void)m;
	metric_set(om->enabled, ob ? 1 : 0);
	if (is) {
		metric_set(om->acked, (double)is->acked_seq);
		metric_set(om->acks, (double)is->acks_sent);
		metric_set(om->resends, (double)is->resends);
		metric_set(om->dup_frames, (double)is->seq_duplicates);
	}
	for (i = 0; i < DELIVER_OUTCOME_COUNT; i++)
		metric_set(om->outcome[i], (double)fs->outcome[i]);
	metric_set(om->retries, (double)fs->retries);
	metric_set(om->backpressure, (double)fs->backpressure);
	if (!ob)
		return;
	outbox_read_gauges(ob);
	os = outbox_stats(ob);
	oldest = os->oldest_unix;
	metric_set(om->age, oldest > 0 ? clock_unix_s() - oldest : 0);
	metric_set(om->rows, (double)os->rows);
	metric_set(om->bytes, (double)os->bytes);
	metric_set(om->max, (double)om->max_bytes);
	metric_set(om->full, outbox_full(ob) ? 1 : 0);
	metric_set(om->execs, (double)os->pending_execs);
	metric_set(om->staged, (double)os->staged);
	metric_set(om->stored, (double)os->inserted);
	metric_set(om->unwritten, (double)os->unwritten);
	metric_set(om->dup_events, (double)os->duplicates);
	metric_set(om->dead, (double)(os->dead_letters + fs->feed_invalid));
	metric_set(om->dead_rows, (double)os->dead_rows);
	metric_set(om->dead_pruned, (double)os->dead_pruned);
	metric_set(om->disk_full, (double)os->disk_full);
	metric_set(om->disk_full_now, os->disk_full_now ? 1 : 0);
	metric_set(om->commits, (double)os->commits);
	metric_set(om->commit_errors, (double)os->commit_errors);
	metric_set(om->quarantined, (double)os->quarantined_files);
	metric_set(om->salvaged, (double)os->salvaged_rows);
	metric_set(om->unreadable, (double)os->unreadable);
	metric_hist_from(om->commit_s, &os->commit_seconds);
	metric_hist_from(om->commit_w, &os->commit_writes);
}


/* The families of one series each: where they go in struct outbox_metrics. */
#define OM(field) offsetof(struct outbox_metrics, field)
static const struct metric_def outbox_singles[] = {
	{OM(enabled), METRIC_GAUGE, "jcw_outbox_enabled",
	 "1 when events go through the durable outbox in STATE_DIR."},
	{OM(rows), METRIC_GAUGE, "jcw_outbox_rows",
	 "Events stored and not yet accepted by the API."},
	{OM(bytes), METRIC_GAUGE, "jcw_outbox_bytes",
	 "Size of the stored events (bodies, paths and keys, 64 bytes overhead each)."},
	{OM(max), METRIC_GAUGE, "jcw_outbox_max_bytes",
	 "OUTBOX_MAX_BYTES."},
	{OM(full), METRIC_GAUGE, "jcw_outbox_full",
	 "1 while the outbox is at OUTBOX_MAX_BYTES: no frames are read or acknowledged."},
	{OM(age), METRIC_GAUGE, "jcw_outbox_oldest_pending_age_seconds",
	 "Age of the oldest stored event (0: none)."},
	{OM(execs), METRIC_GAUGE, "jcw_outbox_pending_execs",
	 "Frames stored while they wait in memory: execs for their exit, file actions for their snapshot."},
	{OM(staged), METRIC_GAUGE, "jcw_outbox_staged_writes",
	 "Writes waiting for the next group commit."},
	{OM(stored), METRIC_COUNTER, "jcw_outbox_stored_events_total",
	 "Events made durable in the outbox."},
	{OM(unwritten), METRIC_COUNTER, "jcw_outbox_unwritten_events_total",
	 "Events the API accepted before their group commit, so never written to the file "
	 "(their frames are acknowledged by that commit all the same)."},
	{OM(dup_events), METRIC_COUNTER, "jcw_outbox_duplicate_events_total",
	 "Events not stored because an event with the same event_id was pending."},
	{OM(retries), METRIC_COUNTER, "jcw_outbox_retries_total",
	 "Failed delivery attempts of stored events (retried with backoff)."},
	{OM(dead), METRIC_COUNTER, "jcw_outbox_dead_letters_total",
	 "Events moved to the dead_letter table (refused by the API, or unsendable)."},
	{OM(dead_rows), METRIC_GAUGE, "jcw_outbox_dead_letter_rows",
	 "Rows of the dead_letter table."},
	{OM(dead_pruned), METRIC_COUNTER, "jcw_outbox_dead_letters_pruned_total",
	 "Oldest dead letters removed to keep at most 10000."},
	{OM(acked), METRIC_GAUGE, "jcw_outbox_acked_seq",
	 "Sequence number of the last Ack sent to a collector."},
	{OM(acks), METRIC_COUNTER, "jcw_outbox_acks_total",
	 "Ack frames sent to collectors."},
	{OM(resends), METRIC_COUNTER, "jcw_outbox_resends_total",
	 "Collector connections that began by resending frames already processed."},
	{OM(dup_frames), METRIC_COUNTER, "jcw_outbox_duplicate_frames_total",
	 "Frames dropped because their boot's sequence number was already processed."},
	{OM(disk_full), METRIC_COUNTER, "jcw_outbox_disk_full_total",
	 "Group commits that failed because the disk was full (retried)."},
	{OM(disk_full_now), METRIC_GAUGE, "jcw_outbox_disk_full",
	 "1 while the last group commit failed for lack of space."},
	{OM(commits), METRIC_COUNTER, "jcw_outbox_commits_total",
	 "Group commits done."},
	{OM(commit_errors), METRIC_COUNTER, "jcw_outbox_commit_errors_total",
	 "Group commits that failed (any cause; retried)."},
	{OM(quarantined), METRIC_COUNTER, "jcw_outbox_quarantined_files_total",
	 "Damaged outbox files moved to STATE_DIR/quarantine/ at start."},
	{OM(salvaged), METRIC_COUNTER, "jcw_outbox_salvaged_rows_total",
	 "Events copied out of a damaged outbox file at start."},
	{OM(unreadable), METRIC_COUNTER, "jcw_outbox_salvage_read_errors_total",
	 "Read errors met while salvaging a damaged outbox (each may hide rows)."},
	{OM(backpressure), METRIC_COUNTER, "jcw_outbox_backpressure_total",
	 "Times reading from the collector paused for the outbox (full or failing)."},
};

int outbox_metrics_add(struct outbox_metrics *om, struct metrics *reg, struct outbox_flow *fl,
		       const struct input *in, uint64_t max_bytes)
{
	struct metric_family *f;
	int i;

	memset(om, 0, sizeof(*om));
	om->fl = fl;
	om->in = in;
	om->max_bytes = max_bytes;
	if (metrics_add_table(reg, om, outbox_singles, sizeof(outbox_singles) / sizeof(outbox_singles[0])))
		return -ENOMEM;
	f = metrics_labelled(reg, METRIC_COUNTER, "jcw_outbox_deliveries_total",
		"Stored events by final outcome: delivered (2xx/409, row deleted), rejected "
		"(final 4xx, moved to dead_letter), abandoned (kept for the next start).", l_outcome);
	for (i = 0; i < DELIVER_OUTCOME_COUNT; i++)
		om->outcome[i] = metrics_get(f, deliver_outcome_name(i));
	om->commit_s = metrics_series(metrics_family(reg, METRIC_HISTOGRAM,
						     "jcw_outbox_commit_duration_seconds",
						     "Duration of group commits (fsync included).", NULL,
						     outbox_commit_seconds_bounds, OUTBOX_HIST_BUCKETS),
				      NULL);
	om->commit_w = metrics_series(metrics_family(reg, METRIC_HISTOGRAM, "jcw_outbox_commit_writes",
						     "Writes per group commit.", NULL,
						     outbox_commit_writes_bounds, OUTBOX_HIST_BUCKETS),
				      NULL);
	if (!om->enabled || !om->backpressure || !om->commit_s || !om->commit_w || !om->outcome[0] ||
	    metrics_on_collect(reg, collect, om))
		return -ENOMEM;
	collect(reg, om);
	return 0;
}
