#include "seed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "fdio.h"

int seed_cmdline(const char *proc_root, uint32_t pid, uint8_t *buf, size_t max,
		 size_t *len, int *truncated)
{
	char path[128], extra;
	size_t got = 0;
	ssize_t n;
	int fd, e = 0;

	*len = 0;
	*truncated = 0;
	snprintf(path, sizeof(path), "%s/%u/cmdline", proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = fd_read_full(fd, buf, max);
	if (n < 0) {
		e = (int)n;
		goto out;
	}
	got = (size_t)n;
	if (got == max) {
		do {
			n = read(fd, &extra, 1);
		} while (n < 0 && errno == EINTR);
		*truncated = n > 0;
	}
	*len = got;
out:
	close(fd);
	return e;
}
