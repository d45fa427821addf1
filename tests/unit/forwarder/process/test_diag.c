/* diag_parse on what gcc, clang and the linker really print (gcc 12, clang
 * 14, binutils ld: captured on Debian 12, then cleaned as textclean does). */
#include <criterion/criterion.h>
#include <string.h>

#include "process/diag.h"

static struct diag_summary parse(const char *text)
{
	struct diag_summary s;

	diag_parse(text, strlen(text), &s);
	return s;
}

static void loc_is(const struct diag_loc *l, const char *file, unsigned line, unsigned col,
		   const char *msg)
{
	if (file)
		cr_assert(l->file_len == strlen(file) && memcmp(l->file, file, l->file_len) == 0,
			  "file %.*s", (int)l->file_len, l->file);
	else
		cr_assert_eq(l->file_len, 0, "file %.*s", (int)l->file_len, l->file);
	cr_assert_eq(l->line, line);
	cr_assert_eq(l->column, col);
	cr_assert(l->message_len == strlen(msg) && memcmp(l->message, msg, l->message_len) == 0,
		  "message %.*s", (int)l->message_len, l->message);
}

Test(diag, gcc_syntax_error)
{
	struct diag_summary s = parse(
		"main.c: In function \xe2\x80\x98main\xe2\x80\x99:\n"
		"main.c:1:30: error: expected expression before \xe2\x80\x98)\xe2\x80\x99 token\n"
		"    1 | int main(void) { return (1 + ); }\n"
		"      |                              ^\n");

	cr_assert_eq(s.errors, 1);
	cr_assert_eq(s.warnings, 0);
	cr_assert(s.have_first);
	loc_is(&s.first_error, "main.c", 1, 30,
	       "expected expression before \xe2\x80\x98)\xe2\x80\x99 token");
}

Test(diag, clang_error_and_summary)
{
	struct diag_summary s = parse("main.c:1:30: error: expected expression\n"
				      "int main(void) { return (1 + ); }\n"
				      "                             ^\n"
				      "1 error generated.\n");

	cr_assert_eq(s.errors, 1);
	loc_is(&s.first_error, "main.c", 1, 30, "expected expression");
}

Test(diag, warnings_only)
{
	struct diag_summary s = parse(
		"w.c: In function \xe2\x80\x98" "f\xe2\x80\x99:\n"
		"w.c:1:19: warning: unused variable \xe2\x80\x98x\xe2\x80\x99 [-Wunused-variable]\n"
		"    1 | int f(void) { int x; return 1; }\n"
		"/home/coder/project/hw1/u.c:3:1: warning: control reaches end of non-void function [-Wreturn-type]\n"
		"u.c:2:5: note: declared here\n");

	cr_assert_eq(s.errors, 0);
	cr_assert_eq(s.warnings, 2);
	cr_assert_not(s.have_first);
}

Test(diag, undefined_reference)
{
	struct diag_summary s = parse("/usr/bin/ld: /tmp/ccodGekX.o: in function `main':\n"
				      "s.c:(.text+0x23): undefined reference to `sqrt'\n"
				      "collect2: error: ld returned 1 exit status\n");

	cr_assert_eq(s.errors, 1, "collect2's summary is not counted: %u", s.errors);
	cr_assert_eq(s.undefined_refs, 1);
	loc_is(&s.first_error, "s.c", 0, 0, "undefined reference to `sqrt'");
}

Test(diag, clang_lld_and_missing_library)
{
	struct diag_summary s = parse("ld.lld: error: undefined symbol: sqrt\n"
				      ">>> referenced by s.c\n"
				      "/usr/bin/ld: cannot find -lfoo: No such file or directory\n"
				      "clang: error: linker command failed with exit code 1 (use -v to see invocation)\n");

	cr_assert_eq(s.errors, 2);
	cr_assert_eq(s.undefined_refs, 1);
	loc_is(&s.first_error, NULL, 0, 0, "undefined symbol: sqrt");
}

Test(diag, two_files_first_located_error_wins)
{
	struct diag_summary s = parse("gcc: warning: x.o: linker input file unused\n"
				      "a.c:3: error: no column here\n"
				      "b.c:7:2: error: second\n"
				      "b.c:9:1: fatal error: stdio.hh: No such file or directory\n");

	cr_assert_eq(s.errors, 3);
	loc_is(&s.first_error, "a.c", 3, 0, "no column here");
}

Test(diag, driver_errors)
{
	struct diag_summary s = parse("gcc: fatal error: no input files\ncompilation terminated.\n");

	cr_assert_eq(s.errors, 1);
	loc_is(&s.first_error, NULL, 0, 0, "no input files");
	s = parse("gcc: error: nope.c: No such file or directory\n");
	cr_assert_eq(s.errors, 1);
	loc_is(&s.first_error, NULL, 0, 0, "nope.c: No such file or directory");
}

Test(diag, located_beats_linker_beats_driver)
{
	struct diag_summary s = parse("gcc: error: x\ns.c:(.text+0x1): undefined reference to `f'\n"
				      "m.c:1:2: error: late but located\n");

	cr_assert_eq(s.errors, 3);
	loc_is(&s.first_error, "m.c", 1, 2, "late but located");
}

Test(diag, not_diagnostics)
{
	struct diag_summary s = parse("In file included from main.c:1:\n"
				      "./x.h:12:3: note: expanded from here\n"
				      "error: at the start\n"
				      "time: 12:30: error: a clock, not a file:line:col? it is one\n"
				      "main.c:99999999999:1: error: a line number too long\n"
				      ":1:2: error: no file\n"
				      "plain text\n\n");

	/* "time: 12:30: error: ..." does read as file "time: 12", line 30. */
	cr_assert_eq(s.errors, 1, "%u", s.errors);
	cr_assert_eq(s.warnings, 0);
}

Test(diag, empty_and_unterminated)
{
	struct diag_summary s = parse("");

	cr_assert_eq(s.errors, 0);
	cr_assert_not(s.have_first);
	s = parse("a.c:1:1: error: no newline at the end");
	cr_assert_eq(s.errors, 1);
	loc_is(&s.first_error, "a.c", 1, 1, "no newline at the end");
}
