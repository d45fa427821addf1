#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK 65536

void frame_reader_init(struct frame_reader *r, size_t max_frame, bool expect_magic)
{
	memset(r, 0, sizeof(*r));
	r->max_frame = max_frame ? max_frame : FRAME_MAX_DEFAULT;
	r->want_magic = expect_magic;
}

void frame_reader_free(struct frame_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->start = r->end = 0;
}

/* Makes room for `extra` more bytes after end, compacting first. */
static int reader_room(struct frame_reader *r, size_t extra)
{
	uint8_t *nb;
	size_t used = r->end - r->start, cap;

	if (r->start > 0 && (r->cap - r->end < extra)) {
		memmove(r->buf, r->buf + r->start, used);
		r->start = 0;
		r->end = used;
	}
	if (r->cap - r->end >= extra)
		return 0;
	cap = r->cap ? r->cap : READ_CHUNK;
	while (cap - r->end < extra)
		cap *= 2;
	nb = realloc(r->buf, cap);
	if (!nb)
		return -ENOMEM;
	r->buf = nb;
	r->cap = cap;
	return 0;
}

ssize_t frame_reader_fill(struct frame_reader *r, int fd)
{
	ssize_t n;
	int err = reader_room(r, READ_CHUNK);

	if (err)
		return err;
	do {
		n = read(fd, r->buf + r->end, r->cap - r->end);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	r->end += (size_t)n;
	return n;
}

int frame_reader_feed(struct frame_reader *r, const void *data, size_t len)
{
	int err = reader_room(r, len);

	if (err)
		return err;
	if (len)
		memcpy(r->buf + r->end, data, len);
	r->end += len;
	return 0;
}

int frame_reader_next(struct frame_reader *r, const uint8_t **data, size_t *len)
{
	size_t avail = r->end - r->start;
	const uint8_t *p;
	uint32_t n;

	if (r->broken)
		return -EPROTO;
	if (r->want_magic) {
		if (avail < CAPTURE_MAGIC_LEN)
			return 0;
		if (memcmp(r->buf + r->start, CAPTURE_MAGIC, CAPTURE_MAGIC_LEN) != 0) {
			r->broken = true;
			return -EPROTO;
		}
		r->start += CAPTURE_MAGIC_LEN;
		r->want_magic = false;
		avail -= CAPTURE_MAGIC_LEN;
	}
	if (avail < FRAME_HDR_LEN)
		return 0;
	p = r->buf + r->start;
	n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (n > r->max_frame) {
		r->broken = true;
		return -EMSGSIZE;
	}
	if (avail - FRAME_HDR_LEN < n)
		return 0;
	*data = p + FRAME_HDR_LEN;
	*len = n;
	r->start += FRAME_HDR_LEN + n;
	return 1;
}

size_t frame_reader_pending(const struct frame_reader *r)
{
	return r->end - r->start;
}

bool frame_reader_short(const struct frame_reader *r)
{
	return r->end < r->cap;
}

void frame_writer_init(struct frame_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void frame_writer_free(struct frame_writer *w)
{
	free(w->buf);
	frame_writer_init(w);
}

static int writer_room(struct frame_writer *w, size_t extra)
{
	size_t used = w->end - w->start, cap;
	uint8_t *nb;

	if (w->start > 0 && w->cap - w->end < extra) {
		memmove(w->buf, w->buf + w->start, used);
		w->start = 0;
		w->end = used;
	}
	if (w->cap - w->end >= extra)
		return 0;
	cap = w->cap ? w->cap : 4096;
	while (cap - w->end < extra)
		cap *= 2;
	nb = realloc(w->buf, cap);
	if (!nb)
		return -ENOMEM;
	w->buf = nb;
	w->cap = cap;
	return 0;
}

int frame_writer_put_raw(struct frame_writer *w, const void *data, size_t len)
{
	int err = writer_room(w, len);

	if (err)
		return err;
	memcpy(w->buf + w->end, data, len);
	w->end += len;
	return 0;
}

static void put_len(uint8_t *p, size_t len)
{
	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
}

/* Reserves a frame of len message bytes at the end of w and writes its
 * length prefix; returns where the message goes, or NULL with *err set. */
static uint8_t *writer_frame(struct frame_writer *w, size_t len, int *err)
{
	uint8_t *p;

	*err = len > UINT32_MAX ? -EMSGSIZE : writer_room(w, FRAME_HDR_LEN + len);
	if (*err)
		return NULL;
	p = w->buf + w->end;
	put_len(p, len);
	w->end += FRAME_HDR_LEN + len;
	return p + FRAME_HDR_LEN;
}

int frame_writer_put(struct frame_writer *w, const void *msg, size_t len)
{
	int err;
	uint8_t *p = writer_frame(w, len, &err);

	if (p && len)
		memcpy(p, msg, len);
	return err;
}

int frame_writer_put_frame(struct frame_writer *w, const Jcw__Frame *f)
{
	int err;
	uint8_t *p = writer_frame(w, jcw__frame__get_packed_size(f), &err);

	if (p)
		jcw__frame__pack(f, p);
	return err;
}

int frame_writer_flush(struct frame_writer *w, int fd)
{
	ssize_t n;

	while (w->start < w->end) {
		n = write(fd, w->buf + w->start, w->end - w->start);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? -EAGAIN : -errno;
		}
		w->start += (size_t)n;
	}
	w->start = w->end = 0;
	return 0;
}

size_t frame_writer_pending(const struct frame_writer *w)
{
	return w->end - w->start;
}

int frame_encode(const Jcw__Frame *f, uint8_t **out, size_t *out_len)
{
	size_t len = jcw__frame__get_packed_size(f);
	uint8_t *p;

	if (len > UINT32_MAX)
		return -EMSGSIZE;
	p = malloc(FRAME_HDR_LEN + len);
	if (!p)
		return -ENOMEM;
	put_len(p, len);
	jcw__frame__pack(f, p + FRAME_HDR_LEN);
	*out = p;
	*out_len = FRAME_HDR_LEN + len;
	return 0;
}

Jcw__Frame *frame_decode(const uint8_t *data, size_t len)
{
	Jcw__Frame *f = jcw__frame__unpack(NULL, len, data);

	if (f && f->body_case == JCW__FRAME__BODY__NOT_SET) {
		jcw__frame__free_unpacked(f, NULL);
		return NULL;
	}
	return f;
}

int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int capture_write_header(int fd)
{
	return write_all(fd, CAPTURE_MAGIC, CAPTURE_MAGIC_LEN);
}
