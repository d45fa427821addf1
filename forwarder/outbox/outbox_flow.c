#include "outbox_flow.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "frame.h"
#include "hash.h"
#include "log.h"
#include "worker.h"

#define FLOW_RETRY_MAX_S 1.0          /* failed commits: retried at least this often */
#define FLOW_RETRY_MIN_S 0.005        /* ... and first after this, with an interval of 0 */
#define FLOW_EXEC_TTL_PERIOD_S 60.0   /* how often stale pending execs are dropped */

struct outbox_flow {
	struct ev_loop *loop;
	struct outbox_flow_config cfg;
	struct outbox *ob;                /* NULL: memory only */
	struct input *in;
	struct deliver *dl;
	ev_timer commit_timer;
	ev_prepare commit_soon;           /* at the end of the loop's turn */
	struct worker *committer;         /* runs the transactions; NULL: on the loop */
	struct outbox_batch *batch;       /* the one out with the committer */
	double retry_s;                   /* next delay after a failed commit */
	bool failing;                     /* the last commit failed */
	bool stopping;
	bool paused;                      /* can_take said no */
	double last_commit;               /* ev_now() of the last batch taken (or Acks sent) */
	double next_ttl_mono;
	size_t feed_max;                  /* requests fed to delivery's queue at most */
	struct bootseq *boots;            /* shared with input, fairq and the outbox */
	bool own_boots;
	struct outbox_flow_stats st;
	struct log_ratelimit rl_commit, rl_put, rl_dead;
};

static void flow_feed(struct outbox_flow *fl);

/* --- acknowledgements ------------------------------------------------------ */

/* Tells the collector of b what bootseq_ackable allows. */
static void flow_ack(struct outbox_flow *fl, struct bootseq_boot *b)
{
	uint64_t seq = bootseq_ackable(b);

	if (!seq)
		return;
	if (fl->in)
		input_ack(fl->in, b->id, seq);
	b->acked = seq;
}

/* outbox on_commit: the boot's frames up to seq are durable. */
static void flow_on_commit(void *arg, const char *boot_id, uint64_t seq)
{
	struct outbox_flow *fl = arg;
	struct bootseq_boot *b = bootseq_find(fl->boots, boot_id);

	(void)seq;   /* the boot's durable, now */
	if (b)
		flow_ack(fl, b);
}

/* Without an outbox what is processed is as durable as it gets: it is
 * acknowledged at the commits' pace. */
static void mem_ack(struct outbox_flow *fl)
{
	struct bootseq_boot *b;
	unsigned i;

	for (i = 0; i < BOOTSEQ_MAX; i++) {
		b = bootseq_at(fl->boots, i);
		if (!b->id)
			continue;
		b->durable = b->done;
		flow_ack(fl, b);
	}
}

/* --- group commit ---------------------------------------------------------- */

static void flow_commit(struct outbox_flow *fl);
static void flow_schedule_in(struct outbox_flow *fl, double wait);

static double flow_retry_base(const struct outbox_flow *fl)
{
	return fl->cfg.commit_interval_s > FLOW_RETRY_MIN_S ? fl->cfg.commit_interval_s : FLOW_RETRY_MIN_S;
}

/* Back on the loop: the batch's transaction ended. */
static void flow_commit_end(struct outbox_flow *fl, struct outbox_batch *b)
{
	char err[512];
	double delay;
	uint64_t sup = 0;
	int rc;

	fl->batch = NULL;
	rc = outbox_commit_end(fl->ob, b, err, sizeof(err));
	if (rc == 0) {
		if (fl->failing)
			LOG_INFO("outbox commits again: acknowledging and reading resume");
		fl->failing = false;
		fl->retry_s = flow_retry_base(fl);
		flow_feed(fl);
		if (fl->paused && fl->in && outbox_flow_can_take(fl))
			input_kick(fl->in);
		/* What was staged meanwhile has waited for this commit: the
		 * next one starts at once if this one took the interval or
		 * more (a slower disk makes bigger batches), else when the
		 * interval since this one began is over. */
		if (outbox_staged(fl->ob))
			flow_schedule_in(fl, fl->last_commit + fl->cfg.commit_interval_s -
					     ev_now(fl->loop));
		return;
	}
	/* Nothing of the batch is lost: it is staged again, frames stay
	 * unacknowledged, input pauses, and the commit is tried again. */
	fl->failing = true;
	delay = fl->retry_s;
	fl->retry_s = fl->retry_s * 2 < FLOW_RETRY_MAX_S ? fl->retry_s * 2 : FLOW_RETRY_MAX_S;
	if (log_ratelimit_allow(&fl->rl_commit, LOG_BURST_QUIET, &sup))
		LOG_ERROR("%s%s; not acknowledging the collector, retrying in %.3f s "
			  "(%llu similar messages suppressed)", err,
			  rc == -ENOSPC ? " (disk full)" : "", delay, (unsigned long long)sup);
	ev_timer_set(&fl->commit_timer, delay, 0.);
	ev_timer_start(fl->loop, &fl->commit_timer);
}

/* The committer's two halves (worker.h): the transaction on its thread,
 * its end on the loop. */
static void committer_work(void *job, void *ctx)
{
	struct outbox_flow *fl = ctx;

	outbox_commit_run(fl->ob, job);
}

static void committer_done(void *job, void *ctx)
{
	flow_commit_end(ctx, job);
}

/* Hands what is staged to the committer: one batch at a time, so a batch
 * grows while the one before is on the disk (group commit), and the loop
 * never waits for the fsync. Acknowledgements and delivery of a batch
 * follow its end, as before. */
static void flow_commit(struct outbox_flow *fl)
{
	struct outbox_batch *b;
	double ttl = 0, now = clock_mono_s();

	ev_timer_stop(fl->loop, &fl->commit_timer);
	ev_prepare_stop(fl->loop, &fl->commit_soon);
	if (!fl->ob) {
		mem_ack(fl);
		fl->last_commit = ev_now(fl->loop);   /* Acks keep the same pace */
		return;
	}
	if (fl->batch)
		return;   /* the next starts when it ends */
	if (now >= fl->next_ttl_mono) {
		ttl = clock_unix_s() - fl->cfg.exec_ttl_s;
		fl->next_ttl_mono = now + FLOW_EXEC_TTL_PERIOD_S;
	}
	b = outbox_commit_take(fl->ob, ttl);
	if (!b) {
		if (outbox_staged(fl->ob)) {   /* no memory for the batch: later */
			ev_timer_set(&fl->commit_timer, fl->retry_s, 0.);
			ev_timer_start(fl->loop, &fl->commit_timer);
		}
		return;
	}
	fl->last_commit = ev_now(fl->loop);
	if (fl->committer && worker_submit(fl->committer, b) == 0) {
		fl->batch = b;
		return;
	}
	outbox_commit_run(fl->ob, b);
	flow_commit_end(fl, b);
}

static void commit_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	flow_commit(w->data);
}

static void commit_soon_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)revents;
	flow_commit(w->data);
}

/* A commit in wait seconds (at the end of this turn of the loop when
 * wait <= 0), or now when the batch is full; nothing when one is due or out. */
static void flow_schedule_in(struct outbox_flow *fl, double wait)
{
	if (fl->failing)
		return;   /* the retry timer runs */
	if (fl->batch)
		return;   /* the next starts when it ends */
	if (fl->ob && outbox_staged(fl->ob) >= fl->cfg.commit_batch) {
		flow_commit(fl);
		return;
	}
	if (ev_is_active(&fl->commit_timer) || ev_is_active(&fl->commit_soon))
		return;
	if (wait <= 0) {
		ev_prepare_start(fl->loop, &fl->commit_soon);
		return;
	}
	ev_timer_set(&fl->commit_timer, wait, 0.);
	ev_timer_start(fl->loop, &fl->commit_timer);
}

/* Something was staged. Group commit on a pace: the first write waits one
 * interval, and everything staged meanwhile goes with it. Events go to the
 * API without waiting (outbox.h), and what the API answers within the
 * interval, most events in a few ms, is never written at all, nor its
 * deletion: an idle node pays one small transaction per interval, not an
 * insert, a delete and two fsyncs per event. Under load commits begin at
 * most once per interval, and follow each other once they take longer
 * (flow_commit_end). With an interval of 0: at the end of this turn of the
 * loop, with whatever else it read. */
static void flow_schedule(struct outbox_flow *fl)
{
	flow_schedule_in(fl, fl->cfg.commit_interval_s);
}

/* --- feeding delivery ------------------------------------------------------ */

static int flow_take(void *arg, struct api_request *req)
{
	struct outbox_flow *fl = arg;
	uint64_t sup = 0;
	int rc;

	if (deliver_stats(fl->dl)->queued >= fl->feed_max)
		return 1;
	rc = deliver_submit(fl->dl, req);
	if (rc == 0 || rc == -ENOBUFS || rc == -ENOMEM || rc == -ESHUTDOWN)
		return rc;
	/* A stored row delivery cannot send (a damaged, salvaged one): keep
	 * it where it can be looked at, and go on. */
	fl->st.feed_invalid++;
	if (log_ratelimit_allow(&fl->rl_dead, LOG_BURST, &sup))
		LOG_ERROR("outbox event %s cannot be sent (%s): moved to dead_letter",
			  req->event_id ? req->event_id : "?", strerror(-rc));
	outbox_dead(fl->ob, req, 0, "not a valid request", 19);
	flow_schedule(fl);
	return 0;
}

static void flow_feed(struct outbox_flow *fl)
{
	if (!fl->ob || !fl->dl || fl->stopping)
		return;
	outbox_feed(fl->ob, flow_take, fl);
}

/* --- the app's hooks -------------------------------------------------------- */

/* Keeps the frame f in pending_exec under (tgid, start_ns) until deleted. */
static void frame_keep(struct outbox_flow *fl, const char *boot_id, const Jcw__Frame *f,
		       uint32_t tgid, uint64_t start_ns)
{
	uint8_t stackbuf[4096], *buf = stackbuf;
	size_t len = jcw__frame__get_packed_size(f);
	uint64_t sup = 0;
	int rc;

	if (len > sizeof(stackbuf) && !(buf = malloc(len)))
		goto nomem;
	jcw__frame__pack(f, buf);
	rc = outbox_exec_put(fl->ob, boot_id, f->seq, tgid, start_ns, buf, len);
	if (buf != stackbuf)
		free(buf);
	if (rc == 0)
		return;
nomem:
	/* The frame is acknowledged with the others but not stored. */
	if (log_ratelimit_allow(&fl->rl_put, LOG_BURST, &sup))
		LOG_ERROR("out of memory staging frame %" PRIu64 ": what it holds is lost if the "
			  "forwarder stops before it is done", f->seq);
}

/* A held file action's key in pending_exec: tgid 0, which no process has. */
static uint64_t held_key(const char *event_id)
{
	return hash_fnv1a(event_id, strlen(event_id));
}

void outbox_flow_hold(struct outbox_flow *fl, const char *event_id, const char *boot_id,
		      const Jcw__Frame *f)
{
	if (fl->ob)
		frame_keep(fl, boot_id, f, 0, held_key(event_id));
}

void outbox_flow_release(struct outbox_flow *fl, const char *event_id)
{
	if (fl->ob)
		outbox_exec_del(fl->ob, 0, held_key(event_id));
}

void outbox_flow_frame(struct outbox_flow *fl, const char *boot_id, const Jcw__Frame *f,
		       uint64_t seen)
{
	struct bootseq_boot *b;

	if (f->body_case == JCW__FRAME__BODY_HELLO && (b = bootseq_find(fl->boots, boot_id))) {
		/* A reconnecting collector may resend frames this forwarder made
		 * durable before (and then crashed, or the Ack was lost): ack
		 * them again at once, on the new connection, so it can forget
		 * them. */
		b->acked = 0;
		flow_ack(fl, b);
	}
	if (fl->ob && f->body_case == JCW__FRAME__BODY_EXEC && f->exec)
		frame_keep(fl, boot_id, f, f->exec->tgid, f->exec->start_boottime_ns);
	if (!f->seq || !seen)
		return;
	if (fl->ob) {
		outbox_seen(fl->ob, boot_id, seen);
	} else {
		b = bootseq_get(fl->boots, boot_id, NULL);
		if (b)
			bootseq_done(b, seen);   /* without memory: a later frame brings it */
	}
	flow_schedule(fl);
}

void outbox_flow_joined(struct outbox_flow *fl, uint32_t tgid, uint64_t start_ns)
{
	if (fl->ob)
		outbox_exec_del(fl->ob, tgid, start_ns);
}

int outbox_flow_put(struct outbox_flow *fl, struct api_request *req)
{
	int rc;

	if (!fl->ob)
		return fl->dl ? deliver_submit(fl->dl, req) : -ENOTCONN;
	rc = outbox_put(fl->ob, req);
	if (rc == 0) {
		flow_schedule(fl);
		flow_feed(fl);   /* staged is enough to go (outbox.h) */
	}
	return rc;
}

int outbox_flow_dataset_release(struct outbox_flow *fl, uint64_t id, uint64_t rows,
				uint64_t bytes)
{
	int rc;

	if (!fl->ob)
		return -ENOENT;
	rc = outbox_dataset_release(fl->ob, id, rows, bytes);
	if (!rc)
		flow_schedule(fl);
	return rc;
}

bool outbox_flow_can_take(struct outbox_flow *fl)
{
	bool ok;

	if (!fl->ob)
		return !fl->dl || deliver_stats(fl->dl)->queued < fl->cfg.deliver_queue_max;
	ok = !fl->failing && !outbox_full(fl->ob) &&
	     outbox_staged(fl->ob) < 4 * fl->cfg.commit_batch;
	if (!ok && !fl->paused)
		fl->st.backpressure++;
	fl->paused = !ok;
	return ok;
}

void outbox_flow_result(struct outbox_flow *fl, const struct api_request *req,
			enum deliver_outcome outcome, long status)
{
	const char *resp;
	size_t len;

	if (!fl->ob)
		return;
	if ((unsigned)outcome < DELIVER_OUTCOME_COUNT)
		fl->st.outcome[outcome]++;
	if (outcome == DELIVER_DELIVERED) {
		if (outbox_done(fl->ob, req))
			LOG_ERROR("out of memory: delivered event %s stays in the outbox (sent again "
				  "after a restart)", req->event_id);
	} else if (outcome == DELIVER_REJECTED) {
		resp = deliver_response(fl->dl, &len);
		if (outbox_dead(fl->ob, req, status, resp, len))
			LOG_ERROR("out of memory: rejected event %s stays in the outbox",
				  req->event_id);
	} else {
		return;   /* abandoned: the row stays for the next start */
	}
	flow_schedule(fl);
	/* A slot freed up: the next stored event can go. Feeding from inside
	 * on_result is allowed (deliver_submit may be called there). */
	flow_feed(fl);
}

void outbox_flow_retry(struct outbox_flow *fl, const struct api_request *req,
		       unsigned attempts, double delay_s)
{
	if (!fl->ob)
		return;
	fl->st.retries++;
	if (outbox_retry(fl->ob, req, attempts, clock_unix_s() + delay_s) == 0)
		flow_schedule(fl);
}

bool outbox_flow_idle(const struct outbox_flow *fl)
{
	return !fl->ob || (!fl->batch && outbox_staged(fl->ob) == 0 && !outbox_has_unfed(fl->ob));
}

void outbox_flow_stop(struct outbox_flow *fl)
{
	fl->stopping = true;
}

static void outbox_flow_log_summary(const struct outbox_flow *fl)
{
	const struct outbox_stats *os = outbox_stats(fl->ob);
	double n = os->commit_writes.count ? (double)os->commit_writes.count : 1;

	LOG_INFO("outbox: %llu event(s) left for the next start; %llu stored, %llu group "
		 "commit(s) of %.1f writes and %.2f ms on average, %llu failed",
		 (unsigned long long)os->rows, (unsigned long long)os->inserted,
		 (unsigned long long)os->commits, os->commit_writes.sum / n,
		 os->commit_seconds.sum / n * 1e3, (unsigned long long)os->commit_errors);
}

int outbox_flow_finish(struct outbox_flow *fl)
{
	char err[512];
	int rc;

	ev_timer_stop(fl->loop, &fl->commit_timer);
	ev_prepare_stop(fl->loop, &fl->commit_soon);
	if (!fl->ob) {
		mem_ack(fl);
		return 0;
	}
	if (fl->committer)
		worker_drain(fl->committer);   /* the batch out ends here */
	rc = outbox_commit(fl->ob, 0, err, sizeof(err));
	if (rc)
		LOG_ERROR("%s: the last batch is not stored (its frames were not acknowledged)", err);
	else
		outbox_flow_log_summary(fl);
	return rc;
}

/* --- setup ------------------------------------------------------------------ */

int outbox_flow_new(struct ev_loop *loop, const struct outbox_flow_config *cfg,
		    struct outbox_flow **out, char *err, size_t errlen)
{
	struct outbox_flow *fl = calloc(1, sizeof(*fl));
	int rc;

	if (!fl) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	fl->loop = loop;
	fl->cfg = *cfg;
	if (bootseq_use(cfg->boots, &fl->boots, &fl->own_boots)) {
		free(fl);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!(fl->cfg.commit_interval_s > 0))
		fl->cfg.commit_interval_s = 0;
	if (!fl->cfg.commit_batch)
		fl->cfg.commit_batch = FLOW_COMMIT_BATCH_DEFAULT;
	fl->feed_max = fl->cfg.deliver_queue_max;
	if (fl->cfg.deliver_inflight &&
	    fl->cfg.deliver_inflight * FLOW_FEED_PER_INFLIGHT < fl->feed_max)
		fl->feed_max = fl->cfg.deliver_inflight * FLOW_FEED_PER_INFLIGHT;
	fl->retry_s = flow_retry_base(fl);
	fl->next_ttl_mono = clock_mono_s() + FLOW_EXEC_TTL_PERIOD_S;
	ev_init(&fl->commit_timer, commit_timer_cb);
	fl->commit_timer.data = fl;
	ev_prepare_init(&fl->commit_soon, commit_soon_cb);
	fl->commit_soon.data = fl;
	if (cfg->state_dir && cfg->state_dir[0]) {
		struct outbox_config oc = {
			.dir = cfg->state_dir,
			.max_bytes = cfg->max_bytes,
			.on_commit = flow_on_commit,
			.arg = fl,
			.dataset_max_bytes = cfg->dataset_max_bytes,
			.boots = fl->boots,
		};

		rc = outbox_open(&oc, &fl->ob, err, errlen);
		if (rc) {
			outbox_flow_free(fl);
			return rc;
		}
		/* Created before the sandbox, like the snapshots' worker. */
		rc = worker_new(loop, 1, committer_work, committer_done, fl, &fl->committer);
		if (rc) {
			snprintf(err, errlen, "outbox committer thread: %s", strerror(-rc));
			outbox_flow_free(fl);
			return rc;
		}
	}
	fl->cfg.state_dir = NULL;   /* not ours to keep */
	*out = fl;
	return 0;
}

struct restore {
	struct outbox_flow *fl;
	struct join_table *join;
	uint64_t now_ns;
	size_t execs, files, bad;
};

static void restore_frame(void *arg, const char *boot_id, const uint8_t *data, size_t len)
{
	struct restore *r = arg;
	Jcw__Frame *f = frame_decode(data, len);

	if (f && f->body_case == JCW__FRAME__BODY_EXEC) {
		join_put(r->join, f, r->now_ns);   /* the table owns it */
		r->execs++;
		return;
	}
	if (f && f->body_case == JCW__FRAME__BODY_FILE && r->fl->cfg.restore_file) {
		r->fl->cfg.restore_file(r->fl->cfg.restore_arg, boot_id, f);
		r->files++;
	} else {
		r->bad++;
	}
	if (f)
		jcw__frame__free_unpacked(f, NULL);
}

int outbox_flow_start(struct outbox_flow *fl, struct input *in, struct deliver *dl,
		      struct join_table *join, uint64_t now_ns)
{
	struct restore r = {.fl = fl, .join = join, .now_ns = now_ns};
	const struct outbox_stats *os;

	fl->in = in;
	fl->dl = dl;
	if (!fl->ob)
		return 0;
	/* The boots were loaded at open, into the table input shares. */
	if (outbox_load_execs(fl->ob, restore_frame, &r))
		return -EIO;
	os = outbox_stats(fl->ob);
	LOG_INFO("outbox: %llu event(s) (%llu bytes) to send from an earlier run, %zu exec(s) "
		 "waiting for their exit and %zu file action(s) waiting for their snapshot "
		 "restored%s", (unsigned long long)os->rows, (unsigned long long)os->bytes,
		 r.execs, r.files, r.bad ? " (some unreadable, skipped)" : "");
	flow_feed(fl);
	return 0;
}

const struct outbox_flow_stats *outbox_flow_stats(const struct outbox_flow *fl)
{
	return &fl->st;
}

struct outbox *outbox_flow_outbox(const struct outbox_flow *fl)
{
	return fl->ob;
}

void outbox_flow_free(struct outbox_flow *fl)
{
	if (!fl)
		return;
	/* A batch still out ends here, with nobody left to tell. */
	fl->in = NULL;
	fl->dl = NULL;
	fl->stopping = true;
	worker_free(fl->committer);
	ev_timer_stop(fl->loop, &fl->commit_timer);
	ev_prepare_stop(fl->loop, &fl->commit_soon);
	outbox_close(fl->ob);
	bootseq_release(fl->boots, fl->own_boots);
	free(fl);
}
