/* bpfstats: keeps the kernel's BPF run-time statistics (run_time_ns,
 * run_cnt of every program) on for as long as it runs.
 *
 *   bpfstats      prints "on" once enabled, then waits for SIGTERM/SIGINT
 *
 * It holds a BPF_ENABLE_STATS descriptor instead of writing the sysctl
 * kernel.bpf_stats_enabled: the descriptor is a reference of its own, so
 * another tool setting the sysctl back to 0 meanwhile (a second benchmark
 * on a shared machine) cannot switch the statistics off under us, and
 * nothing is left enabled if we are killed. Needs CAP_SYS_ADMIN. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

int main(void)
{
	sigset_t set;
	int fd, sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0) {
		fprintf(stderr, "bpfstats: BPF_ENABLE_STATS: %s\n", strerror(errno));
		return 1;
	}
	printf("on\n");
	fflush(stdout);
	sigwait(&set, &sig);
	close(fd);
	return 0;
}
