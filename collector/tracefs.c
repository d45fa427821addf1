#include "tracefs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static const char *const tracefs_dirs[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};

static int tracefs_has(const char *dir, const char *sub)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, sub);
	return access(p, R_OK | X_OK) == 0;
}

int tracefs_open(struct tracefs *tf, char *err, size_t errlen)
{
	size_t i;

	tf->mounted = false;
	for (i = 0; i < sizeof(tracefs_dirs) / sizeof(tracefs_dirs[0]); i++) {
		if (!tracefs_has(tracefs_dirs[i], "events"))
			continue;
		snprintf(tf->dir, sizeof(tf->dir), "%s", tracefs_dirs[i]);
		goto found;
	}
	snprintf(tf->dir, sizeof(tf->dir), "%s", tracefs_dirs[0]);
	if (mount("tracefs", tf->dir, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		int e = -errno;

		snprintf(err, errlen, "tracefs is not mounted at %s or %s and mounting it failed (%s): "
			 "mount the host's %s into the collector", tracefs_dirs[0], tracefs_dirs[1],
			 strerror(-e), tracefs_dirs[0]);
		return e;
	}
	tf->mounted = true;
found:
	if (!tracefs_has(tf->dir, "events/syscalls")) {
		snprintf(err, errlen, "%s/events has no syscalls: the kernel lacks "
			 "CONFIG_FTRACE_SYSCALLS", tf->dir);
		tracefs_close(tf);
		return -ENOENT;
	}
	return 0;
}

int tracefs_event_id(const struct tracefs *tf, const char *group, const char *event)
{
	char p[256], buf[32];
	ssize_t n;
	long id;
	char *end;
	int fd;

	if (snprintf(p, sizeof(p), "%s/events/%s/%s/id", tf->dir, group, event) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	errno = 0;
	id = strtol(buf, &end, 10);
	if (errno || end == buf || id < 0 || id > 0x7fffffff)
		return -EINVAL;
	return (int)id;
}

void tracefs_close(struct tracefs *tf)
{
	if (!tf->mounted)
		return;
	/* Lazily: a concurrent reader (another tracer) keeps its view. */
	umount2(tf->dir, MNT_DETACH);
	tf->mounted = false;
}
