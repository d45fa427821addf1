/* errreport: the build and run fields made of a captured standard error,
 * with files placed relative to the homework directory. */
#include <criterion/criterion.h>
#include <string.h>

#include "process/errreport.h"

static const struct errreport_limits lim = {.diag_max = 64, .head_max = 16, .tail_max = 40};

/* The fields as one JSON object, into out. */
static void fields(bool build, const char *text, size_t head_cap, char *out, size_t outsz)
{
	struct strbuf sb = STRBUF_INIT;
	struct json_obj o;
	struct errtext t;
	struct student st;
	struct errreport_where w = {.st = &st, .cwd = "/home/coder/project/hw2", .cwd_len = 23};

	cr_assert_eq(student_parse((const uint8_t *)"jcode-os-1-202012345", 20, &st), STUDENT_OK);
	cr_assert_eq(errtext_init(&t, head_cap, 64), 0);
	errtext_put(&t, 0, (const uint8_t *)text, strlen(text));
	json_obj_begin(&o, &sb);
	if (build)
		errreport_build(&o, &t, &lim, &w);
	else
		errreport_run(&o, &t, &lim, &w);
	json_obj_end(&o);
	cr_assert(strbuf_ok(&sb));
	cr_assert_lt(sb.len, outsz);
	memcpy(out, sb.buf, sb.len + 1);
	strbuf_free(&sb);
	errtext_free(&t);
}

#define HAS(s, want) cr_assert(strstr(s, want), "%s\n  has no %s", s, want)

Test(errreport, a_build_error_is_counted_and_placed)
{
	char out[2048];

	fields(true, "\x1b[01mmain.c:1:27: \x1b[31merror:\x1b[m expected ';'\n"
		     "src/u.c:2:1: warning: unused\n", 256, out, sizeof(out));
	HAS(out, "\"diagnostics\":\"main.c:1:27: error: expected ';'\\nsrc/u.c:2:1: warning: unused\\n\"");
	HAS(out, "\"diagnostics_truncated\":false");
	HAS(out, "\"errors\":1,\"warnings\":1,\"undefined_references\":0");
	HAS(out, "\"first_error\":{\"file\":\"main.c\",\"path\":\"/home/coder/project/hw2/main.c\","
		 "\"line\":1,\"column\":27,\"message\":\"expected ';'\"}");
}

Test(errreport, a_file_outside_the_homework_is_given_as_written)
{
	char out[2048];

	fields(true, "/usr/include/stdio.h:5:2: error: bad\n", 256, out, sizeof(out));
	HAS(out, "\"first_error\":{\"file\":\"/usr/include/stdio.h\",\"path\":null,\"line\":5");
}

Test(errreport, a_long_build_is_cut_at_diag_max)
{
	char text[300], out[4096];

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	fields(true, text, 512, out, sizeof(out));
	HAS(out, "\"diagnostics_truncated\":true");
	HAS(out, "\"first_error\":null");
	cr_assert(!strstr(out, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
		  "more than diag_max: %s", out);
}

Test(errreport, a_run_has_head_tail_and_its_exception)
{
	char out[4096];

	fields(false, "starting...........\n"
		      "Traceback (most recent call last):\n"
		      "  File \"/home/coder/project/hw2/calc.py\", line 12, in <module>\n"
		      "ZeroDivisionError: division by zero\n", 512, out, sizeof(out));
	HAS(out, "\"stderr_head\":\"starting........\"");
	/* The last 40 bytes; the exception is parsed from all of it. */
	HAS(out, "\"stderr_tail\":\"le>\\nZeroDivisionError: division by zero\\n\"");
	HAS(out, "\"stderr_truncated\":true");
	HAS(out, "\"exception\":{\"kind\":\"python\",\"type\":\"ZeroDivisionError\","
		 "\"message\":\"division by zero\",\"file\":\"calc.py\","
		 "\"path\":\"/home/coder/project/hw2/calc.py\",\"line\":12}");
}

Test(errreport, garbage_makes_valid_text)
{
	char out[4096];

	fields(false, "\xff\xfe\x01\x1b]8;;http://x\x07link\x1b]8;;\x07", 512, out, sizeof(out));
	HAS(out, "\"stderr_head\":\"\xef\xbf\xbd\xef\xbf\xbdlink\"");
	HAS(out, "\"exception\":null");
}

Test(errreport, nothing_written)
{
	struct strbuf sb = STRBUF_INIT;
	struct json_obj o;
	struct student st;
	struct errreport_where w = {.st = &st, .cwd = "/", .cwd_len = 1};

	cr_assert_eq(student_parse((const uint8_t *)"jcode-os-1-202012345", 20, &st), STUDENT_OK);
	json_obj_begin(&o, &sb);
	errreport_run(&o, NULL, &lim, &w);
	json_obj_end(&o);
	cr_assert_str_eq(sb.buf, "{\"stderr_head\":\"\",\"stderr_tail\":\"\",\"stderr_bytes\":0,"
			 "\"stderr_truncated\":false,\"stderr_unread\":0,\"exception\":null}");
	strbuf_free(&sb);
}

Test(errreport, unread_bytes_are_said_in_both_logs)
{
	struct strbuf sb = STRBUF_INIT;
	struct json_obj o;
	struct errtext t;
	struct student st;
	struct errreport_where w = {.st = &st, .cwd = "/", .cwd_len = 1};

	cr_assert_eq(student_parse((const uint8_t *)"jcode-os-1-202012345", 20, &st), STUDENT_OK);
	cr_assert_eq(errtext_init(&t, 64, 64), 0);
	errtext_unread(&t, 0, 17);
	json_obj_begin(&o, &sb);
	errreport_run(&o, &t, &lim, &w);
	json_obj_end(&o);
	HAS(sb.buf, "\"stderr_bytes\":17,\"stderr_truncated\":true,\"stderr_unread\":17");
	strbuf_free(&sb);
	json_obj_begin(&o, &sb);
	errreport_build(&o, &t, &lim, &w);
	json_obj_end(&o);
	HAS(sb.buf, "\"diagnostics_truncated\":true,\"diagnostics_unread\":17");
	strbuf_free(&sb);
	errtext_free(&t);
}
