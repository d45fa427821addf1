/* snapshots' private parts: the state (snapshots.c: events, debounce,
 * life cycle), taking a file (snapshots_take.c: budget, worker,
 * registration) and the metrics (snapshots_metrics.c). */
#ifndef JCW_SNAPSHOTS_INT_H
#define JCW_SNAPSHOTS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "snap_debounce.h"
#include "snap_quota.h"
#include "snap_store.h"
#include "process/writer.h"
#include "worker.h"
#include "snapshots.h"

/* How long a file waits when the worker's queue is full. */
#define SNAPSHOTS_IO_RETRY_NS (20 * 1000000ull)
/* Files handed to the worker at once. */
#define SNAPSHOTS_IO_QUEUE 256

/* One file action waiting in the debounce. */
struct snap_pending {
	char *rel;          /* below WATCH_ROOT; also the debounce key */
	char *filename;     /* "src@main.c" */
	size_t ext_off;     /* the extension starts at filename + ext_off */
	char class_div[STUDENT_CLASS_DIV_MAX + 1];
	char id[STUDENT_ID_MAX + 1];
	char hw[HWPATH_NAME_MAX];
	bool deletion;
	uint64_t time_ns;   /* the event's time: the snapshot's timestamp */
	char *event_id;
	uint64_t saves;     /* saves folded into this one (debounce, budget) */
	/* Who wrote it (the last save's writer, or who deleted it). */
	char comm[WRITER_COMM_MAX + 1];
	char *exe;          /* NULL: the kernel gave none */
	enum writer_kind kind;
};

struct snapshots {
	struct ev_loop *loop;
	struct snapshots_config cfg;
	struct file_exts exts;
	snapshots_submit_fn submit;
	void *submit_arg;
	struct snap_debounce *db;
	struct snap_budget *budget;    /* NULL: none */
	ev_timer budget_report;        /* a log line per student over budget, each minute */
	struct worker *worker;    /* owns store, quota, rc and buf once started */
	struct snap_store *store;
	struct snap_quota *quota;      /* NULL: no cap */
	struct snap_read_config rc;
	uint8_t *buf;                  /* max_file_size + 1 */
	ev_timer timer;
	/* The event clock (see snapshots.h): event time base_ns at monotonic
	 * time base_mono_ns. */
	uint64_t base_ns, base_mono_ns;
	bool have_clock;
	bool base_missing_logged;
	struct snapshots_stats st;
	struct log_ratelimit rl_read, rl_store, rl_host, rl_quota;

	struct metrics *reg;
	struct metric_series *m_result[SNAPSHOTS_RESULT_COUNT];
	struct metric_series *m_path[SNAP_PATH_RESULT_COUNT];
	struct metric_series *m_rule[SNAP_FILTER_REASON_COUNT];
	struct metric_series *m_kind;
	struct metric_series *m_read[SNAP_READ_RESULT_COUNT];
	struct metric_series *m_debounced, *m_forced, *m_bytes, *m_pending, *m_deferred, *m_io;
};

/* snapshots.c */
uint64_t snapshots_now(const struct snapshots *s);
void snapshots_pending_free(void *p);
/* p's action is over: its frame is released (config.release), p freed. */
void snapshots_pending_done(struct snapshots *s, struct snap_pending *p);

/* snapshots_take.c */
void snapshots_count(struct snapshots *s, enum snapshots_result r);
/* A burst is over: budget, then the worker, then the registration. Frees p
 * or keeps it waiting (may_wait: for the budget or the worker's queue). */
void snapshots_take(struct snapshots *s, struct snap_pending *p, bool may_wait);
/* The worker's two halves (worker_fn) and the budget's minute report. */
void snapshots_job_work(void *job, void *ctx);
void snapshots_job_done(void *job, void *ctx);
void snapshots_budget_cb(struct ev_loop *loop, ev_timer *w, int revents);

#endif
