/* app_int: what the parts of app share, and nobody else.
 *
 *   app.c        wiring: the parts made, started, stopped and freed in
 *                order; the shutdown state; /metrics, /healthz, /readyz
 *   app_route.c  where every frame and request goes */
#ifndef JCW_APP_INT_H
#define JCW_APP_INT_H

#include <stdint.h>

#include <ev.h>

#include "app.h"
#include "app_metrics.h"
#include "delivery/deliver.h"
#include "delivery/ratelimit.h"
#include "input/input.h"
#include "input/join.h"
#include "log.h"
#include "observe/health.h"
#include "observe/httpd.h"
#include "outbox/outbox_flow.h"
#include "outbox/outbox_metrics.h"
#include "process/pipeline.h"
#include "process/student.h"
#include "snapshot/snapshots.h"

enum app_state {
	APP_RUNNING,    /* taking events */
	APP_DRAINING,   /* the capture ended: input stopped, delivery settling */
	APP_STOPPING,   /* delivery's shutdown (grace, then abandon), or the loop's end */
};

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
	ev_timer health_timer;          /* HEALTH_FILE, for the exec probes */
	ev_timer drain_timer;
	enum app_state state;
	int status;
	struct log_ratelimit rl_lost, rl_drop, rl_host, rl_health;
	struct snapshots *snap;   /* NULL: SNAPSHOTS_ENABLED=false */
	struct ratelimit *student_rl;   /* per-student flood limit */
	ev_timer student_rl_timer;      /* its per-student summary */
	struct outbox_flow *flow;       /* durable outbox and Acks (outbox_flow.h) */
	struct outbox_metrics om;
};

/* app_route.c. ratelimit_report_fn: one log line per student over the
 * limit since the last report. */
void app_student_rl_log(void *arg, const char *key, uint64_t n, uint64_t total);
/* snapshots_submit_fn: registrations take the same way as the logs. */
void app_snapshot_submit(void *arg, struct api_request *req);
/* input's callbacks: a frame of boot_id (owned from here on), and whether
 * reading may go on (the outbox, or delivery's queue, has room). */
void app_on_frame(void *arg, const char *boot_id, Jcw__Frame *f);
bool app_can_take(void *arg);
/* delivery's callbacks, into the outbox. */
void app_on_result(void *arg, const struct api_request *req, enum deliver_outcome outcome,
		   long http_status);
void app_on_retry(void *arg, const struct api_request *req, unsigned attempts, double delay_s);

#endif
