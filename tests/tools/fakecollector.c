/* fakecollector: plays jcw-collector on the socket with a steady, checkable
 * event stream, using the collector's own queue (outq, in ack mode) and
 * connection (link) code, so the fault tests exercise the real protocol
 * without BPF: Hello (format 2), then N exec/exit pairs whose exits become
 * build or run events with event_id "{boot}-{exit seq}" = boot-3, boot-5,
 * ..., boot-(2N+1). Acks release frames; after a reconnect the queue is
 * rewound and resent from the first unacknowledged frame behind an
 * unnumbered Hello, exactly as collector/main.c does.
 *
 * Usage: fakecollector --socket PATH --events N [--rate EPS] [--students K]
 *        [--boot ID] [--queue-max BYTES] [--disconnect-every S] [--pad BYTES]
 *        [--timeout S] [--linger S] [--poison I] [--live N [--live-args M]]
 *
 * --rate: events per second (0: as fast as the queue takes them);
 * --disconnect-every: drop the connection about every S seconds (0.5 S to
 * 1.5 S at random) as a crashing link would; --pad: extra argv bytes per
 * exec; --linger: after everything is acknowledged keep the connection
 * this long (heartbeat-free), e.g. to let a test scrape metrics; --poison:
 * event I carries the argument "poison-marker" (for apiserver.py
 * --reject-marker); --live: first N execs that never exit (a student's
 * programs left running), each of M one-byte arguments (default 4096: the
 * largest argv the collector's default ARGS_MAX_BYTES sends), spread over
 * the students.
 * Exits 0 once every frame is acknowledged, 1 at --timeout (default 60 s)
 * or on error, 2 on bad usage. Prints one summary line on stdout:
 *   boot=ID events=N frames=F acked=A connects=C dropped=D resent=R secs=T */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "link.h"
#include "outq.h"

#define NS 1000000000ull
#define TICK_MS 5

struct fake {
	struct link link;
	struct outq q;
	char boot[40];
	uint64_t seq;            /* last seq given */
	uint64_t events, emitted;
	uint64_t students;
	size_t pad;
	uint64_t poison;
	uint64_t live, live_args, live_emitted;
	uint64_t acked;
	uint64_t resent;         /* frames sent again after a rewind */
	uint64_t sent_max;       /* highest seq written so far */
	uint64_t dropped_reported;
	double rate;
	uint64_t start_ns;
	char *padbuf;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static int push(struct fake *fk, Jcw__Frame *f, bool control)
{
	uint8_t *buf;
	size_t len;
	int rc;

	f->seq = ++fk->seq;
	rc = frame_encode(f, &buf, &len);
	if (rc)
		return rc;
	rc = control ? outq_push_control(&fk->q, f->seq, buf, len)
		     : outq_push(&fk->q, f->seq, buf, len);
	return rc == -ENOBUFS ? 0 : rc;   /* a refusal is counted by outq */
}

static Jcw__Hello hello(struct fake *fk, uint64_t first_seq)
{
	Jcw__Hello h = JCW__HELLO__INIT;

	h.format_version = JCW__FORMAT_VERSION__FORMAT_VERSION_ACKED;
	h.node_name.data = (uint8_t *)"fake-node";
	h.node_name.len = 9;
	h.boot_id = fk->boot;
	h.collector_version = "fakecollector";
	h.first_seq = first_seq;
	return h;
}

/* Event i (1-based): a compile in hw(i%5+1), every third a python run. */
static int emit_event(struct fake *fk, uint64_t i)
{
	char host[64], cwd[64], stime[32];
	ProtobufCBinaryData argv[4];
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Exec e = JCW__EXEC__INIT;
	Jcw__Exit x = JCW__EXIT__INIT;
	bool py = i % 3 == 0;
	uint64_t t = 1700000000ull * NS + i * 1000000ull;
	size_t n = 0;
	int rc;

	snprintf(host, sizeof(host), "jcode-os-1-2020%05" PRIu64, i % fk->students);
	snprintf(cwd, sizeof(cwd), "/home/coder/project/hw%" PRIu64, i % 5 + 1);
	snprintf(stime, sizeof(stime), "%" PRIu64, i);
#define ARG(s, l) do { argv[n].data = (uint8_t *)(s); argv[n].len = (l); n++; } while (0)
	if (py) {
		ARG("python3", 7);
		ARG("main.py", 7);
	} else {
		ARG("gcc", 3);
		ARG("main.c", 6);
	}
	if (fk->pad)
		ARG(fk->padbuf, fk->pad);
	if (i == fk->poison)
		ARG("poison-marker", 13);
#undef ARG
	e.pid = e.tgid = (uint32_t)(100000 + i);
	e.ppid = 99;
	e.uid = e.gid = 1000;
	e.start_boottime_ns = i * 1000;
	e.time_unix_ns = t;
	e.hostname.data = (uint8_t *)host;
	e.hostname.len = strlen(host);
	e.comm.data = (uint8_t *)(py ? "python3" : "gcc");
	e.comm.len = py ? 7 : 3;
	e.exe_path.data = (uint8_t *)(py ? "/usr/bin/python3.11" : "/usr/bin/gcc-12");
	e.exe_path.len = strlen((const char *)e.exe_path.data);
	e.cwd.data = (uint8_t *)cwd;
	e.cwd.len = strlen(cwd);
	e.n_argv = n;
	e.argv = argv;
	e.argc = (uint32_t)n;
	e.stdin_kind = e.stdout_kind = JCW__FD_KIND__FD_TTY;
	f.body_case = JCW__FRAME__BODY_EXEC;
	f.exec = &e;
	rc = push(fk, &f, false);
	if (rc)
		return rc;
	x.tgid = e.tgid;
	x.start_boottime_ns = e.start_boottime_ns;
	x.time_unix_ns = t + 500000;
	x.duration_ns = 500000;
	x.exit_code = (uint32_t)(i % 2);
	x.status = x.exit_code << 8;
	f = (Jcw__Frame)JCW__FRAME__INIT;
	f.body_case = JCW__FRAME__BODY_EXIT;
	f.exit = &x;
	return push(fk, &f, false);
}

/* Live exec i (1-based): ./prog of hw1 with live_args one-byte arguments. */
static int emit_live(struct fake *fk, uint64_t i)
{
	char host[64];
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Exec e = JCW__EXEC__INIT;
	ProtobufCBinaryData *argv = calloc(fk->live_args + 1, sizeof(*argv));
	size_t k;
	int rc;

	if (!argv)
		return -ENOMEM;
	snprintf(host, sizeof(host), "jcode-os-1-2020%05" PRIu64, i % fk->students);
	argv[0].data = (uint8_t *)"./prog";
	argv[0].len = 6;
	for (k = 1; k <= fk->live_args; k++) {
		argv[k].data = (uint8_t *)"a";
		argv[k].len = 1;
	}
	e.pid = e.tgid = (uint32_t)(500000 + i);
	e.ppid = 99;
	e.uid = e.gid = 1000;
	e.start_boottime_ns = i * 1000 + 7;
	e.time_unix_ns = 1700000000ull * NS + i * 1000ull;
	e.hostname.data = (uint8_t *)host;
	e.hostname.len = strlen(host);
	e.comm.data = (uint8_t *)"prog";
	e.comm.len = 4;
	e.exe_path.data = (uint8_t *)"/home/coder/project/hw1/prog";
	e.exe_path.len = strlen((const char *)e.exe_path.data);
	e.cwd.data = (uint8_t *)"/home/coder/project/hw1";
	e.cwd.len = strlen((const char *)e.cwd.data);
	e.n_argv = fk->live_args + 1;
	e.argv = argv;
	e.argc = (uint32_t)e.n_argv;
	f.body_case = JCW__FRAME__BODY_EXEC;
	f.exec = &e;
	rc = push(fk, &f, false);
	free(argv);
	return rc;
}

static void on_ack(void *arg, const Jcw__Frame *f)
{
	struct fake *fk = arg;

	if (f->body_case != JCW__FRAME__BODY_ACK || !f->ack->boot_id ||
	    strcmp(f->ack->boot_id, fk->boot) != 0)
		return;
	if (f->ack->seq > fk->acked)
		fk->acked = f->ack->seq;
	outq_ack(&fk->q, f->ack->seq);
}

static void link_lost(struct fake *fk, const char *why, int err)
{
	fprintf(stderr, "fakecollector: connection lost (%s: %s)\n", why, strerror(-err));
	link_down(&fk->link, now_ns());
	outq_rewind(&fk->q);
}

/* As collector/main.c: an unnumbered Hello unless the queue starts with the
 * numbered one, and a Lost for what the queue refused meanwhile. */
static void established(struct fake *fk)
{
	uint64_t first = outq_first_unsent_seq(&fk->q);
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Lost l = JCW__LOST__INIT;
	Jcw__Hello h;

	if (first && first <= fk->sent_max)
		fk->resent += fk->sent_max - first + 1;
	if (first != 1) {
		h = hello(fk, first ? first : fk->seq + 1);
		f.seq = 0;
		f.body_case = JCW__FRAME__BODY_HELLO;
		f.hello = &h;
		link_preamble(&fk->link, &f);
	}
	if (fk->q.dropped_frames > fk->dropped_reported) {
		l.source = JCW__LOST_SOURCE__LOST_COLLECTOR_QUEUE;
		l.count = fk->q.dropped_frames - fk->dropped_reported;
		l.total = fk->q.dropped_frames;
		f = (Jcw__Frame)JCW__FRAME__INIT;
		f.body_case = JCW__FRAME__BODY_LOST;
		f.lost = &l;
		push(fk, &f, true);
		fk->dropped_reported = fk->q.dropped_frames;
	}
}

static void service(struct fake *fk)
{
	int rc;

	if (fk->link.state == LINK_DOWN) {
		rc = link_connect(&fk->link, now_ns());
		if (rc == 1)
			established(fk);
	}
	if (fk->link.state == LINK_UP) {
		rc = link_write(&fk->link, &fk->q);
		if (rc < 0 && rc != -EAGAIN)
			link_lost(fk, "write", rc);
	}
	/* Track the highest seq that left, for the resend count. */
	if (fk->q.nsent) {
		uint64_t last = fk->q.items[(fk->q.head + fk->q.nsent - 1) % fk->q.cap].seq;

		if (last > fk->sent_max)
			fk->sent_max = last;
	}
}

static double jitter(double s)
{
	return s * (0.5 + (double)(random() % 1000) / 1000.0);
}

static void usage(void)
{
	fprintf(stderr, "usage: fakecollector --socket PATH --events N [--rate EPS] [--students K]\n"
		"       [--boot ID] [--queue-max BYTES] [--disconnect-every S] [--pad BYTES]\n"
		"       [--timeout S] [--linger S] [--poison I] [--live N [--live-args M]]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"socket", 1, 0, 's'}, {"events", 1, 0, 'n'}, {"rate", 1, 0, 'r'},
		{"students", 1, 0, 'k'}, {"boot", 1, 0, 'b'}, {"queue-max", 1, 0, 'q'},
		{"disconnect-every", 1, 0, 'd'}, {"pad", 1, 0, 'p'}, {"timeout", 1, 0, 't'},
		{"linger", 1, 0, 'l'}, {"poison", 1, 0, 'x'}, {"live", 1, 0, 'L'},
		{"live-args", 1, 0, 'A'}, {0, 0, 0, 0},
	};
	struct fake fk;
	const char *sock = NULL;
	double disc = 0, timeout = 60, linger = 0, secs;
	uint64_t qmax = 64ull << 20, next_disc = 0, deadline, done_at = 0, now;
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Hello h;
	struct pollfd pfd;
	uint8_t rnd[16];
	int c, i, rc = 1;

	memset(&fk, 0, sizeof(fk));
	fk.students = 10;
	fk.live_args = 4096;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'n': fk.events = strtoull(optarg, NULL, 10); break;
		case 'r': fk.rate = atof(optarg); break;
		case 'k': fk.students = strtoull(optarg, NULL, 10); break;
		case 'b': snprintf(fk.boot, sizeof(fk.boot), "%s", optarg); break;
		case 'q': qmax = strtoull(optarg, NULL, 10); break;
		case 'd': disc = atof(optarg); break;
		case 'p': fk.pad = strtoull(optarg, NULL, 10); break;
		case 't': timeout = atof(optarg); break;
		case 'l': linger = atof(optarg); break;
		case 'x': fk.poison = strtoull(optarg, NULL, 10); break;
		case 'L': fk.live = strtoull(optarg, NULL, 10); break;
		case 'A': fk.live_args = strtoull(optarg, NULL, 10); break;
		default: usage(); return 2;
		}
	}
	if (!sock || !fk.students) {
		usage();
		return 2;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return 1;
	srandom((unsigned)(rnd[0] | rnd[1] << 8 | rnd[2] << 16));
	if (!fk.boot[0])
		for (i = 0; i < 16; i++)
			sprintf(fk.boot + 2 * i, "%02x", rnd[i]);
	fk.padbuf = malloc(fk.pad + 1);
	if (!fk.padbuf)
		return 1;
	memset(fk.padbuf, 'p', fk.pad);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (link_init(&fk.link, sock)) {
		fprintf(stderr, "fakecollector: socket path too long\n");
		return 2;
	}
	outq_init(&fk.q, qmax);
	outq_set_ack_mode(&fk.q, true);
	h = hello(&fk, 1);
	f.body_case = JCW__FRAME__BODY_HELLO;
	f.hello = &h;
	push(&fk, &f, true);

	fk.start_ns = now_ns();
	deadline = fk.start_ns + (uint64_t)(timeout * NS);
	if (disc > 0)
		next_disc = fk.start_ns + (uint64_t)(jitter(disc) * NS);
	while (!stop) {
		now = now_ns();
		if (now >= deadline) {
			fprintf(stderr, "fakecollector: timed out with %zu frame(s) unacknowledged\n",
				fk.q.count);
			break;
		}
		/* The live execs first, as fast as the queue takes them. */
		while (fk.live_emitted < fk.live && fk.q.bytes <= qmax / 2) {
			if (emit_live(&fk, ++fk.live_emitted)) {
				fprintf(stderr, "fakecollector: encoding failed\n");
				goto out;
			}
		}
		/* Emit what the rate allows by now. */
		while (fk.live_emitted == fk.live && fk.emitted < fk.events &&
		       (fk.rate <= 0 || fk.emitted < (uint64_t)(fk.rate * (double)(now - fk.start_ns) / NS) + 1)) {
			if (fk.rate <= 0 && fk.q.bytes > qmax / 2)
				break;   /* as fast as possible, but never into the bound */
			if (emit_event(&fk, ++fk.emitted)) {
				fprintf(stderr, "fakecollector: encoding failed\n");
				goto out;
			}
		}
		if (disc > 0 && now >= next_disc && fk.link.state == LINK_UP) {
			link_lost(&fk, "--disconnect-every", -ECONNRESET);
			next_disc = now + (uint64_t)(jitter(disc) * NS);
		}
		service(&fk);
		if (fk.emitted == fk.events && fk.q.count == 0) {
			if (!done_at)
				done_at = now;
			if (now >= done_at + (uint64_t)(linger * NS)) {
				rc = 0;
				break;
			}
		}
		pfd.fd = fk.link.fd;
		pfd.events = POLLIN | (link_wants_write(&fk.link, &fk.q) ? POLLOUT : 0);
		pfd.revents = 0;
		if (poll(&pfd, fk.link.fd >= 0 ? 1 : 0, TICK_MS) > 0) {
			if (fk.link.state == LINK_CONNECTING && (pfd.revents & (POLLOUT | POLLERR | POLLHUP))) {
				if (link_connected(&fk.link, now_ns()) == 1)
					established(&fk);
			} else if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
				int e = link_read(&fk.link, on_ack, &fk);

				if (e < 0)
					link_lost(&fk, "read", e);
			}
		}
	}
out:
	secs = (double)(now_ns() - fk.start_ns) / NS;
	printf("boot=%s events=%" PRIu64 " frames=%" PRIu64 " acked=%" PRIu64 " connects=%" PRIu64
	       " dropped=%" PRIu64 " resent=%" PRIu64 " secs=%.2f\n", fk.boot, fk.emitted, fk.seq,
	       fk.acked, fk.link.connects, fk.q.dropped_frames, fk.resent, secs);
	fflush(stdout);
	link_free(&fk.link);
	outq_free(&fk.q);
	free(fk.padbuf);
	return rc;
}
