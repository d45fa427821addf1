#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/netlink.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

/* Sanitizer runtimes make calls the daemons never make themselves, most of
 * them at exit: LeakSanitizer stops the world by cloning a tracer task
 * (clone without CLONE_THREAD) that ptraces every thread and reads their
 * registers, and ASan/UBSan read /proc/self/maps and write reports. Only
 * the test build (SAN=1) gets these; a production build never does. */
#if defined(__SANITIZE_ADDRESS__)
#define SB_SANITIZERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_SANITIZERS 1
#endif
#endif
#ifndef SB_SANITIZERS
#define SB_SANITIZERS 0
#endif

/* --- the lists -------------------------------------------------------------
 * Built from strace -f of both daemons through every test scenario (live
 * socket, replays, retries, snapshots, SIGHUP and size rotation of the log
 * file, curl resolving a host name in its resolver thread), then kept to
 * calls of ordinary user-space work. Calls that need argument checks are
 * added in code below. Names unknown to this architecture are skipped. */

/* Both daemons: memory, descriptors, time, signals, the event loop, threads
 * (their creation is checked below), identity queries. */
static const char *const sb_common[] = {
	"read", "write", "readv", "writev", "pread64", "pwrite64", "close", "lseek",
	"fstat", "stat", "lstat", "newfstatat", "statx", "fcntl", "dup", "dup2", "dup3",
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	"clock_gettime", "clock_getres", "gettimeofday", "time", "clock_nanosleep",
	"nanosleep",
	"rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall",
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl", "epoll_create1",
	"poll", "ppoll", "select", "pselect6",
	"eventfd2", "timerfd_create", "timerfd_settime", "timerfd_gettime", "signalfd4",
	"pipe2",
	"futex", "set_robust_list", "rseq", "sched_yield", "sched_getaffinity",
	"exit", "exit_group",
	"getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid",
	"getresuid", "getresgid", "getgroups", "getrlimit", "getrusage",
	"getrandom", "uname", "sysinfo",
};

/* The collector after the drop: reads the ring buffer (mmap'd pages, epoll)
 * and the BPF counters, writes its capture and talks to the forwarder over
 * a Unix socket (socket() and openat() are checked below). */
static const char *const sb_collector[] = {
	"connect", "getsockopt", "sendto", "sendmsg", "recvfrom", "recvmsg", "shutdown",
	"getsockname", "getpeername",
};

/* The forwarder: the socket input, the metrics port, HTTP(S) with curl
 * (resolver thread, DNS over UDP, netlink for AI_ADDRCONFIG, CA files),
 * snapshots (openat2, atomic renames and links, fsync), the rotated log
 * file and the SQLite outbox (locks, truncation, journals). */
static const char *const sb_forwarder[] = {
	"socketpair", "connect", "accept", "accept4", "bind", "listen",
	"getsockname", "getpeername", "getsockopt", "setsockopt",
	"sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown",
	"open", "openat", "openat2", "creat", "close_range",
	"rename", "renameat", "renameat2", "link", "linkat", "unlink", "unlinkat",
	"mkdir", "mkdirat", "rmdir", "readlink", "readlinkat", "getdents64",
	"access", "faccessat", "faccessat2", "getcwd", "umask",
	"fsync", "fdatasync", "ftruncate", "fallocate", "flock",
	"fchmod", "fchown", "utimensat", "statfs", "fstatfs",
};

#if SB_SANITIZERS
static const char *const sb_sanitizer[] = {
	"ptrace", "wait4", "prctl", "clone", "open", "getdents", "getdents64",
	"readlink", "stat", "lstat",
};
#endif

/* --- SIGSYS ---------------------------------------------------------------
 * Everything the handler needs is prepared at install time: the daemon's
 * name and the names of the syscall numbers (libseccomp's table allocates,
 * which a signal handler must not). The handler itself only formats into a
 * stack buffer and calls write() and _exit(). */
#define SB_NAMES 512
#define SB_NAME_LEN 24

static char sb_daemon[32] = "jcw";
static uint32_t sb_arch;           /* AUDIT_ARCH_* of this build, as in si_arch */
static char sb_names[SB_NAMES][SB_NAME_LEN];

struct sb_line {
	char buf[512];
	size_t len;
};

static void sb_put(struct sb_line *l, const char *s)
{
	while (*s && l->len < sizeof(l->buf) - 2)
		l->buf[l->len++] = *s++;
}

static void sb_put_uint(struct sb_line *l, uint64_t v, unsigned base, int width)
{
	char d[24];
	int n = 0;

	do {
		d[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && n < (int)sizeof(d));
	while (n < width && n < (int)sizeof(d))
		d[n++] = '0';
	while (n > 0 && l->len < sizeof(l->buf) - 2)
		l->buf[l->len++] = d[--n];
}

/* "2026-01-31T12:34:56.123456Z" like log.c, without gmtime_r (not
 * async-signal-safe): days since the epoch to a civil date. */
static void sb_put_time(struct sb_line *l)
{
	struct timespec ts;
	int64_t days, secs, z, era, doe, yoe, y, doy, mp, d, m;

	clock_gettime(CLOCK_REALTIME, &ts);
	days = ts.tv_sec / 86400;
	secs = ts.tv_sec % 86400;
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	sb_put_uint(l, (uint64_t)y, 10, 4);
	sb_put(l, "-");
	sb_put_uint(l, (uint64_t)m, 10, 2);
	sb_put(l, "-");
	sb_put_uint(l, (uint64_t)d, 10, 2);
	sb_put(l, "T");
	sb_put_uint(l, (uint64_t)(secs / 3600), 10, 2);
	sb_put(l, ":");
	sb_put_uint(l, (uint64_t)(secs / 60 % 60), 10, 2);
	sb_put(l, ":");
	sb_put_uint(l, (uint64_t)(secs % 60), 10, 2);
	sb_put(l, ".");
	sb_put_uint(l, (uint64_t)(ts.tv_nsec / 1000), 10, 6);
	sb_put(l, "Z");
}

static void sb_on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	struct sb_line l = {.len = 0};
	int nr = si->si_syscall;
	const char *name = nr >= 0 && nr < SB_NAMES && sb_names[nr][0] ? sb_names[nr] : "unknown";
	bool native = si->si_arch == sb_arch;

	(void)sig;
	(void)uctx;
	sb_put(&l, "{\"ts\":\"");
	sb_put_time(&l);
	sb_put(&l, "\",\"level\":\"error\",\"daemon\":\"");
	sb_put(&l, sb_daemon);
	sb_put(&l, "\",\"msg\":\"seccomp: system call ");
	sb_put(&l, native ? name : "of a foreign architecture");
	sb_put(&l, " (");
	sb_put_uint(&l, (uint64_t)(unsigned)nr, 10, 1);
	sb_put(&l, ") is not in the allow-list: exiting with status 159 "
		   "(--seccomp=false turns the filter off for debugging)\",\"syscall\":");
	sb_put_uint(&l, (uint64_t)(unsigned)nr, 10, 1);
	sb_put(&l, ",\"syscall_name\":\"");
	sb_put(&l, native ? name : "unknown");
	sb_put(&l, "\",\"arch\":\"0x");
	sb_put_uint(&l, si->si_arch, 16, 8);
	sb_put(&l, "\",\"ip\":\"0x");
	sb_put_uint(&l, (uint64_t)(uintptr_t)si->si_call_addr, 16, 1);
	sb_put(&l, "\"}\n");
	if (write(STDERR_FILENO, l.buf, l.len) < 0) {
		/* Nothing left to tell it with. */
	}
	_exit(SANDBOX_EXIT_STATUS);
}

/* --- building the filter -------------------------------------------------- */

static int sb_allow_list(scmp_filter_ctx ctx, const char *const *names, size_t n,
			 char *err, size_t errlen)
{
	size_t i;
	int nr, rc;

	for (i = 0; i < n; i++) {
		nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc < 0 && rc != -EEXIST) {
			snprintf(err, errlen, "seccomp rule for %s: %s", names[i], strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* One argument check; libseccomp's SCMP_A0_64() leaves datum_b to the
 * compound literal, which clang's -Wmissing-field-initializers refuses. */
static struct scmp_arg_cmp sb_arg(unsigned arg, enum scmp_compare op, uint64_t a, uint64_t b)
{
	struct scmp_arg_cmp c = {.arg = arg, .op = op, .datum_a = a, .datum_b = b};

	return c;
}

#define SB_EQ(arg, v) sb_arg((arg), SCMP_CMP_EQ, (uint64_t)(v), 0)

#define SB_RULE(ctx, call, n, ...)                                                 \
	do {                                                                       \
		struct scmp_arg_cmp cmp_[] = {__VA_ARGS__};                        \
		rc = seccomp_rule_add_array((ctx), SCMP_ACT_ALLOW, SCMP_SYS(call), (n), cmp_); \
		if (rc < 0) {                                                      \
			what = #call;                                              \
			goto fail;                                                 \
		}                                                                  \
	} while (0)

/* Calls allowed only with some arguments. */
static int sb_checked(scmp_filter_ctx ctx, enum sandbox_profile profile, char *err, size_t errlen)
{
	const char *what = "";
	pid_t self = getpid();
	int rc;

	/* Threads only (glibc falls back from clone3, whose flags sit in
	 * memory a filter cannot read, to clone on ENOSYS): no fork, no
	 * new namespaces. */
	SB_RULE(ctx, clone, 1, sb_arg(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc < 0) {
		what = "clone3";
		goto fail;
	}
	/* The SIGSYS handler stays: no other handler can hide a refused call. */
	SB_RULE(ctx, rt_sigaction, 1, sb_arg(0, SCMP_CMP_NE, SIGSYS, 0));
	/* Signals to ourselves only (abort(), raise()). */
	SB_RULE(ctx, kill, 1, SB_EQ(0, (uint64_t)self));
	SB_RULE(ctx, tgkill, 1, SB_EQ(0, (uint64_t)self));
	/* Reading limits, never setting them. */
	SB_RULE(ctx, prlimit64, 2, SB_EQ(0, 0), SB_EQ(2, 0));
	/* isatty() of stdio, and the byte count of a socket. */
	SB_RULE(ctx, ioctl, 1, SB_EQ(1, TCGETS));
	SB_RULE(ctx, ioctl, 1, SB_EQ(1, FIONREAD));
	SB_RULE(ctx, ioctl, 1, SB_EQ(1, FIONBIO));

	if (profile == SANDBOX_COLLECTOR) {
		/* Counters and budgets of the already loaded maps (lookups and
		 * walking keys): no loading, no attaching, no map updates. */
		SB_RULE(ctx, bpf, 1, SB_EQ(0, BPF_MAP_LOOKUP_ELEM));
		SB_RULE(ctx, bpf, 1, SB_EQ(0, BPF_MAP_GET_NEXT_KEY));
		SB_RULE(ctx, socket, 1, SB_EQ(0, AF_UNIX));
		/* Reading files only (nothing opened after start-up today; /proc
		 * reads are the only ones a future change could want). */
		SB_RULE(ctx, openat, 1,
			sb_arg(2, SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY));
	} else {
		SB_RULE(ctx, socket, 1, SB_EQ(0, AF_UNIX));
		SB_RULE(ctx, socket, 1, SB_EQ(0, AF_INET));
		SB_RULE(ctx, socket, 1, SB_EQ(0, AF_INET6));
		/* glibc's getaddrinfo(AI_ADDRCONFIG) asks the routing netlink. */
		SB_RULE(ctx, socket, 2, SB_EQ(0, AF_NETLINK),
			SB_EQ(2, NETLINK_ROUTE));
	}
	return 0;
fail:
	snprintf(err, errlen, "seccomp rule for %s: %s", what, strerror(-rc));
	return rc;
}

static void sb_prepare_names(void)
{
	char *s;
	int nr;

	for (nr = 0; nr < SB_NAMES; nr++) {
		s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (s) {
			snprintf(sb_names[nr], SB_NAME_LEN, "%s", s);
			free(s);
		}
	}
}

int sandbox_install(enum sandbox_profile profile, const char *daemon,
		    char *err, size_t errlen)
{
	struct sigaction sa;
	scmp_filter_ctx ctx;
	int rc;

	snprintf(sb_daemon, sizeof(sb_daemon), "%s", daemon);
	sb_arch = seccomp_arch_native();
	sb_prepare_names();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sb_on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		rc = -errno;
		snprintf(err, errlen, "SIGSYS handler: %s", strerror(errno));
		return rc;
	}

	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx) {
		snprintf(err, errlen, "seccomp_init failed");
		return -ENOMEM;
	}
	/* 32-bit (int 0x80) and x32 calls trap too. No SCMP_FLTATR_CTL_LOG:
	 * it would put every clone3 -> ENOSYS (each new thread) in the
	 * kernel's audit log; the SIGSYS line says what matters. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	if (!rc)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc) {
		snprintf(err, errlen, "seccomp attributes: %s", strerror(-rc));
		goto out;
	}
	rc = sb_allow_list(ctx, sb_common, sizeof(sb_common) / sizeof(sb_common[0]), err, errlen);
	if (!rc && profile == SANDBOX_COLLECTOR)
		rc = sb_allow_list(ctx, sb_collector, sizeof(sb_collector) / sizeof(sb_collector[0]),
				   err, errlen);
	if (!rc && profile == SANDBOX_FORWARDER)
		rc = sb_allow_list(ctx, sb_forwarder, sizeof(sb_forwarder) / sizeof(sb_forwarder[0]),
				   err, errlen);
#if SB_SANITIZERS
	if (!rc)
		rc = sb_allow_list(ctx, sb_sanitizer, sizeof(sb_sanitizer) / sizeof(sb_sanitizer[0]),
				   err, errlen);
#endif
	if (!rc)
		rc = sb_checked(ctx, profile, err, errlen);
	if (rc)
		goto out;
	rc = seccomp_load(ctx);
	if (rc)
		snprintf(err, errlen, "loading the seccomp filter: %s", strerror(-rc));
out:
	seccomp_release(ctx);
	return rc;
}

int sandbox_selftest(void)
{
	long rc = syscall(SYS_kexec_file_load, -1, -1, 0UL, "", 0UL);

	return rc < 0 ? -errno : 0;
}
