#include "app.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app_metrics.h"
#include "clock.h"
#include "delivery/deliver.h"
#include "observe/httpd.h"
#include "input/input.h"
#include "input/join.h"
#include "json.h"
#include "log.h"
#include "outbox/outbox_flow.h"
#include "outbox/outbox_metrics.h"
#include "process/pipeline.h"
#include "snapshot/snapshots.h"
#include "delivery/ratelimit.h"
#include "strbuf.h"
#include "process/student.h"

struct app {
	struct ev_loop *loop;
	const struct fwd_config *cfg;
	struct pipeline *pipe;
	struct join_table *join;
	struct deliver *dl;
	struct input *in;
	struct httpd *http;
	struct app_metrics am;
	ev_timer join_timer;
	ev_timer drain_timer;
	bool stopping;
	bool draining;       /* end of replay: waiting for delivery to settle */
	bool dl_stopping;    /* deliver_shutdown() called */
	int status;
	struct log_ratelimit rl_lost, rl_drop, rl_host;
	struct snapshots *snap;   /* NULL: SNAPSHOTS_ENABLED=false */
	struct ratelimit *student_rl;   /* per-student flood limit */
	ev_timer student_rl_timer;      /* its per-student summary */
	struct outbox_flow *flow;       /* durable outbox and Acks (outbox_flow.h) */
	struct outbox_metrics om;
};

/* How often the students over their rate limit are logged. */
#define APP_STUDENT_RL_REPORT_S 60.

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
static void app_student_rl_log(void *arg, const char *key, uint64_t n, uint64_t total)
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

static void student_rl_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct app *a = w->data;

	(void)loop;
	(void)revents;
	ratelimit_report(a->student_rl, app_student_rl_log, a);
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
static void app_snapshot_submit(void *arg, struct api_request *req)
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

static void on_frame(void *arg, const char *boot_id, Jcw__Frame *f)
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
static bool can_take(void *arg)
{
	struct app *a = arg;

	return outbox_flow_can_take(a->flow);
}

static void on_result(void *arg, const struct api_request *req, enum deliver_outcome outcome,
		      long http_status)
{
	struct app *a = arg;

	outbox_flow_result(a->flow, req, outcome, http_status);
	if (a->in)
		input_kick(a->in);
}

static void on_retry(void *arg, const struct api_request *req, unsigned attempts, double delay_s)
{
	struct app *a = arg;

	outbox_flow_retry(a->flow, req, attempts, delay_s);
}

static void delivery_done(void *arg);

/* Starts delivery's own shutdown once (grace period, then abandon). */
static void app_stop_delivery(struct app *a)
{
	if (a->dl_stopping)
		return;
	a->dl_stopping = true;
	ev_timer_stop(a->loop, &a->drain_timer);
	outbox_flow_stop(a->flow);
	deliver_shutdown(a->dl, a->cfg->shutdown_grace, delivery_done, a);
}

/* A replay is done only when every event is delivered or rejected, however
 * long that takes (a signal cuts it short with the usual grace period). */
static void drain_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct app *a = w->data;
	const struct deliver_stats *ds = deliver_stats(a->dl);

	(void)loop;
	(void)revents;
	if (ds->queued == 0 && ds->inflight == 0 && outbox_flow_idle(a->flow))
		app_stop_delivery(a);
}

static void on_replay_done(void *arg, int status)
{
	struct app *a = arg;

	if (status)
		a->status = 1;
	if (!a->dl) {
		app_shutdown(a, status ? "capture could not be read to its end" : "end of capture");
		return;
	}
	a->stopping = true;
	a->draining = true;
	LOG_INFO("%s: waiting for delivery to finish (SIGTERM stops after SHUTDOWN_GRACE)",
		 status ? "capture could not be read to its end" : "end of capture");
	input_stop(a->in);
	if (a->snap)
		snapshots_flush(a->snap);
	ev_timer_stop(a->loop, &a->join_timer);
	ev_timer_init(&a->drain_timer, drain_timer_cb, 0., 0.05);
	a->drain_timer.data = a;
	ev_timer_start(a->loop, &a->drain_timer);
}

static void join_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct app *a = w->data;
	size_t n;

	(void)loop;
	(void)revents;
	n = join_expire(a->join, clock_mono_ns(), (uint64_t)(a->cfg->join_ttl * 1e9));
	if (n)
		LOG_INFO("%zu exec(s) expired without an exit after %.0f s", n, a->cfg->join_ttl);
}

static bool app_ready(const struct app *a)
{
	return !a->stopping && input_ready(a->in) && (a->cfg->print || a->dl);
}

static void http_handler(void *arg, const char *path, struct httpd_response *resp)
{
	struct app *a = arg;

	if (strcmp(path, "/metrics") == 0) {
		resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
		if (metrics_render(a->am.reg, &resp->body))
			resp->status = 500;
	} else if (strcmp(path, "/healthz") == 0) {
		/* Answering at all means the loop runs. */
		strbuf_puts(&resp->body, "ok\n");
	} else if (strcmp(path, "/readyz") == 0) {
		if (app_ready(a)) {
			strbuf_puts(&resp->body, "ready\n");
		} else {
			resp->status = 503;
			strbuf_puts(&resp->body, "not ready\n");
		}
	} else {
		resp->status = 404;
		strbuf_puts(&resp->body, "not found: try /metrics, /healthz or /readyz\n");
	}
}

int app_new(struct ev_loop *loop, const struct fwd_config *cfg, struct app **out,
	    char *err, size_t errlen)
{
	struct pipeline_config pc = {.rules_file = cfg->rules_file};
	struct input_config ic;
	struct app *a;
	int rc;

	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	a->loop = loop;
	a->cfg = cfg;
	rc = app_metrics_init(&a->am);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	rc = pipeline_new(&pc, &a->pipe, err, errlen);
	if (rc)
		goto fail;
	rc = join_new((size_t)cfg->join_max, &a->join);
	if (rc) {
		snprintf(err, errlen, "join table of %llu entries: %s",
			 (unsigned long long)cfg->join_max, strerror(-rc));
		goto fail;
	}
	{
		struct ratelimit_config rc_cfg = {
			.rate = cfg->student_rate,
			.burst = cfg->student_burst,
			.max_students = RATELIMIT_STUDENTS_DEFAULT,
		};

		rc = ratelimit_new(&rc_cfg, &a->student_rl);
		if (rc) {
			snprintf(err, errlen, "student rate limiter: %s", strerror(-rc));
			goto fail;
		}
	}
	if (!cfg->print) {
		struct deliver_config dc = {
			.api_server = cfg->api_server,
			.timeout_s = cfg->api_timeout,
			.max_inflight = (unsigned)cfg->max_inflight,
			.queue_max = (size_t)cfg->queue_max,
			.backoff_base_s = cfg->retry_base,
			.backoff_cap_s = cfg->retry_max,
			.on_result = on_result,
			.on_retry = on_retry,
			.on_result_arg = a,
		};

		rc = deliver_new(loop, &dc, &a->dl, err, errlen);
		if (rc)
			goto fail;
	}
	if (cfg->snapshots) {
		struct snapshots_config sc = {
			.watch_root = cfg->watch_root,
			.container_root = cfg->container_root,
			.snapshot_base = cfg->snapshot_base,
			.max_file_size = (size_t)cfg->max_file_size,
			.window_s = cfg->debounce_window,
			.max_wait_s = cfg->debounce_max_wait,
		};

		rc = snapshots_new(loop, &sc, app_snapshot_submit, a, &a->snap, err, errlen);
		if (rc)
			goto fail;
		rc = snapshots_add_metrics(a->snap, a->am.reg);
		if (rc) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	memset(&ic, 0, sizeof(ic));
	ic.socket_path = cfg->socket_path;
	ic.allowed_uids = cfg->uids;
	ic.n_uids = cfg->n_uids;
	ic.max_frame = (size_t)cfg->max_frame;
	ic.on_frame = on_frame;
	ic.can_take = can_take;
	ic.on_replay_done = on_replay_done;
	ic.arg = a;
	rc = input_new(loop, &ic, &a->in);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	{
		struct outbox_flow_config fc = {
			.state_dir = cfg->print ? NULL : cfg->state_dir,
			.max_bytes = cfg->outbox_max_bytes,
			.exec_ttl_s = cfg->join_ttl,
			.deliver_queue_max = (size_t)cfg->queue_max,
		};

		rc = outbox_flow_new(loop, &fc, &a->flow, err, errlen);
		if (rc)
			goto fail;
		rc = outbox_metrics_add(&a->om, a->am.reg, a->flow, a->in, cfg->outbox_max_bytes);
		if (rc) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	a->am.in = a->in;
	a->am.join = a->join;
	a->am.dl = a->dl;
	*out = a;
	return 0;
fail:
	app_free(a);
	return rc;
}

int app_start(struct app *a, char *err, size_t errlen)
{
	const struct fwd_config *cfg = a->cfg;
	double period;
	int rc;

	if (cfg->metrics_port) {
		struct httpd_config hc = {
			.addr = cfg->metrics_addr,
			.port = (unsigned)cfg->metrics_port,
			.handler = http_handler,
			.arg = a,
		};

		rc = httpd_new(a->loop, &hc, &a->http, err, errlen);
		if (rc)
			return rc;
	}
	/* Expiry needs no precision: a fraction of the TTL, at most a minute. */
	period = fmin(fmax(cfg->join_ttl / 4, 0.01), 60);
	ev_timer_init(&a->join_timer, join_timer_cb, period, period);
	a->join_timer.data = a;
	ev_timer_start(a->loop, &a->join_timer);
	ev_timer_init(&a->student_rl_timer, student_rl_timer_cb, APP_STUDENT_RL_REPORT_S,
		      APP_STUDENT_RL_REPORT_S);
	a->student_rl_timer.data = a;
	if (cfg->student_rate)
		ev_timer_start(a->loop, &a->student_rl_timer);
	rc = outbox_flow_start(a->flow, a->in, a->dl, a->join, clock_mono_ns());
	if (rc) {
		snprintf(err, errlen, "restoring the outbox's state: %s", strerror(-rc));
		return rc;
	}
	if (cfg->replay)
		rc = input_replay(a->in, cfg->replay, cfg->follow, err, errlen);
	else
		rc = input_listen(a->in, err, errlen);
	if (rc)
		return rc;
	LOG_INFO("jcw-forwarder %s started: input %s %s, output %s", JCW_VERSION,
		 cfg->replay ? "capture" : "socket", cfg->replay ? cfg->replay : cfg->socket_path,
		 cfg->print ? "stdout (--print)" : cfg->api_server);
	if (a->http)
		LOG_INFO("metrics on http://%s:%u/metrics", cfg->metrics_addr, httpd_port(a->http));
	return 0;
}

static void delivery_done(void *arg)
{
	struct app *a = arg;
	const struct deliver_stats *ds = deliver_stats(a->dl);

	LOG_INFO("delivery finished: %llu delivered, %llu rejected, %llu dropped, %llu abandoned",
		 (unsigned long long)ds->delivered, (unsigned long long)ds->rejected,
		 (unsigned long long)ds->dropped, (unsigned long long)ds->abandoned);
	outbox_flow_finish(a->flow);
	ev_break(a->loop, EVBREAK_ALL);
}

void app_shutdown(struct app *a, const char *why)
{
	if (a->dl_stopping || (a->stopping && !a->draining))
		return;
	LOG_INFO("shutting down: %s", why);
	if (!a->stopping) {
		a->stopping = true;
		input_stop(a->in);
		ev_timer_stop(a->loop, &a->join_timer);
		/* Files waiting in the debounce are taken before delivery stops. */
		if (a->snap)
			snapshots_flush(a->snap);
	}
	if (join_size(a->join))
		LOG_INFO("%zu exec(s) still waiting for an exit", join_size(a->join));
	if (a->dl) {
		app_stop_delivery(a);
	} else {
		outbox_flow_finish(a->flow);
		ev_break(a->loop, EVBREAK_ALL);
	}
}

void app_abort(struct app *a)
{
	LOG_WARN("stopping now: undelivered events are abandoned");
	a->stopping = true;
	ev_break(a->loop, EVBREAK_ALL);
}

int app_exit_status(const struct app *a)
{
	return a->status;
}

void app_free(struct app *a)
{
	if (!a)
		return;
	if (a->http)
		httpd_free(a->http);
	ev_timer_stop(a->loop, &a->join_timer);
	ev_timer_stop(a->loop, &a->drain_timer);
	if (a->student_rl) {
		ev_timer_stop(a->loop, &a->student_rl_timer);
		ratelimit_report(a->student_rl, app_student_rl_log, a);   /* the last interval */
		ratelimit_free(a->student_rl);
	}
	input_free(a->in);
	a->in = NULL;   /* deliver_free's on_result must not kick it */
	if (a->dl)
		deliver_free(a->dl);
	outbox_flow_free(a->flow);
	if (a->join)
		join_free(a->join);
	if (a->pipe)
		pipeline_free(a->pipe);
	snapshots_free(a->snap);
	app_metrics_free(&a->am);
	free(a);
}
