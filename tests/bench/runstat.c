/* runstat: runs a command and reports what it cost, measured by the kernel.
 *
 *   runstat -o FILE PROGRAM [ARG]...
 *
 * Writes one JSON line to FILE once PROGRAM has exited:
 *   {"status":S,"wall_s":W,"user_s":U,"sys_s":Y,"maxrss_kb":M}
 * wall time from fork to reap (CLOCK_MONOTONIC), CPU times and peak RSS
 * from wait4's rusage of that one child (ru_maxrss is the VmHWM of the
 * process at its exit). S is the exit status, or 128 + signal. PROGRAM's
 * stdin/stdout/stderr are left to it, which is why the report goes to a
 * file. Exit status: PROGRAM's. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct rusage ru;
	const char *out;
	double t0, wall;
	int st, status;
	pid_t pid;
	FILE *f;

	if (argc < 4 || strcmp(argv[1], "-o")) {
		fprintf(stderr, "usage: runstat -o FILE PROGRAM [ARG]...\n");
		return 2;
	}
	out = argv[2];
	t0 = mono_s();
	pid = fork();
	if (pid < 0) {
		perror("runstat: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[3], argv + 3);
		fprintf(stderr, "runstat: %s: %s\n", argv[3], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &st, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("runstat: wait4");
			return 1;
		}
	}
	wall = mono_s() - t0;
	status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	f = fopen(out, "w");
	if (!f || fprintf(f, "{\"status\":%d,\"wall_s\":%.6f,\"user_s\":%.6f,\"sys_s\":%.6f,"
			  "\"maxrss_kb\":%ld}\n", status, wall, tv_s(ru.ru_utime),
			  tv_s(ru.ru_stime), ru.ru_maxrss) < 0 || fclose(f)) {
		fprintf(stderr, "runstat: %s: %s\n", out, strerror(errno));
		return 1;
	}
	return status;
}
