/* input_int: what the parts of input share, and nobody else.
 *
 *   input.c         the input object, pausing (the boots' sequence numbers
 *                   are bootseq.h's)
 *   input_stream.c  one stream: hello, version and sequence checks, frames,
 *                   acknowledgements back to the collector
 *   input_socket.c  the Unix socket: listen, credentials, accept, read
 *   input_replay.c  a capture file as a stream */
#ifndef JCW_INPUT_INT_H
#define JCW_INPUT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "bootseq.h"
#include "frame.h"
#include "input.h"
#include "log.h"

struct stream {
	struct input *in;
	struct stream *prev, *next;
	int fd;
	bool is_replay;
	ev_io io;
	struct frame_reader rd;
	char *boot_id;
	struct bootseq_boot *boot;   /* cache: valid while boot->id equals boot_id */
	uint64_t hello_seq;
	bool acks;           /* the peer keeps frames until acknowledged */
	struct frame_writer wr;  /* Acks not yet written */
	ev_io wio;
	uint64_t ack_later;  /* Ack held back while wr is not empty */
	char name[96];       /* for logs */
};

struct input {
	struct ev_loop *loop;
	struct input_config cfg;
	char *socket_path;
	int listen_fd;
	ev_io accept_io;
	dev_t sock_dev;
	ino_t sock_ino;
	struct stream *conns;
	unsigned nconns;
	struct stream *replay;
	bool follow;
	ev_idle replay_idle;
	ev_timer replay_poll;
	bool paused;
	ev_timer pause_timer;
	struct bootseq *boots;
	bool own_boots;      /* made here: none was given */
	struct input_stats st;
	struct log_ratelimit rl_reject, rl_error, rl_gap;
};

/* Stops reading every stream until input_kick (the sink is full). */
void input_pause(struct input *in);

/* A stream reading fd (a connection, or the capture of a replay). */
struct stream *input_stream_new(struct input *in, int fd, bool is_replay);
void input_stream_free(struct stream *s);
/* Closes a connection: unlinked, watchers stopped, freed. */
void input_conn_close(struct stream *s);
/* Counts and logs (rate-limited) what ends this stream. */
void input_stream_error(struct stream *s, enum input_error e, const char *detail);
/* Hands over every complete buffered frame. 0: needs more input; 1: paused
 * by can_take; -1: the stream failed (counted and logged) and must close. */
int input_stream_drain(struct stream *s);
/* The connection can take more Acks. */
void input_conn_write_cb(struct ev_loop *loop, ev_io *w, int revents);

#endif
