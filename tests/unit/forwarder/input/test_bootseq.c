/* The boots' table: lookup, the order in which boots are forgotten (never
 * a busy one), loaded boots, and the acknowledgement rule, alone and with
 * the fair queue that shares it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "input/bootseq.h"
#include "input/fairq.h"

static struct bootseq *t;

static void setup(void)
{
	cr_assert_eq(bootseq_new(&t), 0);
}

static void teardown(void)
{
	bootseq_free(t);   /* ASan checks that every id goes with it */
}

TestSuite(bootseq, .init = setup, .fini = teardown);

static struct bootseq_boot *get(const char *id)
{
	struct bootseq_boot *b = bootseq_get(t, id, NULL);

	cr_assert_not_null(b, "%s", id);
	return b;
}

/* Fills every slot with boots "b0".."b63", b0 used longest ago. */
static void fill(void)
{
	char id[16];
	int i;

	for (i = 0; i < BOOTSEQ_MAX; i++) {
		snprintf(id, sizeof(id), "b%d", i);
		get(id);
	}
}

Test(bootseq, a_boot_is_made_once_and_found)
{
	bool created;
	struct bootseq_boot *a = bootseq_get(t, "a", &created);

	cr_assert(created);
	cr_assert_eq(bootseq_get(t, "a", &created), a);
	cr_assert_not(created);
	cr_assert_eq(bootseq_find(t, "a"), a);
	cr_assert_null(bootseq_find(t, "b"));
	cr_assert_eq(bootseq_at(t, bootseq_slot(t, a)), a);
	cr_assert_eq(bootseq_size(t), 1);
}

Test(bootseq, the_least_recently_used_is_forgotten)
{
	fill();
	get("b0");              /* b1 is now the oldest */
	get("new");
	cr_assert_not_null(bootseq_find(t, "b0"));
	cr_assert_null(bootseq_find(t, "b1"));
	cr_assert_eq(bootseq_size(t), BOOTSEQ_MAX);
}

Test(bootseq, a_busy_boot_is_never_forgotten)
{
	char id[16];
	int i;

	fill();
	get("b0")->waiting = 1;           /* a frame in the lanes */
	get("b1")->staged = 5;            /* staged, not durable */
	for (i = 2; i < BOOTSEQ_MAX; i++) {
		snprintf(id, sizeof(id), "b%d", i);
		get(id);                  /* b0 and b1 are the oldest again */
	}
	get("new");
	cr_assert_not_null(bootseq_find(t, "b0"));
	cr_assert_not_null(bootseq_find(t, "b1"));
	cr_assert_null(bootseq_find(t, "b2"), "the oldest boot that is not busy went");
	/* Every slot busy: no room, and nothing is lost. */
	for (i = 0; i < BOOTSEQ_MAX; i++)
		bootseq_at(t, (unsigned)i)->waiting = 1;
	cr_assert_null(bootseq_get(t, "one-more", NULL));
	cr_assert_eq(bootseq_size(t), BOOTSEQ_MAX);
}

Test(bootseq, loaded_boots_rank_below_this_process_and_by_their_time)
{
	char id[16];
	struct bootseq_boot *b;
	int i;

	b = bootseq_load(t, "old", 40, 1000);
	cr_assert_not_null(b);
	cr_assert_eq(b->seen, 40);
	cr_assert_eq(b->done, 40);
	cr_assert_eq(b->durable, 40);
	cr_assert_eq(b->acked, 0, "acknowledged again on the new connection");
	cr_assert_not(bootseq_busy(b));
	cr_assert_not_null(bootseq_load(t, "older", 7, 500));
	for (i = 0; i < BOOTSEQ_MAX - 2; i++) {
		snprintf(id, sizeof(id), "b%d", i);
		get(id);
	}
	get("new1");
	cr_assert_null(bootseq_find(t, "older"));
	cr_assert_not_null(bootseq_find(t, "old"));
	get("new2");
	cr_assert_null(bootseq_find(t, "old"));
	cr_assert_not_null(bootseq_find(t, "b0"));
}

Test(bootseq, only_what_is_durable_and_done_is_acknowledged)
{
	struct bootseq_boot *b = get("a");

	bootseq_seen(b, 10);
	cr_assert_eq(bootseq_ackable(b), 0, "seen is not processed");
	bootseq_done(b, 6);
	cr_assert_eq(bootseq_ackable(b), 0, "processed is not durable");
	b->staged = 6;
	cr_assert(bootseq_busy(b));
	b->durable = 6;
	cr_assert_not(bootseq_busy(b));
	cr_assert_eq(bootseq_ackable(b), 6);
	b->acked = 6;
	cr_assert_eq(bootseq_ackable(b), 0, "nothing new");
	bootseq_done(b, 4);
	cr_assert_eq(b->done, 6, "done never goes back");
	bootseq_seen(b, 3);
	cr_assert_eq(b->seen, 10, "seen never goes back");
	/* Durable beyond done cannot happen through the outbox; the rule
	 * still caps at what is processed. */
	b->durable = 9;
	cr_assert_eq(bootseq_ackable(b), 0);
	bootseq_done(b, 8);
	cr_assert_eq(bootseq_ackable(b), 8);
}

/* The fair queue keeps its waiting counts and done in the shared table:
 * a frame read ahead holds done (and so every Ack) below it. */
static Jcw__Frame *file_frame(uint64_t seq)
{
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__FileEvent fe = JCW__FILE_EVENT__INIT;
	uint8_t buf[128];
	Jcw__Frame *out;
	size_t len;

	f.seq = seq;
	f.body_case = JCW__FRAME__BODY_FILE;
	f.file = &fe;
	len = jcw__frame__pack(&f, buf);
	out = jcw__frame__unpack(NULL, len, buf);
	cr_assert_not_null(out);
	return out;
}

Test(bootseq, the_lanes_hold_done_below_what_waits)
{
	struct fairq_config c = {.max_frames = 4, .max_lanes = 2, .max_bytes = 1u << 20, .boots = t};
	struct bootseq_boot *b;
	struct fairq *q;
	const char *id;
	Jcw__Frame *f;

	cr_assert_eq(fairq_new(&c, &q), 0);
	cr_assert_eq(fairq_put(q, 1, "a", file_frame(2)), 0);
	b = bootseq_find(t, "a");
	cr_assert_not_null(b);
	cr_assert_eq(b->waiting, 1);
	cr_assert(bootseq_busy(b));
	cr_assert_eq(fairq_done(q, "a", 3), 1, "frame 3 is processed, 2 still waits");
	b->staged = b->durable = b->done;
	cr_assert_eq(bootseq_ackable(b), 1);
	f = fairq_take(q, &id);
	cr_assert_str_eq(id, "a");
	cr_assert_eq(b->waiting, 0);
	cr_assert_eq(fairq_done(q, "a", f->seq), 3);
	jcw__frame__free_unpacked(f, NULL);
	cr_assert_eq(b->done, 3);
	fairq_free(q);
	cr_assert_eq(bootseq_find(t, "a"), b, "the table outlives the queue");
}
