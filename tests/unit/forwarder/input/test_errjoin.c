/* errjoin: texts of running processes by (tgid, start), a helper's handed
 * to its build, and the bounds (eviction, expiry). */
#include <criterion/criterion.h>
#include <string.h>

#include "input/errjoin.h"

/* A piece of container group's process. */
static void piece_of(struct errjoin *j, uint64_t group, uint32_t tgid, uint64_t start,
		     uint64_t off, const char *s, uint64_t now)
{
	Jcw__StderrPiece p = JCW__STDERR_PIECE__INIT;

	p.tgid = tgid;
	p.start_boottime_ns = start;
	p.offset = off;
	p.data.data = (uint8_t *)s;
	p.data.len = strlen(s);
	errjoin_piece(j, &p, group, now);
}

static void piece(struct errjoin *j, uint32_t tgid, uint64_t start, uint64_t off,
		  const char *s, uint64_t now)
{
	piece_of(j, 7, tgid, start, off, s, now);
}

static void text_is(struct errjoin *j, uint32_t tgid, uint64_t start, const char *s)
{
	struct errtext *t = errjoin_find(j, tgid, start);

	cr_assert_not_null(t, "no text for %u", tgid);
	cr_assert(t->head_len == strlen(s) && memcmp(t->head, s, t->head_len) == 0,
		  "text \"%.*s\", want \"%s\"", (int)t->head_len, (const char *)t->head, s);
}

Test(errjoin, pieces_go_to_their_process)
{
	struct errjoin *j;

	cr_assert_eq(errjoin_new(8, 0, 64, 16, &j), 0);
	piece(j, 10, 100, 0, "a1 ", 1);
	piece(j, 11, 200, 0, "b1 ", 1);
	piece(j, 10, 100, 3, "a2", 2);
	piece(j, 10, 999, 0, "other start", 2);   /* the same pid reused */
	text_is(j, 10, 100, "a1 a2");
	text_is(j, 11, 200, "b1 ");
	text_is(j, 10, 999, "other start");
	cr_assert_eq(errjoin_size(j), 3);
	cr_assert_eq(errjoin_stats(j)->pieces, 4);
	errjoin_drop(j, 10, 100);
	cr_assert_null(errjoin_find(j, 10, 100));
	cr_assert_eq(errjoin_size(j), 2);
	errjoin_free(j);
}

Test(errjoin, a_tail_piece_sets_the_total)
{
	struct errjoin *j;
	Jcw__StderrPiece p = JCW__STDERR_PIECE__INIT;

	cr_assert_eq(errjoin_new(2, 0, 4, 4, &j), 0);
	piece(j, 1, 1, 0, "head", 1);
	p.tgid = 1;
	p.start_boottime_ns = 1;
	p.tail = 1;
	p.total = 5000;
	p.offset = 4998;
	p.data.data = (uint8_t *)"\n!";
	p.data.len = 2;
	errjoin_piece(j, &p, 7, 2);
	cr_assert_eq(errjoin_find(j, 1, 1)->total, 5000);
	cr_assert_eq(errjoin_find(j, 1, 1)->tail_len, 2);
	errjoin_free(j);
}

Test(errjoin, a_helper_hands_its_text_to_its_build)
{
	struct errjoin *j;

	cr_assert_eq(errjoin_new(4, 0, 64, 16, &j), 0);
	piece(j, 20, 2, 0, "cc1: error\n", 1);
	/* The driver has no text yet: the helper's entry becomes its own. */
	errjoin_handover(j, 20, 2, 10, 1);
	cr_assert_null(errjoin_find(j, 20, 2));
	text_is(j, 10, 1, "cc1: error\n");
	piece(j, 21, 3, 0, "ld: undefined\n", 2);
	errjoin_handover(j, 21, 3, 10, 1);
	text_is(j, 10, 1, "cc1: error\nld: undefined\n");
	cr_assert_eq(errjoin_size(j), 1);
	cr_assert_eq(errjoin_stats(j)->handed, 2);
	/* Nothing to hand: nothing changes. */
	errjoin_handover(j, 99, 9, 10, 1);
	text_is(j, 10, 1, "cc1: error\nld: undefined\n");
	errjoin_free(j);
}

Test(errjoin, full_it_drops_the_oldest_text)
{
	struct errjoin *j;

	cr_assert_eq(errjoin_new(2, 0, 16, 8, &j), 0);
	piece(j, 1, 1, 0, "one", 1);
	piece(j, 2, 2, 0, "two", 2);
	piece(j, 3, 3, 0, "three", 3);
	cr_assert_null(errjoin_find(j, 1, 1));
	text_is(j, 2, 2, "two");
	text_is(j, 3, 3, "three");
	cr_assert_eq(errjoin_stats(j)->evicted, 1);
	errjoin_free(j);
}

Test(errjoin, texts_older_than_the_ttl_expire)
{
	struct errjoin *j;

	cr_assert_eq(errjoin_new(4, 0, 16, 8, &j), 0);
	piece(j, 1, 1, 0, "old", 100);
	piece(j, 2, 2, 0, "new", 500);
	cr_assert_eq(errjoin_expire(j, 700, 300), 1);
	cr_assert_null(errjoin_find(j, 1, 1));
	text_is(j, 2, 2, "new");
	cr_assert_eq(errjoin_stats(j)->expired, 1);
	errjoin_free(j);
}

Test(errjoin, no_room_at_all_stores_nothing)
{
	struct errjoin *j;

	cr_assert_eq(errjoin_new(0, 0, 16, 8, &j), 0);
	piece(j, 1, 1, 0, "lost", 1);
	cr_assert_null(errjoin_find(j, 1, 1));
	cr_assert_eq(errjoin_size(j), 0);
	errjoin_free(j);
}

Test(errjoin, the_builds_own_pieces_follow_a_handed_text)
{
	struct errjoin *j;

	cr_assert_eq(errjoin_new(4, 0, 64, 16, &j), 0);
	piece(j, 20, 2, 0, "cc1: e\n", 1);
	errjoin_handover(j, 20, 2, 10, 1);   /* the entry becomes the driver's */
	piece(j, 10, 1, 0, "gcc: x\n", 2);    /* the driver's own offset 0 */
	text_is(j, 10, 1, "cc1: e\ngcc: x\n");
	errjoin_free(j);
}

Test(errjoin, one_container_holds_its_share_and_another_s_text_survives)
{
	struct errjoin *j;
	uint32_t i;

	cr_assert_eq(errjoin_new(16, 4, 64, 16, &j), 0);
	piece_of(j, 2, 900, 9, 0, "Traceback of B\n", 1);
	for (i = 1; i <= 100; i++)   /* A churns: 100 processes writing */
		piece_of(j, 1, i, i, 0, "noise of A\n", 1 + i);
	text_is(j, 900, 9, "Traceback of B\n");
	cr_assert_eq(errjoin_size(j), 5, "A's 4 and B's 1");
	cr_assert_eq(errjoin_stats(j)->evicted_share, 96);
	cr_assert_eq(errjoin_stats(j)->evicted, 0, "the table never filled");
	text_is(j, 100, 100, "noise of A\n");
	cr_assert_null(errjoin_find(j, 1, 1), "A's oldest went");
	errjoin_free(j);
}
