/* httpd: a tiny HTTP/1.1 server on a libev loop for /metrics and health.
 *
 * One request per connection (answered with "Connection: close"), GET and
 * HEAD only. Defensive by construction: the request head is bounded
 * (HTTPD_MAX_REQUEST bytes, else 431), every connection has a deadline
 * covering reading and writing (slow clients are dropped), the number of
 * connections is capped (extra ones are closed at once), all I/O is
 * non-blocking, and any byte sequence is either a request or a 400. */
#ifndef JCW_HTTPD_H
#define JCW_HTTPD_H

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
	double timeout_s;        /* per-connection deadline; 0: 5 s */
	unsigned max_conns;      /* 0: 32 */
	httpd_handler handler;
	void *arg;
};

struct httpd;

/* Binds and listens. 0, or -errno with a message in err. */
int httpd_new(struct ev_loop *loop, const struct httpd_config *cfg,
	      struct httpd **out, char *err, size_t errlen);
unsigned httpd_port(const struct httpd *h);
/* Closes the listener and every open connection. */
void httpd_free(struct httpd *h);

#endif
