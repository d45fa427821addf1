#include "snapshots_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"

/* The event clock now. */
uint64_t snapshots_now(const struct snapshots *s)
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

void snapshots_pending_free(void *p)
{
	struct snap_pending *sp = p;

	if (!sp)
		return;
	free(sp->rel);
	free(sp->filename);
	free(sp->event_id);
	free(sp->exe);
	free(sp);
}

void snapshots_pending_done(struct snapshots *s, struct snap_pending *p)
{
	if (p && s->cfg.release)
		s->cfg.release(s->cfg.hold_arg, p->event_id);
	snapshots_pending_free(p);
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

/* One save or deletion of path, at event time t and clock now, from the
 * frame f of boot_id. */
static void snapshots_action(struct snapshots *s, const char *boot_id, const Jcw__Frame *f,
			     const ProtobufCBinaryData *path, bool truncated, bool deletion,
			     uint64_t t, uint64_t now, const char *event_id)
{
	const Jcw__FileEvent *e = f->file;
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
		if (pr == SNAP_PATH_MALFORMED_HOST && log_ratelimit_allow(&s->rl_host, LOG_BURST, &sup))
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
	if (e->comm.len)
		memcpy(p->comm, e->comm.data, e->comm.len < WRITER_COMM_MAX ? e->comm.len
										: WRITER_COMM_MAX);
	if (e->exe.len && !e->exe_truncated && !(p->exe = strndup((const char *)e->exe.data,
								  e->exe.len)))
		goto nomem;
	p->kind = writer_kind_of(s->cfg.writers, p->exe, p->exe ? strlen(p->exe) : 0, p->comm,
				      strlen(p->comm));

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
		/* First: a frame sent again after a restart has the same id. */
		snapshots_pending_done(s, replaced);
	}
	if (s->cfg.hold)
		s->cfg.hold(s->cfg.hold_arg, p->event_id, boot_id, f);
	s->st.pending = snap_debounce_pending(s->db);
	return;
nomem:
	snapshots_pending_free(p);
	snapshots_count(s, SNAPSHOTS_STORE_ERROR);
	LOG_ERROR("snapshot of a file dropped: out of memory");
}

void snapshots_on_file_event(struct snapshots *s, const char *boot_id, const Jcw__Frame *f)
{
	const Jcw__FileEvent *e = f->file;
	uint64_t seq = f->seq;
	char id[160];
	uint64_t t = e->time_unix_ns ? e->time_unix_ns : clock_unix_ns();
	uint64_t now = snapshots_advance(s, t);

	/* What was due before this event happened goes first, so a replay
	 * takes bursts in the order they ended. */
	snapshots_take_due(s, now);
	snprintf(id, sizeof(id), "%s-%" PRIu64, boot_id ? boot_id : "", seq);
	switch (e->kind) {
	case JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE:
		snapshots_action(s, boot_id, f, &e->path, e->path_truncated, false, t, now, id);
		break;
	case JCW__FILE_EVENT_KIND__FILE_UNLINK:
		snapshots_action(s, boot_id, f, &e->path, e->path_truncated, true, t, now, id);
		break;
	case JCW__FILE_EVENT_KIND__FILE_RENAME: {
		char old_id[170];

		snprintf(old_id, sizeof(old_id), "%s-old", id);
		snapshots_action(s, boot_id, f, &e->old_path, e->old_path_truncated, true, t, now, old_id);
		snapshots_action(s, boot_id, f, &e->path, e->path_truncated, false, t, now, id);
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
	worker_drain(s->worker);
	ev_timer_stop(s->loop, &s->timer);
}

static void pending_bytes(void *ctx, void *data)
{
	const struct snap_pending *p = data;

	*(size_t *)ctx += sizeof(*p) + strlen(p->rel) + strlen(p->filename) + strlen(p->event_id) + 3 +
			  (p->exe ? strlen(p->exe) + 1 : 0);
}

size_t snapshots_memory(const struct snapshots *s)
{
	size_t n = sizeof(*s) + snap_debounce_memory(s->db) + snap_budget_memory(s->budget) +
		   snap_quota_memory(s->quota) + s->cfg.max_file_size + 1;

	snap_debounce_each(s->db, pending_bytes, &n);
	return n;
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
	dc.max_pending = cfg->max_pending ? cfg->max_pending : SNAPSHOTS_PENDING_DEFAULT;
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
	if (cfg->student_total) {
		struct snap_quota_config qc = {
			.base = cfg->snapshot_base,
			.max_bytes = cfg->student_total,
			.max_students = cfg->budget.max_students ? cfg->budget.max_students
							   : SNAPSHOTS_QUOTA_STUDENTS_DEFAULT,
		};

		rc = snap_quota_new(&qc, &s->quota);
		if (rc)
			goto fail;
	}
	s->rc.root = cfg->watch_root;
	s->rc.max_size = cfg->max_file_size;
	s->buf = malloc(cfg->max_file_size + 1);
	if (!s->buf)
		goto nomem;
	snapshots_warn_dir("WATCH_ROOT", cfg->watch_root);
	snapshots_warn_dir("SNAPSHOT_BASE", cfg->snapshot_base);
	rc = worker_new(loop, SNAPSHOTS_IO_QUEUE, snapshots_job_work, snapshots_job_done, s,
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
	worker_free(s->worker);   /* the last jobs done, the thread gone */
	snap_debounce_free(s->db, snapshots_pending_free);
	snap_budget_free(s->budget);
	snap_store_free(s->store);
	snap_quota_free(s->quota);
	free(s->buf);
	free(s);
}
