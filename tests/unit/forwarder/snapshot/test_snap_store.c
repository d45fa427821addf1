/* Snapshot files: docs/api.md's layout and timestamp, same-second suffixes,
 * dedupe (with the cache, and from disk after a restart), deletions. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snap_store.h"

/* 2025-01-01T12:01:01Z */
#define T0 1735732861000000000ull
#define SEC 1000000000ull

static char tmp[64], base[128];

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/test_snap_store.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(base, sizeof(base), "%s/snapshots", tmp);
	cr_assert_eq(mkdir(base, 0755), 0);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

static struct snap_store *mk(size_t slots)
{
	struct snap_store_config cfg = {.base = base, .max_size = 1024, .cache_slots = slots};
	struct snap_store *s = NULL;

	cr_assert_eq(snap_store_new(&cfg, &s), 0);
	return s;
}

static const struct snap_store_file MAIN = {"os-1", "hw1", "202012345", "src@main.c", ".c"};

static enum snap_store_result put(struct snap_store *s, const struct snap_store_file *f,
				  uint64_t t, const char *content, bool del, char *url_ts)
{
	int err = -1;
	enum snap_store_result r = snap_store_put(s, f, t, content, strlen(content), del, url_ts, &err);

	if (r != SNAP_STORE_ERROR)
		cr_assert_eq(err, 0);
	return r;
}

/* Content of {base}/os-1/hw1/202012345/{dir}/{name}, NULL if missing. */
static char *slurp(const char *dir, const char *name)
{
	static char buf[2048];
	char p[512];
	size_t n;
	FILE *f;

	snprintf(p, sizeof(p), "%s/os-1/hw1/202012345/%s/%s", base, dir, name);
	f = fopen(p, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Entries of a snapshot directory (excluding . and ..). */
static int count(const char *dir, int *tmps)
{
	char p[512];
	struct dirent *de;
	int n = 0;
	DIR *d;

	*tmps = 0;
	snprintf(p, sizeof(p), "%s/os-1/hw1/202012345/%s", base, dir);
	d = opendir(p);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		if (!strncmp(de->d_name, ".tmp", 4))
			(*tmps)++;
		n++;
	}
	closedir(d);
	return n;
}

Test(snap_store, timestamp_format)
{
	char ts[SNAP_STORE_TS_LEN];

	snap_store_timestamp(T0, ts);
	cr_assert_str_eq(ts, "20250101_120101");
	snap_store_timestamp(T0 + SEC - 1, ts);
	cr_assert_str_eq(ts, "20250101_120101");
	snap_store_timestamp(0, ts);
	cr_assert_str_eq(ts, "19700101_000000");
	snap_store_timestamp(951782400ull * SEC, ts);   /* leap day */
	cr_assert_str_eq(ts, "20000229_000000");
	snap_store_timestamp(UINT64_MAX, ts);
	cr_assert_str_eq(ts, "25540721_233433");
}

Test(snap_store, layout_and_same_second_suffix, .init = setup, .fini = teardown)
{
	struct snap_store *s = mk(0);
	char ts[SNAP_STORE_URL_TS_MAX];
	int tmps;

	cr_assert_eq(put(s, &MAIN, T0, "v1\n", false, ts), SNAP_STORE_STORED);
	cr_assert_str_eq(ts, "20250101_120101");
	cr_assert_str_eq(slurp("src@main.c", "20250101_120101.c"), "v1\n");
	/* Same second, new content: a suffix, nothing overwritten. */
	cr_assert_eq(put(s, &MAIN, T0 + SEC / 2, "v2\n", false, ts), SNAP_STORE_STORED);
	cr_assert_str_eq(ts, "20250101_120101.1");
	cr_assert_str_eq(slurp("src@main.c", "20250101_120101.1.c"), "v2\n");
	cr_assert_eq(put(s, &MAIN, T0 + SEC / 2, "v3\n", false, ts), SNAP_STORE_STORED);
	cr_assert_str_eq(ts, "20250101_120101.2");
	cr_assert_str_eq(slurp("src@main.c", "20250101_120101.c"), "v1\n");
	cr_assert_eq(put(s, &MAIN, T0 + SEC, "v4\n", false, ts), SNAP_STORE_STORED);
	cr_assert_str_eq(ts, "20250101_120102");
	cr_assert_eq(count("src@main.c", &tmps), 4);
	cr_assert_eq(tmps, 0, "temporary files left behind");
	snap_store_free(s);
}

Test(snap_store, unchanged_content_is_not_stored_again, .init = setup, .fini = teardown)
{
	struct snap_store *s = mk(0);
	char ts[SNAP_STORE_URL_TS_MAX];
	int tmps;

	cr_assert_eq(put(s, &MAIN, T0, "same\n", false, ts), SNAP_STORE_STORED);
	cr_assert_eq(put(s, &MAIN, T0 + 5 * SEC, "same\n", false, ts), SNAP_STORE_UNCHANGED);
	cr_assert_eq(put(s, &MAIN, T0 + 6 * SEC, "other\n", false, ts), SNAP_STORE_STORED);
	/* Equal to an older snapshot, not the newest: a real change back. */
	cr_assert_eq(put(s, &MAIN, T0 + 7 * SEC, "same\n", false, ts), SNAP_STORE_STORED);
	cr_assert_str_eq(ts, "20250101_120108");
	cr_assert_eq(count("src@main.c", &tmps), 3);
	snap_store_free(s);
}

Test(snap_store, dedupe_survives_a_restart, .init = setup, .fini = teardown)
{
	struct snap_store *s = mk(0);
	char ts[SNAP_STORE_URL_TS_MAX], p[512];
	FILE *f;
	int tmps;

	cr_assert_eq(put(s, &MAIN, T0, "a\n", false, ts), SNAP_STORE_STORED);
	cr_assert_eq(put(s, &MAIN, T0, "b\n", false, ts), SNAP_STORE_STORED);
	snap_store_free(s);
	/* A new process knows nothing: the newest on disk (b, the .1) decides. */
	s = mk(0);
	cr_assert_eq(put(s, &MAIN, T0 + 9 * SEC, "b\n", false, ts), SNAP_STORE_UNCHANGED);
	cr_assert_eq(put(s, &MAIN, T0 + 9 * SEC, "a\n", false, ts), SNAP_STORE_STORED);
	snap_store_free(s);
	/* Suffixes compare as numbers: .10 is newer than .9. */
	snprintf(p, sizeof(p), "%s/os-1/hw1/202012345/src@main.c/20250101_120200.9.c", base);
	f = fopen(p, "w");
	fputs("nine\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/os-1/hw1/202012345/src@main.c/20250101_120200.10.c", base);
	f = fopen(p, "w");
	fputs("ten\n", f);
	fclose(f);
	s = mk(0);
	cr_assert_eq(put(s, &MAIN, T0 + 99 * SEC, "ten\n", false, ts), SNAP_STORE_UNCHANGED);
	cr_assert_eq(put(s, &MAIN, T0 + 99 * SEC, "nine\n", false, ts), SNAP_STORE_STORED);
	cr_assert_eq(count("src@main.c", &tmps), 6);
	snap_store_free(s);
}

Test(snap_store, cache_collisions_and_hand_removed_files, .init = setup, .fini = teardown)
{
	/* One slot: two files evict each other on every call. */
	struct snap_store *s = mk(1);
	struct snap_store_file other = MAIN;
	char ts[SNAP_STORE_URL_TS_MAX], p[512];

	other.filename = "x.c";
	cr_assert_eq(put(s, &MAIN, T0, "m\n", false, ts), SNAP_STORE_STORED);
	cr_assert_eq(put(s, &other, T0, "x\n", false, ts), SNAP_STORE_STORED);
	cr_assert_eq(put(s, &MAIN, T0 + SEC, "m\n", false, ts), SNAP_STORE_UNCHANGED);
	cr_assert_eq(put(s, &other, T0 + SEC, "x\n", false, ts), SNAP_STORE_UNCHANGED);
	/* The remembered newest snapshot removed by hand: the directory decides. */
	snprintf(p, sizeof(p), "%s/os-1/hw1/202012345/x.c/20250101_120101.c", base);
	cr_assert_eq(unlink(p), 0);
	cr_assert_eq(put(s, &other, T0 + 2 * SEC, "x\n", false, ts), SNAP_STORE_STORED);
	cr_assert_str_eq(ts, "20250101_120103");
	snap_store_free(s);
}

Test(snap_store, deletions, .init = setup, .fini = teardown)
{
	struct snap_store *s = mk(0);
	struct snap_store_file never = MAIN;
	char ts[SNAP_STORE_URL_TS_MAX];
	int tmps;

	cr_assert_eq(put(s, &MAIN, T0, "code\n", false, ts), SNAP_STORE_STORED);
	cr_assert_eq(put(s, &MAIN, T0 + SEC, "", true, ts), SNAP_STORE_STORED);
	cr_assert_str_eq(ts, "20250101_120102");
	cr_assert_str_eq(slurp("src@main.c", "20250101_120102.c"), "");
	/* The same deletion again (a replay): nothing new, also from disk. */
	cr_assert_eq(put(s, &MAIN, T0 + SEC, "", true, ts), SNAP_STORE_UNCHANGED);
	snap_store_free(s);
	s = mk(0);
	cr_assert_eq(put(s, &MAIN, T0 + SEC, "", true, ts), SNAP_STORE_UNCHANGED);
	/* Deleted again later (it came back through a save the monitor did
	 * not see): every deletion is recorded, as the original does. */
	cr_assert_eq(put(s, &MAIN, T0 + 5 * SEC, "", true, ts), SNAP_STORE_STORED);
	cr_assert_str_eq(ts, "20250101_120106");
	cr_assert_str_eq(slurp("src@main.c", "20250101_120106.c"), "");
	cr_assert_eq(count("src@main.c", &tmps), 3);
	cr_assert_eq(tmps, 0);
	/* A file never snapshotted (older than the monitor, or its saves
	 * merged away): its deletion is still an empty snapshot. */
	never.filename = "tmp.py";
	never.ext = ".py";
	cr_assert_eq(put(s, &never, T0, "", true, ts), SNAP_STORE_STORED);
	cr_assert_str_eq(ts, "20250101_120101");
	cr_assert_str_eq(slurp("tmp.py", "20250101_120101.py"), "");
	/* a save and its deletion in the same second: both */
	never.filename = "quick.py";
	cr_assert_eq(put(s, &never, T0, "x = 1\n", false, ts), SNAP_STORE_STORED);
	cr_assert_eq(put(s, &never, T0, "", true, ts), SNAP_STORE_STORED);
	cr_assert_str_eq(ts, "20250101_120101.1");
	never.filename = "tmp.py";
	/* Content after the deletion is a new version. */
	cr_assert_eq(put(s, &never, T0 + SEC, "print(1)\n", false, ts), SNAP_STORE_STORED);
	cr_assert_eq(put(s, &never, T0 + 2 * SEC, "print(1)\n", false, ts), SNAP_STORE_UNCHANGED);
	snap_store_free(s);
}

Test(snap_store, errors, .init = setup, .fini = teardown)
{
	struct snap_store_config cfg = {.base = "/nonexistent/jcw-snapshots", .max_size = 4};
	struct snap_store *s = NULL;
	char ts[SNAP_STORE_URL_TS_MAX], p[512];
	int err = 0;

	cr_assert_eq(snap_store_new(&cfg, &s), 0);
	/* The base is a mounted volume: never created. */
	cr_assert_eq(snap_store_put(s, &MAIN, T0, "x", 1, false, ts, &err), SNAP_STORE_ERROR);
	cr_assert_eq(err, ENOENT);
	cr_assert_eq(snap_store_put(s, &MAIN, T0, "12345", 5, false, ts, &err), SNAP_STORE_ERROR);
	cr_assert_eq(err, EFBIG);
	snap_store_free(s);
	/* A link planted inside the base is not followed. */
	s = mk(0);
	snprintf(p, sizeof(p), "%s/os-1", base);
	cr_assert_eq(symlink(tmp, p), 0);
	err = 0;
	cr_assert_eq(snap_store_put(s, &MAIN, T0, "x", 1, false, ts, &err), SNAP_STORE_ERROR);
	cr_assert(err == ELOOP || err == ENOTDIR, "err %d", err);
	snprintf(p, sizeof(p), "%s/hw1", tmp);
	cr_assert_eq(access(p, F_OK), -1, "created through the link");
	snap_store_free(s);
}

/* The version before a stored one: none for the first, the same second's
 * for a ".1", the newest earlier for a later one, with its time. */
Test(snap_store, previous_version, .init = setup, .fini = teardown)
{
	struct snap_store *s = mk(0);
	struct snap_store_prev prev;
	char ts[SNAP_STORE_URL_TS_MAX];

	cr_assert_eq(put(s, &MAIN, T0, "one\n", false, ts), SNAP_STORE_STORED);
	cr_assert_eq(snap_store_previous(s, &MAIN, ts, &prev), 0);
	cr_assert_not(prev.found);
	cr_assert_eq(put(s, &MAIN, T0 + 100000000ull, "two\n", false, ts), SNAP_STORE_STORED);
	cr_assert_str_eq(ts, "20250101_120101.1");
	cr_assert_eq(snap_store_previous(s, &MAIN, ts, &prev), 0);
	cr_assert(prev.found && prev.len == 4 && !memcmp(prev.data, "one\n", 4));
	cr_assert_eq(prev.time_s, T0 / 1000000000ull);
	cr_assert_eq(put(s, &MAIN, T0 + 5000000000ull, "three\n", false, ts), SNAP_STORE_STORED);
	cr_assert_eq(snap_store_previous(s, &MAIN, ts, &prev), 0);
	cr_assert(prev.found && prev.len == 4 && !memcmp(prev.data, "two\n", 4), "%zu", prev.len);
	/* A file with no directory yet has no previous version. */
	cr_assert_eq(snap_store_previous(s, &(struct snap_store_file){"os-1", "hw1", "202012345",
								     "none.c", ".c"}, "20250101_120101", &prev), 0);
	cr_assert_not(prev.found);
	snap_store_free(s);
}
