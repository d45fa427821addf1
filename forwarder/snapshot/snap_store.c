#include "snap_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "hash.h"
#include "strbuf.h"

struct snap_store_slot {
	char *key;                 /* "class_div/hw/id/filename", NULL: empty */
	uint64_t hash;             /* of the newest snapshot's content */
	size_t size;
	char name[NAME_MAX + 1];   /* the newest snapshot's file name */
	char prev[NAME_MAX + 1];   /* the one before it, when this cache saw both stored */
};

struct snap_store {
	struct snap_store_config cfg;
	struct snap_store_slot *slots;
	size_t nslots;
	uint8_t *scratch;          /* max_size + 1: a snapshot read back */
	unsigned tmp_seq;
	/* The last snapshot stored was its file's first (its directory was
	 * made for it): no version before it to look for. */
	bool last_first;
	char last_name[5 * (NAME_MAX + 1)];   /* "{key}/{name}" of the last one stored */
};

int snap_store_new(const struct snap_store_config *cfg, struct snap_store **out)
{
	struct snap_store *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->nslots = cfg->cache_slots ? cfg->cache_slots : 4096;
	s->slots = calloc(s->nslots, sizeof(*s->slots));
	s->scratch = malloc(cfg->max_size + 1);
	if (!s->slots || !s->scratch) {
		snap_store_free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void snap_store_free(struct snap_store *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; s->slots && i < s->nslots; i++)
		free(s->slots[i].key);
	free(s->slots);
	free(s->scratch);
	free(s);
}

void snap_store_timestamp(uint64_t time_ns, char out[SNAP_STORE_TS_LEN])
{
	time_t secs = (time_t)(time_ns / 1000000000u);
	struct tm tm;

	if (!gmtime_r(&secs, &tm))
		memset(&tm, 0, sizeof(tm));   /* not reachable for 64-bit time_t */
	/* uint64 nanoseconds end in 2554: always 15 characters. */
	if (strftime(out, SNAP_STORE_TS_LEN, "%Y%m%d_%H%M%S", &tm) != SNAP_STORE_TS_LEN - 1)
		memcpy(out, "00000000_000000", SNAP_STORE_TS_LEN);
}

/* Opens {base}/{class_div}/{hw}/{id}/{filename}, creating what is missing
 * when create is set (the base itself never). Links below the base are not
 * followed: the directories are ours, a link there is not. 0 or -errno. */
static int snap_store_open_dir(const struct snap_store *s, const struct snap_store_file *f,
			       bool create, int *out)
{
	const char *comps[] = {f->class_div, f->hw, f->student_id, f->filename};
	size_t i;
	int fd, next, e;
	bool made;

	fd = open(s->cfg.base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (i = 0; i < sizeof(comps) / sizeof(comps[0]); i++) {
		made = false;
		if (create) {
			if (mkdirat(fd, comps[i], 0755) == 0)
				made = true;
			else if (errno != EEXIST)
				goto fail;
		}
		next = openat(fd, comps[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			goto fail;
		/* A new directory's name is durable once its parent is synced. */
		if (made && fsync(fd) < 0) {
			close(next);
			goto fail;
		}
		close(fd);
		fd = next;
	}
	*out = fd;
	return 0;
fail:
	e = errno;
	close(fd);
	return -e;
}

/* "YYYYMMDD_HHMMSS[.N]{ext}": 0 and the suffix in *n, else -1. */
static int snap_store_parse_name(const char *name, const char *ext, unsigned *n)
{
	size_t i;
	unsigned v = 0;

	for (i = 0; i < 15; i++) {
		if (i == 8 ? name[i] != '_' : (name[i] < '0' || name[i] > '9'))
			return -1;
	}
	name += 15;
	if (name[0] == '.' && name[1] >= '1' && name[1] <= '9') {
		for (i = 1; name[i] >= '0' && name[i] <= '9' && i <= 3; i++)
			v = v * 10 + (unsigned)(name[i] - '0');
		if (strcmp(name + i, ext) == 0) {
			*n = v;
			return 0;
		}
	}
	if (strcmp(name, ext) == 0) {
		*n = 0;
		return 0;
	}
	return -1;
}

/* The newest snapshot's name in dirfd: 1, 0 when there is none, -errno. */
static int snap_store_newest(int dirfd, const char *ext, char name[NAME_MAX + 1])
{
	struct dirent *de;
	unsigned n, best_n = 0;
	int fd, found = 0;
	DIR *d;

	fd = dup(dirfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		int c;

		if (snap_store_parse_name(de->d_name, ext, &n))
			continue;
		c = found ? strncmp(de->d_name, name, 15) : 1;
		if (c > 0 || (c == 0 && n > best_n)) {
			snprintf(name, NAME_MAX + 1, "%s", de->d_name);
			best_n = n;
			found = 1;
		}
	}
	closedir(d);
	return found;
}

/* 1 when the snapshot `name` holds exactly data, 0 when it differs, -errno
 * when it cannot be read. */
static int snap_store_equal(struct snap_store *s, int dirfd, const char *name,
			    const void *data, size_t len)
{
	struct stat st;
	size_t n = 0;
	ssize_t r;
	int fd, rc = 0;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != len)
		goto out;
	/* One byte more than expected tells a longer file (len <= max_size,
	 * and scratch holds max_size + 1). */
	r = fd_read_full(fd, s->scratch, len + 1);
	if (r < 0) {
		rc = (int)r;
		goto out;
	}
	n = (size_t)r;
	rc = n == len && memcmp(s->scratch, data, len) == 0;
out:
	close(fd);
	return rc;
}

static struct snap_store_slot *snap_store_slot(struct snap_store *s, const char *key)
{
	return &s->slots[hash_fnv1a(key, strlen(key)) % s->nslots];
}

static void snap_store_remember(struct snap_store_slot *slot, const char *key, uint64_t hash,
				size_t size, const char *name)
{
	if (!slot->key || strcmp(slot->key, key) != 0) {
		char *k = strdup(key);

		if (!k)
			return;   /* only a cache: a later miss reads the disk */
		free(slot->key);
		slot->key = k;
		slot->name[0] = '\0';
	}
	if (strcmp(slot->name, name))
		snprintf(slot->prev, sizeof(slot->prev), "%s", slot->name);
	slot->hash = hash;
	slot->size = size;
	snprintf(slot->name, sizeof(slot->name), "%s", name);
}

/* Is data what the file's newest snapshot holds already? 1 yes, 0 no (also
 * when there is no snapshot at all), -errno. */
static int snap_store_unchanged(struct snap_store *s, int dirfd, const struct snap_store_file *f,
				const char *key, uint64_t hash, const void *data, size_t len)
{
	struct snap_store_slot *slot = snap_store_slot(s, key);
	char name[NAME_MAX + 1];
	int rc;

	if (slot->key && strcmp(slot->key, key) == 0) {
		if (slot->hash != hash || slot->size != len)
			return 0;
		rc = snap_store_equal(s, dirfd, slot->name, data, len);
		if (rc >= 0)
			return rc;
		/* Gone from disk (cleaned up by hand?): ask the directory. */
	}
	rc = snap_store_newest(dirfd, f->ext, name);
	if (rc <= 0)
		return rc;
	rc = snap_store_equal(s, dirfd, name, data, len);
	if (rc == 1)
		snap_store_remember(slot, key, hash, len, name);
	return rc;
}

/* Is this deletion stored already, i.e. the same event seen again (a replay,
 * or a frame resent before its registration was durable)? Then the newest
 * snapshot is empty and named by the same second. 1 yes, 0 no, -errno. */
static int snap_store_deleted_at(struct snap_store *s, int dirfd, const struct snap_store_file *f,
				 const char *key, const char ts[SNAP_STORE_TS_LEN])
{
	struct snap_store_slot *slot = snap_store_slot(s, key);
	char name[NAME_MAX + 1];
	int rc;

	if (slot->key && strcmp(slot->key, key) == 0) {
		snprintf(name, sizeof(name), "%s", slot->name);
	} else {
		rc = snap_store_newest(dirfd, f->ext, name);
		if (rc <= 0)
			return rc;
	}
	if (strncmp(name, ts, SNAP_STORE_TS_LEN - 1) != 0)
		return 0;
	rc = snap_store_equal(s, dirfd, name, "", 0);
	return rc == -ENOENT ? 0 : rc;
}

/* Writes data to a new hidden file in dirfd, synced. 0 and its name, or -errno. */
static int snap_store_write_tmp(struct snap_store *s, int dirfd, const void *data, size_t len,
				char tmp[64])
{
	const uint8_t *p = data;
	size_t off = 0;
	ssize_t w;
	int fd = -1, tries, e;

	for (tries = 0; tries < 100 && fd < 0; tries++) {
		snprintf(tmp, 64, ".tmp.%ld.%u", (long)getpid(), s->tmp_seq++);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	if (fd < 0)
		return -EEXIST;
	while (off < len) {
		w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		off += (size_t)w;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	return -e;
}

/* Gives tmp the name final unless final exists: 0, -EEXIST, or -errno. */
static int snap_store_place(int dirfd, const char *tmp, const char *final)
{
	if (renameat2(dirfd, tmp, dirfd, final, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
		return -errno;
	/* NFS and some others lack RENAME_NOREPLACE: a hard link never
	 * replaces either, and the temporary name goes afterwards. */
	if (linkat(dirfd, tmp, dirfd, final, 0) < 0)
		return -errno;
	unlinkat(dirfd, tmp, 0);
	return 0;
}

enum snap_store_result snap_store_put(struct snap_store *s, const struct snap_store_file *f,
				      uint64_t time_ns, const void *data, size_t len,
				      bool deletion, char url_ts[SNAP_STORE_URL_TS_MAX], int *err)
{
	struct strbuf key = STRBUF_INIT;
	char ts[SNAP_STORE_TS_LEN], tmp[64], final[NAME_MAX + 1];
	uint64_t hash = hash_fnv1a(data, len)   /* "changed?"; equality is confirmed on disk */;
	enum snap_store_result res = SNAP_STORE_ERROR;
	unsigned suffix;
	int dirfd = -1, rc;

	*err = 0;
	if (len > s->cfg.max_size) {
		*err = EFBIG;
		return SNAP_STORE_ERROR;
	}
	strbuf_printf(&key, "%s/%s/%s/%s", f->class_div, f->hw, f->student_id, f->filename);
	if (!strbuf_ok(&key)) {
		*err = ENOMEM;
		return SNAP_STORE_ERROR;
	}

	snap_store_timestamp(time_ns, ts);
	rc = snap_store_open_dir(s, f, false, &dirfd);
	/* A deletion is always recorded, also of a file with no snapshot yet
	 * (older than the monitor, or its saves merged away), once. */
	if (rc == 0)
		rc = deletion ? snap_store_deleted_at(s, dirfd, f, key.buf, ts)
			      : snap_store_unchanged(s, dirfd, f, key.buf, hash, data, len);
	else if (rc == -ENOENT)
		rc = 0;   /* no directory yet: no history (the base is checked below) */
	if (rc < 0)
		goto fail;
	if (rc == 1) {
		res = SNAP_STORE_UNCHANGED;
		goto out;
	}
	s->last_first = dirfd < 0;
	if (dirfd < 0) {
		rc = snap_store_open_dir(s, f, true, &dirfd);
		if (rc < 0)
			goto fail;
	}

	rc = snap_store_write_tmp(s, dirfd, data, len, tmp);
	if (rc < 0)
		goto fail;
	for (suffix = 0; suffix <= SNAP_STORE_MAX_SUFFIX; suffix++) {
		if (suffix)
			snprintf(url_ts, SNAP_STORE_URL_TS_MAX, "%s.%u", ts, suffix);
		else
			snprintf(url_ts, SNAP_STORE_URL_TS_MAX, "%s", ts);
		if ((size_t)snprintf(final, sizeof(final), "%s%s", url_ts, f->ext) >= sizeof(final)) {
			rc = -ENAMETOOLONG;
			break;
		}
		rc = snap_store_place(dirfd, tmp, final);
		if (rc != -EEXIST)
			break;
	}
	if (rc < 0) {
		unlinkat(dirfd, tmp, 0);
		goto fail;
	}
	/* The name must be durable before the API is told about it; one that
	 * may not be is taken back, so disk and API never disagree. */
	if (fsync(dirfd) < 0) {
		rc = -errno;
		unlinkat(dirfd, final, 0);
		goto fail;
	}
	snap_store_remember(snap_store_slot(s, key.buf), key.buf, hash, len, final);
	if ((size_t)snprintf(s->last_name, sizeof(s->last_name), "%s/%s", key.buf, final) >=
	    sizeof(s->last_name))
		s->last_first = false;   /* too long to remember: the directory is asked */
	res = SNAP_STORE_STORED;
	goto out;
fail:
	*err = -rc;
out:
	if (dirfd >= 0)
		close(dirfd);
	strbuf_free(&key);
	return res;
}

/* "YYYYMMDD_HHMMSS" at name as unix seconds (UTC). */
static uint64_t snap_store_name_time(const char *name)
{
	struct tm tm = {0};
	char buf[16];

	memcpy(buf, name, 15);
	buf[15] = '\0';
	if (!strptime(buf, "%Y%m%d_%H%M%S", &tm))
		return 0;
	return (uint64_t)timegm(&tm);
}

/* Whether (f, url_ts) is the snapshot snap_store_put stored last. */
static bool snap_store_is_last(const struct snap_store *s, const struct snap_store_file *f,
			       const char *url_ts)
{
	char name[sizeof(s->last_name)];

	if ((size_t)snprintf(name, sizeof(name), "%s/%s/%s/%s/%s%s", f->class_div, f->hw,
			     f->student_id, f->filename, url_ts, f->ext) >= sizeof(name))
		return false;
	return strcmp(name, s->last_name) == 0;
}

/* The name of the newest snapshot before (timestamp, suffix) of url_ts in
 * dirfd, into best ("" when none): from the cache when it saw both stored,
 * else from the directory. 0 or -errno. */
static int snap_store_before(struct snap_store *s, int dirfd, const struct snap_store_file *f,
			     const char *url_ts, char best[NAME_MAX + 1])
{
	struct strbuf key = STRBUF_INIT;
	struct snap_store_slot *slot;
	unsigned n, best_n = 0, n0 = 0;
	struct dirent *de;
	size_t tl = strlen(url_ts);
	int fd, c;
	DIR *d;

	best[0] = '\0';
	strbuf_printf(&key, "%s/%s/%s/%s", f->class_div, f->hw, f->student_id, f->filename);
	slot = strbuf_ok(&key) ? snap_store_slot(s, key.buf) : NULL;
	if (slot && slot->key && !strcmp(slot->key, key.buf) && slot->prev[0] &&
	    !strncmp(slot->name, url_ts, tl) && !strcmp(slot->name + tl, f->ext)) {
		snprintf(best, NAME_MAX + 1, "%s", slot->prev);
		strbuf_free(&key);
		return 0;
	}
	strbuf_free(&key);
	if (url_ts[15] == '.')
		n0 = (unsigned)strtoul(url_ts + 16, NULL, 10);
	fd = dup(dirfd);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		c = -errno;
		if (fd >= 0)
			close(fd);
		return c;
	}
	while ((de = readdir(d))) {
		if (snap_store_parse_name(de->d_name, f->ext, &n))
			continue;
		c = strncmp(de->d_name, url_ts, 15);
		if (c > 0 || (c == 0 && n >= n0))
			continue;
		c = best[0] ? strncmp(de->d_name, best, 15) : 1;
		if (c > 0 || (c == 0 && n > best_n)) {
			snprintf(best, NAME_MAX + 1, "%s", de->d_name);
			best_n = n;
		}
	}
	closedir(d);
	return 0;
}

int snap_store_previous(struct snap_store *s, const struct snap_store_file *f, const char *url_ts,
			struct snap_store_prev *out)
{
	char best[NAME_MAX + 1];
	struct stat st;
	ssize_t r;
	int dirfd = -1, fd, rc;

	memset(out, 0, sizeof(*out));
	if (strlen(url_ts) < 15)
		return -EINVAL;
	if (s->last_first && snap_store_is_last(s, f, url_ts))
		return 0;   /* the file's first snapshot: nothing before it */
	rc = snap_store_open_dir(s, f, false, &dirfd);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	rc = snap_store_before(s, dirfd, f, url_ts, best);
	if (!rc && best[0]) {
		fd = openat(dirfd, best, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    (uint64_t)st.st_size <= s->cfg.max_size) {
			r = fd_read_full(fd, s->scratch, s->cfg.max_size);
			if (r >= 0) {
				out->found = true;
				out->data = s->scratch;
				out->len = (size_t)r;
				out->time_s = snap_store_name_time(best);
			}
		}
		if (fd >= 0)
			close(fd);
	}
	close(dirfd);
	return rc;
}
