/* The forwarder's app, whole, in process: a capture replayed through
 * app_new/app_start/ev_run with the config's own parser, and what its
 * routing (app_route.c) makes of each kind of frame: a compile and a run
 * of a student reported, a process of another host filtered, an exit
 * without its exec counted, an exec the kernel did not record dropped
 * with its exit, a Lost frame in the stream; and the dataset written
 * beside an API that never answers. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "exec_fixture.h"
#include "fdio.h"
#include "frame.h"
#include "jcw.pb-c.h"
#include "log.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/jcw-app-test.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	log_threshold = LOG_LVL_ERROR;
	setenv("ALLOW_ROOT", "true", 1);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(app, .init = setup, .fini = teardown);

static void put(int fd, Jcw__Frame *f, uint64_t seq)
{
	uint8_t *buf;
	size_t len, off = 0;
	ssize_t n;

	f->seq = seq;
	cr_assert_eq(frame_encode(f, &buf, &len), 0);
	while (off < len) {
		n = write(fd, buf + off, len - off);
		cr_assert_gt(n, 0);
		off += (size_t)n;
	}
	free(buf);
}

static void put_exec(int fd, uint64_t seq, struct fix_exec *x)
{
	Jcw__Frame f = JCW__FRAME__INIT;

	f.body_case = JCW__FRAME__BODY_EXEC;
	f.exec = &x->exec;
	put(fd, &f, seq);
}

static void put_exit(int fd, uint64_t seq, struct fix_exec *x)
{
	Jcw__Frame f = JCW__FRAME__INIT;

	f.body_case = JCW__FRAME__BODY_EXIT;
	f.exit = &x->exit;
	put(fd, &f, seq);
}

/* The session: seq 2.. in order. */
static void write_session(const char *path)
{
	static const char *const cc[] = {"gcc", "main.c", "-o", "main", NULL};
	static const char *const run[] = {"./main", NULL};
	static const char *const other[] = {"gcc", "x.c", NULL};
	static const char *const again[] = {"./main", "again", NULL};
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Hello h = JCW__HELLO__INIT;
	Jcw__Lost l = JCW__LOST__INIT;
	struct fix_exec a, b, c, d, orphan;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(capture_write_header(fd), 0);
	h.format_version = 2;
	h.boot_id = "bootapp";
	h.first_seq = 1;
	f.body_case = JCW__FRAME__BODY_HELLO;
	f.hello = &h;
	put(fd, &f, 1);
	fix_init(&a, "jcode-os-1-202012345", "/usr/bin/gcc", "/home/coder/project/hw1", cc);
	put_exec(fd, 2, &a);
	put_exit(fd, 3, &a);
	fix_init(&b, "jcode-os-1-202012345", "/home/coder/project/hw1/main",
		 "/home/coder/project/hw1", run);
	b.exec.tgid = b.exit.tgid = 4300;
	b.exit.exit_code = 1;
	put_exec(fd, 4, &b);
	put_exit(fd, 5, &b);
	/* Not a student's container. */
	fix_init(&c, "build-server", "/usr/bin/gcc", "/home/coder/project/hw1", other);
	c.exec.tgid = c.exit.tgid = 4400;
	put_exec(fd, 6, &c);
	put_exit(fd, 7, &c);
	/* An exit whose exec never came. */
	fix_init(&orphan, "jcode-os-1-202012345", "/usr/bin/gcc", "/home/coder/project/hw1", cc);
	orphan.exit.tgid = 4500;
	put_exit(fd, 8, &orphan);
	/* An exec the kernel could not record (over the container's share):
	 * the earlier exec of that process is not what it ran. */
	fix_init(&d, "jcode-os-1-202012345", "/home/coder/project/hw1/main",
		 "/home/coder/project/hw1", again);
	d.exec.tgid = d.exit.tgid = 4600;
	d.exit.unrecorded_exec = true;
	put_exec(fd, 9, &d);
	put_exit(fd, 10, &d);
	l.source = JCW__LOST_SOURCE__LOST_KERNEL_RINGBUF;
	l.count = 7;
	f.body_case = JCW__FRAME__BODY_LOST;
	f.lost = &l;
	put(fd, &f, 11);
	close(fd);
}

static void stop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	app_shutdown(w->data, "the test's time is up");
}

/* Runs the forwarder on argv to its end, or until stop_s seconds have
 * passed (> 0) as a SIGTERM would, stdout into out. */
static int run_forwarder(int argc, char **argv, const char *out, double stop_s)
{
	ev_timer stop;
	struct fwd_config cfg;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct app *a = NULL;
	const char *action;
	char err[512];
	int saved = dup(1), fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600), status;

	cr_assert_eq(config_load(&cfg, argc, argv, &action, err, sizeof(err)), 0, "%s", err);
	cr_assert_geq(fd, 0);
	fflush(stdout);
	dup2(fd, 1);
	close(fd);
	cr_assert_eq(app_new(loop, &cfg, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(app_start(a, err, sizeof(err)), 0, "%s", err);
	ev_timer_init(&stop, stop_cb, stop_s, 0.);
	stop.data = a;
	if (stop_s > 0)
		ev_timer_start(loop, &stop);
	ev_run(loop, 0);
	ev_timer_stop(loop, &stop);
	status = app_exit_status(a);
	app_free(a);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	config_free(&cfg);
	ev_loop_destroy(loop);
	return status;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	cr_assert_geq(fd, 0, "%s", path);
	n = fd_read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	return buf;
}

static int count(const char *s, const char *what)
{
	int n = 0;

	for (; (s = strstr(s, what)); s++)
		n++;
	return n;
}

Test(app, replay_routes_each_frame)
{
	char cap[128], out[128];
	char *argv[] = {"jcw-forwarder", "--replay", cap, "--print", "--metrics-port", "0",
			"--snapshots=false", "--stderr", "off", NULL};
	char *text;

	snprintf(cap, sizeof(cap), "%s/session.cap", dir);
	snprintf(out, sizeof(out), "%s/out.jsonl", dir);
	write_session(cap);
	cr_assert_eq(run_forwarder((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, out, 0), 0);
	text = slurp(out);
	/* The compile and the run of the student, nothing else. */
	cr_assert_eq(count(text, "\n"), 2, "%s", text);
	cr_assert_eq(count(text, "/api/os-1/hw1/202012345/logs/build"), 1, "%s", text);
	cr_assert_eq(count(text, "/api/os-1/hw1/202012345/logs/run"), 1, "%s", text);
	cr_assert(strstr(text, "bootapp-3"), "the compile's event id is its exit's: %s", text);
	cr_assert(strstr(text, "bootapp-5"), "%s", text);
	cr_assert_null(strstr(text, "x.c"), "another host's compile is filtered: %s", text);
	cr_assert_null(strstr(text, "again"), "an unrecorded exec's exit is dropped: %s", text);
}

/* The dataset is written while the API never answers: the events wait
 * for the API in the outbox, and their lines are already in the part.
 * A replay waits for its events' delivery, so it is stopped (as SIGTERM
 * would) once they had time to be written. */
Test(app, dataset_beside_a_dead_api)
{
	char cap[128], out[128], state[128], ds[128], parts[192], cmd[320];
	char *argv[] = {"jcw-forwarder", "--replay", cap, "--api-server", "http://127.0.0.1:9",
			"--state-dir", state, "--progsnap2-dir", ds, "--node-name", "n1",
			"--metrics-port", "0", "--snapshots=false", "--shutdown-grace", "0.3",
			"--api-timeout", "0.2", NULL};
	char *text;

	snprintf(cap, sizeof(cap), "%s/session.cap", dir);
	snprintf(out, sizeof(out), "%s/out.txt", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(ds, sizeof(ds), "%s/ds", dir);
	snprintf(parts, sizeof(parts), "%s/ds/parts/n1", dir);
	write_session(cap);
	run_forwarder((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, out, 1.0);
	snprintf(cmd, sizeof(cmd), "cat %s/*.jsonl > %s/all.jsonl", parts, dir);
	cr_assert_eq(system(cmd), 0);
	snprintf(out, sizeof(out), "%s/all.jsonl", dir);
	text = slurp(out);
	cr_assert_eq(count(text, "\n"), 2, "both events in the part: %s", text);
	cr_assert_eq(count(text, "{\"event_id\":\"bootapp-3\",\"endpoint\":\"build\""), 1, "%s", text);
	cr_assert_eq(count(text, "{\"event_id\":\"bootapp-5\",\"endpoint\":\"run\""), 1, "%s", text);
}
