/* slowsync: an LD_PRELOAD shim that makes every fsync and fdatasync of the
 * process take SLOWSYNC_MS milliseconds more (default 500), as a disk
 * shared with busy neighbours does: on ext4 (data=ordered) one fsync can
 * wait for everybody's dirty data. Used by
 * tests/integration/fault_slow_fsync.sh; built without sanitizers (a
 * sanitized process loading it needs ASAN_OPTIONS=verify_asan_link_order=0). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void slowsync_wait(void)
{
	const char *v = getenv("SLOWSYNC_MS");
	long ms = v ? atol(v) : 500;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	int e = errno;

	while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	errno = e;
}

int fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");

	slowsync_wait();
	return real ? real(fd) : 0;
}

int fdatasync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");

	slowsync_wait();
	return real ? real(fd) : 0;
}
