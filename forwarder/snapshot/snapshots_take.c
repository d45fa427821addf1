/* snapshots_take: one file whose burst is over: the student's budget
 * first, then the read and the store on the worker's thread, then the
 * count, the log and the registration back on the loop. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snap_register.h"
#include "snapshots_int.h"

void snapshots_count(struct snapshots *s, enum snapshots_result r)
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
	if (log_ratelimit_allow(&s->rl_read, LOG_BURST, &sup))
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
	if (log_ratelimit_allow(&s->rl_store, LOG_BURST, &sup))
		LOG_WARN("snapshot of %s not stored under %s: %s (%" PRIu64 " similar messages suppressed)",
			 p->rel, s->cfg.snapshot_base, strerror(err), sup);
}

static void snapshots_over_quota(struct snapshots *s, const struct snap_pending *p, size_t len,
				 uint64_t held)
{
	uint64_t sup = 0;

	snapshots_count(s, SNAPSHOTS_OVER_QUOTA);
	if (log_ratelimit_allow(&s->rl_quota, LOG_BURST, &sup))
		LOG_WARN("student %s/%s: snapshot of %s (%zu bytes) not stored: they hold %" PRIu64
			 " bytes of snapshots, SNAPSHOT_STUDENT_TOTAL is %" PRIu64 " (%" PRIu64
			 " similar messages suppressed)", p->class_div, p->id, p->rel, len, held,
			 s->cfg.student_total, sup);
}

static void snapshots_budget_log(void *arg, const char *key, uint64_t refused, uint64_t total)
{
	const struct snapshots *s = arg;

	LOG_WARN("student %s: %" PRIu64 " snapshot(s) kept waiting for the storage budget "
		 "(%.0f files a minute, burst %.0f; %.0f bytes an hour) in the last minute, %"
		 PRIu64 " in all", key, refused, s->cfg.budget.files_per_min,
		 s->cfg.budget.files_burst, s->cfg.budget.bytes_per_hour, total);
}

void snapshots_budget_cb(struct ev_loop *loop, ev_timer *w, int revents)
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
	snapshots_pending_done(s, p);
	return false;
}

/* One file's disk work, handed to the worker (worker.h): p, the
 * budget reserved for it, and what the worker found. */
struct snap_job {
	struct snap_pending *p;
	char key[STUDENT_KEY_MAX + 1];
	uint64_t reserved;              /* bytes taken from the budget */
	enum snap_read_result rr;
	enum snap_store_result sr;
	bool over_quota;                /* not stored: the student holds their total */
	uint64_t held;                  /* what they hold, when over_quota */
	size_t len;
	int err;
	char url_ts[SNAP_STORE_URL_TS_MAX];
	/* What the stored version says beside its content (not a deletion's). */
	bool have_signals;
	struct snap_signals signals;
	bool have_previous;
	uint64_t previous_s;            /* the version before: its time, unix s */
};

/* On the worker: the hashes and line counts of what was just stored,
 * against the version before it (snap_signals.h). Best effort: without
 * them the registration goes as before. */
static void snapshots_job_signals(struct snapshots *s, struct snap_job *j,
				  const struct snap_store_file *f)
{
	struct snap_store_prev prev;

	if (snap_store_previous(s->store, f, j->url_ts, &prev) < 0)
		prev.found = false;
	j->have_signals = snap_signals_of(s->buf, j->len, prev.found ? prev.data : NULL,
					  prev.found ? prev.len : 0, f->ext, &j->signals) == 0;
	j->have_previous = prev.found;
	j->previous_s = prev.time_s;
}

/* On the worker's thread: read and store, nothing else (no counters, no
 * logs: those are the loop's, in snapshots_job_done). */
void snapshots_job_work(void *arg, void *ctx)
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
		/* A deletion's empty snapshot always fits: it adds no bytes. */
		if (s->quota && !snap_quota_fits(s->quota, p->class_div, p->id, j->len, &j->held)) {
			j->over_quota = true;
			return;
		}
	}
	j->sr = snap_store_put(s->store, &f, p->time_ns, s->buf, j->len, p->deletion, j->url_ts,
			       &j->err);
	if (s->quota && j->sr == SNAP_STORE_STORED)
		snap_quota_add(s->quota, p->class_div, p->id, j->len);
	if (j->sr == SNAP_STORE_STORED && !p->deletion)
		snapshots_job_signals(s, j, &f);
}

/* On the loop, in submission order: count, log, register. Frees the job. */
void snapshots_job_done(void *arg, void *ctx)
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
	if (j->over_quota) {
		snapshots_over_quota(s, p, j->len, j->held);
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
	ri.ext = p->filename + p->ext_off;
	/* rel is "{course}-{section}-{id}/hwN/{file}" (snap_path.h). */
	ri.file = strchr(strchr(p->rel, '/') + 1, '/') + 1;
	ri.bytes = j->len;
	ri.deleted = p->deletion;
	ri.event_id = p->event_id;
	ri.event_time_ns = p->time_ns;
	ri.saves = p->saves;
	ri.signals = j->have_signals ? &j->signals : NULL;
	ri.have_previous = j->have_previous;
	ri.previous_s = j->previous_s;
	ri.paste_lines = s->cfg.paste_lines;
	ri.writer_comm = p->comm;
	ri.writer_exe = p->exe;
	ri.writer_kind = writer_kind_name(p->kind);
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
	snapshots_pending_done(s, p);
	free(j);
}

/* A burst is over: the budget decides, then the worker reads, stores and
 * the loop registers (snapshots_job_done). Frees p, keeps it waiting for
 * the student's budget or a place in the worker's queue when may_wait, or
 * (shutdown, a full table) waits for the worker to make room. */
void snapshots_take(struct snapshots *s, struct snap_pending *p, bool may_wait)
{
	uint64_t wait_ns, now = snapshots_now(s);
	struct snap_job *j = calloc(1, sizeof(*j));

	if (!j) {
		snapshots_count(s, SNAPSHOTS_STORE_ERROR);
		snapshots_pending_done(s, p);
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
	if (worker_submit(s->worker, j) == 0)
		return;
	if (may_wait) {
		/* The disk is behind: the file waits a little, unread. */
		snap_budget_refund(s->budget, j->key, 1, j->reserved, now);
		free(j);
		snapshots_defer(s, p, SNAPSHOTS_IO_RETRY_NS, true);
		return;
	}
	worker_drain(s->worker);
	if (worker_submit(s->worker, j) != 0) {   /* not reachable: drained */
		snapshots_count(s, SNAPSHOTS_STORE_ERROR);
		snapshots_pending_done(s, p);
		free(j);
	}
}
