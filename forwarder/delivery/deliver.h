/* deliver: POSTs api_requests to the Analytics API through libcurl's multi
 * interface, driven by the caller's libev loop. No threads, no blocking calls.
 *
 * - 2xx and 409 (duplicate) are delivered; 5xx, 408, 429, timeouts and
 *   transport errors are retried with capped exponential backoff and full
 *   jitter (Retry-After honoured on 429/503, bounded by the cap); any other
 *   4xx is rejected: logged once, counted, never retried.
 * - Requests with the same student_key are delivered in submission order:
 *   while one is in flight or waiting to retry, the student's later requests
 *   wait behind it. Other students keep flowing.
 * - At most max_inflight transfers at once, at most queue_max requests
 *   waiting (including those waiting to retry); beyond that submit fails.
 * - After 5 consecutive failed attempts (transport errors or retryable
 *   statuses) the circuit opens: no new transfers, one probe at a time at
 *   most every backoff_cap_s, until an attempt gets a final answer (2xx,
 *   409 or a rejecting 4xx).
 * - Every request carries "Idempotency-Key: <event_id>", so a retry of a
 *   request whose answer was lost is recognisable by the server. */
#ifndef JCW_DELIVER_H
#define JCW_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "hist.h"
#include "process/request.h"

/* What finally happened to a submitted request (see on_result). */
enum deliver_outcome {
	DELIVER_DELIVERED,   /* 2xx, or 409 = the server already has it */
	DELIVER_REJECTED,    /* final 4xx: the server will never take it */
	DELIVER_ABANDONED,   /* not delivered when shutdown's grace ran out / freed */
	DELIVER_OUTCOME_COUNT
};

struct deliver_config {
	const char *api_server;   /* "http://host:port"; trailing '/' ignored */
	double timeout_s;         /* whole-transfer timeout per attempt */
	unsigned max_inflight;    /* concurrent transfers (and connections) */
	size_t queue_max;         /* requests held but not in flight */
	double backoff_base_s;    /* first retry delay bound */
	double backoff_cap_s;     /* largest retry delay; circuit probe period */
	/* Optional: called once per accepted request when its fate is final,
	 * before the request is freed (an outbox deletes its row on DELIVERED).
	 * It may call deliver_submit(), never deliver_free(). http_status is 0
	 * when there was no HTTP answer. */
	void (*on_result)(void *arg, const struct api_request *req,
			  enum deliver_outcome outcome, long http_status);
	void *on_result_arg;
	/* Optional: an attempt failed and the next one waits delay_s (an
	 * outbox records attempts). Same argument as on_result. */
	void (*on_retry)(void *arg, const struct api_request *req, unsigned attempts,
			 double delay_s);
};

/* Request-duration histogram buckets (seconds, upper bounds; +Inf implied):
 * Prometheus' defaults, .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10. */
#define DELIVER_HIST_BUCKETS 11
_Static_assert(DELIVER_HIST_BUCKETS <= HIST_MAX_BUCKETS, "hist.h holds them");
extern const double deliver_hist_bounds[DELIVER_HIST_BUCKETS];

/* requests[endpoint][slot]: slot DELIVER_CODE_ERROR counts attempts with no
 * HTTP answer (label code="error"); slot N (100..599) counts HTTP status N. */
#define DELIVER_CODE_ERROR 0
#define DELIVER_CODE_SLOTS 600

struct deliver_stats {
	uint64_t requests[API_ENDPOINT_COUNT][DELIVER_CODE_SLOTS]; /* attempts */
	struct hist duration[API_ENDPOINT_COUNT];   /* seconds per attempt */
	uint64_t delivered;       /* requests finished with 2xx/409 */
	uint64_t retries;         /* attempts scheduled again after a failure */
	uint64_t rejected;        /* requests finished with a final 4xx */
	uint64_t dropped;         /* submits refused: queue full or shutting down */
	uint64_t abandoned;       /* requests given up at shutdown / free */
	uint64_t inflight;        /* gauge: transfers running */
	uint64_t queued;          /* gauge: held, not in flight (incl. retry wait) */
	uint64_t circuit_open;    /* gauge: 1 while probing a down API */
	double last_success_unix; /* wall clock of the last 2xx/409, 0 = never */
};

struct deliver;

/* 0, or -errno with a message in err (bad URL, no memory, curl init). */
int deliver_new(struct ev_loop *loop, const struct deliver_config *cfg,
		struct deliver **out, char *err, size_t errlen);

/* Takes ownership of *req's contents on success (0) and zeroes *req.
 * -ENOBUFS when the queue is full, -ESHUTDOWN after deliver_shutdown(),
 * -EINVAL without a "/..." path, -ENOMEM: the caller keeps req. Every
 * refusal is counted in stats.dropped (callers need not count it again).
 * A NULL student_key is one shared lane. */
int deliver_submit(struct deliver *d, struct api_request *req);

/* No new submits; queued and retrying requests keep going until everything
 * is settled or grace_s passes, then the rest is abandoned (on_result with
 * DELIVER_ABANDONED, counted) and done(arg) runs from the loop. done may
 * call deliver_free(). */
void deliver_shutdown(struct deliver *d, double grace_s,
		      void (*done)(void *arg), void *arg);

const struct deliver_stats *deliver_stats(const struct deliver *d);
/* Bytes of the requests it holds (queued, waiting to retry, in flight). */
size_t deliver_memory(const struct deliver *d);

/* Inside on_result: the first bytes of the answer that settled the request
 * (what a dead-letter store keeps with a rejected one); "" elsewhere. */
const char *deliver_response(const struct deliver *d, size_t *len);

/* Aborts whatever is still running (abandoned) and frees everything. */
void deliver_free(struct deliver *d);

const char *deliver_outcome_name(enum deliver_outcome o); /* "delivered", ... */

#endif
