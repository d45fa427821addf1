/* app: the forwarder's parts wired together, their lifecycle and the admin
 * endpoints (app_int.h names the parts). */
#include "app_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "strbuf.h"
#include "version.h"

/* How often the students over their rate limit are logged. */
#define APP_STUDENT_RL_REPORT_S 60.

static void delivery_done(void *arg);

static void student_rl_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct app *a = w->data;

	(void)loop;
	(void)revents;
	ratelimit_report(a->student_rl, app_student_rl_log, a);
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

/* Starts delivery's own shutdown (grace period, then abandon); the callers
 * leave APP_RUNNING or APP_DRAINING for it, so it runs once. */
static void app_stop_delivery(struct app *a)
{
	a->state = APP_STOPPING;
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
	if (a->state == APP_DRAINING && ds->queued == 0 && ds->inflight == 0 &&
	    outbox_flow_idle(a->flow))
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
	a->state = APP_DRAINING;
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
	if (a->errtexts)
		errjoin_expire(a->errtexts, clock_mono_ns(), (uint64_t)(a->cfg->join_ttl * 1e9));
	if (n)
		LOG_INFO("%zu exec(s) expired without an exit after %.0f s", n, a->cfg->join_ttl);
}

static bool app_ready(const struct app *a)
{
	return a->state == APP_RUNNING && input_ready(a->in) && (a->cfg->print || a->dl);
}

/* The loop ran: say so, for the exec probes (observe/health.h). */
static void health_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct app *a = w->data;
	uint64_t sup = 0;
	int rc;

	(void)loop;
	(void)revents;
	rc = health_write(a->cfg->health_file, app_ready(a));
	if (rc && log_ratelimit_allow(&a->rl_health, LOG_BURST_ONCE, &sup))
		LOG_WARN("writing HEALTH_FILE %s: %s: the exec probes will fail (%llu similar "
			 "messages suppressed)", a->cfg->health_file, strerror(-rc),
			 (unsigned long long)sup);
}

static void http_handler(void *arg, const char *path, struct httpd_response *resp)
{
	struct app *a = arg;

	if (strcmp(path, "/metrics") == 0) {
		resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
		if (metrics_render_cached(a->am.reg, &resp->body, clock_mono_ns(), APP_METRICS_CACHE_NS))
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

/* err says what could not be made, and why (rc: -errno). Returns rc. */
static int app_err(char *err, size_t errlen, int rc, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(-rc));
	return rc;
}

/* The tables between input and the pipeline: the exec/exit join, the
 * standard error texts, the lanes (live input only), the student limit. */
static int app_tables_new(struct app *a, const struct fwd_config *cfg, char *err, size_t errlen)
{
	const struct join_limits jl = {
		.max_entries = (size_t)cfg->join_max,
		.max_bytes = (size_t)cfg->join_max_bytes,
		.container_bytes = (size_t)cfg->join_container_bytes,
	};
	const struct fairq_config qc = {
		.max_frames = APP_FAIRQ_FRAMES, .max_lanes = APP_FAIRQ_LANES, .max_bytes = APP_FAIRQ_BYTES,
		.boots = a->boots};
	const struct ratelimit_config rl = {
		.rate = cfg->student_rate,
		.burst = cfg->student_burst,
		.max_students = RATELIMIT_STUDENTS_DEFAULT,
	};
	size_t head = cfg->diag_max > cfg->stderr_head ? cfg->diag_max : cfg->stderr_head;
	int rc;

	rc = join_new(&jl, &a->join);
	if (rc)
		return app_err(err, errlen, rc, rc == -EINVAL
			       ? "the join table (JOIN_MAX_BYTES must be at least JOIN_CONTAINER_BYTES)"
			       : "the join table");
	if (stderr_mode_parse(cfg->stderr_mode) != STDERR_OFF) {
		rc = errjoin_new(APP_ERRJOIN_PROCS, APP_ERRJOIN_SHARE, head, (size_t)cfg->stderr_tail,
				 &a->errtexts);
		if (rc)
			return app_err(err, errlen, rc, "the standard error table");
	}
	if (!cfg->replay) {
		rc = fairq_new(&qc, &a->fq);
		if (rc)
			return app_err(err, errlen, rc, "the input lanes");
	}
	rc = ratelimit_new(&rl, &a->student_rl);
	return rc ? app_err(err, errlen, rc, "the student rate limiter") : 0;
}

/* Where events go: the API (unless --print) and the snapshot store. */
static int app_outputs_new(struct app *a, const struct fwd_config *cfg, char *err, size_t errlen)
{
	const struct deliver_config dc = {
		.api_server = cfg->api_server,
		.timeout_s = cfg->api_timeout,
		.max_inflight = (unsigned)cfg->max_inflight,
		.queue_max = (size_t)cfg->queue_max,
		.backoff_base_s = cfg->retry_base,
		.backoff_cap_s = cfg->retry_max,
		.on_result = app_on_result,
		.on_retry = app_on_retry,
		.on_result_arg = a,
	};
	const struct snapshots_config sc = {
		.watch_root = cfg->watch_root,
		.container_root = cfg->container_root,
		.snapshot_base = cfg->snapshot_base,
		.exts = &cfg->exts,
		.max_file_size = (size_t)cfg->max_file_size,
		.window_s = cfg->debounce_window,
		.max_wait_s = cfg->debounce_max_wait,
		.budget = {
			.files_per_min = (double)cfg->snap_student_files,
			.files_burst = (double)cfg->snap_student_burst,
			.bytes_per_hour = (double)cfg->snap_student_bytes,
			.bytes_burst = (double)cfg->snap_student_bytes_burst,
			.max_students = RATELIMIT_STUDENTS_DEFAULT,
		},
		.student_total = cfg->snap_student_total,
		.paste_lines = (uint32_t)cfg->paste_lines,
		.writers = a->writers,
		.hold = app_snapshot_hold,
		.release = app_snapshot_release,
		.hold_arg = a,
	};
	int rc;

	if (!cfg->print) {
		rc = deliver_new(a->loop, &dc, &a->dl, err, errlen);
		if (rc)
			return rc;
	}
	if (!cfg->snapshots)
		return 0;
	rc = snapshots_new(a->loop, &sc, app_snapshot_submit, a, &a->snap, err, errlen);
	if (rc)
		return rc;
	rc = snapshots_add_metrics(a->snap, a->am.reg);
	return rc ? app_err(err, errlen, rc, "the snapshot metrics") : 0;
}

/* Input (the socket or the capture) and the outbox it feeds. */
static int app_input_new(struct app *a, const struct fwd_config *cfg, char *err, size_t errlen)
{
	const struct input_config ic = {
		.socket_path = cfg->socket_path,
		.allowed_uids = cfg->uids,
		.n_uids = cfg->n_uids,
		.max_frame = (size_t)cfg->max_frame,
		.on_frame = app_on_frame,
		.can_take = app_can_take,
		.on_replay_done = on_replay_done,
		.arg = a,
		.boots = a->boots,
	};
	const struct outbox_flow_config fc = {
		.state_dir = cfg->print ? NULL : cfg->state_dir,
		.max_bytes = cfg->outbox_max_bytes,
		.commit_interval_s = cfg->commit_interval,
		.exec_ttl_s = cfg->join_ttl,
		.deliver_queue_max = (size_t)cfg->queue_max,
		.deliver_inflight = (size_t)cfg->max_inflight,
		.dataset_max_bytes = cfg->progsnap2_dir[0] ? cfg->progsnap2_queue_max : 0,
		.boots = a->boots,
		.restore_file = app_restore_file,
		.restore_arg = a,
	};
	int rc;

	rc = input_new(a->loop, &ic, &a->in);
	if (rc)
		return app_err(err, errlen, rc, "the input");
	rc = outbox_flow_new(a->loop, &fc, &a->flow, err, errlen);
	if (rc)
		return rc;
	rc = outbox_metrics_add(&a->om, a->am.reg, a->flow, a->in, cfg->outbox_max_bytes);
	return rc ? app_err(err, errlen, rc, "the outbox metrics") : 0;
}

/* The ProgSnap2 dataset's writer, fed by the outbox (PROGSNAP2_DIR). */
static int app_dataset_new(struct app *a, const struct fwd_config *cfg, char *err, size_t errlen)
{
	struct ds_writer_config wc = {.dir = cfg->progsnap2_dir, .node = cfg->node_name};
	char host[256];
	int rc;

	if (!cfg->progsnap2_dir[0])
		return 0;
	if (!wc.node[0]) {
		if (gethostname(host, sizeof(host)) < 0)
			return app_err(err, errlen, -errno, "the node's name");
		host[sizeof(host) - 1] = '\0';
		wc.node = host;
	}
	rc = ds_writer_new(a->loop, &wc, a->flow, &a->dsw, err, errlen);
	if (rc)
		return rc;
	rc = ds_writer_add_metrics(a->dsw, a->am.reg);
	return rc ? app_err(err, errlen, rc, "the dataset metrics") : 0;
}

int app_new(struct ev_loop *loop, const struct fwd_config *cfg, struct app **out,
	    char *err, size_t errlen)
{
	struct pipeline_config pc = {
		.rules_file = cfg->rules_file,
		.admit = app_admit,
		.provenance = app_provenance,
		.stderr_mode = stderr_mode_parse(cfg->stderr_mode),
		.stderr_limits = {
			.diag_max = (size_t)cfg->diag_max,
			.head_max = (size_t)cfg->stderr_head,
			.tail_max = (size_t)cfg->stderr_tail,
		},
	};
	struct app *a;
	int rc;

	a = calloc(1, sizeof(*a));
	if (!a)
		return app_err(err, errlen, -ENOMEM, "the forwarder");
	a->loop = loop;
	a->cfg = cfg;
	pc.admit_ctx = a;
	pc.provenance_ctx = a;
	rc = app_metrics_init(&a->am);
	if (rc) {
		app_err(err, errlen, rc, "the metrics");
		goto fail;
	}
	/* One table of the collectors' sequence numbers for input, the lanes
	 * and the outbox: what is acknowledged follows from all three. */
	rc = bootseq_new(&a->boots);
	if (rc) {
		app_err(err, errlen, rc, "the boots' table");
		goto fail;
	}
	/* Who writes files: for the snapshots' writer and the runs' provenance. */
	rc = writer_rules_new(cfg->writer_rules_file, cfg->container_root, &a->writers, err, errlen);
	if (!rc && (rc = provenance_new(cfg->container_root, a->writers, &a->prov)))
		app_err(err, errlen, rc, "the provenance table");
	if (!rc)
		rc = pipeline_new(&pc, &a->pipe, err, errlen);
	if (!rc)
		rc = app_tables_new(a, cfg, err, errlen);
	if (!rc)
		rc = app_outputs_new(a, cfg, err, errlen);
	if (!rc)
		rc = app_input_new(a, cfg, err, errlen);
	if (!rc)
		rc = app_dataset_new(a, cfg, err, errlen);
	if (rc)
		goto fail;
	a->am.in = a->in;
	a->am.join = a->join;
	a->am.fq = a->fq;
	a->am.errtexts = a->errtexts;
	a->am.dl = a->dl;
	a->am.snap = a->snap;
	a->am.rl = a->student_rl;
	a->am.prov = a->prov;
	a->am.flow = a->flow;
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
		a->am.http = a->http;
	}
	/* Expiry needs no precision: a fraction of the TTL, at most a minute. */
	period = fmin(fmax(cfg->join_ttl / 4, 0.01), 60);
	ev_timer_init(&a->join_timer, join_timer_cb, period, period);
	a->join_timer.data = a;
	ev_timer_start(a->loop, &a->join_timer);
	if (a->fq)
		app_dispatch_init(a);
	/* A replay is a batch job: no probes watch it. */
	if (*cfg->health_file && !cfg->replay) {
		ev_timer_init(&a->health_timer, health_timer_cb, 0., HEALTH_INTERVAL_S);
		a->health_timer.data = a;
		ev_timer_start(a->loop, &a->health_timer);
	}
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
	if (a->dsw)
		ds_writer_start(a->dsw);
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

void app_shutdown(struct app *a, const char *why)
{
	if (a->state == APP_STOPPING)
		return;
	LOG_INFO("shutting down: %s", why);
	if (a->state == APP_RUNNING) {
		input_stop(a->in);
		app_dispatch_stop(a);
		if (a->fq && fairq_len(a->fq))
			LOG_INFO("%zu frame(s) read but not processed are left to the collector, "
				 "which resends what was not acknowledged", fairq_len(a->fq));
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
		a->state = APP_STOPPING;
		outbox_flow_finish(a->flow);
		ev_break(a->loop, EVBREAK_ALL);
	}
}

void app_abort(struct app *a)
{
	LOG_WARN("stopping now: undelivered events are abandoned");
	a->state = APP_STOPPING;
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
	a->am.http = NULL;
	ev_timer_stop(a->loop, &a->join_timer);
	if (ev_is_active(&a->health_timer)) {
		ev_timer_stop(a->loop, &a->health_timer);
		unlink(a->cfg->health_file);   /* a stopped forwarder is not live */
	}
	ev_timer_stop(a->loop, &a->drain_timer);
	app_dispatch_stop(a);
	if (a->student_rl) {
		ev_timer_stop(a->loop, &a->student_rl_timer);
		ratelimit_report(a->student_rl, app_student_rl_log, a);   /* the last interval */
		ratelimit_free(a->student_rl);
	}
	input_free(a->in);
	a->in = NULL;   /* deliver_free's app_on_result must not kick it */
	if (a->dl)
		deliver_free(a->dl);
	if (a->dsw) {
		ds_writer_flush(a->dsw);
		ds_writer_free(a->dsw);
	}
	outbox_flow_free(a->flow);
	fairq_free(a->fq);
	if (a->join)
		join_free(a->join);
	errjoin_free(a->errtexts);
	if (a->pipe)
		pipeline_free(a->pipe);
	snapshots_free(a->snap);
	app_metrics_free(&a->am);
	bootseq_free(a->boots);
	provenance_free(a->prov);
	writer_rules_free(a->writers);
	free(a);
}
