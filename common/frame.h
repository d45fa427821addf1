/* frame: length-prefixed protobuf frames over sockets and capture files.
 *
 * On the wire a frame is a 4-byte big-endian length N followed by N bytes of
 * a serialized jcw.Frame (proto/jcw.proto). A capture file is the 8-byte
 * magic CAPTURE_MAGIC followed by frames exactly as they went over the
 * socket, so a capture replays byte for byte.
 *
 * Reader and writer are incremental: they work on non-blocking descriptors,
 * accept partial reads and short writes, and retry EINTR themselves. */
#ifndef JCW_FRAME_H
#define JCW_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "jcw.pb-c.h"

/* Where the forwarder listens and the collector connects (SOCKET_PATH). */
#define FRAME_SOCKET_DEFAULT "/run/jcw/events.sock"
#define FRAME_HDR_LEN 4
#define FRAME_MAX_DEFAULT (1u << 20)
#define CAPTURE_MAGIC "JCWCAP\0\1"
#define CAPTURE_MAGIC_LEN 8

struct frame_reader {
	uint8_t *buf;
	size_t cap;
	size_t start;      /* first unconsumed byte */
	size_t end;        /* one past the last buffered byte */
	size_t max_frame;
	bool want_magic;   /* a capture header is still expected */
	bool broken;       /* oversize or bad magic: the stream is unusable */
};

/* expect_magic: the stream is a capture file and must start with the magic. */
void frame_reader_init(struct frame_reader *r, size_t max_frame, bool expect_magic);
void frame_reader_free(struct frame_reader *r);
/* One read(2) into the buffer. >0 bytes read, 0 at EOF, -EAGAIN when
 * nothing is available now, other -errno on error. */
ssize_t frame_reader_fill(struct frame_reader *r, int fd);
/* Adds bytes that were read elsewhere (tests, fuzzers). 0 or -ENOMEM. */
int frame_reader_feed(struct frame_reader *r, const void *data, size_t len);
/* 1: data and len hold the next frame's message bytes (valid until the next
 * call on r); 0: more input is needed; -EMSGSIZE: the announced length is
 * over max_frame; -EPROTO: bad capture magic. After a negative return the
 * stream cannot be resynchronised and must be closed. */
int frame_reader_next(struct frame_reader *r, const uint8_t **data, size_t *len);
/* Bytes buffered but not yet returned as a frame: non-zero at EOF means the
 * stream ended inside a frame (a truncated capture). */
size_t frame_reader_pending(const struct frame_reader *r);

/* True when the last frame_reader_fill read less than the room it offered:
 * the descriptor had no more bytes at that moment, so another read would
 * only return EAGAIN. */
bool frame_reader_short(const struct frame_reader *r);

struct frame_writer {
	uint8_t *buf;
	size_t cap;
	size_t start;
	size_t end;
};

void frame_writer_init(struct frame_writer *w);
void frame_writer_free(struct frame_writer *w);
/* Queues raw bytes (e.g. CAPTURE_MAGIC). 0 or -ENOMEM. */
int frame_writer_put_raw(struct frame_writer *w, const void *data, size_t len);
/* Queues one frame: length prefix + message bytes. 0, -EMSGSIZE, -ENOMEM. */
int frame_writer_put(struct frame_writer *w, const void *msg, size_t len);
/* Queues a protobuf Frame. 0, -EMSGSIZE, -ENOMEM. */
int frame_writer_put_frame(struct frame_writer *w, const Jcw__Frame *f);
/* Writes as much as fd takes. 0 when everything is written, -EAGAIN when
 * data is left and fd would block, other -errno on error. */
int frame_writer_flush(struct frame_writer *w, int fd);
size_t frame_writer_pending(const struct frame_writer *w);

/* Serializes f with its length prefix into a new buffer (free() it). */
int frame_encode(const Jcw__Frame *f, uint8_t **out, size_t *out_len);
/* Unpacks one message; NULL if malformed or without a body. Free with
 * jcw__frame__free_unpacked(f, NULL). */
Jcw__Frame *frame_decode(const uint8_t *data, size_t len);

/* Writes CAPTURE_MAGIC to a blocking fd. 0 or -errno. */
int capture_write_header(int fd);
/* Blocking write of all of buf (EINTR and short writes handled). */
int write_all(int fd, const void *buf, size_t len);

#endif
