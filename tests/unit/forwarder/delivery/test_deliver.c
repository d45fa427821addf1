/* Delivery against a real HTTP server: tests/tools/apiserver.py runs as a
 * subprocess on a free loopback port and records every request it gets; an
 * ev loop drives a deliver instance until the expected outcomes arrive (or a
 * guard timer fails the test). Time appears only in bounds and guards. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>

#include "delivery/deliver.h"
#include "json.h"
#include "log.h"

#define APISERVER "tests/tools/apiserver.py"
#define MAX_RESULTS 64

/* --- the recording server ------------------------------------------------- */

struct server {
	pid_t pid;
	int port;
	char dir[64];
	char log[96];
};

static struct server S;

static bool have_python3(void)
{
	const char *path = getenv("PATH");
	char buf[4096], *save = NULL, *dir;
	char exe[4200];

	snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/bin:/bin");
	for (dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(exe, sizeof(exe), "%s/python3", dir);
		if (access(exe, X_OK) == 0)
			return true;
	}
	return false;
}

/* Starts the server (port 0 = any) with extra flags; it prints its port. */
static void server_start(struct server *s, int port, const char *const *extra)
{
	const char *argv[32];
	char portarg[16];
	int n = 0, fds[2];
	char line[32] = "";
	ssize_t got = 0;

	cr_assert_eq(access(APISERVER, R_OK), 0,
		     "%s not found: run the tests from the repository root", APISERVER);
	cr_assert_eq(pipe(fds), 0);
	snprintf(portarg, sizeof(portarg), "%d", port);
	argv[n++] = "python3";
	argv[n++] = APISERVER;
	argv[n++] = "--log";
	argv[n++] = s->log;
	argv[n++] = "--port";
	argv[n++] = portarg;
	for (; extra && *extra && n < 30; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	s->pid = fork();
	cr_assert_neq(s->pid, -1);
	if (s->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);   /* never outlive a crashed test */
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	/* Readiness: the port line comes after bind, listen and log open. */
	for (;;) {
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		ssize_t r;

		if (strchr(line, '\n') || poll(&p, 1, 15000) <= 0)
			break;
		r = read(fds[0], line + got, sizeof(line) - 1 - (size_t)got);
		if (r <= 0)
			break;
		got += r;
		line[got] = '\0';
	}
	close(fds[0]);
	s->port = atoi(line);
	cr_assert_gt(s->port, 0, "apiserver did not report its port (got \"%s\")", line);
}

static void server_stop(struct server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

static void setup(void)
{
	if (!have_python3())
		cr_skip_test("python3 not found: delivery tests need it for " APISERVER);
	/* The server is on loopback; a proxy from the environment must not
	 * get in between. */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	log_init("test_deliver", LOG_LVL_WARN);
	snprintf(S.dir, sizeof(S.dir), "/tmp/jcw-deliver-XXXXXX");
	cr_assert_not_null(mkdtemp(S.dir));
	snprintf(S.log, sizeof(S.log), "%s/requests.jsonl", S.dir);
}

static void teardown(void)
{
	server_stop(&S);
	if (S.log[0])
		unlink(S.log);
	if (S.dir[0])
		rmdir(S.dir);
}

/* --- the recorded requests ------------------------------------------------ */

struct logged {
	char **lines;
	size_t n;
};

static struct logged read_log(void)
{
	struct logged l = {0};
	FILE *f = fopen(S.log, "r");
	char *line = NULL;
	size_t cap = 0;

	cr_assert_not_null(f, "no request log at %s", S.log);
	while (getline(&line, &cap, f) > 0) {
		l.lines = realloc(l.lines, (l.n + 1) * sizeof(*l.lines));
		cr_assert_not_null(l.lines);
		l.lines[l.n++] = strdup(line);
	}
	free(line);
	fclose(f);
	return l;
}

static void logged_free(struct logged *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->lines[i]);
	free(l->lines);
}

/* The JSON text of a top-level field of a log line (the server writes the
 * top-level fields before the headers and the parsed body), in a static
 * buffer: a number, true/false/null, or a "string" with its quotes. */
static const char *field(const char *line, const char *key)
{
	static char out[4096];
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(line, pat);
	if (!p)
		return "";
	p += strlen(pat);
	if (*p == '"') {
		for (e = p + 1; *e && *e != '"'; e++)
			if (*e == '\\' && e[1])
				e++;
		if (*e)
			e++;
	} else {
		e = p + strcspn(p, ",}");
	}
	snprintf(out, sizeof(out), "%.*s", (int)(e - p), p);
	return out;
}

static char *quoted(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	json_put_cstr(&sb, s);
	return strbuf_detach(&sb, NULL);
}

/* --- running a deliver instance ------------------------------------------- */

struct run {
	struct ev_loop *loop;
	struct deliver *d;
	ev_timer guard;
	bool timed_out;
	unsigned want, got;
	enum deliver_outcome outcome[MAX_RESULTS];
	long status[MAX_RESULTS];
	char *event_id[MAX_RESULTS];
};

static void on_result(void *arg, const struct api_request *req,
		      enum deliver_outcome o, long status)
{
	struct run *r = arg;

	if (r->got < MAX_RESULTS) {
		r->outcome[r->got] = o;
		r->status[r->got] = status;
		r->event_id[r->got] = strdup(req->event_id);
	}
	if (++r->got >= r->want)
		ev_break(r->loop, EVBREAK_ALL);
}

static void guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct run *r = w->data;

	(void)revents;
	r->timed_out = true;
	ev_break(loop, EVBREAK_ALL);
}

static struct deliver_config default_config(struct run *r)
{
	return (struct deliver_config){
		.timeout_s = 3,
		.max_inflight = 4,
		.queue_max = 100,
		.backoff_base_s = 0.02,
		.backoff_cap_s = 0.2,
		.on_result = on_result,
		.on_result_arg = r,
	};
}

static void run_new(struct run *r, struct deliver_config *cfg)
{
	char url[64], err[256] = "";

	memset(r, 0, sizeof(*r));
	r->want = UINT_MAX;   /* until run_until() says: shutdown tests wait for done() */
	r->loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(r->loop);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", S.port);
	if (!cfg->api_server)
		cfg->api_server = url;
	cfg->on_result_arg = r;
	cr_assert_eq(deliver_new(r->loop, cfg, &r->d, err, sizeof(err)), 0, "%s", err);
	ev_timer_init(&r->guard, guard_cb, 0., 0.);
	r->guard.data = r;
}

/* Starts the recording server with `flags`, then a deliver instance against
 * it with cfg, or with default_config() when cfg is NULL. */
static void run_start(struct run *r, const char *const *flags, struct deliver_config *cfg)
{
	struct deliver_config def;

	server_start(&S, 0, flags);
	if (!cfg) {
		def = default_config(r);
		cfg = &def;
	}
	run_new(r, cfg);
}

/* Runs the loop until something breaks it, or the guard after max_s sets
 * r->timed_out. */
static void run_guarded(struct run *r, double max_s)
{
	ev_timer_set(&r->guard, max_s, 0.);
	ev_timer_start(r->loop, &r->guard);
	ev_run(r->loop, 0);
	ev_timer_stop(r->loop, &r->guard);
}

/* Runs the loop until `want` results in total, failing after max_s. */
static void run_until(struct run *r, unsigned want, double max_s)
{
	r->want = want;
	if (r->got >= want)
		return;
	run_guarded(r, max_s);
	cr_assert(!r->timed_out, "only %u of %u results within %.1f s", r->got, want, max_s);
}

static void run_free(struct run *r)
{
	deliver_free(r->d);
	ev_loop_destroy(r->loop);
	for (unsigned i = 0; i < r->got && i < MAX_RESULTS; i++)
		free(r->event_id[i]);
}

static struct api_request mkreq(const char *student, const char *event_id,
				const char *body)
{
	struct api_request q = {0};
	char path[128];

	snprintf(path, sizeof(path), "/api/os-1/hw1/%s/logs/build", student);
	q.endpoint = API_BUILD_LOG;
	q.type = PROC_C_COMPILER;
	q.path = strdup(path);
	q.body = strdup(body);
	q.body_len = strlen(body);
	q.event_id = strdup(event_id);
	q.student_key = strdup(student);
	return q;
}

static void submit(struct run *r, const char *student, const char *event_id,
		   const char *body)
{
	struct api_request q = mkreq(student, event_id, body);

	cr_assert_eq(deliver_submit(r->d, &q), 0);
	cr_assert_null(q.path, "submit takes ownership");
}

/* One request of student 202012345, run until it is delivered. */
static void deliver_one(struct run *r, const char *event_id, const char *body)
{
	submit(r, "202012345", event_id, body);
	run_until(r, 1, 10);
	cr_assert_eq(r->outcome[0], DELIVER_DELIVERED);
}

TestSuite(deliver, .init = setup, .fini = teardown, .timeout = 60);

/* --- tests ------------------------------------------------------------------ */

Test(deliver, sends_exact_request)
{
	static const char body[] = "{\"timestamp\":\"2026-11-21T22:40:00.123456+00:00\","
				   "\"exit_code\":0,\"cmdline\":\"gcc -o \\\"a b\\\" x.c\","
				   "\"event_id\":\"boot-1\"}";
	struct logged l;
	struct run r;
	const struct deliver_stats *st;
	char *qbody, clen[16];

	run_start(&r, NULL, NULL);
	deliver_one(&r, "boot-1", body);
	cr_assert_eq(r.status[0], 200);
	cr_assert_str_eq(r.event_id[0], "boot-1");

	l = read_log();
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(field(l.lines[0], "method"), "\"POST\"");
	cr_assert_str_eq(field(l.lines[0], "path"), "\"/api/os-1/hw1/202012345/logs/build\"",
			 "trailing '/' of the server URL trimmed, path appended");
	cr_assert_str_eq(field(l.lines[0], "idempotency_key"), "\"boot-1\"");
	cr_assert_str_eq(field(l.lines[0], "Content-Type"), "\"application/json\"");
	snprintf(clen, sizeof(clen), "\"%zu\"", strlen(body));
	cr_assert_str_eq(field(l.lines[0], "Content-Length"), clen);
	cr_assert_str_eq(field(l.lines[0], "Expect"), "", "no 100-continue round trip");
	qbody = quoted(body);
	cr_assert_str_eq(field(l.lines[0], "body"), qbody);
	free(qbody);
	cr_assert_neq(strstr(l.lines[0], "\"json\": {"), NULL, "body parsed as JSON");
	logged_free(&l);

	st = deliver_stats(r.d);
	cr_assert_eq(st->requests[API_BUILD_LOG][200], 1);
	cr_assert_eq(st->delivered, 1);
	cr_assert_eq(st->retries, 0);
	cr_assert_eq(st->duration[API_BUILD_LOG].count, 1);
	cr_assert_eq(st->duration[API_BUILD_LOG].le[DELIVER_HIST_BUCKETS - 1], 1);
	cr_assert_gt(st->last_success_unix, 1.6e9);
	cr_assert_eq(st->inflight, 0);
	cr_assert_eq(st->queued, 0);
	run_free(&r);
}

Test(deliver, reuses_the_connection)
{
	struct deliver_config cfg;
	struct logged l;
	struct run r;
	char id[16], *first_port;

	cfg = default_config(&r);
	cfg.max_inflight = 1;
	run_start(&r, NULL, &cfg);
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "b-%d", i);
		submit(&r, "202012345", id, "{}");
	}
	run_until(&r, 5, 10);
	l = read_log();
	cr_assert_eq(l.n, 5);
	first_port = strdup(field(l.lines[0], "client_port"));
	cr_assert_gt(atoi(first_port), 0);
	for (size_t i = 1; i < l.n; i++)
		cr_assert_str_eq(field(l.lines[i], "client_port"), first_port,
				 "request %zu came on a new connection", i);
	free(first_port);
	logged_free(&l);
	run_free(&r);
}

/* One handle serves every request (max_inflight 1) and keeps its fixed
 * options between them: what differs per request (the path, the body and
 * its length, the Idempotency-Key, which an event_id that would split a
 * header does not get) must be the new request's, never the last one's. */
Test(deliver, a_reused_handle_carries_nothing_of_its_last_request)
{
	static const char *const body[] = {"{\"long\":\"0123456789abcdef\"}", "{}", "{\"x\":1}"};
	static const char *const id[] = {"key-1", "bad key", "key-3"};
	static const char *const key[] = {"\"key-1\"", "null", "\"key-3\""};
	static const char *const student[] = {"202012345", "202099999", "202012345"};
	struct deliver_config cfg;
	struct logged l;
	struct run r;
	char clen[32], want_path[80], *qbody, *first_port;

	cfg = default_config(&r);
	cfg.max_inflight = 1;
	run_start(&r, NULL, &cfg);
	for (int i = 0; i < 3; i++) {
		submit(&r, student[i], id[i], body[i]);
		run_until(&r, (unsigned)i + 1, 10);
	}
	l = read_log();
	cr_assert_eq(l.n, 3);
	for (size_t i = 0; i < l.n; i++) {
		snprintf(want_path, sizeof(want_path), "\"/api/os-1/hw1/%s/logs/build\"", student[i]);
		cr_assert_str_eq(field(l.lines[i], "path"), want_path, "request %zu", i);
		cr_assert_str_eq(field(l.lines[i], "idempotency_key"), key[i], "request %zu", i);
		snprintf(clen, sizeof(clen), "\"%zu\"", strlen(body[i]));
		cr_assert_str_eq(field(l.lines[i], "Content-Length"), clen, "request %zu", i);
		qbody = quoted(body[i]);
		cr_assert_str_eq(field(l.lines[i], "body"), qbody, "request %zu", i);
		free(qbody);
		cr_assert_str_eq(field(l.lines[i], "method"), "\"POST\"");
	}
	first_port = strdup(field(l.lines[0], "client_port"));
	cr_assert_str_eq(field(l.lines[2], "client_port"), first_port, "one connection throughout");
	free(first_port);
	logged_free(&l);
	run_free(&r);
}

Test(deliver, retries_503_with_same_key)
{
	const char *const flags[] = {"--fail-first", "1", "--fail-status", "503", NULL};
	struct logged l;
	struct run r;
	const struct deliver_stats *st;
	char *body0;

	run_start(&r, flags, NULL);
	deliver_one(&r, "boot-7", "{\"event_id\":\"boot-7\"}");

	l = read_log();
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(field(l.lines[0], "response"), "503");
	cr_assert_str_eq(field(l.lines[1], "response"), "200");
	cr_assert_str_eq(field(l.lines[0], "idempotency_key"), "\"boot-7\"");
	cr_assert_str_eq(field(l.lines[1], "idempotency_key"), "\"boot-7\"");
	body0 = strdup(field(l.lines[0], "body"));
	cr_assert_str_eq(field(l.lines[1], "body"), body0, "the same body again");
	free(body0);
	logged_free(&l);

	st = deliver_stats(r.d);
	cr_assert_eq(st->requests[API_BUILD_LOG][503], 1);
	cr_assert_eq(st->requests[API_BUILD_LOG][200], 1);
	cr_assert_eq(st->retries, 1);
	cr_assert_eq(st->delivered, 1);
	run_free(&r);
}

Test(deliver, honours_retry_after)
{
	/* Backoff alone would retry within 1 ms; Retry-After says 1 s. */
	const char *const flags[] = {"--fail-first", "1", "--fail-status", "429",
				     "--retry-after", "1", NULL};
	struct deliver_config cfg;
	struct logged l;
	struct run r;
	double t0, t1;

	cfg = default_config(&r);
	cfg.backoff_base_s = 0.001;
	cfg.backoff_cap_s = 5;
	run_start(&r, flags, &cfg);
	deliver_one(&r, "boot-8", "{}");
	l = read_log();
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(field(l.lines[0], "response"), "429");
	t0 = atof(field(l.lines[0], "time"));
	t1 = atof(field(l.lines[1], "time"));
	cr_assert_geq(t1 - t0, 0.95, "retried after %.3f s", t1 - t0);
	logged_free(&l);
	run_free(&r);
}

Test(deliver, retries_after_dropped_connection)
{
	const char *const flags[] = {"--drop-first", "1", NULL};
	struct logged l;
	struct run r;
	const struct deliver_stats *st;

	run_start(&r, flags, NULL);
	deliver_one(&r, "boot-9", "{}");
	l = read_log();
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(field(l.lines[0], "response"), "\"drop\"");
	cr_assert_str_eq(field(l.lines[1], "response"), "200");
	cr_assert_str_eq(field(l.lines[1], "idempotency_key"), "\"boot-9\"");
	logged_free(&l);
	st = deliver_stats(r.d);
	cr_assert_eq(st->requests[API_BUILD_LOG][DELIVER_CODE_ERROR], 1);
	cr_assert_eq(st->retries, 1);
	run_free(&r);
}

Test(deliver, does_not_retry_422)
{
	const char *const flags[] = {"--reject-marker", "BAD", NULL};
	struct deliver_config cfg;
	struct logged l;
	struct run r;
	const struct deliver_stats *st;

	cfg = default_config(&r);
	cfg.max_inflight = 1;
	run_start(&r, flags, &cfg);
	submit(&r, "202012345", "bad-1", "{\"exit_code\":\"BAD\"}");
	submit(&r, "202012345", "good-1", "{\"exit_code\":0}");
	run_until(&r, 2, 10);
	cr_assert_eq(r.outcome[0], DELIVER_REJECTED);
	cr_assert_eq(r.status[0], 422);
	cr_assert_str_eq(r.event_id[0], "bad-1");
	cr_assert_eq(r.outcome[1], DELIVER_DELIVERED,
		     "the student's next request goes on after a rejection");
	l = read_log();
	cr_assert_eq(l.n, 2, "the rejected request was sent once");
	cr_assert_str_eq(field(l.lines[0], "response"), "422");
	logged_free(&l);
	st = deliver_stats(r.d);
	cr_assert_eq(st->rejected, 1);
	cr_assert_eq(st->retries, 0);
	cr_assert_eq(st->requests[API_BUILD_LOG][422], 1);
	run_free(&r);
}

/* Student A's first request fails with Retry-After 1 s: B's request goes
 * meanwhile, and A's later requests wait behind A's first. One transfer at
 * a time, so the server sees them in a known order. */
Test(deliver, student_order_holds_across_a_retry)
{
	const char *const flags[] = {"--fail-first", "1", "--retry-after", "1", NULL};
	static const char *const expect[][2] = {
		{"\"a-1\"", "503"}, {"\"b-1\"", "200"}, {"\"a-1\"", "200"},
		{"\"a-2\"", "200"}, {"\"a-3\"", "200"},
	};
	struct deliver_config cfg;
	struct logged l;
	struct run r;

	cfg = default_config(&r);
	cfg.max_inflight = 1;
	cfg.backoff_cap_s = 2;
	run_start(&r, flags, &cfg);
	submit(&r, "A", "a-1", "{}");
	submit(&r, "A", "a-2", "{}");
	submit(&r, "A", "a-3", "{}");
	submit(&r, "B", "b-1", "{}");
	run_until(&r, 4, 15);
	cr_assert_str_eq(r.event_id[0], "b-1", "B is not held up by A's retry");
	cr_assert_str_eq(r.event_id[1], "a-1");
	cr_assert_str_eq(r.event_id[2], "a-2");
	cr_assert_str_eq(r.event_id[3], "a-3");
	l = read_log();
	cr_assert_eq(l.n, 5);
	for (size_t i = 0; i < l.n; i++) {
		cr_assert_str_eq(field(l.lines[i], "idempotency_key"), expect[i][0],
				 "request %zu", i);
		cr_assert_str_eq(field(l.lines[i], "response"), expect[i][1],
				 "request %zu", i);
	}
	logged_free(&l);
	run_free(&r);
}

/* Many students, several transfers at once, dropped connections: for every
 * student the server sees request k+1 only after request k was committed. */
Test(deliver, student_order_holds_under_concurrency)
{
	enum { STUDENTS = 6, PER = 4 };
	const char *const flags[] = {"--drop-first", "3", "--commit-then-drop", "2", NULL};
	struct logged l;
	struct run r;
	char student[16], id[32];
	int next[STUDENTS] = {0}, committed_upto[STUDENTS];

	run_start(&r, flags, NULL);
	for (int k = 0; k < PER; k++)
		for (int s = 0; s < STUDENTS; s++) {
			snprintf(student, sizeof(student), "20201%04d", s);
			snprintf(id, sizeof(id), "s%d-%d", s, k);
			submit(&r, student, id, "{}");
		}
	run_until(&r, STUDENTS * PER, 20);
	for (unsigned i = 0; i < r.got; i++)
		cr_assert_eq(r.outcome[i], DELIVER_DELIVERED);
	for (int s = 0; s < STUDENTS; s++)
		committed_upto[s] = -1;
	l = read_log();
	cr_assert_geq(l.n, STUDENTS * PER + 5);
	for (size_t i = 0; i < l.n; i++) {
		int s, k;

		cr_assert_eq(sscanf(field(l.lines[i], "idempotency_key"), "\"s%d-%d\"", &s, &k), 2);
		cr_assert(s >= 0 && s < STUDENTS && k >= 0 && k < PER);
		cr_assert(k == next[s] || (k == next[s] + 1 && committed_upto[s] == next[s]),
			  "student %d: request %d arrived while request %d was not committed",
			  s, k, next[s]);
		next[s] = k;
		if (!strcmp(field(l.lines[i], "committed"), "true"))
			committed_upto[s] = k;
	}
	for (int s = 0; s < STUDENTS; s++)
		cr_assert_eq(committed_upto[s], PER - 1);
	logged_free(&l);
	run_free(&r);
}

Test(deliver, retries_a_timeout)
{
	const char *const flags[] = {"--delay", "2", "--delay-first", "1", NULL};
	struct deliver_config cfg;
	struct logged l;
	struct run r;
	const struct deliver_stats *st;

	cfg = default_config(&r);
	cfg.timeout_s = 0.3;
	run_start(&r, flags, &cfg);
	deliver_one(&r, "slow-1", "{}");
	st = deliver_stats(r.d);
	cr_assert_eq(st->requests[API_BUILD_LOG][DELIVER_CODE_ERROR], 1, "the timeout");
	cr_assert_eq(st->requests[API_BUILD_LOG][200], 1);
	cr_assert_eq(st->retries, 1);
	l = read_log();
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(field(l.lines[0], "idempotency_key"), "\"slow-1\"");
	cr_assert_str_eq(field(l.lines[1], "idempotency_key"), "\"slow-1\"");
	logged_free(&l);
	run_free(&r);
}

Test(deliver, full_queue_refuses)
{
	struct deliver_config cfg;
	struct api_request q;
	struct run r;
	const struct deliver_stats *st;

	cfg = default_config(&r);
	cfg.max_inflight = 1;
	cfg.queue_max = 2;
	run_start(&r, NULL, &cfg);
	submit(&r, "A", "q-1", "{}");   /* in flight at once */
	submit(&r, "B", "q-2", "{}");
	submit(&r, "C", "q-3", "{}");
	st = deliver_stats(r.d);
	cr_assert_eq(st->inflight, 1);
	cr_assert_eq(st->queued, 2);
	q = mkreq("D", "q-4", "{}");
	cr_assert_eq(deliver_submit(r.d, &q), -ENOBUFS);
	cr_assert_not_null(q.path, "a refused request stays the caller's");
	cr_assert_eq(st->dropped, 1);
	run_until(&r, 3, 10);
	cr_assert_eq(deliver_submit(r.d, &q), 0, "room again once delivered");
	run_until(&r, 4, 10);
	cr_assert_eq(st->delivered, 4);
	run_free(&r);
}

static void shutdown_done(void *arg)
{
	struct run *r = arg;

	ev_break(r->loop, EVBREAK_ALL);
}

Test(deliver, shutdown_abandons_after_grace)
{
	const char *const flags[] = {"--delay", "5", NULL};
	struct api_request q;
	struct run r;
	const struct deliver_stats *st;

	run_start(&r, flags, NULL);
	submit(&r, "A", "sd-1", "{}");
	submit(&r, "A", "sd-2", "{}");
	deliver_shutdown(r.d, 0.3, shutdown_done, &r);
	q = mkreq("B", "sd-3", "{}");
	cr_assert_eq(deliver_submit(r.d, &q), -ESHUTDOWN);
	api_request_free(&q);
	run_guarded(&r, 10);
	cr_assert(!r.timed_out, "done() was not called");
	cr_assert_eq(r.got, 2);
	cr_assert_eq(r.outcome[0], DELIVER_ABANDONED);
	cr_assert_str_eq(r.event_id[0], "sd-1");
	cr_assert_eq(r.outcome[1], DELIVER_ABANDONED);
	cr_assert_str_eq(r.event_id[1], "sd-2");
	st = deliver_stats(r.d);
	cr_assert_eq(st->abandoned, 2);
	cr_assert_eq(st->dropped, 1);
	cr_assert_eq(st->inflight, 0);
	cr_assert_eq(st->queued, 0);
	run_free(&r);
}

Test(deliver, shutdown_waits_for_inflight)
{
	const char *const flags[] = {"--delay", "0.3", NULL};
	struct run r;

	run_start(&r, flags, NULL);
	submit(&r, "A", "sw-1", "{}");
	submit(&r, "A", "sw-2", "{}");
	deliver_shutdown(r.d, 5, shutdown_done, &r);
	run_guarded(&r, 10);
	cr_assert(!r.timed_out, "done() was not called");
	cr_assert_eq(r.got, 2);
	cr_assert_eq(r.outcome[0], DELIVER_DELIVERED);
	cr_assert_eq(r.outcome[1], DELIVER_DELIVERED);
	run_free(&r);
}

/* --- API down: the circuit --------------------------------------------------- */

struct restart {
	struct run *r;
	int port;
	uint64_t attempts_while_down;
	uint64_t circuit_was_open;
};

static void restart_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct restart *rs = w->data;
	const struct deliver_stats *st = deliver_stats(rs->r->d);

	(void)loop;
	(void)revents;
	rs->attempts_while_down = st->requests[API_BUILD_LOG][DELIVER_CODE_ERROR];
	rs->circuit_was_open = st->circuit_open;
	server_start(&S, rs->port, NULL);
}

Test(deliver, probes_a_down_api_then_recovers)
{
	enum { N = 10 };
	struct deliver_config cfg;
	struct restart rs;
	ev_timer restart;
	struct run r;
	char student[16], id[16];
	const struct deliver_stats *st;

	/* A port nobody listens on: start the server, note its port, stop it. */
	server_start(&S, 0, NULL);
	server_stop(&S);
	cfg = default_config(&r);
	cfg.backoff_base_s = 0.01;
	cfg.backoff_cap_s = 0.4;
	run_new(&r, &cfg);
	for (int i = 0; i < N; i++) {
		snprintf(student, sizeof(student), "2020%05d", i);
		snprintf(id, sizeof(id), "down-%d", i);
		submit(&r, student, id, "{}");
	}
	rs = (struct restart){.r = &r, .port = S.port};
	ev_timer_init(&restart, restart_cb, 2.0, 0.);
	restart.data = &rs;
	ev_timer_start(r.loop, &restart);
	run_until(&r, N, 20);
	st = deliver_stats(r.d);
	cr_assert_eq(rs.circuit_was_open, 1);
	/* Without the circuit, 10 requests retrying independently for 2 s
	 * with delays under 0.4 s make well over 50 attempts. With it: the
	 * attempts before it opened (at most threshold + in flight) and about
	 * one probe per 0.4 s. */
	cr_assert_leq(rs.attempts_while_down, 5 + 4 + 2.0 / 0.4 + 2,
		      "%llu attempts while the API was down",
		      (unsigned long long)rs.attempts_while_down);
	cr_assert_eq(st->circuit_open, 0, "a success closes the circuit");
	cr_assert_eq(st->delivered, N);
	run_free(&r);
}

/* --- configuration and submit checks (no server needed) -------------------- */

Test(deliver_config, refuses_bad_settings)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct deliver_config ok = {.api_server = "http://127.0.0.1:1", .timeout_s = 1,
				    .max_inflight = 1, .queue_max = 1,
				    .backoff_base_s = 0.1, .backoff_cap_s = 1};
	struct deliver_config c;
	struct deliver *d = NULL;
	char err[256];

	c = ok;
	c.api_server = "ftp://127.0.0.1";
	cr_assert_eq(deliver_new(loop, &c, &d, err, sizeof(err)), -EINVAL);
	cr_assert_neq(strstr(err, "ftp://127.0.0.1"), NULL, "%s", err);
	c = ok;
	c.api_server = "http://127.0.0.1:1/?x=1";
	cr_assert_eq(deliver_new(loop, &c, &d, err, sizeof(err)), -EINVAL);
	c = ok;
	c.api_server = "http://exa[mple.org";
	cr_assert_eq(deliver_new(loop, &c, &d, err, sizeof(err)), -EINVAL, "curl's URL parser");
	c = ok;
	c.max_inflight = 0;
	cr_assert_eq(deliver_new(loop, &c, &d, err, sizeof(err)), -EINVAL);
	c = ok;
	c.backoff_cap_s = 0.01;
	cr_assert_eq(deliver_new(loop, &c, &d, err, sizeof(err)), -EINVAL, "cap below base");
	cr_assert_null(d);
	ev_loop_destroy(loop);
}

Test(deliver_config, submit_refuses_a_request_without_path)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct deliver_config c = {.api_server = "http://127.0.0.1:1", .timeout_s = 1,
				   .max_inflight = 1, .queue_max = 1,
				   .backoff_base_s = 0.1, .backoff_cap_s = 1};
	struct api_request q = {.endpoint = API_RUN_LOG};
	struct deliver *d;
	char err[256];

	cr_assert_eq(deliver_new(loop, &c, &d, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(deliver_submit(d, &q), -EINVAL);
	cr_assert_eq(deliver_stats(d)->dropped, 1);
	deliver_free(d);
	ev_loop_destroy(loop);
}
