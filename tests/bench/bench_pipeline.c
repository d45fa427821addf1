/* bench_pipeline: events per second through pipeline_process, and through
 * the join table, over a mix of synthetic events shaped like a class at
 * work: compiles, program runs, python runs, shell noise from student
 * containers, and processes of other containers. Prints FIGURE lines. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	 * with 4096 processes alive at any time. Frames are reused (taken
	 * back before the table could free them). */
	if (join_new(65536, &jt))
		return 1;
	{
		enum { LIVE = 4096 };
		static Jcw__Exec je[LIVE];
		static Jcw__Frame jf[LIVE];
		uint64_t ops = 0;

		for (i = 0; i < LIVE; i++) {
			Jcw__Exec e = JCW__EXEC__INIT;
			Jcw__Frame f = JCW__FRAME__INIT;

			je[i] = e;
			jf[i] = f;
			jf[i].body_case = JCW__FRAME__BODY_EXEC;
			jf[i].exec = &je[i];
			je[i].tgid = (uint32_t)i;
			je[i].start_boottime_ns = i;
			join_put(jt, &jf[i], 0);
		}
		t0 = now_s();
		do {
			for (k = 0; k < 10000; k++, ops++) {
				i = ops % LIVE;
				Jcw__Frame *f = join_take(jt, je[i].tgid, je[i].start_boottime_ns);

				je[i].start_boottime_ns += LIVE;   /* the next process on this pid */
				join_put(jt, f, ops);
			}
			el = now_s() - t0;
		} while (el < secs / 2);
		printf("FIGURE join put+take: %.0f pairs/s (%.0f ns/pair, %zu live)\n",
		       ops / el, el * 1e9 / ops, join_size(jt));
		/* the frames are static: empty the table before freeing it */
		for (i = 0; i < LIVE; i++)
			join_take(jt, je[i].tgid, je[i].start_boottime_ns);
	}
	join_free(jt);
	pipeline_free(p);
	return 0;
}
