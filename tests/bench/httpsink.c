/* httpsink: a fast stand-in for the Analytics API, for benchmarks.
 *
 *   httpsink [--addr A] [--port P] [--port-file F] [--status N]
 *            [--stats-file F]
 *
 * One libev loop, HTTP/1.1 with keep-alive and pipelining, minimal parsing:
 * the request line, Content-Length and, in the body, the "timestamp" field
 * (docs/api.md: ISO 8601 with offset, microseconds). Every POST is counted and
 * answered --status (default 200 {"message":"ok"}); its arrival time
 * (CLOCK_REALTIME when the last body byte is read) minus the body's
 * timestamp is kept as a latency sample. The Python recording server
 * (tests/tools/apiserver.py) parses and logs every request and tops out
 * at a few thousand requests a second; this one does next to nothing per
 * request so that the forwarder, not the server, is what a benchmark
 * measures.
 *
 *   GET /_stats   JSON: requests, bytes, connections, first/last arrival,
 *                 latency percentiles (us) of the samples so far
 *   GET /_reset   forget all counts and samples
 *
 * On SIGTERM/SIGINT the stats are written to --stats-file (if given) and
 * the sink exits 0. The port is written to --port-file once listening
 * (--port 0 picks a free one). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "strbuf.h"

#define SINK_MAX_HEADER (64 * 1024)
#define SINK_MAX_BODY (16 * 1024 * 1024)
#define SINK_READ_CHUNK (64 * 1024)

struct sink {
	struct ev_loop *loop;
	ev_io accept_w;
	ev_signal sigterm_w, sigint_w;
	int status;
	const char *stats_file;
	/* counts since the start or the last /_reset */
	uint64_t requests, bytes, connections, bad_timestamps;
	int64_t first_ns, last_ns;
	int64_t *lat_us;       /* arrival - body timestamp, one per timed request */
	size_t nlat, caplat;
};

struct conn {
	struct sink *s;
	int fd;
	ev_io rw, ww;
	char *in;
	size_t inlen, incap;
	struct strbuf out;
	size_t outpos;
	bool closing;          /* close once the output is written */
};

static int64_t sink_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sink_reset(struct sink *s)
{
	s->requests = s->bytes = s->connections = s->bad_timestamps = 0;
	s->first_ns = s->last_ns = 0;
	s->nlat = 0;
}

/* "2026-11-21T22:40:00.123456+00:00" (or Z) to unix microseconds. The
 * fraction may have any number of digits; only the first six count. */
static int sink_parse_time(const char *p, const char *end, int64_t *us)
{
	struct tm tm;
	int64_t frac = 0, scale = 100000, off = 0;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (end - p < 19 ||
	    sscanf(p, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
		return -1;
	p += n;
	if (p < end && *p == '.') {
		for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (p < end && (*p == '+' || *p == '-')) {
		int hh, mm;

		if (end - p < 6 || sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
			return -1;
		off = (int64_t)(hh * 60 + mm) * 60 * (*p == '-' ? -1 : 1);
	} else if (p >= end || *p != 'Z') {
		return -1;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*us = ((int64_t)timegm(&tm) - off) * 1000000 + frac;
	return 0;
}

static void sink_sample(struct sink *s, const char *body, size_t len, int64_t arrival_ns)
{
	static const char key[] = "\"timestamp\"";
	const char *p = memmem(body, len, key, sizeof(key) - 1), *q, *end = body + len;
	int64_t us;

	if (!p)
		return;
	/* "timestamp" : "..." with any blanks around the colon */
	for (p += sizeof(key) - 1; p < end && (*p == ' ' || *p == ':'); p++)
		;
	if (p >= end || *p++ != '"') {
		s->bad_timestamps++;
		return;
	}
	q = memchr(p, '"', (size_t)(end - p));
	if (!q || sink_parse_time(p, q, &us)) {
		s->bad_timestamps++;
		return;
	}
	if (s->nlat == s->caplat) {
		size_t nc = s->caplat ? s->caplat * 2 : 65536;
		int64_t *nl = realloc(s->lat_us, nc * sizeof(*nl));

		if (!nl)
			return;    /* a missing sample is better than a dead sink */
		s->lat_us = nl;
		s->caplat = nc;
	}
	s->lat_us[s->nlat++] = arrival_ns / 1000 - us;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static int64_t pct(const int64_t *v, size_t n, double p)
{
	size_t k = (size_t)(p * (double)n + 0.999999);

	if (k == 0)
		k = 1;
	return v[(k > n ? n : k) - 1];
}

static void sink_stats_json(struct sink *s, struct strbuf *sb)
{
	strbuf_printf(sb, "{\"requests\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"connections\":%" PRIu64
		      ",\"first_unix_ns\":%" PRId64 ",\"last_unix_ns\":%" PRId64
		      ",\"bad_timestamps\":%" PRIu64 ",\"latency_us\":{\"n\":%zu",
		      s->requests, s->bytes, s->connections, s->first_ns, s->last_ns,
		      s->bad_timestamps, s->nlat);
	if (s->nlat) {
		int64_t *v = malloc(s->nlat * sizeof(*v));

		if (v) {
			memcpy(v, s->lat_us, s->nlat * sizeof(*v));
			qsort(v, s->nlat, sizeof(*v), cmp_i64);
			strbuf_printf(sb, ",\"min\":%" PRId64 ",\"p50\":%" PRId64 ",\"p90\":%" PRId64
				      ",\"p99\":%" PRId64 ",\"max\":%" PRId64,
				      v[0], pct(v, s->nlat, 0.5), pct(v, s->nlat, 0.9),
				      pct(v, s->nlat, 0.99), v[s->nlat - 1]);
			free(v);
		}
	}
	strbuf_puts(sb, "}}\n");
}

static void conn_free(struct conn *c)
{
	ev_io_stop(c->s->loop, &c->rw);
	ev_io_stop(c->s->loop, &c->ww);
	close(c->fd);
	strbuf_free(&c->out);
	free(c->in);
	free(c);
}

static void conn_respond(struct conn *c, int status, const char *body)
{
	const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" :
			     status == 503 ? "Service Unavailable" : "Status";

	strbuf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
		      "Content-Length: %zu\r\n\r\n%s", status, reason, strlen(body), body);
}

/* One complete request: head is the request line and headers. */
static void conn_request(struct conn *c, const char *head, size_t hlen, const char *body,
			 size_t blen)
{
	struct sink *s = c->s;
	int64_t now = sink_now_ns();

	if (hlen >= 4 && !memcmp(head, "GET ", 4)) {
		if (hlen >= 11 && !memcmp(head + 4, "/_stats ", 8)) {
			struct strbuf sb = STRBUF_INIT;

			sink_stats_json(s, &sb);
			conn_respond(c, 200, sb.len ? sb.buf : "{}");
			strbuf_free(&sb);
		} else if (hlen >= 11 && !memcmp(head + 4, "/_reset ", 8)) {
			sink_reset(s);
			conn_respond(c, 200, "{\"message\":\"reset\"}");
		} else {
			conn_respond(c, 404, "{\"detail\":\"Not Found\"}");
		}
		return;
	}
	s->requests++;
	s->bytes += hlen + blen;
	if (!s->first_ns)
		s->first_ns = now;
	s->last_ns = now;
	sink_sample(s, body, blen, now);
	if (s->status == 200)
		conn_respond(c, 200, "{\"message\":\"ok\"}");
	else
		conn_respond(c, s->status, "{\"detail\":\"httpsink --status\"}");
}

/* Content-Length of a header block, 0 when absent, -1 when malformed. */
static long long head_content_length(const char *h, size_t len)
{
	static const char name[] = "\ncontent-length:";
	const char *end = h + len, *p;

	for (p = h; p + sizeof(name) - 1 < end; p++) {
		if (*p != '\n' || strncasecmp(p, name, sizeof(name) - 1))
			continue;
		p += sizeof(name) - 1;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return -1;
		return strtoll(p, NULL, 10);
	}
	return 0;
}

static void conn_flush(struct conn *c)
{
	while (c->outpos < c->out.len) {
		ssize_t n = send(c->fd, c->out.buf + c->outpos, c->out.len - c->outpos,
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				ev_io_start(c->s->loop, &c->ww);
				return;
			}
			conn_free(c);
			return;
		}
		c->outpos += (size_t)n;
	}
	ev_io_stop(c->s->loop, &c->ww);
	strbuf_reset(&c->out);
	c->outpos = 0;
	if (c->closing)
		conn_free(c);
}

static void conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	conn_flush(w->data);
}

/* Parses every complete request in the input buffer. */
static void conn_parse(struct conn *c)
{
	size_t off = 0;

	while (off < c->inlen) {
		const char *h = c->in + off;
		const char *e = memmem(h, c->inlen - off, "\r\n\r\n", 4);
		long long clen;
		size_t hlen;

		if (!e) {
			if (c->inlen - off > SINK_MAX_HEADER)
				c->closing = true;
			break;
		}
		hlen = (size_t)(e - h) + 4;
		clen = head_content_length(h, hlen);
		if (clen < 0 || clen > SINK_MAX_BODY) {
			conn_respond(c, 400, "{\"detail\":\"bad Content-Length\"}");
			c->closing = true;
			break;
		}
		if (c->inlen - off < hlen + (size_t)clen)
			break;
		conn_request(c, h, hlen, h + hlen, (size_t)clen);
		off += hlen + (size_t)clen;
	}
	if (off) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
}

static void conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	ssize_t n;

	(void)loop;
	(void)revents;
	if (c->incap - c->inlen < SINK_READ_CHUNK) {
		size_t nc = c->incap + SINK_READ_CHUNK * 2;
		char *ni;

		if (nc > SINK_MAX_HEADER + SINK_MAX_BODY + SINK_READ_CHUNK * 2 ||
		    !(ni = realloc(c->in, nc))) {
			conn_free(c);
			return;
		}
		c->in = ni;
		c->incap = nc;
	}
	n = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_free(c);
		return;
	}
	c->inlen += (size_t)n;
	conn_parse(c);
	if (c->closing)
		ev_io_stop(loop, &c->rw);
	if (c->out.len || c->closing)
		conn_flush(c);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sink *s = w->data;
	int one = 1;

	(void)revents;
	for (;;) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0)
			return;   /* EAGAIN, or a transient error: the next event retries */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->s = s;
		c->fd = fd;
		strbuf_init(&c->out);
		ev_io_init(&c->rw, conn_read_cb, fd, EV_READ);
		ev_io_init(&c->ww, conn_write_cb, fd, EV_WRITE);
		c->rw.data = c->ww.data = c;
		ev_io_start(loop, &c->rw);
		s->connections++;
	}
}

static void sink_write_stats(struct sink *s)
{
	struct strbuf sb = STRBUF_INIT;
	FILE *f;

	if (!s->stats_file)
		return;
	sink_stats_json(s, &sb);
	f = fopen(s->stats_file, "w");
	if (!f || fwrite(sb.buf, 1, sb.len, f) != sb.len || fclose(f)) {
		fprintf(stderr, "httpsink: writing %s: %s\n", s->stats_file, strerror(errno));
		if (f)
			fclose(f);
	}
	strbuf_free(&sb);
}

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	sink_write_stats(w->data);
	ev_break(loop, EVBREAK_ALL);
}

static int sink_listen(const char *addr, int port, int *bound)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	socklen_t sl = sizeof(sa);
	int fd, one = 1;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1024) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		int e = -errno;

		close(fd);
		return e;
	}
	*bound = ntohs(sa.sin_port);
	return fd;
}

static void usage(void)
{
	fprintf(stderr, "usage: httpsink [--addr A] [--port P] [--port-file F] [--status N] "
			"[--stats-file F]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"addr", required_argument, NULL, 'a'},
		{"port", required_argument, NULL, 'p'},
		{"port-file", required_argument, NULL, 'f'},
		{"status", required_argument, NULL, 's'},
		{"stats-file", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	struct sink s;
	const char *addr = "127.0.0.1", *port_file = NULL;
	int port = 0, bound = 0, fd, opt;

	memset(&s, 0, sizeof(s));
	s.status = 200;
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'f': port_file = optarg; break;
		case 's': s.status = atoi(optarg); break;
		case 'o': s.stats_file = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || port < 0 || port > 65535 || s.status < 100 || s.status > 599)
		usage();
	fd = sink_listen(addr, port, &bound);
	if (fd < 0) {
		fprintf(stderr, "httpsink: listening on %s:%d: %s\n", addr, port, strerror(-fd));
		return 1;
	}
	if (port_file) {
		/* written whole then renamed, so a reader never sees half a number */
		char tmp[4096];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", bound) < 0 || fclose(f) || rename(tmp, port_file)) {
			fprintf(stderr, "httpsink: writing %s: %s\n", port_file, strerror(errno));
			return 1;
		}
	}
	s.loop = EV_DEFAULT;
	ev_io_init(&s.accept_w, accept_cb, fd, EV_READ);
	s.accept_w.data = &s;
	ev_io_start(s.loop, &s.accept_w);
	ev_signal_init(&s.sigterm_w, stop_cb, SIGTERM);
	ev_signal_init(&s.sigint_w, stop_cb, SIGINT);
	s.sigterm_w.data = s.sigint_w.data = &s;
	ev_signal_start(s.loop, &s.sigterm_w);
	ev_signal_start(s.loop, &s.sigint_w);
	ev_run(s.loop, 0);
	close(fd);
	free(s.lat_us);
	return 0;
}
