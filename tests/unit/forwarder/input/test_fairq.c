/* The lanes of input: round-robin turns, order within a lane, the exec
 * index, bounds, and the acknowledgement watermark. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "input/fairq.h"

/* A decoded frame, allocated as frame_decode() would. */
static Jcw__Frame *frame(int body, uint64_t seq, const char *host, uint32_t tgid)
{
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Exec e = JCW__EXEC__INIT;
	Jcw__Exit x = JCW__EXIT__INIT;
	Jcw__FileEvent fe = JCW__FILE_EVENT__INIT;
	uint8_t buf[512];
	Jcw__Frame *out;
	size_t len;

	f.seq = seq;
	f.body_case = body;
	if (body == JCW__FRAME__BODY_EXEC) {
		e.tgid = tgid;
		e.start_boottime_ns = 1000 + tgid;
		e.hostname.data = (uint8_t *)host;
		e.hostname.len = strlen(host);
		f.exec = &e;
	} else if (body == JCW__FRAME__BODY_EXIT) {
		x.tgid = tgid;
		x.start_boottime_ns = 1000 + tgid;
		f.exit = &x;
	} else {
		fe.hostname.data = (uint8_t *)host;
		fe.hostname.len = strlen(host);
		f.file = &fe;
	}
	len = jcw__frame__pack(&f, buf);
	out = jcw__frame__unpack(NULL, len, buf);
	cr_assert_not_null(out);
	return out;
}

static uint64_t lane(const char *host)
{
	return fairq_lane_of(host, strlen(host));
}

static struct fairq *q;

static void setup(void)
{
	struct fairq_config c = {.max_frames = 16, .max_lanes = 3, .max_bytes = 1u << 20};

	cr_assert_eq(fairq_new(&c, &q), 0);
}

static void teardown(void)
{
	fairq_free(q);   /* frees what is left: ASan checks for leaks */
}

TestSuite(fairq, .init = setup, .fini = teardown);

/* Takes the next frame and checks its seq and boot. */
static void take_seq(uint64_t seq, const char *boot)
{
	const char *b = NULL;
	Jcw__Frame *f = fairq_take(q, &b);

	cr_assert_not_null(f, "expected seq %llu", (unsigned long long)seq);
	cr_assert_eq(f->seq, seq, "got seq %llu, expected %llu", (unsigned long long)f->seq,
		     (unsigned long long)seq);
	cr_assert_str_eq(b, boot);
	jcw__frame__free_unpacked(f, NULL);
}

Test(fairq, a_flood_does_not_delay_a_bystander)
{
	uint64_t s;

	/* A's ten saves arrive before B's two: B gets every other turn. */
	for (s = 1; s <= 10; s++)
		cr_assert_eq(fairq_put(q, lane("a"), "b1", frame(JCW__FRAME__BODY_FILE, s, "a", 0)), 0);
	cr_assert_eq(fairq_put(q, lane("b"), "b1", frame(JCW__FRAME__BODY_FILE, 11, "b", 0)), 0);
	cr_assert_eq(fairq_put(q, lane("b"), "b1", frame(JCW__FRAME__BODY_FILE, 12, "b", 0)), 0);
	cr_assert_eq(fairq_len(q), 12);
	cr_assert_eq(fairq_lanes(q), 2);
	take_seq(1, "b1");
	take_seq(11, "b1");
	take_seq(2, "b1");
	take_seq(12, "b1");
	for (s = 3; s <= 10; s++)
		take_seq(s, "b1");
	cr_assert_null(fairq_take(q, &(const char *){NULL}));
	cr_assert_eq(fairq_lanes(q), 0);
}

Test(fairq, an_exit_finds_its_queued_exec)
{
	uint64_t l = 0;

	cr_assert_eq(fairq_put(q, lane("a"), "b1", frame(JCW__FRAME__BODY_EXEC, 1, "a", 77)), 0);
	cr_assert(fairq_exec_lane(q, 77, 1077, &l));
	cr_assert_eq(l, lane("a"));
	cr_assert_not(fairq_exec_lane(q, 77, 1078, &l), "another start time is another process");
	cr_assert_not(fairq_exec_lane(q, 78, 1077, &l));
	take_seq(1, "b1");
	cr_assert_not(fairq_exec_lane(q, 77, 1077, &l), "a taken exec is no longer indexed");
}

Test(fairq, full_leaves_the_frame_to_the_caller)
{
	Jcw__Frame *f;
	uint64_t s;

	for (s = 1; s <= 16; s++)
		cr_assert_eq(fairq_put(q, lane("a"), "b1", frame(JCW__FRAME__BODY_FILE, s, "a", 0)), 0);
	cr_assert(fairq_full(q));
	f = frame(JCW__FRAME__BODY_FILE, 17, "a", 0);
	cr_assert_eq(fairq_put(q, lane("a"), "b1", f), -ENOBUFS);
	jcw__frame__free_unpacked(f, NULL);
	take_seq(1, "b1");
	cr_assert_not(fairq_full(q));
}

Test(fairq, more_containers_than_lanes_share_the_overflow_lane)
{
	/* Three lanes: two of their own, the third for everybody else. */
	cr_assert_eq(fairq_put(q, lane("a"), "b1", frame(JCW__FRAME__BODY_FILE, 1, "a", 0)), 0);
	cr_assert_eq(fairq_put(q, lane("b"), "b1", frame(JCW__FRAME__BODY_FILE, 2, "b", 0)), 0);
	cr_assert_eq(fairq_put(q, lane("c"), "b1", frame(JCW__FRAME__BODY_FILE, 3, "c", 0)), 0);
	cr_assert_eq(fairq_put(q, lane("d"), "b1", frame(JCW__FRAME__BODY_FILE, 4, "d", 0)), 0);
	cr_assert_eq(fairq_put(q, lane("e"), "b1", frame(JCW__FRAME__BODY_FILE, 5, "e", 0)), 0);
	cr_assert_eq(fairq_lanes(q), 3);
	take_seq(1, "b1");
	take_seq(2, "b1");
	take_seq(3, "b1");   /* the overflow lane: c, d and e in their order */
	take_seq(4, "b1");
	take_seq(5, "b1");
	/* Freed lanes are reused. */
	cr_assert_eq(fairq_put(q, lane("f"), "b1", frame(JCW__FRAME__BODY_FILE, 6, "f", 0)), 0);
	cr_assert_eq(fairq_put(q, lane("g"), "b1", frame(JCW__FRAME__BODY_FILE, 7, "g", 0)), 0);
	cr_assert_eq(fairq_lanes(q), 2);
	take_seq(6, "b1");
	take_seq(7, "b1");
}

Test(fairq, acknowledgement_stops_below_the_oldest_waiting_frame)
{
	const char *b;
	Jcw__Frame *f;

	cr_assert_eq(fairq_done(q, "b1", 3), 3, "nothing queued: all that arrived");
	cr_assert_eq(fairq_put(q, lane("a"), "b1", frame(JCW__FRAME__BODY_FILE, 4, "a", 0)), 0);
	cr_assert_eq(fairq_put(q, lane("a"), "b1", frame(JCW__FRAME__BODY_FILE, 5, "a", 0)), 0);
	cr_assert_eq(fairq_put(q, lane("b"), "b1", frame(JCW__FRAME__BODY_FILE, 6, "b", 0)), 0);
	/* A heartbeat (seq 7) goes through at once: 4 to 6 still wait. */
	cr_assert_eq(fairq_done(q, "b1", 7), 3);
	f = fairq_take(q, &b);   /* 4 */
	cr_assert_eq(fairq_done(q, "b1", f->seq), 4);
	jcw__frame__free_unpacked(f, NULL);
	f = fairq_take(q, &b);   /* 6, b's turn; a's 5 waits */
	cr_assert_eq(f->seq, 6);
	cr_assert_eq(fairq_done(q, "b1", f->seq), 4);
	jcw__frame__free_unpacked(f, NULL);
	f = fairq_take(q, &b);   /* 5: now everything up to the heartbeat */
	cr_assert_eq(fairq_done(q, "b1", f->seq), 7);
	jcw__frame__free_unpacked(f, NULL);
}

Test(fairq, boots_are_acknowledged_apart)
{
	const char *b;
	Jcw__Frame *f;

	cr_assert_eq(fairq_put(q, lane("a"), "old", frame(JCW__FRAME__BODY_FILE, 90, "a", 0)), 0);
	cr_assert_eq(fairq_put(q, lane("b"), "new", frame(JCW__FRAME__BODY_FILE, 2, "b", 0)), 0);
	f = fairq_take(q, &b);
	cr_assert_str_eq(b, "old");
	jcw__frame__free_unpacked(f, NULL);
	cr_assert_eq(fairq_done(q, "old", 90), 90);
	cr_assert_eq(fairq_done(q, "new", 1), 1, "the new boot's 2 waits");
	take_seq(2, "new");
	cr_assert_eq(fairq_done(q, "new", 2), 2);
}

Test(fairq, too_many_boots_at_once_are_refused)
{
	char id[16];
	Jcw__Frame *f;
	int i;

	for (i = 0; i < FAIRQ_MAX_BOOTS; i++) {
		snprintf(id, sizeof(id), "boot%d", i);
		cr_assert_eq(fairq_put(q, lane("a"), id, frame(JCW__FRAME__BODY_FILE, 1, "a", 0)), 0);
	}
	f = frame(JCW__FRAME__BODY_FILE, 1, "a", 0);
	cr_assert_eq(fairq_put(q, lane("a"), "one-more", f), -ENOBUFS);
	cr_assert_eq(fairq_done(q, "one-more", 5), 5, "nothing of it waits");
	jcw__frame__free_unpacked(f, NULL);
}

Test(fairq, bad_sizes)
{
	struct fairq *x = NULL;

	cr_assert_eq(fairq_new(&(struct fairq_config){.max_frames = 0, .max_lanes = 1, .max_bytes = 1},
			       &x), -EINVAL);
	cr_assert_eq(fairq_new(&(struct fairq_config){.max_frames = 1, .max_lanes = 0, .max_bytes = 1},
			       &x), -EINVAL);
	cr_assert_eq(fairq_new(&(struct fairq_config){.max_frames = 1, .max_lanes = 1}, &x), -EINVAL);
}

Test(fairq, bounded_in_bytes)
{
	struct fairq_config c = {.max_frames = 1000, .max_lanes = 4, .max_bytes = 4096};
	struct fairq *b;
	Jcw__Frame *f;
	const char *id;
	uint32_t i;
	size_t n = 0;

	cr_assert_eq(fairq_new(&c, &b), 0);
	for (i = 1; i <= 1000; i++) {
		f = frame(JCW__FRAME__BODY_EXEC, i, "jcode-a-1-1", i);
		if (fairq_put(b, lane("jcode-a-1-1"), "boot", f) != 0) {
			jcw__frame__free_unpacked(f, NULL);   /* refused: the caller's */
			break;
		}
		n++;
	}
	cr_assert(fairq_full(b), "full by bytes, %zu frames in", n);
	cr_assert_lt(n, 1000);
	cr_assert_geq(fairq_bytes(b), 4096);
	f = frame(JCW__FRAME__BODY_EXEC, 1, "jcode-a-1-1", 1);
	cr_assert_lt(fairq_bytes(b), 4096 + fairq_frame_bytes(f), "one frame past the bound at most");
	jcw__frame__free_unpacked(f, NULL);
	while ((f = fairq_take(b, &id)))
		jcw__frame__free_unpacked(f, NULL);
	cr_assert_eq(fairq_bytes(b), 0);
	cr_assert_not(fairq_full(b));
	fairq_free(b);
}
