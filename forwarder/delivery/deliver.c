/* deliver (see deliver_int.h for the parts): outcomes, retries, per-student order, circuit and stats on top
 * of http_multi (libcurl multi driven by libev).
 *
 * A request ("job") is held from submit until its fate is final. It sits in
 * its student's lane (deliver_lanes); only a lane's head is ever in flight or
 * waiting to retry, which is what keeps a student's requests in order. */
#include "deliver_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "strbuf.h"

#define DELIVER_CIRCUIT_FAILURES 5  /* consecutive failed attempts that open it */

const double deliver_hist_bounds[DELIVER_HIST_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

/* Starts transfers while there are slots, ready lanes and an open circuit. */
void deliver_dispatch(struct deliver *d)
{
	struct deliver_lanes_item *it;
	struct deliver_job *job;

	while (d->st.inflight < d->cfg.max_inflight) {
		if (d->st.circuit_open && !d->probe_allowed)
			return;
		it = deliver_lanes_take(&d->lanes);
		if (!it)
			return;
		job = (struct deliver_job *)it;
		d->probe_allowed = false;
		if (deliver_transfer_start(d, job) < 0) {
			/* Out of memory or a curl setup error: not the API's
			 * fault, so no circuit; try this one again later. */
			double delay = deliver_job_schedule_retry(d, job, -1);
			struct strbuf f = STRBUF_INIT;

			deliver_job_fields(&f, job);
			if (deliver_may_log(&d->rl_local, &f))
				LOG_AT(LOG_LVL_ERROR, strbuf_ok(&f) ? f.buf : NULL,
				       "could not start a transfer, retrying in %.3f s", delay);
			strbuf_free(&f);
		}
	}
}

const char *deliver_outcome_name(enum deliver_outcome o)
{
	static const char *const names[DELIVER_OUTCOME_COUNT] = {
		[DELIVER_DELIVERED] = "delivered",
		[DELIVER_REJECTED] = "rejected",
		[DELIVER_ABANDONED] = "abandoned",
	};

	return (unsigned)o < DELIVER_OUTCOME_COUNT ? names[o] : "unknown";
}

const struct deliver_stats *deliver_stats(const struct deliver *d)
{
	return &d->st;
}

const char *deliver_response(const struct deliver *d, size_t *len)
{
	const struct deliver_job *job = d->settling;

	*len = job && job->resp.buf ? job->resp.len : 0;
	return *len ? job->resp.buf : "";
}

void deliver_update_gauges(struct deliver *d)
{
	d->st.queued = d->held - d->st.inflight;
}

/* JSON members naming a job, for log lines: "event_id":...,"endpoint":... */
void deliver_job_fields(struct strbuf *sb, const struct deliver_job *job)
{
	struct json_obj o = {.sb = sb, .first = 1};

	json_obj_cstr(&o, "event_id", job->req.event_id ? job->req.event_id : "");
	json_obj_cstr(&o, "endpoint", api_endpoint_name(job->req.endpoint));
	json_obj_cstr(&o, "path", job->req.path);
}

bool deliver_may_log(struct log_ratelimit *rl, struct strbuf *sb)
{
	uint64_t suppressed = 0;

	if (!log_ratelimit_allow(rl, LOG_BURST, &suppressed))
		return false;
	if (suppressed)
		strbuf_printf(sb, ",\"suppressed\":%llu", (unsigned long long)suppressed);
	return true;
}

/* What a job holds, as counted while it lives (its answer's bytes are
 * bounded by DELIVER_RESP_KEEP and counted once, at the bound). */
static size_t job_bytes(const struct deliver_job *job)
{
	return sizeof(*job) + job->req.body_len + (job->req.path ? strlen(job->req.path) : 0) +
	       (job->req.event_id ? strlen(job->req.event_id) : 0) +
	       (job->req.student_key ? strlen(job->req.student_key) : 0) +
	       (job->url ? strlen(job->url) : 0) + DELIVER_RESP_KEEP;
}

static void job_free(struct deliver *d, struct deliver_job *job)
{
	if (job->prev)
		job->prev->next = job->next;
	else
		d->jobs = job->next;
	if (job->next)
		job->next->prev = job->prev;
	d->held--;
	d->held_bytes -= job->bytes;
	deliver_update_gauges(d);
	api_request_free(&job->req);
	strbuf_free(&job->resp);
	free(job->url);
	free(job);
}

/* Runs done() once everything is settled after deliver_shutdown(). */
static void maybe_finish(struct deliver *d)
{
	if (!d->shutting_down || d->held || !d->done ||
	    ev_is_active(&d->finish_timer))
		return;
	ev_timer_stop(d->loop, &d->grace_timer);
	ev_timer_stop(d->loop, &d->probe_timer);
	ev_timer_set(&d->finish_timer, 0., 0.);
	ev_timer_start(d->loop, &d->finish_timer);
}

/* The job's fate is final: tell the owner, let its lane move on, free it. */
void deliver_job_settle(struct deliver *d, struct deliver_job *job,
		       enum deliver_outcome outcome, long status)
{
	if (d->cfg.on_result) {
		d->settling = job;
		d->cfg.on_result(d->cfg.on_result_arg, &job->req, outcome, status);
		d->settling = NULL;
	}
	deliver_lanes_done(&d->lanes, &job->item);
	job_free(d, job);
	maybe_finish(d);
}

void deliver_circuit_failure(struct deliver *d)
{
	if (++d->consecutive_failures < DELIVER_CIRCUIT_FAILURES ||
	    d->st.circuit_open)
		return;
	d->st.circuit_open = 1;
	d->probe_allowed = false;
	ev_timer_set(&d->probe_timer, d->cfg.backoff_cap_s, d->cfg.backoff_cap_s);
	ev_timer_start(d->loop, &d->probe_timer);
	LOG_WARN("API failing: pausing delivery, one probe every %.3g s",
		 d->cfg.backoff_cap_s);
}

void deliver_circuit_success(struct deliver *d)
{
	d->consecutive_failures = 0;
	if (!d->st.circuit_open)
		return;
	d->st.circuit_open = 0;
	ev_timer_stop(d->loop, &d->probe_timer);
	LOG_INFO("API answering again: delivery resumed");
}

static void probe_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct deliver *d = w->data;

	(void)loop;
	(void)revents;
	/* One probe at a time: against an API that hangs rather than refuses,
	 * probes time out slower than they start. */
	if (d->st.inflight)
		return;
	d->probe_allowed = true;
	deliver_dispatch(d);
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct deliver_job *job = w->data;
	struct deliver *d = job->d;

	(void)loop;
	(void)revents;
	job->state = JOB_WAITING;
	deliver_lanes_requeue(&d->lanes, &job->item);
	deliver_dispatch(d);
}

/* retry_after_s < 0: none given. The job stays its lane's head meanwhile. */
double deliver_job_schedule_retry(struct deliver *d, struct deliver_job *job,
				 double retry_after_s)
{
	double delay;

	job->failures++;
	delay = backoff_delay(job->failures, d->cfg.backoff_base_s,
			      d->cfg.backoff_cap_s, backoff_rng_next, &d->rng);
	if (retry_after_s >= 0)
		delay = retry_after_s < d->cfg.backoff_cap_s ? retry_after_s
							      : d->cfg.backoff_cap_s;
	d->st.retries++;
	if (d->cfg.on_retry)
		d->cfg.on_retry(d->cfg.on_result_arg, &job->req, job->failures, delay);
	job->state = JOB_BACKOFF;
	ev_timer_set(&job->retry, delay, 0.);
	ev_timer_start(d->loop, &job->retry);
	return delay;
}

static void job_abandon(struct deliver *d, struct deliver_job *job)
{
	d->st.abandoned++;
	deliver_job_settle(d, job, DELIVER_ABANDONED, 0);
}

/* Gives up on every job: first those in flight or backing off (their lanes'
 * heads), then each lane's remaining items in order. */
static void abandon_all(struct deliver *d)
{
	struct deliver_lanes_item *it;
	struct deliver_job *job, *next;
	uint64_t before = d->st.abandoned;

	for (job = d->jobs; job; job = next) {
		next = job->next;
		if (job->state == JOB_INFLIGHT) {
			http_multi_remove(d->http, job->easy);
			deliver_transfer_release(d, job);
		}
		else if (job->state == JOB_BACKOFF)
			ev_timer_stop(d->loop, &job->retry);
		else
			continue;
		job_abandon(d, job);
	}
	while ((it = deliver_lanes_take(&d->lanes)))
		job_abandon(d, (struct deliver_job *)it);
	if (d->st.abandoned > before)
		LOG_WARN("delivery stopped with %llu requests undelivered",
			 (unsigned long long)(d->st.abandoned - before));
}

static void grace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct deliver *d = w->data;

	(void)loop;
	(void)revents;
	abandon_all(d);
	maybe_finish(d);
}

static void finish_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct deliver *d = w->data;
	void (*done)(void *) = d->done;

	(void)loop;
	(void)revents;
	d->done = NULL;
	if (done)
		done(d->done_arg);   /* last: done may free d */
}

void deliver_shutdown(struct deliver *d, double grace_s,
		      void (*done)(void *arg), void *arg)
{
	if (d->shutting_down)
		return;
	d->shutting_down = true;
	d->done = done;
	d->done_arg = arg;
	if (d->held) {
		ev_timer_set(&d->grace_timer, grace_s > 0 ? grace_s : 0., 0.);
		ev_timer_start(d->loop, &d->grace_timer);
	}
	maybe_finish(d);
}

/* --- submit, new, free ---------------------------------------------------- */

int deliver_submit(struct deliver *d, struct api_request *req)
{
	struct deliver_job *job;
	struct strbuf url = STRBUF_INIT;

	if (!req->path || req->path[0] != '/' ||
	    (unsigned)req->endpoint >= API_ENDPOINT_COUNT) {
		d->st.dropped++;
		return -EINVAL;
	}
	if (d->shutting_down) {
		d->st.dropped++;
		return -ESHUTDOWN;
	}
	if (d->held - d->st.inflight >= d->cfg.queue_max) {
		d->st.dropped++;
		return -ENOBUFS;
	}
	job = calloc(1, sizeof(*job));
	if (!job)
		goto nomem;
	strbuf_puts(&url, d->base);
	strbuf_puts(&url, req->path);
	job->url = strbuf_detach(&url, NULL);
	if (!job->url || deliver_lanes_push(&d->lanes, req->student_key, &job->item) < 0)
		goto nomem;
	job->d = d;
	job->req = *req;
	memset(req, 0, sizeof(*req));
	job->state = JOB_WAITING;
	ev_init(&job->retry, retry_cb);
	job->retry.data = job;
	job->next = d->jobs;
	if (d->jobs)
		d->jobs->prev = job;
	d->jobs = job;
	d->held++;
	job->bytes = job_bytes(job);
	d->held_bytes += job->bytes;
	deliver_update_gauges(d);
	deliver_dispatch(d);
	return 0;
nomem:
	if (job)
		free(job->url);
	free(job);
	d->st.dropped++;
	return -ENOMEM;
}

static int check_config(const struct deliver_config *c, char *err, size_t errlen)
{
	const char *u = c->api_server;

	if (!u || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) ||
	    strpbrk(u, "?# \t\r\n")) {
		snprintf(err, errlen, "API server must be an http:// or https:// URL "
			 "without query or fragment, got \"%s\"", u ? u : "");
		return -EINVAL;
	}
	if (!(c->timeout_s > 0) || c->max_inflight < 1 || c->queue_max < 1 ||
	    !(c->backoff_base_s > 0) || !(c->backoff_cap_s >= c->backoff_base_s)) {
		snprintf(err, errlen, "delivery needs timeout > 0, max in-flight >= 1, "
			 "queue >= 1 and 0 < backoff base <= backoff cap");
		return -EINVAL;
	}
	return 0;
}

int deliver_new(struct ev_loop *loop, const struct deliver_config *cfg,
		struct deliver **out, char *err, size_t errlen)
{
	struct deliver *d;
	CURLU *url = NULL;
	size_t n;
	int rc;

	rc = check_config(cfg, err, errlen);
	if (rc < 0)
		return rc;
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->loop = loop;
	d->cfg = *cfg;
	ev_init(&d->probe_timer, probe_cb);
	ev_init(&d->grace_timer, grace_cb);
	ev_init(&d->finish_timer, finish_cb);
	d->probe_timer.data = d->grace_timer.data = d->finish_timer.data = d;
	backoff_rng_seed(&d->rng);

	rc = -ENOMEM;
	d->base = strdup(cfg->api_server);
	if (!d->base || deliver_lanes_init(&d->lanes) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	n = strlen(d->base);
	while (n > 0 && d->base[n - 1] == '/')
		d->base[--n] = '\0';
	d->cfg.api_server = d->base;

	rc = http_multi_new(loop, (long)cfg->max_inflight, deliver_transfer_finished, d,
			    &d->http, err, errlen);
	if (rc < 0)
		goto fail;
	rc = deliver_transfer_init(d);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* curl's own parser has the last word on the URL. */
	rc = -EINVAL;
	url = curl_url();
	if (!url || curl_url_set(url, CURLUPART_URL, d->base, 0) != CURLUE_OK) {
		snprintf(err, errlen, "API server \"%s\" is not a valid URL", d->base);
		goto fail;
	}
	curl_url_cleanup(url);
	*out = d;
	return 0;
fail:
	curl_url_cleanup(url);
	deliver_free(d);
	return rc;
}

void deliver_free(struct deliver *d)
{
	if (!d)
		return;
	d->shutting_down = true;
	d->done = NULL;
	ev_timer_stop(d->loop, &d->probe_timer);
	ev_timer_stop(d->loop, &d->grace_timer);
	ev_timer_stop(d->loop, &d->finish_timer);
	if (d->lanes.buckets)
		abandon_all(d);
	deliver_transfer_fini(d);   /* easy handles before curl's global cleanup */
	http_multi_free(d->http);
	deliver_lanes_fini(&d->lanes);
	free(d->base);
	free(d);
}

size_t deliver_memory(const struct deliver *d)
{
	return sizeof(*d) + d->held_bytes;
}
