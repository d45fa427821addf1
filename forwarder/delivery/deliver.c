/* deliver: outcomes, retries, per-student order, circuit and stats on top
 * of http_multi (libcurl multi driven by libev).
 *
 * A request ("job") is held from submit until its fate is final. It sits in
 * its student's lane (deliver_lanes); only a lane's head is ever in flight or
 * waiting to retry, which is what keeps a student's requests in order. */
#include "deliver.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "backoff.h"
#include "deliver_lanes.h"
#include "http_multi.h"
#include "json.h"
#include "log.h"
#include "strbuf.h"
#include "version.h"

#define DELIVER_RESP_KEEP 512       /* response bytes kept for the reject log */
#define DELIVER_CIRCUIT_FAILURES 5  /* consecutive failed attempts that open it */
#define DELIVER_LOG_BURST 10        /* per 10 s, per kind of noisy message */

const double deliver_hist_bounds[DELIVER_HIST_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

enum job_state { JOB_WAITING, JOB_INFLIGHT, JOB_BACKOFF };

struct deliver_job {
	struct deliver_lanes_item item;   /* first member: item == job */
	struct deliver *d;
	struct deliver_job *prev, *next;  /* every job held */
	struct api_request req;
	char *url;
	enum job_state state;
	unsigned failures;                /* failed attempts so far */
	ev_timer retry;
	CURL *easy;
	struct curl_slist *hdrs;
	struct strbuf resp;               /* first DELIVER_RESP_KEEP bytes */
	char errbuf[CURL_ERROR_SIZE];
};

struct deliver {
	struct ev_loop *loop;
	struct deliver_config cfg;
	char *base;                       /* api_server without trailing '/' */
	struct http_multi *http;
	ev_timer probe_timer;             /* circuit open: one probe per tick */
	ev_timer grace_timer;             /* shutdown deadline */
	ev_timer finish_timer;            /* runs done() from the loop */
	struct deliver_lanes lanes;
	struct deliver_job *jobs;
	size_t held;                      /* jobs alive */
	struct deliver_stats st;
	struct backoff_rng rng;
	unsigned consecutive_failures;
	bool probe_allowed;
	bool shutting_down;
	void (*done)(void *arg);
	void *done_arg;
	struct log_ratelimit rl_retry, rl_reject, rl_local;
	const struct deliver_job *settling;   /* during on_result */
};

static void dispatch(struct deliver *d);

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

static void update_gauges(struct deliver *d)
{
	d->st.queued = d->held - d->st.inflight;
}

/* --- logging helpers ------------------------------------------------------ */

/* JSON members naming a job, for log lines: "event_id":...,"endpoint":... */
static void job_fields(struct strbuf *sb, const struct deliver_job *job)
{
	struct json_obj o = {.sb = sb, .first = 1};

	json_obj_cstr(&o, "event_id", job->req.event_id ? job->req.event_id : "");
	json_obj_cstr(&o, "endpoint", api_endpoint_name(job->req.endpoint));
	json_obj_cstr(&o, "path", job->req.path);
}

static bool may_log(struct log_ratelimit *rl, struct strbuf *sb)
{
	uint64_t suppressed = 0;

	if (!log_ratelimit_allow(rl, DELIVER_LOG_BURST, &suppressed))
		return false;
	if (suppressed)
		strbuf_printf(sb, ",\"suppressed\":%llu", (unsigned long long)suppressed);
	return true;
}

/* --- jobs ----------------------------------------------------------------- */

static void job_free(struct deliver *d, struct deliver_job *job)
{
	if (job->prev)
		job->prev->next = job->next;
	else
		d->jobs = job->next;
	if (job->next)
		job->next->prev = job->prev;
	d->held--;
	update_gauges(d);
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
static void job_settle(struct deliver *d, struct deliver_job *job,
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

/* --- circuit -------------------------------------------------------------- */

static void circuit_failure(struct deliver *d)
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

static void circuit_success(struct deliver *d)
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
	dispatch(d);
}

/* --- retries -------------------------------------------------------------- */

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct deliver_job *job = w->data;
	struct deliver *d = job->d;

	(void)loop;
	(void)revents;
	job->state = JOB_WAITING;
	deliver_lanes_requeue(&d->lanes, &job->item);
	dispatch(d);
}

/* retry_after_s < 0: none given. The job stays its lane's head meanwhile. */
static double job_schedule_retry(struct deliver *d, struct deliver_job *job,
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

/* --- transfers ------------------------------------------------------------ */

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct deliver_job *job = userp;
	size_t n = size * nmemb;

	if (job->resp.len < DELIVER_RESP_KEEP)
		strbuf_append(&job->resp, ptr,
			      n < DELIVER_RESP_KEEP - job->resp.len
				      ? n : DELIVER_RESP_KEEP - job->resp.len);
	return n;   /* the rest is read and discarded: the connection stays usable */
}

/* An event_id goes into a header only if it cannot split it. */
static bool header_safe(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static int transfer_start(struct deliver *d, struct deliver_job *job)
{
	struct strbuf key = STRBUF_INIT;
	struct curl_slist *h = NULL, *t;
	CURLcode rc = CURLE_OK;
	CURL *e;
	double ms = d->cfg.timeout_s * 1000;
	long timeout_ms = ms < 1 ? 1 : ms > 1e9 ? 1000000000L : (long)ms;

	e = curl_easy_init();
	if (!e)
		return -ENOMEM;
	/* curl adds "Expect: 100-continue" to larger POSTs, costing a round
	 * trip (or a 1 s stall with servers that ignore it): switch it off. */
	static const char *const fixed[] = {"Content-Type: application/json",
					    "Expect:", NULL};
	for (const char *const *f = fixed; *f; f++) {
		t = curl_slist_append(h, *f);
		if (!t)
			goto nomem;
		h = t;
	}
	if (header_safe(job->req.event_id)) {
		strbuf_printf(&key, "Idempotency-Key: %s", job->req.event_id);
		if (!strbuf_ok(&key))
			goto nomem;
		t = curl_slist_append(h, key.buf);
		strbuf_free(&key);
		if (!t)
			goto nomem;
		h = t;
	}
#define SETOPT(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	SETOPT(CURLOPT_URL, job->url);
	SETOPT(CURLOPT_PRIVATE, job);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SETOPT(CURLOPT_POST, 1L);
	SETOPT(CURLOPT_POSTFIELDS, job->req.body ? job->req.body : "");
	SETOPT(CURLOPT_POSTFIELDSIZE_LARGE,
	       (curl_off_t)(job->req.body ? job->req.body_len : 0));
	SETOPT(CURLOPT_HTTPHEADER, h);
	SETOPT(CURLOPT_USERAGENT, "jcw-forwarder/" JCW_VERSION);
	SETOPT(CURLOPT_TIMEOUT_MS, timeout_ms);
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(CURLOPT_WRITEDATA, job);
	SETOPT(CURLOPT_ERRORBUFFER, job->errbuf);
#undef SETOPT
	if (rc != CURLE_OK)
		goto fail;
	job->errbuf[0] = '\0';
	strbuf_reset(&job->resp);
	job->easy = e;
	job->hdrs = h;
	if (http_multi_add(d->http, e) < 0) {
		job->easy = NULL;
		job->hdrs = NULL;
		goto fail;
	}
	job->state = JOB_INFLIGHT;
	d->st.inflight++;
	update_gauges(d);
	return 0;
nomem:
	strbuf_free(&key);
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return -ENOMEM;
fail:
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return -EIO;
}

/* The handle is out of the multi (finished or removed): free it. */
static void transfer_release(struct deliver *d, struct deliver_job *job)
{
	curl_easy_cleanup(job->easy);
	curl_slist_free_all(job->hdrs);
	job->easy = NULL;
	job->hdrs = NULL;
	job->state = JOB_WAITING;
	d->st.inflight--;
	update_gauges(d);
}

static void observe(struct deliver *d, enum api_endpoint ep, long status,
		    double secs)
{
	struct deliver_hist *hist = &d->st.duration[ep];
	long slot = status >= 100 && status < DELIVER_CODE_SLOTS ? status
								  : DELIVER_CODE_ERROR;

	d->st.requests[ep][slot]++;
	for (int i = 0; i < DELIVER_HIST_BUCKETS; i++)
		if (secs <= deliver_hist_bounds[i])
			hist->le[i]++;
	hist->count++;
	hist->sum += secs;
}

static void log_rejected(struct deliver *d, struct deliver_job *job, long status)
{
	struct strbuf f = STRBUF_INIT;
	struct json_obj o = {.sb = &f, .first = 0};

	job_fields(&f, job);
	if (may_log(&d->rl_reject, &f)) {
		json_obj_int(&o, "status", status);
		json_obj_str(&o, "response", job->resp.buf ? job->resp.buf : "",
			     job->resp.len);
		LOG_AT(LOG_LVL_WARN, strbuf_ok(&f) ? f.buf : NULL,
		       "request rejected by the API (HTTP %ld), not retried", status);
	}
	strbuf_free(&f);
}

static void log_retry(struct deliver *d, struct deliver_job *job, CURLcode res,
		      long status, double delay)
{
	struct strbuf f = STRBUF_INIT;
	struct json_obj o = {.sb = &f, .first = 0};

	job_fields(&f, job);
	if (may_log(&d->rl_retry, &f)) {
		json_obj_uint(&o, "attempt", job->failures);
		if (res != CURLE_OK) {
			json_obj_cstr(&o, "error", job->errbuf[0] ? job->errbuf
								  : curl_easy_strerror(res));
			json_obj_int(&o, "curl_code", res);
		} else {
			json_obj_int(&o, "status", status);
		}
		LOG_AT(LOG_LVL_WARN, strbuf_ok(&f) ? f.buf : NULL,
		       "delivery failed, retrying in %.3f s", delay);
	}
	strbuf_free(&f);
}

static void transfer_done(struct deliver *d, struct deliver_job *job, CURLcode res)
{
	CURL *e = job->easy;
	struct curl_header *h;
	curl_off_t us = 0;
	long status = 0;
	double retry_after = -1, delay;

	if (res == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &us);
	if ((status == 429 || status == 503) &&
	    curl_easy_header(e, "Retry-After", 0, CURLH_HEADER, -1, &h) == CURLHE_OK &&
	    backoff_parse_retry_after(h->value, time(NULL), &retry_after) < 0)
		retry_after = -1;
	transfer_release(d, job);
	observe(d, job->req.endpoint, res == CURLE_OK ? status : 0, (double)us / 1e6);

	if (res == CURLE_OK && ((status >= 200 && status < 300) || status == 409)) {
		circuit_success(d);
		d->st.delivered++;
		d->st.last_success_unix = ev_time();
		LOG_DEBUG("delivered %s (HTTP %ld)", job->req.path, status);
		job_settle(d, job, DELIVER_DELIVERED, status);
		return;
	}
	if (res == CURLE_OK && status >= 400 && status < 500 && status != 408 &&
	    status != 429) {
		/* The API answered and will answer the same again. */
		circuit_success(d);
		d->st.rejected++;
		log_rejected(d, job, status);
		job_settle(d, job, DELIVER_REJECTED, status);
		return;
	}
	/* 5xx, 408, 429, no answer, and anything unexpected (1xx/3xx: we
	 * follow no redirects) may succeed later: keep the event. */
	circuit_failure(d);
	delay = job_schedule_retry(d, job, retry_after);
	log_retry(d, job, res, status, delay);
}

/* Starts transfers while there are slots, ready lanes and an open circuit. */
static void dispatch(struct deliver *d)
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
		if (transfer_start(d, job) < 0) {
			/* Out of memory or a curl setup error: not the API's
			 * fault, so no circuit; try this one again later. */
			double delay = job_schedule_retry(d, job, -1);
			struct strbuf f = STRBUF_INIT;

			job_fields(&f, job);
			if (may_log(&d->rl_local, &f))
				LOG_AT(LOG_LVL_ERROR, strbuf_ok(&f) ? f.buf : NULL,
				       "could not start a transfer, retrying in %.3f s", delay);
			strbuf_free(&f);
		}
	}
}

/* http_multi_done_fn: a transfer ended; its job's fate follows. */
static void transfer_finished(void *arg, CURL *easy, CURLcode res)
{
	struct deliver *d = arg;
	char *priv = NULL;

	if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) != CURLE_OK || !priv) {
		curl_easy_cleanup(easy);   /* not ours: cannot happen */
		return;
	}
	transfer_done(d, (struct deliver_job *)priv, res);
	dispatch(d);
}

/* --- shutdown ------------------------------------------------------------- */

static void job_abandon(struct deliver *d, struct deliver_job *job)
{
	d->st.abandoned++;
	job_settle(d, job, DELIVER_ABANDONED, 0);
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
			transfer_release(d, job);
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
	update_gauges(d);
	dispatch(d);
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

	rc = http_multi_new(loop, (long)cfg->max_inflight, transfer_finished, d,
			    &d->http, err, errlen);
	if (rc < 0)
		goto fail;
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
	http_multi_free(d->http);
	deliver_lanes_fini(&d->lanes);
	free(d->base);
	free(d);
}
