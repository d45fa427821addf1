/* Classification rules: built-in table, glob, rules file. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "process/classify.h"

static struct classify_rules *rules;

static void setup(void)
{
	char err[256];

	cr_assert_eq(classify_rules_new(NULL, &rules, err, sizeof(err)), 0);
}

static void teardown(void)
{
	classify_rules_free(rules);
}

static enum proc_type type_of(const struct classify_rules *r, const char *name)
{
	const struct classify_rule *rule = classify_match(r, name, strlen(name));

	return rule ? rule->type : PROC_TYPE_COUNT;   /* COUNT: no rule at all */
}

TestSuite(classify, .init = setup, .fini = teardown);

Test(classify, c_compilers)
{
	static const char *const names[] = {
		"gcc", "cc", "clang", "gcc-12", "gcc-9", "gcc-12.2", "clang-14", "clang-17",
		"x86_64-linux-gnu-gcc-12", "x86_64-linux-gnu-gcc", "aarch64-linux-gnu-gcc-13",
		"musl-gcc", "x86_64-pc-linux-gnu-clang", "x86_64-linux-gnu-clang-14",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_expect_eq(type_of(rules, names[i]), PROC_C_COMPILER, "%s", names[i]);
}

Test(classify, cxx_compilers)
{
	static const char *const names[] = {
		"g++", "c++", "clang++", "g++-12", "clang++-14",
		"x86_64-linux-gnu-g++-12", "x86_64-linux-gnu-g++", "arm-none-eabi-c++",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_expect_eq(type_of(rules, names[i]), PROC_CXX_COMPILER, "%s", names[i]);
}

Test(classify, python)
{
	static const char *const names[] = {
		"python", "python3", "python3.11", "python3.12", "python2.7", "python3.13.1",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_expect_eq(type_of(rules, names[i]), PROC_PYTHON, "%s", names[i]);
}

Test(classify, not_tools)
{
	/* lookalikes and the driver's own subprocesses are no compiler */
	static const char *const none[] = {
		"gcc-ar", "gcc-nm-12", "x86_64-linux-gnu-gcc-ar-12", "clang-format",
		"clang-format-14", "clang-tidy", "c++filt", "python3-config",
		"python3.11-config", "pythonx", "gccx", "xgcc", "ls", "a.out", "main",
		"gcc-", "python3.", "",
	};
	static const char *const ignored[] = {
		"cc1", "cc1plus", "collect2", "as", "ld", "ld.bfd", "ld.gold",
		"x86_64-linux-gnu-as", "x86_64-linux-gnu-ld", "x86_64-linux-gnu-ld.bfd",
		"lto-wrapper", "lto1",
	};
	size_t i;

	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		cr_expect_eq(type_of(rules, none[i]), PROC_TYPE_COUNT, "%s", none[i]);
	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		cr_expect_eq(type_of(rules, ignored[i]), PROC_NONE, "%s", ignored[i]);
}

Test(classify, c_extensions)
{
	const struct classify_rule *r = classify_match(rules, "gcc", 3);
	static const char *const yes[] = {"a.c", "x/b.h", "m.cpp", "m.cc", "m.cxx",
					  "m.c++", "M.C", "h.hpp", "h.hh", "h.hxx"};
	static const char *const no[] = {"a.o", "a.s", "a.S", "a.i", "a", "a.py",
					 "dir/.c", ".c", "a.cs", "a.c.bak"};
	size_t i;

	cr_assert_not_null(r);
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_expect(classify_has_ext(r, yes[i], strlen(yes[i])), "%s", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_expect_not(classify_has_ext(r, no[i], strlen(no[i])), "%s", no[i]);
}

Test(classify, glob)
{
	cr_assert(classify_glob("*", "", 0));
	cr_assert(classify_glob("a*b*c", "axxbyyc", 7));
	cr_assert_not(classify_glob("a*b*c", "axxbyy", 6));
	cr_assert(classify_glob("?cc", "gcc", 3));
	cr_assert(classify_glob("[gc]cc", "ccc", 3));
	cr_assert_not(classify_glob("[!gc]cc", "gcc", 3));
	cr_assert(classify_glob("[a-z]x", "qx", 2));
	cr_assert(classify_glob("v#", "v1.2.3", 6));
	cr_assert_not(classify_glob("v#", "v1.", 3));
	cr_assert_not(classify_glob("v#", "v", 1));
	cr_assert(classify_glob("a\\*", "a*", 2));
	cr_assert_not(classify_glob("a\\*", "ab", 2));
	cr_assert(classify_glob("[x", "[x", 2));   /* unterminated class is literal */
	/* a name with NUL bytes only matches on its length */
	cr_assert_not(classify_glob("gcc", "gcc\0x", 5));
}

Test(classify, glob_is_not_exponential)
{
	/* with backtracking limited to the last star this is instant */
	static char name[4096];

	memset(name, 'a', sizeof(name));
	cr_assert_not(classify_glob("*a*a*a*a*a*a*a*b", name, sizeof(name)));
}

static char *write_rules(const char *text)
{
	char *path = strdup("/tmp/jcw-rules-XXXXXX");
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

Test(classify, rules_file_adds_javac)
{
	char *path = write_rules("# extra rules\n"
				 "\n"
				 "compiler  javac   .java   # Java\n"
				 "  c       tcc\n"
				 "python    pypy#\n"
				 "ignore    cc\n");
	struct classify_rules *r;
	const struct classify_rule *rule;
	char err[256] = "";

	cr_assert_eq(classify_rules_new(path, &r, err, sizeof(err)), 0, "%s", err);
	rule = classify_match(r, "javac", 5);
	cr_assert_not_null(rule);
	cr_assert_eq(rule->type, PROC_COMPILER);
	cr_assert_eq(rule->n_exts, 1);
	cr_assert_str_eq(rule->exts[0], ".java");
	cr_assert(classify_has_ext(rule, "Main.java", 9));
	/* a c rule without extensions gets the C/C++ set */
	rule = classify_match(r, "tcc", 3);
	cr_assert_eq(rule->type, PROC_C_COMPILER);
	cr_assert(classify_has_ext(rule, "a.c", 3));
	cr_assert_eq(type_of(r, "pypy3.10"), PROC_PYTHON);
	/* file rules come first: they can shadow a built-in */
	cr_assert_eq(type_of(r, "cc"), PROC_NONE);
	cr_assert_eq(type_of(r, "gcc"), PROC_C_COMPILER);
	classify_rules_free(r);
	unlink(path);
	free(path);
}

static void expect_error(const char *text, const char *want)
{
	char *path = write_rules(text);
	struct classify_rules *r = NULL;
	char err[256] = "", expect[512];

	cr_assert_eq(classify_rules_new(path, &r, err, sizeof(err)), -EINVAL, "%s", text);
	cr_assert_null(r);
	snprintf(expect, sizeof(expect), "%s:%s", path, want);
	cr_assert_eq(strncmp(err, expect, strlen(expect)), 0, "got \"%s\", want \"%s...\"", err, expect);
	unlink(path);
	free(path);
}

Test(classify, rules_file_errors_name_the_line)
{
	expect_error("c gcc\n# ok\nfortran gfortran .f90\n", "3: unknown type");
	expect_error("compiler javac\n", "1: a compiler rule needs");
	expect_error("\n\npython\n", "3: missing pattern");
	expect_error("c /usr/bin/gcc\n", "1: pattern matches a basename");
	expect_error("c gcc java\n", "1: an extension starts with '.'");
	expect_error("python py .py\n", "1: only compilers take extensions");
	expect_error("c [abc\n", "1: unterminated '['");
}

Test(classify, rules_file_missing)
{
	struct classify_rules *r = NULL;
	char err[256] = "";

	cr_assert_eq(classify_rules_new("/nonexistent/jcw-rules", &r, err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "/nonexistent/jcw-rules: No such file or directory");
}
