#include "app_metrics.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const lost_names[APP_LOST_SOURCES] = {
	"unspecified", "kernel_ringbuf", "collector_queue", "collector_decode", "container_budget",
	"container_share", "orphaned", "other",
};

static const char *const l_type[] = {"type", NULL};
static const char *const l_reason[] = {"reason", NULL};
static const char *const l_result[] = {"result", NULL};
static const char *const l_ptype[] = {"process_type", NULL};
static const char *const l_source[] = {"source", NULL};
static const char *const l_version[] = {"version", NULL};
static const char *const l_endpoint_code[] = {"endpoint", "code", NULL};
static const char *const l_endpoint[] = {"endpoint", NULL};


static void collect_input(struct app_metrics *am)
{
	const struct input_stats *is = input_stats(am->in);
	size_t i;

	for (i = 0; i < INPUT_FT_COUNT; i++)
		metric_set(metrics_get(am->f_frames, input_frame_type_name(i)), (double)is->frames[i]);
	for (i = 0; i < INPUT_ERR_COUNT; i++)
		metric_set(metrics_get(am->f_errors, input_error_name(i)), (double)is->errors[i]);
	for (i = 0; i < INPUT_REJ_COUNT; i++)
		metric_set(metrics_get(am->f_rejected, input_reject_name(i)), (double)is->rejected[i]);
	metric_set(am->accepted, (double)is->accepted);
	metric_set(am->active, (double)is->active);
	metric_set(am->bytes, (double)is->bytes);
	metric_set(am->gaps, (double)is->seq_gaps);
	metric_set(am->dups, (double)is->seq_duplicates);
	metric_set(am->last_frame, is->last_frame_unix);
}

/* The tables between input and the pipeline. */
static void collect_tables(struct app_metrics *am)
{
	const struct errjoin_stats *es;
	const struct join_stats *js;

	if (am->fq) {
		metric_set(am->lane_frames, (double)fairq_len(am->fq));
		metric_set(am->lane_bytes, (double)fairq_bytes(am->fq));
		metric_set(am->lanes, (double)fairq_lanes(am->fq));
	}
	if (am->errtexts) {
		es = errjoin_stats(am->errtexts);
		metric_set(am->err_pieces, (double)es->pieces);
		metric_set(am->err_unread, (double)es->unread);
		metric_set(am->err_entries, (double)errjoin_size(am->errtexts));
		metric_set(am->err_handed, (double)es->handed);
		metric_set(am->err_evicted, (double)es->evicted);
		metric_set(am->err_evicted_share, (double)es->evicted_share);
		metric_set(am->err_expired, (double)es->expired);
	}
	if (am->join) {
		js = join_get_stats(am->join);
		metric_set(am->join_entries, (double)join_size(am->join));
		metric_set(am->join_expired, (double)js->expired);
		metric_set(am->join_replaced, (double)js->replaced);
		metric_set(am->join_evicted, (double)js->evicted);
		metric_set(am->join_evicted_share, (double)js->evicted_share);
		metric_set(am->join_bytes, (double)join_bytes(am->join));
	}
}

/* What each bounded table holds now, so that a slow growth shows. */
static void collect_memory(struct app_metrics *am)
{
	struct outbox *ob = am->flow ? outbox_flow_outbox(am->flow) : NULL;

	const size_t bytes[APP_MEM_TABLES] = {
		[APP_MEM_JOIN] = am->join ? join_memory(am->join) : 0,
		[APP_MEM_LANES] = am->fq ? fairq_memory(am->fq) : 0,
		[APP_MEM_STDERR] = am->errtexts ? errjoin_memory(am->errtexts) : 0,
		[APP_MEM_DELIVERY] = am->dl ? deliver_memory(am->dl) : 0,
		[APP_MEM_OUTBOX] = ob ? outbox_memory(ob) : 0,
		[APP_MEM_SQLITE] = outbox_sqlite_memory(),
		[APP_MEM_SNAPSHOTS] = am->snap ? snapshots_memory(am->snap) : 0,
		[APP_MEM_RATELIMIT] = ratelimit_memory(am->rl),
		[APP_MEM_PROVENANCE] = provenance_memory(am->prov),
	};
	size_t i;

	for (i = 0; i < APP_MEM_TABLES; i++)
		metric_set(am->mem[i], (double)bytes[i]);
}

static void collect_delivery(struct app_metrics *am)
{
	const struct deliver_stats *ds = deliver_stats(am->dl);
	size_t e, c;
	char code[16];

	for (e = 0; e < API_ENDPOINT_COUNT; e++) {
		for (c = 0; c < DELIVER_CODE_SLOTS; c++) {
			if (!ds->requests[e][c])
				continue;
			if (c == DELIVER_CODE_ERROR)
				snprintf(code, sizeof(code), "error");
			else
				snprintf(code, sizeof(code), "%zu", c);
			metric_set(metrics_get(am->f_api_req, api_endpoint_name(e), code),
				   (double)ds->requests[e][c]);
		}
		metric_hist_from(metrics_get(am->f_api_dur, api_endpoint_name(e)), &ds->duration[e]);
	}
	metric_set(am->api_delivered, (double)ds->delivered);
	metric_set(am->api_retries, (double)ds->retries);
	metric_set(am->api_rejected, (double)ds->rejected);
	metric_set(am->api_dropped, (double)ds->dropped);
	metric_set(am->api_abandoned, (double)ds->abandoned);
	metric_set(am->api_inflight, (double)ds->inflight);
	metric_set(am->api_queue, (double)ds->queued);
	metric_set(am->api_circuit, (double)ds->circuit_open);
	metric_set(am->api_last_success, ds->last_success_unix);
}

/* Before every rendering: the components' own counts into their series. */
static void collect(struct metrics *m, void *arg)
{
	struct app_metrics *am = arg;
	size_t i;

	(void)m;
	if (am->in)
		collect_input(am);
	collect_tables(am);
	collect_memory(am);
	if (am->http) {
		const struct httpd_stats *hs = httpd_stats(am->http);

		for (i = 0; i < HTTPD_OUTCOME_COUNT; i++)
			metric_set(metrics_get(am->f_http, httpd_outcome_name(i)), (double)hs->outcome[i]);
		metric_set(am->http_open, hs->open);
	}
	if (am->dl)
		collect_delivery(am);
}

/* The metrics of one series each: where they go in struct app_metrics. */
static const struct metric_def app_singles[] = {
	{offsetof(struct app_metrics, bytes), METRIC_COUNTER, "jcw_received_bytes_total",
	 "Bytes read from collector connections and captures."},
	{offsetof(struct app_metrics, accepted), METRIC_COUNTER, "jcw_connections_accepted_total",
	 "Collector connections accepted."},
	{offsetof(struct app_metrics, active), METRIC_GAUGE, "jcw_connections_active",
	 "Open collector connections."},
	{offsetof(struct app_metrics, gaps), METRIC_COUNTER, "jcw_sequence_gaps_total",
	 "Frames missing according to the per-boot sequence numbers."},
	{offsetof(struct app_metrics, dups), METRIC_COUNTER, "jcw_frames_duplicate_total",
	 "Frames skipped because their sequence number was already seen."},
	{offsetof(struct app_metrics, last_frame), METRIC_GAUGE, "jcw_last_frame_timestamp_seconds",
	 "Unix time the last frame was received (0: none yet)."},
	{offsetof(struct app_metrics, last_heartbeat), METRIC_GAUGE,
	 "jcw_last_heartbeat_timestamp_seconds",
	 "Unix time the last collector Heartbeat was received (0: none yet)."},
	{offsetof(struct app_metrics, coll_queue_frames), METRIC_GAUGE, "jcw_collector_queue_frames",
	 "Frames waiting in the collector, as of its last Heartbeat."},
	{offsetof(struct app_metrics, coll_queue_bytes), METRIC_GAUGE, "jcw_collector_queue_bytes",
	 "Bytes waiting in the collector, as of its last Heartbeat."},
	/* The collector's own count since its start: a restart resets it, as
	 * Prometheus counters may. */
	{offsetof(struct app_metrics, forged_hostname), METRIC_COUNTER, "jcw_forged_hostname_total",
	 "Execs the collector ignored because their student hostname was set in a UTS "
	 "namespace it does not trust (--uts-policy), as of its last Heartbeat."},
	{offsetof(struct app_metrics, print_errors), METRIC_COUNTER, "jcw_print_errors_total",
	 "Events that could not be written to stdout (--print)."},
	{offsetof(struct app_metrics, ratelimited), METRIC_COUNTER, "jcw_ratelimited_events_total",
	 "Events not sent because their student was over --student-rate (logged per student "
	 "every minute)."},
	{offsetof(struct app_metrics, lane_bytes), METRIC_GAUGE, "jcw_input_lane_bytes",
	 "Memory of the decoded frames waiting in the lanes (at most 8 MiB)."},
	{offsetof(struct app_metrics, lane_frames), METRIC_GAUGE, "jcw_input_lane_frames",
	 "Execs and exits read but waiting for their container's turn."},
	{offsetof(struct app_metrics, lanes), METRIC_GAUGE, "jcw_input_lanes",
	 "Containers with frames waiting for their turn."},
	{offsetof(struct app_metrics, err_pieces), METRIC_COUNTER, "jcw_stderr_pieces_total",
	 "Pieces of standard error received from the collector."},
	{offsetof(struct app_metrics, err_unread), METRIC_COUNTER, "jcw_stderr_unread_bytes_total",
	 "Bytes of standard error that could not be copied from the process's memory (counted "
	 "in stderr_bytes, missing from the text)."},
	{offsetof(struct app_metrics, err_entries), METRIC_GAUGE, "jcw_stderr_processes",
	 "Running processes with standard error waiting for their exit."},
	{offsetof(struct app_metrics, join_entries), METRIC_GAUGE, "jcw_join_entries",
	 "Execs waiting for their exit."},
	{offsetof(struct app_metrics, join_expired), METRIC_COUNTER, "jcw_join_expired_total",
	 "Execs forgotten because no exit came within JOIN_TTL."},
	{offsetof(struct app_metrics, join_replaced), METRIC_COUNTER, "jcw_join_replaced_total",
	 "Execs replaced by a later exec of the same process."},
	{offsetof(struct app_metrics, join_evicted), METRIC_COUNTER, "jcw_join_evicted_total",
	 "Execs dropped because the join table was full (JOIN_MAX_ENTRIES or JOIN_MAX_BYTES)."},
	{offsetof(struct app_metrics, join_evicted_share), METRIC_COUNTER, "jcw_join_evicted_share_total",
	 "Execs dropped because their container held JOIN_CONTAINER_BYTES of the join table: "
	 "its own oldest."},
	{offsetof(struct app_metrics, join_bytes), METRIC_GAUGE, "jcw_join_bytes",
	 "Bytes of the execs waiting for their exit, packed."},
	{offsetof(struct app_metrics, unrecorded), METRIC_COUNTER, "jcw_join_unrecorded_exits_total",
	 "Exits after an exec the kernel did not record (its container's budget or share, or "
	 "no collector alive): the exec before it is not reported."},
	{offsetof(struct app_metrics, unmatched), METRIC_COUNTER, "jcw_join_unmatched_exits_total",
	 "Exits without a known exec (started before the collector, or exec lost)."},
	{offsetof(struct app_metrics, http_open), METRIC_GAUGE, "jcw_metrics_http_connections_open",
	 "Open connections to METRICS_PORT."},
	{offsetof(struct app_metrics, api_delivered), METRIC_COUNTER, "jcw_api_delivered_total",
	 "Requests the API accepted (2xx, or 409 already known)."},
	{offsetof(struct app_metrics, api_retries), METRIC_COUNTER, "jcw_api_retries_total",
	 "Request attempts scheduled again after a failure."},
	{offsetof(struct app_metrics, api_rejected), METRIC_COUNTER, "jcw_api_rejected_total",
	 "Requests the API refused for good (4xx other than 408/409/429)."},
	{offsetof(struct app_metrics, api_dropped), METRIC_COUNTER, "jcw_api_dropped_total",
	 "Requests not queued: queue full (QUEUE_MAX_EVENTS) or shutting down."},
	{offsetof(struct app_metrics, api_abandoned), METRIC_COUNTER, "jcw_api_abandoned_total",
	 "Requests still undelivered when the shutdown grace period ended."},
	{offsetof(struct app_metrics, api_inflight), METRIC_GAUGE, "jcw_api_inflight_requests",
	 "API requests in flight."},
	{offsetof(struct app_metrics, api_queue), METRIC_GAUGE, "jcw_api_queue_depth",
	 "Requests waiting for delivery (including those waiting to retry)."},
	{offsetof(struct app_metrics, api_circuit), METRIC_GAUGE, "jcw_api_circuit_open",
	 "1 while the API is considered down and only probed."},
	{offsetof(struct app_metrics, api_last_success), METRIC_GAUGE,
	 "jcw_api_last_success_timestamp_seconds",
	 "Unix time of the last accepted request (0: none yet)."},
};

/* The metrics of several series: a family each, and its series known in
 * advance where they are; here input's and the pipeline's. 0 or -ENOMEM. */
static int app_metrics_families(struct app_metrics *am)
{
	struct metric_family *f;
	size_t i;

	metric_set(metrics_get(metrics_labelled(am->reg, METRIC_GAUGE, "jcw_build_info",
				   "Version of jcw-forwarder; the value is always 1.", l_version),
			       JCW_VERSION), 1);

	/* Input. */
	am->f_frames = metrics_labelled(am->reg, METRIC_COUNTER, "jcw_frames_received_total",
			   "Frames decoded from the collector or a capture, by body type.", l_type);
	am->f_errors = metrics_labelled(am->reg, METRIC_COUNTER, "jcw_frame_errors_total",
			   "Input streams closed or ended badly, by reason.", l_reason);
	am->f_rejected = metrics_labelled(am->reg, METRIC_COUNTER, "jcw_connections_rejected_total",
			     "Collector connections refused, by reason.", l_reason);
	f = metrics_labelled(am->reg, METRIC_COUNTER, "jcw_lost_records_total",
		"Records lost before reaching the forwarder, as reported by Lost frames, by source.",
		l_source);
	for (i = 0; i < APP_LOST_SOURCES; i++)
		am->lost[i] = metrics_get(f, lost_names[i]);

	/* Pipeline and join. */
	f = metrics_labelled(am->reg, METRIC_COUNTER, "jcw_pipeline_events_total",
		"Finished processes run through the pipeline, by result.", l_result);
	for (i = 0; i < PIPE_RESULT_COUNT; i++)
		am->pipe_result[i] = metrics_get(f, pipe_result_name(i));
	f = metrics_labelled(am->reg, METRIC_COUNTER, "jcw_pipeline_events_by_reason_total",
		"Finished processes not turned into a request, by reason.", l_reason);
	for (i = 1; i < PIPE_REASON_COUNT; i++)
		am->pipe_reason[i] = metrics_get(f, pipe_reason_name(i));
	f = metrics_labelled(am->reg, METRIC_COUNTER, "jcw_pipeline_events_by_type_total",
		"Requests built by the pipeline, by process type.", l_ptype);
	for (i = 1; i < PROC_TYPE_COUNT; i++)
		am->proc_type[i] = metrics_get(f, proc_type_name(i));
	{
		/* From the exit (the kernel's clock) to the forwarder, and to
		 * the API's answer: where a run's latency goes. */
		static const double b[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
					   0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
		static const char *const l_stage[] = {"stage", NULL};
		struct metric_family *f = metrics_family(am->reg, METRIC_HISTOGRAM,
			"jcw_event_age_seconds", "Age of build and run logs since their exit: "
			"stage=\"received\" when the forwarder has them, \"delivered\" when the "
			"API accepted them (live input only).", l_stage, b, sizeof(b) / sizeof(b[0]));

		am->age_received = metrics_get(f, "received");
		am->age_delivered = metrics_get(f, "delivered");
	}
	return am->f_frames && am->f_errors && am->f_rejected && am->pipe_result[0] ? 0 : -ENOMEM;
}

/* The same for standard error, the metrics port and delivery. */
static int app_metrics_families_out(struct app_metrics *am)
{
	{
		static const char *const l_fate[] = {"fate", NULL};
		struct metric_family *f = metrics_labelled(am->reg, METRIC_COUNTER,
			"jcw_stderr_texts_total", "Standard error texts of finished processes by "
			"fate: logged (in their log), handed (a helper's, to its build), dropped (no "
			"log: not reported, filtered, or a run under CAPTURE_STDERR=builds), evicted "
			"(no room), evicted_share (its container held 256 texts: its own oldest), "
			"expired (no exit within JOIN_TTL).", l_fate);

		am->err_logged = metrics_get(f, "logged");
		am->err_handed = metrics_get(f, "handed");
		am->err_dropped = metrics_get(f, "dropped");
		am->err_evicted = metrics_get(f, "evicted");
		am->err_evicted_share = metrics_get(f, "evicted_share");
		am->err_expired = metrics_get(f, "expired");
	}

	{
		static const char *const l_table[] = {"table", NULL};
		static const char *const tables[APP_MEM_TABLES] = {
			"join", "lanes", "stderr", "delivery", "outbox", "sqlite", "snapshots",
			"ratelimit", "provenance",
		};
		size_t i;
		struct metric_family *f = metrics_labelled(am->reg, METRIC_GAUGE,
			"jcw_table_memory_bytes", "Memory each bounded table has allocated: join (execs "
			"waiting for their exit), lanes (frames read ahead), stderr (texts of running "
			"processes), delivery (requests held), outbox (staged writes and committed "
			"events kept for delivery), sqlite (SQLite's own: the outbox's page cache, "
			"statements and schema), snapshots (files waiting, the budget's and "
			"quota's tables, the read buffer), ratelimit (the per-student limit), provenance "
			"(builds and their helpers, for the runs' built_by).", l_table);

		for (i = 0; i < APP_MEM_TABLES; i++)
			am->mem[i] = metrics_get(f, tables[i]);
	}

	/* The metrics port itself. */
	am->f_http = metrics_labelled(am->reg, METRIC_COUNTER, "jcw_metrics_http_connections_total",
				      "Connections to METRICS_PORT by how they ended: served, per_source "
				      "(refused: its address had too many), evicted (closed without a "
				      "request to make room), full, timed_out, closed (by the client).",
				      l_result);

	/* Delivery. */
	am->f_api_req = metrics_labelled(am->reg, METRIC_COUNTER, "jcw_api_requests_total",
			    "API request attempts by endpoint and HTTP status (code=\"error\": no answer).",
			    l_endpoint_code);
	am->f_api_dur = metrics_family(am->reg, METRIC_HISTOGRAM, "jcw_api_request_duration_seconds",
				       "Duration of API request attempts.", l_endpoint,
				       deliver_hist_bounds, DELIVER_HIST_BUCKETS);

	return am->f_api_req && am->f_api_dur && am->f_http ? 0 : -ENOMEM;
}

int app_metrics_init(struct app_metrics *am)
{
	memset(am, 0, sizeof(*am));
	am->reg = metrics_new();
	if (!am->reg)
		return -ENOMEM;
	if (metrics_add_table(am->reg, am, app_singles, sizeof(app_singles) / sizeof(app_singles[0])) ||
	    app_metrics_families(am) || app_metrics_families_out(am) || metrics_add_process(am->reg) ||
	    metrics_on_collect(am->reg, collect, am))
		goto fail;
	/* Pre-create label sets so every metric shows from the first scrape. */
	collect(am->reg, am);
	return 0;
fail:
	app_metrics_free(am);
	return -ENOMEM;
}

void app_metrics_free(struct app_metrics *am)
{
	metrics_free(am->reg);
	am->reg = NULL;
}

void app_metrics_lost(struct app_metrics *am, int source, double n)
{
	if (source < 0 || source >= APP_LOST_SOURCES - 1)
		source = APP_LOST_SOURCES - 1;
	metric_add(am->lost[source], n);
}

const char *app_metrics_lost_name(int source)
{
	if (source < 0 || source >= APP_LOST_SOURCES - 1)
		source = APP_LOST_SOURCES - 1;
	return lost_names[source];
}
