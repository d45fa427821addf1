/* input_replay: a capture file read as one stream, to its end or followed
 * as it grows. */
#include "input_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static void replay_finish(struct input *in, int status)
{
	struct stream *s = in->replay;

	ev_idle_stop(in->loop, &in->replay_idle);
	ev_timer_stop(in->loop, &in->replay_poll);
	in->replay = NULL;
	input_stream_free(s);
	if (in->cfg.on_replay_done)
		in->cfg.on_replay_done(in->cfg.arg, status);
}

static void replay_step(struct input *in)
{
	struct stream *s = in->replay;
	ssize_t n;
	int rc;

	rc = input_stream_drain(s);
	if (rc < 0) {
		replay_finish(in, -1);
		return;
	}
	if (rc == 1) {
		input_pause(in);
		return;
	}
	n = frame_reader_fill(&s->rd, s->fd);
	if (n > 0) {
		in->st.bytes += (uint64_t)n;
		return;   /* the idle watcher calls again */
	}
	if (n < 0 && n != -EAGAIN) {
		input_stream_error(s, INPUT_ERR_READ, strerror((int)-n));
		replay_finish(in, -1);
		return;
	}
	if (in->follow) {
		/* Like tail -f: wait for the file to grow. */
		ev_idle_stop(in->loop, &in->replay_idle);
		ev_timer_again(in->loop, &in->replay_poll);
		return;
	}
	if (s->rd.want_magic) {
		input_stream_error(s, INPUT_ERR_BAD_MAGIC, "not a capture file (shorter than the magic)");
		replay_finish(in, -1);
		return;
	}
	if (frame_reader_pending(&s->rd)) {
		/* The frames before the cut were good: report, don't fail. */
		uint64_t sup;

		in->st.errors[INPUT_ERR_TRUNCATED]++;
		if (log_ratelimit_allow(&in->rl_error, LOG_BURST_INPUT, &sup))
			LOG_WARN("%s: truncated capture: %zu byte(s) of an incomplete frame at the end",
				 s->name, frame_reader_pending(&s->rd));
	}
	LOG_INFO("%s: end of capture", s->name);
	replay_finish(in, 0);
}

static void replay_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)loop;
	(void)revents;
	replay_step(w->data);
}

static void replay_poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct input *in = w->data;

	(void)revents;
	ev_timer_stop(loop, w);
	if (in->replay && !in->paused)
		ev_idle_start(loop, &in->replay_idle);
}

int input_replay(struct input *in, const char *path, bool follow, char *err, size_t errlen)
{
	struct stream *s;
	int fd, rc;

	if (in->replay) {
		snprintf(err, errlen, "a replay is already running");
		return -EBUSY;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "open capture %s: %s", path, strerror(errno));
		return rc;
	}
	s = input_stream_new(in, fd, true);
	if (!s) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(s->name, sizeof(s->name), "capture %s", path);
	in->replay = s;
	in->follow = follow;
	ev_idle_init(&in->replay_idle, replay_idle_cb);
	in->replay_idle.data = in;
	ev_init(&in->replay_poll, replay_poll_cb);
	in->replay_poll.repeat = in->cfg.follow_poll_s;
	in->replay_poll.data = in;
	if (!in->paused)
		ev_idle_start(in->loop, &in->replay_idle);
	LOG_INFO("replaying %s%s", path, follow ? " (following)" : "");
	return 0;
}
