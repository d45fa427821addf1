/* The health file the exec probes read: fresh, stale, ready or not. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "observe/health.h"

static char dir[64], path[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_health.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/h", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

TestSuite(health, .init = setup, .fini = teardown);

Test(health, live_and_ready)
{
	char why[256];

	cr_assert_eq(health_write(path, true), 0);
	cr_assert_eq(health_check(path, false, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(health_check(path, true, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(health_write(path, false), 0);
	cr_assert_eq(health_check(path, false, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(health_check(path, true, why, sizeof(why)), 1);
	cr_assert(strstr(why, "not ready"), "%s", why);
	/* no temporary file is left behind */
	snprintf(why, sizeof(why), "%s.tmp", path);
	cr_assert_eq(access(why, F_OK), -1);
}

/* A loop that stopped writing is not live, whatever the file says. */
Test(health, stale_is_not_live)
{
	struct timespec old[2] = {{.tv_sec = 1}, {.tv_sec = 1}};
	char why[256];

	cr_assert_eq(health_write(path, true), 0);
	cr_assert_eq(utimensat(AT_FDCWD, path, old, 0), 0);
	cr_assert_eq(health_check(path, false, why, sizeof(why)), 1);
	cr_assert(strstr(why, "not running"), "%s", why);
}

Test(health, missing_is_not_live)
{
	char why[256];

	cr_assert_eq(health_check(path, false, why, sizeof(why)), 1);
	cr_assert(strstr(why, "is the forwarder running"), "%s", why);
	cr_assert_lt(health_write("/nonexistent/dir/h", true), 0);
}

/* Somebody else's file is not our health file: a student who wrote
 * "ready" into a file of the shared /tmp cannot fake the probe. Root's
 * chown to another uid stands in for that user (skipped unprivileged). */
Test(health, a_file_of_another_uid_is_not_live)
{
	char why[256];

	cr_assert_eq(health_write(path, true), 0);
	if (geteuid() != 0)
		cr_skip_test("needs root to give the file to another uid");
	cr_assert_eq(chown(path, 12345, 12345), 0);
	cr_assert_eq(health_check(path, false, why, sizeof(why)), 1);
	cr_assert(strstr(why, "belongs to uid 12345"), "%s", why);
}

/* A temporary file left by somebody else is never written through:
 * health_write makes its own, or fails. */
Test(health, a_planted_temporary_file_is_replaced_not_written)
{
	char tmp[160], why[256];
	struct stat st;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fchmod(fd, 0666), 0);   /* whatever the umask */
	close(fd);
	cr_assert_eq(health_write(path, true), 0);
	cr_assert_eq(health_check(path, true, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0644, "a file of its own mode, not the planted 0666");
}
