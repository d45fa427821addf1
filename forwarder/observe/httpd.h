/* httpd: a tiny HTTP/1.1 server on a libev loop for /metrics and health.
 *
 * One request per connection (answered with "Connection: close"), GET and
 * HEAD only. Defensive by construction, so a Prometheus scrape gets through
 * while thousands of idle, half-open or slow clients are connected:
 * - the request head is bounded (HTTPD_MAX_REQUEST bytes, else 431) and
 *   must arrive within head_timeout_s (slowloris), the answer be taken
 *   within timeout_s;
 * - one source address holds at most max_per_source connections: more are
 *   closed at once (a flood from few addresses cannot fill the table);
 * - when the table is full, the oldest connection still waiting for its
 *   head is closed to make room: the newest, a scrape among them, is read.
 *   The table is large (512, at most half the descriptor limit) and an idle
 *   connection costs no request buffer, so under a flood of thousands of
 *   connects a second a client still has tens of milliseconds to send its
 *   request before it is the oldest;
 * - all I/O is non-blocking, and any byte sequence is either a request or
 *   a 400. Every way a connection ends is counted (httpd_stats). */
#ifndef JCW_HTTPD_H
#define JCW_HTTPD_H

#define HTTPD_MAX_CONNS_DEFAULT 512

#include <stddef.h>

#include <ev.h>

#include "strbuf.h"

#define HTTPD_MAX_REQUEST 8192

struct httpd_response {
	int status;                 /* defaults to 200 */
	const char *content_type;   /* defaults to text/plain; charset=utf-8 */
	struct strbuf body;
};

/* Called for each complete GET/HEAD request; path excludes any query. */
typedef void (*httpd_handler)(void *arg, const char *path, struct httpd_response *resp);

struct httpd_config {
	const char *addr;        /* IPv4 or IPv6 literal */
	unsigned port;           /* 0: an ephemeral port (see httpd_port) */
	double head_timeout_s;   /* for the request head; 0: 2 s */
	double timeout_s;        /* for the whole connection; 0: 5 s */
	unsigned max_conns;      /* 0: HTTPD_MAX_CONNS_DEFAULT (at most half of RLIMIT_NOFILE) */
	unsigned max_per_source; /* 0: 8 */
	httpd_handler handler;
	void *arg;
};

/* How connections ended (and began). */
enum httpd_outcome {
	HTTPD_SERVED,           /* its answer (any status) sent in full */
	HTTPD_PER_SOURCE,       /* refused: its address had max_per_source already */
	HTTPD_EVICTED,          /* closed, still without a head, to make room */
	HTTPD_FULL,             /* refused: every connection was being answered */
	HTTPD_TIMED_OUT,        /* its head, or the taking of its answer, took too long */
	HTTPD_CLOSED,           /* the client left before its answer was sent */
	HTTPD_OUTCOME_COUNT
};

struct httpd_stats {
	unsigned long long accepted;
	unsigned long long outcome[HTTPD_OUTCOME_COUNT];
	unsigned open;          /* gauge */
};

struct httpd;

const struct httpd_stats *httpd_stats(const struct httpd *h);
const char *httpd_outcome_name(enum httpd_outcome o);   /* "served", "per_source", ... */

/* Binds and listens. 0, or -errno with a message in err. */
int httpd_new(struct ev_loop *loop, const struct httpd_config *cfg,
	      struct httpd **out, char *err, size_t errlen);
unsigned httpd_port(const struct httpd *h);
/* Closes the listener and every open connection. */
void httpd_free(struct httpd *h);

#endif
