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
