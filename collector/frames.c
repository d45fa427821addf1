/* frames: what the collector says, as frames (see collector.h). */
#include "collector.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "pin.h"
#include "seed.h"
#include "version.h"

/* Wall clock = boot clock + offset; refreshed with every heartbeat so NTP
 * steps are followed. */
void frames_refresh_clock(struct collector *c)
{
	uint64_t boot = clock_ns(CLOCK_BOOTTIME), real = clock_ns(CLOCK_REALTIME);

	c->cctx.boot_to_unix_ns = (int64_t)(real - boot);
}

void frames_emit(struct collector *c, Jcw__Frame *f)
{
	int err;

	/* Before the frame can reach anyone: a successor after a kill must
	 * not reuse its number (pin.h). */
	if (c->stream)
		c->stream->next_seq = c->em.seq + 2;
	err = emit_frame(&c->em, f, f->body_case == JCW__FRAME__BODY_LOST);

	if (err)
		LOG_ERROR("encoding a frame failed: %s", strerror(-err));
}

Jcw__Hello frames_hello(struct collector *c, uint64_t first_seq)
{
	Jcw__Hello h = JCW__HELLO__INIT;

	h.format_version = JCW__FORMAT_VERSION__FORMAT_VERSION_ACKED;
	h.node_name.data = (uint8_t *)c->node_name;
	h.node_name.len = strlen(c->node_name);
	h.boot_id = c->boot_id;
	h.collector_start_unix_ns = c->start_unix_ns;
	h.kernel_release.data = (uint8_t *)c->uts.release;
	h.kernel_release.len = strlen(c->uts.release);
	h.collector_version = JCW_VERSION;
	h.first_seq = first_seq;
	return h;
}

void frames_lost(struct collector *c, Jcw__LostSource src, uint64_t count,
		      uint64_t total, const char *detail)
{
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Lost l = JCW__LOST__INIT;

	l.source = src;
	l.count = count;
	l.total = total;
	l.detail = (char *)detail;
	f.body_case = JCW__FRAME__BODY_LOST;
	f.lost = &l;
	frames_emit(c, &f);
}

void frames_heartbeat(struct collector *c)
{
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Heartbeat hb = JCW__HEARTBEAT__INIT;

	frames_refresh_clock(c);
	hb.time_unix_ns = clock_ns(CLOCK_REALTIME);
	hb.records_total = c->records_total;
	hb.queue_frames = c->em.q.count;
	hb.queue_bytes = c->em.q.bytes;
	hb.forged_hostname_total = c->kcount[JCW_CNT_FORGED];
	hb.tracked_full_total = c->kcount[JCW_CNT_TRACKED_FULL];
	f.body_case = JCW__FRAME__BODY_HEARTBEAT;
	f.heartbeat = &hb;
	frames_emit(c, &f);
}

/* The containers over their budget (or share), for the Lost frame's
 * detail and the log: "jcode-os-1-1: 5000 (since its entry was made), ...". */
struct budget_report {
	bool share;               /* the share's drops, else the budget's */
	char detail[512];
	size_t len;
	int shown, more;
};

static void budget_one(void *ctx, const char *hostname, uint64_t dropped, uint64_t share_dropped)
{
	struct budget_report *r = ctx;
	uint64_t n = r->share ? share_dropped : dropped;
	int k;

	if (!n)
		return;
	if (r->shown >= 8 || r->len >= sizeof(r->detail) - 1) {
		r->more++;
		return;
	}
	k = snprintf(r->detail + r->len, sizeof(r->detail) - r->len, "%s%s: %" PRIu64,
		     r->len ? ", " : "", hostname, n);
	if (k > 0)
		r->len = r->len + (size_t)k < sizeof(r->detail) ? r->len + (size_t)k : sizeof(r->detail) - 1;
	r->shown++;
}

static void frames_budget(struct collector *c, bool share, uint64_t delta, uint64_t total)
{
	struct budget_report r = {.share = share};
	size_t l;

	if (loader_budgets(c->ld, budget_one, &r) < 0)
		snprintf(r.detail, sizeof(r.detail), "per container: not readable");
	l = strlen(r.detail);
	if (r.more)
		snprintf(r.detail + l, sizeof(r.detail) - l, " and %d more", r.more);
	if (share) {
		frames_lost(c, JCW__LOST_SOURCE__LOST_CONTAINER_SHARE, delta, total, r.detail);
		LOG_WARN("%" PRIu64 " exec(s) of containers holding their share of %" PRIu64
			 " tracked processes not recorded (%" PRIu64 " in all); per container: %s",
			 delta, c->cfg.tracked_share, total, r.detail);
		return;
	}
	frames_lost(c, JCW__LOST_SOURCE__LOST_CONTAINER_BUDGET, delta, total, r.detail);
	LOG_WARN("%" PRIu64 " record(s) over their container's budget of %" PRIu64 "/s (burst %"
		 PRIu64 ") not recorded (%" PRIu64 " in all); dropped per container: %s", delta,
		 c->cfg.container_rate, c->cfg.container_burst, total, r.detail);
}

/* What pinned programs turned away with no collector alive: the gap this
 * collector found at its start, then any later one (a collector frozen
 * past PIN_ORPHAN_TIMEOUT). */
static void frames_orphaned(struct collector *c, uint64_t delta, uint64_t total)
{
	uint64_t since = loader_orphaned_since(c->ld), now = clock_ns(CLOCK_MONOTONIC);
	char detail[160];

	if (since && now > since)
		snprintf(detail, sizeof(detail), "no collector alive for %.0f s before this one "
			 "started (PIN_ORPHAN_TIMEOUT %.0f s)", (double)(now - since) / 1e9,
			 c->cfg.orphan_timeout);
	else
		snprintf(detail, sizeof(detail), "no collector alive within PIN_ORPHAN_TIMEOUT %.0f s",
			 c->cfg.orphan_timeout);
	frames_lost(c, JCW__LOST_SOURCE__LOST_ORPHANED, delta, total, detail);
	LOG_WARN("%" PRIu64 " record(s) turned away by the programs, %s (%" PRIu64 " in all)", delta,
		 detail, total);
}

void frames_poll_kernel(struct collector *c)
{
	uint64_t cnt[JCW_CNT_MAX], delta;
	char detail[64];
	int err = loader_counters(c->ld, cnt);

	if (err) {
		LOG_WARN("reading kernel counters: %s", strerror(-err));
		return;
	}
	delta = cnt[JCW_CNT_RINGBUF_LOST] - c->kcount[JCW_CNT_RINGBUF_LOST];
	if (delta) {
		snprintf(detail, sizeof(detail), "ring buffer of %" PRIu64 " bytes full",
			 c->cfg.ringbuf_bytes);
		frames_lost(c, JCW__LOST_SOURCE__LOST_KERNEL_RINGBUF, delta,
			  cnt[JCW_CNT_RINGBUF_LOST], detail);
		LOG_WARN("kernel ring buffer dropped %" PRIu64 " records (%" PRIu64 " in total)",
			 delta, cnt[JCW_CNT_RINGBUF_LOST]);
	}
	delta = cnt[JCW_CNT_BUDGET] - c->kcount[JCW_CNT_BUDGET];
	if (delta)
		frames_budget(c, false, delta, cnt[JCW_CNT_BUDGET]);
	delta = cnt[JCW_CNT_SHARE] - c->kcount[JCW_CNT_SHARE];
	if (delta)
		frames_budget(c, true, delta, cnt[JCW_CNT_SHARE]);
	delta = cnt[JCW_CNT_ORPHANED] - c->kcount[JCW_CNT_ORPHANED];
	if (delta || (!c->orphan_gap_said && loader_orphaned_since(c->ld)))
		frames_orphaned(c, delta, cnt[JCW_CNT_ORPHANED]);
	c->orphan_gap_said = true;
	if (cnt[JCW_CNT_FORGED] > c->kcount[JCW_CNT_FORGED])
		LOG_WARN("%" PRIu64 " exec(s) with a matching hostname in a UTS namespace not owned "
			 "by the initial user namespace", cnt[JCW_CNT_FORGED] - c->kcount[JCW_CNT_FORGED]);
	if (cnt[JCW_CNT_TRACKED_FULL] > c->kcount[JCW_CNT_TRACKED_FULL])
		LOG_WARN("tracked map full: %" PRIu64 " process(es) will have no exit record (raise --tracked-max)",
			 cnt[JCW_CNT_TRACKED_FULL] - c->kcount[JCW_CNT_TRACKED_FULL]);
	memcpy(c->kcount, cnt, sizeof(cnt));
	if (c->stream)
		memcpy(c->stream->reported, cnt, sizeof(cnt));
}

int frames_on_record(void *ctx, void *data, size_t len)
{
	struct collector *c = ctx;
	struct converted cv;
	size_t alen;
	char err[160];
	uint64_t supp;
	int trunc, e;

	c->records_total++;
	e = convert_record(data, len, &c->cctx, &cv, err, sizeof(err));
	if (e) {
		c->decode_lost++;
		frames_lost(c, JCW__LOST_SOURCE__LOST_COLLECTOR_DECODE, 1, c->decode_lost, err);
		if (log_ratelimit_allow(&c->decode_rl, LOG_BURST_QUIET, &supp))
			LOG_WARN("dropping a ring buffer record: %s (%" PRIu64 " similar suppressed)",
				 err, supp);
		converted_free(&cv);
		return 0;
	}
	if (cv.frame.body_case == JCW__FRAME__BODY_EXEC && cv.exec.seeded &&
	    seed_cmdline("/proc", cv.exec.tgid, c->argbuf, c->cfg.args_max, &alen, &trunc) == 0 &&
	    convert_set_argv(&cv, c->argbuf, alen, trunc) != 0)
		LOG_WARN("out of memory for the argv of seeded pid %u", cv.exec.tgid);
	frames_emit(c, &cv.frame);
	converted_free(&cv);
	return 0;
}
