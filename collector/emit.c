#include "emit.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int emit_init(struct emit *em, bool to_queue, size_t queue_max, int cap_fd)
{
	em->seq = 0;
	em->to_queue = to_queue;
	em->cap_fd = cap_fd;
	em->cap_errors = 0;
	outq_init(&em->q, queue_max);
	frame_writer_init(&em->capw);
	if (cap_fd >= 0)
		return frame_writer_put_raw(&em->capw, CAPTURE_MAGIC, CAPTURE_MAGIC_LEN);
	return 0;
}

void emit_free(struct emit *em)
{
	outq_free(&em->q);
	frame_writer_free(&em->capw);
}

int emit_frame(struct emit *em, Jcw__Frame *f, bool control)
{
	uint8_t *buf;
	size_t len;
	int err;

	f->seq = ++em->seq;
	err = frame_encode(f, &buf, &len);
	if (err)
		return err;
	if (em->cap_fd >= 0) {
		err = frame_writer_put_raw(&em->capw, buf, len);
		if (err)
			em->cap_errors++;
	}
	if (em->to_queue && control)
		outq_push_control(&em->q, f->seq, buf, len);
	else if (em->to_queue)
		outq_push(&em->q, f->seq, buf, len); /* takes buf; a refusal is counted */
	else
		free(buf);
	return 0;
}

int emit_flush_capture(struct emit *em)
{
	int err;

	if (em->cap_fd < 0 || frame_writer_pending(&em->capw) == 0)
		return 0;
	/* A capture is a regular file or a pipe to a reader: a blocking
	 * descriptor, so flush writes everything or fails. */
	err = frame_writer_flush(&em->capw, em->cap_fd);
	if (err == -EAGAIN)
		return 0;
	if (err)
		em->cap_errors++;
	return err;
}
