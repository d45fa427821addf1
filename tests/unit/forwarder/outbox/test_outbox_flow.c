/* outbox_flow's group commit pace (outbox_flow.h): the first write staged
 * waits one interval (so that what the API answers meanwhile is never
 * written), even after a quiet spell; a write soon after a commit waits
 * until the interval has passed since that commit began; a full batch goes
 * at once; with an interval of 0 every turn commits. The flow runs
 * on a real libev loop with its committer thread and a real outbox. The
 * checks are one-sided in time (a slow machine only delays a commit), so no
 * result depends on this machine's speed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>

#include "outbox/outbox.h"
#include "outbox/outbox_flow.h"

#define WAIT_MAX_S 20.0   /* a commit that is due, under ASan on a loaded machine */

static char dir[64];
static struct ev_loop *loop;
static struct outbox_flow *fl;
static char err[512];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/jcw-flow-test.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(loop);
	fl = NULL;
}

static void teardown(void)
{
	char cmd[128];

	outbox_flow_free(fl);
	ev_loop_destroy(loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(outbox_flow, .init = setup, .fini = teardown);

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void open_flow(double interval_s)
{
	struct outbox_flow_config c = {
		.state_dir = dir,
		.commit_interval_s = interval_s,
		.commit_batch = 512,
		.exec_ttl_s = 3600,
		.deliver_queue_max = 64,
	};
	int rc = outbox_flow_new(loop, &c, &fl, err, sizeof(err));

	cr_assert_eq(rc, 0, "outbox_flow_new: %d %s", rc, err);
}

static uint64_t commits(void)
{
	return outbox_stats(outbox_flow_outbox(fl))->commits;
}

static void put(const char *event_id)
{
	struct api_request r = {0};

	r.endpoint = API_RUN_LOG;
	r.type = PROC_BINARY;
	r.path = strdup("/api/os-1/hw1/202012345/logs/run");
	r.event_id = strdup(event_id);
	r.student_key = strdup("os-1/202012345");
	r.body = strdup("{\"exit_code\":0}");
	r.body_len = strlen(r.body);
	r.event_time_unix_ns = 1700000000000000000ull;
	cr_assert_eq(outbox_flow_put(fl, &r), 0);
	api_request_free(&r);
}

/* A timer bounds each turn of run_until(). */
static void wake(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
}

/* Turns the loop until `want` commits have ended or max_s has passed. */
static void run_until(uint64_t want, double max_s)
{
	double t0 = mono();
	ev_timer tick;

	ev_timer_init(&tick, wake, 0.01, 0.01);
	ev_timer_start(loop, &tick);
	while (commits() < want && mono() - t0 < max_s)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &tick);
}

Test(outbox_flow, a_write_after_a_quiet_spell_waits_one_interval)
{
	double t0, waited;

	open_flow(0.5);
	t0 = mono();
	put("b-1");
	run_until(1, WAIT_MAX_S);
	waited = mono() - t0;
	cr_assert_eq(commits(), 1, "the write was not committed after the interval");
	/* The loop's clock may lag the put by the outbox's opening: 0.1 s of
	 * slack, and a slow machine only makes the wait longer. */
	cr_assert_geq(waited, 0.4, "a write after a quiet spell was committed after %.3f s, "
		      "before the interval of 0.5 s", waited);
}

Test(outbox_flow, write_soon_after_a_commit_waits_for_the_interval)
{
	open_flow(0.5);
	put("b-1");
	run_until(1, WAIT_MAX_S);
	cr_assert_eq(commits(), 1);
	put("b-2");
	put("b-3");
	/* Within the interval of the first commit's start, nothing more. */
	run_until(2, 0.1);
	cr_assert_eq(commits(), 1, "a commit began within the interval of the one before");
	run_until(2, WAIT_MAX_S);
	cr_assert_eq(commits(), 2, "the staged writes were not committed after the interval");
	cr_assert_eq(outbox_staged(outbox_flow_outbox(fl)), 0, "both writes went in one commit");
}

Test(outbox_flow, interval_zero_commits_every_turn)
{
	open_flow(0);
	put("b-1");
	run_until(1, WAIT_MAX_S);
	put("b-2");
	run_until(2, WAIT_MAX_S);
	cr_assert_eq(commits(), 2);
}

Test(outbox_flow, full_batch_commits_at_once_even_within_the_interval)
{
	char id[32];
	int i;

	open_flow(60);   /* the timer would take a minute */
	for (i = 1; i <= 512; i++) {
		snprintf(id, sizeof(id), "b-%d", i);
		put(id);
	}
	run_until(1, WAIT_MAX_S);
	cr_assert_eq(commits(), 1, "512 staged writes waited for the interval");
}
