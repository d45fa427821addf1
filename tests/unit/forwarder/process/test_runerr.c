/* runerr_parse on what Python 3.11, AddressSanitizer, UBSan and glibc's
 * assert() really print (captured on Debian 12). */
#include <criterion/criterion.h>
#include <string.h>

#include "process/runerr.h"

static bool in_hw(void *ctx, const char *path, size_t len)
{
	const char *root = ctx;

	return len > strlen(root) && memcmp(path, root, strlen(root)) == 0;
}

static struct runerr parse(const char *text, bool own)
{
	struct runerr r;

	cr_assert(runerr_parse(text, strlen(text), own ? in_hw : NULL, "/home/coder/project/", &r),
		  "no report in:\n%s", text);
	return r;
}

#define EQ(ptr, len, want) \
	cr_assert((len) == strlen(want) && memcmp((ptr), (want), (len)) == 0, "%.*s != %s", \
		  (int)(len), (ptr) ? (ptr) : "", (want))

Test(runerr, python_exception_in_a_second_student_file)
{
	struct runerr r = parse("Traceback (most recent call last):\n"
				"  File \"/home/coder/project/hw1/main.py\", line 2, in <module>\n"
				"    util.f(0)\n"
				"  File \"/home/coder/project/hw1/util.py\", line 12, in f\n"
				"    return 1 / x\n"
				"           ~~^~~\n"
				"ZeroDivisionError: division by zero\n", true);

	cr_assert_eq(r.kind, RUNERR_PYTHON);
	EQ(r.type, r.type_len, "ZeroDivisionError");
	EQ(r.message, r.message_len, "division by zero");
	EQ(r.file, r.file_len, "/home/coder/project/hw1/util.py");
	cr_assert_eq(r.line, 12);
}

Test(runerr, python_last_own_frame_not_the_library)
{
	struct runerr r = parse("Traceback (most recent call last):\n"
				"  File \"/home/coder/project/hw2/a.py\", line 5, in <module>\n"
				"    json.loads(s)\n"
				"  File \"/usr/lib/python3.11/json/__init__.py\", line 346, in loads\n"
				"    return _default_decoder.decode(s)\n"
				"json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n", true);

	EQ(r.type, r.type_len, "json.decoder.JSONDecodeError");
	EQ(r.message, r.message_len, "Expecting value: line 1 column 1 (char 0)");
	EQ(r.file, r.file_len, "/home/coder/project/hw2/a.py");
	cr_assert_eq(r.line, 5);
	/* Without the predicate: the last frame. */
	r = parse("Traceback (most recent call last):\n"
		  "  File \"/home/coder/project/hw2/a.py\", line 5, in <module>\n"
		  "  File \"/usr/lib/python3.11/json/__init__.py\", line 346, in loads\n"
		  "KeyboardInterrupt\n", false);
	EQ(r.type, r.type_len, "KeyboardInterrupt");
	cr_assert_eq(r.message_len, 0);
	cr_assert_eq(r.line, 346);
}

Test(runerr, python_syntax_error_without_header)
{
	struct runerr r = parse("  File \"/home/coder/project/hw1/syn.py\", line 1\n"
				"    print(\n"
				"         ^\n"
				"SyntaxError: '(' was never closed\n", true);

	EQ(r.type, r.type_len, "SyntaxError");
	EQ(r.message, r.message_len, "'(' was never closed");
	cr_assert_eq(r.line, 1);
}

Test(runerr, chained_exceptions_the_last_wins)
{
	struct runerr r = parse("Traceback (most recent call last):\n"
				"  File \"/home/coder/project/hw1/a.py\", line 2, in <module>\n"
				"KeyError: 'x'\n\n"
				"During handling of the above exception, another exception occurred:\n\n"
				"Traceback (most recent call last):\n"
				"  File \"/home/coder/project/hw1/a.py\", line 4, in <module>\n"
				"ValueError: bad\n", true);

	EQ(r.type, r.type_len, "ValueError");
	cr_assert_eq(r.line, 4);
}

Test(runerr, address_sanitizer)
{
	struct runerr r = parse(
		"=================================================================\n"
		"==7193==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000020 at pc 0x5579d0cba1ce bp 0x7ffd2ca7ba70 sp 0x7ffd2ca7ba68\n"
		"WRITE of size 4 at 0x602000000020 thread T0\n"
		"    #0 0x7f06922b89cf in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69\n"
		"    #1 0x5579d0cba1cd in main /home/coder/project/hw3/o.c:2\n"
		"    #2 0x7f0692045249 in __libc_start_call_main ../sysdeps/nptl/libc_start_call_main.h:58\n"
		"SUMMARY: AddressSanitizer: heap-buffer-overflow /home/coder/project/hw3/o.c:2 in main\n", true);

	cr_assert_eq(r.kind, RUNERR_ASAN);
	EQ(r.type, r.type_len, "heap-buffer-overflow");
	EQ(r.message, r.message_len, "on address 0x602000000020 at pc 0x5579d0cba1ce bp 0x7ffd2ca7ba70 sp 0x7ffd2ca7ba68");
	EQ(r.file, r.file_len, "/home/coder/project/hw3/o.c");
	cr_assert_eq(r.line, 2);
}

Test(runerr, leak_sanitizer)
{
	struct runerr r = parse("\n=================================================================\n"
				"==99==ERROR: LeakSanitizer: detected memory leaks\n\n"
				"Direct leak of 4 byte(s) in 1 object(s) allocated from:\n", true);

	cr_assert_eq(r.kind, RUNERR_LSAN);
	EQ(r.type, r.type_len, "detected memory leaks");
}

Test(runerr, undefined_behaviour)
{
	struct runerr r = parse("u.c:3:12: runtime error: signed integer overflow: 2147483647 + 1 cannot be represented in type 'int'\n", true);

	cr_assert_eq(r.kind, RUNERR_UBSAN);
	EQ(r.type, r.type_len, "signed integer overflow");
	EQ(r.file, r.file_len, "u.c");
	cr_assert_eq(r.line, 3);
}

Test(runerr, failed_assertion)
{
	struct runerr r = parse("a: a.c:2: main: Assertion `x > 0' failed.\n", true);

	cr_assert_eq(r.kind, RUNERR_ASSERT);
	EQ(r.message, r.message_len, "x > 0");
	EQ(r.file, r.file_len, "a.c");
	cr_assert_eq(r.line, 2);
	cr_assert_str_eq(runerr_kind_name(r.kind), "assert");
}

Test(runerr, nothing_to_report)
{
	struct runerr r;
	const char *t = "progress 10%\nWarning: something\n  File \"x\", line 1\nnot an Error line\n";

	cr_assert_not(runerr_parse(t, strlen(t), NULL, NULL, &r));
	cr_assert_not(runerr_parse("", 0, NULL, NULL, &r));
	cr_assert_eq(r.kind, RUNERR_NONE);
}
