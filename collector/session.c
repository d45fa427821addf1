/* session: the collector's side of the conversation with the forwarder,
 * on top of link.c (see collector.h). */
#include "collector.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "clock.h"

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
	struct epoll_event ev = {.data.ptr = &c->on_link};
	bool out = link_wants_write(&c->link, &c->em.q);

	if (c->link.fd < 0) {
		c->link_watch_out = false;
		return;
	}
	/* Every tick comes here: a system call only for a new socket or a
	 * new mask (a closed fd leaves the epoll set by itself). */
	if (c->link_watched == c->link.sockets && c->link_watch_out == out)
		return;
	ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->link.fd, &ev) < 0 &&
	    epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->link.fd, &ev) < 0) {
		LOG_DEBUG("watching the forwarder's socket: %s", strerror(errno));
		return;   /* tried again at the next tick */
	}
	c->link_watched = c->link.sockets;
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
		h = frames_hello(c, first ? first : c->em.seq + 1);
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
		frames_lost(c, JCW__LOST_SOURCE__LOST_COLLECTOR_QUEUE, dropped - c->queue_lost_reported,
			  dropped, detail);
		LOG_WARN("%" PRIu64 " frames were dropped while the forwarder was away",
			 dropped - c->queue_lost_reported);
		c->queue_lost_reported = dropped;
	}
}

void session_service(struct collector *c, uint64_t now)
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

void session_on_event(struct collector *c, uint32_t events)
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
	session_service(c, now);
}
