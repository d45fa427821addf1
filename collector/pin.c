#include "pin.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

static int pin_join(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* The directory's parent is where bpffs must be (/sys/fs/bpf). */
static int pin_bpffs(const char *dir, char *err, size_t errlen)
{
	char mnt[PATH_MAX];
	struct statfs sf;
	char *slash;

	snprintf(mnt, sizeof(mnt), "%s", dir);
	slash = strrchr(mnt, '/');
	if (!slash || slash == mnt) {
		snprintf(err, errlen, "%s: the pin directory must be below a bpffs mount point", dir);
		return -EINVAL;
	}
	*slash = '\0';
	if (statfs(mnt, &sf) == 0 && sf.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", mnt, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0) {
		int e = errno;

		snprintf(err, errlen, "%s is not a bpffs and mounting one there failed: %s", mnt,
			 strerror(e));
		return -e;
	}
	return 0;
}

int pin_prepare(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int e = pin_bpffs(dir, err, errlen);

	if (e)
		return e;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		e = errno;
		snprintf(err, errlen, "creating %s: %s", dir, strerror(e));
		return -e;
	}
	/* Students must never reach the pins: root's, 0700, whatever was there. */
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || chown(dir, 0, 0) < 0 ||
	    chmod(dir, 0700) < 0) {
		e = errno ? errno : ENOTDIR;
		snprintf(err, errlen, "%s: %s", dir, strerror(e));
		return -e;
	}
	return 0;
}

static int pin_state_mmap(int fd, struct pin_state **st)
{
	void *p = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	*st = p;
	return 0;
}

int pin_state_map(const char *dir, struct pin_state **st)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd = pin_get(dir, "state"), e;

	if (fd < 0)
		return fd;
	memset(&info, 0, sizeof(info));
	e = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	if (!e && (info.type != BPF_MAP_TYPE_ARRAY ||
		   (info.value_size != sizeof(struct pin_state) &&
		    info.value_size != PIN_STATE_V1_SIZE) ||
		   !(info.map_flags & BPF_F_MMAPABLE)))
		e = -EINVAL;
	if (!e)
		e = pin_state_mmap(fd, st);
	close(fd);
	if (!e && memcmp((*st)->magic, PIN_MAGIC, sizeof(PIN_MAGIC)) != 0) {
		pin_state_unmap(*st);
		e = -EINVAL;
	}
	return e;
}

int pin_state_create(const char *dir, const struct pin_state *init, struct pin_state **st)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "jcw_state", sizeof(__u32),
				sizeof(struct pin_state), 1, &o), e;

	if (fd < 0)
		return -errno;
	e = pin_state_mmap(fd, st);
	if (!e) {
		memcpy(*st, init, sizeof(*init));
		e = pin_put(fd, dir, "state");
		if (e)
			pin_state_unmap(*st);
	}
	close(fd);
	return e;
}

void pin_state_unmap(struct pin_state *st)
{
	if (st)
		munmap(st, (size_t)sysconf(_SC_PAGESIZE));
}

int pin_get(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (pin_join(path, sizeof(path), dir, name))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int pin_remove(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (pin_join(path, sizeof(path), dir, name))
		return -ENAMETOOLONG;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int pin_put(int fd, const char *dir, const char *name)
{
	char path[PATH_MAX];
	int e = pin_remove(dir, name);

	if (e)
		return e;
	if (pin_join(path, sizeof(path), dir, name))
		return -ENAMETOOLONG;
	return bpf_obj_pin(fd, path) ? -errno : 0;
}

/* Unlinks the entries of dir whose names start with prefix ("" = all). */
static int pin_remove_prefixed(const char *dir, const char *prefix)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0, e = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		e = pin_remove(dir, de->d_name);
		if (e)
			break;
		n++;
	}
	closedir(d);
	return e ? e : n;
}

int pin_remove_links(const char *dir)
{
	return pin_remove_prefixed(dir, "link_");
}

int pin_unpin_all(const char *dir, char *err, size_t errlen)
{
	int e = pin_remove_prefixed(dir, "");

	if (e >= 0 && rmdir(dir) < 0 && errno != ENOENT)
		e = -errno;
	if (e < 0) {
		snprintf(err, errlen, "removing the pins in %s: %s", dir, strerror(-e));
		return e;
	}
	return 0;
}
