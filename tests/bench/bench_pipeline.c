/* bench_pipeline: events per second through pipeline_process, and through
 * the join table, over a mix of synthetic events shaped like a class at
 * work: compiles, program runs, python runs, shell noise from student
 * containers, and processes of other containers; and through the lanes
 * that read ahead of them. Prints FIGURE lines. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "input/fairq.h"
#include "input/join.h"
#include "process/pipeline.h"

struct ev {
	const char *host, *exe, *cwd;
	const char *argv[12];
};

static const struct ev mix[] = {
	{"jcode-os-1-202012345", "/usr/bin/x86_64-linux-gnu-gcc-12", "/home/coder/project/hw1",
	 {"gcc", "-Wall", "-O2", "-I", "include", "-DDEBUG=1", "-o", "main", "main.c", "util.c", "list.c"}},
	{"jcode-os-1-202012345", "/home/coder/project/hw1/main", "/home/coder/project/hw1",
	 {"./main", "input.txt"}},
	{"jcode-os-1-202012346", "/usr/bin/python3.11", "/home/coder/project/hw2",
	 {"python3", "-u", "solve.py", "--n", "10"}},
	{"jcode-os-1-202012346", "/usr/bin/bash", "/home/coder/project/hw2", {"bash", "-c", "ls -la"}},
	{"jcode-os-1-202012346", "/usr/bin/ls", "/home/coder/project/hw2", {"ls", "--color=auto"}},
	{"jcode-ds-2-202112345", "/usr/bin/x86_64-linux-gnu-g++-12", "/home/coder/project/hw3",
	 {"g++", "-std=c++17", "-g", "-o", "app", "src/app.cpp"}},
	{"jcode-ds-2-202112345", "/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus", "/home/coder/project/hw3",
	 {"/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus", "-quiet", "src/app.cpp"}},
	{"jcode-ds-2-202112345", "/usr/bin/gcc-12", "/tmp", {"gcc", "scratch.c"}},
	{"jcode-ds-2-202112345", "/usr/bin/python3.11", "/home/coder/project", {"python3", "-m", "pip", "list"}},
	{"node-7", "/usr/bin/containerd-shim", "/", {"containerd-shim", "-namespace", "k8s.io"}},
};
#define NMIX (sizeof(mix) / sizeof(mix[0]))

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static ProtobufCBinaryData bytes(const char *s)
{
	ProtobufCBinaryData b = {strlen(s), (uint8_t *)s};
	return b;
}

/* A compiler's exec (the mix's first), decoded as input would give it. */
static Jcw__Frame *bench_exec_frame(uint32_t tgid, uint64_t start)
{
	Jcw__Frame f = JCW__FRAME__INIT;
	Jcw__Exec e = JCW__EXEC__INIT;
	ProtobufCBinaryData av[12];
	uint8_t buf[4096];
	size_t n = 0, len;

	while (n < 12 && mix[0].argv[n]) {
		av[n] = bytes(mix[0].argv[n]);
		n++;
	}
	e.argv = av;
	e.n_argv = n;
	e.hostname = bytes(mix[0].host);
	e.exe_path = bytes(mix[0].exe);
	e.cwd = bytes(mix[0].cwd);
	e.tgid = tgid;
	e.pid = tgid;
	e.start_boottime_ns = start;
	f.body_case = JCW__FRAME__BODY_EXEC;
	f.exec = &e;
	len = jcw__frame__pack(&f, buf);
	return jcw__frame__unpack(NULL, len, buf);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	static ProtobufCBinaryData args[NMIX][12];
	Jcw__Exec execs[NMIX];
	Jcw__Exit exits[NMIX];
	uint64_t results[PIPE_RESULT_COUNT] = {0}, n = 0, bytes_out = 0;
	struct pipeline *p;
	struct join_table *jt;
	char err[256];
	double t0, el;
	size_t i, k;

	if (pipeline_new(NULL, &p, err, sizeof(err))) {
		fprintf(stderr, "bench_pipeline: %s\n", err);
		return 1;
	}
	for (i = 0; i < NMIX; i++) {
		Jcw__Exec e = JCW__EXEC__INIT;
		Jcw__Exit x = JCW__EXIT__INIT;

		for (k = 0; k < 12 && mix[i].argv[k]; k++)
			args[i][k] = bytes(mix[i].argv[k]);
		e.hostname = bytes(mix[i].host);
		e.exe_path = bytes(mix[i].exe);
		e.cwd = bytes(mix[i].cwd);
		e.argv = args[i];
		e.n_argv = k;
		e.argc = (uint32_t)k;
		e.tgid = 1000 + (uint32_t)i;
		x.time_unix_ns = 1795812000123456789ull;
		x.duration_ns = 1234567;
		execs[i] = e;
		exits[i] = x;
	}

	t0 = now_s();
	do {
		for (k = 0; k < 1000; k++, n++) {
			struct api_request req;
			enum pipe_reason why;
			enum pipe_result r;

			i = n % NMIX;
			r = pipeline_process(p, "bench", n, &execs[i], &exits[i], NULL, &req, &why);
			results[r]++;
			if (r == PIPE_SUCCESS) {
				bytes_out += req.body_len;
				api_request_free(&req);
			}
		}
		el = now_s() - t0;
	} while (el < secs);
	printf("FIGURE pipeline_process: %.0f events/s (%.2f us/event; %" PRIu64 " events: "
	       "%" PRIu64 " success, %" PRIu64 " filtered, %" PRIu64 " nontarget; "
	       "%.0f body bytes/success)\n",
	       n / el, el * 1e6 / n, n, results[PIPE_SUCCESS], results[PIPE_FILTERED],
	       results[PIPE_NONTARGET],
	       results[PIPE_SUCCESS] ? (double)bytes_out / results[PIPE_SUCCESS] : 0.0);

	/* The join table's hot path: put an exec, take it back at its exit,
	 * with 4096 processes alive at any time, each a compiler's exec of the
	 * capture's kind (the table packs it, and decodes it at the take). */
	{
		enum { LIVE = 4096 };
		const struct join_limits jl = {
			.max_entries = 65536, .max_bytes = 64u << 20, .container_bytes = 64u << 20};
		static uint64_t starts[LIVE];
		uint64_t ops = 0;

		if (join_new(&jl, &jt))
			return 1;
		for (i = 0; i < LIVE; i++) {
			Jcw__Frame *f = bench_exec_frame((uint32_t)i, i);

			if (!f)
				return 1;
			starts[i] = i;
			join_put(jt, f, 0);
		}
		t0 = now_s();
		do {
			for (k = 0; k < 10000; k++, ops++) {
				i = ops % LIVE;
				Jcw__Frame *f = join_take(jt, (uint32_t)i, starts[i]);

				if (!f)
					return 1;
				starts[i] += LIVE;   /* the next process on this pid */
				f->exec->start_boottime_ns = starts[i];
				join_put(jt, f, ops);
			}
			el = now_s() - t0;
		} while (el < secs / 2);
		printf("FIGURE join put+take: %.0f pairs/s (%.0f ns/pair, %zu live, %zu bytes held)\n",
		       ops / el, el * 1e9 / ops, join_size(jt), join_bytes(jt));
		join_free(jt);
	}

	/* The lanes' hot path: a frame read ahead is put in its container's
	 * lane (an exec is indexed for its exit), taken back round-robin and
	 * marked done, with the app's bounds full: 2,048 frames waiting in
	 * 1,024 lanes. */
	{
		enum { FRAMES = 2048, LANES = 1024 };
		const struct fairq_config qc = {
			.max_frames = FRAMES, .max_lanes = LANES, .max_bytes = (size_t)1 << 30};
		struct fairq *q;
		const char *boot;
		uint64_t ops = 0, seq = 0, lane;

		if (fairq_new(&qc, &q))
			return 1;
		for (i = 0; i < FRAMES; i++) {
			Jcw__Frame *f = bench_exec_frame((uint32_t)i, i);

			if (!f)
				return 1;
			f->seq = ++seq;
			if (fairq_put(q, seq % LANES, "boot", f))
				return 1;
		}
		t0 = now_s();
		do {
			for (k = 0; k < 10000; k++, ops++) {
				Jcw__Frame *f = fairq_take(q, &boot);

				if (!f || fairq_done(q, boot, f->seq) != f->seq)
					return 1;
				f->seq = ++seq;
				f->exec->start_boottime_ns = seq;
				if (fairq_put(q, seq % LANES, "boot", f) ||
				    !fairq_exec_lane(q, f->exec->tgid, seq, &lane))
					return 1;
			}
			el = now_s() - t0;
		} while (el < secs / 2);
		printf("FIGURE lanes put+take+done: %.0f frames/s (%.0f ns/frame, %zu waiting in %zu lanes)\n",
		       ops / el, el * 1e9 / ops, fairq_len(q), fairq_lanes(q));
		fairq_free(q);
	}
	pipeline_free(p);
	return 0;
}
