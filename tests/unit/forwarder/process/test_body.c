/* JSON bodies, timestamps, exit codes and signal names. */
#include <criterion/criterion.h>
#include <string.h>

#include "process/body.h"
#include "exec_fixture.h"

Test(body, iso8601)
{
	char ts[BODY_TIME_LEN];

	body_time_iso8601(1795812000123456789ull, ts);
	cr_assert_str_eq(ts, "2026-11-27T20:40:00.123456+00:00");
	body_time_iso8601(0, ts);
	cr_assert_str_eq(ts, "1970-01-01T00:00:00.000000+00:00");
	body_time_iso8601(951782400000001000ull, ts);   /* leap day */
	cr_assert_str_eq(ts, "2000-02-29T00:00:00.000001+00:00");
	body_time_iso8601(UINT64_MAX, ts);
	cr_assert_eq(strlen(ts), BODY_TIME_LEN - 1);
}

Test(body, exit_codes)
{
	Jcw__Exit x = JCW__EXIT__INIT;
	unsigned sig;

	x.exit_code = 3;
	x.status = 3 << 8;
	cr_assert_eq(body_exit_code(&x, &sig), 3);
	cr_assert_eq(sig, 0);

	x.exit_code = 0;
	x.status = 11 | 0x80;
	x.signal = 11;
	x.core_dumped = 1;
	cr_assert_eq(body_exit_code(&x, &sig), 139);
	cr_assert_eq(sig, 11);

	/* only the wait status is set */
	x.signal = 0;
	x.status = 9;
	cr_assert_eq(body_exit_code(&x, &sig), 137);
	cr_assert_eq(sig, 9);
	x.status = 1 << 8;
	cr_assert_eq(body_exit_code(&x, &sig), 1);
}

Test(body, signal_names)
{
	char buf[16];

	cr_assert_str_eq(body_signal_name(11, buf), "SIGSEGV");
	cr_assert_str_eq(body_signal_name(6, buf), "SIGABRT");
	cr_assert_str_eq(body_signal_name(9, buf), "SIGKILL");
	cr_assert_str_eq(body_signal_name(31, buf), "SIGSYS");
	cr_assert_str_eq(body_signal_name(34, buf), "SIG34");
	cr_assert_str_eq(body_signal_name(0, buf), "SIG0");
}

static char *write_run(struct fix_exec *f, size_t *bad)
{
	struct strbuf sb = STRBUF_INIT;
	struct body_in in = {
		.endpoint = API_RUN_LOG,
		.exec = &f->exec,
		.exit = &f->exit,
		.event_id = "b-1",
		.target_path = "/home/coder/project/hw1/a.out",
		.target_len = strlen("/home/coder/project/hw1/a.out"),
		.process_type = "binary",
	};

	*bad = body_write(&sb, &in);
	return strbuf_detach(&sb, NULL);
}

Test(body, hostile_argv_is_valid_json)
{
	static const char *const argv[] = {
		"./a.out", "quote\"d", "back\\slash", "new\nline", "tab\t",
		"\x01\x1f", "\xff\xfe", "\xc3", "ok \xed\x95\x99", "\xe2\x82", "",
		NULL,
	};
	struct fix_exec f;
	size_t bad;
	char *s;

	fix_init(&f, "jcode-os-1-1", "/home/coder/project/hw1/a.out\xff",
		 "/home/coder/project/hw1\n", argv);
	s = write_run(&f, &bad);
	cr_assert(fix_json_valid(s, strlen(s)), "%s", s);
	cr_assert_eq(bad, 6);   /* ff fe c3 e2 82 (one sequence cut short: 2) + exe's ff */
	cr_assert_not_null(strstr(s, "\"cmdline\":\"./a.out quote\\\"d back\\\\slash "
				     "new\\nline tab\\t \\u0001\\u001f \\ufffd\\ufffd \\ufffd "
				     "ok \xed\x95\x99 \\ufffd\\ufffd \""), "%s", s);
	cr_assert_not_null(strstr(s, "\"invalid_utf8\":true}"), "%s", s);
	free(s);
}

Test(body, empty_argv)
{
	struct fix_exec f;
	size_t bad;
	char *s;

	fix_init(&f, "jcode-os-1-1", "/x", "/", NULL);
	s = write_run(&f, &bad);
	cr_assert(fix_json_valid(s, strlen(s)), "%s", s);
	cr_assert_not_null(strstr(s, "\"cmdline\":\"\""));
	cr_assert_not_null(strstr(s, "\"invalid_utf8\":false}"));
	free(s);
}

Test(body, validator_rejects_broken_json)
{
	/* the checker used above must be able to fail */
	cr_assert_not(fix_json_valid("{\"a\":\"x\ny\"}", 11));
	cr_assert_not(fix_json_valid("{\"a\":\"\xff\"}", 9));
	cr_assert_not(fix_json_valid("{\"a\":1,}", 8));
	cr_assert_not(fix_json_valid("{\"a\":\"\\q\"}", 10));
	cr_assert(fix_json_valid("{\"a\":[1,2.5,\"\\u00e9\"],\"b\":null}", 31));
}
