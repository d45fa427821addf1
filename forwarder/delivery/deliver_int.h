/* deliver_int: what the parts of delivery share, and nobody else.
 *
 *   deliver.c           jobs and their lanes, outcomes, the circuit,
 *                       retries, dispatch, shutdown, stats
 *   deliver_transfer.c  one attempt as a libcurl transfer and its verdict */
#ifndef JCW_DELIVER_INT_H
#define JCW_DELIVER_INT_H

#include <stdbool.h>

#include <curl/curl.h>

#include "backoff.h"
#include "deliver.h"
#include "deliver_lanes.h"
#include "http_multi.h"
#include "log.h"
#include "strbuf.h"


enum job_state { JOB_WAITING, JOB_INFLIGHT, JOB_BACKOFF };

/* Response bytes kept for the reject log. */
#define DELIVER_RESP_KEEP 512

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
	struct curl_slist *key_hdr;       /* Idempotency-Key, ahead of d->fixed_hdrs */
	struct strbuf resp;               /* first DELIVER_RESP_KEEP bytes */
	char errbuf[CURL_ERROR_SIZE];
	size_t bytes;                     /* what it holds, counted in held_bytes */
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
	size_t held_bytes;                /* ... their requests, URLs and answers kept */
	struct deliver_stats st;
	struct backoff_rng rng;
	unsigned consecutive_failures;
	bool probe_allowed;
	bool shutting_down;
	void (*done)(void *arg);
	void *done_arg;
	struct log_ratelimit rl_retry, rl_reject, rl_local;
	const struct deliver_job *settling;   /* during on_result */
	/* deliver_transfer.c's: easy handles kept for the next attempts, and
	 * the headers every request carries. */
	CURL **spare;
	unsigned nspare;
	struct curl_slist *fixed_hdrs;
};

/* Starts transfers while there are slots, ready lanes and an open circuit. */
void deliver_dispatch(struct deliver *d);
void deliver_update_gauges(struct deliver *d);
/* The job's identifying JSON log fields, into sb. */
void deliver_job_fields(struct strbuf *sb, const struct deliver_job *job);
/* Whether this noisy message may be logged now (adds "suppressed" to sb). */
bool deliver_may_log(struct log_ratelimit *rl, struct strbuf *sb);
/* The job's fate is final: told to on_result, then freed. */
void deliver_job_settle(struct deliver *d, struct deliver_job *job,
			enum deliver_outcome outcome, long status);
/* An attempt failed (or, success, did not): counts towards the circuit. */
void deliver_circuit_failure(struct deliver *d);
void deliver_circuit_success(struct deliver *d);
/* Arms the job's retry timer (backoff, or the server's Retry-After when
 * >= 0, capped like the backoff); returns the delay in seconds. */
double deliver_job_schedule_retry(struct deliver *d, struct deliver_job *job,
				  double retry_after_s);

/* deliver_transfer.c: what every transfer shares, made once. 0 or -ENOMEM. */
int deliver_transfer_init(struct deliver *d);
/* Before the multi goes: the kept handles and the shared headers. */
void deliver_transfer_fini(struct deliver *d);
/* 0 with the transfer running, or -errno (nothing started, the job is
 * unchanged). */
int deliver_transfer_start(struct deliver *d, struct deliver_job *job);
/* The handle is out of the multi (finished or removed): kept for the next
 * attempt, or freed. */
void deliver_transfer_release(struct deliver *d, struct deliver_job *job);
/* http_multi_done_fn: a transfer ended; its job's fate follows. */
void deliver_transfer_finished(void *arg, CURL *easy, CURLcode res);

#endif
