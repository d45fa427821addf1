/* deliver_transfer: one attempt of one job as a libcurl transfer: the
 * request it makes, and what its end means (verdict.h) for the job. */
#include "deliver_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "log.h"
#include "strbuf.h"
#include "verdict.h"
#include "version.h"


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

/* Per request, only what differs is made: an easy handle comes back from
 * the last attempt that ended with its fixed options still set (they are
 * the same for every request, so they are set once, when the handle is
 * made; connections live in the multi's pool anyway), and the fixed
 * headers are one list that each request's Idempotency-Key node points to. */
int deliver_transfer_init(struct deliver *d)
{
	/* curl adds "Expect: 100-continue" to larger POSTs, costing a round
	 * trip (or a 1 s stall with servers that ignore it): switch it off. */
	static const char *const fixed[] = {"Content-Type: application/json", "Expect:", NULL};
	struct curl_slist *t;

	d->spare = calloc(d->cfg.max_inflight, sizeof(*d->spare));
	if (!d->spare)
		return -ENOMEM;
	for (const char *const *f = fixed; *f; f++) {
		t = curl_slist_append(d->fixed_hdrs, *f);
		if (!t)
			return -ENOMEM;
		d->fixed_hdrs = t;
	}
	return 0;
}

void deliver_transfer_fini(struct deliver *d)
{
	while (d->nspare)
		curl_easy_cleanup(d->spare[--d->nspare]);
	free(d->spare);
	d->spare = NULL;
	curl_slist_free_all(d->fixed_hdrs);
	d->fixed_hdrs = NULL;
}

/* The options every request shares; those that differ are set by
 * deliver_transfer_start each time, so a reused handle carries nothing of
 * its last request into the next. */
static CURL *easy_new(const struct deliver *d)
{
	double ms = d->cfg.timeout_s * 1000;
	long timeout_ms = ms < 1 ? 1 : ms > 1e9 ? 1000000000L : (long)ms;
	CURLcode rc = CURLE_OK;
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
#define SETOPT(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SETOPT(CURLOPT_POST, 1L);
	SETOPT(CURLOPT_USERAGENT, "jcw-forwarder/" JCW_VERSION);
	SETOPT(CURLOPT_TIMEOUT_MS, timeout_ms);
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
#undef SETOPT
	if (rc != CURLE_OK) {
		curl_easy_cleanup(e);
		return NULL;
	}
	return e;
}

static CURL *easy_get(struct deliver *d)
{
	return d->nspare ? d->spare[--d->nspare] : easy_new(d);
}

static void easy_put(struct deliver *d, CURL *e)
{
	if (d->spare && d->nspare < d->cfg.max_inflight)
		d->spare[d->nspare++] = e;
	else
		curl_easy_cleanup(e);
}

/* A node of our own ahead of the shared list: freed alone, never by
 * curl_slist_free_all. */
static struct curl_slist *key_header(struct deliver *d, const char *event_id)
{
	struct strbuf key = STRBUF_INIT;
	struct curl_slist *n;

	strbuf_printf(&key, "Idempotency-Key: %s", event_id);
	n = malloc(sizeof(*n));
	if (!n || !(n->data = strbuf_detach(&key, NULL))) {
		strbuf_free(&key);
		free(n);
		return NULL;
	}
	n->next = d->fixed_hdrs;
	return n;
}

static void key_header_free(struct curl_slist *n)
{
	if (n) {
		free(n->data);
		free(n);
	}
}

int deliver_transfer_start(struct deliver *d, struct deliver_job *job)
{
	struct curl_slist *key = NULL;
	CURLcode rc = CURLE_OK;
	CURL *e;

	if (header_safe(job->req.event_id) && !(key = key_header(d, job->req.event_id)))
		return -ENOMEM;
	e = easy_get(d);
	if (!e) {
		key_header_free(key);
		return -ENOMEM;
	}
#define SETOPT(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	SETOPT(CURLOPT_URL, job->url);
	SETOPT(CURLOPT_PRIVATE, job);
	SETOPT(CURLOPT_POSTFIELDS, job->req.body ? job->req.body : "");
	SETOPT(CURLOPT_POSTFIELDSIZE_LARGE,
	       (curl_off_t)(job->req.body ? job->req.body_len : 0));
	SETOPT(CURLOPT_HTTPHEADER, key ? key : d->fixed_hdrs);
	SETOPT(CURLOPT_WRITEDATA, job);
	SETOPT(CURLOPT_ERRORBUFFER, job->errbuf);
#undef SETOPT
	if (rc != CURLE_OK)
		goto fail;
	job->errbuf[0] = '\0';
	strbuf_reset(&job->resp);
	if (http_multi_add(d->http, e) < 0)
		goto fail;
	job->easy = e;
	job->key_hdr = key;
	job->state = JOB_INFLIGHT;
	d->st.inflight++;
	deliver_update_gauges(d);
	return 0;
fail:
	key_header_free(key);
	easy_put(d, e);
	return -EIO;
}

void deliver_transfer_release(struct deliver *d, struct deliver_job *job)
{
	easy_put(d, job->easy);
	key_header_free(job->key_hdr);
	job->easy = NULL;
	job->key_hdr = NULL;
	job->state = JOB_WAITING;
	d->st.inflight--;
	deliver_update_gauges(d);
}

static void observe(struct deliver *d, enum api_endpoint ep, long status,
		    double secs)
{
	long slot = status >= 100 && status < DELIVER_CODE_SLOTS ? status
								  : DELIVER_CODE_ERROR;

	d->st.requests[ep][slot]++;
	hist_observe(&d->st.duration[ep], deliver_hist_bounds, DELIVER_HIST_BUCKETS, secs);
}

static void log_rejected(struct deliver *d, struct deliver_job *job, long status)
{
	struct strbuf f = STRBUF_INIT;
	struct json_obj o = {.sb = &f, .first = 0};

	deliver_job_fields(&f, job);
	if (deliver_may_log(&d->rl_reject, &f)) {
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

	deliver_job_fields(&f, job);
	if (deliver_may_log(&d->rl_retry, &f)) {
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
	if (verdict_reads_retry_after(status) &&
	    curl_easy_header(e, "Retry-After", 0, CURLH_HEADER, -1, &h) == CURLHE_OK &&
	    backoff_parse_retry_after(h->value, time(NULL), &retry_after) < 0)
		retry_after = -1;
	deliver_transfer_release(d, job);
	observe(d, job->req.endpoint, res == CURLE_OK ? status : 0, (double)us / 1e6);

	switch (verdict_of(res == CURLE_OK, status)) {
	case VERDICT_OK:
		deliver_circuit_success(d);
		d->st.delivered++;
		d->st.last_success_unix = ev_time();
		LOG_DEBUG("delivered %s (HTTP %ld)", job->req.path, status);
		deliver_job_settle(d, job, DELIVER_DELIVERED, status);
		return;
	case VERDICT_ERROR:
		/* The API answered, so it is up: no circuit. */
		deliver_circuit_success(d);
		d->st.rejected++;
		log_rejected(d, job, status);
		deliver_job_settle(d, job, DELIVER_REJECTED, status);
		return;
	case VERDICT_RETRY:
		break;
	}
	deliver_circuit_failure(d);
	delay = deliver_job_schedule_retry(d, job, retry_after);
	log_retry(d, job, res, status, delay);
}

/* http_multi_done_fn: a transfer ended; its job's fate follows. */
void deliver_transfer_finished(void *arg, CURL *easy, CURLcode res)
{
	struct deliver *d = arg;
	char *priv = NULL;

	if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) != CURLE_OK || !priv) {
		curl_easy_cleanup(easy);   /* not ours: cannot happen */
		return;
	}
	transfer_done(d, (struct deliver_job *)priv, res);
	deliver_dispatch(d);
}
