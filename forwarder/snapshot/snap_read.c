#include "snap_read.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdio.h"
#include "process/hwpath.h"

/* openat2 (Linux 5.6) resolves a whole path without following any link
 * and without leaving the directory. Kernels or seccomp profiles without it
 * answer ENOSYS (or EPERM); then the walk below does the same job. Once
 * seen missing it is not tried again in this process. */
static int snap_read_openat2_missing;

static enum snap_read_result snap_read_errno(int e, int *err)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return SNAP_READ_MISSING;
	case ELOOP:
	case EXDEV:   /* RESOLVE_BENEATH: the path tried to leave the root */
		return SNAP_READ_SYMLINK;
	default:
		*err = e;
		return SNAP_READ_IO;
	}
}

/* Opens the directory rel (a relative path of components) below rootfd as
 * an O_PATH descriptor, following no link. 0 and *out, or -errno. */
static int snap_read_open_dir(int rootfd, const char *rel, bool no_openat2, int *out)
{
	char comp[HWPATH_MAX];
	const char *p = rel, *slash;
	struct stat st;
	size_t n;
	int fd, next, e;

	if (!no_openat2 && !snap_read_openat2_missing) {
		struct open_how how = {
			.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
		};

		fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
		if (fd >= 0) {
			*out = fd;
			return 0;
		}
		if (errno != ENOSYS && errno != EPERM && errno != E2BIG)
			return -errno;
		snap_read_openat2_missing = 1;
	}

	fd = dup(rootfd);
	if (fd < 0)
		return -errno;
	while (*p) {
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == 0 || n >= sizeof(comp) || (n <= 2 && p[0] == '.' && (n == 1 || p[1] == '.'))) {
			close(fd);
			return -EINVAL;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		/* O_PATH | O_NOFOLLOW opens a symlink itself instead of failing:
		 * the fstat tells which it was. */
		next = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (next < 0)
			return -errno;
		e = fstat(next, &st) < 0 ? -errno
		    : S_ISLNK(st.st_mode) ? -ELOOP
		    : !S_ISDIR(st.st_mode) ? -ENOTDIR : 0;
		if (e) {
			close(next);
			return e;
		}
		fd = next;
		p += n;
		if (*p == '/')
			p++;
	}
	*out = fd;
	return 0;
}

static uint64_t snap_read_mtime(const struct stat *st)
{
	return (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec;
}

static enum snap_read_result snap_read_once(const struct snap_read_config *cfg, int dirfd,
					    const char *base, unsigned attempt, uint8_t *buf,
					    size_t *len, uint64_t *mtime_ns, int *err)
{
	struct stat pre, before, after;
	size_t n = 0;
	ssize_t r;
	int fd;

	if (fstatat(dirfd, base, &pre, AT_SYMLINK_NOFOLLOW) < 0)
		return snap_read_errno(errno, err);
	if (S_ISLNK(pre.st_mode))
		return SNAP_READ_SYMLINK;
	if (!S_ISREG(pre.st_mode))
		return SNAP_READ_NOT_REGULAR;
	if ((uint64_t)pre.st_size > cfg->max_size)
		return SNAP_READ_TOO_LARGE;

	fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return snap_read_errno(errno, err);
	if (fstat(fd, &before) < 0) {
		*err = errno;
		close(fd);
		return SNAP_READ_IO;
	}
	/* Replaced between the type check and the open. */
	if (!S_ISREG(before.st_mode) || before.st_ino != pre.st_ino || before.st_dev != pre.st_dev) {
		close(fd);
		return SNAP_READ_NOT_REGULAR;
	}
	if ((uint64_t)before.st_size > cfg->max_size) {
		close(fd);
		return SNAP_READ_TOO_LARGE;
	}
	if (cfg->hook)
		cfg->hook(cfg->hook_arg, attempt);
	/* max_size + 1: a file that grew past the bound is seen */
	r = fd_read_full(fd, buf, cfg->max_size + 1);
	if (r < 0) {
		*err = (int)-r;
		close(fd);
		return SNAP_READ_IO;
	}
	n = (size_t)r;
	if (fstat(fd, &after) < 0) {
		*err = errno;
		close(fd);
		return SNAP_READ_IO;
	}
	close(fd);
	if (before.st_size != after.st_size || (uint64_t)after.st_size != n ||
	    before.st_mtim.tv_sec != after.st_mtim.tv_sec ||
	    before.st_mtim.tv_nsec != after.st_mtim.tv_nsec)
		return SNAP_READ_INCONSISTENT;
	*len = n;
	*mtime_ns = snap_read_mtime(&after);
	return SNAP_READ_OK;
}

enum snap_read_result snap_read(const struct snap_read_config *cfg, const char *rel,
				uint8_t *buf, size_t *len, uint64_t *mtime_ns, int *err)
{
	char dir[HWPATH_MAX];
	const char *slash = strrchr(rel, '/');
	enum snap_read_result res = SNAP_READ_IO;
	unsigned attempt;
	int rootfd, dirfd = -1, rc;

	*err = 0;
	if (!slash || slash == rel || !slash[1] || (size_t)(slash - rel) >= sizeof(dir)) {
		*err = EINVAL;
		return SNAP_READ_IO;
	}
	memcpy(dir, rel, (size_t)(slash - rel));
	dir[slash - rel] = '\0';

	/* Opened per read: the volume may be mounted (or remounted) after
	 * the forwarder started. */
	rootfd = open(cfg->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return snap_read_errno(errno, err);
	for (attempt = 0; attempt < 2; attempt++) {
		/* The retry resolves the path again: an editor that replaced the
		 * file by rename left a new, complete inode there. */
		rc = snap_read_open_dir(rootfd, dir, cfg->no_openat2, &dirfd);
		if (rc < 0) {
			res = snap_read_errno(-rc, err);
			break;
		}
		res = snap_read_once(cfg, dirfd, slash + 1, attempt, buf, len, mtime_ns, err);
		close(dirfd);
		if (res != SNAP_READ_INCONSISTENT)
			break;
	}
	close(rootfd);
	return res;
}

const char *snap_read_result_name(enum snap_read_result r)
{
	static const char *const names[SNAP_READ_RESULT_COUNT] = {
		[SNAP_READ_OK] = "ok",
		[SNAP_READ_MISSING] = "missing",
		[SNAP_READ_SYMLINK] = "symlink",
		[SNAP_READ_NOT_REGULAR] = "not_regular",
		[SNAP_READ_TOO_LARGE] = "too_large",
		[SNAP_READ_INCONSISTENT] = "inconsistent",
		[SNAP_READ_IO] = "io_error",
	};

	return (unsigned)r < SNAP_READ_RESULT_COUNT ? names[r] : "unknown";
}
