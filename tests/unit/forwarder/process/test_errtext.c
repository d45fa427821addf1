/* errtext: a process's standard error from its pieces (head, tail, total),
 * and a helper's appended to its build's. */
#include <criterion/criterion.h>
#include <string.h>

#include "process/errtext.h"

static void put(struct errtext *t, uint64_t off, const char *s)
{
	errtext_put(t, off, (const uint8_t *)s, strlen(s));
}

static void head_is(const struct errtext *t, const char *s)
{
	cr_assert(t->head_len == strlen(s) && memcmp(t->head, s, t->head_len) == 0,
		  "head \"%.*s\", want \"%s\"", (int)t->head_len, (const char *)t->head, s);
}

static void tail_is(const struct errtext *t, const char *s)
{
	cr_assert(t->tail_len == strlen(s) && memcmp(t->tail, s, t->tail_len) == 0,
		  "tail \"%.*s\", want \"%s\"", (int)t->tail_len, (const char *)t->tail, s);
}

Test(errtext, pieces_in_order_fill_the_head_then_the_tail)
{
	struct errtext t;

	cr_assert_eq(errtext_init(&t, 8, 4), 0);
	put(&t, 0, "abc");
	put(&t, 3, "defgh");
	put(&t, 8, "ij");
	head_is(&t, "abcdefgh");
	tail_is(&t, "ij");
	cr_assert_eq(t.total, 10);
	cr_assert_eq(t.head_len + t.tail_len, 10);
	cr_assert_not(t.hole);
	errtext_free(&t);
}

Test(errtext, a_piece_that_crosses_the_head_splits)
{
	struct errtext t;

	cr_assert_eq(errtext_init(&t, 4, 4), 0);
	put(&t, 0, "abcdefg");
	head_is(&t, "abcd");
	tail_is(&t, "efg");
	errtext_free(&t);
}

Test(errtext, the_tail_keeps_the_last_bytes)
{
	struct errtext t;

	cr_assert_eq(errtext_init(&t, 2, 4), 0);
	put(&t, 0, "ab");
	put(&t, 2, "cde");
	put(&t, 5, "fg");
	tail_is(&t, "defg");
	put(&t, 7, "0123456789");
	tail_is(&t, "6789");
	cr_assert_eq(t.tail_end, 17);
	errtext_free(&t);
}

Test(errtext, the_kernels_tail_piece_sets_the_total)
{
	struct errtext t;

	cr_assert_eq(errtext_init(&t, 4, 4), 0);
	put(&t, 0, "abcd");
	/* 1000 bytes written past the head; the tail piece holds the last 3. */
	put(&t, 1001, "xyz");
	errtext_total(&t, 1004);
	head_is(&t, "abcd");
	tail_is(&t, "xyz");
	cr_assert_eq(t.total, 1004);
	errtext_free(&t);
}

Test(errtext, a_missing_piece_stops_the_head)
{
	struct errtext t;

	cr_assert_eq(errtext_init(&t, 16, 8), 0);
	put(&t, 0, "ab");
	put(&t, 5, "fgh");   /* 2..5 never came (over the budget) */
	head_is(&t, "ab");
	tail_is(&t, "fgh");
	cr_assert(t.hole);
	cr_assert_eq(t.total, 8);
	errtext_free(&t);
}

Test(errtext, overlapping_pieces_give_only_their_new_bytes)
{
	struct errtext t;

	cr_assert_eq(errtext_init(&t, 16, 8), 0);
	put(&t, 0, "abcd");
	put(&t, 2, "cdef");   /* two threads raced on the kernel's count */
	put(&t, 1, "bc");     /* nothing new */
	head_is(&t, "abcdef");
	cr_assert_eq(t.total, 6);
	errtext_free(&t);
}

Test(errtext, a_helpers_text_follows_its_builds)
{
	struct errtext build, cc1, ld;

	cr_assert_eq(errtext_init(&build, 16, 8), 0);
	cr_assert_eq(errtext_init(&cc1, 16, 8), 0);
	cr_assert_eq(errtext_init(&ld, 4, 4), 0);
	put(&cc1, 0, "a.c:1: e\n");
	put(&ld, 0, "ld: undefined\n");   /* head "ld: ", tail "ned\n" */
	errtext_append(&build, &cc1);
	head_is(&build, "a.c:1: e\n");
	errtext_append(&build, &ld);
	cr_assert_eq(build.total, 9 + 14);
	/* ld's own gap (bytes 4..10 were not kept) stays a gap: its tail
	 * starts the build's tail and the head stops. */
	head_is(&build, "a.c:1: e\nld: ");
	tail_is(&build, "ned\n");
	cr_assert(build.hole);
	errtext_free(&build);
	errtext_free(&cc1);
	errtext_free(&ld);
}

Test(errtext, own_pieces_after_a_helpers_text_come_after_it)
{
	struct errtext gcc, cc1;

	cr_assert_eq(errtext_init(&gcc, 64, 8), 0);
	cr_assert_eq(errtext_init(&cc1, 64, 8), 0);
	put(&gcc, 0, "gcc: ");       /* the driver's own offset 0 */
	put(&cc1, 0, "cc1 said\n");
	errtext_append(&gcc, &cc1);
	put(&gcc, 5, "done\n");      /* its own offset 5, after cc1's text */
	head_is(&gcc, "gcc: cc1 said\ndone\n");
	errtext_total(&gcc, 10);     /* its own total */
	cr_assert_eq(gcc.total, 19);
	cr_assert_not(gcc.hole);
	errtext_free(&gcc);
	errtext_free(&cc1);
}

Test(errtext, unread_bytes_count_and_stop_the_head)
{
	struct errtext t;

	cr_assert_eq(errtext_init(&t, 16, 8), 0);
	put(&t, 0, "abc");
	errtext_unread(&t, 3, 5);   /* a write the kernel side could not copy */
	put(&t, 8, "xyz");
	head_is(&t, "abc");
	cr_assert(t.hole, "what follows unread bytes does not continue the head");
	cr_assert_eq(t.total, 11);
	cr_assert_eq(t.unread, 5);
	errtext_free(&t);
}

Test(errtext, unread_bytes_alone_are_the_total)
{
	struct errtext t;

	cr_assert_eq(errtext_init(&t, 16, 8), 0);
	errtext_unread(&t, 0, 17);
	cr_assert_eq(t.total, 17);
	cr_assert_eq(t.unread, 17);
	cr_assert_eq(t.head_len, 0);
	errtext_free(&t);
}

Test(errtext, a_helpers_unread_bytes_go_with_its_text)
{
	struct errtext t, h;

	cr_assert_eq(errtext_init(&t, 16, 8), 0);
	cr_assert_eq(errtext_init(&h, 16, 8), 0);
	put(&t, 0, "ab");
	errtext_unread(&h, 0, 4);
	errtext_append(&t, &h);
	cr_assert_eq(t.total, 6);
	cr_assert_eq(t.unread, 4);
	errtext_free(&h);
	errtext_free(&t);
}
