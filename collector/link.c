#include "link.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Frames the forwarder sends back are tiny (Ack). */
#define LINK_MAX_IN_FRAME 65536
#define LINK_IOV 64

int link_init(struct link *l, const char *path)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->state = LINK_DOWN;
	l->backoff_ns = LINK_BACKOFF_MIN_NS;
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	strcpy(l->path, path);
	frame_writer_init(&l->pre);
	frame_reader_init(&l->rd, LINK_MAX_IN_FRAME, false);
	return 0;
}

void link_free(struct link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	frame_reader_free(&l->rd);
	frame_writer_free(&l->pre);
}

static void link_up(struct link *l)
{
	l->state = LINK_UP;
	l->backoff_ns = LINK_BACKOFF_MIN_NS;
	l->connects++;
	frame_reader_free(&l->rd);
	frame_reader_init(&l->rd, LINK_MAX_IN_FRAME, false);
	frame_writer_free(&l->pre);
}

void link_down(struct link *l, uint64_t now_ns)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->state = LINK_DOWN;
	l->next_try_ns = now_ns + l->backoff_ns;
	l->backoff_ns *= 2;
	if (l->backoff_ns > LINK_BACKOFF_MAX_NS)
		l->backoff_ns = LINK_BACKOFF_MAX_NS;
}

int link_connect(struct link *l, uint64_t now_ns)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int err;

	if (l->state != LINK_DOWN || now_ns < l->next_try_ns)
		return l->state == LINK_UP;
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		err = -errno;
		link_down(l, now_ns);
		return err;
	}
	l->sockets++;
	memcpy(sa.sun_path, l->path, strlen(l->path));
	if (connect(l->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		link_up(l);
		return 1;
	}
	if (errno == EINPROGRESS || errno == EAGAIN) {
		/* A Unix listener with a full backlog: wait for writability. */
		l->state = LINK_CONNECTING;
		return 0;
	}
	err = -errno;
	link_down(l, now_ns);
	return err;
}

int link_connected(struct link *l, uint64_t now_ns)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (l->state != LINK_CONNECTING)
		return l->state == LINK_UP ? 1 : -ENOTCONN;
	if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr) {
		link_down(l, now_ns);
		return -soerr;
	}
	link_up(l);
	return 1;
}

int link_preamble(struct link *l, const Jcw__Frame *f)
{
	return frame_writer_put_frame(&l->pre, f);
}

bool link_wants_write(const struct link *l, const struct outq *q)
{
	if (l->state == LINK_CONNECTING)
		return true;
	return l->state == LINK_UP &&
	       (frame_writer_pending(&l->pre) > 0 || outq_unsent_bytes(q) > 0);
}

int link_write(struct link *l, struct outq *q)
{
	struct iovec iov[LINK_IOV];
	ssize_t n;
	int cnt, err;

	if (l->state != LINK_UP)
		return -ENOTCONN;
	err = frame_writer_flush(&l->pre, l->fd);
	if (err)
		return err;
	for (;;) {
		cnt = outq_iov(q, iov, LINK_IOV);
		if (cnt == 0)
			return 0;
		n = writev(l->fd, iov, cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? -EAGAIN : -errno;
		}
		outq_sent(q, (size_t)n);
	}
}

int link_read(struct link *l, void (*on_frame)(void *arg, const Jcw__Frame *f), void *arg)
{
	const uint8_t *data;
	Jcw__Frame *f;
	ssize_t n;
	size_t len;
	int rc;

	if (l->state != LINK_UP)
		return 0;
	for (;;) {
		n = frame_reader_fill(&l->rd, l->fd);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EPIPE;
		while ((rc = frame_reader_next(&l->rd, &data, &len)) == 1) {
			f = frame_decode(data, len);
			if (!f)
				continue; /* not ours to judge: the forwarder only sends Acks */
			on_frame(arg, f);
			jcw__frame__free_unpacked(f, NULL);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}
