/* input_socket: the Unix socket collectors connect to: listening,
 * peer credentials, accepting and reading connections. */
#include "input_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* Reads per callback before yielding to the rest of the loop. */
#define INPUT_READS_PER_CB 16

/* Hands over the stream's complete frames: 0 on, -1 closed, 1 paused. */
static int conn_drain(struct stream *s)
{
	int rc = input_stream_drain(s);

	if (rc < 0)
		input_conn_close(s);
	else if (rc == 1)
		input_pause(s->in);
	return rc;
}

static void conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct stream *s = w->data;
	struct input *in = s->in;
	unsigned i, reads = in->cfg.reads_per_wakeup ? in->cfg.reads_per_wakeup : INPUT_READS_PER_CB;
	ssize_t n;

	(void)loop;
	(void)revents;
	for (i = 0; i < reads; i++) {
		if (conn_drain(s))
			return;
		n = frame_reader_fill(&s->rd, s->fd);
		if (n == -EAGAIN)
			return;
		if (n == 0) {
			if (frame_reader_pending(&s->rd))
				input_stream_error(s, INPUT_ERR_TRUNCATED, "peer closed inside a frame");
			input_conn_close(s);
			return;
		}
		if (n < 0) {
			input_stream_error(s, INPUT_ERR_READ, strerror((int)-n));
			input_conn_close(s);
			return;
		}
		in->st.bytes += (uint64_t)n;
		/* A short read emptied the socket: the watcher is level
		 * triggered, so bytes that come later wake it again, and a
		 * read now would only say EAGAIN. */
		if (frame_reader_short(&s->rd))
			break;
	}
	/* The last read may have brought whole frames. If it also emptied the
	 * socket, no new byte will wake this watcher again (a collector that
	 * sent a burst and waits for its Acks): hand them over now. */
	conn_drain(s);
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
	if (log_ratelimit_allow(&in->rl_reject, LOG_BURST, &sup))
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
	s = input_stream_new(in, fd, false);
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
	ev_io_init(&s->wio, input_conn_write_cb, fd, EV_WRITE);
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
			    log_ratelimit_allow(&in->rl_error, LOG_BURST_INPUT, &sup))
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
