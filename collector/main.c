/* jcw-collector: load the BPF programs, drop privileges, stream frames
 * (collector.h names the parts). */
#include "collector.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "stderr_mode.h"
#include "clock.h"
#include "pin.h"
#include "privs.h"
#include "sandbox.h"
#include "version.h"

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
	frames_refresh_clock(c);
	c->cctx.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	return 0;
}

static const char *main_origin_name(enum loader_origin s)
{
	switch (s) {
	case LOADER_FRESH:    return "loaded and pinned in ";
	case LOADER_ADOPTED:  return "adopted, still running, from ";
	case LOADER_REPLACED: return "replacing another version's, pinned in ";
	default:              return "unpinned (detached at exit)";
	}
}

/* --unpin: the exit status, 0 or 1. */
static int main_unpin(const char *dir)
{
	char err[256];

	if (!dir || !*dir) {
		fprintf(stderr, "jcw-collector --unpin: --pin-path is empty\n");
		return 1;
	}
	if (pin_unpin_all(dir, err, sizeof(err))) {
		fprintf(stderr, "jcw-collector --unpin: %s\n", err);
		return 1;
	}
	printf("jcw-collector: pins in %s removed\n", dir);
	return 0;
}

/* The options: 0 to run, else the process ends with *rc (an action such as
 * --help or --unpin was done, or the options were wrong). */
static int main_options(struct collector *c, int argc, char **argv, int *rc)
{
	const char *action;
	char err[512];
	int e;

	e = opts_parse(collector_opts, &c->cfg, argc, argv, &action, err, sizeof(err));
	if (e < 0 || (e == 0 && collector_config_check(&c->cfg, err, sizeof(err)))) {
		fprintf(stderr, "jcw-collector: %s\n", err);
		*rc = 2;
		return -1;
	}
	if (e == 0)
		return 0;
	*rc = 0;
	if (strcmp(action, "help") == 0)
		opts_usage(stdout, "jcw-collector",
			   "Traces exec and exit of processes in student containers (by UTS hostname)\n"
			   "and streams them as protobuf frames to jcw-forwarder and/or a capture file.",
			   collector_opts);
	else if (strcmp(action, "print-options-markdown") == 0)
		opts_markdown(stdout, collector_opts);
	else if (strcmp(action, "unpin") == 0)
		*rc = main_unpin(c->cfg.pin_path);
	else
		printf("jcw-collector %s\n", JCW_VERSION);
	return -1;
}

/* What comes before the kernel: the socket, identity, the capture file and
 * the queue. 0 or -1 (logged). */
static int main_outputs(struct collector *c)
{
	int cap_fd = -1;

	c->use_socket = !c->cfg.no_socket && *c->cfg.socket;
	if (c->use_socket && link_init(&c->link, c->cfg.socket)) {
		LOG_ERROR("socket path too long: %s", c->cfg.socket);
		return -1;
	}
	c->argbuf = malloc(c->cfg.args_max);
	if (!c->argbuf || init_identity(c)) {
		LOG_ERROR("initialisation failed: %s", strerror(errno));
		return -1;
	}
	if (*c->cfg.record) {
		cap_fd = open_capture(c->cfg.record);
		if (cap_fd < 0) {
			LOG_ERROR("cannot open capture %s: %s", c->cfg.record, strerror(errno));
			return -1;
		}
	}
	if (emit_init(&c->em, c->use_socket, c->cfg.queue_max, cap_fd)) {
		LOG_ERROR("out of memory");   /* the capture is closed with the rest */
		return -1;
	}
	/* Format 2: nothing is forgotten before the forwarder acknowledges it. */
	outq_set_ack_mode(&c->em.q, true);
	return 0;
}

/* The privileged step: programs loaded (or adopted) and attached, the
 * ring buffer mapped, the Hello out, running processes seeded. */
static int main_attach(struct collector *c)
{
	Jcw__Frame f = JCW__FRAME__INIT;
	struct loader_opts lo;
	Jcw__Hello h;
	char err[512];
	int e;

	collector_loader_opts(&c->cfg, c->boot_id, &lo);
	e = loader_open(&lo, &c->ld, err, sizeof(err));
	if (e) {
		LOG_ERROR("cannot start: %s", err);
		return -1;
	}
	/* Pinned, the stream is the pinned set's: a restart continues it. */
	c->stream = loader_stream(c->ld);
	if (c->stream) {
		snprintf(c->boot_id, sizeof(c->boot_id), "%s", c->stream->boot_id);
		c->em.seq = c->stream->next_seq - 1;
		if (loader_origin(c->ld) == LOADER_ADOPTED)
			memcpy(c->kcount, c->stream->reported, sizeof(c->kcount));
	}
	c->rb = ring_buffer__new(loader_ringbuf_fd(c->ld), frames_on_record, c, NULL);
	if (!c->rb || (loader_old_ringbuf_fd(c->ld) >= 0 &&
		       ring_buffer__add(c->rb, loader_old_ringbuf_fd(c->ld), frames_on_record, c) < 0)) {
		LOG_ERROR("mapping the ring buffer: %s", strerror(errno));
		return -1;
	}
	h = frames_hello(c, c->em.seq + 1);
	f.body_case = JCW__FRAME__BODY_HELLO;
	f.hello = &h;
	frames_emit(c, &f);
	/* Seed while still privileged, and read their argv from /proc now,
	 * while the pids are fresh. */
	e = loader_seed(c->ld, err, sizeof(err));
	if (e)
		LOG_WARN("seeding from running processes failed: %s", err);
	loop_drain(c);
	return 0;
}

/* Privileges dropped, the loop set up, the seccomp filter on. */
static int main_confine(struct collector *c)
{
	char err[512];
	int e;

	e = privs_drop(c->cfg.user, err, sizeof(err));
	if (e) {
		LOG_ERROR("dropping privileges: %s", err);
		return -1;
	}
	e = loop_setup(c);
	if (e) {
		LOG_ERROR("setting up the event loop: %s", strerror(-e));
		return -1;
	}
	if (c->cfg.seccomp) {
		e = sandbox_install(SANDBOX_COLLECTOR, "jcw-collector", err, sizeof(err));
		if (e) {
			LOG_ERROR("installing the seccomp filter: %s", err);
			return -1;
		}
	}
	LOG_INFO("attached: tracing hostnames '%s*' (uts policy %s, file events %s), %" PRIu64 " records at start (seeded, or left by the last collector), "
		 "socket %s, capture %s, boot id %s from seq %" PRIu64 ", programs %s%s, seccomp %s",
		 c->cfg.host_prefix, c->cfg.uts_policy,
		 loader_files_mode(c->ld), c->records_total, c->use_socket ? c->cfg.socket : "(none)",
		 *c->cfg.record ? c->cfg.record : "(none)", c->boot_id, c->em.seq,
		 main_origin_name(loader_origin(c->ld)), c->stream ? c->cfg.pin_path : "",
		 c->cfg.seccomp ? "on" : "off");
	return 0;
}

/* Everything undone; rc becomes 1 if the capture could not be written. */
static int main_cleanup(struct collector *c, int rc)
{
	int cap_fd = c->em.cap_fd;

	ring_buffer__free(c->rb);
	loader_close(c->ld);
	if (emit_flush_capture(&c->em) < 0 && rc == 0)
		rc = 1;
	if (cap_fd >= 0 && close(cap_fd) < 0 && rc == 0) {
		LOG_ERROR("closing the capture: %s", strerror(errno));
		rc = 1;
	}
	emit_free(&c->em);
	if (c->use_socket)
		link_free(&c->link);
	free(c->argbuf);
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->sigfd >= 0)
		close(c->sigfd);
	if (c->timerfd >= 0)
		close(c->timerfd);
	LOG_INFO("exiting (%s): %" PRIu64 " records, %" PRIu64 " frames", rc ? "error" : "ok",
		 c->records_total, c->em.seq);
	return rc;
}

int main(int argc, char **argv)
{
	struct collector c = {.epfd = -1, .sigfd = -1, .timerfd = -1, .em.cap_fd = -1};
	int rc = 1, e;

	log_init("jcw-collector", LOG_LVL_INFO);
	if (main_options(&c, argc, argv, &rc)) {
		opts_free(collector_opts, &c.cfg);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	if (main_outputs(&c) || main_attach(&c) || main_confine(&c))
		goto cleanup;
	if (c.cfg.seccomp_selftest) {
		e = sandbox_selftest();
		LOG_ERROR("--seccomp-selftest: the forbidden call returned (%s): no seccomp filter",
			  strerror(-e));
		goto cleanup;
	}
	e = loop_run(&c);
	loop_shutdown_flush(&c);
	/* A loop that died is a failure kubelet and systemd must see. */
	rc = e ? 1 : 0;
cleanup:
	rc = main_cleanup(&c, rc);
	opts_free(collector_opts, &c.cfg);
	return rc;
}
