/* Framing: incremental reads, short writes, oversize frames, capture magic. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"

static Jcw__Frame *make_heartbeat(uint64_t seq, uint64_t t)
{
	static Jcw__Frame f;
	static Jcw__Heartbeat hb;

	jcw__frame__init(&f);
	jcw__heartbeat__init(&hb);
	hb.time_unix_ns = t;
	f.seq = seq;
	f.body_case = JCW__FRAME__BODY_HEARTBEAT;
	f.heartbeat = &hb;
	return &f;
}

Test(frame, roundtrip_byte_by_byte)
{
	struct frame_writer w;
	struct frame_reader r;
	const uint8_t *data;
	size_t len, i;
	int got = 0;

	frame_writer_init(&w);
	cr_assert_eq(frame_writer_put_frame(&w, make_heartbeat(1, 111)), 0);
	cr_assert_eq(frame_writer_put_frame(&w, make_heartbeat(2, 222)), 0);
	frame_reader_init(&r, 0, false);
	/* Feed one byte at a time: the reader must never return a partial frame. */
	for (i = w.start; i < w.end; i++) {
		cr_assert_eq(frame_reader_feed(&r, w.buf + i, 1), 0);
		while (frame_reader_next(&r, &data, &len) == 1) {
			Jcw__Frame *f = frame_decode(data, len);

			cr_assert_not_null(f);
			got++;
			cr_assert_eq(f->seq, (uint64_t)got);
			cr_assert_eq(f->heartbeat->time_unix_ns, got * 111u);
			jcw__frame__free_unpacked(f, NULL);
		}
	}
	cr_assert_eq(got, 2);
	cr_assert_eq(frame_reader_pending(&r), 0);
	frame_reader_free(&r);
	frame_writer_free(&w);
}

Test(frame, oversize_rejected)
{
	struct frame_reader r;
	const uint8_t hdr[4] = {0x00, 0x10, 0x00, 0x01}; /* 1 MiB + 1 */
	const uint8_t *data;
	size_t len;

	frame_reader_init(&r, 1u << 20, false);
	frame_reader_feed(&r, hdr, sizeof(hdr));
	cr_assert_eq(frame_reader_next(&r, &data, &len), -EMSGSIZE);
	/* The stream stays unusable: no resynchronisation on garbage. */
	cr_assert_eq(frame_reader_next(&r, &data, &len), -EPROTO);
	frame_reader_free(&r);
}

Test(frame, capture_magic)
{
	struct frame_reader r;
	const uint8_t *data;
	size_t len;

	frame_reader_init(&r, 0, true);
	frame_reader_feed(&r, "JCWCAP", 6);
	cr_assert_eq(frame_reader_next(&r, &data, &len), 0);
	frame_reader_feed(&r, "\0\1", 2);
	cr_assert_eq(frame_reader_next(&r, &data, &len), 0);
	frame_reader_free(&r);

	frame_reader_init(&r, 0, true);
	frame_reader_feed(&r, "NOTACAPT", 8);
	cr_assert_eq(frame_reader_next(&r, &data, &len), -EPROTO);
	frame_reader_free(&r);
}

Test(frame, truncated_file_leaves_pending)
{
	struct frame_writer w;
	struct frame_reader r;
	const uint8_t *data;
	size_t len;
	char path[] = "/tmp/jcw-frame-XXXXXX";
	int fd = mkstemp(path);
	ssize_t n;

	cr_assert(fd >= 0);
	unlink(path);
	frame_writer_init(&w);
	frame_writer_put_raw(&w, CAPTURE_MAGIC, CAPTURE_MAGIC_LEN);
	frame_writer_put_frame(&w, make_heartbeat(1, 5));
	frame_writer_put_frame(&w, make_heartbeat(2, 6));
	cr_assert_eq(frame_writer_flush(&w, fd), 0);
	/* Cut the second frame in half. */
	cr_assert_eq(ftruncate(fd, (off_t)lseek(fd, 0, SEEK_CUR) - 3), 0);
	lseek(fd, 0, SEEK_SET);
	frame_reader_init(&r, 0, true);
	while ((n = frame_reader_fill(&r, fd)) > 0)
		;
	cr_assert_eq(n, 0);
	cr_assert_eq(frame_reader_next(&r, &data, &len), 1);
	cr_assert_eq(frame_reader_next(&r, &data, &len), 0);
	cr_assert_gt(frame_reader_pending(&r), 0);
	frame_reader_free(&r);
	frame_writer_free(&w);
	close(fd);
}

Test(frame, short_writes_on_nonblocking_socket)
{
	struct frame_writer w;
	struct frame_reader r;
	const uint8_t *data;
	size_t len;
	int sv[2], i, got = 0, err;
	int sndbuf = 4096;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	frame_writer_init(&w);
	frame_reader_init(&r, 0, false);
	for (i = 1; i <= 2000; i++)
		cr_assert_eq(frame_writer_put_frame(&w, make_heartbeat((uint64_t)i, (uint64_t)i)), 0);
	/* Alternate flushing and draining: the writer must resume exactly where
	 * the kernel stopped taking bytes. */
	do {
		err = frame_writer_flush(&w, sv[0]);
		cr_assert(err == 0 || err == -EAGAIN);
		while (frame_reader_fill(&r, sv[1]) > 0)
			;
		while (frame_reader_next(&r, &data, &len) == 1) {
			Jcw__Frame *f = frame_decode(data, len);

			cr_assert_not_null(f);
			cr_assert_eq(f->seq, (uint64_t)++got);
			jcw__frame__free_unpacked(f, NULL);
		}
	} while (err == -EAGAIN);
	cr_assert_eq(got, 2000);
	frame_reader_free(&r);
	frame_writer_free(&w);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, malformed_message_rejected)
{
	const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
	const uint8_t empty[] = {0x08, 0x01}; /* seq=1, no body */

	cr_assert_null(frame_decode(junk, sizeof(junk)));
	cr_assert_null(frame_decode(empty, sizeof(empty)));
}

/* A read that stops before the room it was offered has emptied the socket
 * (the forwarder's input then skips the read that would say EAGAIN); one
 * that fills the room has not said so. */
Test(frame, short_read_says_the_socket_is_empty)
{
	struct frame_reader r;
	static uint8_t big[1 << 20];
	int sv[2];
	int sndbuf = 1 << 20;
	size_t sent = 0;
	ssize_t n;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	frame_reader_init(&r, 0, false);
	cr_assert_eq(write(sv[0], "abc", 3), 3);
	cr_assert_eq(frame_reader_fill(&r, sv[1]), 3);
	cr_assert(frame_reader_short(&r));
	cr_assert_eq(frame_reader_fill(&r, sv[1]), -EAGAIN);
	/* More than any room the reader offers at once. */
	memset(big, 0x5a, sizeof(big));
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	while ((n = write(sv[0], big, sizeof(big))) > 0)
		sent += (size_t)n;
	cr_assert_gt(sent, 2 * 65536, "the socket took only %zu bytes", sent);
	cr_assert_gt(frame_reader_fill(&r, sv[1]), 0);
	cr_assert_not(frame_reader_short(&r));
	cr_assert_gt(frame_reader_fill(&r, sv[1]), 0);
	frame_reader_free(&r);
	close(sv[0]);
	close(sv[1]);
}
