#include "snapshots.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "snap_debounce.h"
#include "snap_register.h"
#include "snap_store.h"
#include "snap_worker.h"

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
	struct snap_worker *worker;    /* owns store, rc and buf once started */
	struct snap_store *store;
	struct snap_read_config rc;
	uint8_t *buf;                  /* max_file_size + 1 */
	ev_timer timer;
	/* The event clock (see snapshots.h): event time base_ns at monotonic
	 * time base_mono_ns. */
	uint64_t base_ns, base_mono_ns;
	bool have_clock;
	bool base_missing_logged;
	struct snapshots_stats st;
	struct log_ratelimit rl_read, rl_store, rl_host;

	struct metrics *reg;
	struct metric_series *m_result[SNAPSHOTS_RESULT_COUNT];
	struct metric_series *m_path[SNAP_PATH_RESULT_COUNT];
	struct metric_series *m_rule[SNAP_FILTER_REASON_COUNT];
	struct metric_series *m_kind;
	struct metric_series *m_read[SNAP_READ_RESULT_COUNT];
	struct metric_series *m_debounced, *m_forced, *m_bytes, *m_pending, *m_deferred;
};

/* The event clock now. */
static uint64_t snapshots_now(const struct snapshots *s)
{
	if (!s->have_clock)
		return clock_unix_ns();
	return s->base_ns + (clock_mono_ns() - s->base_mono_ns);
}

/* An event at t: the clock never goes back. Returns the clock's time. */
static uint64_t snapshots_advance(struct snapshots *s, uint64_t t)
{
	uint64_t now = snapshots_now(s);

	if (!s->have_clock || t > now) {
		s->base_ns = t;
		s->base_mono_ns = clock_mono_ns();
		s->have_clock = true;
		now = t;
	}
	return now;
}

static void snapshots_pending_free(void *p)
{
	struct snap_pending *sp = p;

	if (!sp)
		return;
	free(sp->rel);
	free(sp->filename);
	free(sp->event_id);
	free(sp);
}

static void snapshots_count(struct snapshots *s, enum snapshots_result r)
{
	s->st.result[r]++;
}

static void snapshots_read_failed(struct snapshots *s, const struct snap_pending *p,
				  enum snap_read_result r, int err)
{
	uint64_t sup = 0;

	s->st.read_errors[r]++;
	snapshots_count(s, SNAPSHOTS_READ_ERROR);
	/* A file removed right after its save is ordinary (its unlink event
	 * follows); a link, a FIFO or a file that keeps changing is worth a
	 * line. */
	if (r == SNAP_READ_MISSING) {
		LOG_DEBUG("snapshot of %s skipped: the file is gone", p->rel);
		return;
	}
	if (log_ratelimit_allow(&s->rl_read, 10, &sup))
		LOG_WARN("snapshot of %s/%s not taken: %s%s%s (%" PRIu64 " similar messages suppressed)",
			 s->cfg.watch_root, p->rel, snap_read_result_name(r), err ? ": " : "",
			 err ? strerror(err) : "", sup);
}

static void snapshots_store_failed(struct snapshots *s, const struct snap_pending *p, int err)
{
	uint64_t sup = 0;

	snapshots_count(s, SNAPSHOTS_STORE_ERROR);
	if (err == ENOENT) {
		/* The base (a mounted volume) is not there: say so once. */
		if (!s->base_missing_logged)
			LOG_ERROR("SNAPSHOT_BASE %s does not exist: snapshots fail (counted as "
				  "store_error) until it does", s->cfg.snapshot_base);
		s->base_missing_logged = true;
		return;
	}
	if (log_ratelimit_allow(&s->rl_store, 10, &sup))
		LOG_WARN("snapshot of %s not stored under %s: %s (%" PRIu64 " similar messages suppressed)",
			 p->rel, s->cfg.snapshot_base, strerror(err), sup);
}

static void snapshots_budget_log(void *arg, const char *key, uint64_t refused, uint64_t total)
{
	const struct snapshots *s = arg;

	LOG_WARN("student %s: %" PRIu64 " snapshot(s) kept waiting for the storage budget "
		 "(%.0f files a minute, burst %.0f; %.0f bytes an hour) in the last minute, %"
		 PRIu64 " in all", key, refused, s->cfg.budget.files_per_min,
		 s->cfg.budget.files_burst, s->cfg.budget.bytes_per_hour, total);
}

static void snapshots_budget_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct snapshots *s = w->data;

	(void)loop;
	(void)revents;
	snap_budget_report(s->budget, snapshots_budget_log, s);
}

/* Over the student's budget: p waits (wait_ns, then a debounce window)
 * for it to refill, taking later saves of the file meanwhile, so the
 * latest version is the one stored. Dropped and counted when it may not
 * wait (shutdown, a full table) or can never fit. true if it waits. */
static bool snapshots_defer(struct snapshots *s, struct snap_pending *p, uint64_t wait_ns,
			    bool may_wait)
{
	uint64_t at = snapshots_now(s);
	void *replaced = NULL;

	if (may_wait && wait_ns != UINT64_MAX &&
	    snap_debounce_add(s->db, p->rel, at + wait_ns, p, &replaced) == 0) {
		s->st.deferred++;
		s->st.pending = snap_debounce_pending(s->db);
		return true;
	}
	snapshots_count(s, SNAPSHOTS_OVER_BUDGET);
	snapshots_pending_free(p);
	return false;
}

/* One file's disk work, handed to the worker (snap_worker.h): p, the
 * budget reserved for it, and what the worker found. */
struct snap_job {
	struct snap_pending *p;
	char key[STUDENT_CLASS_DIV_MAX + STUDENT_ID_MAX + 2];
	uint64_t reserved;              /* bytes taken from the budget */
	enum snap_read_result rr;
	enum snap_store_result sr;
	size_t len;
	int err;
	char url_ts[SNAP_STORE_URL_TS_MAX];
};

/* On the worker's thread: read and store, nothing else (no counters, no
 * logs: those are the loop's, in snapshots_job_done). */
static void snapshots_job_work(void *arg, void *ctx)
{
	struct snap_job *j = arg;
	struct snapshots *s = ctx;
	struct snap_pending *p = j->p;
	struct snap_store_file f = {
		.class_div = p->class_div, .hw = p->hw, .student_id = p->id,
		.filename = p->filename, .ext = p->filename + p->ext_off,
	};
	uint64_t mtime;

	j->rr = SNAP_READ_OK;
	j->len = 0;
	if (!p->deletion) {
		j->rr = snap_read(&s->rc, p->rel, s->buf, &j->len, &mtime, &j->err);
		if (j->rr != SNAP_READ_OK)
			return;
	}
	j->sr = snap_store_put(s->store, &f, p->time_ns, s->buf, j->len, p->deletion, j->url_ts,
			       &j->err);
}

/* On the loop, in submission order: count, log, register. Frees the job. */
static void snapshots_job_done(void *arg, void *ctx)
{
	struct snap_job *j = arg;
	struct snapshots *s = ctx;
	struct snap_pending *p = j->p;
	struct snap_register_in ri;
	struct api_request req;
	bool stored = j->rr == SNAP_READ_OK && j->sr == SNAP_STORE_STORED;
	int err;

	/* What the file did not use goes back to its student. */
	snap_budget_refund(s->budget, j->key, 0, stored ? j->reserved - j->len : j->reserved,
			   snapshots_now(s));
	if (j->rr == SNAP_READ_TOO_LARGE) {
		snapshots_count(s, SNAPSHOTS_TOO_LARGE);
		LOG_DEBUG("snapshot of %s skipped: over %zu bytes", p->rel, s->cfg.max_file_size);
		goto out;
	}
	if (j->rr != SNAP_READ_OK) {
		snapshots_read_failed(s, p, j->rr, j->err);
		goto out;
	}
	if (j->sr == SNAP_STORE_UNCHANGED) {
		snapshots_count(s, SNAPSHOTS_UNCHANGED);
		goto out;
	}
	if (j->sr != SNAP_STORE_STORED) {
		snapshots_store_failed(s, p, j->err);
		goto out;
	}
	s->base_missing_logged = false;

	memset(&ri, 0, sizeof(ri));
	ri.class_div = p->class_div;
	ri.hw = p->hw;
	ri.student_id = p->id;
	ri.filename = p->filename;
	ri.url_ts = j->url_ts;
	ri.bytes = j->len;
	ri.deleted = p->deletion;
	ri.event_id = p->event_id;
	ri.event_time_ns = p->time_ns;
	ri.saves = p->saves;
	err = snap_register_request(&ri, &req);
	if (err) {
		/* Stored but not registered: the service finds it on disk. */
		snapshots_store_failed(s, p, -err);
		goto out;
	}
	snapshots_count(s, SNAPSHOTS_STORED);
	s->st.bytes_stored += j->len;
	LOG_DEBUG("snapshot %s: %zu bytes%s", req.path, j->len, p->deletion ? " (deleted)" : "");
	s->submit(s->submit_arg, &req);
out:
	snapshots_pending_free(p);
	free(j);
}

/* A burst is over: the budget decides, then the worker reads, stores and
 * the loop registers (snapshots_job_done). Frees p, keeps it waiting for
 * the student's budget or a place in the worker's queue when may_wait, or
 * (shutdown, a full table) waits for the worker to make room. */
static void snapshots_take(struct snapshots *s, struct snap_pending *p, bool may_wait)
{
	uint64_t wait_ns, now = snapshots_now(s);
	struct snap_job *j = calloc(1, sizeof(*j));

	if (!j) {
		snapshots_count(s, SNAPSHOTS_STORE_ERROR);
		snapshots_pending_free(p);
		return;
	}
	j->p = p;
	/* The budget first: over it, nothing is read or written. The bytes
	 * are reserved at the largest size and the rest refunded once the
	 * file's size is known. */
	snprintf(j->key, sizeof(j->key), "%s/%s", p->class_div, p->id);
	j->reserved = p->deletion ? 0 : s->cfg.max_file_size;
	if (!snap_budget_file(s->budget, j->key, now, &wait_ns)) {
		free(j);
		snapshots_defer(s, p, wait_ns, may_wait);
		return;
	}
	if (j->reserved && !snap_budget_bytes(s->budget, j->key, j->reserved, now, &wait_ns)) {
		snap_budget_refund(s->budget, j->key, 1, 0, now);
		free(j);
		snapshots_defer(s, p, wait_ns, may_wait);
		return;
	}
	if (snap_worker_submit(s->worker, j) == 0)
		return;
	if (may_wait) {
		/* The disk is behind: the file waits a little, unread. */
		snap_budget_refund(s->budget, j->key, 1, j->reserved, now);
		free(j);
		snapshots_defer(s, p, SNAPSHOTS_IO_RETRY_NS, true);
		return;
	}
	snap_worker_drain(s->worker);
	if (snap_worker_submit(s->worker, j) != 0) {   /* not reachable: drained */
		snapshots_count(s, SNAPSHOTS_STORE_ERROR);
		snapshots_pending_free(p);
		free(j);
	}
}

/* Takes everything due at now (all of it for SNAP_DEBOUNCE_NONE). */
static void snapshots_take_due(struct snapshots *s, uint64_t now)
{
	struct snap_pending *p;

	while ((p = snap_debounce_pop(s->db, now, NULL)))
		snapshots_take(s, p, now != SNAP_DEBOUNCE_NONE);
	s->st.pending = snap_debounce_pending(s->db);
}

static void snapshots_arm(struct snapshots *s)
{
	uint64_t next = snap_debounce_next(s->db), now;

	ev_timer_stop(s->loop, &s->timer);
	if (next == SNAP_DEBOUNCE_NONE)
		return;
	now = snapshots_now(s);
	ev_timer_set(&s->timer, next > now ? (double)(next - now) / 1e9 : 0, 0);
	ev_timer_start(s->loop, &s->timer);
}

static void snapshots_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct snapshots *s = w->data;

	(void)loop;
	(void)revents;
	snapshots_take_due(s, snapshots_now(s));
	snapshots_arm(s);
}

static void snapshots_filtered(struct snapshots *s, uint64_t *reason)
{
	(*reason)++;
	snapshots_count(s, SNAPSHOTS_FILTERED);
}

/* One save or deletion of path, at event time t and clock now. */
static void snapshots_action(struct snapshots *s, const Jcw__FileEvent *e,
			     const ProtobufCBinaryData *path, bool truncated, bool deletion,
			     uint64_t t, uint64_t now, const char *event_id)
{
	struct snap_path sp;
	enum snap_path_result pr;
	enum snap_filter_reason fr;
	struct snap_pending *p;
	void *replaced = NULL;
	uint64_t sup = 0;
	int rc;

	/* A path cut short names another file: never guess which. */
	pr = truncated ? SNAP_PATH_INVALID
	     : snap_path_map(s->cfg.container_root, e->hostname.data, e->hostname.len,
			     path->data, path->len, &sp);
	if (pr != SNAP_PATH_OK) {
		if (pr == SNAP_PATH_MALFORMED_HOST && log_ratelimit_allow(&s->rl_host, 10, &sup))
			LOG_WARN("hostname \"%.*s\" has the " STUDENT_HOST_PREFIX " prefix but is not "
				 STUDENT_HOST_RULE ": its files are not snapshotted (%" PRIu64
				 " similar messages suppressed)", (int)e->hostname.len,
				 (const char *)e->hostname.data, sup);
		snapshots_filtered(s, &s->st.filtered_path[pr]);
		return;
	}
	fr = snap_filter_check(sp.below_hw, sp.below_len, &s->exts);
	if (fr != SNAP_FILTER_PASS) {
		snapshots_filtered(s, &s->st.filtered_rule[fr]);
		return;
	}

	p = calloc(1, sizeof(*p));
	if (!p)
		goto nomem;
	p->rel = strdup(sp.rel);
	p->filename = strdup(sp.filename);
	p->event_id = strdup(event_id);
	if (!p->rel || !p->filename || !p->event_id)
		goto nomem;
	p->ext_off = strlen(sp.filename) - strlen(sp.ext);
	memcpy(p->class_div, sp.st.class_div, sp.st.class_div_len + 1);
	memcpy(p->id, sp.st.id, sp.st.id_len + 1);
	memcpy(p->hw, sp.hw, sizeof(p->hw));
	p->deletion = deletion;
	p->time_ns = t;
	p->saves = 1;

	rc = snap_debounce_add(s->db, p->rel, now, p, &replaced);
	if (rc == -ENOBUFS) {
		/* Full: the file closest to its deadline goes now, early. */
		snapshots_take(s, snap_debounce_pop(s->db, SNAP_DEBOUNCE_NONE, NULL), false);
		s->st.forced++;
		rc = snap_debounce_add(s->db, p->rel, now, p, &replaced);
	}
	if (rc < 0)
		goto nomem;
	if (rc == 1) {
		s->st.debounced++;
		p->saves += ((struct snap_pending *)replaced)->saves;
		snapshots_pending_free(replaced);
	}
	s->st.pending = snap_debounce_pending(s->db);
	return;
nomem:
	snapshots_pending_free(p);
	snapshots_count(s, SNAPSHOTS_STORE_ERROR);
	LOG_ERROR("snapshot of a file dropped: out of memory");
}

void snapshots_on_file_event(struct snapshots *s, const char *boot_id, uint64_t seq,
			     const Jcw__FileEvent *e)
{
	char id[160];
	uint64_t t = e->time_unix_ns ? e->time_unix_ns : clock_unix_ns();
	uint64_t now = snapshots_advance(s, t);

	/* What was due before this event happened goes first, so a replay
	 * takes bursts in the order they ended. */
	snapshots_take_due(s, now);
	snprintf(id, sizeof(id), "%s-%" PRIu64, boot_id ? boot_id : "", seq);
	switch (e->kind) {
	case JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE:
		snapshots_action(s, e, &e->path, e->path_truncated, false, t, now, id);
		break;
	case JCW__FILE_EVENT_KIND__FILE_UNLINK:
		snapshots_action(s, e, &e->path, e->path_truncated, true, t, now, id);
		break;
	case JCW__FILE_EVENT_KIND__FILE_RENAME: {
		char old_id[170];

		snprintf(old_id, sizeof(old_id), "%s-old", id);
		snapshots_action(s, e, &e->old_path, e->old_path_truncated, true, t, now, old_id);
		snapshots_action(s, e, &e->path, e->path_truncated, false, t, now, id);
		break;
	}
	default:
		s->st.filtered_kind++;
		snapshots_count(s, SNAPSHOTS_FILTERED);
		break;
	}
	snapshots_arm(s);
}

void snapshots_flush(struct snapshots *s)
{
	snapshots_take_due(s, SNAP_DEBOUNCE_NONE);
	snap_worker_drain(s->worker);
	ev_timer_stop(s->loop, &s->timer);
}

const struct snapshots_stats *snapshots_stats(const struct snapshots *s)
{
	return &s->st;
}

static void snapshots_warn_dir(const char *what, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		LOG_WARN("%s %s is not a directory (yet): snapshots fail, counted, until it is",
			 what, path);
}

int snapshots_new(struct ev_loop *loop, const struct snapshots_config *cfg,
		  snapshots_submit_fn submit, void *arg, struct snapshots **out,
		  char *err, size_t errlen)
{
	struct snap_debounce_config dc;
	struct snap_store_config sc;
	struct snapshots *s;
	int rc;

	if (cfg->window_s < 0 || cfg->max_wait_s < 0 || !cfg->watch_root ||
	    !cfg->container_root || cfg->container_root[0] != '/' || !cfg->snapshot_base) {
		snprintf(err, errlen, "snapshots: need WATCH_ROOT, SNAPSHOT_BASE, an absolute "
			 "CONTAINER_ROOT and non-negative debounce times");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto nomem;
	s->loop = loop;
	s->cfg = *cfg;
	if (cfg->exts)
		s->exts = *cfg->exts;
	else   /* the default always parses */
		(void)file_exts_parse(FILE_EXTS_DEFAULT, &s->exts, err, errlen);
	s->submit = submit;
	s->submit_arg = arg;
	ev_timer_init(&s->timer, snapshots_timer_cb, 0, 0);
	s->timer.data = s;

	dc.window_ns = (uint64_t)(cfg->window_s * 1e9);
	dc.max_wait_ns = (uint64_t)(cfg->max_wait_s * 1e9);
	dc.max_pending = cfg->max_pending ? cfg->max_pending : 1024;
	rc = snap_debounce_new(&dc, &s->db);
	if (rc)
		goto fail;
	if (cfg->budget.files_per_min > 0 || cfg->budget.bytes_per_hour > 0) {
		rc = snap_budget_new(&cfg->budget, &s->budget);
		if (rc)
			goto fail;
		ev_timer_init(&s->budget_report, snapshots_budget_cb, 60, 60);
		s->budget_report.data = s;
		ev_timer_start(loop, &s->budget_report);
		ev_unref(loop);   /* a report alone keeps no loop running */
	}
	memset(&sc, 0, sizeof(sc));
	sc.base = cfg->snapshot_base;
	sc.max_size = cfg->max_file_size;
	rc = snap_store_new(&sc, &s->store);
	if (rc)
		goto fail;
	s->rc.root = cfg->watch_root;
	s->rc.max_size = cfg->max_file_size;
	s->buf = malloc(cfg->max_file_size + 1);
	if (!s->buf)
		goto nomem;
	snapshots_warn_dir("WATCH_ROOT", cfg->watch_root);
	snapshots_warn_dir("SNAPSHOT_BASE", cfg->snapshot_base);
	rc = snap_worker_new(loop, SNAPSHOTS_IO_QUEUE, snapshots_job_work, snapshots_job_done, s,
			     &s->worker);
	if (rc)
		goto fail;
	*out = s;
	return 0;
nomem:
	rc = -ENOMEM;
fail:
	snprintf(err, errlen, "snapshots: %s", strerror(-rc));
	snapshots_free(s);
	return rc;
}

void snapshots_free(struct snapshots *s)
{
	if (!s)
		return;
	ev_timer_stop(s->loop, &s->timer);
	if (s->budget) {
		ev_ref(s->loop);   /* as libev wants for an unref'd watcher */
		ev_timer_stop(s->loop, &s->budget_report);
	}
	snap_worker_free(s->worker);   /* the last jobs done, the thread gone */
	snap_debounce_free(s->db, snapshots_pending_free);
	snap_budget_free(s->budget);
	snap_store_free(s->store);
	free(s->buf);
	free(s);
}

const char *snapshots_result_name(enum snapshots_result r)
{
	static const char *const names[SNAPSHOTS_RESULT_COUNT] = {
		[SNAPSHOTS_STORED] = "stored",
		[SNAPSHOTS_UNCHANGED] = "unchanged",
		[SNAPSHOTS_TOO_LARGE] = "too_large",
		[SNAPSHOTS_FILTERED] = "filtered",
		[SNAPSHOTS_READ_ERROR] = "read_error",
		[SNAPSHOTS_STORE_ERROR] = "store_error",
		[SNAPSHOTS_OVER_BUDGET] = "over_budget",
	};

	return (unsigned)r < SNAPSHOTS_RESULT_COUNT ? names[r] : "unknown";
}

/* --- metrics --------------------------------------------------------------- */

static void snapshots_collect(struct metrics *m, void *arg)
{
	struct snapshots *s = arg;
	size_t i;

	(void)m;
	for (i = 0; i < SNAPSHOTS_RESULT_COUNT; i++)
		metric_set(s->m_result[i], (double)s->st.result[i]);
	for (i = 1; i < SNAP_PATH_RESULT_COUNT; i++)
		metric_set(s->m_path[i], (double)s->st.filtered_path[i]);
	for (i = 1; i < SNAP_FILTER_REASON_COUNT; i++)
		metric_set(s->m_rule[i], (double)s->st.filtered_rule[i]);
	metric_set(s->m_kind, (double)s->st.filtered_kind);
	for (i = 1; i < SNAP_READ_RESULT_COUNT; i++)
		metric_set(s->m_read[i], (double)s->st.read_errors[i]);
	metric_set(s->m_debounced, (double)s->st.debounced);
	metric_set(s->m_forced, (double)s->st.forced);
	metric_set(s->m_deferred, (double)s->st.deferred);
	metric_set(s->m_bytes, (double)s->st.bytes_stored);
	metric_set(s->m_pending, (double)s->st.pending);
}

int snapshots_add_metrics(struct snapshots *s, struct metrics *reg)
{
	static const char *const l_result[] = {"result", NULL};
	static const char *const l_reason[] = {"reason", NULL};
	struct metric_family *fr, *ff, *fe, *fd, *fo, *fb, *fp, *fw;
	size_t i;

	fr = metrics_family(reg, METRIC_COUNTER, "jcw_snapshot_events_total",
			    "File saves and deletions (a rename is both) by outcome; those merged "
			    "into a later one of the same file are in jcw_snapshot_debounced_total.",
			    l_result, NULL, 0);
	ff = metrics_family(reg, METRIC_COUNTER, "jcw_snapshot_filtered_total",
			    "File saves and deletions not snapshotted, by reason.", l_reason, NULL, 0);
	fe = metrics_family(reg, METRIC_COUNTER, "jcw_snapshot_read_errors_total",
			    "Files that could not be read safely for a snapshot, by reason.",
			    l_reason, NULL, 0);
	fd = metrics_family(reg, METRIC_COUNTER, "jcw_snapshot_debounced_total",
			    "File saves and deletions merged into a later one of the same file "
			    "(DEBOUNCE_WINDOW).", NULL, NULL, 0);
	fo = metrics_family(reg, METRIC_COUNTER, "jcw_snapshot_forced_total",
			    "Files taken before their debounce deadline because too many were "
			    "waiting.", NULL, NULL, 0);
	fb = metrics_family(reg, METRIC_COUNTER, "jcw_snapshot_stored_bytes_total",
			    "Bytes of snapshot content written to SNAPSHOT_BASE.", NULL, NULL, 0);
	fp = metrics_family(reg, METRIC_GAUGE, "jcw_snapshot_pending_files",
			    "Files waiting for their debounce deadline.", NULL, NULL, 0);
	fw = metrics_family(reg, METRIC_COUNTER, "jcw_snapshot_deferred_total",
			    "Files kept waiting, unread, because their student's storage budget "
			    "was spent (SNAPSHOT_STUDENT_*).", NULL, NULL, 0);
	if (!fr || !ff || !fe || !fd || !fo || !fb || !fp || !fw)
		return -ENOMEM;
	for (i = 0; i < SNAPSHOTS_RESULT_COUNT; i++)
		s->m_result[i] = metrics_get(fr, snapshots_result_name(i));
	for (i = 1; i < SNAP_PATH_RESULT_COUNT; i++)
		s->m_path[i] = metrics_get(ff, snap_path_result_name(i));
	for (i = 1; i < SNAP_FILTER_REASON_COUNT; i++)
		s->m_rule[i] = metrics_get(ff, snap_filter_reason_name(i));
	s->m_kind = metrics_get(ff, "unknown_kind");
	for (i = 1; i < SNAP_READ_RESULT_COUNT; i++)
		if (i != SNAP_READ_TOO_LARGE)
			s->m_read[i] = metrics_get(fe, snap_read_result_name(i));
	s->m_debounced = metrics_series(fd, NULL);
	s->m_forced = metrics_series(fo, NULL);
	s->m_bytes = metrics_series(fb, NULL);
	s->m_pending = metrics_series(fp, NULL);
	s->m_deferred = metrics_series(fw, NULL);
	s->reg = reg;
	return metrics_on_collect(reg, snapshots_collect, s);
}
