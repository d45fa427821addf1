/* Container path -> WATCH_ROOT view, student, homework dir and '@' name. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "snapshot/snap_path.h"

#define HOST "jcode-os-1-202012345"

static enum snap_path_result map(const char *root, const char *host, const char *path,
				 struct snap_path *sp)
{
	return snap_path_map(root, host, strlen(host), path, strlen(path), sp);
}

Test(snap_path, maps_a_homework_file)
{
	struct snap_path sp;

	cr_assert_eq(map("/home/coder/project", HOST, "/home/coder/project/hw1/main.c", &sp),
		     SNAP_PATH_OK);
	cr_assert_str_eq(sp.st.class_div, "os-1");
	cr_assert_str_eq(sp.st.id, "202012345");
	cr_assert_str_eq(sp.hw, "hw1");
	cr_assert_str_eq(sp.rel, "os-1-202012345/hw1/main.c");
	cr_assert_eq(sp.rel_len, strlen(sp.rel));
	cr_assert_eq(sp.below_len, 6);
	cr_assert_eq(strncmp(sp.below_hw, "main.c", sp.below_len), 0);
	cr_assert_str_eq(sp.filename, "main.c");
	cr_assert_str_eq(sp.ext, ".c");
}

Test(snap_path, at_encoding_of_subdirectories)
{
	struct snap_path sp;
	char out[32];

	cr_assert_eq(map("/home/coder/project", "jcode-ds-2-7",
			 "/home/coder/project/hw20/src/app/main.cpp", &sp), SNAP_PATH_OK);
	cr_assert_str_eq(sp.st.class_div, "ds-2");
	cr_assert_str_eq(sp.rel, "ds-2-7/hw20/src/app/main.cpp");
	cr_assert_str_eq(sp.filename, "src@app@main.cpp");
	cr_assert_str_eq(sp.ext, ".cpp");
	cr_assert_eq(snap_path_encode("a/b/c.py", 8, out, sizeof(out)), 8);
	cr_assert_str_eq(out, "a@b@c.py");
	cr_assert_eq(snap_path_encode("a/b/c.py", 8, out, 8), -ENAMETOOLONG);
}

Test(snap_path, normalises_before_matching)
{
	struct snap_path sp;

	cr_assert_eq(map("/home/coder/project", HOST, "/home/coder/project//hw2/./x/../y.py", &sp),
		     SNAP_PATH_OK);
	cr_assert_str_eq(sp.rel, "os-1-202012345/hw2/y.py");
	cr_assert_str_eq(sp.filename, "y.py");
	/* ".." cannot climb into a homework dir from elsewhere, nor out. */
	cr_assert_eq(map("/home/coder/project", HOST, "/tmp/../home/coder/project/hw1/a.c", &sp),
		     SNAP_PATH_OK);
	cr_assert_eq(map("/home/coder/project", HOST, "/home/coder/project/hw1/../../x/hw1/a.c", &sp),
		     SNAP_PATH_OUTSIDE_ROOT);
}

Test(snap_path, extension_of_the_last_component)
{
	struct snap_path sp;

	cr_assert_eq(map("/home/coder/project", HOST, "/home/coder/project/hw1/v1.2/Makefile", &sp),
		     SNAP_PATH_OK);
	cr_assert_str_eq(sp.ext, "");
	cr_assert_eq(map("/home/coder/project", HOST, "/home/coder/project/hw1/.bashrc", &sp),
		     SNAP_PATH_OK);
	cr_assert_str_eq(sp.ext, "");
	cr_assert_eq(map("/home/coder/project", HOST, "/home/coder/project/hw1/a.tar.gz", &sp),
		     SNAP_PATH_OK);
	cr_assert_str_eq(sp.ext, ".gz");
	cr_assert_eq(map("/home/coder/project", HOST, "/home/coder/project/hw1/n.ipynb", &sp),
		     SNAP_PATH_OK);
	cr_assert_str_eq(sp.ext, ".ipynb");
}

Test(snap_path, configured_root)
{
	struct snap_path sp;

	cr_assert_eq(map("/workspace/", HOST, "/workspace/hw3/q.h", &sp), SNAP_PATH_OK);
	cr_assert_str_eq(sp.rel, "os-1-202012345/hw3/q.h");
	cr_assert_eq(map("/workspace", HOST, "/home/coder/project/hw3/q.h", &sp),
		     SNAP_PATH_OUTSIDE_ROOT);
	/* A prefix of a component is not the root. */
	cr_assert_eq(map("/work", HOST, "/workspace/hw3/q.h", &sp), SNAP_PATH_OUTSIDE_ROOT);
}

Test(snap_path, not_homework)
{
	struct snap_path sp;

	cr_assert_eq(map("/home/coder/project", HOST, "/home/coder/project/main.c", &sp),
		     SNAP_PATH_OUTSIDE_HW);
	cr_assert_eq(map("/home/coder/project", HOST, "/home/coder/project/hw21/main.c", &sp),
		     SNAP_PATH_OUTSIDE_HW);
	cr_assert_eq(map("/home/coder/project", HOST, "/home/coder/project/hw01/main.c", &sp),
		     SNAP_PATH_OUTSIDE_HW);
	cr_assert_eq(map("/home/coder/project", HOST, "/home/coder/project/hw1/hw2/main.c", &sp),
		     SNAP_PATH_OUTSIDE_HW);
	cr_assert_eq(map("/home/coder/project", HOST, "/home/coder/project/hw1", &sp),
		     SNAP_PATH_OUTSIDE_HW);
	cr_assert_eq(map("/home/coder/project", HOST, "/home/coder/project", &sp),
		     SNAP_PATH_OUTSIDE_ROOT);
	cr_assert_eq(map("/home/coder/project", HOST, "/etc/passwd", &sp), SNAP_PATH_OUTSIDE_ROOT);
}

/* A pod's hostname maps to the student's own directory under WATCH_ROOT,
 * without the pod suffix. */
Test(snap_path, pod_hostnames)
{
	static const char *const pods[] = {
		"jcode-os-1-202012345-68d58d5b57-bp47r",
		"jcode-os-1-202012345-0",
		"jcode-os-1-202012345-7896544679-24579",
	};
	struct snap_path sp;
	size_t i;

	for (i = 0; i < sizeof(pods) / sizeof(pods[0]); i++) {
		cr_assert_eq(map("/home/coder/project", pods[i], "/home/coder/project/hw3/x.py", &sp),
			     SNAP_PATH_OK, "%s", pods[i]);
		cr_assert_str_eq(sp.rel, "os-1-202012345/hw3/x.py", "%s", pods[i]);
		cr_assert_str_eq(sp.st.id, "202012345");
	}
}

Test(snap_path, refuses)
{
	struct snap_path sp;
	char longp[600];

	cr_assert_eq(map("/home/coder/project", "buildbox", "/home/coder/project/hw1/a.c", &sp),
		     SNAP_PATH_NOT_STUDENT);
	cr_assert_eq(map("/home/coder/project", "jcode-os-1-x", "/home/coder/project/hw1/a.c", &sp),
		     SNAP_PATH_MALFORMED_HOST);
	cr_assert_eq(map("/home/coder/project", "jcode-data-structures-2-7",
			 "/home/coder/project/hw1/a.c", &sp), SNAP_PATH_MALFORMED_HOST);
	cr_assert_eq(map("/home/coder/project", HOST, "hw1/a.c", &sp), SNAP_PATH_INVALID);
	cr_assert_eq(map("/home/coder/project", HOST, "", &sp), SNAP_PATH_INVALID);
	cr_assert_eq(snap_path_map("/home/coder/project", HOST, strlen(HOST),
				   "/home/coder/project/hw1/a\0.c", 28, &sp), SNAP_PATH_INVALID);
	/* The '@' name must fit one directory name. */
	strcpy(longp, "/home/coder/project/hw1/");
	memset(longp + strlen(longp), 'a', 300);
	strcpy(longp + 24 + 300, ".c");
	cr_assert_eq(map("/home/coder/project", HOST, longp, &sp), SNAP_PATH_INVALID);
	longp[24 + 100] = '/';
	longp[24 + 200] = '/';
	cr_assert_eq(map("/home/coder/project", HOST, longp, &sp), SNAP_PATH_INVALID);
}

/* The names are jcw_snapshot_filtered_total's reason labels: one per
 * result, distinct, of label-safe characters, "unknown" for nothing else. */
Test(snap_path, result_names)
{
	const char *a, *b;
	int i, j;

	for (i = 0; i < SNAP_PATH_RESULT_COUNT; i++) {
		a = snap_path_result_name(i);
		cr_assert(a && *a && strcmp(a, "unknown") != 0, "result %d has no name", i);
		cr_assert_eq(strspn(a, "abcdefghijklmnopqrstuvwxyz_"), strlen(a), "%s", a);
		for (j = 0; j < i; j++) {
			b = snap_path_result_name(j);
			cr_assert_str_neq(a, b, "results %d and %d share a name", i, j);
		}
	}
	cr_assert_str_eq(snap_path_result_name(SNAP_PATH_RESULT_COUNT), "unknown");
	cr_assert_str_eq(snap_path_result_name(SNAP_PATH_NOT_STUDENT), "not_student_host");
}
