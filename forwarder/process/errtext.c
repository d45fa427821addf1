#include "errtext.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int errtext_init(struct errtext *t, size_t head_cap, size_t tail_cap)
{
	memset(t, 0, sizeof(*t));
	t->head = malloc(head_cap ? head_cap : 1);
	t->tail = malloc(tail_cap ? tail_cap : 1);
	if (!t->head || !t->tail) {
		errtext_free(t);
		return -ENOMEM;
	}
	t->head_cap = head_cap;
	t->tail_cap = tail_cap;
	return 0;
}

void errtext_free(struct errtext *t)
{
	free(t->head);
	free(t->tail);
	t->head = t->tail = NULL;
	t->head_len = t->tail_len = 0;
}

/* Keeps the last tail_cap bytes of tail ++ p[0..n), which continues it. */
static void errtext_tail_add(struct errtext *t, uint64_t offset, const uint8_t *p, size_t n)
{
	size_t keep;

	if (!t->tail_cap)
		return;
	if (offset != t->tail_end || !t->tail_len)
		t->tail_len = 0;   /* not a continuation: start again */
	if (n >= t->tail_cap) {
		memcpy(t->tail, p + n - t->tail_cap, t->tail_cap);
		t->tail_len = t->tail_cap;
	} else {
		keep = t->tail_len + n > t->tail_cap ? t->tail_cap - n : t->tail_len;
		memmove(t->tail, t->tail + t->tail_len - keep, keep);
		memcpy(t->tail + keep, p, n);
		t->tail_len = keep + n;
	}
	t->tail_end = offset + n;
}

/* errtext_put at an offset of the whole text. */
static void errtext_place(struct errtext *t, uint64_t offset, const uint8_t *p, size_t n)
{
	size_t skip, room, k;

	if (offset + n > t->total)
		t->total = offset + n;
	if (!n)
		return;
	/* A piece that overlaps what the head has (two threads raced on the
	 * kernel's count) gives only its new bytes. */
	if (offset < t->head_len && !t->tail_len) {
		skip = t->head_len - offset;
		if (skip >= n)
			return;
		p += skip;
		n -= skip;
		offset += skip;
	}
	if (offset == t->head_len && !t->tail_len && !t->hole) {
		room = t->head_cap - t->head_len;
		k = n < room ? n : room;
		memcpy(t->head + t->head_len, p, k);
		t->head_len += k;
		p += k;
		n -= k;
		offset += k;
		if (!n)
			return;
	} else if (offset > t->head_len && t->head_len < t->head_cap && !t->tail_len) {
		t->hole = true;
	}
	errtext_tail_add(t, offset, p, n);
}

void errtext_put(struct errtext *t, uint64_t offset, const uint8_t *p, size_t n)
{
	errtext_place(t, offset + t->shift, p, n);
}

void errtext_unread(struct errtext *t, uint64_t offset, uint64_t n)
{
	offset += t->shift;
	if (offset + n > t->total)
		t->total = offset + n;
	t->unread += n;
	/* What comes after it cannot continue the head. */
	if (n && offset + n > t->head_len && t->head_len < t->head_cap && !t->tail_len)
		t->hole = true;
}

void errtext_total(struct errtext *t, uint64_t total)
{
	if (total + t->shift > t->total)
		t->total = total + t->shift;
}

void errtext_append(struct errtext *t, const struct errtext *src)
{
	uint64_t base = t->total;

	/* The tail of t ends where t does only if nothing was lost after it:
	 * otherwise what follows cannot continue it (errtext_tail_add). */
	errtext_place(t, base, src->head, src->head_len);
	if (src->tail_len)
		errtext_place(t, base + src->tail_end - src->tail_len, src->tail, src->tail_len);
	t->total = base + src->total;
	t->shift += src->total;
	t->unread += src->unread;
	if (src->hole && t->head_len < t->head_cap)
		t->hole = true;
}
