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
 *             forwarder does: the CPU of a tick's share and one exchange.
 * CPU is the process's own (CLOCK_PROCESS_CPUTIME_ID, which the kernel
 * counts exactly); the server's, from its rusage, is shown apart. Prints
 * one JSON line:
 *   {"rate":R,"batch":B,"ticks":N,"tick_us":T,"requests":M,
 *    "per_request_us":P,"server_per_request_us":S}
 * Exit status 1 on any failure (a short answer, a refused connection). */
#include <arpa/inet.h>
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

/* One POST and its whole answer, the answer awaited in epoll_wait. */
static int exchange(int fd, int ep, const char *req, size_t len)
{
	char buf[512];
	size_t got = 0;
	struct epoll_event ev;
	ssize_t n;

	if (send(fd, req, len, 0) != (ssize_t)len)
		return fail("send");
	while (got < sizeof(ANSWER) - 1) {
		if (epoll_wait(ep, &ev, 1, 5000) != 1)
			return fail("no answer");
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			return fail("recv");
		got += (size_t)n;
	}
	return got == sizeof(ANSWER) - 1 ? 0 : fail("a longer answer than sent");
}

static int run_exchanges(double period_s, unsigned batch, double secs, uint64_t *reqs,
			 double *cpu, double *server_cpu)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	struct epoll_event ev = {.events = EPOLLIN};
	char body[BODY_BYTES + 1], req[1024];
	int lfd, fd = -1, ep = -1, tfd = -1, st, rc = -1, len;
	double end, c0;
	struct rusage ru;
	pid_t pid;
	unsigned i;

	memset(body, 'x', BODY_BYTES);
	body[BODY_BYTES] = '\0';
	len = snprintf(req, sizeof(req),
		       "POST /api/os-1/hw1/202012345/logs/run HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		       "Accept: */*\r\nContent-Type: application/json\r\n"
		       "Idempotency-Key: 0123456789abcdef0123456789abcdef-123456\r\n"
		       "Content-Length: %d\r\n\r\n%s", BODY_BYTES, body);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return fail("socket");
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
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
	tfd = timer_start(period_s);
	if (tfd < 0)
		goto out;
	*reqs = 0;
	end = clock_s(CLOCK_MONOTONIC) + secs;
	c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	while (clock_s(CLOCK_MONOTONIC) < end) {
		if (tick(tfd) < 0)
			goto out;
		for (i = 0; i < batch; i++, ++*reqs)
			if (exchange(fd, ep, req, (size_t)len) < 0)
				goto out;
	}
	*cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	rc = 0;
out:
	if (tfd >= 0)
		close(tfd);
	if (ep >= 0)
		close(ep);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		kill(pid, SIGKILL);
	if (wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (rc == 0)
			fprintf(stderr, "wakefloor: the server failed\n");
		return -1;
	}
	*server_cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	return rc;
}

int main(int argc, char **argv)
{
	double rate = 1000, secs = 10, period, cpu_t, cpu_x, cpu_s;
	uint64_t ticks, reqs;
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
	if (!ticks || !reqs) {
		fprintf(stderr, "wakefloor: nothing was measured\n");
		return 1;
	}
	printf("{\"rate\":%g,\"batch\":%u,\"ticks\":%llu,\"tick_us\":%.2f,\"requests\":%llu,"
	       "\"per_request_us\":%.2f,\"server_per_request_us\":%.2f}\n",
	       rate, batch, (unsigned long long)ticks, cpu_t * 1e6 / (double)ticks,
	       (unsigned long long)reqs, cpu_x * 1e6 / (double)reqs, cpu_s * 1e6 / (double)reqs);
	return 0;
}
