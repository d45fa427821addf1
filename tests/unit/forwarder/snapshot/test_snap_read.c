/* Reading below WATCH_ROOT: links refused, only regular files, bounded
 * size, consistency across the read. Every case runs with openat2 and with
 * the component walk that replaces it where openat2 is missing. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snap_read.h"

static char tmp[64], root[128];

static void put(const char *rel, const char *content)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	fputs(content, f);
	cr_assert_eq(fclose(f), 0);
}

static void setup(void)
{
	char p[256];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "/tmp/test_snap_read.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(root, sizeof(root), "%s/codes", tmp);
	cr_assert_eq(mkdir(root, 0755), 0);
	snprintf(p, sizeof(p), "%s/os-1-7", root);
	cr_assert_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/os-1-7/hw1", root);
	cr_assert_eq(mkdir(p, 0755), 0);
	put("os-1-7/hw1/main.c", "int main(void) { return 0; }\n");
	/* Something outside the root a link could point at. */
	snprintf(p, sizeof(p), "%s/secret.c", tmp);
	f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs("top secret\n", f);
	fclose(f);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

struct hook_state {
	char path[256];
	unsigned change_on;   /* bitmask of attempts that modify the file */
	int mode;             /* 0: append (size changes), 1: same size, new mtime */
	unsigned calls;
};

static void hook(void *arg, unsigned attempt)
{
	struct hook_state *h = arg;
	FILE *f;

	h->calls++;
	if (!(h->change_on & (1u << attempt)))
		return;
	if (h->mode == 0) {
		f = fopen(h->path, "a");
		cr_assert_not_null(f);
		fputs("/* more */\n", f);
		fclose(f);
	} else {
		/* A new mtime each time, the size unchanged. */
		static time_t next = 1000000000;
		struct timespec ts[2] = {{.tv_sec = next, .tv_nsec = 0}, {.tv_sec = next, .tv_nsec = 0}};

		next++;

		cr_assert_eq(utimensat(AT_FDCWD, h->path, ts, 0), 0);
	}
}

static enum snap_read_result rd(bool walk, size_t max, const char *rel, char *buf, size_t *len,
				struct hook_state *h)
{
	struct snap_read_config cfg = {
		.root = root, .max_size = max, .no_openat2 = walk,
		.hook = h ? hook : NULL, .hook_arg = h,
	};
	uint64_t mtime = 0;
	int err = 0;
	enum snap_read_result r;

	r = snap_read(&cfg, rel, (uint8_t *)buf, len, &mtime, &err);
	if (r == SNAP_READ_OK) {
		buf[*len] = '\0';
		cr_assert_gt(mtime, 0);
	}
	if (r != SNAP_READ_IO)
		cr_assert_eq(err, 0);
	return r;
}

ParameterizedTestParameters(snap_read, reads_a_file)
{
	static bool walk[] = {false, true};
	return cr_make_param_array(bool, walk, 2);
}

ParameterizedTest(bool *walk, snap_read, reads_a_file, .init = setup, .fini = teardown)
{
	char buf[65];
	size_t len = 0;

	cr_assert_eq(rd(*walk, 64, "os-1-7/hw1/main.c", buf, &len, NULL), SNAP_READ_OK);
	cr_assert_str_eq(buf, "int main(void) { return 0; }\n");
	cr_assert_eq(len, strlen(buf));
	put("os-1-7/hw1/empty.c", "");
	cr_assert_eq(rd(*walk, 64, "os-1-7/hw1/empty.c", buf, &len, NULL), SNAP_READ_OK);
	cr_assert_eq(len, 0);
	cr_assert_eq(rd(*walk, 64, "os-1-7/hw1/none.c", buf, &len, NULL), SNAP_READ_MISSING);
	cr_assert_eq(rd(*walk, 64, "os-1-7/hw9/none.c", buf, &len, NULL), SNAP_READ_MISSING);
	cr_assert_eq(rd(*walk, 64, "os-1-7/hw1/main.c/x.c", buf, &len, NULL), SNAP_READ_MISSING);
}

ParameterizedTestParameters(snap_read, refuses_symlinks)
{
	static bool walk[] = {false, true};
	return cr_make_param_array(bool, walk, 2);
}

ParameterizedTest(bool *walk, snap_read, refuses_symlinks, .init = setup, .fini = teardown)
{
	char buf[65], p[256], target[256];
	size_t len = 0;

	snprintf(target, sizeof(target), "%s/secret.c", tmp);
	/* The file itself. */
	snprintf(p, sizeof(p), "%s/os-1-7/hw1/link.c", root);
	cr_assert_eq(symlink(target, p), 0);
	cr_assert_eq(rd(*walk, 64, "os-1-7/hw1/link.c", buf, &len, NULL), SNAP_READ_SYMLINK);
	/* A relative link that stays inside the workspace is refused too. */
	snprintf(p, sizeof(p), "%s/os-1-7/hw1/rel.c", root);
	cr_assert_eq(symlink("main.c", p), 0);
	cr_assert_eq(rd(*walk, 64, "os-1-7/hw1/rel.c", buf, &len, NULL), SNAP_READ_SYMLINK);
	/* A directory on the way: the homework dir ... */
	snprintf(p, sizeof(p), "%s/os-1-7/hw2", root);
	cr_assert_eq(symlink(tmp, p), 0);
	cr_assert_eq(rd(*walk, 64, "os-1-7/hw2/secret.c", buf, &len, NULL), SNAP_READ_SYMLINK);
	/* ... or the student's directory. */
	snprintf(p, sizeof(p), "%s/os-1-8", root);
	cr_assert_eq(symlink("os-1-7", p), 0);
	cr_assert_eq(rd(*walk, 64, "os-1-8/hw1/main.c", buf, &len, NULL), SNAP_READ_SYMLINK);
}

ParameterizedTestParameters(snap_read, regular_files_only)
{
	static bool walk[] = {false, true};
	return cr_make_param_array(bool, walk, 2);
}

ParameterizedTest(bool *walk, snap_read, regular_files_only, .init = setup, .fini = teardown)
{
	char buf[65], p[256];
	size_t len = 0;

	/* A FIFO nobody writes to: must neither block nor be read. */
	snprintf(p, sizeof(p), "%s/os-1-7/hw1/fifo.c", root);
	cr_assert_eq(mkfifo(p, 0644), 0);
	cr_assert_eq(rd(*walk, 64, "os-1-7/hw1/fifo.c", buf, &len, NULL), SNAP_READ_NOT_REGULAR);
	snprintf(p, sizeof(p), "%s/os-1-7/hw1/dir.c", root);
	cr_assert_eq(mkdir(p, 0755), 0);
	cr_assert_eq(rd(*walk, 64, "os-1-7/hw1/dir.c", buf, &len, NULL), SNAP_READ_NOT_REGULAR);
}

ParameterizedTestParameters(snap_read, too_large)
{
	static bool walk[] = {false, true};
	return cr_make_param_array(bool, walk, 2);
}

ParameterizedTest(bool *walk, snap_read, too_large, .init = setup, .fini = teardown)
{
	char buf[65];
	size_t len = 0;

	put("os-1-7/hw1/sixteen.c", "0123456789abcdef");
	cr_assert_eq(rd(*walk, 16, "os-1-7/hw1/sixteen.c", buf, &len, NULL), SNAP_READ_OK);
	cr_assert_eq(len, 16);
	cr_assert_eq(rd(*walk, 15, "os-1-7/hw1/sixteen.c", buf, &len, NULL), SNAP_READ_TOO_LARGE);
}

ParameterizedTestParameters(snap_read, changed_during_read)
{
	static int modes[] = {0, 1};
	return cr_make_param_array(int, modes, 2);
}

ParameterizedTest(int *mode, snap_read, changed_during_read, .init = setup, .fini = teardown)
{
	struct hook_state h = {.mode = *mode};
	char buf[65];
	size_t len = 0;

	snprintf(h.path, sizeof(h.path), "%s/os-1-7/hw1/main.c", root);
	/* Changed during the first read only: the retry gets the new version. */
	h.change_on = 1u << 0;
	cr_assert_eq(rd(false, 64, "os-1-7/hw1/main.c", buf, &len, &h), SNAP_READ_OK);
	cr_assert_eq(h.calls, 2);
	if (*mode == 0)
		cr_assert_str_eq(buf, "int main(void) { return 0; }\n/* more */\n");
	/* Changed during both: given up. */
	h.calls = 0;
	h.change_on = 3;
	cr_assert_eq(rd(false, 64, "os-1-7/hw1/main.c", buf, &len, &h), SNAP_READ_INCONSISTENT);
	cr_assert_eq(h.calls, 2);
	/* Growing past the bound during the read ends as too large. */
	if (*mode == 0) {
		h.calls = 0;
		h.change_on = 1;
		put("os-1-7/hw1/main.c", "0123456789");
		cr_assert_eq(rd(false, 15, "os-1-7/hw1/main.c", buf, &len, &h), SNAP_READ_TOO_LARGE);
	}
}

Test(snap_read, missing_root, .init = setup, .fini = teardown)
{
	struct snap_read_config cfg = {.root = "/nonexistent/jcw-watch-root", .max_size = 64};
	uint8_t buf[65];
	uint64_t mtime;
	size_t len;
	int err;

	cr_assert_eq(snap_read(&cfg, "os-1-7/hw1/main.c", buf, &len, &mtime, &err),
		     SNAP_READ_MISSING);
	cfg.root = root;
	cr_assert_eq(snap_read(&cfg, "main.c", buf, &len, &mtime, &err), SNAP_READ_IO);
	cr_assert_eq(err, EINVAL);
	cr_assert_str_eq(snap_read_result_name(SNAP_READ_INCONSISTENT), "inconsistent");
}
