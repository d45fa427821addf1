/* collector: the parts of jcw-collector and the state they share.
 *
 *   main.c     the order of things: options -> load and attach (the only
 *              privileged step) -> seed from running processes -> drop
 *              capabilities (and maybe the uid) -> loop
 *   config.c   the option table and its validation
 *   frames.c   what the collector says: Hello, Lost, Heartbeat, and every
 *              ring buffer record as a frame; the kernel's counters
 *   session.c  the connection to the forwarder on top of link.c: connect,
 *              a Hello per connection, the queue out, Acks in
 *   loop.c     one epoll over the ring buffer (woken only for bursts), a
 *              timer (drain the ring every --flush-interval, heartbeats,
 *              kernel loss polling, reconnects), the forwarder's socket and
 *              a signalfd, each with its handler; the shutdown flush
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
#ifndef JCW_COLLECTOR_H
#define JCW_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/utsname.h>

#include <bpf/libbpf.h>

#include "convert.h"
#include "emit.h"
#include "link.h"
#include "loader.h"
#include "log.h"
#include "opts.h"
#include "records.h"

#define NS_PER_SEC 1000000000ull

struct config {
	char *socket;
	bool no_socket;
	char *record;
	char *host_prefix;
	char *uts_policy;
	uint64_t args_max;
	uint64_t ringbuf_bytes;
	uint64_t tracked_max;
	uint64_t tracked_share;     /* per container (bpf/budget.bpf.h) */
	uint64_t container_rate, container_burst;   /* the kernel budget (bpf/budget.bpf.h) */
	bool files;
	char *file_hooks;
	char *file_exts;
	char *stderr_mode;          /* CAPTURE_STDERR: stderr_mode.h */
	uint64_t stderr_process_bytes;
	char *bench_skip;           /* --bench-skip, as profile_skip bits */
	uint32_t profile_skip;
	uint64_t queue_max;
	double flush_interval;
	double heartbeat_interval;
	char *node_name;
	char *user;
	char *pin_path;
	double orphan_timeout;      /* PIN_ORPHAN_TIMEOUT, seconds; 0: none */
	char *log_level;
	bool seccomp;
	bool seccomp_selftest;
};

/* config.c: the options (opts.h) and what opts cannot check alone; also
 * sets the log level. 0, or -EINVAL with a message in err. */
extern const struct opt_def collector_opts[];
int collector_config_check(struct config *cfg, char *err, size_t errlen);
/* What the loader needs of the options, for the stream of boot_id. */
void collector_loader_opts(const struct config *cfg, const char *boot_id, struct loader_opts *lo);

struct collector;

/* One descriptor of the loop: what to do when epoll reports it. */
struct loop_handler {
	void (*fn)(struct collector *c, uint32_t events);
};

struct collector {
	struct config cfg;
	struct loader *ld;
	struct ring_buffer *rb;
	struct emit em;
	struct link link;
	bool use_socket;
	int epfd, sigfd, timerfd;
	struct loop_handler on_ring, on_signal, on_tick, on_link;
	struct convert_ctx cctx;
	char boot_id[33];
	char node_name[256];
	struct utsname uts;
	uint64_t start_unix_ns;
	uint64_t records_total;
	uint64_t decode_lost;
	uint64_t kcount[JCW_CNT_MAX];
	bool orphan_gap_said;       /* the gap found at start was reported (frames.c) */
	struct pin_state *stream;        /* pinned: boot id, next seq, reported counters */
	uint64_t queue_lost_reported;
	uint64_t next_heartbeat_ns, next_loss_poll_ns;
	uint8_t *argbuf;                 /* /proc cmdline of seeded processes */
	bool stopping;
	uint64_t link_watched;           /* link.sockets when its watch was last set */
	bool link_watch_out;
	bool link_acked;                 /* an Ack came on this connection */
	struct log_ratelimit decode_rl;
};

/* frames.c */
void frames_refresh_clock(struct collector *c);
/* Numbers, encodes and sends a frame on (emit.h); logs what fails. */
void frames_emit(struct collector *c, Jcw__Frame *f);
Jcw__Hello frames_hello(struct collector *c, uint64_t first_seq);
void frames_lost(struct collector *c, Jcw__LostSource src, uint64_t count, uint64_t total,
		 const char *detail);
void frames_heartbeat(struct collector *c);
/* Kernel counters: ring buffer losses become Lost frames at once; the
 * others ride on the next heartbeat. */
void frames_poll_kernel(struct collector *c);
/* ring_buffer_sample_fn: one record from the kernel, as a frame. */
int frames_on_record(void *ctx, void *data, size_t len);

/* session.c: connects when down and due, writes the queue, and keeps the
 * epoll interest in the socket right. */
void session_service(struct collector *c, uint64_t now_ns);
/* The connection's descriptor is ready (loop_handler). */
void session_on_event(struct collector *c, uint32_t events);

/* loop.c */
int loop_setup(struct collector *c);
/* Runs until a signal stops it: 0, or -errno after a fatal error. */
int loop_run(struct collector *c);
/* Takes what the ring buffer holds now. */
void loop_drain(struct collector *c);
/* Detach, take what is left in the ring, and give the forwarder a bounded
 * time to take the queue and acknowledge it. */
void loop_shutdown_flush(struct collector *c);

#endif
