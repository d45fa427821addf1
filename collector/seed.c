#include "seed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

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
	while (got < max) {
		n = read(fd, buf + got, max - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
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
