/* app_metrics: the forwarder's metric families (all prefixed jcw_) and the
 * hook that copies the input, join and delivery counters into them when
 * /metrics is scraped. Counters of things only the glue sees (pipeline
 * results, Lost frames, heartbeats, unmatched exits) are kept here as
 * series the glue increments directly. */
#ifndef JCW_APP_METRICS_H
#define JCW_APP_METRICS_H

#include <stddef.h>

#include "delivery/deliver.h"
#include "delivery/ratelimit.h"
#include "outbox/outbox_flow.h"
#include "snapshot/snapshots.h"
#include "input/errjoin.h"
#include "input/fairq.h"
#include "input/input.h"
#include "input/join.h"
#include "observe/metrics.h"
#include "observe/httpd.h"
#include "process/pipeline.h"

#define APP_LOST_SOURCES 8   /* jcw.LostSource values 0..6, and "other" */
/* The tables of jcw_table_memory_bytes, in app_metrics.c's order. */
enum app_mem_table { APP_MEM_JOIN, APP_MEM_LANES, APP_MEM_STDERR, APP_MEM_DELIVERY, APP_MEM_OUTBOX,
		     APP_MEM_SQLITE, APP_MEM_SNAPSHOTS, APP_MEM_RATELIMIT, APP_MEM_PROVENANCE,
		     APP_MEM_TABLES };

struct app_metrics {
	struct metrics *reg;
	struct metric_series *pipe_result[PIPE_RESULT_COUNT];
	struct metric_series *pipe_reason[PIPE_REASON_COUNT];
	struct metric_series *proc_type[PROC_TYPE_COUNT];
	struct metric_series *lost[APP_LOST_SOURCES];
	struct metric_series *unmatched, *unrecorded;
	struct metric_series *last_heartbeat;
	struct metric_series *coll_queue_frames, *coll_queue_bytes;
	struct metric_series *forged_hostname;
	struct metric_series *print_errors;
	struct metric_series *age_received, *age_delivered;   /* jcw_event_age_seconds */
	struct metric_series *ratelimited;
	/* jcw_stderr_texts_total{fate}: logged and dropped by the glue. */
	struct metric_series *err_logged, *err_dropped;

	/* Copied from their owners at scrape time (each may be NULL). */
	const struct input *in;
	const struct join_table *join;
	const struct fairq *fq;
	const struct errjoin *errtexts;
	const struct deliver *dl;
	const struct httpd *http;
	const struct snapshots *snap;
	const struct ratelimit *rl;
	const struct provenance *prov;
	struct outbox_flow *flow;
	/* jcw_table_memory_bytes{table}: each bounded table's bytes. */
	struct metric_series *mem[APP_MEM_TABLES];
	struct metric_family *f_frames, *f_errors, *f_rejected, *f_api_req, *f_api_dur, *f_http;
	struct metric_series *http_open;
	struct metric_series *accepted, *active, *bytes, *gaps, *dups, *last_frame;
	struct metric_series *lane_frames, *lane_bytes, *lanes;
	struct metric_series *err_pieces, *err_unread, *err_entries, *err_handed, *err_evicted;
	struct metric_series *err_evicted_share, *err_expired;
	struct metric_series *join_entries, *join_expired, *join_replaced, *join_evicted;
	struct metric_series *join_evicted_share, *join_bytes;
	struct metric_series *api_delivered, *api_retries, *api_rejected, *api_dropped,
		*api_abandoned, *api_inflight, *api_queue, *api_circuit, *api_last_success;
};

/* Creates the registry and every family. 0 or -ENOMEM. */
int app_metrics_init(struct app_metrics *am);
void app_metrics_free(struct app_metrics *am);
/* Counts n records lost at `source` (a jcw.LostSource value). */
void app_metrics_lost(struct app_metrics *am, int source, double n);
/* The source's label value in jcw_lost_records_total ("orphaned"). */
const char *app_metrics_lost_name(int source);

#endif
