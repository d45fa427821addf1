/* The writer kinds: built-in rules by path and by name, the student's own
 * binaries below CONTAINER_ROOT, a rules file tried first, and its errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "process/writer.h"

static struct writer_rules *r;
static char err[256];

static void teardown(void)
{
	writer_rules_free(r);
	r = NULL;
}

TestSuite(writer, .fini = teardown);

static const char *kind(const char *exe, const char *comm)
{
	return writer_kind_name(writer_kind_of(r, exe, strlen(exe), comm, strlen(comm)));
}

/* A rules file with these lines; its path in a static buffer. */
static const char *rules_file(const char *text)
{
	static char path[] = "/tmp/jcw-writer-rules-XXXXXX";
	int fd;

	strcpy(path, "/tmp/jcw-writer-rules-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

Test(writer, built_in_kinds)
{
	cr_assert_eq(writer_rules_new(NULL, "/home/coder/project", &r, err, sizeof(err)), 0);
	cr_assert_str_eq(kind("/usr/lib/code-server/lib/node", "node"), "editor");
	cr_assert_str_eq(kind("/usr/bin/node", "node"), "program", "another node runs a script");
	cr_assert_str_eq(kind("/usr/bin/vim.basic", "vim"), "editor");
	cr_assert_str_eq(kind("/usr/bin/bash", "bash"), "shell");
	cr_assert_str_eq(kind("/usr/bin/dash", "sh"), "shell");
	cr_assert_str_eq(kind("/usr/bin/cp", "cp"), "copy");
	cr_assert_str_eq(kind("/usr/bin/dd", "dd"), "copy");
	cr_assert_str_eq(kind("/usr/bin/curl", "curl"), "download");
	cr_assert_str_eq(kind("/usr/lib/git-core/git", "git"), "vcs");
	cr_assert_str_eq(kind("/usr/bin/unzip", "unzip"), "archive");
	cr_assert_str_eq(kind("/usr/bin/python3.11", "python3"), "program");
	cr_assert_str_eq(kind("/usr/bin/gdb", "gdb"), "other");
	/* The student's binary, even named like a tool, is their program. */
	cr_assert_str_eq(kind("/home/coder/project/hw1/cp", "cp"), "program");
	cr_assert_str_eq(kind("/home/coder/project/hw1/a.out", "a.out"), "program");
	cr_assert_str_eq(kind("/home/coder/projectx/cp", "cp"), "copy", "only below the directory");
	/* No path from the kernel: the process name decides. */
	cr_assert_str_eq(kind("", "wget"), "download");
	cr_assert_str_eq(kind("", ""), "other");
}

Test(writer, a_rules_file_comes_first)
{
	const char *f = rules_file("# our image\n"
				   "editor /opt/ide/bin/*   # the course's IDE\n"
				   "other  cp               # we do not care\n"
				   "\n"
				   "program */labtools/*\n");

	cr_assert_eq(writer_rules_new(f, "/home/coder/project", &r, err, sizeof(err)), 0, "%s", err);
	unlink(f);
	cr_assert_str_eq(kind("/opt/ide/bin/server", "server"), "editor");
	cr_assert_str_eq(kind("/usr/bin/cp", "cp"), "other");
	cr_assert_str_eq(kind("/srv/labtools/gen", "gen"), "program");
	cr_assert_str_eq(kind("/usr/bin/mv", "mv"), "copy", "the built-ins still follow");
}

Test(writer, bad_rules_files_say_where)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{"editor\n", ":1: missing pattern"},
		{"\nfriend cp\n", ":2: unknown kind"},
		{"copy cp mv\n", ":1: one pattern per rule"},
		{"copy [a-\n", ":1: unterminated '['"},
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *f = rules_file(bad[i].text);

		cr_assert_eq(writer_rules_new(f, NULL, &r, err, sizeof(err)), -EINVAL, "%s", bad[i].text);
		unlink(f);
		cr_assert_not_null(strstr(err, bad[i].want), "%s: %s", bad[i].text, err);
		cr_assert_null(r);
	}
	cr_assert_eq(writer_rules_new("/nonexistent/rules", NULL, &r, err, sizeof(err)), -ENOENT);
	cr_assert_not_null(strstr(err, "/nonexistent/rules: "), "%s", err);
}
