/* snap_quota: a student's total counted from the disk (every homework,
 * regular files only, no links followed), then kept up to date; the cap;
 * students apart; a reused entry counted again. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snap_quota.h"

static char base[] = "/tmp/jcw-quota.XXXXXX";

static void put(const char *rel, size_t len)
{
	char path[512], dir[512], *slash;
	char buf[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	for (slash = dir + strlen(base) + 1; (slash = strchr(slash, '/')); slash++) {
		*slash = '\0';
		mkdir(dir, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(base));
	/* Student 1 of os-1: 100 + 50 in hw1, 25 in hw2. */
	put("os-1/hw1/1/main.c/20261101_100000.c", 100);
	put("os-1/hw1/1/main.c/20261101_100001.c", 50);
	put("os-1/hw2/1/src@a.py/20261101_100000.py", 25);
	/* Not theirs, not snapshots: another student, another class, a temporary file. */
	put("os-1/hw1/2/main.c/20261101_100000.c", 200);
	put("db-1/hw1/1/main.c/20261101_100000.c", 200);
	put("os-1/hw1/1/main.c/.tmp.1.0", 200);
	/* A link is not followed. */
	{
		char l[512];

		snprintf(l, sizeof(l), "%s/os-1/hw1/1/main.c/20261101_100002.c", base);
		cr_assert_eq(symlink("/etc/passwd", l), 0);
	}
}

static void teardown(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	cr_assert_eq(system(cmd), 0);
	strcpy(base, "/tmp/jcw-quota.XXXXXX");
}

TestSuite(snap_quota, .init = setup, .fini = teardown);

static struct snap_quota *mk(uint64_t max, size_t students)
{
	struct snap_quota_config c = {.base = base, .max_bytes = max, .max_students = students};
	struct snap_quota *q;

	cr_assert_eq(snap_quota_new(&c, &q), 0);
	return q;
}

Test(snap_quota, counted_from_the_disk_then_kept)
{
	struct snap_quota *q = mk(200, 4);
	uint64_t used = 0;

	cr_assert(snap_quota_fits(q, "os-1", "1", 25, &used));
	cr_assert_eq(used, 175, "got %llu", (unsigned long long)used);
	cr_assert_not(snap_quota_fits(q, "os-1", "1", 26, &used));
	snap_quota_add(q, "os-1", "1", 25);
	cr_assert(snap_quota_fits(q, "os-1", "1", 0, &used));
	cr_assert_eq(used, 200);
	cr_assert_not(snap_quota_fits(q, "os-1", "1", 1, NULL));
	/* Others apart: student 2 holds 200, student 3 nothing yet. */
	cr_assert_not(snap_quota_fits(q, "os-1", "2", 1, &used));
	cr_assert_eq(used, 200);
	cr_assert(snap_quota_fits(q, "os-2", "3", 200, &used));
	cr_assert_eq(used, 0);
	snap_quota_free(q);
}

Test(snap_quota, a_reused_entry_is_counted_again)
{
	struct snap_quota *q = mk(1000, 1);
	uint64_t used = 0;

	cr_assert(snap_quota_fits(q, "os-1", "1", 0, &used));
	snap_quota_add(q, "os-1", "1", 500);   /* not on disk: the entry only */
	cr_assert(snap_quota_fits(q, "os-1", "2", 0, &used));   /* takes the one entry */
	cr_assert(snap_quota_fits(q, "os-1", "1", 0, &used));
	cr_assert_eq(used, 175, "from the disk again, got %llu", (unsigned long long)used);
	snap_quota_free(q);
}

Test(snap_quota, no_base_counts_as_empty)
{
	struct snap_quota_config c = {.base = "/nonexistent/jcw", .max_bytes = 10, .max_students = 2};
	struct snap_quota *q;
	uint64_t used = 1;

	cr_assert_eq(snap_quota_new(&c, &q), 0);
	cr_assert(snap_quota_fits(q, "os-1", "1", 10, &used));
	cr_assert_eq(used, 0);
	snap_quota_free(q);
}

Test(snap_quota, bad_config)
{
	struct snap_quota *q = NULL;

	cr_assert_eq(snap_quota_new(&(struct snap_quota_config){.base = base, .max_bytes = 0,
								 .max_students = 1}, &q), -EINVAL);
	cr_assert_eq(snap_quota_new(&(struct snap_quota_config){.base = NULL, .max_bytes = 1,
								 .max_students = 1}, &q), -EINVAL);
}
