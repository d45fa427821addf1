/* Path normalisation and homework directories. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "process/hwpath.h"

static char out[HWPATH_MAX];

static const char *norm(const char *cwd, const char *path)
{
	ssize_t n = hwpath_normalise(cwd, cwd ? strlen(cwd) : 0, path, strlen(path),
				     out, sizeof(out));

	cr_assert_geq(n, 0, "normalise(%s, %s) = %zd", cwd ? cwd : "NULL", path, n);
	cr_assert_eq((size_t)n, strlen(out));
	return out;
}

Test(hwpath, absolute_and_relative)
{
	cr_assert_str_eq(norm("/home/coder/project/hw1", "main.c"), "/home/coder/project/hw1/main.c");
	cr_assert_str_eq(norm("/tmp", "/home/coder/project/hw1/main.c"), "/home/coder/project/hw1/main.c");
	cr_assert_str_eq(norm("/home/coder/project", "hw2/a/b.c"), "/home/coder/project/hw2/a/b.c");
	cr_assert_str_eq(norm(NULL, "/x"), "/x");
}

Test(hwpath, dots_and_slashes)
{
	cr_assert_str_eq(norm("/home/coder/project/hw1", "./main.c"), "/home/coder/project/hw1/main.c");
	cr_assert_str_eq(norm("/home/coder/project/hw1", "../hw2/main.c"), "/home/coder/project/hw2/main.c");
	cr_assert_str_eq(norm("/home/coder/project/hw1/", ".//src///x.c"), "/home/coder/project/hw1/src/x.c");
	cr_assert_str_eq(norm("/", "../../../etc/passwd"), "/etc/passwd");
	cr_assert_str_eq(norm("/a/b", ".."), "/a");
	cr_assert_str_eq(norm("/a", "../.."), "/");
	cr_assert_str_eq(norm("/", "."), "/");
	cr_assert_str_eq(norm("/a/./b/../c", "...") , "/a/c/...");
}

Test(hwpath, refuses)
{
	char small[8];

	cr_assert_eq(hwpath_normalise("/a", 2, "", 0, out, sizeof(out)), -EINVAL);
	cr_assert_eq(hwpath_normalise(NULL, 0, "rel.c", 5, out, sizeof(out)), -EINVAL);
	cr_assert_eq(hwpath_normalise("rel", 3, "rel.c", 5, out, sizeof(out)), -EINVAL);
	cr_assert_eq(hwpath_normalise("/a", 2, "x\0y", 3, out, sizeof(out)), -EINVAL);
	cr_assert_eq(hwpath_normalise("/a", 2, "/0123456789", 11, small, sizeof(small)),
		     -ENAMETOOLONG);
}

/* The student of the workspaces below: jcode-os-1-202012345. */
static const struct student OWNER = {"os-1", "202012345", 4, 9};

static enum hwpath_where where(const char *path, char *hw)
{
	return hwpath_homework(path, strlen(path), &OWNER, hw);
}

Test(hwpath, homework_dirs)
{
	char hw[HWPATH_NAME_MAX];

	cr_assert_eq(where("/home/coder/project/hw1/main.c", hw), HWPATH_HOMEWORK);
	cr_assert_str_eq(hw, "hw1");
	cr_assert_eq(where("/home/coder/project/hw0/a/b/c.py", hw), HWPATH_HOMEWORK);
	cr_assert_str_eq(hw, "hw0");
	cr_assert_eq(where("/home/coder/project/hw20/x", hw), HWPATH_HOMEWORK);
	cr_assert_str_eq(hw, "hw20");
	cr_assert_eq(where("/workspace/os-1-202012345/hw3/main.c", hw), HWPATH_HOMEWORK);
	cr_assert_str_eq(hw, "hw3");
	/* a file named like a homework dir is fine: only directories count */
	cr_assert_eq(where("/home/coder/project/hw1/hw2", hw), HWPATH_HOMEWORK);
}

Test(hwpath, not_homework)
{
	static const char *const ws[] = {
		"/home/coder/project/main.c",          /* workspace, no hw */
		"/home/coder/project/hw21/main.c",     /* past hw20 */
		"/home/coder/project/hw01/main.c",     /* leading zero */
		"/home/coder/project/hw00/main.c",
		"/home/coder/project/hw/main.c",
		"/home/coder/project/hw1x/main.c",
		"/home/coder/project/HW1/main.c",
		"/home/coder/project/hw100/main.c",
		"/home/coder/project/hw1/hw2/x.c",     /* nested */
		"/home/coder/project/hw1/src/hw03/x.c",
		"/home/coder/project/hw1",             /* the directory itself */
		"/workspace/os-1-202012345/main.c",
		"/workspace/os-1-202012345/hw99/main.c",
		"/workspace/os-1-1/main.c",            /* another's, but not homework */
	};
	static const char *const outside[] = {
		"/tmp/hw1/main.c",
		"/home/coder/hw1/main.c",
		"/home/coder/projectx/hw1/main.c",
		"/home/coder/project",
		"/workspace/hw1",
		"/workspace/hw1/main.c",               /* no student's name */
		"/workspace/os-1/hw1/a.c",
		"/workspace/invalid-format/hw1/a.c",
		"/workspace/net-work-1-123/hw1/a.c",
		"/workspace/os-1-202012345-0/hw1/a.c", /* a pod name is no workspace */
		"/workspace/os_1-1-2/hw1/a.c",
		"/workspace//hw1/a.c",
		"/usr/bin/gcc",
		"/",
	};
	char hw[HWPATH_NAME_MAX];
	size_t i;

	for (i = 0; i < sizeof(ws) / sizeof(ws[0]); i++)
		cr_expect_eq(where(ws[i], hw), HWPATH_WORKSPACE, "%s", ws[i]);
	for (i = 0; i < sizeof(outside) / sizeof(outside[0]); i++)
		cr_expect_eq(where(outside[i], hw), HWPATH_OUTSIDE, "%s", outside[i]);
}

/* A workspace is the reporting student's own, or nobody's work is filed. */
Test(hwpath, foreign_workspace)
{
	char hw[HWPATH_NAME_MAX];

	cr_assert_eq(where("/workspace/os-1-202012346/hw1/a.c", hw), HWPATH_FOREIGN);
	cr_assert_eq(where("/workspace/os-2-202012345/hw1/a.c", hw), HWPATH_FOREIGN);
	cr_assert_eq(where("/workspace/ds-1-202012345/hw1/sub/a.c", hw), HWPATH_FOREIGN);
	/* without an owner any student's workspace is one */
	cr_assert_eq(hwpath_homework("/workspace/os-1-7/hw2/a.c", 25, NULL, hw), HWPATH_HOMEWORK);
	cr_assert_str_eq(hw, "hw2");
	/* and a nested hw stays ambiguous, also in another's workspace */
	cr_assert_eq(where("/workspace/os-1-7/hw1/hw2/a.c", hw), HWPATH_WORKSPACE);
}

Test(hwpath, dotdot_cannot_escape_or_enter)
{
	char hw[HWPATH_NAME_MAX];

	/* out of hw1 into the workspace root */
	norm("/home/coder/project/hw1", "../main.c");
	cr_assert_eq(where(out, hw), HWPATH_WORKSPACE);
	/* from /tmp into hw2 */
	norm("/tmp", "../home/coder/project/hw2/./x.c");
	cr_assert_eq(where(out, hw), HWPATH_HOMEWORK);
	cr_assert_str_eq(hw, "hw2");
	/* a nested hw dir that ".." removes is no longer nested */
	norm("/home/coder/project/hw1/hw2/..", "x.c");
	cr_assert_eq(where(out, hw), HWPATH_HOMEWORK);
	cr_assert_str_eq(hw, "hw1");
}
