#include "httpd.h"
#include "httpd_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

struct httpd_conn {
	struct httpd *srv;
	struct httpd_conn *prev, *next;   /* newest first */
	int fd;
	struct sockaddr_storage peer;
	ev_io io;
	ev_timer deadline;
	char *req;   /* HTTPD_MAX_REQUEST + 1, from the first byte on: idle is cheap */
	size_t req_len;
	struct strbuf out;
	size_t out_off;
	int writing;
};

struct httpd {
	struct ev_loop *loop;
	int fd;
	ev_io accept_io;
	unsigned port;
	double head_timeout_s, timeout_s;
	unsigned max_conns, max_per_source;
	struct httpd_stats st;   /* st.open: the connections in conns */
	struct httpd_conn *conns;
	httpd_handler handler;
	void *arg;
	struct log_ratelimit rl;
};

/* Ends c, counted by how it ended. */
static void conn_close(struct httpd_conn *c, enum httpd_outcome outcome)
{
	struct httpd *h = c->srv;

	h->st.outcome[outcome]++;

	ev_io_stop(h->loop, &c->io);
	ev_timer_stop(h->loop, &c->deadline);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->st.open--;
	strbuf_free(&c->out);
	free(c->req);
	free(c);
}

const struct httpd_stats *httpd_stats(const struct httpd *h)
{
	return &h->st;
}

const char *httpd_outcome_name(enum httpd_outcome o)
{
	static const char *const names[HTTPD_OUTCOME_COUNT] = {
		[HTTPD_SERVED] = "served", [HTTPD_PER_SOURCE] = "per_source",
		[HTTPD_EVICTED] = "evicted", [HTTPD_FULL] = "full",
		[HTTPD_TIMED_OUT] = "timed_out", [HTTPD_CLOSED] = "closed",
	};

	return (unsigned)o < HTTPD_OUTCOME_COUNT ? names[o] : "unknown";
}

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

static void conn_write_cb(struct ev_loop *loop, ev_io *w, int revents);

/* Queues the whole response and switches the connection to writing. */
static void conn_respond(struct httpd_conn *c, int status, const char *ctype,
			 const struct strbuf *body, int head_only)
{
	struct httpd *h = c->srv;
	size_t blen = body ? body->len : 0;

	strbuf_printf(&c->out,
		      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		      "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
		      status, status_text(status), ctype, blen);
	if (blen && !head_only)
		strbuf_append(&c->out, body->buf, blen);
	if (!strbuf_ok(&c->out)) {
		conn_close(c, HTTPD_CLOSED);
		return;
	}
	c->writing = 1;
	/* The head came in time; the answer has the rest of timeout_s. */
	ev_timer_stop(h->loop, &c->deadline);
	ev_timer_set(&c->deadline, h->timeout_s, 0);
	ev_timer_start(h->loop, &c->deadline);
	ev_io_stop(h->loop, &c->io);
	ev_io_init(&c->io, conn_write_cb, c->fd, EV_WRITE);
	c->io.data = c;
	ev_io_start(h->loop, &c->io);
}

static void conn_error(struct httpd_conn *c, int status)
{
	struct strbuf body = STRBUF_INIT;

	strbuf_printf(&body, "%s\n", status_text(status));
	conn_respond(c, status, "text/plain; charset=utf-8", &body, 0);
	strbuf_free(&body);
}

static void conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct httpd_conn *c = w->data;
	ssize_t n;

	(void)loop;
	(void)revents;
	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.buf + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(c, HTTPD_CLOSED);
			return;
		}
		c->out_off += (size_t)n;
	}
	shutdown(c->fd, SHUT_WR);
	conn_close(c, HTTPD_SERVED);
}

/* A complete head: parse it (httpd_parse.h) and answer. */
static void conn_handle(struct httpd_conn *c)
{
	struct httpd *h = c->srv;
	struct httpd_response resp;
	struct httpd_request req;
	int status = httpd_parse(c->req, c->req_len, &req);

	if (status) {
		conn_error(c, status);
		return;
	}
	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	h->handler(h->arg, req.path, &resp);
	if (!strbuf_ok(&resp.body)) {
		strbuf_free(&resp.body);
		conn_error(c, 500);
		return;
	}
	conn_respond(c, resp.status, resp.content_type ? resp.content_type : "text/plain; charset=utf-8",
		     &resp.body, req.head_only);
	strbuf_free(&resp.body);
}

static void conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct httpd_conn *c = w->data;
	ssize_t n;

	(void)loop;
	(void)revents;
	if (!c->req && !(c->req = malloc(HTTPD_MAX_REQUEST + 1))) {
		conn_close(c, HTTPD_CLOSED);
		return;
	}
	for (;;) {
		if (c->req_len == HTTPD_MAX_REQUEST) {
			conn_error(c, 431);
			return;
		}
		n = recv(c->fd, c->req + c->req_len, HTTPD_MAX_REQUEST - c->req_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {   /* peer gone before a full request */
			conn_close(c, HTTPD_CLOSED);
			return;
		}
		/* A NUL byte makes no request: say so at once. */
		if (memchr(c->req + c->req_len, '\0', (size_t)n)) {
			conn_error(c, 400);
			return;
		}
		c->req_len += (size_t)n;
		if (httpd_head_complete(c->req, c->req_len)) {
			conn_handle(c);
			return;
		}
	}
}

static void conn_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct httpd_conn *c = w->data;

	(void)loop;
	(void)revents;
	LOG_DEBUG("metrics http: connection timed out");
	conn_close(c, HTTPD_TIMED_OUT);
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
	return false;
}

/* Room for a connection from peer: 0, or the outcome that refuses it. */
static int make_room(struct httpd *h, const struct sockaddr_storage *peer)
{
	struct httpd_conn *c, *oldest_idle = NULL;
	unsigned same = 0;

	for (c = h->conns; c; c = c->next) {
		if (same_host(&c->peer, peer))
			same++;
		if (!c->writing)
			oldest_idle = c;   /* the list is newest first */
	}
	if (same >= h->max_per_source)
		return HTTPD_PER_SOURCE;
	if (h->st.open < h->max_conns)
		return 0;
	if (!oldest_idle)
		return HTTPD_FULL;
	conn_close(oldest_idle, HTTPD_EVICTED);
	return 0;
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct httpd *h = w->data;
	struct sockaddr_storage peer;
	struct httpd_conn *c;
	socklen_t plen;
	uint64_t sup;
	unsigned n;
	int fd, refuse;

	(void)revents;
	/* At most a quarter of the table per wake-up: a connection accepted
	 * now is read before enough newer ones arrive to make it the oldest. */
	for (n = 0; n < (h->max_conns + 3) / 4; n++) {
		plen = sizeof(peer);
		memset(&peer, 0, sizeof(peer));
		fd = accept4(h->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    log_ratelimit_allow(&h->rl, LOG_BURST_QUIET, &sup))
				LOG_WARN("metrics http: accept: %s", strerror(errno));
			return;
		}
		h->st.accepted++;
		refuse = make_room(h, &peer);
		if (refuse) {
			h->st.outcome[refuse]++;
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			h->st.outcome[HTTPD_CLOSED]++;
			close(fd);
			continue;
		}
		c->srv = h;
		c->fd = fd;
		c->peer = peer;
		c->next = h->conns;
		if (h->conns)
			h->conns->prev = c;
		h->conns = c;
		h->st.open++;
		ev_io_init(&c->io, conn_read_cb, fd, EV_READ);
		c->io.data = c;
		ev_io_start(loop, &c->io);
		ev_timer_init(&c->deadline, conn_deadline_cb, h->head_timeout_s, 0);
		c->deadline.data = c;
		ev_timer_start(loop, &c->deadline);
	}
}

int httpd_new(struct ev_loop *loop, const struct httpd_config *cfg,
	      struct httpd **out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct rlimit rl;
	socklen_t slen;
	struct httpd *h;
	int one = 1, rc;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, cfg->addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)cfg->port);
		slen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, cfg->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)cfg->port);
		slen = sizeof(struct sockaddr_in6);
	} else {
		snprintf(err, errlen, "'%s' is not an IP address", cfg->addr);
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->loop = loop;
	h->handler = cfg->handler;
	h->arg = cfg->arg;
	h->timeout_s = cfg->timeout_s > 0 ? cfg->timeout_s : 5.0;
	h->head_timeout_s = cfg->head_timeout_s > 0 ? cfg->head_timeout_s : 2.0;
	if (h->head_timeout_s > h->timeout_s)
		h->head_timeout_s = h->timeout_s;
	h->max_conns = cfg->max_conns ? cfg->max_conns : HTTPD_MAX_CONNS_DEFAULT;
	/* Never more than half the descriptors this process may open: a
	 * flood must not take the outbox's, the log's or the collector's. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    h->max_conns > rl.rlim_cur / 2)
		h->max_conns = rl.rlim_cur / 2 > 1 ? (unsigned)(rl.rlim_cur / 2) : 1;
	h->max_per_source = cfg->max_per_source ? cfg->max_per_source : 8;
	h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		goto fail_errno;
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The whole backlog the kernel allows: a flood that fills a short one
	 * makes the kernel drop a scrape's SYN, and its client waits a second
	 * for the retransmission; queued, it is accepted in turn. */
	if (bind(h->fd, (struct sockaddr *)&ss, slen) < 0 || listen(h->fd, SOMAXCONN) < 0)
		goto fail_errno;
	slen = sizeof(ss);
	if (getsockname(h->fd, (struct sockaddr *)&ss, &slen) < 0)
		goto fail_errno;
	h->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						 : ((struct sockaddr_in6 *)&ss)->sin6_port);
	ev_io_init(&h->accept_io, accept_cb, h->fd, EV_READ);
	h->accept_io.data = h;
	ev_io_start(loop, &h->accept_io);
	*out = h;
	return 0;
fail_errno:
	rc = -errno;
	snprintf(err, errlen, "listen on %s port %u: %s", cfg->addr, cfg->port, strerror(errno));
	if (h->fd >= 0)
		close(h->fd);
	free(h);
	return rc;
}

unsigned httpd_port(const struct httpd *h)
{
	return h->port;
}

void httpd_free(struct httpd *h)
{
	if (!h)
		return;
	while (h->conns)
		conn_close(h->conns, HTTPD_CLOSED);
	ev_io_stop(h->loop, &h->accept_io);
	close(h->fd);
	free(h);
}
