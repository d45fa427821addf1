#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "frame.h"
#include "log.h"

#define INPUT_MAX_BOOTS 64
/* Reads per callback before yielding to the rest of the loop. */
#define INPUT_READS_PER_CB 16
#define INPUT_PAUSE_RETRY_S 0.01

struct boot {
	char *id;
	uint64_t last_seq;
	uint64_t used;       /* LRU stamp */
};

struct stream {
	struct input *in;
	struct stream *prev, *next;
	int fd;
	bool is_replay;
	ev_io io;
	struct frame_reader rd;
	char *boot_id;
	struct boot *boot;   /* cache: valid while boot->id equals boot_id */
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
	struct boot boots[INPUT_MAX_BOOTS];
	uint64_t boot_clock;
	struct input_stats st;
	struct log_ratelimit rl_reject, rl_error, rl_gap;
};

static const char *const frame_type_names[INPUT_FT_COUNT] = {
	"hello", "exec", "exit", "file", "lost", "heartbeat", "ack", "unknown",
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

static void pause_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void conn_write_cb(struct ev_loop *loop, ev_io *w, int revents);

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
	default: return INPUT_FT_UNKNOWN;
	}
}

int input_new(struct ev_loop *loop, const struct input_config *cfg, struct input **out)
{
	struct input *in = calloc(1, sizeof(*in));

	if (!in)
		return -ENOMEM;
	in->loop = loop;
	in->cfg = *cfg;
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
			free(in);
			return -ENOMEM;
		}
	}
	*out = in;
	return 0;
}

/* --- boots and sequence numbers ------------------------------------------ */

static struct boot *boot_find(struct input *in, const char *id, bool *created)
{
	struct boot *b, *victim = &in->boots[0];
	size_t i;

	*created = false;
	for (i = 0; i < INPUT_MAX_BOOTS; i++) {
		b = &in->boots[i];
		if (b->id && strcmp(b->id, id) == 0) {
			b->used = ++in->boot_clock;
			return b;
		}
		if (!b->id || (victim->id && b->used < victim->used))
			victim = b;
	}
	/* A forgotten boot that comes back starts over: at worst its
	 * duplicates pass once more, and event_ids stay the same. */
	free(victim->id);
	victim->id = strdup(id);
	if (!victim->id)
		return NULL;
	victim->last_seq = 0;
	victim->used = ++in->boot_clock;
	*created = true;
	return victim;
}

/* --- streams ------------------------------------------------------------- */

static struct stream *stream_new(struct input *in, int fd, bool is_replay)
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

static void stream_free(struct stream *s)
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

static void conn_close(struct stream *s)
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
	stream_free(s);
}

/* Counts and logs why a stream is being given up. */
static void stream_error(struct stream *s, enum input_error e, const char *detail)
{
	struct input *in = s->in;
	uint64_t sup = 0;

	in->st.errors[e]++;
	if (log_ratelimit_allow(&in->rl_error, 20, &sup))
		LOG_WARN("%s: %s: %s, closing the stream (%llu similar messages suppressed)",
			 s->name, error_names[e], detail, (unsigned long long)sup);
}

static int stream_hello(struct stream *s, const Jcw__Frame *f)
{
	const Jcw__Hello *h = f->hello;
	struct input *in = s->in;
	char detail[128];
	bool created;
	struct boot *b;

	if (h->format_version != JCW__FORMAT_VERSION__FORMAT_VERSION_CURRENT &&
	    h->format_version != JCW__FORMAT_VERSION__FORMAT_VERSION_ACKED) {
		snprintf(detail, sizeof(detail), "Hello has format_version %u, this forwarder speaks "
			 "1 and 2", h->format_version);
		stream_error(s, INPUT_ERR_VERSION, detail);
		return -1;
	}
	if (!h->boot_id || !h->boot_id[0]) {
		stream_error(s, INPUT_ERR_BAD_HELLO, "Hello without boot_id");
		return -1;
	}
	b = boot_find(in, h->boot_id, &created);
	free(s->boot_id);
	s->boot_id = strdup(h->boot_id);
	if (!b || !s->boot_id) {
		stream_error(s, INPUT_ERR_READ, "out of memory");
		return -1;
	}
	s->boot = b;
	if (!s->is_replay && h->format_version == JCW__FORMAT_VERSION__FORMAT_VERSION_ACKED)
		s->acks = true;
	if (created && h->first_seq > 0)
		b->last_seq = h->first_seq - 1;
	else if (!created && h->first_seq > 0 && h->first_seq <= b->last_seq)
		in->st.resends++;   /* a reconnect that resends what was already seen */
	/* A Hello that takes the next number is part of the sequence. */
	if (f->seq && f->seq == b->last_seq + 1)
		b->last_seq = f->seq;
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
	bool created;

	if (seq == 0)
		return 1;   /* unsequenced */
	if (!s->boot || !s->boot->id || strcmp(s->boot->id, s->boot_id) != 0) {
		s->boot = boot_find(in, s->boot_id, &created);
		if (!s->boot)
			return 1;
	}
	if (seq <= s->boot->last_seq) {
		in->st.seq_duplicates++;
		return 0;
	}
	gap = seq - s->boot->last_seq - 1;
	if (gap && s->hello_seq > s->boot->last_seq && s->hello_seq < seq)
		gap--;
	if (gap) {
		in->st.seq_gaps += gap;
		if (log_ratelimit_allow(&in->rl_gap, 10, &sup))
			LOG_WARN("%s: sequence gap in boot %s: %llu frame(s) missing before seq %llu",
				 s->name, s->boot_id, (unsigned long long)gap, (unsigned long long)seq);
	}
	s->boot->last_seq = seq;
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
		stream_error(s, INPUT_ERR_NO_HELLO, "the first frame is not a Hello");
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
static int stream_drain(struct stream *s)
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
			stream_error(s, INPUT_ERR_OVERSIZE, detail);
			return -1;
		}
		if (rc < 0) {
			stream_error(s, INPUT_ERR_BAD_MAGIC, "not a capture file (bad magic)");
			return -1;
		}
		f = jcw__frame__unpack(NULL, len, data);
		if (!f) {
			snprintf(detail, sizeof(detail), "a %zu-byte frame is not a valid jcw.Frame", len);
			stream_error(s, INPUT_ERR_MALFORMED, detail);
			return -1;
		}
		rc = stream_frame(s, f);
		if (rc < 0)
			return -1;
	}
}

/* --- pausing ------------------------------------------------------------- */

static void input_pause(struct input *in)
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

/* --- socket connections -------------------------------------------------- */

static void conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct stream *s = w->data;
	struct input *in = s->in;
	ssize_t n;
	int i, rc;

	(void)loop;
	(void)revents;
	for (i = 0; i < INPUT_READS_PER_CB; i++) {
		rc = stream_drain(s);
		if (rc < 0) {
			conn_close(s);
			return;
		}
		if (rc == 1) {
			input_pause(in);
			return;
		}
		n = frame_reader_fill(&s->rd, s->fd);
		if (n == -EAGAIN)
			return;
		if (n == 0) {
			if (frame_reader_pending(&s->rd))
				stream_error(s, INPUT_ERR_TRUNCATED, "peer closed inside a frame");
			conn_close(s);
			return;
		}
		if (n < 0) {
			stream_error(s, INPUT_ERR_READ, strerror((int)-n));
			conn_close(s);
			return;
		}
		in->st.bytes += (uint64_t)n;
	}
}

static void reject(struct input *in, int fd, enum input_reject why, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void reject(struct input *in, int fd, enum input_reject why, const char *fmt, ...)
{
	char msg[192];
	uint64_t sup = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	in->st.rejected[why]++;
	close(fd);
	if (log_ratelimit_allow(&in->rl_reject, 10, &sup))
		LOG_WARN("collector connection rejected: %s (%llu similar messages suppressed)",
			 msg, (unsigned long long)sup);
}

int input_adopt(struct input *in, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct stream *s;
	size_t i;
	int fl;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		close(fd);
		return -errno;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		reject(in, fd, INPUT_REJ_CREDS, "SO_PEERCRED: %s", strerror(errno));
		return -EACCES;
	}
	for (i = 0; i < in->cfg.n_uids; i++)
		if (in->cfg.allowed_uids[i] == cred.uid)
			break;
	if (i == in->cfg.n_uids) {
		reject(in, fd, INPUT_REJ_UID, "peer pid %d uid %u is not in ALLOWED_UIDS",
		       (int)cred.pid, (unsigned)cred.uid);
		return -EACCES;
	}
	if (in->nconns >= in->cfg.max_conns) {
		reject(in, fd, INPUT_REJ_LIMIT, "peer pid %d: already %u connections",
		       (int)cred.pid, in->nconns);
		return -EMFILE;
	}
	s = stream_new(in, fd, false);
	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	snprintf(s->name, sizeof(s->name), "collector pid %d uid %u", (int)cred.pid, (unsigned)cred.uid);
	s->next = in->conns;
	if (in->conns)
		in->conns->prev = s;
	in->conns = s;
	in->nconns++;
	in->st.accepted++;
	in->st.active = in->nconns;
	ev_io_init(&s->io, conn_read_cb, fd, EV_READ);
	s->io.data = s;
	ev_io_init(&s->wio, conn_write_cb, fd, EV_WRITE);
	s->wio.data = s;
	if (!in->paused)
		ev_io_start(in->loop, &s->io);
	LOG_INFO("collector connected (%s)", s->name);
	return 0;
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct input *in = w->data;
	uint64_t sup = 0;
	int fd;

	(void)loop;
	(void)revents;
	for (;;) {
		fd = accept4(in->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    log_ratelimit_allow(&in->rl_error, 20, &sup))
				LOG_WARN("accept on %s: %s", in->socket_path, strerror(errno));
			return;
		}
		input_adopt(in, fd);
	}
}

/* mkdir -p of the socket's directory. */
static int make_parents(const char *path)
{
	char *dir = strdup(path), *p;
	int rc = 0;

	if (!dir)
		return -ENOMEM;
	p = strrchr(dir, '/');
	if (!p || p == dir)
		goto out;
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
				rc = -errno;
				goto out;
			}
			*p = c;
			if (!c)
				break;
		}
	}
out:
	free(dir);
	return rc;
}

/* A socket file nobody accepts on is left over from a previous run. */
static int clear_stale(const char *path, const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "another process is listening on %s", path);
		return -EADDRINUSE;
	}
	if (errno != ECONNREFUSED) {
		rc = -errno;
		snprintf(err, errlen, "cannot check the existing socket %s: %s", path, strerror(errno));
		return rc;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	LOG_INFO("removed stale socket %s", path);
	return 0;
}

int input_listen(struct input *in, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd = -1, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (!in->socket_path || strlen(in->socket_path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path is empty or longer than %zu bytes",
			 sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, in->socket_path);
	rc = make_parents(in->socket_path);
	if (rc) {
		snprintf(err, errlen, "cannot create the directory of %s: %s", in->socket_path,
			 strerror(-rc));
		return rc;
	}
	err[0] = '\0';
	rc = clear_stale(in->socket_path, &sa, err, errlen);
	if (rc) {
		if (!err[0])
			snprintf(err, errlen, "%s: %s", in->socket_path, strerror(-rc));
		return rc;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* No window in which the socket is wider open than 0660. */
	old = umask(0117);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0)
		goto fail;
	if (chmod(in->socket_path, 0660) < 0 || listen(fd, 16) < 0 ||
	    stat(in->socket_path, &st) < 0)
		goto fail_unlink;
	in->sock_dev = st.st_dev;
	in->sock_ino = st.st_ino;
	in->listen_fd = fd;
	ev_io_init(&in->accept_io, accept_cb, fd, EV_READ);
	in->accept_io.data = in;
	ev_io_start(in->loop, &in->accept_io);
	LOG_INFO("listening on %s", in->socket_path);
	return 0;
fail_unlink:
	rc = -errno;
	unlink(in->socket_path);
	errno = -rc;
fail:
	rc = -errno;
	snprintf(err, errlen, "listen on %s: %s", in->socket_path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* --- replay -------------------------------------------------------------- */

static void replay_finish(struct input *in, int status)
{
	struct stream *s = in->replay;

	ev_idle_stop(in->loop, &in->replay_idle);
	ev_timer_stop(in->loop, &in->replay_poll);
	in->replay = NULL;
	stream_free(s);
	if (in->cfg.on_replay_done)
		in->cfg.on_replay_done(in->cfg.arg, status);
}

static void replay_step(struct input *in)
{
	struct stream *s = in->replay;
	ssize_t n;
	int rc;

	rc = stream_drain(s);
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
		stream_error(s, INPUT_ERR_READ, strerror((int)-n));
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
		stream_error(s, INPUT_ERR_BAD_MAGIC, "not a capture file (shorter than the magic)");
		replay_finish(in, -1);
		return;
	}
	if (frame_reader_pending(&s->rd)) {
		/* The frames before the cut were good: report, don't fail. */
		uint64_t sup;

		in->st.errors[INPUT_ERR_TRUNCATED]++;
		if (log_ratelimit_allow(&in->rl_error, 20, &sup))
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
	s = stream_new(in, fd, true);
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

/* --- acknowledgements ---------------------------------------------------- */

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
			if (log_ratelimit_allow(&in->rl_error, 20, &sup))
				LOG_WARN("%s: writing an Ack: %s", s->name, strerror(-rc));
			return;
		}
		if (!s->ack_later || stream_put_ack(s, s->ack_later))
			return;
		s->ack_later = 0;
	}
}

static void conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
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

int input_set_boot(struct input *in, const char *boot_id, uint64_t last_seq)
{
	bool created;
	struct boot *b = boot_find(in, boot_id, &created);

	if (!b)
		return -ENOMEM;
	if (last_seq > b->last_seq)
		b->last_seq = last_seq;
	return 0;
}

/* --- lifecycle ----------------------------------------------------------- */

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
		conn_close(in->conns);
	if (in->replay) {
		ev_idle_stop(in->loop, &in->replay_idle);
		ev_timer_stop(in->loop, &in->replay_poll);
		stream_free(in->replay);
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
	size_t i;

	if (!in)
		return;
	input_stop(in);
	for (i = 0; i < INPUT_MAX_BOOTS; i++)
		free(in->boots[i].id);
	free(in->socket_path);
	free(in);
}
