/* loop: the collector's one epoll, each descriptor with its handler (see
 * collector.h). */
#include "collector.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define LOSS_POLL_NS NS_PER_SEC
#define SHUTDOWN_FLUSH_NS (2 * NS_PER_SEC)

void loop_drain(struct collector *c)
{
	int n = ring_buffer__consume(c->rb);

	if (n < 0)
		LOG_ERROR("reading the ring buffer: %s", strerror(-n));
}

/* The ring buffer passed its wake-up threshold. */
static void on_ring(struct collector *c, uint32_t events)
{
	(void)events;
	loop_drain(c);
}

static void on_signal(struct collector *c, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)events;
	if (read(c->sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	LOG_INFO("stopping on signal");
	c->stopping = true;
}

/* Every --flush-interval: drain, and whatever else is due. */
static void on_tick(struct collector *c, uint32_t events)
{
	uint64_t expirations, now = clock_ns(CLOCK_MONOTONIC);

	(void)events;
	if (read(c->timerfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		LOG_WARN("timerfd: %s", strerror(errno));
	loop_drain(c);
	if (now >= c->next_loss_poll_ns) {
		loader_alive(c->ld);   /* the programs' deadline: this collector lives */
		frames_poll_kernel(c);
		c->next_loss_poll_ns = now + LOSS_POLL_NS;
	}
	if (now >= c->next_heartbeat_ns) {
		frames_heartbeat(c);
		c->next_heartbeat_ns = now + (uint64_t)(c->cfg.heartbeat_interval * NS_PER_SEC);
	}
	if (emit_flush_capture(&c->em) < 0)
		LOG_ERROR("writing the capture %s failed", c->cfg.record);
	session_service(c, now);
}

static int epoll_add(int epfd, int fd, struct loop_handler *h,
		     void (*fn)(struct collector *c, uint32_t events))
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = h};

	h->fn = fn;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int loop_setup(struct collector *c)
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
	/* The forwarder's socket joins when it is connected (session.c). */
	c->on_link.fn = session_on_event;
	if (timerfd_settime(c->timerfd, 0, &its, NULL) < 0 ||
	    epoll_add(c->epfd, ring_buffer__epoll_fd(c->rb), &c->on_ring, on_ring) < 0 ||
	    epoll_add(c->epfd, c->sigfd, &c->on_signal, on_signal) < 0 ||
	    epoll_add(c->epfd, c->timerfd, &c->on_tick, on_tick) < 0)
		return -errno;
	return 0;
}

int loop_run(struct collector *c)
{
	struct epoll_event evs[8];
	struct loop_handler *h;
	int n, i;

	c->next_loss_poll_ns = clock_ns(CLOCK_MONOTONIC) + LOSS_POLL_NS;
	c->next_heartbeat_ns = clock_ns(CLOCK_MONOTONIC) +
			       (uint64_t)(c->cfg.heartbeat_interval * NS_PER_SEC);
	on_tick(c, 0);   /* connect and send at once, not one interval later */
	while (!c->stopping) {
		n = epoll_wait(c->epfd, evs, 8, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			LOG_ERROR("epoll_wait: %s", strerror(-n));
			return n;
		}
		for (i = 0; i < n; i++) {
			h = evs[i].data.ptr;
			h->fn(c, evs[i].events);
		}
	}
	return 0;
}

void loop_shutdown_flush(struct collector *c)
{
	uint64_t deadline = clock_ns(CLOCK_MONOTONIC) + SHUTDOWN_FLUSH_NS;
	struct epoll_event ev;

	/* Pinned, the programs go on and what is still in the ring buffer
	 * waits there for the next collector: drained now it could die with
	 * us unacknowledged. */
	if (!c->stream) {
		loader_detach(c->ld);
		loop_drain(c);
	}
	frames_poll_kernel(c);
	frames_heartbeat(c);
	if (emit_flush_capture(&c->em) < 0)
		LOG_ERROR("writing the capture %s failed", c->cfg.record);
	if (!c->use_socket)
		return;
	while (c->em.q.count > 0 && clock_ns(CLOCK_MONOTONIC) < deadline) {
		session_service(c, clock_ns(CLOCK_MONOTONIC));
		if (epoll_wait(c->epfd, &ev, 1, 20) == 1 && ev.data.ptr == &c->on_link)
			session_on_event(c, ev.events);
	}
	if (c->em.q.count > 0)
		LOG_WARN("exiting with %zu frames (%zu bytes) not acknowledged by the forwarder "
			 "(%zu bytes never sent)", c->em.q.count, c->em.q.bytes,
			 outq_unsent_bytes(&c->em.q));
}
