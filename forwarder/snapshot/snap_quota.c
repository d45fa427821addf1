#include "snap_quota.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keytab.h"
#include "process/student.h"

_Static_assert(STUDENT_KEY_MAX <= KEYTAB_KEY_MAX, "a student's key fits the table");

/* Keyed by "{class_div}/{id}" in a keytab: O(1) per stored file. */
struct quota_entry {
	uint64_t used;
};

struct snap_quota {
	struct snap_quota_config cfg;
	struct keytab *t;
};

int snap_quota_new(const struct snap_quota_config *cfg, struct snap_quota **out)
{
	struct snap_quota *q;
	int rc;

	if (!cfg->base || !cfg->max_bytes || !cfg->max_students)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->cfg = *cfg;
	rc = keytab_new(cfg->max_students, sizeof(struct quota_entry), NULL, NULL, &q->t);
	if (rc) {
		free(q);
		return rc;
	}
	*out = q;
	return 0;
}

void snap_quota_free(struct snap_quota *q)
{
	if (!q)
		return;
	keytab_free(q->t);
	free(q);
}

/* Opens the directory name below dirfd, never through a link. */
static DIR *quota_opendir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

static bool quota_skip(const char *name)
{
	return name[0] == '.';   /* ".", "..", and the store's temporary files */
}

/* The regular files directly in d. */
static uint64_t quota_sum_files(DIR *d)
{
	struct dirent *de;
	struct stat st;
	uint64_t sum = 0;

	while ((de = readdir(d)))
		if (!quota_skip(de->d_name) &&
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_size;
	return sum;
}

/* {base}/{class_div}/{hw}/{id}/{filename}/{snapshot} for every hw. */
static uint64_t quota_scan(const struct snap_quota *q, const char *class_div, const char *id)
{
	DIR *base, *cd = NULL, *sd, *fd;
	struct dirent *hw, *fn;
	uint64_t sum = 0;
	char rel[NAME_MAX + STUDENT_ID_MAX + 2];

	base = quota_opendir(AT_FDCWD, q->cfg.base);
	if (!base)
		return 0;
	cd = quota_opendir(dirfd(base), class_div);
	if (!cd)
		goto out;
	while ((hw = readdir(cd))) {
		if (quota_skip(hw->d_name))
			continue;
		snprintf(rel, sizeof(rel), "%s/%s", hw->d_name, id);
		sd = quota_opendir(dirfd(cd), rel);
		if (!sd)
			continue;
		while ((fn = readdir(sd))) {
			if (quota_skip(fn->d_name) || !(fd = quota_opendir(dirfd(sd), fn->d_name)))
				continue;
			sum += quota_sum_files(fd);
			closedir(fd);
		}
		closedir(sd);
	}
out:
	if (cd)
		closedir(cd);
	closedir(base);
	return sum;
}

/* The student's entry, counted from the disk when new (or evicted and
 * met again); NULL only for names no student has (too long). */
static struct quota_entry *quota_get(struct snap_quota *q, const char *class_div, const char *id)
{
	char key[KEYTAB_KEY_MAX + 2];
	struct quota_entry *e;
	bool fresh;

	if ((size_t)snprintf(key, sizeof(key), "%s/%s", class_div, id) >= sizeof(key))
		return NULL;
	e = keytab_get(q->t, key, &fresh);
	if (e && fresh)
		e->used = quota_scan(q, class_div, id);
	return e;
}

bool snap_quota_fits(struct snap_quota *q, const char *class_div, const char *student_id,
		     uint64_t len, uint64_t *used)
{
	struct quota_entry *e = quota_get(q, class_div, student_id);

	if (used)
		*used = e ? e->used : 0;
	return !e || (e->used <= q->cfg.max_bytes && len <= q->cfg.max_bytes - e->used);
}

void snap_quota_add(struct snap_quota *q, const char *class_div, const char *student_id,
		    uint64_t len)
{
	struct quota_entry *e = quota_get(q, class_div, student_id);

	if (e)
		e->used += len;
}

size_t snap_quota_memory(const struct snap_quota *q)
{
	return q ? sizeof(*q) + keytab_memory(q->t) : 0;
}
