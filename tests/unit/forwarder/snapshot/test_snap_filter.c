/* The snapshot filter, one rule at a time; FILE_EXTENSIONS decides which
 * names are sources, as it does in the collector's kernel filter. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "snapshot/snap_filter.h"

static enum snap_filter_reason check_with(const char *list, const char *p)
{
	struct file_exts x;
	char err[128];

	cr_assert_eq(file_exts_parse(list, &x, err, sizeof(err)), 0, "%s", err);
	return snap_filter_check(p, strlen(p), &x);
}

static enum snap_filter_reason check(const char *p)
{
	return check_with(FILE_EXTS_DEFAULT, p);
}

/* FILE_EXTENSIONS=.java: what the collector sends, the forwarder takes. */
Test(snap_filter, configured_extensions)
{
	cr_assert_eq(check_with(".java", "src/Main.java"), SNAP_FILTER_PASS);
	cr_assert_eq(check_with(".java", "main.c"), SNAP_FILTER_EXTENSION);
	cr_assert_eq(check_with(".java,.c", "main.c"), SNAP_FILTER_PASS);
	cr_assert_eq(check_with(".java", ".java"), SNAP_FILTER_EXTENSION);
	/* no list: every file (the other rules still apply) */
	cr_assert_eq(check_with("", "notes.txt"), SNAP_FILTER_PASS);
	cr_assert_eq(check_with("", ".hidden"), SNAP_FILTER_HIDDEN);
	cr_assert_eq(check_with("", "venv/x.txt"), SNAP_FILTER_VIRTUALENV);
}

Test(snap_filter, extension_list_parse)
{
	struct file_exts x;
	char err[128];

	cr_assert_eq(file_exts_parse(FILE_EXTS_DEFAULT, &x, err, sizeof(err)), 0);
	cr_assert_eq(x.n, 6);
	cr_assert_str_eq(x.ext[5], ".ipynb");
	cr_assert_eq(file_exts_parse(".c,,.h", &x, err, sizeof(err)), -EINVAL);
	cr_assert_eq(file_exts_parse(".c,", &x, err, sizeof(err)), -EINVAL);
	cr_assert_eq(file_exts_parse(".toolongext", &x, err, sizeof(err)), -EINVAL);
	cr_assert_eq(file_exts_parse(".a,.b,.c,.d,.e,.f,.g,.h,.i", &x, err, sizeof(err)), -EINVAL);
	cr_assert_eq(file_exts_parse("12345678", &x, err, sizeof(err)), 0);
}

Test(snap_filter, source_extensions_pass)
{
	const char *ok[] = {"main.c", "a.h", "x.cpp", "x.hpp", "solve.py", "nb.ipynb",
			    "src/app/main.c", "a.b.c", "my lib.c", "libfoo.c", "library/x.c"};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_assert_eq(check(ok[i]), SNAP_FILTER_PASS, "%s", ok[i]);
}

Test(snap_filter, extension)
{
	const char *bad[] = {"a.out", "main.o", "main", "main.c~", "main.c.swp", "main.C",
			     "x.pyc", "notes.txt", "main.cc", "x.c.tmp", "Makefile", "a.ipynb.bak"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(check(bad[i]), SNAP_FILTER_EXTENSION, "%s", bad[i]);
}

Test(snap_filter, hidden)
{
	cr_assert_eq(check(".hidden.c"), SNAP_FILTER_HIDDEN);
	cr_assert_eq(check(".c"), SNAP_FILTER_EXTENSION);   /* no name: not a source */
	cr_assert_eq(check(".git/x.c"), SNAP_FILTER_HIDDEN);
	cr_assert_eq(check("a/.cache/b/x.py"), SNAP_FILTER_HIDDEN);
	cr_assert_eq(check(".ipynb_checkpoints/nb-checkpoint.ipynb"), SNAP_FILTER_HIDDEN);
}

Test(snap_filter, virtualenv)
{
	cr_assert_eq(check("venv/x.py"), SNAP_FILTER_VIRTUALENV);
	cr_assert_eq(check("venv/lib/x.py"), SNAP_FILTER_VIRTUALENV);
	cr_assert_eq(check(".venv/bin/x.py"), SNAP_FILTER_VIRTUALENV);
	cr_assert_eq(check("p/virtualenv/x.py"), SNAP_FILTER_VIRTUALENV);
	/* the original's names too: env, ENV (and .env, hidden anyway) */
	cr_assert_eq(check("env/bin/activate_this.py"), SNAP_FILTER_VIRTUALENV);
	cr_assert_eq(check("a/ENV/x.py"), SNAP_FILTER_VIRTUALENV);
	cr_assert_eq(check(".env/x.py"), SNAP_FILTER_HIDDEN);
	cr_assert_eq(check("env/python3.11/site-packages/numpy/x.py"), SNAP_FILTER_VIRTUALENV);
	cr_assert_eq(check("venv.py"), SNAP_FILTER_PASS);
	cr_assert_eq(check("env.py"), SNAP_FILTER_PASS);
	cr_assert_eq(check("Env/x.py"), SNAP_FILTER_PASS);
	cr_assert_eq(check("myvenv/x.py"), SNAP_FILTER_PASS);
}

Test(snap_filter, packages)
{
	cr_assert_eq(check("usr/python3.11/site-packages/numpy/x.py"), SNAP_FILTER_PACKAGES);
	cr_assert_eq(check("usr/dist-packages/x.py"), SNAP_FILTER_PACKAGES);
	cr_assert_eq(check("site-packages.py"), SNAP_FILTER_PASS);
}

Test(snap_filter, lib_dirs)
{
	cr_assert_eq(check("lib/util.c"), SNAP_FILTER_LIB);
	cr_assert_eq(check("a/lib64/util.h"), SNAP_FILTER_LIB);
	cr_assert_eq(check("libs/util.c"), SNAP_FILTER_LIB);
	cr_assert_eq(check("lib.c"), SNAP_FILTER_PASS);
	cr_assert_eq(check("Lib/x.py"), SNAP_FILTER_PASS);
}

Test(snap_filter, depth)
{
	cr_assert_eq(check("1/2/3/4/5/6/7/8/x.c"), SNAP_FILTER_PASS);
	cr_assert_eq(check("1/2/3/4/5/6/7/8/9/x.c"), SNAP_FILTER_TOO_DEEP);
}

Test(snap_filter, first_rule_wins)
{
	/* extension < hidden < virtualenv < packages < lib < depth */
	cr_assert_eq(check(".venv/lib/x.o"), SNAP_FILTER_EXTENSION);
	cr_assert_eq(check("lib/.x.c"), SNAP_FILTER_HIDDEN);
	cr_assert_eq(check("lib/venv/x.c"), SNAP_FILTER_VIRTUALENV);
	cr_assert_eq(check("lib/site-packages/x.c"), SNAP_FILTER_PACKAGES);
	cr_assert_eq(check("1/2/3/4/5/6/7/8/lib/x.c"), SNAP_FILTER_LIB);
}

Test(snap_filter, names)
{
	cr_assert_str_eq(snap_filter_reason_name(SNAP_FILTER_HIDDEN), "hidden");
	cr_assert_str_eq(snap_filter_reason_name(SNAP_FILTER_PACKAGES), "site_packages");
	cr_assert_str_eq(snap_filter_reason_name(SNAP_FILTER_REASON_COUNT), "unknown");
}
