#include "fdio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int mkdir_path(const char *path, mode_t mode)
{
	char *d = strdup(path), *p;
	int rc = 0;

	if (!d)
		return -ENOMEM;
	for (p = d + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(d, mode) < 0 && errno != EEXIST) {
			rc = -errno;
			break;
		}
		*p = c;
		if (!c)
			break;
	}
	free(d);
	return rc;
}
