/* The durable outbox: staging and group commit, unique keys, feeding in
 * order (memory FIFO and file backlog), dead letters, the bound, reopening,
 * pending execs and boots, the directory lock, and damaged files. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "jcw.pb-c.h"
#include "outbox/outbox.h"

static char dir[64];
static struct outbox *ob;
static char err[512];

static void rm_rf(const char *path)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	cr_assert_eq(system(cmd), 0);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/jcw-outbox-test.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	ob = NULL;
}

static void teardown(void)
{
	outbox_close(ob);
	rm_rf(dir);
}

TestSuite(outbox, .init = setup, .fini = teardown);

static struct outbox *open_ob(uint64_t max_bytes)
{
	struct outbox_config c = {.dir = dir, .max_bytes = max_bytes};
	struct outbox *o = NULL;
	int rc = outbox_open(&c, &o, err, sizeof(err));

	cr_assert_eq(rc, 0, "outbox_open: %d %s", rc, err);
	return o;
}

static struct api_request mkreq(const char *event_id, const char *student, size_t body_len)
{
	struct api_request r = {0};

	r.endpoint = API_BUILD_LOG;
	r.type = PROC_C_COMPILER;
	r.path = strdup("/api/os-1/hw1/202012345/logs/build");
	r.event_id = strdup(event_id);
	r.student_key = student ? strdup(student) : NULL;
	r.body = malloc(body_len + 1);
	memset(r.body, 'x', body_len);
	r.body[0] = '{';
	r.body[body_len] = '\0';
	r.body_len = body_len;
	r.event_time_unix_ns = 1700000000000000000ull;
	return r;
}

static void put(const char *event_id)
{
	struct api_request r = mkreq(event_id, "os-1/202012345", 100);

	cr_assert_eq(outbox_put(ob, &r), 0);
	api_request_free(&r);
}

static void commit(void)
{
	int rc = outbox_commit(ob, 0, err, sizeof(err));

	cr_assert_eq(rc, 0, "commit: %d %s", rc, err);
}

/* Collects what outbox_feed hands out; refuses after `limit`. */
struct sink {
	char ids[8192][24];
	size_t n, limit;
};

static int take(void *arg, struct api_request *req)
{
	struct sink *s = arg;

	if (s->n >= s->limit)
		return 1;
	snprintf(s->ids[s->n++], sizeof(s->ids[0]), "%s", req->event_id);
	cr_assert_eq(req->endpoint, API_BUILD_LOG);
	cr_assert_str_eq(req->path, "/api/os-1/hw1/202012345/logs/build");
	cr_assert_eq(req->body_len, 100);
	cr_assert_eq(req->body[0], '{');
	return 0;
}

static int count_rows(const char *table)
{
	char path[128], sql[128];
	sqlite3 *db;
	sqlite3_stmt *s;
	int n = -1;

	snprintf(path, sizeof(path), "%s/" OUTBOX_DB_NAME, dir);
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

Test(outbox, creates_dir_0700_and_commits_in_one_batch)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct stat st;
	char sub[128];

	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	{
		struct outbox_config c = {.dir = sub, .max_bytes = 1 << 20};

		cr_assert_eq(outbox_open(&c, &ob, err, sizeof(err)), 0, "%s", err);
	}
	cr_assert_eq(stat(sub, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	put("b-3");
	put("b-5");
	cr_assert_eq(outbox_staged(ob), 2);
	s->limit = 100;
	/* Staged is enough to be handed out: delivery does not wait for the
	 * commit's fsync (the frames' acknowledgement does). */
	cr_assert(outbox_has_unfed(ob));
	cr_assert_eq(outbox_feed(ob, take, s), 2);
	cr_assert_str_eq(s->ids[0], "b-3");
	cr_assert_str_eq(s->ids[1], "b-5");
	cr_assert_not(outbox_has_unfed(ob));
	commit();
	cr_assert_eq(outbox_staged(ob), 0);
	cr_assert_eq(outbox_stats(ob)->rows, 2);
	cr_assert_eq(outbox_stats(ob)->commits, 1);
	cr_assert_eq(outbox_stats(ob)->commit_writes.count, 1);
	/* Handed out once only: the commit does not hand them out again. */
	cr_assert_not(outbox_has_unfed(ob));
	cr_assert_eq(outbox_feed(ob, take, s), 0);
	free(s);
}

Test(outbox, done_deletes_and_reopen_resumes_oldest_first)
{
	struct api_request r;
	struct sink *s = calloc(1, sizeof(*s));

	ob = open_ob(1 << 20);
	put("b-3");
	put("b-5");
	put("b-7");
	commit();
	r = mkreq("b-3", "os-1/202012345", 100);
	cr_assert_eq(outbox_done(ob, &r), 0);
	commit();
	api_request_free(&r);
	cr_assert_eq(outbox_stats(ob)->rows, 2);
	cr_assert_eq(outbox_stats(ob)->deleted, 1);
	outbox_read_gauges(ob);
	cr_assert_gt(outbox_stats(ob)->oldest_unix, 1.6e9);
	outbox_close(ob);
	ob = NULL;
	/* A clean close leaves no WAL behind. */
	{
		char wal[128];

		snprintf(wal, sizeof(wal), "%s/" OUTBOX_DB_NAME "-wal", dir);
		cr_assert_eq(access(wal, F_OK), -1);
	}
	cr_assert_eq(count_rows("outbox"), 2);
	ob = open_ob(1 << 20);
	cr_assert_eq(outbox_stats(ob)->rows, 2);
	s->limit = 1;
	cr_assert_eq(outbox_feed(ob, take, s), 1);
	s->limit = 10;
	cr_assert_eq(outbox_feed(ob, take, s), 1);
	cr_assert_str_eq(s->ids[0], "b-5");
	cr_assert_str_eq(s->ids[1], "b-7");
	/* New rows take ids after the old ones. */
	put("b-9");
	commit();
	cr_assert_eq(outbox_feed(ob, take, s), 1);
	cr_assert_str_eq(s->ids[2], "b-9");
	free(s);
}

Test(outbox, unique_event_id)
{
	struct sink *s = calloc(1, sizeof(*s));

	ob = open_ob(1 << 20);
	put("b-3");
	commit();
	put("b-3");   /* a resent frame made the same event again */
	put("b-4");
	commit();
	cr_assert_eq(outbox_stats(ob)->rows, 2);
	cr_assert_eq(outbox_stats(ob)->duplicates, 1);
	cr_assert_eq(outbox_stats(ob)->inserted, 2);
	cr_assert_eq(count_rows("outbox"), 2);
	/* Stored once; the copy went out as it was staged, before its commit
	 * could tell, with the same key (outbox.h). */
	s->limit = 10;
	cr_assert_eq(outbox_feed(ob, take, s), 3);
	cr_assert_str_eq(s->ids[0], "b-3");
	cr_assert_str_eq(s->ids[1], "b-3");
	cr_assert_str_eq(s->ids[2], "b-4");
	free(s);
}

Test(outbox, dead_letter_keeps_status_and_response)
{
	struct api_request r = mkreq("b-3", NULL, 100);
	sqlite3 *db;
	sqlite3_stmt *st;
	char path[128];

	ob = open_ob(1 << 20);
	cr_assert_eq(outbox_put(ob, &r), 0);
	put("b-4");
	commit();
	cr_assert_eq(outbox_dead(ob, &r, 422, "{\"detail\":[]}", 13), 0);
	commit();
	api_request_free(&r);
	cr_assert_eq(outbox_stats(ob)->rows, 1);
	cr_assert_eq(outbox_stats(ob)->dead_letters, 1);
	snprintf(path, sizeof(path), "%s/" OUTBOX_DB_NAME, dir);
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT event_id, status, response, length(body)"
				       " FROM dead_letter", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "b-3");
	cr_assert_eq(sqlite3_column_int(st, 1), 422);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 2), "{\"detail\":[]}");
	cr_assert_eq(sqlite3_column_int(st, 3), 100);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	outbox_read_gauges(ob);
	cr_assert_eq(outbox_stats(ob)->dead_rows, 1);
}

Test(outbox, bound_counts_staged_rows_and_frees_on_delete)
{
	struct api_request r = mkreq("b-1", "os-1/202012345", 100);
	uint64_t one;

	ob = open_ob(500);
	cr_assert_not(outbox_full(ob));
	cr_assert_eq(outbox_put(ob, &r), 0);
	one = outbox_stats(ob)->bytes;
	cr_assert_gt(one, 100);
	cr_assert_lt(one, 250);
	put("b-2");
	put("b-3");
	cr_assert(outbox_full(ob), "%llu bytes", (unsigned long long)outbox_stats(ob)->bytes);
	commit();
	cr_assert(outbox_full(ob));
	cr_assert_eq(outbox_done(ob, &r), 0);
	cr_assert(outbox_full(ob));   /* not before the delete is durable */
	commit();
	cr_assert_not(outbox_full(ob));
	cr_assert_eq(outbox_stats(ob)->bytes, 2 * one);
	/* A second delete of the same row changes nothing. */
	cr_assert_eq(outbox_done(ob, &r), 0);
	commit();
	cr_assert_eq(outbox_stats(ob)->bytes, 2 * one);
	cr_assert_eq(outbox_stats(ob)->rows, 2);
	api_request_free(&r);
}

Test(outbox, backlog_beyond_the_memory_fifo_keeps_order)
{
	struct sink *s = calloc(1, sizeof(*s));
	char id[24];
	size_t i, total = OUTBOX_READY_MAX + 700;

	ob = open_ob(1ull << 30);
	for (i = 0; i < total; i++) {
		snprintf(id, sizeof(id), "b-%zu", i);
		put(id);
		if (i % 1000 == 999)
			commit();
	}
	commit();
	s->limit = 1500;
	cr_assert_eq(outbox_feed(ob, take, s), 1500);
	put("b-last");
	commit();
	s->limit = 8192;
	cr_assert_eq(outbox_feed(ob, take, s), (int)(total + 1 - 1500));
	for (i = 0; i < total; i++) {
		snprintf(id, sizeof(id), "b-%zu", i);
		cr_assert_str_eq(s->ids[i], id);
	}
	cr_assert_str_eq(s->ids[total], "b-last");
	cr_assert_not(outbox_has_unfed(ob));
	free(s);
}

/* A PUT staged while the FIFO is full waits for its commit, and so does
 * every PUT after it until then: the order stays the ids' order. Once
 * every such PUT is committed and handed out, staged is enough again. */
Test(outbox, late_puts_keep_the_order)
{
	struct sink *s = calloc(1, sizeof(*s));
	char id[24];
	size_t i;

	ob = open_ob(1ull << 30);
	for (i = 0; i < OUTBOX_READY_MAX; i++) {
		snprintf(id, sizeof(id), "b-%zu", i);
		put(id);
	}
	put("late-1");   /* the FIFO is full */
	s->limit = 10;
	cr_assert_eq(outbox_feed(ob, take, s), 10);
	put("late-2");   /* room now, but late-1 is older */
	s->limit = 8192;
	cr_assert_eq(outbox_feed(ob, take, s), OUTBOX_READY_MAX - 10, "the late ones went early");
	cr_assert_not(outbox_has_unfed(ob));
	commit();
	cr_assert_eq(outbox_feed(ob, take, s), 2);
	cr_assert_str_eq(s->ids[OUTBOX_READY_MAX], "late-1");
	cr_assert_str_eq(s->ids[OUTBOX_READY_MAX + 1], "late-2");
	put("again");
	cr_assert_eq(outbox_feed(ob, take, s), 1, "staged was not enough again");
	cr_assert_str_eq(s->ids[OUTBOX_READY_MAX + 2], "again");
	for (i = 0; i < OUTBOX_READY_MAX; i++) {
		snprintf(id, sizeof(id), "b-%zu", i);
		cr_assert_str_eq(s->ids[i], id);
	}
	commit();
	cr_assert_eq(outbox_feed(ob, take, s), 0);
	cr_assert_eq(count_rows("outbox"), OUTBOX_READY_MAX + 3);
	free(s);
}

struct got {
	int n;
	uint32_t tgid[8];
};

static void on_exec(void *arg, const char *boot_id, const uint8_t *frame, size_t len)
{
	struct got *g = arg;

	(void)boot_id;
	Jcw__Frame *f = jcw__frame__unpack(NULL, len, frame);

	cr_assert_not_null(f);
	cr_assert_eq(f->body_case, JCW__FRAME__BODY_EXEC);
	g->tgid[g->n++] = f->exec->tgid;
	jcw__frame__free_unpacked(f, NULL);
}

static void put_exec(uint32_t tgid, uint64_t start)
{
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Exec e = JCW__EXEC__INIT;
	uint8_t buf[128];
	size_t len;

	e.tgid = tgid;
	e.start_boottime_ns = start;
	f.seq = tgid;
	f.body_case = JCW__FRAME__BODY_EXEC;
	f.exec = &e;
	len = jcw__frame__pack(&f, buf);
	cr_assert_eq(outbox_exec_put(ob, "boot", tgid, tgid, start, buf, len), 0);
}

Test(outbox, pending_execs_survive_a_restart_until_joined)
{
	struct got g = {0};

	ob = open_ob(1 << 20);
	put_exec(10, 1000);
	put_exec(11, 1000);
	commit();
	put_exec(12, 1000);
	cr_assert_eq(outbox_exec_del(ob, 12, 1000), 0);   /* joined in the same batch */
	cr_assert_eq(outbox_exec_del(ob, 10, 1000), 0);
	commit();
	/* Exec 12 never reached the file: only 11 waits. */
	cr_assert_eq(outbox_stats(ob)->commit_writes.sum, 2 + 2);
	outbox_close(ob);
	ob = open_ob(1 << 20);
	cr_assert_eq(outbox_stats(ob)->pending_execs, 1);
	cr_assert_eq(outbox_load_execs(ob, on_exec, &g), 0);
	cr_assert_eq(g.n, 1);
	cr_assert_eq(g.tgid[0], 11);
	/* The TTL drops execs stored before the given time. */
	cr_assert_eq(outbox_commit(ob, 4e9, err, sizeof(err)), 0);
	g.n = 0;
	cr_assert_eq(outbox_load_execs(ob, on_exec, &g), 0);
	cr_assert_eq(g.n, 0);
}

static char committed_boot[40];
static uint64_t committed_seq;

static void on_commit(void *arg, const char *boot_id, uint64_t seq)
{
	(void)arg;
	snprintf(committed_boot, sizeof(committed_boot), "%s", boot_id);
	committed_seq = seq;
}

Test(outbox, boots_are_acknowledged_after_the_commit_and_remembered)
{
	struct outbox_config c = {.dir = dir, .max_bytes = 1 << 20, .on_commit = on_commit};
	const struct bootseq_boot *b;
	struct bootseq *boots;

	cr_assert_eq(outbox_open(&c, &ob, err, sizeof(err)), 0, "%s", err);
	committed_seq = 0;
	cr_assert_eq(outbox_seen(ob, "boot-a", 5), 0);
	cr_assert_eq(outbox_seen(ob, "boot-a", 9), 0);
	cr_assert_eq(outbox_seen(ob, "boot-a", 7), 0);   /* never backwards */
	cr_assert_eq(committed_seq, 0);
	cr_assert_eq(outbox_boot_committed(ob, "boot-a"), 0);
	commit();
	cr_assert_str_eq(committed_boot, "boot-a");
	cr_assert_eq(committed_seq, 9);
	cr_assert_eq(outbox_boot_committed(ob, "boot-a"), 9);
	/* Nothing new seen: no second acknowledgement. */
	committed_seq = 0;
	commit();
	cr_assert_eq(committed_seq, 0);
	outbox_close(ob);
	/* Reopened with a table input shares: the boot is known there too,
	 * durable, seen (a resent frame is a duplicate) and not yet acked on
	 * this run's connections. */
	cr_assert_eq(bootseq_new(&boots), 0);
	c.boots = boots;
	cr_assert_eq(outbox_open(&c, &ob, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(outbox_boot_committed(ob, "boot-a"), 9);
	b = bootseq_find(boots, "boot-a");
	cr_assert_not_null(b);
	cr_assert_eq(b->durable, 9);
	cr_assert_eq(b->seen, 9);
	cr_assert_eq(b->acked, 0);
	cr_assert_eq(bootseq_ackable(b), 9);
	cr_assert_eq(bootseq_size(boots), 1);
	outbox_close(ob);
	ob = NULL;
	bootseq_free(boots);
}

Test(outbox, a_second_process_is_locked_out)
{
	struct outbox_config c = {.dir = dir, .max_bytes = 1 << 20};
	struct outbox *o2 = NULL;

	ob = open_ob(1 << 20);
	cr_assert_eq(outbox_open(&c, &o2, err, sizeof(err)), -EBUSY);
	cr_assert(strstr(err, "in use by another"), "%s", err);
	cr_assert_null(o2);
}

/* Fills the outbox with n events of 100-byte bodies and closes it. */
static void fill(int n)
{
	char id[24];
	int i;

	ob = open_ob(1ull << 30);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "b-%d", i);
		put(id);
	}
	commit();
	outbox_close(ob);
	ob = NULL;
}

static int quarantined_files(void)
{
	char q[128];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(q, sizeof(q), "%s/quarantine", dir);
	d = opendir(q);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l > 3 && strcmp(de->d_name + l - 3, ".db") == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void damage(off_t at, size_t len, bool cut)
{
	char path[128];
	uint8_t junk[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/" OUTBOX_DB_NAME, dir);
	fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	if (cut) {
		cr_assert_eq(ftruncate(fd, at), 0);
	} else {
		memset(junk, 0xa5, sizeof(junk));
		cr_assert_eq(pwrite(fd, junk, len, at), (ssize_t)len);
	}
	close(fd);
}

Test(outbox, damaged_pages_are_quarantined_and_the_rest_salvaged)
{
	struct sink *s = calloc(1, sizeof(*s));
	const struct outbox_stats *st;

	fill(2000);   /* ~ 70 pages of 4 KiB */
	/* Page 40 (a leaf of the outbox table) becomes garbage. */
	damage(39 * 4096, 4096, false);
	ob = open_ob(1ull << 30);
	st = outbox_stats(ob);
	cr_assert_eq(st->quarantined_files, 1);
	cr_assert_eq(quarantined_files(), 1);
	cr_assert_gt(st->salvaged_rows, 1500, "salvaged %llu", (unsigned long long)st->salvaged_rows);
	cr_assert_lt(st->salvaged_rows, 2000);
	cr_assert_eq(st->rows, st->salvaged_rows);
	s->limit = 8192;
	cr_assert_eq(outbox_feed(ob, take, s), (int)st->salvaged_rows);
	/* The fresh file works. */
	put("after");
	commit();
	cr_assert_eq(outbox_feed(ob, take, s), 1);
	free(s);
}

Test(outbox, a_cut_tail_keeps_the_rows_before_the_cut)
{
	const struct outbox_stats *st;

	fill(2000);
	damage(50 * 4096, 0, true);
	ob = open_ob(1ull << 30);
	st = outbox_stats(ob);
	cr_assert_eq(st->quarantined_files, 1);
	cr_assert_gt(st->salvaged_rows, 500, "salvaged %llu", (unsigned long long)st->salvaged_rows);
	cr_assert_lt(st->salvaged_rows, 2000);
}

Test(outbox, a_destroyed_header_starts_empty)
{
	fill(10);
	damage(0, 100, false);
	ob = open_ob(1ull << 30);
	cr_assert_eq(outbox_stats(ob)->quarantined_files, 1);
	cr_assert_eq(outbox_stats(ob)->salvaged_rows, 0);
	cr_assert_eq(outbox_stats(ob)->rows, 0);
	put("new");
	commit();
}

/* The commit in three steps (a committer thread's): staging goes on while
 * a batch is out, the file is not read meanwhile, and each batch ends in
 * order with its own acknowledgements. */
Test(outbox, staging_goes_on_while_a_batch_is_out)
{
	struct outbox_config c = {.dir = dir, .max_bytes = 1 << 20, .on_commit = on_commit};
	struct outbox_batch *b;
	struct sink *s = calloc(1, sizeof(*s));
	struct got g = {0};

	cr_assert_eq(outbox_open(&c, &ob, err, sizeof(err)), 0, "%s", err);
	s->limit = 100;
	committed_seq = 0;
	put("e1");
	put_exec(20, 1000);
	cr_assert_eq(outbox_seen(ob, "boot-b", 3), 0);
	b = outbox_commit_take(ob, 0);
	cr_assert_not_null(b);
	cr_assert_null(outbox_commit_take(ob, 0), "one batch at a time");
	cr_assert_eq(outbox_staged(ob), 0);
	/* Meanwhile: a second event, the exec's exit, more frames. */
	put("e2");
	cr_assert_eq(outbox_exec_del(ob, 20, 1000), 0);
	cr_assert_eq(outbox_seen(ob, "boot-b", 7), 0);
	cr_assert_eq(outbox_commit(ob, 0, err, sizeof(err)), -EBUSY);
	/* Both go out while the batch is on the disk. */
	cr_assert_eq(outbox_feed(ob, take, s), 2);
	cr_assert_str_eq(s->ids[0], "e1");
	cr_assert_str_eq(s->ids[1], "e2");
	outbox_commit_run(ob, b);   /* as the committer thread would */
	cr_assert_eq(committed_seq, 0, "acknowledged only at the end");
	cr_assert_eq(outbox_commit_end(ob, b, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(committed_seq, 3);
	cr_assert_eq(outbox_feed(ob, take, s), 0);
	cr_assert_eq(count_rows("pending_exec"), 1);
	commit();
	cr_assert_eq(committed_seq, 7);
	cr_assert_eq(outbox_feed(ob, take, s), 0);
	cr_assert_eq(count_rows("outbox"), 2);
	cr_assert_eq(count_rows("pending_exec"), 0, "the exit staged meanwhile deleted it");
	cr_assert_eq(outbox_load_execs(ob, on_exec, &g), 0);
	cr_assert_eq(g.n, 0);
	free(s);
}

/* An event the API took before its commit is never written, and its frames
 * are still acknowledged by that commit; one whose row is already on its
 * way to the disk is deleted by the next; one with a dataset line is
 * written (only the row's commit writes the line). */
Test(outbox, taken_before_the_commit_is_never_written)
{
	struct outbox_config c = {.dir = dir, .max_bytes = 1 << 20, .on_commit = on_commit};
	struct outbox_batch *b;
	struct sink *s = calloc(1, sizeof(*s));
	struct api_request r;

	cr_assert_eq(outbox_open(&c, &ob, err, sizeof(err)), 0, "%s", err);
	s->limit = 100;
	committed_seq = 0;
	put("u-1");
	cr_assert_eq(outbox_seen(ob, "boot-u", 4), 0);
	cr_assert_eq(outbox_feed(ob, take, s), 1);
	r = mkreq("u-1", NULL, 100);
	cr_assert_eq(outbox_done(ob, &r), 0);
	api_request_free(&r);
	cr_assert_eq(outbox_stats(ob)->rows, 0);
	commit();
	cr_assert_eq(committed_seq, 4, "the frames were not acknowledged");
	cr_assert_eq(count_rows("outbox"), 0);
	cr_assert_eq(outbox_stats(ob)->unwritten, 1);
	cr_assert_eq(outbox_stats(ob)->inserted, 0);
	cr_assert_eq(outbox_stats(ob)->deleted, 0);
	cr_assert_eq(outbox_stats(ob)->commit_writes.sum, 1, "only the boot's row was written");

	/* Taken into a batch first: written, then deleted. */
	put("u-2");
	b = outbox_commit_take(ob, 0);
	cr_assert_not_null(b);
	r = mkreq("u-2", NULL, 100);
	cr_assert_eq(outbox_done(ob, &r), 0);
	api_request_free(&r);
	outbox_commit_run(ob, b);
	cr_assert_eq(outbox_commit_end(ob, b, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(count_rows("outbox"), 1);
	commit();
	cr_assert_eq(count_rows("outbox"), 0);
	cr_assert_eq(outbox_stats(ob)->rows, 0);
	cr_assert_eq(outbox_stats(ob)->inserted, 1);
	cr_assert_eq(outbox_stats(ob)->deleted, 1);
	cr_assert_eq(outbox_stats(ob)->unwritten, 1);
	free(s);
}

/* A late copy of a stored event (staged while rows wait in the file) is not
 * what the API took: the answer deletes the stored row. */
Test(outbox, an_answer_deletes_the_stored_row_not_a_late_copy)
{
	struct api_request r;

	ob = open_ob(1 << 20);
	put("s-1");
	commit();
	outbox_close(ob);
	ob = open_ob(1 << 20);   /* s-1 waits in the file: new PUTs are late */
	put("s-1");
	r = mkreq("s-1", NULL, 100);
	cr_assert_eq(outbox_done(ob, &r), 0);
	api_request_free(&r);
	commit();
	cr_assert_eq(count_rows("outbox"), 0, "the stored row stayed");
	cr_assert_eq(outbox_stats(ob)->rows, 0);
	cr_assert_eq(outbox_stats(ob)->duplicates, 1);
	cr_assert_eq(outbox_stats(ob)->deleted, 1);
	cr_assert_eq(outbox_stats(ob)->unwritten, 0);
}

Test(outbox, taken_before_the_commit_keeps_its_dataset_line)
{
	struct outbox_config c = {.dir = dir, .max_bytes = 1 << 20, .dataset_max_bytes = 1 << 20};
	struct api_request r;

	cr_assert_eq(outbox_open(&c, &ob, err, sizeof(err)), 0, "%s", err);
	put("d-1");
	r = mkreq("d-1", NULL, 100);
	cr_assert_eq(outbox_done(ob, &r), 0);
	api_request_free(&r);
	commit();
	cr_assert_eq(count_rows("dataset"), 1);
	cr_assert_eq(count_rows("outbox"), 0);
	cr_assert_eq(outbox_stats(ob)->unwritten, 0);
	cr_assert_eq(outbox_stats(ob)->deleted, 1);
}

/* --- the dataset's queue ------------------------------------------------ */

static struct outbox *open_ds(uint64_t ds_max)
{
	struct outbox_config c = {.dir = dir, .max_bytes = 1 << 20, .dataset_max_bytes = ds_max};
	struct outbox *o = NULL;
	int rc = outbox_open(&c, &o, err, sizeof(err));

	cr_assert_eq(rc, 0, "outbox_open: %d %s", rc, err);
	return o;
}

struct lines {
	uint64_t ids[64];
	char text[64][256];
	size_t n;
};

static int take_line(void *arg, uint64_t id, const void *line, size_t len)
{
	struct lines *l = arg;

	l->ids[l->n] = id;
	snprintf(l->text[l->n++], sizeof(l->text[0]), "%.*s", (int)len, (const char *)line);
	return 0;
}

/* Each new event gets a line in the same commit; a copy of a pending
 * event does not; the lines stay until released, also across a reopen,
 * and outlive the event's delivery. */
Test(outbox, dataset_queue)
{
	struct api_request r = mkreq("b-1", "os-1/202012345", 12);
	struct lines l = {0};

	memcpy(r.body, "{\"exit\":1}", 11);
	r.body_len = 10;
	ob = open_ds(1 << 20);
	cr_assert_eq(outbox_put(ob, &r), 0);
	cr_assert_eq(outbox_dataset_read(ob, 0, 10, take_line, &l), 0, "nothing before the commit");
	commit();
	cr_assert_eq(outbox_put(ob, &r), 0);   /* the same event again */
	api_request_free(&r);
	put("b-2");
	commit();
	cr_assert_eq(outbox_dataset_read(ob, 0, 10, take_line, &l), 2);
	cr_assert_str_eq(l.text[0], "{\"event_id\":\"b-1\",\"endpoint\":\"build\",\"path\":"
				    "\"/api/os-1/hw1/202012345/logs/build\",\"time_ns\":1700000000000000000,"
				    "\"body\":{\"exit\":1}}\n");
	cr_assert(strstr(l.text[1], "\"event_id\":\"b-2\""));
	cr_assert_eq(outbox_stats(ob)->dataset_rows, 2);
	cr_assert_eq(outbox_stats(ob)->dataset_bytes, strlen(l.text[0]) + strlen(l.text[1]));
	/* Delivered to the API: the lines stay for the dataset. */
	r = mkreq("b-1", NULL, 10);
	cr_assert_eq(outbox_done(ob, &r), 0);
	api_request_free(&r);
	commit();
	l.n = 0;
	cr_assert_eq(outbox_dataset_read(ob, 0, 10, take_line, &l), 2);
	/* Read from a position, and released up to one. */
	l.n = 0;
	cr_assert_eq(outbox_dataset_read(ob, l.ids[0] ? 1 : 0, 10, take_line, &l), 1);
	cr_assert_eq(outbox_dataset_release(ob, 1, 1, strlen(
		"{\"event_id\":\"b-1\",\"endpoint\":\"build\",\"path\":\"/api/os-1/hw1/202012345/logs/build\","
		"\"time_ns\":1700000000000000000,\"body\":{\"exit\":1}}\n")), 0);
	commit();
	cr_assert_eq(outbox_stats(ob)->dataset_rows, 1);
	outbox_close(ob);
	ob = open_ds(1 << 20);
	cr_assert_eq(outbox_stats(ob)->dataset_rows, 1, "counted again at open");
	l.n = 0;
	cr_assert_eq(outbox_dataset_read(ob, 0, 10, take_line, &l), 1);
	cr_assert(strstr(l.text[0], "\"event_id\":\"b-2\""));
}

/* A full queue costs the dataset new events (counted), never the API;
 * without a dataset nothing is queued. */
Test(outbox, dataset_queue_bound)
{
	struct lines l = {0};
	char id[16];
	int i;

	ob = open_ds(300);
	for (i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "e-%d", i);
		put(id);
		commit();
	}
	cr_assert_eq(outbox_stats(ob)->rows, 4, "the API has every event");
	cr_assert_eq(outbox_stats(ob)->dataset_rows, 2);
	cr_assert_eq(outbox_stats(ob)->dataset_dropped, 2);
	outbox_close(ob);
	rm_rf(dir);
	cr_assert_not_null(mkdtemp(strcpy(dir, "/tmp/jcw-outbox-test.XXXXXX")));
	ob = open_ob(1 << 20);
	put("x-1");
	commit();
	cr_assert_eq(outbox_dataset_read(ob, 0, 10, take_line, &l), 0);
	cr_assert_eq(outbox_stats(ob)->dataset_dropped, 0);
}
