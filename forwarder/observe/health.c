#include "health.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"

int health_write(const char *path, bool ready)
{
	const char *text = ready ? "ready\n" : "live\n";
	char tmp[4096];
	size_t len = strlen(text);
	int fd, rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	/* A file of our own, made here: one somebody else made in a shared
	 * /tmp (and could then write "ready" into) is refused. */
	if (unlink(tmp) < 0 && errno != ENOENT)
		return -errno;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		rc = errno ? -errno : -EIO;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

int health_check(const char *path, bool need_ready, char *why, size_t whylen)
{
	struct stat st;
	char buf[16];
	double age;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s (is the forwarder running, with this HEALTH_FILE?)",
			 path, strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) < 0 || (n = fd_read_full(fd, buf, sizeof(buf) - 1)) < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	buf[n] = '\0';
	if (st.st_uid != geteuid()) {
		snprintf(why, whylen, "%s belongs to uid %u, not to this forwarder's uid %u: not its "
			 "health file", path, (unsigned)st.st_uid, (unsigned)geteuid());
		return 1;
	}
	age = clock_unix_s() - ((double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9);
	if (age > HEALTH_MAX_AGE_S) {
		snprintf(why, whylen, "%s is %.1f s old: the forwarder's loop is not running", path,
			 age);
		return 1;
	}
	if (need_ready && strcmp(buf, "ready\n") != 0) {
		snprintf(why, whylen, "the forwarder runs but is not ready (it cannot take events)");
		return 1;
	}
	snprintf(why, whylen, "%s", need_ready ? "ready" : "live");
	return 0;
}
