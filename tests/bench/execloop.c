/* execloop: the exec load of the benchmarks: fork + exec + wait of one
 * program, again and again, one at a time.
 *
 *   execloop [-n COUNT] [-t SECONDS] [-r RATE] PROGRAM [ARG]...
 *
 * Stops after COUNT runs or SECONDS, whichever comes first (one of them is
 * required). With -r, run i starts at start + i/RATE (an absolute schedule:
 * a late run does not shift the ones after it, the loop catches up without
 * sleeping), so the exits come at a controlled rate. Prints one JSON line:
 *   {"execs":N,"failed":F,"seconds":S,"cpu_s":C,"rate":R,"late_max_us":L}
 * where rate is N/S as achieved, cpu_s the CPU time (user + system) of the
 * loop and its children (what the exec path costs, less disturbed by other
 * work on the machine than the wall time), failed counts runs that did not
 * exit 0 and late_max_us is the largest delay of a run behind its schedule
 * (-r only).
 * Exit status 0, or 1 when the program could not be run at all. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double cpu_s(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* One fork + exec + wait; 0 when the program exited 0. */
static int run_once(char **argv)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: execloop [-n COUNT] [-t SECONDS] [-r RATE] PROGRAM [ARG]...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t count = 0, n = 0, failed = 0;
	double secs = 0, rate = 0, cpu0;
	int64_t t0, deadline, late_max = 0, el;
	int opt, rc;

	while ((opt = getopt(argc, argv, "+n:t:r:")) != -1) {
		switch (opt) {
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 't': secs = atof(optarg); break;
		case 'r': rate = atof(optarg); break;
		default: usage();
		}
	}
	if (optind >= argc || (!count && secs <= 0) || rate < 0)
		usage();
	if (access(argv[optind], X_OK)) {
		fprintf(stderr, "execloop: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	cpu0 = cpu_s(RUSAGE_SELF) + cpu_s(RUSAGE_CHILDREN);
	t0 = mono_ns();
	deadline = secs > 0 ? t0 + (int64_t)(secs * 1e9) : INT64_MAX;
	for (;;) {
		int64_t now = mono_ns();

		if ((count && n >= count) || now >= deadline)
			break;
		if (rate > 0) {
			int64_t due = t0 + (int64_t)((double)n * 1e9 / rate);

			if (due >= deadline)
				break;
			if (due > now) {
				struct timespec ts = {due / 1000000000, due % 1000000000};

				while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
					;
			} else if (now - due > late_max) {
				late_max = now - due;
			}
		}
		rc = run_once(argv + optind);
		if (rc < 0) {
			fprintf(stderr, "execloop: %s\n", strerror(-rc));
			return 1;
		}
		failed += (uint64_t)rc;
		n++;
	}
	el = mono_ns() - t0;
	printf("{\"execs\":%llu,\"failed\":%llu,\"seconds\":%.6f,\"cpu_s\":%.6f,\"rate\":%.1f,"
	       "\"late_max_us\":%lld}\n",
	       (unsigned long long)n, (unsigned long long)failed, (double)el / 1e9,
	       cpu_s(RUSAGE_SELF) + cpu_s(RUSAGE_CHILDREN) - cpu0,
	       el > 0 ? (double)n * 1e9 / (double)el : 0.0, (long long)(late_max / 1000));
	return 0;
}
