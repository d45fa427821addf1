#include "fdio.h"

#include <errno.h>
#include <unistd.h>

ssize_t fd_read_full(int fd, void *buf, size_t max)
{
	char *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < max) {
		n = read(fd, p + got, max - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}
