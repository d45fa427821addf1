/* app_route: where each frame goes: execs into the join, exits through the
 * pipeline, file events to snapshots; requests through the per-student
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

static void app_emit(struct app *a, struct api_request *req)
{
	uint64_t sup = 0;
	int rc;

	/* On the event's own time, so a replay limits as the live run did. */
	if (!ratelimit_allow(a->student_rl, req->student_key, req->event_time_unix_ns)) {
		metric_inc(a->am.ratelimited);
		api_request_free(req);
		return;
	}
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
	if (log_ratelimit_allow(&a->rl_drop, 10, &sup))
		LOG_WARN("event %s dropped: %s (%llu similar messages suppressed)", req->event_id,
			 rc == -ENOBUFS ? "delivery queue full" : strerror(-rc),
			 (unsigned long long)sup);
	api_request_free(req);
}

/* Snapshot registrations take the same way as the logs. */
void app_snapshot_submit(void *arg, struct api_request *req)
{
	app_emit(arg, req);
}

static void app_exit(struct app *a, const char *boot_id, Jcw__Frame *f)
{
	const Jcw__Exit *x = f->exit;
	enum pipe_reason reason = REASON_NONE;
	enum pipe_result res;
	struct api_request req;
	Jcw__Frame *ef;
	uint64_t sup = 0;

	ef = join_take(a->join, x->tgid, x->start_boottime_ns);
	if (!ef) {
		metric_inc(a->am.unmatched);
		LOG_DEBUG("exit of tgid %u without a known exec", x->tgid);
		return;
	}
	outbox_flow_joined(a->flow, x->tgid, x->start_boottime_ns);
	memset(&req, 0, sizeof(req));
	res = pipeline_process(a->pipe, boot_id, f->seq, ef->exec, x, &req, &reason);
	if (reason == REASON_MALFORMED_HOST && log_ratelimit_allow(&a->rl_host, 10, &sup))
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
	LOG_DEBUG("event %s: %s %s", req.event_id, proc_type_name(req.type), req.path);
	app_emit(a, &req);
}

static void app_lost(struct app *a, const Jcw__Lost *l)
{
	uint64_t sup = 0;

	app_metrics_lost(&a->am, (int)l->source, (double)l->count);
	if (l->count && log_ratelimit_allow(&a->rl_lost, 10, &sup))
		LOG_WARN("collector reports %llu record(s) lost (source %d, %llu since its start)%s%s",
			 (unsigned long long)l->count, (int)l->source, (unsigned long long)l->total,
			 l->detail && *l->detail ? ": " : "", l->detail ? l->detail : "");
}

void app_on_frame(void *arg, const char *boot_id, Jcw__Frame *f)
{
	struct app *a = arg;

	outbox_flow_frame(a->flow, boot_id, f);
	switch (f->body_case) {
	case JCW__FRAME__BODY_EXEC:
		/* The table owns the frame from here on, also on error. */
		join_put(a->join, f, clock_mono_ns());
		return;
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
			snapshots_on_file_event(a->snap, boot_id, f->seq, f->file);
		break;
	default:
		/* Hello is handled by input. */
		break;
	}
	jcw__frame__free_unpacked(f, NULL);
}

/* Reading pauses while the outbox is full or failing, or without one
 * while delivery's queue is full (backpressure). */
bool app_can_take(void *arg)
{
	struct app *a = arg;

	return outbox_flow_can_take(a->flow);
}

void app_on_result(void *arg, const struct api_request *req, enum deliver_outcome outcome,
		      long http_status)
{
	struct app *a = arg;

	outbox_flow_result(a->flow, req, outcome, http_status);
	if (a->in)
		input_kick(a->in);
}

void app_on_retry(void *arg, const struct api_request *req, unsigned attempts, double delay_s)
{
	struct app *a = arg;

	outbox_flow_retry(a->flow, req, attempts, delay_s);
}
