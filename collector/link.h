/* link: the collector's connection to the forwarder's Unix socket.
 *
 * Non-blocking connect; on failure or hang-up the link goes down and the
 * next attempt waits a capped exponential backoff (100 ms doubling to 5 s,
 * reset by a successful connect). A connection starts with an optional
 * preamble (the per-connection Hello), then the queue's unsent frames.
 * Frames the forwarder sends back (Ack) are read and handed to a callback. */
#ifndef JCW_LINK_H
#define JCW_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "outq.h"

#define LINK_BACKOFF_MIN_NS 100000000ull
#define LINK_BACKOFF_MAX_NS 5000000000ull

enum link_state { LINK_DOWN, LINK_CONNECTING, LINK_UP };

struct link {
	char path[108];
	int fd;
	enum link_state state;
	uint64_t next_try_ns;      /* CLOCK_MONOTONIC: earliest next connect */
	uint64_t backoff_ns;
	uint64_t connects;         /* successful connects so far */
	uint64_t sockets;          /* sockets opened so far: each a new fd to watch */
	struct frame_reader rd;
	struct frame_writer pre;   /* preamble, written before the queue */
};

/* 0, or -ENAMETOOLONG. */
int link_init(struct link *l, const char *path);
void link_free(struct link *l);
/* Starts a connect if down and due. Returns 1 when now up, 0 when
 * connecting or not yet due, -errno when the attempt failed (retry later). */
int link_connect(struct link *l, uint64_t now_ns);
/* The socket became writable while connecting: 1 up, -errno failed. */
int link_connected(struct link *l, uint64_t now_ns);
/* Closes and schedules the next attempt. */
void link_down(struct link *l, uint64_t now_ns);
/* Queues a frame to go before the queue on this connection. */
int link_preamble(struct link *l, const Jcw__Frame *f);
/* Writes preamble then queue. 0 all written, -EAGAIN more left, -errno. */
int link_write(struct link *l, struct outq *q);
bool link_wants_write(const struct link *l, const struct outq *q);
/* Reads what is there; calls on_frame for each decoded frame. 0, or
 * -EPIPE at EOF, -EPROTO/-EMSGSIZE on a broken stream, -errno. */
int link_read(struct link *l, void (*on_frame)(void *arg, const Jcw__Frame *f), void *arg);

#endif
