/* link: the collector's connection to a real listening Unix socket:
 * connect, preamble then queue, Acks back, hang-up and the backoff. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "link.h"

static char dir[32], path[64];
static int lfd = -1;

static void setup(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	snprintf(dir, sizeof(dir), "/tmp/test_link.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_geq(lfd, 0);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(lfd, 4), 0);
}

static void teardown(void)
{
	close(lfd);
	unlink(path);
	rmdir(dir);
}

TestSuite(link, .init = setup, .fini = teardown);

/* A frame of seq, encoded as the collector queues it. */
static uint8_t *frame(uint64_t seq, size_t *len)
{
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Heartbeat hb = JCW__HEARTBEAT__INIT;
	uint8_t *out;

	f.seq = seq;
	f.body_case = JCW__FRAME__BODY_HEARTBEAT;
	f.heartbeat = &hb;
	cr_assert_eq(frame_encode(&f, &out, len), 0);
	return out;
}

/* Reads frames from fd until n have come (or 2 s); their seqs into seqs. */
static int read_frames(int fd, uint64_t *seqs, int n)
{
	struct frame_reader rd;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	const uint8_t *data;
	size_t len;
	int got = 0;

	frame_reader_init(&rd, 0, false);
	while (got < n && poll(&p, 1, 2000) == 1) {
		if (frame_reader_fill(&rd, fd) <= 0)
			break;
		while (got < n && frame_reader_next(&rd, &data, &len) == 1) {
			Jcw__Frame *f = frame_decode(data, len);

			cr_assert_not_null(f);
			seqs[got++] = f->seq;
			jcw__frame__free_unpacked(f, NULL);
		}
	}
	frame_reader_free(&rd);
	return got;
}

static uint64_t acked;

static void on_frame(void *arg, const Jcw__Frame *f)
{
	(void)arg;
	if (f->body_case == JCW__FRAME__BODY_ACK)
		acked = f->ack->seq;
}

Test(link, preamble_then_queue_then_acks)
{
	struct link l;
	struct outq q;
	Jcw__Frame hello = JCW__FRAME__INIT;
	Jcw__Hello h = JCW__HELLO__INIT;
	Jcw__Frame ackf = JCW__FRAME__INIT;
	Jcw__Ack a = JCW__ACK__INIT;
	uint64_t seqs[8];
	uint8_t *buf;
	size_t len;
	int sfd, i, rc;

	cr_assert_eq(link_init(&l, path), 0);
	outq_init(&q, 1 << 20);
	outq_set_ack_mode(&q, true);
	for (i = 2; i <= 4; i++) {
		buf = frame((uint64_t)i, &len);
		cr_assert_eq(outq_push(&q, (uint64_t)i, buf, len), 0);
	}
	cr_assert_eq(link_connect(&l, 0), 1);
	cr_assert_eq(l.state, LINK_UP);
	sfd = accept(lfd, NULL, NULL);
	cr_assert_geq(sfd, 0);
	/* the connection's unnumbered Hello goes first */
	h.boot_id = "b";
	hello.body_case = JCW__FRAME__BODY_HELLO;
	hello.hello = &h;
	cr_assert_eq(link_preamble(&l, &hello), 0);
	cr_assert(link_wants_write(&l, &q));
	cr_assert_eq(link_write(&l, &q), 0);
	cr_assert_not(link_wants_write(&l, &q));
	cr_assert_eq(read_frames(sfd, seqs, 4), 4);
	cr_assert(seqs[0] == 0 && seqs[1] == 2 && seqs[2] == 3 && seqs[3] == 4);

	/* an Ack from the forwarder reaches the callback */
	a.boot_id = "b";
	a.seq = 3;
	ackf.body_case = JCW__FRAME__BODY_ACK;
	ackf.ack = &a;
	cr_assert_eq(frame_encode(&ackf, &buf, &len), 0);
	cr_assert_eq(write(sfd, buf, len), (ssize_t)len);
	free(buf);
	for (i = 0; i < 100 && acked != 3; i++) {
		rc = link_read(&l, on_frame, NULL);
		cr_assert_eq(rc, 0);
		usleep(1000);
	}
	cr_assert_eq(acked, 3);

	/* the forwarder hangs up: EPIPE, then down with a backoff */
	close(sfd);
	for (i = 0; i < 100 && (rc = link_read(&l, on_frame, NULL)) == 0; i++)
		usleep(1000);
	cr_assert_eq(rc, -EPIPE);
	link_down(&l, 1000);
	cr_assert_eq(l.state, LINK_DOWN);
	cr_assert_geq(l.next_try_ns, 1000 + LINK_BACKOFF_MIN_NS);
	cr_assert_eq(link_connect(&l, 1000), 0, "not due yet");
	cr_assert_eq(link_connect(&l, l.next_try_ns), 1, "due: connects again");
	cr_assert_eq(l.connects, 2);
	sfd = accept(lfd, NULL, NULL);
	cr_assert_geq(sfd, 0);
	close(sfd);
	link_free(&l);
	outq_free(&q);
}

Test(link, nobody_listening_backs_off_up_to_the_cap)
{
	struct link l;
	uint64_t now = 0, prev = 0;
	int i;

	cr_assert_eq(link_init(&l, path), 0);
	close(lfd);
	lfd = -1;
	unlink(path);
	for (i = 0; i < 12; i++) {
		cr_assert_lt(link_connect(&l, now), 0);
		cr_assert_eq(l.state, LINK_DOWN);
		cr_assert_geq(l.backoff_ns, prev, "the backoff never shrinks while failing");
		cr_assert_leq(l.backoff_ns, LINK_BACKOFF_MAX_NS);
		prev = l.backoff_ns;
		now = l.next_try_ns;
	}
	cr_assert_eq(l.backoff_ns, LINK_BACKOFF_MAX_NS);
	link_free(&l);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);   /* for teardown's close */
}

Test(link, path_too_long)
{
	struct link l;
	char longp[200];

	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	cr_assert_eq(link_init(&l, longp), -ENAMETOOLONG);
}
