/* outq: the collector's bounded queue of encoded frames, by bytes.
 *
 * Frames enter in sequence order (push) and leave the queue in two steps:
 * they are *sent* (written to the socket, tracked with a send cursor that
 * may stop inside a frame) and then *released*. Without acknowledgements
 * (the default) a frame is released as soon as it is completely written.
 * In ack mode a sent frame stays until the forwarder acknowledges its seq
 * (ack), and rewind() after a reconnect moves the send cursor back to the
 * first unacknowledged frame so it is sent again.
 *
 * The bound counts every byte held, sent-but-unacked included. A push that
 * does not fit is refused and counted as dropped: the oldest frames (which
 * the forwarder may already be working on) are never thrown away first. */
#ifndef JCW_OUTQ_H
#define JCW_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct outq_item {
	uint64_t seq;
	size_t len;
	uint8_t *data;
};

struct outq {
	struct outq_item *items;   /* ring of cap items */
	size_t cap;
	size_t head;               /* oldest held frame */
	size_t count;              /* frames held */
	size_t nsent;              /* frames from head completely written */
	size_t sent_off;           /* bytes of the next frame already written */
	size_t bytes;
	size_t max_bytes;
	bool ack_mode;
	uint64_t dropped_frames;   /* refused by push since init */
	uint64_t dropped_bytes;
};

void outq_init(struct outq *q, size_t max_bytes);
void outq_free(struct outq *q);
/* Takes ownership of data (malloc'ed) in every case. 0, or -ENOBUFS when it
 * would exceed max_bytes (data freed, counted in dropped_*), -ENOMEM. */
int outq_push(struct outq *q, uint64_t seq, uint8_t *data, size_t len);
/* The same without the bound: for the small in-band reports of what was
 * dropped (Lost), which must not be dropped by the same full queue. */
int outq_push_control(struct outq *q, uint64_t seq, uint8_t *data, size_t len);
/* Fills up to max iovecs with the unsent bytes, in order. Returns the count. */
int outq_iov(const struct outq *q, struct iovec *iov, int max);
/* n bytes of what outq_iov() described were written. */
void outq_sent(struct outq *q, size_t n);
/* Releases sent frames with seq <= upto (ack mode). */
void outq_ack(struct outq *q, uint64_t upto);
/* After a reconnect: resend from the first unreleased frame, from its start. */
void outq_rewind(struct outq *q);
void outq_set_ack_mode(struct outq *q, bool on);
/* Seq of the first frame the next connection will see (0 if empty). */
uint64_t outq_first_unsent_seq(const struct outq *q);
size_t outq_unsent_bytes(const struct outq *q);

#endif
