/* input_stream: one stream of frames, from a socket or a capture: hello,
 * version and sequence checks, decoding, and the acknowledgements written
 * back to a collector. */
#include "input_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "frame.h"
#include "log.h"

static enum input_frame_type frame_type(const Jcw__Frame *f)
{
	switch (f->body_case) {
	case JCW__FRAME__BODY_HELLO: return INPUT_FT_HELLO;
	case JCW__FRAME__BODY_EXEC: return INPUT_FT_EXEC;
	case JCW__FRAME__BODY_EXIT: return INPUT_FT_EXIT;
	case JCW__FRAME__BODY_FILE: return INPUT_FT_FILE;
	case JCW__FRAME__BODY_LOST: return INPUT_FT_LOST;
	case JCW__FRAME__BODY_HEARTBEAT: return INPUT_FT_HEARTBEAT;
	case JCW__FRAME__BODY_ACK: return INPUT_FT_ACK;
	case JCW__FRAME__BODY_STDERR_PIECE: return INPUT_FT_STDERR;
	default: return INPUT_FT_UNKNOWN;
	}
}

struct stream *input_stream_new(struct input *in, int fd, bool is_replay)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->in = in;
	s->fd = fd;
	s->is_replay = is_replay;
	frame_reader_init(&s->rd, in->cfg.max_frame, is_replay);
	frame_writer_init(&s->wr);
	return s;
}

void input_stream_free(struct stream *s)
{
	ev_io_stop(s->in->loop, &s->io);
	ev_io_stop(s->in->loop, &s->wio);
	frame_writer_free(&s->wr);
	if (s->fd >= 0)
		close(s->fd);
	frame_reader_free(&s->rd);
	free(s->boot_id);
	free(s);
}

void input_conn_close(struct stream *s)
{
	struct input *in = s->in;

	if (s->prev)
		s->prev->next = s->next;
	else
		in->conns = s->next;
	if (s->next)
		s->next->prev = s->prev;
	in->nconns--;
	in->st.active = in->nconns;
	LOG_INFO("collector connection closed (%s)", s->name);
	input_stream_free(s);
}

/* Counts and logs why a stream is being given up. */
void input_stream_error(struct stream *s, enum input_error e, const char *detail)
{
	struct input *in = s->in;
	uint64_t sup = 0;

	in->st.errors[e]++;
	if (log_ratelimit_allow(&in->rl_error, LOG_BURST_INPUT, &sup))
		LOG_WARN("%s: %s: %s, closing the stream (%llu similar messages suppressed)",
			 s->name, input_error_name(e), detail, (unsigned long long)sup);
}

static int stream_hello(struct stream *s, const Jcw__Frame *f)
{
	const Jcw__Hello *h = f->hello;
	struct input *in = s->in;
	char detail[128];
	struct bootseq_boot *b;
	bool created;

	if (h->format_version != JCW__FORMAT_VERSION__FORMAT_VERSION_CURRENT &&
	    h->format_version != JCW__FORMAT_VERSION__FORMAT_VERSION_ACKED) {
		snprintf(detail, sizeof(detail), "Hello has format_version %u, this forwarder speaks "
			 "1 and 2", h->format_version);
		input_stream_error(s, INPUT_ERR_VERSION, detail);
		return -1;
	}
	if (!h->boot_id || !h->boot_id[0]) {
		input_stream_error(s, INPUT_ERR_BAD_HELLO, "Hello without boot_id");
		return -1;
	}
	b = bootseq_get(in->boots, h->boot_id, &created);
	free(s->boot_id);
	s->boot_id = strdup(h->boot_id);
	if (!b || !s->boot_id) {
		input_stream_error(s, INPUT_ERR_READ, "out of memory");
		return -1;
	}
	s->boot = b;
	if (!s->is_replay && h->format_version == JCW__FORMAT_VERSION__FORMAT_VERSION_ACKED)
		s->acks = true;
	if (created && h->first_seq > 0)
		bootseq_seen(b, h->first_seq - 1);
	else if (!created && h->first_seq > 0 && h->first_seq <= b->seen)
		in->st.resends++;   /* a reconnect that resends what was already seen */
	/* A Hello that takes the next number is part of the sequence. */
	if (f->seq && f->seq == b->seen + 1)
		bootseq_seen(b, f->seq);
	s->hello_seq = f->seq;
	LOG_INFO("%s: hello from node %.*s, boot %s, collector %s, first_seq %llu%s", s->name,
		 (int)h->node_name.len, h->node_name.data ? (const char *)h->node_name.data : "",
		 h->boot_id, h->collector_version ? h->collector_version : "?",
		 (unsigned long long)h->first_seq, created ? " (new boot)" : "");
	return 0;
}

/* 1: hand the frame over; 0: skip it (duplicate). */
static int stream_check_seq(struct stream *s, uint64_t seq)
{
	struct input *in = s->in;
	uint64_t gap, sup = 0;

	if (seq == 0)
		return 1;   /* unsequenced */
	if (!s->boot || !s->boot->id || strcmp(s->boot->id, s->boot_id) != 0) {
		s->boot = bootseq_get(in->boots, s->boot_id, NULL);
		if (!s->boot)
			return 1;
	}
	if (seq <= s->boot->seen) {
		in->st.seq_duplicates++;
		return 0;
	}
	gap = seq - s->boot->seen - 1;
	if (gap && s->hello_seq > s->boot->seen && s->hello_seq < seq)
		gap--;
	if (gap) {
		in->st.seq_gaps += gap;
		if (log_ratelimit_allow(&in->rl_gap, LOG_BURST, &sup))
			LOG_WARN("%s: sequence gap in boot %s: %llu frame(s) missing before seq %llu",
				 s->name, s->boot_id, (unsigned long long)gap, (unsigned long long)seq);
	}
	bootseq_seen(s->boot, seq);
	return 1;
}

/* Checks one decoded frame and hands it over (ownership included) or frees
 * it. 0, or -1 when the stream must close. */
static int stream_frame(struct stream *s, Jcw__Frame *f)
{
	struct input *in = s->in;
	enum input_frame_type t = frame_type(f);

	in->st.frames[t]++;
	in->st.last_frame_unix = clock_unix_s();
	if (t == INPUT_FT_HELLO) {
		if (stream_hello(s, f))
			goto drop_fail;
		in->cfg.on_frame(in->cfg.arg, s->boot_id, f);
		return 0;
	}
	if (!s->boot_id) {
		input_stream_error(s, INPUT_ERR_NO_HELLO, "the first frame is not a Hello");
		goto drop_fail;
	}
	/* Newer collectors may send body types this forwarder does not know:
	 * counted as "unknown" and skipped, as the proto's versioning rule says. */
	if (!stream_check_seq(s, f->seq) || t == INPUT_FT_UNKNOWN) {
		jcw__frame__free_unpacked(f, NULL);
		return 0;
	}
	in->cfg.on_frame(in->cfg.arg, s->boot_id, f);
	return 0;
drop_fail:
	jcw__frame__free_unpacked(f, NULL);
	return -1;
}

/* Hands over every complete buffered frame. 0: needs more input; 1: paused
 * by can_take; -1: the stream failed (counted and logged) and must close. */
int input_stream_drain(struct stream *s)
{
	struct input *in = s->in;
	const uint8_t *data;
	Jcw__Frame *f;
	size_t len;
	char detail[96];
	int rc;

	for (;;) {
		if (in->cfg.can_take && !in->cfg.can_take(in->cfg.arg))
			return 1;
		rc = frame_reader_next(&s->rd, &data, &len);
		if (rc == 0)
			return 0;
		if (rc == -EMSGSIZE) {
			snprintf(detail, sizeof(detail), "frame longer than the %zu-byte limit",
				 in->cfg.max_frame);
			input_stream_error(s, INPUT_ERR_OVERSIZE, detail);
			return -1;
		}
		if (rc < 0) {
			input_stream_error(s, INPUT_ERR_BAD_MAGIC, "not a capture file (bad magic)");
			return -1;
		}
		f = jcw__frame__unpack(NULL, len, data);
		if (!f) {
			snprintf(detail, sizeof(detail), "a %zu-byte frame is not a valid jcw.Frame", len);
			input_stream_error(s, INPUT_ERR_MALFORMED, detail);
			return -1;
		}
		rc = stream_frame(s, f);
		if (rc < 0)
			return -1;
	}
}

static int stream_put_ack(struct stream *s, uint64_t seq)
{
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Ack a = JCW__ACK__INIT;

	a.boot_id = s->boot_id;
	a.seq = seq;
	f.body_case = JCW__FRAME__BODY_ACK;
	f.ack = &a;
	return frame_writer_put_frame(&s->wr, &f);
}

static void stream_write_acks(struct stream *s)
{
	struct input *in = s->in;
	uint64_t sup = 0;
	int rc;

	for (;;) {
		rc = frame_writer_flush(&s->wr, s->fd);
		if (rc == -EAGAIN) {
			ev_io_start(in->loop, &s->wio);
			return;
		}
		ev_io_stop(in->loop, &s->wio);
		if (rc < 0) {
			/* The peer is gone; reading will notice and close. */
			s->acks = false;
			if (log_ratelimit_allow(&in->rl_error, LOG_BURST_INPUT, &sup))
				LOG_WARN("%s: writing an Ack: %s", s->name, strerror(-rc));
			return;
		}
		if (!s->ack_later || stream_put_ack(s, s->ack_later))
			return;
		s->ack_later = 0;
	}
}

void input_conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	stream_write_acks(w->data);
}

int input_ack(struct input *in, const char *boot_id, uint64_t seq)
{
	struct stream *s;
	int n = 0;

	for (s = in->conns; s; s = s->next) {
		if (!s->acks || !s->boot_id || strcmp(s->boot_id, boot_id) != 0)
			continue;
		/* Acks are cumulative: behind a slow reader only the last counts. */
		if (frame_writer_pending(&s->wr) || stream_put_ack(s, seq)) {
			s->ack_later = seq;
		} else {
			stream_write_acks(s);
		}
		n++;
	}
	if (n) {
		in->st.acks_sent++;
		in->st.acked_seq = seq;
	}
	return n;
}
