/* pipeline_process end to end: results, reasons, URL paths and exact bodies. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exec_fixture.h"
#include "process/pipeline.h"

static struct pipeline *pl;

static void setup(void)
{
	char err[256] = "";

	cr_assert_eq(pipeline_new(NULL, &pl, err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
	pipeline_free(pl);
}

TestSuite(pipeline, .init = setup, .fini = teardown);

#define HOST "jcode-os-1-202012345"
#define HW1 "/home/coder/project/hw1"
#define HW2 "/home/coder/project/hw2"

struct run {
	enum pipe_result res;
	enum pipe_reason why;
	struct api_request req;
};

static struct run process(struct fix_exec *f)
{
	struct run r;

	memset(&r, 0, sizeof(r));
	r.why = PIPE_REASON_COUNT;
	r.res = pipeline_process(pl, "boot", 7, &f->exec, &f->exit, NULL, &r.req, &r.why);
	if (r.res == PIPE_SUCCESS) {
		cr_assert(fix_json_valid(r.req.body, r.req.body_len), "%s", r.req.body);
		cr_assert_eq(strlen(r.req.body), r.req.body_len);
	}
	return r;
}

/* Runs one event that must succeed; returns its target_path for checks. */
static struct run ok(const char *host, const char *exe, const char *cwd,
		     const char *const *argv)
{
	struct fix_exec f;
	struct run r;

	fix_init(&f, host, exe, cwd, argv);
	r = process(&f);
	cr_assert_eq(r.res, PIPE_SUCCESS, "%s: %s/%s", exe, pipe_result_name(r.res),
		     pipe_reason_name(r.why));
	cr_assert_eq(r.why, REASON_NONE);
	return r;
}

static void not_ok(const char *host, const char *exe, const char *cwd,
		   const char *const *argv, enum pipe_result res, enum pipe_reason why)
{
	struct fix_exec f;
	struct run r;

	fix_init(&f, host, exe, cwd, argv);
	r = process(&f);
	cr_expect_eq(r.res, res, "%s %s: got %s/%s", exe, argv && argv[1] ? argv[1] : "",
		     pipe_result_name(r.res), pipe_reason_name(r.why));
	cr_expect_eq(r.why, why, "%s %s: got reason %s", exe, argv && argv[1] ? argv[1] : "",
		     pipe_reason_name(r.why));
	cr_expect_null(r.req.body);   /* *out untouched */
}

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

static void has(const struct run *r, const char *needle)
{
	cr_assert_not_null(strstr(r->req.body, needle), "no %s in %s", needle, r->req.body);
}

Test(pipeline, build_body_exact)
{
	struct fix_exec f;
	struct run r;

	fix_init(&f, HOST, "/usr/bin/x86_64-linux-gnu-gcc-12", HW1,
		 ARGV("gcc", "-o", "out", "main.c", "util.c"));
	f.exit.duration_ns = 1234567890;
	/* the driver's own 12 ms, its cc1/as/ld's 308 ms; their peak was higher */
	f.exit.cpu_ns = 12000000;
	f.exit.children_cpu_ns = 308000000;
	f.exit.max_rss_kb = 2048;
	f.exit.children_max_rss_kb = 10240;
	f.exit.read_bytes = 100;
	f.exit.write_bytes = 200;
	f.exec.stdin_kind = JCW__FD_KIND__FD_TTY;
	f.exec.stdout_kind = JCW__FD_KIND__FD_PIPE;
	r = process(&f);
	cr_assert_eq(r.res, PIPE_SUCCESS);
	cr_assert_eq(r.req.endpoint, API_BUILD_LOG);
	cr_assert_eq(r.req.type, PROC_C_COMPILER);
	cr_assert_str_eq(r.req.path, "/api/os-1/hw1/202012345/logs/build");
	cr_assert_str_eq(r.req.event_id, "boot-7");
	cr_assert_str_eq(r.req.student_key, "os-1/202012345");
	cr_assert_eq(r.req.event_time_unix_ns, 1795812000123456789ull);
	cr_assert_str_eq(r.req.body,
		"{\"timestamp\":\"2026-11-27T20:40:00.123456+00:00\",\"exit_code\":0,"
		"\"cmdline\":\"gcc -o out main.c util.c\",\"cwd\":\"/home/coder/project/hw1\","
		"\"binary_path\":\"/usr/bin/x86_64-linux-gnu-gcc-12\","
		"\"target_path\":\"/home/coder/project/hw1/main.c\",\"event_id\":\"boot-7\","
		"\"signal\":null,\"core_dumped\":false,\"duration_ms\":1234.567,"
		"\"cpu_ms\":320.000,\"self_cpu_ms\":12.000,\"max_rss_kb\":10240,"
		"\"self_max_rss_kb\":2048,\"read_bytes\":100,\"write_bytes\":200,"
		"\"source_files\":[\"/home/coder/project/hw1/main.c\",\"/home/coder/project/hw1/util.c\"],"
		"\"argc\":5,\"args_truncated\":false,\"paths_truncated\":false,\"pid\":42,"
		"\"stdin\":\"tty\",\"stdout\":\"pipe\",\"killer_pid\":null,\"killer_comm\":null,"
		"\"oom_killed\":false,\"seeded\":false,\"invalid_utf8\":false}");
	api_request_free(&r.req);
}

Test(pipeline, run_body_exact_sigsegv)
{
	struct fix_exec f;
	struct run r;

	fix_init(&f, HOST, HW1 "/a.out", HW1, ARGV("./a.out", "5"));
	f.exit.status = 11 | 0x80;
	f.exit.signal = 11;
	f.exit.core_dumped = 1;
	f.exit.duration_ns = 1500;
	f.exec.argc = 3;            /* one argument was not captured */
	f.exec.args_truncated = 1;
	r = process(&f);
	cr_assert_eq(r.res, PIPE_SUCCESS);
	cr_assert_eq(r.req.endpoint, API_RUN_LOG);
	cr_assert_eq(r.req.type, PROC_BINARY);
	cr_assert_str_eq(r.req.path, "/api/os-1/hw1/202012345/logs/run");
	cr_assert_str_eq(r.req.body,
		"{\"timestamp\":\"2026-11-27T20:40:00.123456+00:00\",\"exit_code\":139,"
		"\"cmdline\":\"./a.out 5\",\"cwd\":\"/home/coder/project/hw1\","
		"\"target_path\":\"/home/coder/project/hw1/a.out\",\"process_type\":\"binary\","
		"\"binary_path\":\"/home/coder/project/hw1/a.out\",\"event_id\":\"boot-7\","
		"\"signal\":\"SIGSEGV\",\"core_dumped\":true,\"duration_ms\":0.001,"
		"\"cpu_ms\":0.000,\"self_cpu_ms\":0.000,\"max_rss_kb\":0,\"self_max_rss_kb\":0,"
		"\"read_bytes\":0,\"write_bytes\":0,"
		"\"argc\":3,\"args_truncated\":true,\"paths_truncated\":false,\"pid\":42,"
		"\"stdin\":\"unknown\",\"stdout\":\"unknown\",\"killer_pid\":null,\"killer_comm\":null,"
		"\"oom_killed\":false,\"seeded\":false,\"invalid_utf8\":false}");
	api_request_free(&r.req);
}

Test(pipeline, notebook_cell_bodies_exact)
{
	struct fix_exec f;
	struct run r;

	/* The hook's marker, run by the kernel in the notebook's directory. */
	fix_init(&f, HOST, "/usr/bin/true", HW1,
		 ARGV("jcw-cell", HW1 "/lab.ipynb", "4", "error", "2500", "ZeroDivisionError",
		      "division by zero"));
	f.exit.duration_ns = 400000;   /* the marker's own: not reported */
	f.exit.cpu_ns = 300000;
	r = process(&f);
	cr_assert_eq(r.res, PIPE_SUCCESS, "%s", pipe_reason_name(r.why));
	cr_assert_eq(r.req.endpoint, API_RUN_LOG);
	cr_assert_eq(r.req.type, PROC_PYTHON);
	cr_assert_str_eq(r.req.path, "/api/os-1/hw1/202012345/logs/run");
	cr_assert_str_eq(r.req.body,
		"{\"timestamp\":\"2026-11-27T20:40:00.123456+00:00\",\"exit_code\":1,"
		"\"cmdline\":\"ipykernel cell 4\",\"cwd\":\"/home/coder/project/hw1\","
		"\"target_path\":\"/home/coder/project/hw1/lab.ipynb\",\"process_type\":\"python\","
		"\"binary_path\":\"ipykernel\",\"event_id\":\"boot-7\","
		"\"signal\":null,\"core_dumped\":false,\"duration_ms\":2.500,"
		"\"cell\":4,\"exception\":{\"type\":\"ZeroDivisionError\",\"message\":\"division by zero\"},"
		"\"seeded\":false,\"invalid_utf8\":false}");
	api_request_free(&r.req);

	/* A successful cell, its notebook named relative to the kernel's cwd. */
	r = ok(HOST, "/usr/bin/true", HW2, ARGV("jcw-cell", "sub/../plot.ipynb", "1", "ok", "10"));
	has(&r, "\"exit_code\":0,");
	has(&r, "\"target_path\":\"/home/coder/project/hw2/plot.ipynb\"");
	has(&r, "\"cell\":1,\"exception\":null,");
	cr_assert_str_eq(r.req.path, "/api/os-1/hw2/202012345/logs/run");
	api_request_free(&r.req);

	/* The hook's words are the student's: cleaned as standard error is
	 * (colours, C1 controls, a bidi override gone). */
	r = ok(HOST, "/usr/bin/true", HW1,
	       ARGV("jcw-cell", "lab.ipynb", "2", "error", "10", "\x1b[31mValueError\x1b[0m",
		    "bad \xc2\x9b" "2J\xe2\x80\xae" "value"));
	has(&r, "\"exception\":{\"type\":\"ValueError\",\"message\":\"bad 2Jvalue\"}");
	api_request_free(&r.req);
}

Test(pipeline, notebook_cells_filtered_like_scripts)
{
	/* Outside a homework directory, as python3 notes/x.py would be. */
	not_ok(HOST, "/usr/bin/true", "/home/coder/project/notes",
	       ARGV("jcw-cell", "/home/coder/project/notes/x.ipynb", "1", "ok", "5"),
	       PIPE_FILTERED, REASON_SOURCE_OUTSIDE_HW);
	not_ok(HOST, "/usr/bin/true", "/tmp", ARGV("jcw-cell", "/tmp/x.ipynb", "1", "ok", "5"),
	       PIPE_FILTERED, REASON_SOURCE_OUTSIDE_HW);
	/* Another student's workspace: never reported. */
	not_ok(HOST, "/usr/bin/true", "/workspace/os-1-202099999/hw1",
	       ARGV("jcw-cell", "/workspace/os-1-202099999/hw1/x.ipynb", "1", "ok", "5"),
	       PIPE_FILTERED, REASON_FOREIGN_WORKSPACE);
	/* The identity is the hostname's, whatever the marker says. */
	not_ok("build-box", "/usr/bin/true", HW1, ARGV("jcw-cell", HW1 "/x.ipynb", "1", "ok", "5"),
	       PIPE_NONTARGET, REASON_NOT_STUDENT_HOST);
	/* Not a marker (no duration): /usr/bin/true, which is no homework. */
	not_ok(HOST, "/usr/bin/true", HW1, ARGV("jcw-cell", HW1 "/x.ipynb", "1", "ok"),
	       PIPE_NONTARGET, REASON_UNCLASSIFIED);
}

Test(pipeline, killed_by_another_process)
{
	struct fix_exec f;
	struct run r;

	fix_init(&f, HOST, HW1 "/loop", HW1, ARGV("./loop"));
	f.exit.signal = 9;
	f.exit.killer_pid = 777;
	f.exit.killer_comm = fix_bytes("kill");
	r = process(&f);
	cr_assert_eq(r.res, PIPE_SUCCESS);
	has(&r, "\"exit_code\":137,");
	has(&r, "\"signal\":\"SIGKILL\",\"core_dumped\":false,");
	has(&r, "\"killer_pid\":777,\"killer_comm\":\"kill\",");
	api_request_free(&r.req);
}

Test(pipeline, python_anywhere)
{
	static const char *const pythons[] = {
		"/usr/bin/python3.11", "/usr/local/bin/python3.12", "/opt/conda/bin/python3",
		"/opt/conda/bin/python", HW2 "/.venv/bin/python", "/home/coder/.venv/bin/python3",
	};
	size_t i;

	for (i = 0; i < sizeof(pythons) / sizeof(pythons[0]); i++) {
		struct run r = ok(HOST, pythons[i], HW2, ARGV("python3", "solve.py"));

		cr_assert_eq(r.req.type, PROC_PYTHON, "%s", pythons[i]);
		cr_assert_str_eq(r.req.path, "/api/os-1/hw2/202012345/logs/run");
		has(&r, "\"target_path\":\"/home/coder/project/hw2/solve.py\",\"process_type\":\"python\"");
		api_request_free(&r.req);
	}
}

Test(pipeline, python_without_script)
{
	not_ok(HOST, "/usr/bin/python3.11", HW2, ARGV("python3", "-m", "pkg"),
	       PIPE_FILTERED, REASON_NO_SOURCE);
	not_ok(HOST, "/usr/bin/python3.11", HW2, ARGV("python3", "-c", "print('x')"),
	       PIPE_FILTERED, REASON_NO_SOURCE);
	not_ok(HOST, "/usr/bin/python3.11", HW2, ARGV("python3"),
	       PIPE_FILTERED, REASON_NO_SOURCE);
	not_ok(HOST, "/usr/bin/python3.11", "/tmp", ARGV("python3", "x.py"),
	       PIPE_FILTERED, REASON_SOURCE_OUTSIDE_HW);
}

Test(pipeline, compiler_names)
{
	static const char *const exes[] = {
		"/usr/bin/gcc", "/usr/bin/gcc-12", "/usr/bin/x86_64-linux-gnu-gcc-12",
		"/usr/bin/clang-14", "/usr/lib/llvm-14/bin/clang", "/usr/bin/cc",
	};
	size_t i;

	for (i = 0; i < sizeof(exes) / sizeof(exes[0]); i++) {
		struct run r = ok(HOST, exes[i], HW1, ARGV("cc", "main.c"));

		cr_assert_eq(r.req.type, PROC_C_COMPILER, "%s", exes[i]);
		api_request_free(&r.req);
	}
	{
		struct run r = ok(HOST, "/usr/bin/x86_64-linux-gnu-g++-12", HW1,
				  ARGV("g++", "main.cpp"));

		cr_assert_eq(r.req.type, PROC_CXX_COMPILER);
		api_request_free(&r.req);
	}
}

Test(pipeline, sources_relative_absolute_dotdot)
{
	struct run r;

	r = ok(HOST, "/usr/bin/gcc-12", HW1, ARGV("gcc", "-I", "inc", "-DX=1", "a.c", "b.c"));
	has(&r, "\"target_path\":\"/home/coder/project/hw1/a.c\"");
	has(&r, "\"source_files\":[\"/home/coder/project/hw1/a.c\",\"/home/coder/project/hw1/b.c\"]");
	api_request_free(&r.req);

	r = ok(HOST, "/usr/bin/gcc-12", "/tmp", ARGV("gcc", HW2 "/x.c"));
	cr_assert_str_eq(r.req.path, "/api/os-1/hw2/202012345/logs/build");
	api_request_free(&r.req);

	r = ok(HOST, "/usr/bin/gcc-12", HW1 "/src", ARGV("gcc", "../../hw3/./lib//m.c"));
	cr_assert_str_eq(r.req.path, "/api/os-1/hw3/202012345/logs/build");
	has(&r, "\"target_path\":\"/home/coder/project/hw3/lib/m.c\"");
	api_request_free(&r.req);

	r = ok(HOST, "/usr/bin/gcc-12", "/home/coder/project", ARGV("gcc", "hw1/main.c"));
	cr_assert_str_eq(r.req.path, "/api/os-1/hw1/202012345/logs/build");
	api_request_free(&r.req);

	r = ok(HOST, "/usr/bin/gcc-12", "/workspace/os-1-202012345/hw4", ARGV("gcc", "m.c"));
	cr_assert_str_eq(r.req.path, "/api/os-1/hw4/202012345/logs/build");
	api_request_free(&r.req);
}

Test(pipeline, compile_filters)
{
	not_ok(HOST, "/usr/bin/gcc-12", HW1, ARGV("gcc", "--version"),
	       PIPE_FILTERED, REASON_NO_SOURCE);
	not_ok(HOST, "/usr/bin/gcc-12", HW1, ARGV("gcc", "-o", "out", "main.o"),
	       PIPE_FILTERED, REASON_NO_SOURCE);
	not_ok(HOST, "/usr/bin/gcc-12", "/tmp", ARGV("gcc", "x.c"),
	       PIPE_FILTERED, REASON_SOURCE_OUTSIDE_HW);
	not_ok(HOST, "/usr/bin/gcc-12", "/home/coder/project", ARGV("gcc", "x.c"),
	       PIPE_FILTERED, REASON_SOURCE_OUTSIDE_HW);
	not_ok(HOST, "/usr/bin/gcc-12", "/home/coder/project/hw21", ARGV("gcc", "x.c"),
	       PIPE_FILTERED, REASON_SOURCE_OUTSIDE_HW);
	not_ok(HOST, "/usr/bin/gcc-12", HW1 "/hw2", ARGV("gcc", "x.c"),
	       PIPE_FILTERED, REASON_SOURCE_OUTSIDE_HW);
	not_ok(HOST, "/usr/bin/gcc-12", HW1, ARGV("gcc", "../x.c"),
	       PIPE_FILTERED, REASON_SOURCE_OUTSIDE_HW);
}

Test(pipeline, binaries)
{
	struct run r;

	r = ok(HOST, HW1 "/build/prog", HW1, ARGV("build/prog"));
	cr_assert_eq(r.req.type, PROC_BINARY);
	api_request_free(&r.req);
	/* a program replaced while it ran is still the student's program */
	r = ok(HOST, HW1 "/a.out (deleted)", HW1, ARGV("./a.out"));
	has(&r, "\"target_path\":\"/home/coder/project/hw1/a.out\"");
	api_request_free(&r.req);

	not_ok(HOST, "/home/coder/project/a.out", "/home/coder/project", ARGV("./a.out"),
	       PIPE_FILTERED, REASON_BINARY_OUTSIDE_HW);
	not_ok(HOST, "/home/coder/project/hw21/a.out", "/", ARGV("a.out"),
	       PIPE_FILTERED, REASON_BINARY_OUTSIDE_HW);
	not_ok(HOST, HW1 "/hw2/a.out", "/", ARGV("a.out"),
	       PIPE_FILTERED, REASON_BINARY_OUTSIDE_HW);
	not_ok(HOST, "/usr/bin/ls", HW1, ARGV("ls"), PIPE_NONTARGET, REASON_UNCLASSIFIED);
	not_ok(HOST, "/tmp/a.out", HW1, ARGV("a.out"), PIPE_NONTARGET, REASON_UNCLASSIFIED);
	/* the compiler's own helpers */
	not_ok(HOST, "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", HW1, ARGV("cc1", "main.c"),
	       PIPE_NONTARGET, REASON_UNCLASSIFIED);
	not_ok(HOST, "/usr/bin/x86_64-linux-gnu-as", HW1, ARGV("as", "x.s"),
	       PIPE_NONTARGET, REASON_UNCLASSIFIED);
	not_ok(HOST, "/usr/bin/x86_64-linux-gnu-ld.bfd", HW1, ARGV("ld", "x.o"),
	       PIPE_NONTARGET, REASON_UNCLASSIFIED);
	not_ok(HOST, "", HW1, ARGV("?"), PIPE_NONTARGET, REASON_UNCLASSIFIED);
}

Test(pipeline, hosts_that_do_not_parse)
{
	static const char *const other[] = {"", "localhost", "os-1-202012345", "code-server"};
	static const char *const bad[] = {
		"jcode-os-202012345", "jcode-os-1-", "jcode-os-1-abc", "jcode-os/x-1-202012345",
		"jcode-os%2Fx-1-202012345", "jcode-data-structures-2-7", "jcode-os-1-2x",
		"jcode-os-1-1234567890123456789012345678901234567890",
	};
	size_t i;

	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		not_ok(other[i], "/usr/bin/gcc", HW1, ARGV("gcc", "main.c"),
		       PIPE_NONTARGET, REASON_NOT_STUDENT_HOST);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		not_ok(bad[i], "/usr/bin/gcc", HW1, ARGV("gcc", "main.c"),
		       PIPE_NONTARGET, REASON_MALFORMED_HOST);
}

/* Kubernetes pod names: the student, never the pod suffix. */
Test(pipeline, pod_hostnames)
{
	static const char *const pods[] = {
		"jcode-os-1-202012345", "jcode-os-1-202012345-68d58d5b57-bp47r",
		"jcode-os-1-202012345-0", "jcode-os-1-202012345-7896544679-24579",
	};
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(pods) / sizeof(pods[0]); i++) {
		r = ok(pods[i], "/usr/bin/gcc", HW1, ARGV("gcc", "main.c"));
		cr_expect_str_eq(r.req.path, "/api/os-1/hw1/202012345/logs/build", "%s", pods[i]);
		cr_expect_str_eq(r.req.student_key, "os-1/202012345", "%s", pods[i]);
		api_request_free(&r.req);
		r = ok(pods[i], HW2 "/a.out", HW2, ARGV("./a.out"));
		cr_expect_str_eq(r.req.path, "/api/os-1/hw2/202012345/logs/run", "%s", pods[i]);
		api_request_free(&r.req);
	}
}

/* /workspace/{name}: only a student's name, and only the reporting one's. */
Test(pipeline, workspace_names)
{
	static const char *const nobody[] = {
		"/workspace/os-1/hw1", "/workspace/invalid-format/hw1",
		"/workspace/net-work-1-123/hw1", "/workspace/os-1-202012345-0/hw1",
	};
	struct run r;
	size_t i;

	r = ok(HOST, "/usr/bin/gcc", "/workspace/os-1-202012345/hw1", ARGV("gcc", "a.c"));
	cr_expect_str_eq(r.req.path, "/api/os-1/hw1/202012345/logs/build");
	api_request_free(&r.req);
	for (i = 0; i < sizeof(nobody) / sizeof(nobody[0]); i++) {
		not_ok(HOST, "/usr/bin/gcc", nobody[i], ARGV("gcc", "a.c"),
		       PIPE_FILTERED, REASON_SOURCE_OUTSIDE_HW);
		not_ok(HOST, "/usr/bin/python3", nobody[i], ARGV("python3", "a.py"),
		       PIPE_FILTERED, REASON_SOURCE_OUTSIDE_HW);
	}
	not_ok(HOST, "/usr/bin/gcc", "/workspace/os-1-202012346/hw1", ARGV("gcc", "a.c"),
	       PIPE_FILTERED, REASON_FOREIGN_WORKSPACE);
	not_ok(HOST, "/usr/bin/python3", "/tmp", ARGV("python3", "/workspace/ds-1-202012345/hw2/x.py"),
	       PIPE_FILTERED, REASON_FOREIGN_WORKSPACE);
	not_ok(HOST, "/workspace/os-1-7/hw3/a.out", "/tmp", ARGV("a.out"),
	       PIPE_FILTERED, REASON_FOREIGN_WORKSPACE);
	/* a pod-named student's own workspace */
	r = ok("jcode-os-1-202012345-0", "/workspace/os-1-202012345/hw3/a.out", "/tmp", ARGV("a.out"));
	cr_expect_str_eq(r.req.path, "/api/os-1/hw3/202012345/logs/run");
	api_request_free(&r.req);
}

Test(pipeline, hostile_bytes_give_valid_json)
{
	struct run r;

	/* process() checks validity of every successful body */
	r = ok(HOST, "/usr/bin/gcc", HW1,
	       ARGV("gcc", "-DMSG=\"hi\\n\"", "-o", "a\nb", "ma\xffin.c", "\xc3\x28.c", "x\"y.c"));
	has(&r, "\"cmdline\":\"gcc -DMSG=\\\"hi\\\\n\\\" -o a\\nb ma\\ufffdin.c \\ufffd(.c x\\\"y.c\"");
	has(&r, "\"target_path\":\"/home/coder/project/hw1/ma\\ufffdin.c\"");
	has(&r, "\"invalid_utf8\":true}");
	api_request_free(&r.req);
}

Test(pipeline, truncated_cwd_with_relative_source)
{
	struct fix_exec f;
	struct run r;

	fix_init(&f, HOST, "/usr/bin/gcc", HW1, ARGV("gcc", "main.c"));
	f.exec.cwd_truncated = 1;
	r = process(&f);
	cr_assert_eq(r.res, PIPE_FAILURE);
	cr_assert_eq(r.why, REASON_INVALID);
	/* an absolute source does not need the cwd */
	fix_init(&f, HOST, "/usr/bin/gcc", HW1, ARGV("gcc", HW1 "/main.c"));
	f.exec.cwd_truncated = 1;
	r = process(&f);
	cr_assert_eq(r.res, PIPE_SUCCESS);
	has(&r, "\"paths_truncated\":true");
	api_request_free(&r.req);
}

Test(pipeline, missing_messages)
{
	struct fix_exec f;
	struct api_request req = {0};
	enum pipe_reason why;

	fix_init(&f, HOST, "/usr/bin/gcc", HW1, ARGV("gcc", "main.c"));
	cr_assert_eq(pipeline_process(pl, "b", 1, NULL, &f.exit, NULL, &req, &why), PIPE_FAILURE);
	cr_assert_eq(why, REASON_INVALID);
	cr_assert_eq(pipeline_process(pl, "b", 1, &f.exec, NULL, NULL, &req, &why), PIPE_FAILURE);
}

/* Found by fuzz_frame: an Exec frame without exe_path decodes to {0, NULL}. */
Test(pipeline, absent_exe_path)
{
	struct fix_exec f;
	struct run r;

	fix_init(&f, HOST, "/usr/bin/gcc", HW1, ARGV("gcc", "main.c"));
	f.exec.exe_path.len = 0;
	f.exec.exe_path.data = NULL;
	r = process(&f);
	cr_assert_eq(r.res, PIPE_NONTARGET);
	cr_assert_eq(r.why, REASON_UNCLASSIFIED);
}

Test(pipeline, rules_file_javac)
{
	char path[] = "/tmp/jcw-pipeline-rules-XXXXXX";
	static const char text[] = "compiler javac .java\n";
	int fd = mkstemp(path);
	struct pipeline_config cfg = {.rules_file = path};
	struct pipeline *p;
	char err[256] = "";
	struct fix_exec f;
	struct api_request req;
	enum pipe_reason why;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	cr_assert_eq(pipeline_new(&cfg, &p, err, sizeof(err)), 0, "%s", err);
	fix_init(&f, HOST, "/usr/lib/jvm/java-17-openjdk-amd64/bin/javac", HW1,
		 ARGV("javac", "-d", "out", "-cp", "lib.jar", "Main.java", "Util.java"));
	cr_assert_eq(pipeline_process(p, "b", 3, &f.exec, &f.exit, NULL, &req, &why), PIPE_SUCCESS);
	cr_assert_eq(req.type, PROC_COMPILER);
	cr_assert_str_eq(req.path, "/api/os-1/hw1/202012345/logs/build");
	cr_assert_not_null(strstr(req.body, "\"target_path\":\"/home/coder/project/hw1/Main.java\""));
	cr_assert_not_null(strstr(req.body, "\"source_files\":[\"/home/coder/project/hw1/Main.java\","
					    "\"/home/coder/project/hw1/Util.java\"]"));
	api_request_free(&req);
	pipeline_free(p);
	unlink(path);
}

Test(pipeline, bad_rules_file)
{
	char path[] = "/tmp/jcw-pipeline-rules-XXXXXX";
	static const char text[] = "c gcc\nbogus line\n";
	int fd = mkstemp(path);
	struct pipeline_config cfg = {.rules_file = path};
	struct pipeline *p = NULL;
	char err[256] = "", want[300];

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	cr_assert_eq(pipeline_new(&cfg, &p, err, sizeof(err)), -EINVAL);
	cr_assert_null(p);
	snprintf(want, sizeof(want), "%s:2: unknown type", path);
	cr_assert_eq(strncmp(err, want, strlen(want)), 0, "%s", err);
	unlink(path);
}

Test(pipeline, names)
{
	cr_assert_str_eq(pipe_result_name(PIPE_SUCCESS), "success");
	cr_assert_str_eq(pipe_result_name(PIPE_FILTERED), "filtered");
	cr_assert_str_eq(pipe_result_name(PIPE_NONTARGET), "nontarget");
	cr_assert_str_eq(pipe_result_name(PIPE_FAILURE), "failure");
	cr_assert_str_eq(pipe_reason_name(REASON_NO_SOURCE), "no_source");
	cr_assert_str_eq(pipe_reason_name(REASON_BINARY_OUTSIDE_HW), "binary_outside_hw");
	cr_assert_str_eq(proc_type_name(PROC_PYTHON), "python");
	cr_assert_str_eq(proc_type_name(PROC_COMPILER), "compiler");
	cr_assert_str_eq(api_endpoint_name(API_RUN_LOG), "run");
	for (int i = 0; i < PIPE_REASON_COUNT; i++)
		cr_assert_not_null(pipe_reason_name(i));
	for (int i = 0; i < PROC_TYPE_COUNT; i++)
		cr_assert_not_null(proc_type_name(i));
}

/* Deterministic pseudo-random events built from hostile pieces: nothing may
 * crash (ASan/UBSan build), every body must be valid JSON and every URL path
 * must have the /api/{class_div}/{hw}/{id}/logs/{kind} shape. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static const char *pick(const char *const *set, size_t n)
{
	return set[rnd((uint32_t)n)];
}

#define PICK(set) pick(set, sizeof(set) / sizeof(set[0]))

Test(pipeline, random_hostile_events)
{
	static const char *const hosts[] = {
		HOST, "jcode-a-b-1", "jcode-os-1-", "jcode-%2e%2e-1-1", "jcode-os-1-1\xff",
		"", "jcode-x-y-000000000000000001", "jcode-../x-1-1",
	};
	static const char *const exes[] = {
		"/usr/bin/gcc", "/usr/bin/python3.11", HW1 "/a.out", "/home/coder/project/hw1/../hw2/b",
		"/home/coder/project/hw21/x", "gcc", "/", "", "/usr/bin/clang++-14",
		HW1 "/\xff\xfe", HW1 "/a b?#%", "/workspace/x/hw3/p (deleted)",
	};
	static const char *const cwds[] = {
		HW1, HW2, "/", "", "relative", "/home/coder/project", "/tmp/../home/coder/project/hw5",
		"/home/coder/project/hw1/\n/..", "/workspace/./x/hw0",
	};
	static const char *const args[] = {
		"-o", "-I", "-x", "c", "-m", "-c", "-", "--", "-W", "a.c", "b.py", "../hw3/c.c",
		"/home/coder/project/hw4/d.cpp", "..", ".", "", "\xff.c", "\"q\".c", "x\ny.py",
		"-DA=\"1\"", "@f", "-Wignore", "hw1/hw2/z.c", "//home//coder//project//hw6//e.c",
	};
	struct fix_exec f;
	const char *argv[FIX_MAX_ARGS + 1];
	size_t i, k, n, successes = 0;

	for (i = 0; i < 20000; i++) {
		n = rnd(8);
		argv[0] = "cmd";
		for (k = 1; k <= n; k++)
			argv[k] = PICK(args);
		argv[k] = NULL;
		fix_init(&f, PICK(hosts), PICK(exes), PICK(cwds), argv);
		f.exit.signal = rnd(4) == 0 ? rnd(70) : 0;
		f.exec.cwd_truncated = rnd(10) == 0;
		struct run r = process(&f);   /* checks JSON validity on success */

		cr_assert_lt(r.res, PIPE_RESULT_COUNT);
		cr_assert_lt(r.why, PIPE_REASON_COUNT);
		if (r.res != PIPE_SUCCESS)
			continue;
		successes++;
		{
			char *p = r.req.path, *seg;
			int nseg = 0;

			cr_assert_eq(strncmp(p, "/api/", 5), 0, "%s", p);
			for (seg = strtok(p + 1, "/"); seg; seg = strtok(NULL, "/"), nseg++) {
				cr_assert_str_neq(seg, ".");
				cr_assert_str_neq(seg, "..");
				cr_assert_eq(strspn(seg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						    "0123456789-._~%"), strlen(seg), "%s", seg);
			}
			cr_assert_eq(nseg, 6);
		}
		api_request_free(&r.req);
	}
	cr_assert_gt(successes, 100);   /* the mix does reach the body builder */
}

/* The admit hook: asked once per target with its student and time, before
 * anything is built; never for what is not a target. */
struct admit_log {
	int calls;
	char key[64];
	uint64_t t;
	bool answer;
};

static bool admit(void *ctx, const char *key, uint64_t t)
{
	struct admit_log *l = ctx;

	l->calls++;
	snprintf(l->key, sizeof(l->key), "%s", key);
	l->t = t;
	return l->answer;
}

Test(pipeline, admit_decides_before_the_request)
{
	struct admit_log log = {.answer = false};
	struct pipeline_config c = {.admit = admit, .admit_ctx = &log};
	struct pipeline *saved = pl;
	struct fix_exec f;
	char err[256] = "";
	struct run r;

	cr_assert_eq(pipeline_new(&c, &pl, err, sizeof(err)), 0, "%s", err);
	fix_init(&f, HOST "-68d58d5b57-bp47r", "/usr/bin/gcc", HW1, ARGV("gcc", "a.c"));
	f.exit.time_unix_ns = 1700000000123456789ull;
	r = process(&f);
	cr_assert_eq(r.res, PIPE_LIMITED, "%s", pipe_result_name(r.res));
	cr_assert_eq(r.why, REASON_NONE);
	cr_assert_null(r.req.body);
	cr_assert_null(r.req.event_id);
	cr_assert_eq(log.calls, 1);
	cr_assert_str_eq(log.key, "os-1/202012345");
	cr_assert_eq(log.t, 1700000000123456789ull);

	log.answer = true;
	r = process(&f);
	cr_assert_eq(r.res, PIPE_SUCCESS);
	cr_assert_str_eq(r.req.student_key, "os-1/202012345");
	api_request_free(&r.req);

	fix_init(&f, HOST, "/usr/bin/ls", HW1, ARGV("ls"));
	r = process(&f);
	cr_assert_eq(r.res, PIPE_NONTARGET);
	cr_assert_eq(log.calls, 2, "not asked for a non-target");
	cr_assert_str_eq(pipe_result_name(PIPE_LIMITED), "limited");
	pipeline_free(pl);
	pl = saved;
}

/* One event through a pipeline of the given stderr mode, with text. */
static char *with_stderr(enum stderr_mode mode, const char *exe, const char *const *argv,
			 const char *text, enum api_endpoint *endpoint)
{
	struct pipeline_config cfg = {
		.stderr_mode = mode,
		.stderr_limits = {.diag_max = 8192, .head_max = 2048, .tail_max = 2048},
	};
	struct pipeline *p;
	char err[256] = "", *body;
	struct fix_exec f;
	struct api_request req;
	enum pipe_reason why;
	struct errtext t;

	cr_assert_eq(pipeline_new(&cfg, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(errtext_init(&t, 8192, 2048), 0);
	errtext_put(&t, 0, (const uint8_t *)text, strlen(text));
	fix_init(&f, HOST, exe, HW1, argv);
	cr_assert_eq(pipeline_process(p, "b", 3, &f.exec, &f.exit, &t, &req, &why), PIPE_SUCCESS);
	cr_assert(fix_json_valid(req.body, req.body_len), "%s", req.body);
	*endpoint = req.endpoint;
	body = strdup(req.body);
	api_request_free(&req);
	errtext_free(&t);
	pipeline_free(p);
	return body;
}

Test(pipeline, stderr_fields_by_mode)
{
	static const char diag[] = "main.c:2:5: error: 'x' undeclared\n";
	static const char tb[] = "Traceback (most recent call last):\n"
				 "  File \"/home/coder/project/hw1/a.py\", line 3, in <module>\n"
				 "KeyError: 'k'\n";
	enum api_endpoint ep;
	char *b;

	b = with_stderr(STDERR_ALL, "/usr/bin/gcc", ARGV("gcc", "main.c"), diag, &ep);
	cr_assert_eq(ep, API_BUILD_LOG);
	cr_assert_not_null(strstr(b, "\"errors\":1,"), "%s", b);
	cr_assert_not_null(strstr(b, "\"first_error\":{\"file\":\"main.c\""), "%s", b);
	/* Before invalid_utf8, which stays the last field. */
	cr_assert_not_null(strstr(b, "\"first_error\":{"), "%s", b);
	cr_assert(strstr(b, "\"first_error\"") < strstr(b, "\"invalid_utf8\""));
	free(b);

	b = with_stderr(STDERR_ALL, "/usr/bin/python3", ARGV("python3", "a.py"), tb, &ep);
	cr_assert_eq(ep, API_RUN_LOG);
	cr_assert_not_null(strstr(b, "\"exception\":{\"kind\":\"python\",\"type\":\"KeyError\","
				     "\"message\":\"'k'\",\"file\":\"a.py\""), "%s", b);
	free(b);

	/* builds: a build keeps them, a run has none. */
	b = with_stderr(STDERR_BUILDS, "/usr/bin/gcc", ARGV("gcc", "main.c"), diag, &ep);
	cr_assert_not_null(strstr(b, "\"diagnostics\":"), "%s", b);
	free(b);
	b = with_stderr(STDERR_BUILDS, "/usr/bin/python3", ARGV("python3", "a.py"), tb, &ep);
	cr_assert_null(strstr(b, "stderr_"), "%s", b);
	cr_assert_null(strstr(b, "exception"), "%s", b);
	free(b);

	/* off: the body is as it always was. */
	b = with_stderr(STDERR_OFF, "/usr/bin/gcc", ARGV("gcc", "main.c"), diag, &ep);
	cr_assert_null(strstr(b, "diagnostics"), "%s", b);
	free(b);
}

Test(pipeline, clangs_own_cc1_is_its_drivers)
{
	struct run r;

	not_ok(HOST, "/usr/lib/llvm-14/bin/clang", HW1,
	       ARGV("/usr/lib/llvm-14/bin/clang", "-cc1", "-triple", "x86_64", "main.c"),
	       PIPE_NONTARGET, REASON_COMPILER_HELPER);
	r = ok(HOST, "/usr/lib/llvm-14/bin/clang", HW1, ARGV("clang", "main.c"));
	api_request_free(&r.req);
}

Test(pipeline, reports_names_the_owners_of_helper_text)
{
	struct fix_exec f;

	fix_init(&f, HOST, "/usr/bin/gcc", HW1, ARGV("gcc", "main.c"));
	cr_assert(pipeline_reports(pl, &f.exec));
	fix_init(&f, HOST, "/usr/bin/x86_64-linux-gnu-ld.bfd", HW1, ARGV("ld", "a.o"));
	cr_assert_not(pipeline_reports(pl, &f.exec));
	fix_init(&f, HOST, HW1 "/a.out", HW1, ARGV("./a.out"));
	cr_assert(pipeline_reports(pl, &f.exec));
	fix_init(&f, HOST, "/usr/bin/bash", HW1, ARGV("bash"));
	cr_assert_not(pipeline_reports(pl, &f.exec));
	fix_init(&f, "other-host", "/usr/bin/gcc", HW1, ARGV("gcc", "main.c"));
	cr_assert_not(pipeline_reports(pl, &f.exec));
}
