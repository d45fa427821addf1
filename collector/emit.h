/* emit: numbering, encoding and fan-out of the collector's frames.
 *
 * Every frame of a collector run gets the next sequence number (the first,
 * the Hello, is 1), is encoded once, and goes byte for byte to the capture
 * file (if any) and to the socket queue (if the socket is enabled). The
 * capture gets every frame; the queue may refuse frames when the forwarder
 * is away too long (counted in outq.dropped_frames). */
#ifndef JCW_EMIT_H
#define JCW_EMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"
#include "outq.h"

struct emit {
	uint64_t seq;              /* last number given */
	bool to_queue;
	struct outq q;
	int cap_fd;                /* -1: no capture */
	struct frame_writer capw;  /* capture bytes not yet written */
	uint64_t cap_errors;
};

/* cap_fd: an open capture file (the magic is written here) or -1. 0 or
 * -errno. */
int emit_init(struct emit *em, bool to_queue, size_t queue_max, int cap_fd);
void emit_free(struct emit *em);
/* Sets f->seq and sends it on. 0, or -errno when encoding failed; a full
 * queue is not an error here (it is counted). A control frame (Lost)
 * is queued even when the queue is full. */
int emit_frame(struct emit *em, Jcw__Frame *f, bool control);
/* Writes buffered capture bytes. 0 or -errno. */
int emit_flush_capture(struct emit *em);

#endif
