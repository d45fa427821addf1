/* Collector input: Hello first, version check, oversize and malformed
 * frames, sequence gaps and duplicates per boot, peer uid check, the
 * listening socket (mode, stale file), capture replay and backpressure. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>

#include "frame.h"
#include "input/bootseq.h"
#include "input/input.h"
#include "log.h"

struct rec {
	int n;
	uint64_t seq[64];
	int body[64];
	char boot[64];
	bool refuse;
	int done;
	int done_status;
};

static void on_frame(void *arg, const char *boot_id, Jcw__Frame *f)
{
	struct rec *r = arg;

	if (r->n < 64) {
		r->seq[r->n] = f->seq;
		r->body[r->n] = f->body_case;
	}
	r->n++;
	snprintf(r->boot, sizeof(r->boot), "%s", boot_id);
	jcw__frame__free_unpacked(f, NULL);
}

static bool can_take(void *arg)
{
	return !((struct rec *)arg)->refuse;
}

static void on_done(void *arg, int status)
{
	struct rec *r = arg;

	r->done++;
	r->done_status = status;
}

/* Reads per wake-up of the inputs made next (0: the default). */
static unsigned reads_per_wakeup;
/* The boots' table of the inputs made next (NULL: their own). */
static struct bootseq *shared_boots;

static struct input *make_input(struct ev_loop *loop, struct rec *r, uid_t uid, size_t max_frame,
				const char *sock)
{
	static uid_t uids[1];
	struct input_config ic = {
		.socket_path = sock, .allowed_uids = uids, .n_uids = 1, .max_frame = max_frame,
		.on_frame = on_frame, .can_take = can_take, .on_replay_done = on_done, .arg = r,
		.reads_per_wakeup = reads_per_wakeup, .boots = shared_boots,
	};
	struct input *in;

	uids[0] = uid;
	log_threshold = LOG_LVL_ERROR;   /* the cases provoke warnings on purpose */
	cr_assert_eq(input_new(loop, &ic, &in), 0);
	return in;
}

static void spin(struct ev_loop *loop)
{
	int i;

	for (i = 0; i < 100; i++)
		ev_run(loop, EVRUN_NOWAIT);
}

static void put_frame(int fd, const Jcw__Frame *f)
{
	uint8_t *buf;
	size_t len;

	cr_assert_eq(frame_encode(f, &buf, &len), 0);
	cr_assert_eq(write_all(fd, buf, len), 0);
	free(buf);
}

static void put_hello(int fd, uint64_t seq, uint32_t version, const char *boot, uint64_t first_seq)
{
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Hello h = JCW__HELLO__INIT;

	h.format_version = version;
	h.boot_id = (char *)boot;
	h.first_seq = first_seq;
	f.seq = seq;
	f.body_case = JCW__FRAME__BODY_HELLO;
	f.hello = &h;
	put_frame(fd, &f);
}

static void put_exec(int fd, uint64_t seq, uint32_t tgid)
{
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Exec e = JCW__EXEC__INIT;

	e.tgid = tgid;
	f.seq = seq;
	f.body_case = JCW__FRAME__BODY_EXEC;
	f.exec = &e;
	put_frame(fd, &f);
}

/* A connected pair whose [0] end the input serves. */
static int connect_pair(struct input *in, int expect)
{
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(input_adopt(in, sv[0]), expect);
	return sv[1];
}

/* What most cases start from: a fresh loop, an empty recorder and an input
 * on them that allows `uid` and has no socket path. */
struct fixture {
	struct ev_loop *loop;
	struct rec r;
	struct input *in;
	int fd;   /* the peer end of the one connection a case needs, or -1 */
};

static void fixture_open(struct fixture *f, uid_t uid, size_t max_frame)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->loop = ev_loop_new(EVFLAG_AUTO);
	f->in = make_input(f->loop, &f->r, uid, max_frame, NULL);
}

/* The usual start: this uid allowed, default frame limit, one peer. */
static void fixture_open_connected(struct fixture *f)
{
	fixture_open(f, getuid(), 0);
	f->fd = connect_pair(f->in, 0);
}

/* The peer hangs up; a case may then connect again into f->fd. */
static void fixture_hangup(struct fixture *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

static void fixture_close(struct fixture *f)
{
	fixture_hangup(f);
	input_free(f->in);
	ev_loop_destroy(f->loop);
}

Test(input, hello_then_frames)
{
	struct fixture f;

	fixture_open_connected(&f);
	put_hello(f.fd, 1, 1, "boot-a", 1);
	put_exec(f.fd, 2, 10);
	put_exec(f.fd, 3, 11);
	spin(f.loop);
	cr_assert_eq(f.r.n, 3);
	cr_assert_eq(f.r.body[0], JCW__FRAME__BODY_HELLO);
	cr_assert_eq(f.r.body[2], JCW__FRAME__BODY_EXEC);
	cr_assert_str_eq(f.r.boot, "boot-a");
	cr_assert_eq(input_stats(f.in)->frames[INPUT_FT_EXEC], 2);
	cr_assert_eq(input_stats(f.in)->seq_gaps, 0);
	cr_assert_eq(input_stats(f.in)->accepted, 1);
	cr_assert_eq(input_stats(f.in)->active, 1);
	cr_assert_gt(input_stats(f.in)->last_frame_unix, 1.5e9);
	fixture_hangup(&f);
	spin(f.loop);
	cr_assert_eq(input_stats(f.in)->active, 0);
	cr_assert_eq(input_stats(f.in)->errors[INPUT_ERR_TRUNCATED], 0);
	fixture_close(&f);
}

Test(input, hello_required)
{
	struct fixture f;
	char c;

	fixture_open_connected(&f);
	put_exec(f.fd, 1, 10);
	spin(f.loop);
	cr_assert_eq(f.r.n, 0);
	cr_assert_eq(input_stats(f.in)->errors[INPUT_ERR_NO_HELLO], 1);
	cr_assert_eq(input_stats(f.in)->active, 0);
	cr_assert_eq(read(f.fd, &c, 1), 0, "the connection was not closed");
	fixture_close(&f);
}

Test(input, unsupported_version_and_missing_boot)
{
	struct fixture f;
	int fd1, fd2;

	fixture_open(&f, getuid(), 0);
	fd1 = connect_pair(f.in, 0);
	fd2 = connect_pair(f.in, 0);
	put_hello(fd1, 1, 3, "boot-a", 1);
	put_hello(fd2, 1, 1, "", 1);
	spin(f.loop);
	cr_assert_eq(f.r.n, 0);
	cr_assert_eq(input_stats(f.in)->errors[INPUT_ERR_VERSION], 1);
	cr_assert_eq(input_stats(f.in)->errors[INPUT_ERR_BAD_HELLO], 1);
	cr_assert_eq(input_stats(f.in)->active, 0);
	close(fd1);
	close(fd2);
	fixture_close(&f);
}

/* Reads one Ack frame from fd (non-blocking after a spin): 1 with its
 * fields, 0 when nothing is there. */
static int get_ack(int fd, char *boot, size_t blen, uint64_t *seq)
{
	struct frame_reader rd;
	const uint8_t *data;
	Jcw__Frame *f;
	size_t len;
	int rc = 0;

	frame_reader_init(&rd, 4096, false);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (frame_reader_fill(&rd, fd) > 0)
		;
	/* Several Acks may be queued: the last one counts. */
	while (frame_reader_next(&rd, &data, &len) == 1) {
		f = frame_decode(data, len);
		cr_assert_not_null(f);
		cr_assert_eq(f->body_case, JCW__FRAME__BODY_ACK);
		snprintf(boot, blen, "%s", f->ack->boot_id);
		*seq = f->ack->seq;
		jcw__frame__free_unpacked(f, NULL);
		rc = 1;
	}
	frame_reader_free(&rd);
	return rc;
}

Test(input, acks_go_to_version_2_peers_of_that_boot_only)
{
	struct fixture f;
	int v2, v1, other;
	char boot[64];
	uint64_t seq = 0;

	fixture_open(&f, getuid(), 0);
	v2 = connect_pair(f.in, 0);
	v1 = connect_pair(f.in, 0);
	other = connect_pair(f.in, 0);
	put_hello(v2, 1, 2, "boot-a", 1);
	put_exec(v2, 2, 10);
	put_hello(v1, 1, 1, "boot-a", 1);
	put_hello(other, 1, 2, "boot-b", 1);
	spin(f.loop);
	cr_assert_eq(input_ack(f.in, "boot-a", 2), 1);
	spin(f.loop);
	cr_assert_eq(get_ack(v2, boot, sizeof(boot), &seq), 1);
	cr_assert_str_eq(boot, "boot-a");
	cr_assert_eq(seq, 2);
	cr_assert_eq(get_ack(v1, boot, sizeof(boot), &seq), 0);
	cr_assert_eq(get_ack(other, boot, sizeof(boot), &seq), 0);
	cr_assert_eq(input_stats(f.in)->acks_sent, 1);
	cr_assert_eq(input_stats(f.in)->acked_seq, 2);
	close(v2);
	close(v1);
	close(other);
	fixture_close(&f);
}

Test(input, a_restored_boot_drops_resent_frames)
{
	struct fixture f;

	/* An earlier run made boot-a durable up to 3 (the outbox loads it
	 * into the table it shares with input); the collector resends from 2. */
	cr_assert_eq(bootseq_new(&shared_boots), 0);
	cr_assert_not_null(bootseq_load(shared_boots, "boot-a", 3, 1e9));
	fixture_open_connected(&f);
	put_hello(f.fd, 0, 2, "boot-a", 2);
	put_exec(f.fd, 2, 10);
	put_exec(f.fd, 3, 11);
	put_exec(f.fd, 4, 12);
	spin(f.loop);
	cr_assert_eq(f.r.n, 2);   /* the Hello and seq 4 */
	cr_assert_eq(f.r.seq[1], 4);
	cr_assert_eq(input_stats(f.in)->seq_duplicates, 2);
	cr_assert_eq(input_stats(f.in)->seq_gaps, 0);
	cr_assert_eq(input_stats(f.in)->resends, 1);
	cr_assert_eq(bootseq_find(shared_boots, "boot-a")->seen, 4);
	fixture_close(&f);
	bootseq_free(shared_boots);
	shared_boots = NULL;
}

Test(input, oversize_frame_closes)
{
	struct fixture f;
	uint8_t hdr[4] = {0, 0, 0x10, 0};   /* 4096 > 64 */
	char c;

	fixture_open(&f, getuid(), 64);
	f.fd = connect_pair(f.in, 0);
	put_hello(f.fd, 1, 1, "boot-a", 1);
	write_all(f.fd, hdr, 4);
	spin(f.loop);
	cr_assert_eq(f.r.n, 1);
	cr_assert_eq(input_stats(f.in)->errors[INPUT_ERR_OVERSIZE], 1);
	cr_assert_eq(read(f.fd, &c, 1), 0);
	fixture_close(&f);
}

Test(input, malformed_frame_closes)
{
	struct fixture f;
	uint8_t bad[] = {0, 0, 0, 3, 0xff, 0xff, 0xff};

	fixture_open_connected(&f);
	put_hello(f.fd, 1, 1, "boot-a", 1);
	write_all(f.fd, bad, sizeof(bad));
	put_exec(f.fd, 2, 10);
	spin(f.loop);
	cr_assert_eq(f.r.n, 1);
	cr_assert_eq(input_stats(f.in)->errors[INPUT_ERR_MALFORMED], 1);
	cr_assert_eq(input_stats(f.in)->active, 0);
	fixture_close(&f);
}

Test(input, sequence_gaps_and_duplicates)
{
	struct fixture f;

	fixture_open_connected(&f);
	put_hello(f.fd, 1, 1, "boot-a", 1);
	put_exec(f.fd, 2, 10);
	put_exec(f.fd, 5, 11);    /* 3 and 4 missing */
	put_exec(f.fd, 5, 11);    /* duplicate */
	put_exec(f.fd, 6, 12);
	spin(f.loop);
	cr_assert_eq(input_stats(f.in)->seq_gaps, 2);
	cr_assert_eq(input_stats(f.in)->seq_duplicates, 1);
	cr_assert_eq(f.r.n, 4);
	fixture_hangup(&f);
	spin(f.loop);

	/* The collector reconnects and resends from 5; its Hello takes 7. */
	f.fd = connect_pair(f.in, 0);
	put_hello(f.fd, 7, 1, "boot-a", 5);
	put_exec(f.fd, 5, 11);
	put_exec(f.fd, 6, 12);
	put_exec(f.fd, 8, 13);
	spin(f.loop);
	cr_assert_eq(input_stats(f.in)->seq_duplicates, 3);
	cr_assert_eq(input_stats(f.in)->seq_gaps, 2, "the Hello's own number is not a gap");
	cr_assert_eq(f.r.n, 6);
	cr_assert_eq(f.r.seq[5], 8);
	fixture_hangup(&f);
	spin(f.loop);

	/* Another boot has a sequence of its own. */
	f.fd = connect_pair(f.in, 0);
	put_hello(f.fd, 1, 1, "boot-b", 1);
	put_exec(f.fd, 2, 20);
	spin(f.loop);
	cr_assert_eq(input_stats(f.in)->seq_gaps, 2);
	cr_assert_eq(f.r.n, 8);
	fixture_close(&f);
}

Test(input, peer_uid_not_allowed)
{
	struct fixture f;
	char c;

	fixture_open(&f, getuid() + 1, 0);
	f.fd = connect_pair(f.in, -EACCES);
	cr_assert_eq(input_stats(f.in)->rejected[INPUT_REJ_UID], 1);
	cr_assert_eq(input_stats(f.in)->accepted, 0);
	cr_assert_eq(read(f.fd, &c, 1), 0);
	fixture_close(&f);
}

Test(input, listen_socket_mode_stale_file_and_busy)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	char dir[] = "/tmp/jcw-input-XXXXXX", path[128], err[256];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct rec r = {0}, r2 = {0};
	struct input *in, *in2;
	struct stat st;
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/dir/events.sock", dir);
	strcpy(sa.sun_path, path);
	/* A stale socket file: bound once, nobody listening. */
	in = make_input(loop, &r, getuid(), 0, path);
	cr_assert_eq(input_listen(in, err, sizeof(err)), 0, "%s", err);
	input_free(in);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);

	in = make_input(loop, &r, getuid(), 0, path);
	cr_assert_eq(input_listen(in, err, sizeof(err)), 0, "%s", err);
	cr_assert(input_ready(in));
	cr_assert_eq(stat(path, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0660);

	/* A second instance must not steal a live socket. */
	in2 = make_input(loop, &r2, getuid(), 0, path);
	cr_assert_eq(input_listen(in2, err, sizeof(err)), -EADDRINUSE);
	cr_assert(strstr(err, "listening"), "%s", err);
	input_free(in2);

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	put_hello(fd, 1, 1, "boot-s", 1);
	put_exec(fd, 2, 10);
	spin(loop);
	cr_assert_eq(r.n, 2);
	/* in2's liveness probe was a connection too. */
	cr_assert_eq(input_stats(in)->accepted, 2);
	close(fd);
	input_stop(in);
	cr_assert_neq(stat(path, &st), 0, "socket file left behind");
	cr_assert_not(input_ready(in));
	input_free(in);
	snprintf(path, sizeof(path), "%s/sub/dir", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
	ev_loop_destroy(loop);
}

Test(input, not_a_socket_is_left_alone)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	char path[] = "/tmp/jcw-input-file-XXXXXX", err[256];
	struct rec r = {0};
	struct input *in;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	in = make_input(loop, &r, getuid(), 0, path);
	cr_assert_eq(input_listen(in, err, sizeof(err)), -EEXIST);
	cr_assert(strstr(err, "not a socket"), "%s", err);
	cr_assert_eq(access(path, F_OK), 0);
	input_free(in);
	unlink(path);
	ev_loop_destroy(loop);
}

/* Writes a capture: magic, hello, n execs, then `tail` extra raw bytes. */
static void write_capture(const char *path, int n, const void *tail, size_t tail_len, bool magic)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), i;

	cr_assert_geq(fd, 0);
	if (magic)
		cr_assert_eq(capture_write_header(fd), 0);
	put_hello(fd, 1, 1, "boot-cap", 1);
	for (i = 0; i < n; i++)
		put_exec(fd, (uint64_t)i + 2, (uint32_t)i + 100);
	if (tail_len)
		write_all(fd, tail, tail_len);
	close(fd);
}

/* A fresh fixture replaying (or following) the capture at path. */
static void run_replay(struct fixture *f, const char *path, bool follow)
{
	char err[256];

	fixture_open(f, getuid(), 0);
	cr_assert_eq(input_replay(f->in, path, follow, err, sizeof(err)), 0, "%s", err);
	spin(f->loop);
}

Test(input, replay_and_truncated_capture)
{
	char path[] = "/tmp/jcw-cap-XXXXXX";
	uint8_t cut[] = {0, 0, 0, 40, 8, 1};
	struct fixture f;
	int fd = mkstemp(path);

	close(fd);
	write_capture(path, 3, NULL, 0, true);
	run_replay(&f, path, false);
	cr_assert_eq(f.r.done, 1);
	cr_assert_eq(f.r.done_status, 0);
	cr_assert_eq(f.r.n, 4);
	cr_assert_not(input_ready(f.in));
	fixture_close(&f);

	write_capture(path, 2, cut, sizeof(cut), true);
	run_replay(&f, path, false);
	cr_assert_eq(f.r.done, 1);
	cr_assert_eq(f.r.done_status, 0, "a truncated capture is reported, not fatal");
	cr_assert_eq(f.r.n, 3);
	cr_assert_eq(input_stats(f.in)->errors[INPUT_ERR_TRUNCATED], 1);
	fixture_close(&f);

	write_capture(path, 2, NULL, 0, false);
	run_replay(&f, path, false);
	cr_assert_eq(f.r.done, 1);
	cr_assert_eq(f.r.done_status, -1);
	cr_assert_eq(f.r.n, 0);
	cr_assert_eq(input_stats(f.in)->errors[INPUT_ERR_BAD_MAGIC], 1);
	fixture_close(&f);
	unlink(path);
}

Test(input, replay_missing_file)
{
	struct fixture f;
	char err[256];

	fixture_open(&f, getuid(), 0);
	cr_assert_eq(input_replay(f.in, "/nonexistent/x.cap", false, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "/nonexistent/x.cap"), "%s", err);
	fixture_close(&f);
}

Test(input, follow_reads_what_is_appended)
{
	char path[] = "/tmp/jcw-cap-XXXXXX";
	struct fixture f;
	int fd = mkstemp(path), i;

	close(fd);
	write_capture(path, 1, NULL, 0, true);
	run_replay(&f, path, true);
	cr_assert_eq(f.r.n, 2);
	fd = open(path, O_WRONLY | O_APPEND);
	put_exec(fd, 3, 200);
	close(fd);
	for (i = 0; i < 100 && f.r.n < 3; i++)
		ev_run(f.loop, EVRUN_ONCE);   /* the poll timer fires within 0.2 s */
	cr_assert_eq(f.r.n, 3);
	cr_assert_eq(f.r.done, 0);
	cr_assert(input_ready(f.in));
	fixture_close(&f);
	unlink(path);
}

/* A burst whose last bytes come with the last read of a wake-up: nothing
 * more will arrive (the collector waits for its Acks), so those frames must
 * be handed over at once, not left in the buffer. With one read per
 * wake-up every burst ends so. */
Test(input, frames_of_the_last_read_are_not_left_behind)
{
	struct fixture f;
	int i;

	reads_per_wakeup = 1;
	fixture_open_connected(&f);
	reads_per_wakeup = 0;
	put_hello(f.fd, 1, 2, "boot-a", 1);
	for (i = 0; i < 50; i++)
		put_exec(f.fd, 2 + (uint64_t)i, 100 + (uint32_t)i);
	spin(f.loop);
	cr_assert_eq(f.r.n, 51, "%d of 51 frames handed over", f.r.n);
	fixture_close(&f);
}

Test(input, backpressure_pauses_and_resumes)
{
	struct fixture f;

	fixture_open_connected(&f);
	f.r.refuse = true;
	put_hello(f.fd, 1, 1, "boot-a", 1);
	put_exec(f.fd, 2, 10);
	spin(f.loop);
	cr_assert_eq(f.r.n, 0);
	f.r.refuse = false;
	input_kick(f.in);
	spin(f.loop);
	cr_assert_eq(f.r.n, 2);
	fixture_close(&f);
}
