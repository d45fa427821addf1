/* snapshots: FileEvent frames to stored files and registrations, on a real
 * temporary WATCH_ROOT and SNAPSHOT_BASE, with the event clock of replays. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "snapshot/snapshots.h"

/* 2025-01-01T12:01:01Z */
#define T0 1735732861000000000ull
#define MS 1000000ull
#define POD "jcode-os-1-202012345-68d58d5b57-bp47r"

static char tmp[64], codes[128], base[128];
static struct api_request reqs[16];
static int nreq;

/* The frames snapshots holds (config.hold/release), as the outbox would. */
static char held[8][64];
static int nheld, held_at_submit;

static int held_index(const char *event_id)
{
	int i;

	for (i = 0; i < nheld; i++)
		if (!strcmp(held[i], event_id))
			return i;
	return -1;
}

static void submit(void *arg, struct api_request *req)
{
	(void)arg;
	cr_assert_lt(nreq, 16);
	if (held_index(req->event_id) >= 0)
		held_at_submit++;
	reqs[nreq++] = *req;
}

static void write_file(const char *rel, const char *content)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/os-1-202012345/%s", codes, rel);
	f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	fputs(content, f);
	fclose(f);
}

static void setup(void)
{
	char p[512];

	snprintf(tmp, sizeof(tmp), "/tmp/test_snapshots.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(codes, sizeof(codes), "%s/codes", tmp);
	snprintf(base, sizeof(base), "%s/snapshots", tmp);
	cr_assert_eq(mkdir(codes, 0755) | mkdir(base, 0755), 0);
	snprintf(p, sizeof(p), "mkdir -p '%s/os-1-202012345/hw1/src' '%s/os-1-202012345/hw2'", codes,
		 codes);
	cr_assert_eq(system(p), 0);
	log_threshold = LOG_LVL_ERROR;
	nreq = 0;
	nheld = held_at_submit = 0;
}

static void teardown(void)
{
	char cmd[128];
	int i;

	for (i = 0; i < nreq; i++)
		api_request_free(&reqs[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(snapshots, .init = setup, .fini = teardown);

static void hold(void *arg, const char *event_id, const char *boot_id, const Jcw__Frame *f)
{
	(void)arg;
	cr_assert_str_eq(boot_id, "boot");
	cr_assert_eq(f->body_case, JCW__FRAME__BODY_FILE);
	cr_assert_eq(held_index(event_id), -1, "%s held twice", event_id);
	cr_assert_lt(nheld, 8);
	snprintf(held[nheld++], sizeof(held[0]), "%s", event_id);
}

static void release(void *arg, const char *event_id)
{
	int i = held_index(event_id);

	(void)arg;
	cr_assert_geq(i, 0, "%s released but not held", event_id);
	memcpy(held[i], held[--nheld], sizeof(held[0]));
}

static struct snapshots *make(struct ev_loop *loop, const struct file_exts *exts)
{
	struct snapshots_config cfg = {
		.watch_root = codes, .container_root = "/home/coder/project",
		.snapshot_base = base, .exts = exts, .max_file_size = 1024,
		.window_s = 0.6, .max_wait_s = 3,
		.hold = hold, .release = release,
	};
	struct snapshots *s = NULL;
	char err[256];

	cr_assert_eq(snapshots_new(loop, &cfg, submit, NULL, &s, err, sizeof(err)), 0, "%s", err);
	return s;
}

static void event(struct snapshots *s, uint64_t seq, Jcw__FileEventKind kind, const char *host,
		  const char *path, const char *old, uint64_t t)
{
	Jcw__FileEvent e = JCW__FILE_EVENT__INIT;
	Jcw__Frame f = JCW__FRAME__INIT;

	e.kind = kind;
	e.hostname.data = (uint8_t *)host;
	e.hostname.len = strlen(host);
	e.path.data = (uint8_t *)path;
	e.path.len = strlen(path);
	if (old) {
		e.old_path.data = (uint8_t *)old;
		e.old_path.len = strlen(old);
	}
	e.time_unix_ns = t;
	f.seq = seq;
	f.body_case = JCW__FRAME__BODY_FILE;
	f.file = &e;
	snapshots_on_file_event(s, "boot", &f);
}

/* The stored snapshot's content, "" for an empty one, NULL if missing. */
static char *stored(const char *rel)
{
	static char buf[1100];
	char p[512];
	size_t n;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	f = fopen(p, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* A burst of saves is one snapshot of the last content, at the time of the
 * last save, under the student's id (a pod's suffix is no part of it). */
Test(snapshots, burst_of_saves_is_one_snapshot)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct snapshots *s = make(loop, NULL);
	const struct snapshots_stats *st = snapshots_stats(s);

	write_file("hw1/src/main.c", "int v3;\n");
	event(s, 2, JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE, POD, "/home/coder/project/hw1/src/main.c",
	      NULL, T0);
	/* each within DEBOUNCE_WINDOW (0.6 s) of the one before */
	event(s, 3, JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE, POD, "/home/coder/project/hw1/src/main.c",
	      NULL, T0 + 500 * MS);
	event(s, 4, JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE, POD, "/home/coder/project/hw1/src/main.c",
	      NULL, T0 + 1000 * MS);
	/* a quiet window later, the same content again: a burst of its own,
	 * and unchanged */
	event(s, 5, JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE, POD, "/home/coder/project/hw1/src/main.c",
	      NULL, T0 + 2000 * MS);
	snapshots_flush(s);
	cr_assert_eq(nreq, 1);
	cr_assert_str_eq(reqs[0].path, "/api/os-1/hw1/202012345/src%40main.c/20250101_120102");
	cr_assert_str_eq(reqs[0].event_id, "boot-4");
	cr_assert_str_eq(reqs[0].student_key, "os-1/202012345");
	cr_assert(strstr(reqs[0].body, "\"bytes\":8"), "%s", reqs[0].body);
	cr_assert_str_eq(stored("os-1/hw1/202012345/src@main.c/20250101_120102.c"), "int v3;\n");
	cr_assert_eq(st->debounced, 2);
	cr_assert_eq(st->result[SNAPSHOTS_STORED], 1);
	cr_assert_eq(st->result[SNAPSHOTS_UNCHANGED], 1);
	snapshots_free(s);
	ev_loop_destroy(loop);
}

/* A save's frame is held from the moment it waits until its registration
 * is out (a crash before that finds it in the outbox), and one folded into
 * a later save is released at once: only the burst's last is kept. */
Test(snapshots, held_frames_follow_the_waiting_saves)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct snapshots *s = make(loop, NULL);

	write_file("hw1/src/main.c", "int held;\n");
	event(s, 2, JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE, POD, "/home/coder/project/hw1/src/main.c",
	      NULL, T0);
	cr_assert_eq(nheld, 1);
	cr_assert_str_eq(held[0], "boot-2");
	event(s, 3, JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE, POD, "/home/coder/project/hw1/src/main.c",
	      NULL, T0 + 100 * MS);
	cr_assert_eq(nheld, 1);
	cr_assert_str_eq(held[0], "boot-3");
	/* A filtered file never waits, so it holds nothing. */
	event(s, 4, JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE, POD, "/home/coder/project/hw1/.hidden.c",
	      NULL, T0 + 200 * MS);
	/* A rename waits twice: the old name's deletion and the new name. */
	write_file("hw1/src/new.c", "int renamed;\n");
	event(s, 5, JCW__FILE_EVENT_KIND__FILE_RENAME, POD, "/home/coder/project/hw1/src/new.c",
	      "/home/coder/project/hw1/src/old.c", T0 + 300 * MS);
	cr_assert_eq(nheld, 3);
	snapshots_flush(s);
	cr_assert_eq(nreq, 3);
	cr_assert_eq(held_at_submit, 3, "a frame was released before its registration was out");
	cr_assert_eq(nheld, 0);
	snapshots_free(s);
	ev_loop_destroy(loop);
}

/* A deletion is always recorded, also of a file never snapshotted; a rename
 * is the deletion of the old name and a save of the new one. */
Test(snapshots, deletions_and_renames)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct snapshots *s = make(loop, NULL);

	event(s, 2, JCW__FILE_EVENT_KIND__FILE_UNLINK, POD, "/home/coder/project/hw2/old.py", NULL, T0);
	write_file("hw2/new.py", "print(1)\n");
	event(s, 3, JCW__FILE_EVENT_KIND__FILE_RENAME, POD, "/home/coder/project/hw2/new.py",
	      "/home/coder/project/hw2/draft.py", T0 + 5000 * MS);
	snapshots_flush(s);
	cr_assert_eq(nreq, 3);
	cr_assert_str_eq(reqs[0].path, "/api/os-1/hw2/202012345/old.py/20250101_120101");
	cr_assert(strstr(reqs[0].body, "\"bytes\":0") && strstr(reqs[0].body, "\"deleted\":true"),
		  "%s", reqs[0].body);
	cr_assert_str_eq(stored("os-1/hw2/202012345/old.py/20250101_120101.py"), "");
	/* the rename: its old name's deletion ("-old"), then the new name */
	cr_assert_str_eq(reqs[1].event_id, "boot-3-old");
	cr_assert_str_eq(reqs[1].path, "/api/os-1/hw2/202012345/draft.py/20250101_120106");
	cr_assert_str_eq(reqs[2].path, "/api/os-1/hw2/202012345/new.py/20250101_120106");
	cr_assert_str_eq(stored("os-1/hw2/202012345/new.py/20250101_120106.py"), "print(1)\n");
	snapshots_free(s);
	ev_loop_destroy(loop);
}

/* What is not a student's homework source is counted by its reason. */
Test(snapshots, filtered_by_reason)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct snapshots *s = make(loop, NULL);
	const struct snapshots_stats *st = snapshots_stats(s);

	event(s, 2, JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE, "buildbox", "/home/coder/project/hw1/a.c",
	      NULL, T0);
	event(s, 3, JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE, "jcode-os-x-1", "/home/coder/project/hw1/a.c",
	      NULL, T0);
	event(s, 4, JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE, POD, "/etc/passwd", NULL, T0);
	event(s, 5, JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE, POD, "/home/coder/project/notes.c", NULL, T0);
	event(s, 6, JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE, POD, "/home/coder/project/hw1/a.o", NULL, T0);
	event(s, 7, JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE, POD, "/home/coder/project/hw1/env/x.py",
	      NULL, T0);
	snapshots_flush(s);
	cr_assert_eq(nreq, 0);
	cr_assert_eq(st->filtered_path[SNAP_PATH_NOT_STUDENT], 1);
	cr_assert_eq(st->filtered_path[SNAP_PATH_MALFORMED_HOST], 1);
	cr_assert_eq(st->filtered_path[SNAP_PATH_OUTSIDE_ROOT], 1);
	cr_assert_eq(st->filtered_path[SNAP_PATH_OUTSIDE_HW], 1);
	cr_assert_eq(st->filtered_rule[SNAP_FILTER_EXTENSION], 1);
	cr_assert_eq(st->filtered_rule[SNAP_FILTER_VIRTUALENV], 1);
	cr_assert_eq(st->result[SNAPSHOTS_FILTERED], 6);
	snapshots_free(s);
	ev_loop_destroy(loop);
}

/* FILE_EXTENSIONS decides, as it does in the collector's kernel filter. */
Test(snapshots, configured_extensions)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct file_exts x;
	struct snapshots *s;
	char err[128];

	cr_assert_eq(file_exts_parse(".java", &x, err, sizeof(err)), 0);
	s = make(loop, &x);
	write_file("hw1/Main.java", "class Main {}\n");
	write_file("hw1/src/main.c", "int x;\n");
	event(s, 2, JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE, POD, "/home/coder/project/hw1/Main.java",
	      NULL, T0);
	event(s, 3, JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE, POD, "/home/coder/project/hw1/src/main.c",
	      NULL, T0);
	snapshots_flush(s);
	cr_assert_eq(nreq, 1);
	cr_assert_str_eq(reqs[0].path, "/api/os-1/hw1/202012345/Main.java/20250101_120101");
	snapshots_free(s);
	ev_loop_destroy(loop);
}
