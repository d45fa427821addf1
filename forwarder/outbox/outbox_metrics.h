/* outbox_metrics: the jcw_outbox_* families (Prometheus text, through the
 * forwarder's metrics registry), refreshed from the outbox, the flow and
 * input's acknowledgement counters at every scrape. */
#ifndef JCW_OUTBOX_METRICS_H
#define JCW_OUTBOX_METRICS_H

#include <stdint.h>

#include "input/input.h"
#include "observe/metrics.h"
#include "outbox_flow.h"

struct outbox_metrics {
	struct outbox_flow *fl;
	const struct input *in;
	uint64_t max_bytes;
	struct metric_series *enabled, *rows, *bytes, *max, *full, *age, *execs, *staged,
		*stored, *unwritten, *dup_events, *outcome[DELIVER_OUTCOME_COUNT], *retries, *dead,
		*dead_rows, *dead_pruned, *acked, *acks, *resends, *dup_frames, *disk_full,
		*disk_full_now, *commits, *commit_errors, *commit_s, *commit_w, *quarantined,
		*salvaged, *unreadable, *backpressure;
};

/* Registers the families in reg; om (and fl, in) must outlive reg.
 * 0 or -ENOMEM. */
int outbox_metrics_add(struct outbox_metrics *om, struct metrics *reg, struct outbox_flow *fl,
		       const struct input *in, uint64_t max_bytes);

#endif
