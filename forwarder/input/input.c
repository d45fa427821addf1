/* input: frames from collectors and captures into the pipeline (see
 * input_int.h for the parts): the input object, pausing. */
#include "input_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INPUT_PAUSE_RETRY_S 0.01

static void pause_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

static const char *const frame_type_names[INPUT_FT_COUNT] = {
	"hello", "exec", "exit", "file", "lost", "heartbeat", "ack", "stderr", "unknown",
};

static const char *const error_names[INPUT_ERR_COUNT] = {
	"malformed", "oversize", "no_hello", "unsupported_version", "bad_hello",
	"bad_magic", "truncated", "read_error",
};

static const char *const reject_names[INPUT_REJ_COUNT] = {"uid", "limit", "no_credentials"};

const char *input_frame_type_name(enum input_frame_type t)
{
	return t < INPUT_FT_COUNT ? frame_type_names[t] : "unknown";
}

const char *input_error_name(enum input_error e)
{
	return e < INPUT_ERR_COUNT ? error_names[e] : "unknown";
}

const char *input_reject_name(enum input_reject r)
{
	return r < INPUT_REJ_COUNT ? reject_names[r] : "unknown";
}

int input_new(struct ev_loop *loop, const struct input_config *cfg, struct input **out)
{
	struct input *in = calloc(1, sizeof(*in));

	if (!in)
		return -ENOMEM;
	in->loop = loop;
	in->cfg = *cfg;
	if (bootseq_use(cfg->boots, &in->boots, &in->own_boots)) {
		free(in);
		return -ENOMEM;
	}
	in->listen_fd = -1;
	if (!in->cfg.max_frame)
		in->cfg.max_frame = FRAME_MAX_DEFAULT;
	if (!in->cfg.max_conns)
		in->cfg.max_conns = 8;
	if (in->cfg.follow_poll_s <= 0)
		in->cfg.follow_poll_s = 0.2;
	ev_init(&in->pause_timer, pause_timer_cb);
	in->pause_timer.repeat = INPUT_PAUSE_RETRY_S;
	in->pause_timer.data = in;
	if (cfg->socket_path) {
		in->socket_path = strdup(cfg->socket_path);
		if (!in->socket_path) {
			input_free(in);
			return -ENOMEM;
		}
	}
	*out = in;
	return 0;
}

void input_pause(struct input *in)
{
	struct stream *s;

	if (in->paused)
		return;
	in->paused = true;
	for (s = in->conns; s; s = s->next)
		ev_io_stop(in->loop, &s->io);
	ev_idle_stop(in->loop, &in->replay_idle);
	ev_timer_stop(in->loop, &in->replay_poll);
	ev_timer_again(in->loop, &in->pause_timer);
}

void input_kick(struct input *in)
{
	struct stream *s;

	if (!in->paused)
		return;
	if (in->cfg.can_take && !in->cfg.can_take(in->cfg.arg))
		return;
	in->paused = false;
	ev_timer_stop(in->loop, &in->pause_timer);
	/* Buffered frames need no new bytes: feed a read event to drain them. */
	for (s = in->conns; s; s = s->next) {
		ev_io_start(in->loop, &s->io);
		ev_feed_event(in->loop, &s->io, EV_READ);
	}
	if (in->replay)
		ev_idle_start(in->loop, &in->replay_idle);
}

static void pause_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	input_kick(w->data);
}

void input_stop(struct input *in)
{
	struct stat st;

	if (in->listen_fd >= 0) {
		ev_io_stop(in->loop, &in->accept_io);
		close(in->listen_fd);
		in->listen_fd = -1;
		/* Only our own socket file: another instance may have replaced it. */
		if (stat(in->socket_path, &st) == 0 && st.st_dev == in->sock_dev &&
		    st.st_ino == in->sock_ino)
			unlink(in->socket_path);
	}
	while (in->conns)
		input_conn_close(in->conns);
	if (in->replay) {
		ev_idle_stop(in->loop, &in->replay_idle);
		ev_timer_stop(in->loop, &in->replay_poll);
		input_stream_free(in->replay);
		in->replay = NULL;
	}
	ev_timer_stop(in->loop, &in->pause_timer);
}

bool input_ready(const struct input *in)
{
	return in->listen_fd >= 0 || in->replay;
}

const struct input_stats *input_stats(const struct input *in)
{
	return &in->st;
}

void input_free(struct input *in)
{
	if (!in)
		return;
	input_stop(in);
	bootseq_release(in->boots, in->own_boots);
	free(in->socket_path);
	free(in);
}
