/* The metrics/health HTTP server over a real loopback socket: a client
 * thread talks to it while the test's libev loop serves. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "observe/httpd.h"

struct client {
	unsigned port;
	const char *req;
	size_t req_len;
	int send_nothing;        /* connect and wait for the server to give up */
	char resp[16384];
	size_t resp_len;
	ev_async done;
	struct ev_loop *loop;
};

static void handler(void *arg, const char *path, struct httpd_response *resp)
{
	int *calls = arg;

	(*calls)++;
	if (strcmp(path, "/metrics") == 0) {
		resp->content_type = "text/plain; version=0.0.4";
		strbuf_puts(&resp->body, "# HELP up Up.\n# TYPE up gauge\nup 1\n");
	} else if (strcmp(path, "/healthz") == 0) {
		strbuf_puts(&resp->body, "ok\n");
	} else {
		resp->status = 404;
		strbuf_puts(&resp->body, "nope\n");
	}
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
	ssize_t n;
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		if (!c->send_nothing)
			send(fd, c->req, c->req_len, MSG_NOSIGNAL);
		while (c->resp_len < sizeof(c->resp) - 1 &&
		       (n = recv(fd, c->resp + c->resp_len, sizeof(c->resp) - 1 - c->resp_len, 0)) > 0)
			c->resp_len += (size_t)n;
	}
	c->resp[c->resp_len] = '\0';
	if (fd >= 0)
		close(fd);
	ev_async_send(c->loop, &c->done);
	return NULL;
}

static void done_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void give_up(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
	cr_assert_fail("the exchange did not finish");
}

/* Sends req (length len) and returns the whole response. */
static void exchange(struct client *c, const char *req, size_t len, double timeout_s, int *calls)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct httpd_config hc = {.addr = "127.0.0.1", .port = 0, .timeout_s = timeout_s,
				  .handler = handler, .arg = calls};
	struct httpd *h;
	char err[128];
	pthread_t th;
	ev_timer guard;

	cr_assert_eq(httpd_new(loop, &hc, &h, err, sizeof(err)), 0, "%s", err);
	c->port = httpd_port(h);
	cr_assert_neq(c->port, 0);
	c->req = req;
	c->req_len = len;
	c->loop = loop;
	ev_async_init(&c->done, done_cb);
	ev_async_start(loop, &c->done);
	ev_timer_init(&guard, give_up, 10, 0);
	ev_timer_start(loop, &guard);
	pthread_create(&th, NULL, client_main, c);
	ev_run(loop, 0);
	pthread_join(th, NULL);
	httpd_free(h);
	ev_loop_destroy(loop);
}

#define REQ(s) (s), sizeof(s) - 1

Test(httpd, metrics)
{
	struct client c = {0};
	int calls = 0;

	exchange(&c, REQ("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"), 2, &calls);
	cr_assert_eq(calls, 1);
	cr_assert_str_eq(c.resp,
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
		"Content-Length: 35\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
		"# HELP up Up.\n# TYPE up gauge\nup 1\n");
}

Test(httpd, healthz_with_query_and_bare_newlines)
{
	struct client c = {0};
	int calls = 0;

	exchange(&c, REQ("GET /healthz?verbose=1 HTTP/1.0\n\n"), 2, &calls);
	cr_assert(strncmp(c.resp, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", c.resp);
	cr_assert(strstr(c.resp, "\r\n\r\nok\n"), "%s", c.resp);
}

Test(httpd, head_has_no_body)
{
	struct client c = {0};
	int calls = 0;

	exchange(&c, REQ("HEAD /healthz HTTP/1.1\r\n\r\n"), 2, &calls);
	cr_assert(strstr(c.resp, "Content-Length: 3\r\n"), "%s", c.resp);
	cr_assert(strstr(c.resp, "\r\n\r\n")[4] == '\0', "%s", c.resp);
}

Test(httpd, not_found)
{
	struct client c = {0};
	int calls = 0;

	exchange(&c, REQ("GET /nope HTTP/1.1\r\n\r\n"), 2, &calls);
	cr_assert(strncmp(c.resp, "HTTP/1.1 404 Not Found\r\n", 24) == 0, "%s", c.resp);
}

Test(httpd, garbage_is_400_without_calling_the_handler)
{
	static const char *const bad[] = {
		"\x16\x03\x01\x02\x05\x01\x07\x01\xfc\x03\x03\r\n\r\n",   /* TLS-like bytes */
		"GET\r\n\r\n",
		"GET  HTTP/1.1\r\n\r\n",
		"GET metrics HTTP/1.1\r\n\r\n",
		"GET /metrics SPDY/3\r\n\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct client c = {0};
		int calls = 0;

		exchange(&c, bad[i], strlen(bad[i]), 2, &calls);
		cr_assert(strncmp(c.resp, "HTTP/1.1 400 ", 13) == 0, "case %zu: %s", i, c.resp);
		cr_assert_eq(calls, 0);
	}
}

Test(httpd, nul_byte_is_400)
{
	struct client c = {0};
	int calls = 0;

	exchange(&c, "GET /metrics\0 HTTP/1.1\r\n\r\n", 26, 2, &calls);
	cr_assert(strncmp(c.resp, "HTTP/1.1 400 ", 13) == 0, "%s", c.resp);
}

Test(httpd, other_methods_are_405)
{
	struct client c = {0};
	int calls = 0;

	exchange(&c, REQ("POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"), 2, &calls);
	cr_assert(strncmp(c.resp, "HTTP/1.1 405 ", 13) == 0, "%s", c.resp);
	cr_assert_eq(calls, 0);
}

Test(httpd, oversized_request_is_431)
{
	struct client c = {0};
	size_t len = HTTPD_MAX_REQUEST + 100;
	char *req = malloc(len);
	int calls = 0;

	memcpy(req, "GET /metrics HTTP/1.1\r\nX-Pad: ", 30);
	memset(req + 30, 'a', len - 30);
	exchange(&c, req, len, 2, &calls);
	cr_assert(strncmp(c.resp, "HTTP/1.1 431 ", 13) == 0, "%.60s", c.resp);
	cr_assert_eq(calls, 0);
	free(req);
}

Test(httpd, silent_client_is_dropped_after_the_deadline)
{
	struct client c = {.send_nothing = 1};
	int calls = 0;

	exchange(&c, "", 0, 0.2, &calls);
	cr_assert_eq(c.resp_len, 0);
	cr_assert_eq(calls, 0);
}

Test(httpd, bad_address)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct httpd_config hc = {.addr = "localhost", .handler = handler};
	struct httpd *h;
	char err[128];

	cr_assert_lt(httpd_new(loop, &hc, &h, err, sizeof(err)), 0);
	cr_assert(strstr(err, "localhost"), "%s", err);
	ev_loop_destroy(loop);
}

/* --- load shedding: the test's own thread is every client -------------- */

/* A client socket from src (a loopback address) connected to port; the
 * kernel completes the connection into the listener's backlog at once. */
static int cli_connect(unsigned port, const char *src)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct sockaddr_in from = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(inet_pton(AF_INET, src, &from.sin_addr), 1);
	cr_assert_eq(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Serves for secs seconds. */
static void serve_for(struct ev_loop *loop, double secs)
{
	ev_tstamp end = ev_time() + secs;

	while (ev_time() < end) {
		ev_run(loop, EVRUN_NOWAIT);
		usleep(1000);
	}
}

/* The response on fd so far (the server closes after answering). */
static const char *read_all(int fd, char *buf, size_t size)
{
	ssize_t n;
	size_t len = 0;

	while (len < size - 1 && (n = recv(fd, buf + len, size - 1 - len, MSG_DONTWAIT)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return buf;
}

static struct httpd *shed_server(struct ev_loop *loop, unsigned max_conns, unsigned per_source,
				 double head_s, int *calls)
{
	struct httpd_config hc = {.addr = "127.0.0.1", .max_conns = max_conns,
				  .max_per_source = per_source, .head_timeout_s = head_s,
				  .timeout_s = 5, .handler = handler, .arg = calls};
	struct httpd *h;
	char err[128];

	cr_assert_eq(httpd_new(loop, &hc, &h, err, sizeof(err)), 0, "%s", err);
	return h;
}

/* Idle connections from one address cannot fill the table: another
 * address's scrape is answered. */
Test(httpd, one_source_is_held_to_its_share)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	int calls = 0, fds[6], scrape, i;
	struct httpd *h = shed_server(loop, 64, 3, 2, &calls);
	const struct httpd_stats *st = httpd_stats(h);
	char buf[4096];

	for (i = 0; i < 6; i++)
		fds[i] = cli_connect(httpd_port(h), "127.0.0.2");
	serve_for(loop, 0.05);
	cr_assert_eq(st->accepted, 6);
	cr_assert_eq(st->open, 3);
	cr_assert_eq(st->outcome[HTTPD_PER_SOURCE], 3);
	scrape = cli_connect(httpd_port(h), "127.0.0.1");
	cr_assert_eq(send(scrape, REQ("GET /metrics HTTP/1.1\r\n\r\n"), 0),
		     (ssize_t)strlen("GET /metrics HTTP/1.1\r\n\r\n"));
	serve_for(loop, 0.05);
	cr_assert(strstr(read_all(scrape, buf, sizeof(buf)), "200 OK"), "%s", buf);
	cr_assert_eq(st->outcome[HTTPD_SERVED], 1);
	for (i = 0; i < 6; i++)
		close(fds[i]);
	close(scrape);
	httpd_free(h);
	ev_loop_destroy(loop);
}

/* A full table makes room by closing its oldest connection still without a
 * request: the newest, a scrape, is read and answered. */
Test(httpd, a_full_table_drops_its_oldest_idle_connection)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	int calls = 0, fds[4], scrape, i;
	struct httpd *h = shed_server(loop, 4, 100, 2, &calls);
	const struct httpd_stats *st = httpd_stats(h);
	char buf[4096];

	for (i = 0; i < 4; i++) {
		fds[i] = cli_connect(httpd_port(h), "127.0.0.3");
		serve_for(loop, 0.01);   /* accepted in this order */
	}
	cr_assert_eq(st->open, 4);
	scrape = cli_connect(httpd_port(h), "127.0.0.3");
	cr_assert_eq(send(scrape, REQ("GET /healthz HTTP/1.1\r\n\r\n"), 0),
		     (ssize_t)strlen("GET /healthz HTTP/1.1\r\n\r\n"));
	serve_for(loop, 0.05);
	cr_assert(strstr(read_all(scrape, buf, sizeof(buf)), "200 OK"), "%s", buf);
	cr_assert_eq(st->outcome[HTTPD_EVICTED], 1);
	/* the oldest was the one closed */
	cr_assert_eq(recv(fds[0], buf, sizeof(buf), MSG_DONTWAIT), 0);
	cr_assert_eq(recv(fds[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
	for (i = 0; i < 4; i++)
		close(fds[i]);
	close(scrape);
	httpd_free(h);
	ev_loop_destroy(loop);
}

/* A head sent one byte at a time (slowloris) meets the head deadline, not
 * the connection's. */
Test(httpd, a_slow_head_times_out)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	int calls = 0, fd, i;
	struct httpd *h = shed_server(loop, 64, 8, 0.3, &calls);
	const struct httpd_stats *st = httpd_stats(h);
	const char *req = "GET /metrics HTTP/1.1\r\n\r\n";
	char buf[64];

	fd = cli_connect(httpd_port(h), "127.0.0.4");
	for (i = 0; i < 2; i++) {   /* a byte every 0.1 s: the head takes 2.5 s */
		cr_assert_eq(send(fd, req + i, 1, MSG_NOSIGNAL), 1);
		serve_for(loop, 0.1);
	}
	serve_for(loop, 0.2);   /* past the 0.3 s head deadline */
	cr_assert_eq(st->outcome[HTTPD_TIMED_OUT], 1);
	cr_assert_eq(st->open, 0);
	cr_assert_eq(calls, 0);
	cr_assert_eq(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 0);
	close(fd);
	httpd_free(h);
	ev_loop_destroy(loop);
}
