/* app_int: what the parts of app share, and nobody else.
 *
 *   app.c        wiring: the parts made, started, stopped and freed in
 *                order; the shutdown state; /metrics, /healthz, /readyz
 *   app_route.c  where every frame and request goes, and the turns of
 *                the containers' lanes (input/fairq.h) */
#ifndef JCW_APP_INT_H
#define JCW_APP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "app.h"
#include "app_metrics.h"
#include "dataset/ds_writer.h"
#include "delivery/deliver.h"
#include "delivery/ratelimit.h"
#include "input/fairq.h"
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

/* The lanes of input (input/fairq.h): frames read ahead while the
 * forwarder is behind (a decoded exec is about 1 KiB), containers with
 * frames waiting, and frames processed per loop turn before input and
 * delivery are served again. */
#define APP_FAIRQ_FRAMES 2048
#define APP_FAIRQ_LANES 1024
/* /metrics is rendered at most this often: far below any scrape interval
 * (15 s and up), and a flood of requests costs ten renderings a second. */
#define APP_METRICS_CACHE_NS 100000000ull
/* Decoded frames waiting in the lanes: 2,048 ordinary ones (a few KiB
 * each), or ~40 of the largest execs the collector sends. */
#define APP_FAIRQ_BYTES (8u << 20)
#define APP_DISPATCH_PER_TURN 64

/* Running processes whose standard error is kept for their exit
 * (input/errjoin.h), and how far up a helper's parents its build is
 * looked for (gcc -> collect2 -> ld is two). */
#define APP_ERRJOIN_PROCS 4096
/* Of them one container's: a student's churn of writers costs its own
 * oldest texts, and 16 such students are needed to fill the table. */
#define APP_ERRJOIN_SHARE 256
#define APP_ERR_ANCESTORS 8

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
	struct errjoin *errtexts;       /* stderr texts by process; NULL: CAPTURE_STDERR=off */
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
	struct ds_writer *dsw;          /* NULL: no PROGSNAP2_DIR */
	struct bootseq *boots;          /* the collectors' sequence numbers (input/bootseq.h) */
	struct writer_rules *writers;   /* who writes files (process/writer.h) */
	struct provenance *prov;        /* where run binaries came from (process/provenance.h) */
	struct fairq *fq;               /* frames read, by container; NULL in a replay */
	ev_check dispatch_check;        /* serves fq's lanes after each loop turn */
	ev_idle dispatch_idle;          /* keeps the loop turning while fq has frames */
	unsigned turn_frames;           /* frames processed at once this loop turn */
};

/* app_route.c. The pipeline's admit: the per-student event limit. */
bool app_admit(void *arg, const char *student_key, uint64_t event_time_ns);
void app_provenance(void *arg, const Jcw__Exec *exec, struct prov_result *out);
/* ratelimit_report_fn: one log line per student over the limit since the
 * last report. */
void app_student_rl_log(void *arg, const char *key, uint64_t n, uint64_t total);
/* snapshots_submit_fn: registrations take the same way as the logs. */
void app_snapshot_submit(void *arg, struct api_request *req);
/* snapshots_config.hold/release and outbox_flow_config.restore_file: a
 * file action's frame kept by the outbox while its snapshot waits. */
void app_snapshot_hold(void *arg, const char *event_id, const char *boot_id, const Jcw__Frame *f);
void app_snapshot_release(void *arg, const char *event_id);
void app_restore_file(void *arg, const char *boot_id, const Jcw__Frame *f);
/* input's callbacks: a frame of boot_id (owned from here on), and whether
 * reading may go on (the outbox, or delivery's queue, has room). */
void app_on_frame(void *arg, const char *boot_id, Jcw__Frame *f);
bool app_can_take(void *arg);
/* The lanes' dispatcher: started by app_start, stopped by app_free. At
 * shutdown the frames still queued are freed unprocessed: like bytes not
 * read from the socket, they were never acknowledged. */
void app_dispatch_init(struct app *a);
void app_dispatch_stop(struct app *a);
/* delivery's callbacks, into the outbox. */
void app_on_result(void *arg, const struct api_request *req, enum deliver_outcome outcome,
		   long http_status);
void app_on_retry(void *arg, const struct api_request *req, unsigned attempts, double delay_s);

#endif
