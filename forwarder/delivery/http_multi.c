/* http_multi: curl multi <-> libev glue. Callbacks from curl only touch
 * watchers, never curl itself, so nothing re-enters the multi handle. */
#include "http_multi.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"


struct http_sock {
	ev_io io;                     /* first member: watcher == sock */
	struct http_multi *m;
	curl_socket_t fd;
	struct http_sock *prev, *next;
};

struct http_multi {
	struct ev_loop *loop;
	CURLM *multi;
	bool curl_global;
	ev_timer timer;               /* curl's single timeout */
	struct http_sock *socks;
	http_multi_done_fn done;
	void *arg;
	struct log_ratelimit rl;
};

static void drain(struct http_multi *m)
{
	CURLMsg *msg;
	CURLcode res;
	CURL *easy;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		res = msg->data.result;   /* msg dies with the handle's removal */
		curl_multi_remove_handle(m->multi, easy);
		m->done(m->arg, easy, res);
	}
}

static void act(struct http_multi *m, curl_socket_t fd, int action)
{
	int running;
	CURLMcode mc = curl_multi_socket_action(m->multi, fd, action, &running);

	if (mc != CURLM_OK && log_ratelimit_allow(&m->rl, LOG_BURST, NULL))
		LOG_ERROR("curl_multi_socket_action: %s", curl_multi_strerror(mc));
	drain(m);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct http_sock *s = (struct http_sock *)w;

	(void)loop;
	/* s may be freed inside socket_action: read it first. */
	act(s->m, s->fd, (revents & EV_READ ? CURL_CSELECT_IN : 0) |
			 (revents & EV_WRITE ? CURL_CSELECT_OUT : 0));
}

static void timer_fired(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	act(w->data, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_TIMERFUNCTION: -1 = no timeout, else call back in timeout_ms
 * (0 = as soon as possible: from the loop, never from here). */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_multi *m = userp;

	(void)multi;
	ev_timer_stop(m->loop, &m->timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&m->timer, (double)timeout_ms / 1000.0, 0.);
		ev_timer_start(m->loop, &m->timer);
	}
	return 0;
}

static void sock_free(struct http_multi *m, struct http_sock *s)
{
	ev_io_stop(m->loop, &s->io);
	if (s->prev)
		s->prev->next = s->next;
	else
		m->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	free(s);
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for `what`, or forget it. */
static int sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_multi *m = userp;
	struct http_sock *s = socketp;
	int events = (what & CURL_POLL_IN ? EV_READ : 0) |
		     (what & CURL_POLL_OUT ? EV_WRITE : 0);

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			curl_multi_assign(m->multi, fd, NULL);
			sock_free(m, s);
		}
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s) {
			/* Unwatched, the transfer ends by its own timeout;
			 * failing here would abort every transfer. */
			if (log_ratelimit_allow(&m->rl, LOG_BURST, NULL))
				LOG_ERROR("no memory to watch a socket");
			return 0;
		}
		s->m = m;
		s->fd = fd;
		s->next = m->socks;
		if (m->socks)
			m->socks->prev = s;
		m->socks = s;
		ev_init(&s->io, io_cb);
		curl_multi_assign(m->multi, fd, s);
	} else if (ev_is_active(&s->io) &&
		   (s->io.events & (EV_READ | EV_WRITE)) == events) {
		return 0;
	}
	ev_io_stop(m->loop, &s->io);
	ev_io_set(&s->io, fd, events);
	ev_io_start(m->loop, &s->io);
	return 0;
}

int http_multi_new(struct ev_loop *loop, long max_conns, http_multi_done_fn done,
		   void *arg, struct http_multi **out, char *err, size_t errlen)
{
	struct http_multi *m = calloc(1, sizeof(*m));
	int rc = -ENOMEM;

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	m->loop = loop;
	m->done = done;
	m->arg = arg;
	ev_init(&m->timer, timer_fired);
	m->timer.data = m;
	rc = -EIO;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "curl_global_init failed");
		goto fail;
	}
	m->curl_global = true;
	m->multi = curl_multi_init();
	if (!m->multi) {
		snprintf(err, errlen, "curl_multi_init failed");
		goto fail;
	}
	/* One connection per concurrent transfer, kept alive and reused. */
	if (curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, sock_cb) ||
	    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m) ||
	    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, timer_cb) ||
	    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m) ||
	    curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_conns) ||
	    curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_conns) ||
	    curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, max_conns)) {
		snprintf(err, errlen, "curl_multi_setopt failed");
		goto fail;
	}
	*out = m;
	return 0;
fail:
	http_multi_free(m);
	return rc;
}

int http_multi_add(struct http_multi *m, CURL *easy)
{
	return curl_multi_add_handle(m->multi, easy) == CURLM_OK ? 0 : -EIO;
}

void http_multi_remove(struct http_multi *m, CURL *easy)
{
	curl_multi_remove_handle(m->multi, easy);
}

void http_multi_free(struct http_multi *m)
{
	if (!m)
		return;
	if (m->multi) {
		/* No callbacks into m while curl closes its cached connections. */
		curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, NULL);
		curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, NULL);
		curl_multi_cleanup(m->multi);
	}
	ev_timer_stop(m->loop, &m->timer);
	while (m->socks)
		sock_free(m, m->socks);
	if (m->curl_global)
		curl_global_cleanup();
	free(m);
}
