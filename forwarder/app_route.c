/* app_route: where each frame goes: into its container's lane, then on its
 * turn execs into the join, exits through the pipeline, file events to
 * snapshots; requests through the per-student
 * limit to --print or the outbox; delivery's results back to the outbox. */
#include "app_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "strbuf.h"

/* --print: {"method":"POST","path":...,"event_id":...,"body":<body>} */
static int app_print(struct app *a, const struct api_request *req)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = 0;

	strbuf_puts(&sb, "{\"method\":\"POST\",\"path\":");
	json_put_cstr(&sb, req->path);
	strbuf_puts(&sb, ",\"event_id\":");
	json_put_cstr(&sb, req->event_id);
	strbuf_puts(&sb, ",\"body\":");
	strbuf_append(&sb, req->body, req->body_len);
	strbuf_puts(&sb, "}\n");
	if (!strbuf_ok(&sb) || fwrite(sb.buf, 1, sb.len, stdout) != sb.len || fflush(stdout) != 0) {
		metric_inc(a->am.print_errors);
		if (a->status == 0)
			LOG_ERROR("cannot write events to stdout: %s", strerror(errno));
		a->status = 1;
		rc = -EIO;
	}
	strbuf_free(&sb);
	return rc;
}

/* One log line per student over the limit since the last report. */
void app_student_rl_log(void *arg, const char *key, uint64_t n, uint64_t total)
{
	const struct app *a = arg;
	struct strbuf f = STRBUF_INIT;

	strbuf_puts(&f, "\"student\":");
	if (key)
		json_put_cstr(&f, key);
	else
		strbuf_puts(&f, "null");
	strbuf_printf(&f, ",\"ratelimited\":%llu,\"ratelimited_total\":%llu",
		      (unsigned long long)n, (unsigned long long)total);
	LOG_AT(LOG_LVL_WARN, strbuf_ok(&f) ? f.buf : NULL,
	       "student %s: %llu event(s) over the limit of %llu/s (burst %llu) not sent "
	       "since the last report, %llu in all",
	       key ? key : "(several, evicted from the limiter's table)", (unsigned long long)n,
	       (unsigned long long)a->cfg->student_rate, (unsigned long long)a->cfg->student_burst,
	       (unsigned long long)total);
	strbuf_free(&f);
}

/* The pipeline's admission: the per-student event limit, on the event's
 * own time (so a replay limits as the live run did), decided before the
 * request is built. */
bool app_admit(void *arg, const char *student_key, uint64_t event_time_ns)
{
	struct app *a = arg;

	if (ratelimit_allow(a->student_rl, student_key, event_time_ns))
		return true;
	metric_inc(a->am.ratelimited);
	return false;
}

static void app_emit(struct app *a, struct api_request *req)
{
	uint64_t sup = 0;
	int rc;

	if (a->cfg->print) {
		if (app_print(a, req))
			app_shutdown(a, "stdout is gone");
		api_request_free(req);
		return;
	}
	rc = outbox_flow_put(a->flow, req);
	if (rc == 0) {
		api_request_free(req);   /* stored, or taken by delivery */
		return;
	}
	/* Counted by delivery (jcw_api_dropped_total). */
	if (log_ratelimit_allow(&a->rl_drop, LOG_BURST, &sup))
		LOG_WARN("event %s dropped: %s (%llu similar messages suppressed)", req->event_id,
			 rc == -ENOBUFS ? "delivery queue full" : strerror(-rc),
			 (unsigned long long)sup);
	api_request_free(req);
}

/* Snapshot registrations take the same way as the logs, but not through
 * the event limit: the snapshot budget already decided, before the file
 * was stored, and a stored snapshot must be registered. */
void app_snapshot_submit(void *arg, struct api_request *req)
{
	app_emit(arg, req);
}

void app_snapshot_hold(void *arg, const char *event_id, const char *boot_id, const Jcw__Frame *f)
{
	struct app *a = arg;

	if (a->flow)
		outbox_flow_hold(a->flow, event_id, boot_id, f);
}

void app_snapshot_release(void *arg, const char *event_id)
{
	struct app *a = arg;

	if (a->flow)
		outbox_flow_release(a->flow, event_id);
}

void app_restore_file(void *arg, const char *boot_id, const Jcw__Frame *f)
{
	struct app *a = arg;

	if (a->snap)
		snapshots_on_file_event(a->snap, boot_id, f);
}

/* How old an event of time t is now; live input only (a replay's events
 * are as old as the capture). */
static void app_age(const struct app *a, struct metric_series *s, uint64_t t)
{
	uint64_t now = clock_unix_ns();

	if (!a->cfg->replay && t && now > t)
		metric_observe(s, (double)(now - t) * 1e-9);
}

/* The nearest ancestor of e that is reported (a compiler driver above its
 * cc1, as, collect2 -> ld), still running and so still in the join table,
 * or NULL. A pid names an ancestor only if its process started before the
 * child it is the parent of (else the pid was reused after the parent
 * died) and in the same container: nothing crosses students. */
static const struct join_exec *app_reported_ancestor(struct app *a, const Jcw__Exec *e)
{
	const struct join_exec *p;
	Jcw__Frame *pf;
	uint32_t ppid = e->ppid;
	uint64_t child_start = e->start_boottime_ns;
	size_t hlen = e->hostname.len < JOIN_HOST_MAX ? e->hostname.len : JOIN_HOST_MAX;
	unsigned depth;
	bool reports;

	for (depth = 0; depth < APP_ERR_ANCESTORS && ppid; depth++) {
		p = join_find_tgid(a->join, ppid);
		if (!p || p->start_ns > child_start || p->uts_ns_inum != e->uts_ns_inum ||
		    p->hostname_len != hlen ||
		    (hlen && memcmp(p->hostname, e->hostname.data, hlen) != 0))
			return NULL;   /* not running, a later process with its pid, another container */
		child_start = p->start_ns;
		pf = join_decode(a->join, p);
		reports = pf && pipeline_reports(a->pipe, pf->exec);
		if (pf)
			jcw__frame__free_unpacked(pf, NULL);
		if (reports)
			return p;
		ppid = p->ppid;
	}
	return NULL;
}

/* Where a finished process's standard error goes once its log is made:
 * it was in the log; or the process is a helper (not reported itself) and
 * it goes to its nearest reported ancestor; or nowhere. */
static void app_err_settle(struct app *a, const Jcw__Exec *e, const Jcw__Exit *x,
			   enum pipe_result res, enum api_endpoint endpoint)
{
	const struct join_exec *p;

	if (res == PIPE_SUCCESS && pipeline_logs_stderr(a->pipe, endpoint, e)) {
		metric_inc(a->am.err_logged);
	} else if (res == PIPE_NONTARGET && (p = app_reported_ancestor(a, e))) {
		errjoin_handover(a->errtexts, x->tgid, x->start_boottime_ns, p->tgid, p->start_ns);
		return;
	} else {
		metric_inc(a->am.err_dropped);
	}
	errjoin_drop(a->errtexts, x->tgid, x->start_boottime_ns);
}

/* What a build leaves for the runs of what it linked (provenance.h): a
 * reported build's log, or a helper (ld) of the reported build above it. */
static void app_provenance_note(struct app *a, const Jcw__Exec *e, enum pipe_result res,
				const struct api_request *req)
{
	const struct join_exec *p;

	if (res == PIPE_SUCCESS && req->endpoint == API_BUILD_LOG)
		provenance_build(a->prov, e, req->event_id);
	else if (res == PIPE_NONTARGET && pipeline_is_helper(a->pipe, e) &&
		 (p = app_reported_ancestor(a, e)))
		provenance_helper(a->prov, e, p->tgid, p->start_ns);
}

/* pipeline_config's provenance: where a reported binary came from. */
void app_provenance(void *arg, const Jcw__Exec *exec, struct prov_result *out)
{
	const struct app *a = arg;

	provenance_of(a->prov, exec, out);
}

static void app_exit(struct app *a, const char *boot_id, Jcw__Frame *f)
{
	const Jcw__Exit *x = f->exit;
	enum pipe_reason reason = REASON_NONE;
	enum pipe_result res;
	struct api_request req;
	struct errtext *et;
	Jcw__Frame *ef;
	uint64_t sup = 0;

	ef = join_take(a->join, x->tgid, x->start_boottime_ns);
	if (!ef) {
		metric_inc(a->am.unmatched);
		LOG_DEBUG("exit of tgid %u without a known exec", x->tgid);
		return;
	}
	outbox_flow_joined(a->flow, x->tgid, x->start_boottime_ns);
	if (x->unrecorded_exec) {
		/* The process ran a program the kernel did not record after this
		 * exec: the exit is that program's, not this exec's. */
		metric_inc(a->am.unrecorded);
		if (a->errtexts)
			errjoin_drop(a->errtexts, x->tgid, x->start_boottime_ns);
		jcw__frame__free_unpacked(ef, NULL);
		return;
	}
	memset(&req, 0, sizeof(req));
	et = a->errtexts ? errjoin_find(a->errtexts, x->tgid, x->start_boottime_ns) : NULL;
	res = pipeline_process(a->pipe, boot_id, f->seq, ef->exec, x, et, &req, &reason);
	if (et)
		app_err_settle(a, ef->exec, x, res, req.endpoint);
	app_provenance_note(a, ef->exec, res, &req);
	if (reason == REASON_MALFORMED_HOST && log_ratelimit_allow(&a->rl_host, LOG_BURST, &sup))
		LOG_WARN("hostname \"%.*s\" has the " STUDENT_HOST_PREFIX " prefix but is not "
			 STUDENT_HOST_RULE ": its processes are not reported (%llu similar messages "
			 "suppressed)", (int)ef->exec->hostname.len, (const char *)ef->exec->hostname.data,
			 (unsigned long long)sup);
	jcw__frame__free_unpacked(ef, NULL);
	if (res < PIPE_RESULT_COUNT)
		metric_inc(a->am.pipe_result[res]);
	if (res != PIPE_SUCCESS) {
		if (reason > REASON_NONE && reason < PIPE_REASON_COUNT)
			metric_inc(a->am.pipe_reason[reason]);
		LOG_DEBUG("tgid %u: %s (%s)", x->tgid, pipe_result_name(res), pipe_reason_name(reason));
		return;
	}
	if (req.type > PROC_NONE && req.type < PROC_TYPE_COUNT)
		metric_inc(a->am.proc_type[req.type]);
	app_age(a, a->am.age_received, req.event_time_unix_ns);
	LOG_DEBUG("event %s: %s %s", req.event_id, proc_type_name(req.type), req.path);
	app_emit(a, &req);
}

static void app_lost(struct app *a, const Jcw__Lost *l)
{
	uint64_t sup = 0;

	app_metrics_lost(&a->am, (int)l->source, (double)l->count);
	/* A count of 0 with a detail: a gap the collector found (no collector
	 * alive for a while), with nothing turned away in it. */
	if ((l->count || (l->detail && *l->detail)) && log_ratelimit_allow(&a->rl_lost, LOG_BURST, &sup))
		LOG_WARN("collector reports %llu record(s) lost (%s, %llu since its start)%s%s",
			 (unsigned long long)l->count, app_metrics_lost_name((int)l->source),
			 (unsigned long long)l->total, l->detail && *l->detail ? ": " : "",
			 l->detail ? l->detail : "");
}

/* One frame through the expensive stages. Everything of its boot that
 * arrived before the oldest frame still in a lane counts as processed. */
static void app_process(struct app *a, const char *boot_id, Jcw__Frame *f)
{
	uint64_t seen = f->seq && a->fq ? fairq_done(a->fq, boot_id, f->seq) : f->seq;

	outbox_flow_frame(a->flow, boot_id, f, seen);
	switch (f->body_case) {
	case JCW__FRAME__BODY_EXEC: {
		uint32_t tgid = f->exec->tgid;
		uint64_t start = f->exec->start_boottime_ns;

		/* The table owns the frame from here on, also on error. A new
		 * program in the same process starts its standard error again
		 * (bpf/stderr.bpf.h). */
		if (join_put(a->join, f, clock_mono_ns()) == 1 && a->errtexts)
			errjoin_drop(a->errtexts, tgid, start);
		return;
	}
	case JCW__FRAME__BODY_EXIT:
		app_exit(a, boot_id, f);
		break;
	case JCW__FRAME__BODY_LOST:
		app_lost(a, f->lost);
		break;
	case JCW__FRAME__BODY_HEARTBEAT:
		metric_set(a->am.last_heartbeat, clock_unix_s());
		metric_set(a->am.coll_queue_frames, (double)f->heartbeat->queue_frames);
		metric_set(a->am.coll_queue_bytes, (double)f->heartbeat->queue_bytes);
		metric_set(a->am.forged_hostname, (double)f->heartbeat->forged_hostname_total);
		break;
	case JCW__FRAME__BODY_FILE:
		if (a->snap)
			snapshots_on_file_event(a->snap, boot_id, f);
		break;
	case JCW__FRAME__BODY_STDERR_PIECE:
		if (a->errtexts) {
			/* Its container's: the exec it follows, in the join table. */
			const struct join_exec *x = join_peek(a->join, f->stderr_piece->tgid,
							      f->stderr_piece->start_boottime_ns);

			errjoin_piece(a->errtexts, f->stderr_piece,
				      x ? fairq_lane_of(x->hostname, x->hostname_len) : 0,
				      clock_mono_ns());
		}
		break;
	default:
		/* Hello is handled by input. */
		break;
	}
	jcw__frame__free_unpacked(f, NULL);
}

/* The container lane of a frame that waits its turn: an exec by its
 * hostname, an exit or a piece of standard error by its exec's (queued,
 * or in the join table). Other
 * frames go through at once: they are cheap on the loop (a file event is a
 * budget check and a debounce entry; snapshot/ does its disk work on a
 * worker), and file events keep the stream's order, which drives the
 * debounce's clock in a replay (snapshot/snapshots.h). */
static bool app_lane(const struct app *a, const Jcw__Frame *f, uint64_t *lane)
{
	const struct join_exec *ef;
	uint32_t tgid;
	uint64_t start;

	switch (f->body_case) {
	case JCW__FRAME__BODY_EXEC:
		*lane = fairq_lane_of(f->exec->hostname.data, f->exec->hostname.len);
		return true;
	case JCW__FRAME__BODY_EXIT:
		tgid = f->exit->tgid;
		start = f->exit->start_boottime_ns;
		break;
	case JCW__FRAME__BODY_STDERR_PIECE:
		/* Before its exit, in its lane. */
		tgid = f->stderr_piece->tgid;
		start = f->stderr_piece->start_boottime_ns;
		break;
	default:
		return false;
	}
	if (fairq_exec_lane(a->fq, tgid, start, lane))
		return true;
	ef = join_peek(a->join, tgid, start);
	*lane = ef ? fairq_lane_of(ef->hostname, ef->hostname_len) : fairq_lane_of(NULL, 0);
	return true;
}

/* A frame from input. While the forwarder keeps up (the lanes are empty
 * and this loop turn has processed fewer than APP_DISPATCH_PER_TURN), it
 * is processed at once: nothing waits, and nothing is gained by a turn.
 * Past that, the forwarder is behind and frames take their lane's turn.
 * A replay has no lanes: nobody waits for a batch job's events, and in the
 * stream's order its output is the same however the reads fall. */
void app_on_frame(void *arg, const char *boot_id, Jcw__Frame *f)
{
	struct app *a = arg;
	uint64_t lane;

	if (a->fq && !fairq_len(a->fq) && a->turn_frames < APP_DISPATCH_PER_TURN)
		a->turn_frames++;   /* keeping up: at once */
	else if (a->fq && f->seq && app_lane(a, f, &lane) &&
		 fairq_put(a->fq, lane, boot_id, f) == 0) {
		ev_idle_start(a->loop, &a->dispatch_idle);
		return;
	}
	app_process(a, boot_id, f);
}

/* After each loop turn: a round of the lanes, one frame each, until
 * APP_DISPATCH_PER_TURN frames; the loop then serves input, delivery and
 * /metrics before the next round. */
static void dispatch_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct app *a = w->data;
	const char *boot_id;
	Jcw__Frame *f;
	unsigned n = 0;

	(void)revents;
	a->turn_frames = 0;
	while (n < APP_DISPATCH_PER_TURN && outbox_flow_can_take(a->flow) &&
	       (f = fairq_take(a->fq, &boot_id))) {
		app_process(a, boot_id, f);
		n++;
	}
	/* Paused by the outbox: its commits and delivery's results turn the
	 * loop again. */
	if (!fairq_len(a->fq) || !outbox_flow_can_take(a->flow))
		ev_idle_stop(loop, &a->dispatch_idle);
	if (n && a->in)
		input_kick(a->in);
}

static void dispatch_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

void app_dispatch_init(struct app *a)
{
	ev_check_init(&a->dispatch_check, dispatch_cb);
	a->dispatch_check.data = a;
	ev_check_start(a->loop, &a->dispatch_check);
	ev_idle_init(&a->dispatch_idle, dispatch_idle_cb);
}

void app_dispatch_stop(struct app *a)
{
	ev_check_stop(a->loop, &a->dispatch_check);
	ev_idle_stop(a->loop, &a->dispatch_idle);
}

/* Reading pauses while the lanes are full, or the outbox is full or
 * failing, or without one while delivery's queue is full (backpressure). */
bool app_can_take(void *arg)
{
	struct app *a = arg;

	return !(a->fq && fairq_full(a->fq)) && outbox_flow_can_take(a->flow);
}

void app_on_result(void *arg, const struct api_request *req, enum deliver_outcome outcome,
		      long http_status)
{
	struct app *a = arg;

	if (outcome == DELIVER_DELIVERED && req->endpoint != API_SNAPSHOT)
		app_age(a, a->am.age_delivered, req->event_time_unix_ns);
	outbox_flow_result(a->flow, req, outcome, http_status);
	if (a->fq && fairq_len(a->fq))
		ev_idle_start(a->loop, &a->dispatch_idle);
	if (a->in)
		input_kick(a->in);
}

void app_on_retry(void *arg, const struct api_request *req, unsigned attempts, double delay_s)
{
	struct app *a = arg;

	outbox_flow_retry(a->flow, req, attempts, delay_s);
}
