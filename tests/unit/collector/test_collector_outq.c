/* The collector's bounded frame queue: bytes bound, send cursor, acks,
 * rewind after a reconnect, overflow counting. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "outq.h"

static uint8_t *frame(size_t len, uint8_t fill)
{
	uint8_t *p = malloc(len);

	memset(p, fill, len);
	return p;
}

/* Concatenates what outq_iov() describes. */
static size_t unsent(const struct outq *q, uint8_t *out, size_t max)
{
	struct iovec iov[16];
	size_t n = 0;
	int i, cnt = outq_iov(q, iov, 16);

	for (i = 0; i < cnt; i++) {
		cr_assert(n + iov[i].iov_len <= max);
		memcpy(out + n, iov[i].iov_base, iov[i].iov_len);
		n += iov[i].iov_len;
	}
	return n;
}

Test(outq, bounded_by_bytes_counts_overflow)
{
	struct outq q;

	outq_init(&q, 100);
	cr_assert_eq(outq_push(&q, 1, frame(40, 'a'), 40), 0);
	cr_assert_eq(outq_push(&q, 2, frame(40, 'b'), 40), 0);
	cr_assert_eq(outq_push(&q, 3, frame(40, 'c'), 40), -ENOBUFS);
	cr_assert_eq(outq_push(&q, 4, frame(20, 'd'), 20), 0, "exactly full is fine");
	cr_assert_eq(outq_push(&q, 5, frame(1, 'e'), 1), -ENOBUFS);
	cr_assert_eq(outq_push(&q, 6, frame(500, 'f'), 500), -ENOBUFS, "bigger than the bound");
	cr_assert_eq(q.bytes, 100);
	cr_assert_eq(q.count, 3);
	cr_assert_eq(q.dropped_frames, 3);
	cr_assert_eq(q.dropped_bytes, 541);
	outq_free(&q);
}

Test(outq, partial_writes_free_without_acks)
{
	struct outq q;
	uint8_t buf[256];

	outq_init(&q, 1000);
	outq_push(&q, 1, frame(10, 'a'), 10);
	outq_push(&q, 2, frame(10, 'b'), 10);
	cr_assert_eq(unsent(&q, buf, sizeof(buf)), 20);
	outq_sent(&q, 15); /* first frame and half of the second */
	cr_assert_eq(q.count, 1, "a written frame is freed at once");
	cr_assert_eq(q.bytes, 10);
	cr_assert_eq(unsent(&q, buf, sizeof(buf)), 5);
	cr_assert_eq(buf[0], 'b');
	cr_assert_eq(outq_first_unsent_seq(&q), 2);
	/* Reconnect mid-frame: the frame goes again from its start. */
	outq_rewind(&q);
	cr_assert_eq(unsent(&q, buf, sizeof(buf)), 10);
	outq_sent(&q, 10);
	cr_assert_eq(q.count, 0);
	cr_assert_eq(q.bytes, 0);
	cr_assert_eq(outq_first_unsent_seq(&q), 0);
	outq_free(&q);
}

Test(outq, ack_mode_keeps_until_acked_and_rewinds)
{
	struct outq q;
	uint8_t buf[256];

	outq_init(&q, 1000);
	outq_set_ack_mode(&q, true);
	outq_push(&q, 7, frame(4, 'a'), 4);
	outq_push(&q, 8, frame(4, 'b'), 4);
	outq_push(&q, 9, frame(4, 'c'), 4);
	outq_sent(&q, 12);
	cr_assert_eq(q.count, 3, "sent but unacked frames stay");
	cr_assert_eq(outq_unsent_bytes(&q), 0);
	cr_assert_eq(q.bytes, 12, "and count against the bound");
	outq_ack(&q, 7);
	cr_assert_eq(q.count, 2);
	outq_rewind(&q); /* the connection broke: 8 and 9 go again */
	cr_assert_eq(outq_first_unsent_seq(&q), 8);
	cr_assert_eq(unsent(&q, buf, sizeof(buf)), 8);
	cr_assert(memcmp(buf, "bbbbcccc", 8) == 0);
	outq_ack(&q, 100); /* nothing unsent is released by an ack */
	cr_assert_eq(q.count, 2);
	outq_sent(&q, 8);
	outq_ack(&q, 9);
	cr_assert_eq(q.count, 0);
	cr_assert_eq(q.bytes, 0);
	outq_free(&q);
}

Test(outq, grows_and_wraps)
{
	struct outq q;
	uint64_t i;

	outq_init(&q, 1 << 20);
	/* Interleave pushes and sends so the ring wraps while growing. */
	for (i = 1; i <= 1000; i++) {
		cr_assert_eq(outq_push(&q, i, frame(3, (uint8_t)i), 3), 0);
		if (i % 3 == 0)
			outq_sent(&q, 6);
	}
	cr_assert_eq(q.count, 1000 - 2 * 333);
	cr_assert_eq(outq_first_unsent_seq(&q), 667);
	cr_assert_eq(q.bytes, q.count * 3);
	outq_free(&q);
}

Test(outq, control_frames_pass_a_full_queue)
{
	struct outq q;

	outq_init(&q, 10);
	cr_assert_eq(outq_push(&q, 1, frame(10, 'a'), 10), 0);
	cr_assert_eq(outq_push(&q, 2, frame(5, 'b'), 5), -ENOBUFS);
	/* The report of that drop must not be dropped by the same bound. */
	cr_assert_eq(outq_push_control(&q, 3, frame(5, 'l'), 5), 0);
	cr_assert_eq(q.count, 2);
	cr_assert_eq(q.dropped_frames, 1);
	outq_sent(&q, 15);
	cr_assert_eq(q.bytes, 0);
	outq_free(&q);
}
