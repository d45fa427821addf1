#include "outq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define AT(q, i) ((q)->items[((q)->head + (i)) % (q)->cap])

void outq_init(struct outq *q, size_t max_bytes)
{
	memset(q, 0, sizeof(*q));
	q->max_bytes = max_bytes;
}

void outq_free(struct outq *q)
{
	size_t i;

	for (i = 0; i < q->count; i++)
		free(AT(q, i).data);
	free(q->items);
	outq_init(q, q->max_bytes);
}

static int outq_grow(struct outq *q)
{
	size_t ncap = q->cap ? q->cap * 2 : 64, i;
	struct outq_item *n = malloc(ncap * sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (i = 0; i < q->count; i++)
		n[i] = AT(q, i);
	free(q->items);
	q->items = n;
	q->cap = ncap;
	q->head = 0;
	return 0;
}

static int outq_append(struct outq *q, uint64_t seq, uint8_t *data, size_t len)
{
	if (q->count == q->cap && outq_grow(q)) {
		free(data);
		return -ENOMEM;
	}
	AT(q, q->count) = (struct outq_item){seq, len, data};
	q->count++;
	q->bytes += len;
	return 0;
}

int outq_push(struct outq *q, uint64_t seq, uint8_t *data, size_t len)
{
	if (len > q->max_bytes || q->bytes > q->max_bytes - len) {
		q->dropped_frames++;
		q->dropped_bytes += len;
		free(data);
		return -ENOBUFS;
	}
	return outq_append(q, seq, data, len);
}

int outq_push_control(struct outq *q, uint64_t seq, uint8_t *data, size_t len)
{
	return outq_append(q, seq, data, len);
}

int outq_iov(const struct outq *q, struct iovec *iov, int max)
{
	size_t i;
	int n = 0;

	for (i = q->nsent; i < q->count && n < max; i++, n++) {
		const struct outq_item *it = &AT(q, i);
		size_t off = i == q->nsent ? q->sent_off : 0;

		iov[n].iov_base = it->data + off;
		iov[n].iov_len = it->len - off;
	}
	return n;
}

/* Frees the oldest frame. */
static void outq_pop(struct outq *q)
{
	struct outq_item *it = &AT(q, 0);

	q->bytes -= it->len;
	free(it->data);
	q->head = (q->head + 1) % q->cap;
	q->count--;
	q->nsent--;
}

void outq_sent(struct outq *q, size_t n)
{
	while (n > 0 && q->nsent < q->count) {
		struct outq_item *it = &AT(q, q->nsent);
		size_t left = it->len - q->sent_off;

		if (n < left) {
			q->sent_off += n;
			break;
		}
		n -= left;
		q->sent_off = 0;
		q->nsent++;
	}
	if (!q->ack_mode)
		while (q->nsent > 0)
			outq_pop(q);
}

void outq_ack(struct outq *q, uint64_t upto)
{
	while (q->nsent > 0 && AT(q, 0).seq <= upto)
		outq_pop(q);
}

void outq_rewind(struct outq *q)
{
	q->nsent = 0;
	q->sent_off = 0;
}

void outq_set_ack_mode(struct outq *q, bool on)
{
	q->ack_mode = on;
	if (!on)
		while (q->nsent > 0)
			outq_pop(q);
}

uint64_t outq_first_unsent_seq(const struct outq *q)
{
	return q->nsent < q->count ? AT(q, q->nsent).seq : 0;
}

size_t outq_unsent_bytes(const struct outq *q)
{
	size_t i, n = 0;

	for (i = q->nsent; i < q->count; i++)
		n += AT(q, i).len;
	return n - q->sent_off;
}
