/* jcw-collector: load the BPF programs, drop privileges, stream frames.
 *
 * Order of things: options -> load and attach (the only privileged step)
 * -> seed from running processes -> drop capabilities (and maybe the uid)
 * -> loop. The loop is one epoll over the ring buffer (woken only for
 * bursts), a timer (drain the ring every --flush-interval, heartbeats, kernel
 * loss polling, reconnects), the forwarder's socket and a signalfd.
 *
 * Frames: a Hello (seq 1), then Exec / Exit / Lost / Heartbeat with seq
 * 2, 3, ... all written byte for byte to the capture (--record) and queued
 * for the socket. The first connection gets the queue from the Hello on;
 * every later connection first gets an unnumbered Hello (seq 0) whose
 * first_seq names the first frame that follows.
 *
 * Format 2 (acknowledged): the queue keeps every frame until the
 * forwarder's Ack covers it (the forwarder acks what its outbox made
 * durable) and a new connection resends from the first unacknowledged
 * frame, so a forwarder crash or a broken connection loses nothing; the
 * forwarder drops what it already has by sequence number. While nothing is
 * acknowledged the queue fills up to --queue-max, then refuses frames and
 * reports them in a Lost frame. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "convert.h"
#include "clock.h"
#include "emit.h"
#include "link.h"
#include "loader.h"
#include "log.h"
#include "opts.h"
#include "privs.h"
#include "records.h"
#include "sandbox.h"
#include "seed.h"
#include "version.h"

#define NS_PER_SEC 1000000000ull
#define LOSS_POLL_NS NS_PER_SEC
#define SHUTDOWN_FLUSH_NS (2 * NS_PER_SEC)

struct config {
	char *socket;
	bool no_socket;
	char *record;
	char *host_prefix;
	char *uts_policy;
	uint64_t args_max;
	uint64_t ringbuf_bytes;
	uint64_t tracked_max;
	bool files;
	char *file_hooks;
	char *file_exts;
	uint64_t queue_max;
	double flush_interval;
	double heartbeat_interval;
	char *node_name;
	char *user;
	char *log_level;
	bool seccomp;
	bool seccomp_selftest;
};

#define O(f) offsetof(struct config, f)
static const struct opt_def opt_defs[] = {
	{"socket", "SOCKET_PATH", OPT_STR, "/run/jcw/events.sock", O(socket),
	 "forwarder's Unix socket; empty: no socket", 0, 0},
	{"no-socket", "NO_SOCKET", OPT_BOOL, "false", O(no_socket),
	 "do not connect to a forwarder (use with --record)", 0, 0},
	{"record", "RECORD_FILE", OPT_STR, "", O(record),
	 "also write every frame to this capture file ('-': stdout)", 0, 0},
	{"hostname-prefix", "HOSTNAME_PREFIX", OPT_STR, "jcode-", O(host_prefix),
	 "trace processes whose UTS hostname starts with this (at most 32 bytes)", 0, 0},
	{"uts-policy", "UTS_POLICY", OPT_STR, "init-userns", O(uts_policy),
	 "trust the hostname only in UTS namespaces owned by the initial user namespace "
	 "(init-userns), or in any (any)", 0, 0},
	{"args-max", "ARGS_MAX_BYTES", OPT_BYTES, "8k", O(args_max),
	 "argv bytes captured per exec (256 to 32k)", 256, JCW_ARGS_LIMIT},
	{"ringbuf-size", "RINGBUF_BYTES", OPT_BYTES, "8m", O(ringbuf_bytes),
	 "kernel ring buffer size (rounded up to a power of two)", 65536, 1ull << 30},
	{"tracked-max", "TRACKED_MAX", OPT_UINT, "65536", O(tracked_max),
	 "processes tracked at once until their exit", 1024, 1u << 22},
	{"files", "CAPTURE_FILES", OPT_BOOL, "true", O(files),
	 "trace file close-after-write, rename and unlink for snapshots", 0, 0},
	{"file-hooks", NULL, OPT_STR, "auto", O(file_hooks),
	 "events (per-syscall events, need tracefs), raw (raw_tp/sys_enter+sys_exit, cost every "
	 "syscall more) or auto (events when tracefs is there or can be mounted)", 0, 0},
	{"file-extensions", "FILE_EXTENSIONS", OPT_STR, ".c,.h,.cpp,.hpp,.py,.ipynb", O(file_exts),
	 "file events only for names ending so (at most 8, each at most 8 bytes); empty: all files", 0, 0},
	{"queue-max", "QUEUE_MAX_BYTES", OPT_BYTES, "64m", O(queue_max),
	 "frames held while the forwarder is away", 65536, 1ull << 34},
	{"flush-interval", "FLUSH_INTERVAL", OPT_SECONDS, "5ms", O(flush_interval),
	 "how often the ring buffer is drained", 0, 0},
	{"heartbeat-interval", "HEARTBEAT_INTERVAL", OPT_SECONDS, "5s", O(heartbeat_interval),
	 "how often a Heartbeat frame is sent", 0, 0},
	{"node-name", "MY_NODE_NAME", OPT_STR, "", O(node_name),
	 "node name in Hello (default: the host name)", 0, 0},
	{"user", "RUN_AS_USER", OPT_STR, "", O(user),
	 "switch to this user (name or uid) after loading", 0, 0},
	{"log-level", "LOG_LEVEL", OPT_STR, "info", O(log_level),
	 "debug, info, warning or error", 0, 0},
	{"seccomp", "SECCOMP", OPT_BOOL, "true", O(seccomp),
	 "after attaching, allow only the system calls the loop needs (off: for debugging)", 0, 0},
	{"seccomp-selftest", NULL, OPT_BOOL, "false", O(seccomp_selftest),
	 "once running, make one forbidden system call: the filter must kill the collector "
	 "with a log line naming it", 0, 0},
	OPTS_ACTIONS,
	OPTS_END,
};
#undef O

struct collector {
	struct config cfg;
	struct loader *ld;
	struct ring_buffer *rb;
	struct emit em;
	struct link link;
	bool use_socket;
	int epfd, sigfd, timerfd;
	struct convert_ctx cctx;
	char boot_id[33];
	char node_name[256];
	struct utsname uts;
	uint64_t start_unix_ns;
	uint64_t records_total;
	uint64_t decode_lost;
	uint64_t kcount[JCW_CNT_MAX];
	uint64_t queue_lost_reported;
	uint64_t next_heartbeat_ns, next_loss_poll_ns;
	uint8_t *argbuf;                 /* /proc cmdline of seeded processes */
	bool stopping;
	bool link_watch_out;
	bool link_acked;                 /* an Ack came on this connection */
	struct log_ratelimit decode_rl;
};

/* Wall clock = boot clock + offset; refreshed with every heartbeat so NTP
 * steps are followed. */
static void refresh_clock(struct collector *c)
{
	uint64_t boot = clock_ns(CLOCK_BOOTTIME), real = clock_ns(CLOCK_REALTIME);

	c->cctx.boot_to_unix_ns = (int64_t)(real - boot);
}

static void emit_or_log(struct collector *c, Jcw__Frame *f)
{
	int err = emit_frame(&c->em, f, f->body_case == JCW__FRAME__BODY_LOST);

	if (err)
		LOG_ERROR("encoding a frame failed: %s", strerror(-err));
}

static Jcw__Hello make_hello(struct collector *c, uint64_t first_seq)
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

static void emit_lost(struct collector *c, Jcw__LostSource src, uint64_t count,
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
	emit_or_log(c, &f);
}

static void emit_heartbeat(struct collector *c)
{
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Heartbeat hb = JCW__HEARTBEAT__INIT;

	refresh_clock(c);
	hb.time_unix_ns = clock_ns(CLOCK_REALTIME);
	hb.records_total = c->records_total;
	hb.queue_frames = c->em.q.count;
	hb.queue_bytes = c->em.q.bytes;
	hb.forged_hostname_total = c->kcount[JCW_CNT_FORGED];
	hb.tracked_full_total = c->kcount[JCW_CNT_TRACKED_FULL];
	f.body_case = JCW__FRAME__BODY_HEARTBEAT;
	f.heartbeat = &hb;
	emit_or_log(c, &f);
}

/* Kernel counters: ring buffer losses become Lost frames at once; the
 * others ride on the next heartbeat. */
static void poll_kernel(struct collector *c)
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
		emit_lost(c, JCW__LOST_SOURCE__LOST_KERNEL_RINGBUF, delta,
			  cnt[JCW_CNT_RINGBUF_LOST], detail);
		LOG_WARN("kernel ring buffer dropped %" PRIu64 " records (%" PRIu64 " in total)",
			 delta, cnt[JCW_CNT_RINGBUF_LOST]);
	}
	if (cnt[JCW_CNT_FORGED] > c->kcount[JCW_CNT_FORGED])
		LOG_WARN("%" PRIu64 " exec(s) with a matching hostname in a UTS namespace not owned "
			 "by the initial user namespace", cnt[JCW_CNT_FORGED] - c->kcount[JCW_CNT_FORGED]);
	if (cnt[JCW_CNT_TRACKED_FULL] > c->kcount[JCW_CNT_TRACKED_FULL])
		LOG_WARN("tracked map full: %" PRIu64 " process(es) will have no exit record (raise --tracked-max)",
			 cnt[JCW_CNT_TRACKED_FULL] - c->kcount[JCW_CNT_TRACKED_FULL]);
	memcpy(c->kcount, cnt, sizeof(cnt));
}

static int on_record(void *ctx, void *data, size_t len)
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
		emit_lost(c, JCW__LOST_SOURCE__LOST_COLLECTOR_DECODE, 1, c->decode_lost, err);
		if (log_ratelimit_allow(&c->decode_rl, 5, &supp))
			LOG_WARN("dropping a ring buffer record: %s (%" PRIu64 " similar suppressed)",
				 err, supp);
		converted_free(&cv);
		return 0;
	}
	if (cv.frame.body_case == JCW__FRAME__BODY_EXEC && cv.exec.seeded &&
	    seed_cmdline("/proc", cv.exec.tgid, c->argbuf, c->cfg.args_max, &alen, &trunc) == 0 &&
	    convert_set_argv(&cv, c->argbuf, alen, trunc) != 0)
		LOG_WARN("out of memory for the argv of seeded pid %u", cv.exec.tgid);
	emit_or_log(c, &cv.frame);
	converted_free(&cv);
	return 0;
}

static void on_link_frame(void *arg, const Jcw__Frame *f)
{
	struct collector *c = arg;

	if (f->body_case != JCW__FRAME__BODY_ACK || !f->ack->boot_id ||
	    strcmp(f->ack->boot_id, c->boot_id) != 0)
		return;
	c->link_acked = true;
	outq_ack(&c->em.q, f->ack->seq);
}

static void link_watch(struct collector *c)
{
	struct epoll_event ev = {.data.u32 = 3};
	bool out = link_wants_write(&c->link, &c->em.q);

	if (c->link.fd < 0) {
		c->link_watch_out = false;
		return;
	}
	ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->link.fd, &ev) < 0)
		epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->link.fd, &ev);
	c->link_watch_out = out;
}

static void link_lost(struct collector *c, const char *why, int err)
{
	LOG_WARN("forwarder connection lost (%s: %s)%s; reconnecting", why, strerror(-err),
		 c->link_acked ? "" : " before any acknowledgement (a forwarder that speaks only "
		 "format 1 refuses this collector: see its log)");
	c->link_acked = false;
	link_down(&c->link, clock_ns(CLOCK_MONOTONIC));
	outq_rewind(&c->em.q);
}

/* A new connection: an unnumbered Hello unless the queue starts with the
 * numbered one, then a Lost for what the queue refused while away. */
static void link_established(struct collector *c)
{
	uint64_t first = outq_first_unsent_seq(&c->em.q), dropped;
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Hello h;

	LOG_INFO("connected to the forwarder at %s", c->link.path);
	if (first != 1) {
		h = make_hello(c, first ? first : c->em.seq + 1);
		f.seq = 0;
		f.body_case = JCW__FRAME__BODY_HELLO;
		f.hello = &h;
		if (link_preamble(&c->link, &f))
			LOG_ERROR("out of memory for the connection's Hello");
	}
	dropped = c->em.q.dropped_frames;
	if (dropped > c->queue_lost_reported) {
		char detail[96];

		snprintf(detail, sizeof(detail), "queue of %" PRIu64 " bytes full while the forwarder was away",
			 c->cfg.queue_max);
		emit_lost(c, JCW__LOST_SOURCE__LOST_COLLECTOR_QUEUE, dropped - c->queue_lost_reported,
			  dropped, detail);
		LOG_WARN("%" PRIu64 " frames were dropped while the forwarder was away",
			 dropped - c->queue_lost_reported);
		c->queue_lost_reported = dropped;
	}
}

static void link_service(struct collector *c, uint64_t now)
{
	int rc;

	if (!c->use_socket)
		return;
	if (c->link.state == LINK_DOWN) {
		rc = link_connect(&c->link, now);
		if (rc == 1)
			link_established(c);
		else if (rc < 0)
			LOG_DEBUG("connect %s: %s", c->link.path, strerror(-rc));
	}
	if (c->link.state == LINK_UP) {
		rc = link_write(&c->link, &c->em.q);
		if (rc < 0 && rc != -EAGAIN)
			link_lost(c, "write", rc);
	}
	link_watch(c);
}

static void on_link_event(struct collector *c, uint32_t events)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	int rc;

	if (c->link.state == LINK_CONNECTING) {
		rc = link_connected(&c->link, now);
		if (rc == 1)
			link_established(c);
		else
			LOG_DEBUG("connect %s: %s", c->link.path, strerror(-rc));
	} else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		rc = link_read(&c->link, on_link_frame, c);
		if (rc < 0) {
			link_lost(c, "read", rc);
			return;
		}
	}
	link_service(c, now);
}

static void drain(struct collector *c)
{
	int n = ring_buffer__consume(c->rb);

	if (n < 0)
		LOG_ERROR("reading the ring buffer: %s", strerror(-n));
}

static void on_tick(struct collector *c)
{
	uint64_t expirations, now = clock_ns(CLOCK_MONOTONIC);

	if (read(c->timerfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		LOG_WARN("timerfd: %s", strerror(errno));
	drain(c);
	if (now >= c->next_loss_poll_ns) {
		poll_kernel(c);
		c->next_loss_poll_ns = now + LOSS_POLL_NS;
	}
	if (now >= c->next_heartbeat_ns) {
		emit_heartbeat(c);
		c->next_heartbeat_ns = now + (uint64_t)(c->cfg.heartbeat_interval * NS_PER_SEC);
	}
	if (emit_flush_capture(&c->em) < 0)
		LOG_ERROR("writing the capture %s failed", c->cfg.record);
	link_service(c, now);
}

static int epoll_add(int epfd, int fd, uint32_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int setup_loop(struct collector *c)
{
	uint64_t ns = (uint64_t)(c->cfg.flush_interval * NS_PER_SEC);
	struct itimerspec its = {0};
	sigset_t mask;

	if (ns < 100000)
		ns = 100000; /* at most 10,000 drains a second */
	its.it_interval.tv_sec = (time_t)(ns / NS_PER_SEC);
	its.it_interval.tv_nsec = (long)(ns % NS_PER_SEC);
	its.it_value = its.it_interval;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	c->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	c->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->sigfd < 0 || c->timerfd < 0 || c->epfd < 0)
		return -errno;
	if (timerfd_settime(c->timerfd, 0, &its, NULL) < 0 ||
	    epoll_add(c->epfd, ring_buffer__epoll_fd(c->rb), 0) < 0 ||
	    epoll_add(c->epfd, c->sigfd, 1) < 0 ||
	    epoll_add(c->epfd, c->timerfd, 2) < 0)
		return -errno;
	return 0;
}

static void run(struct collector *c)
{
	struct epoll_event evs[8];
	int n, i;

	while (!c->stopping) {
		n = epoll_wait(c->epfd, evs, 8, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			LOG_ERROR("epoll_wait: %s", strerror(errno));
			return;
		}
		for (i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case 0:
				drain(c);
				break;
			case 1:
				LOG_INFO("stopping on signal");
				c->stopping = true;
				break;
			case 2:
				on_tick(c);
				break;
			case 3:
				on_link_event(c, evs[i].events);
				break;
			}
		}
	}
}

/* Detach, take what is left in the ring, and give the forwarder a bounded
 * time to take the queue and acknowledge it. */
static void shutdown_flush(struct collector *c)
{
	uint64_t deadline = clock_ns(CLOCK_MONOTONIC) + SHUTDOWN_FLUSH_NS;
	struct epoll_event ev;

	loader_detach(c->ld);
	drain(c);
	poll_kernel(c);
	emit_heartbeat(c);
	if (emit_flush_capture(&c->em) < 0)
		LOG_ERROR("writing the capture %s failed", c->cfg.record);
	if (!c->use_socket)
		return;
	while (c->em.q.count > 0 && clock_ns(CLOCK_MONOTONIC) < deadline) {
		link_service(c, clock_ns(CLOCK_MONOTONIC));
		if (epoll_wait(c->epfd, &ev, 1, 20) == 1 && ev.data.u32 == 3)
			on_link_event(c, ev.events);
	}
	if (c->em.q.count > 0)
		LOG_WARN("exiting with %zu frames (%zu bytes) not acknowledged by the forwarder "
			 "(%zu bytes never sent)", c->em.q.count, c->em.q.bytes,
			 outq_unsent_bytes(&c->em.q));
}

static int open_capture(const char *path)
{
	if (strcmp(path, "-") == 0)
		return dup(STDOUT_FILENO);
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
}

static int init_identity(struct collector *c)
{
	uint8_t rnd[16];
	int i;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -errno;
	for (i = 0; i < 16; i++)
		sprintf(c->boot_id + 2 * i, "%02x", rnd[i]);
	uname(&c->uts);
	if (c->cfg.node_name && *c->cfg.node_name)
		snprintf(c->node_name, sizeof(c->node_name), "%s", c->cfg.node_name);
	else if (gethostname(c->node_name, sizeof(c->node_name) - 1) < 0)
		snprintf(c->node_name, sizeof(c->node_name), "unknown");
	c->start_unix_ns = clock_ns(CLOCK_REALTIME);
	refresh_clock(c);
	c->cctx.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	return 0;
}

static uint64_t pow2_ceil(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static int validate(struct config *cfg, char *err, size_t errlen)
{
	uint64_t rb = pow2_ceil(cfg->ringbuf_bytes);
	enum log_level lvl;

	if (log_level_parse(cfg->log_level, &lvl)) {
		snprintf(err, errlen, "--log-level: '%s' is not debug, info, warning or error",
			 cfg->log_level);
		return -1;
	}
	log_init("jcw-collector", lvl);
	if (strcmp(cfg->uts_policy, "init-userns") != 0 && strcmp(cfg->uts_policy, "any") != 0) {
		snprintf(err, errlen, "--uts-policy: '%s' is not init-userns or any", cfg->uts_policy);
		return -1;
	}
	if (strcmp(cfg->file_hooks, "auto") != 0 && strcmp(cfg->file_hooks, "events") != 0 &&
	    strcmp(cfg->file_hooks, "raw") != 0) {
		snprintf(err, errlen, "--file-hooks: '%s' is not auto, events or raw", cfg->file_hooks);
		return -1;
	}
	if (strlen(cfg->host_prefix) > JCW_PREFIX_MAX) {
		snprintf(err, errlen, "--hostname-prefix: longer than %d bytes", JCW_PREFIX_MAX);
		return -1;
	}
	if (rb != cfg->ringbuf_bytes) {
		LOG_INFO("ring buffer size rounded up to %" PRIu64 " bytes", rb);
		cfg->ringbuf_bytes = rb;
	}
	if (!(cfg->flush_interval > 0) || !(cfg->heartbeat_interval > 0)) {
		snprintf(err, errlen, "--flush-interval and --heartbeat-interval must be positive");
		return -1;
	}
	if (cfg->no_socket || !*cfg->socket) {
		if (!*cfg->record) {
			snprintf(err, errlen, "no socket and no --record: nowhere to send frames");
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct collector c = {.epfd = -1, .sigfd = -1, .timerfd = -1, .em.cap_fd = -1};
	struct loader_opts lo;
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Hello h;
	const char *action;
	char err[512];
	int cap_fd = -1, rc = 1, e;

	log_init("jcw-collector", LOG_LVL_INFO);
	e = opts_parse(opt_defs, &c.cfg, argc, argv, &action, err, sizeof(err));
	if (e < 0) {
		fprintf(stderr, "jcw-collector: %s\n", err);
		opts_free(opt_defs, &c.cfg);
		return 2;
	}
	if (e == 1) {
		if (strcmp(action, "help") == 0)
			opts_usage(stdout, "jcw-collector",
				   "Traces exec and exit of processes in student containers (by UTS hostname)\n"
				   "and streams them as protobuf frames to jcw-forwarder and/or a capture file.",
				   opt_defs);
		else if (strcmp(action, "print-options-markdown") == 0)
			opts_markdown(stdout, opt_defs);
		else
			printf("jcw-collector %s\n", JCW_VERSION);
		opts_free(opt_defs, &c.cfg);
		return 0;
	}
	if (validate(&c.cfg, err, sizeof(err))) {
		fprintf(stderr, "jcw-collector: %s\n", err);
		opts_free(opt_defs, &c.cfg);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	c.use_socket = !c.cfg.no_socket && *c.cfg.socket;
	if (c.use_socket && link_init(&c.link, c.cfg.socket)) {
		LOG_ERROR("socket path too long: %s", c.cfg.socket);
		goto cleanup;
	}
	c.argbuf = malloc(c.cfg.args_max);
	if (!c.argbuf || init_identity(&c)) {
		LOG_ERROR("initialisation failed: %s", strerror(errno));
		goto cleanup;
	}
	if (*c.cfg.record) {
		cap_fd = open_capture(c.cfg.record);
		if (cap_fd < 0) {
			LOG_ERROR("cannot open capture %s: %s", c.cfg.record, strerror(errno));
			goto cleanup;
		}
	}
	if (emit_init(&c.em, c.use_socket, c.cfg.queue_max, cap_fd)) {
		LOG_ERROR("out of memory");
		goto cleanup;
	}
	/* Format 2: nothing is forgotten before the forwarder acknowledges it. */
	outq_set_ack_mode(&c.em.q, true);

	lo.host_prefix = c.cfg.host_prefix;
	lo.uts_any = strcmp(c.cfg.uts_policy, "any") == 0;
	lo.args_max = (uint32_t)c.cfg.args_max;
	lo.ringbuf_bytes = c.cfg.ringbuf_bytes;
	lo.tracked_max = (uint32_t)c.cfg.tracked_max;
	lo.files = !c.cfg.files ? LOADER_FILES_OFF
		   : strcmp(c.cfg.file_hooks, "events") == 0 ? LOADER_FILES_EVENTS
		   : strcmp(c.cfg.file_hooks, "raw") == 0 ? LOADER_FILES_RAW : LOADER_FILES_AUTO;
	lo.file_exts = c.cfg.file_exts;
	e = loader_open(&lo, &c.ld, err, sizeof(err));
	if (e) {
		LOG_ERROR("cannot start: %s", err);
		goto cleanup;
	}
	c.rb = ring_buffer__new(loader_ringbuf_fd(c.ld), on_record, &c, NULL);
	if (!c.rb) {
		LOG_ERROR("mapping the ring buffer: %s", strerror(errno));
		goto cleanup;
	}

	h = make_hello(&c, 1);
	f.body_case = JCW__FRAME__BODY_HELLO;
	f.hello = &h;
	emit_or_log(&c, &f);

	/* Seed while still privileged, and read their argv from /proc now,
	 * while the pids are fresh. */
	e = loader_seed(c.ld, err, sizeof(err));
	if (e)
		LOG_WARN("seeding from running processes failed: %s", err);
	drain(&c);

	e = privs_drop(c.cfg.user, err, sizeof(err));
	if (e) {
		LOG_ERROR("dropping privileges: %s", err);
		goto cleanup;
	}
	e = setup_loop(&c);
	if (e) {
		LOG_ERROR("setting up the event loop: %s", strerror(-e));
		goto cleanup;
	}
	if (c.cfg.seccomp) {
		e = sandbox_install(SANDBOX_COLLECTOR, "jcw-collector", err, sizeof(err));
		if (e) {
			LOG_ERROR("installing the seccomp filter: %s", err);
			goto cleanup;
		}
	}
	LOG_INFO("attached: tracing hostnames '%s*' (uts policy %s, file events %s), %" PRIu64 " seeded, "
		 "socket %s, capture %s, boot id %s, seccomp %s", c.cfg.host_prefix, c.cfg.uts_policy,
		 loader_files_mode(c.ld), c.records_total, c.use_socket ? c.cfg.socket : "(none)",
		 *c.cfg.record ? c.cfg.record : "(none)", c.boot_id, c.cfg.seccomp ? "on" : "off");
	if (c.cfg.seccomp_selftest) {
		e = sandbox_selftest();
		LOG_ERROR("--seccomp-selftest: the forbidden call returned (%s): no seccomp filter",
			  strerror(-e));
		goto cleanup;
	}
	c.next_loss_poll_ns = clock_ns(CLOCK_MONOTONIC) + LOSS_POLL_NS;
	c.next_heartbeat_ns = clock_ns(CLOCK_MONOTONIC) +
			      (uint64_t)(c.cfg.heartbeat_interval * NS_PER_SEC);
	on_tick(&c);
	run(&c);
	shutdown_flush(&c);
	rc = 0;
cleanup:
	ring_buffer__free(c.rb);
	loader_close(c.ld);
	if (emit_flush_capture(&c.em) < 0 && rc == 0)
		rc = 1;
	if (cap_fd >= 0 && close(cap_fd) < 0 && rc == 0) {
		LOG_ERROR("closing the capture: %s", strerror(errno));
		rc = 1;
	}
	emit_free(&c.em);
	if (c.use_socket)
		link_free(&c.link);
	free(c.argbuf);
	if (c.epfd >= 0)
		close(c.epfd);
	if (c.sigfd >= 0)
		close(c.sigfd);
	if (c.timerfd >= 0)
		close(c.timerfd);
	LOG_INFO("exiting (%s): %" PRIu64 " records, %" PRIu64 " frames", rc ? "error" : "ok",
		 c.records_total, c.em.seq);
	opts_free(opt_defs, &c.cfg);
	return rc;
}
