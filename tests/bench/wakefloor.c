/* wakefloor: the least CPU this machine lets a monitor spend per student
 * event, without any of the monitor's code: the floor under figure 5's
 * "CPU per event" (docs/performance.md).
 *
 *   wakefloor [-r RATE] [-b BATCH] [-t SECS]
 *
 * Two runs of SECS seconds each, on a timerfd that fires RATE/BATCH times
 * a second (the collector's drain: 1000/5 = every 5 ms):
 *   tick      each expiry is read and nothing else is done: the CPU of one
 *             wake-up of a process that sleeps between ticks;
 *   exchange  at each expiry BATCH HTTP/1.1 POSTs of a run log's size go
 *             over one keep-alive loopback TCP connection to a forked
 *             server, each sent once the answer to the one before came
 *             (one student's lane), the answer awaited in epoll_wait as the
 *             forwarder does: the CPU of a tick's share and one exchange;
 *   curl      the same exchanges made by libcurl's multi interface on the
 *             same epoll loop (its socket and timer callbacks, one reused
 *             easy handle, the options and headers of
 *             forwarder/delivery/deliver_transfer.c): what the forwarder's
 *             HTTP library adds to the exchange, still without its code.
 * CPU is the process's own (CLOCK_PROCESS_CPUTIME_ID, which the kernel
 * counts exactly); the server's, from its rusage, is shown apart. Prints
 * one JSON line:
 *   {"rate":R,"batch":B,"ticks":N,"tick_us":T,"requests":M,
 *    "per_request_us":P,"server_per_request_us":S,
 *    "curl_requests":C,"curl_per_request_us":Q}
 * Exit status 1 on any failure (a short answer, a refused connection). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "version.h"

#define BODY_BYTES 260   /* a run log's JSON body (docs/api.md) */
#define ANSWER "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
	fprintf(stderr, "wakefloor: %s: %s\n", what, errno ? strerror(errno) : "failed");
	return -1;
}

/* The server: reads whole requests (headers, then Content-Length bytes)
 * and answers each at once, until the client hangs up. */
static void serve(int lfd)
{
	char buf[8192];
	size_t have = 0, need;
	char *end, *cl;
	ssize_t n;
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		_exit(1);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	for (;;) {
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			_exit(n == 0 ? 0 : 1);
		have += (size_t)n;
		buf[have] = '\0';
		while ((end = strstr(buf, "\r\n\r\n"))) {
			cl = strstr(buf, "Content-Length: ");
			need = (size_t)(end + 4 - buf) + (cl && cl < end ? strtoul(cl + 16, NULL, 10) : 0);
			if (have < need)
				break;
			if (write(fd, ANSWER, sizeof(ANSWER) - 1) != (ssize_t)(sizeof(ANSWER) - 1))
				_exit(1);
			memmove(buf, buf + need, have - need);
			have -= need;
			buf[have] = '\0';
		}
	}
}

static int timer_start(double period_s)
{
	struct itimerspec its = {0};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	if (fd < 0)
		return fail("timerfd_create");
	its.it_interval.tv_sec = (time_t)period_s;
	its.it_interval.tv_nsec = (long)((period_s - (double)(time_t)period_s) * 1e9);
	its.it_value = its.it_interval;
	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		close(fd);
		return fail("timerfd_settime");
	}
	return fd;
}

/* Waits for one expiry; the number of expiries, or -1. */
static int64_t tick(int tfd)
{
	uint64_t n;

	if (read(tfd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return fail("read timerfd");
	return (int64_t)n;
}

static int run_ticks(double period_s, double secs, uint64_t *ticks, double *cpu)
{
	int tfd = timer_start(period_s);
	double end = clock_s(CLOCK_MONOTONIC) + secs, c0;

	if (tfd < 0)
		return -1;
	c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	*ticks = 0;
	while (clock_s(CLOCK_MONOTONIC) < end) {
		if (tick(tfd) < 0) {
			close(tfd);
			return -1;
		}
		++*ticks;
	}
	*cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	close(tfd);
	return 0;
}

struct raw_exchange {
	int fd, ep;
	const char *req;
	size_t len;
};

/* One POST and its whole answer, the answer awaited in epoll_wait. */
static int exchange(void *ctx)
{
	const struct raw_exchange *x = ctx;
	char buf[512];
	size_t got = 0;
	struct epoll_event ev;
	ssize_t n;

	if (send(x->fd, x->req, x->len, 0) != (ssize_t)x->len)
		return fail("send");
	while (got < sizeof(ANSWER) - 1) {
		if (epoll_wait(x->ep, &ev, 1, 5000) != 1)
			return fail("no answer");
		n = recv(x->fd, buf, sizeof(buf), 0);
		if (n <= 0)
			return fail("recv");
		got += (size_t)n;
	}
	return got == sizeof(ANSWER) - 1 ? 0 : fail("a longer answer than sent");
}

/* A run's one exchange: 0, or -1 on any failure. */
typedef int (*exchange_fn)(void *ctx);

/* Every period_s for secs seconds, batch exchanges one after the other
 * (one student's lane): their number and the process's CPU over them. */
static int timed_batches(double period_s, unsigned batch, double secs, exchange_fn fn,
			 void *ctx, uint64_t *reqs, double *cpu)
{
	int tfd = timer_start(period_s), rc = -1;
	double end, c0;
	unsigned i;

	if (tfd < 0)
		return -1;
	*reqs = 0;
	end = clock_s(CLOCK_MONOTONIC) + secs;
	c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	while (clock_s(CLOCK_MONOTONIC) < end) {
		if (tick(tfd) < 0)
			goto out;
		for (i = 0; i < batch; i++, ++*reqs)
			if (fn(ctx) < 0)
				goto out;
	}
	*cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	rc = 0;
out:
	close(tfd);
	return rc;
}

/* A forked server on a loopback port: its pid, or -1. */
static pid_t server_start(struct sockaddr_in *sa)
{
	socklen_t sl = sizeof(*sa);
	pid_t pid;
	int lfd;

	*sa = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return fail("socket");
	if (bind(lfd, (struct sockaddr *)sa, sizeof(*sa)) < 0 || listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)sa, &sl) < 0) {
		fail("listen on loopback");
		close(lfd);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(lfd);
		return fail("fork");
	}
	if (pid == 0)
		serve(lfd);
	close(lfd);
	return pid;
}

/* Reaps the server (killed first when the run failed); its CPU, or -1. */
static double server_stop(pid_t pid, int rc)
{
	struct rusage ru;
	int st;

	if (rc < 0)
		kill(pid, SIGKILL);
	if (wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (rc == 0)
			fprintf(stderr, "wakefloor: the server failed\n");
		return -1;
	}
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void make_body(char *body)
{
	memset(body, 'x', BODY_BYTES);
	body[BODY_BYTES] = '\0';
}

static int run_exchanges(double period_s, unsigned batch, double secs, uint64_t *reqs,
			 double *cpu, double *server_cpu)
{
	struct sockaddr_in sa;
	struct epoll_event ev = {.events = EPOLLIN};
	char body[BODY_BYTES + 1], req[1024];
	int fd = -1, ep = -1, rc = -1, len;
	pid_t pid;

	make_body(body);
	len = snprintf(req, sizeof(req),
		       "POST /api/os-1/hw1/202012345/logs/run HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		       "Accept: */*\r\nContent-Type: application/json\r\n"
		       "Idempotency-Key: 0123456789abcdef0123456789abcdef-123456\r\n"
		       "Content-Length: %d\r\n\r\n%s", BODY_BYTES, body);
	pid = server_start(&sa);
	if (pid < 0)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fail("connect");
		goto out;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		fail("epoll");
		goto out;
	}
	if (timed_batches(period_s, batch, secs, exchange,
			  &(struct raw_exchange){fd, ep, req, (size_t)len}, reqs, cpu) < 0)
		goto out;
	rc = 0;
out:
	if (ep >= 0)
		close(ep);
	if (fd >= 0)
		close(fd);
	*server_cpu = server_stop(pid, rc);
	return *server_cpu < 0 ? -1 : rc;
}

/* --- the same exchanges through libcurl's multi interface ----------------- */

struct curl_loop {
	int ep;
	long timeout_ms;   /* libcurl's timer: -1 none, 0 now */
};

/* libcurl says which socket it waits on and for what; the loop's epoll set
 * follows (as libev's watchers do for the forwarder). */
static int curl_socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct curl_loop *cl = userp;
	struct epoll_event ev = {.data.fd = s};

	(void)e;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(cl->ep, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(cl->ep, EPOLL_CTL_MOD, s, &ev) < 0 &&
	    (errno != ENOENT || epoll_ctl(cl->ep, EPOLL_CTL_ADD, s, &ev) < 0))
		return -1;
	return 0;
}

static int curl_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	(void)m;
	((struct curl_loop *)userp)->timeout_ms = timeout_ms;
	return 0;
}

static size_t curl_discard(char *p, size_t size, size_t n, void *u)
{
	(void)p;
	(void)u;
	return size * n;
}

struct curl_exchange_ctx {
	CURLM *m;
	CURL *e;
	struct curl_loop *cl;
};

/* One POST through the multi handle, driven by epoll until it is done. */
static int curl_exchange(void *ctx)
{
	const struct curl_exchange_ctx *x = ctx;
	CURLM *m = x->m;
	CURL *e = x->e;
	struct curl_loop *cl = x->cl;
	struct epoll_event evs[8];
	int running, n, i, left;
	long status = 0;
	CURLMsg *msg;

	if (curl_multi_add_handle(m, e) != CURLM_OK)
		return fail("curl_multi_add_handle");
	for (;;) {
		if (cl->timeout_ms == 0) {
			cl->timeout_ms = -1;
			curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
		} else {
			n = epoll_wait(cl->ep, evs, 8, cl->timeout_ms < 0 ? 5000 : (int)cl->timeout_ms);
			if (n < 0 && errno != EINTR)
				break;
			if (n == 0)
				curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
			for (i = 0; i < n; i++)
				curl_multi_socket_action(m, evs[i].data.fd,
							 (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
							 (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0),
							 &running);
		}
		while ((msg = curl_multi_info_read(m, &left)))
			if (msg->msg == CURLMSG_DONE) {
				CURLcode res = msg->data.result;

				curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
				curl_multi_remove_handle(m, e);
				if (res != CURLE_OK || status != 200) {
					fprintf(stderr, "wakefloor: curl: %s, status %ld\n",
						curl_easy_strerror(res), status);
					return -1;
				}
				return 0;
			}
	}
	curl_multi_remove_handle(m, e);
	return fail("epoll_wait");
}

static int run_curl(double period_s, unsigned batch, double secs, uint64_t *reqs, double *cpu)
{
	/* The forwarder's headers (forwarder/delivery/deliver_transfer.c). */
	static const char *const headers[] = {
		"Content-Type: application/json", "Expect:",
		"Idempotency-Key: 0123456789abcdef0123456789abcdef-123456", NULL,
	};
	struct curl_loop cl = {.ep = -1, .timeout_ms = -1};
	struct curl_slist *hdrs = NULL, *t;
	struct sockaddr_in sa;
	char body[BODY_BYTES + 1], url[96];
	CURLM *m = NULL;
	CURL *e = NULL;
	struct curl_exchange_ctx x = {.cl = &cl};
	int rc = -1;
	pid_t pid;

	make_body(body);
	pid = server_start(&sa);
	if (pid < 0)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/os-1/hw1/202012345/logs/run",
		 (unsigned)ntohs(sa.sin_port));
	cl.ep = epoll_create1(EPOLL_CLOEXEC);
	m = curl_multi_init();
	e = curl_easy_init();
	if (cl.ep < 0 || !m || !e) {
		fail("epoll or curl init");
		goto out;
	}
	for (const char *const *h = headers; *h; h++) {
		if (!(t = curl_slist_append(hdrs, *h))) {
			fail("curl_slist_append");
			goto out;
		}
		hdrs = t;
	}
	curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
	curl_multi_setopt(m, CURLMOPT_SOCKETDATA, &cl);
	curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(m, CURLMOPT_TIMERDATA, &cl);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "jcw-forwarder/" JCW_VERSION);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)BODY_BYTES);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, curl_discard);
	x.m = m;
	x.e = e;
	/* The first exchange opens the connection, outside the measure. */
	if (curl_exchange(&x) < 0 || timed_batches(period_s, batch, secs, curl_exchange, &x, reqs, cpu) < 0)
		goto out;
	rc = 0;
out:
	if (e)
		curl_easy_cleanup(e);
	if (m)
		curl_multi_cleanup(m);
	curl_slist_free_all(hdrs);
	if (cl.ep >= 0)
		close(cl.ep);
	if (server_stop(pid, rc) < 0)
		return -1;
	return rc;
}

int main(int argc, char **argv)
{
	double rate = 1000, secs = 10, period, cpu_t, cpu_x, cpu_s, cpu_c;
	uint64_t ticks, reqs, creqs;
	unsigned batch = 5;
	int opt;

	while ((opt = getopt(argc, argv, "r:b:t:")) != -1) {
		switch (opt) {
		case 'r': rate = atof(optarg); break;
		case 'b': batch = (unsigned)atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		default:
			fprintf(stderr, "usage: wakefloor [-r RATE] [-b BATCH] [-t SECS]\n");
			return 2;
		}
	}
	if (!(rate > 0) || batch == 0 || !(secs > 0)) {
		fprintf(stderr, "wakefloor: RATE, BATCH and SECS must be positive\n");
		return 2;
	}
	period = batch / rate;
	if (run_ticks(period, secs, &ticks, &cpu_t) < 0 ||
	    run_exchanges(period, batch, secs, &reqs, &cpu_x, &cpu_s) < 0)
		return 1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "wakefloor: curl_global_init failed\n");
		return 1;
	}
	if (run_curl(period, batch, secs, &creqs, &cpu_c) < 0) {
		curl_global_cleanup();
		return 1;
	}
	curl_global_cleanup();
	if (!ticks || !reqs || !creqs) {
		fprintf(stderr, "wakefloor: nothing was measured\n");
		return 1;
	}
	printf("{\"rate\":%g,\"batch\":%u,\"ticks\":%llu,\"tick_us\":%.2f,\"requests\":%llu,"
	       "\"per_request_us\":%.2f,\"server_per_request_us\":%.2f,"
	       "\"curl_requests\":%llu,\"curl_per_request_us\":%.2f}\n",
	       rate, batch, (unsigned long long)ticks, cpu_t * 1e6 / (double)ticks,
	       (unsigned long long)reqs, cpu_x * 1e6 / (double)reqs, cpu_s * 1e6 / (double)reqs,
	       (unsigned long long)creqs, cpu_c * 1e6 / (double)creqs);
	return 0;
}
