/* syscall_loop: a tight loop of one system call pattern, for the kernel
 * overhead benchmarks (tests/bench/bench_close.sh). Prints the mean wall
 * time per iteration in ns on stdout.
 *
 * Usage: syscall_loop getppid N
 *        syscall_loop open-close-write FILE N   open(O_WRONLY|O_CREAT) + close
 *        syscall_loop open-close-read FILE N    open(O_RDONLY) + close
 *        syscall_loop write FD BYTES N          write(FD, BYTES bytes) (bench_write.sh) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int usage(void)
{
	fprintf(stderr, "usage: syscall_loop getppid N | open-close-write FILE N | "
		"open-close-read FILE N | write FD BYTES N\n");
	return 2;
}

static long count_arg(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	return *end || n <= 0 ? -1 : n;
}

int main(int argc, char **argv)
{
	double t0, t1;
	long n, i;
	int flags, fd;

	if (argc == 3 && strcmp(argv[1], "getppid") == 0) {
		n = count_arg(argv[2]);
		if (n < 0)
			return usage();
		t0 = now_ns();
		for (i = 0; i < n; i++)
			syscall(SYS_getppid); /* not cached by libc */
		t1 = now_ns();
	} else if (argc == 4 && (strcmp(argv[1], "open-close-write") == 0 ||
				 strcmp(argv[1], "open-close-read") == 0)) {
		n = count_arg(argv[3]);
		if (n < 0)
			return usage();
		flags = strcmp(argv[1], "open-close-write") == 0 ? O_WRONLY | O_CREAT : O_RDONLY;
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			fd = open(argv[2], flags | O_CLOEXEC, 0644);
			if (fd < 0) {
				fprintf(stderr, "syscall_loop: %s: %s\n", argv[2], strerror(errno));
				return 1;
			}
			close(fd);
		}
		t1 = now_ns();
	} else if (argc == 5 && strcmp(argv[1], "write") == 0) {
		static char buf[65536];
		long len = count_arg(argv[3]);

		fd = (int)count_arg(argv[2]);
		n = count_arg(argv[4]);
		if (n < 0 || len < 0 || len > (long)sizeof(buf) || fd < 0)
			return usage();
		memset(buf, 'w', sizeof(buf));
		t0 = now_ns();
		for (i = 0; i < n; i++)
			if (write(fd, buf, (size_t)len) < 0) {
				fprintf(stderr, "syscall_loop: write: %s\n", strerror(errno));
				return 1;
			}
		t1 = now_ns();
	} else {
		return usage();
	}
	printf("%.1f\n", (t1 - t0) / (double)n);
	return 0;
}
