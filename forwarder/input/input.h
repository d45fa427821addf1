/* input: where frames come from. Either the collector's Unix socket
 * (listening, SO_PEERCRED check, one frame reader per connection) or a
 * capture file (--replay, optionally --follow), both on the caller's libev
 * loop and both through the same checks:
 *
 * - the first frame of a stream must be a Hello with a supported
 *   format_version and a boot_id, else the stream is closed;
 * - a malformed or oversized frame closes the stream (counted, logged);
 * - sequence numbers are tracked per boot_id: a jump forward counts the
 *   missing frames as a gap, a frame at or below the last one seen (a
 *   collector resending after a reconnect) is a duplicate and is skipped.
 *   A new boot's sequence starts at Hello.first_seq (or the Hello's own seq
 *   when that is 0 or the Hello is the first frame of the boot); a Hello
 *   that takes a number of its own inside a resend is not a gap.
 *
 * A socket peer whose Hello has format_version 2 keeps its frames until
 * acknowledged: input_ack() writes Ack frames back to it (non-blocking; a
 * peer that does not read gets only the latest Ack once it does). Version
 * 1 peers (and captures) get no Acks.
 *
 * Frames that pass are handed to on_frame (Hello included, so the caller
 * sees boot changes). Before each frame input asks can_take(); when it says
 * no (delivery queue full), reading pauses and is retried shortly, so a
 * large replay never outruns delivery. */
#ifndef JCW_INPUT_H
#define JCW_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "jcw.pb-c.h"

enum input_frame_type {
	INPUT_FT_HELLO, INPUT_FT_EXEC, INPUT_FT_EXIT, INPUT_FT_FILE, INPUT_FT_LOST,
	INPUT_FT_HEARTBEAT, INPUT_FT_ACK, INPUT_FT_STDERR, INPUT_FT_UNKNOWN, INPUT_FT_COUNT
};

/* Why a stream was closed early (or, for truncated, ended badly). */
enum input_error {
	INPUT_ERR_MALFORMED,    /* protobuf did not decode */
	INPUT_ERR_OVERSIZE,     /* length prefix over max_frame */
	INPUT_ERR_NO_HELLO,     /* first frame was not a Hello */
	INPUT_ERR_VERSION,      /* Hello with an unsupported format_version */
	INPUT_ERR_BAD_HELLO,    /* Hello without a boot_id */
	INPUT_ERR_BAD_MAGIC,    /* capture file without CAPTURE_MAGIC */
	INPUT_ERR_TRUNCATED,    /* EOF inside a frame */
	INPUT_ERR_READ,         /* read(2) failed */
	INPUT_ERR_COUNT
};

enum input_reject { INPUT_REJ_UID, INPUT_REJ_LIMIT, INPUT_REJ_CREDS, INPUT_REJ_COUNT };

struct input_stats {
	uint64_t frames[INPUT_FT_COUNT];      /* decoded, by body type */
	uint64_t errors[INPUT_ERR_COUNT];
	uint64_t rejected[INPUT_REJ_COUNT];   /* connections refused */
	uint64_t accepted;                    /* connections accepted */
	uint64_t active;                      /* gauge: open connections */
	uint64_t seq_gaps;                    /* frames missing */
	uint64_t seq_duplicates;              /* frames skipped as already seen */
	uint64_t resends;                     /* Hellos resending frames already seen */
	uint64_t acks_sent;                   /* Ack frames queued to collectors */
	uint64_t acked_seq;                   /* seq of the last Ack queued */
	uint64_t bytes;                       /* bytes read */
	double last_frame_unix;               /* wall clock of the last frame */
};

struct input_config {
	const char *socket_path;
	const uid_t *allowed_uids;
	size_t n_uids;
	size_t max_frame;          /* 0: FRAME_MAX_DEFAULT */
	unsigned max_conns;        /* 0: 8 */
	double follow_poll_s;      /* --follow polling period; 0: 0.2 s */
	/* Reads of one connection per wake-up before the loop serves others
	 * (fairness between collectors and the rest); 0: 16. */
	unsigned reads_per_wakeup;
	/* A checked frame; boot_id is the stream's current boot. The callee
	 * owns f: free it with jcw__frame__free_unpacked(f, NULL) (or hand it
	 * to join_put). */
	void (*on_frame)(void *arg, const char *boot_id, Jcw__Frame *f);
	/* Optional: false = do not hand over more frames now. */
	bool (*can_take)(void *arg);
	/* Replay finished (EOF without --follow, or a fatal stream error):
	 * status 0, or -1 when the capture could not be read to its end. */
	void (*on_replay_done)(void *arg, int status);
	void *arg;
	/* The boots' sequence numbers, shared with who acknowledges (NULL:
	 * input makes its own). */
	struct bootseq *boots;
};

struct input;

int input_new(struct ev_loop *loop, const struct input_config *cfg, struct input **out);
/* Creates the socket's directory if missing, replaces a stale socket file
 * (one nobody listens on), binds with mode 0660 and listens. 0, or -errno
 * with a message in err. */
int input_listen(struct input *in, char *err, size_t errlen);
/* Reads the capture at path (must start with CAPTURE_MAGIC). 0 or -errno. */
int input_replay(struct input *in, const char *path, bool follow, char *err, size_t errlen);
/* For tests and embedding: serve an already connected stream socket (the
 * peer credential check applies). 0 or -errno. */
int input_adopt(struct input *in, int fd);
/* Stops listening (the socket file is removed) and stops a replay; open
 * connections are closed. on_replay_done is not called. */
void input_stop(struct input *in);
/* Listening, or replaying: frames can arrive. */
bool input_ready(const struct input *in);
/* Acknowledges every frame up to seq of boot_id to the connections of that
 * boot that asked for Acks (format_version 2). Returns how many got it. */
int input_ack(struct input *in, const char *boot_id, uint64_t seq);
/* Resumes paused reading now (call when can_take turns true again). */
void input_kick(struct input *in);
const struct input_stats *input_stats(const struct input *in);
void input_free(struct input *in);

const char *input_frame_type_name(enum input_frame_type t);  /* "exec", ... */
const char *input_error_name(enum input_error e);            /* "malformed", ... */
const char *input_reject_name(enum input_reject r);          /* "uid", ... */

#endif
