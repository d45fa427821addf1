/* The snapshot registration request of docs/api.md. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "snapshot/snap_register.h"

/* 2025-01-01T12:01:01.25Z */
#define T0 1735732861250000000ull

Test(snap_register, request)
{
	struct snap_register_in in = {
		.class_div = "os-1", .hw = "hw1", .student_id = "202012345",
		.filename = "src@main.c", .url_ts = "20250101_120101.1", .bytes = 42,
		.event_id = "boot-7", .event_time_ns = T0, .ext = ".c", .file = "src/main.c",
	};
	struct api_request r;

	cr_assert_eq(snap_register_request(&in, &r), 0);
	cr_assert_eq(r.endpoint, API_SNAPSHOT);
	/* '@' is percent-encoded like every non-unreserved byte; the service
	 * decodes the segment back to src@main.c. */
	cr_assert_str_eq(r.path, "/api/os-1/hw1/202012345/src%40main.c/20250101_120101.1");
	cr_assert_str_eq(r.body, "{\"bytes\":42,\"event_id\":\"boot-7\",\"deleted\":false,"
				 "\"timestamp\":\"2025-01-01T12:01:01.250000+00:00\","
				 "\"file\":\"src/main.c\",\"snapshot\":\"20250101_120101.1.c\"}");
	cr_assert_eq(r.body_len, strlen(r.body));
	cr_assert_str_eq(r.event_id, "boot-7");
	cr_assert_str_eq(r.student_key, "os-1/202012345");
	cr_assert_eq(r.event_time_unix_ns, T0);
	api_request_free(&r);

	in.bytes = 0;
	in.deleted = true;
	in.filename = "a b#?.py";
	in.file = "a b#?.py";
	in.ext = ".py";
	cr_assert_eq(snap_register_request(&in, &r), 0);
	cr_assert_str_eq(r.path, "/api/os-1/hw1/202012345/a%20b%23%3F.py/20250101_120101.1");
	cr_assert_str_eq(r.body, "{\"bytes\":0,\"event_id\":\"boot-7\",\"deleted\":true,"
				 "\"timestamp\":\"2025-01-01T12:01:01.250000+00:00\","
				 "\"file\":\"a b#?.py\",\"snapshot\":\"20250101_120101.1.py\"}");
	api_request_free(&r);
}

Test(snap_register, refuses_dot_segments)
{
	struct snap_register_in in = {
		.class_div = "os-1", .hw = "hw1", .student_id = "1", .filename = "..",
		.url_ts = "20250101_120101", .event_id = "e",
	};
	struct api_request r = {0};

	cr_assert_eq(snap_register_request(&in, &r), -EINVAL);
	cr_assert_null(r.path);
	in.filename = "";
	cr_assert_eq(snap_register_request(&in, &r), -EINVAL);
}

/* The line figures always go with a saved version; burst only says that
 * lines_added reached PASTE_LINES (never, with 0). */
Test(snap_register, burst_follows_paste_lines)
{
	struct snap_signals sig = {.lines_added = 40, .lines_removed = 2};
	struct snap_register_in in = {
		.class_div = "os-1", .hw = "hw1", .student_id = "202012345",
		.filename = "main.c", .url_ts = "20250101_120101", .bytes = 900,
		.event_id = "boot-8", .event_time_ns = T0, .ext = ".c", .file = "main.c",
		.signals = &sig, .paste_lines = 40,
	};
	const unsigned limits[] = {40, 41, 0};
	const char *want[] = {"\"burst\":true", "\"burst\":false", "\"burst\":false"};
	struct api_request r;
	size_t i;

	for (i = 0; i < 3; i++) {
		in.paste_lines = limits[i];
		cr_assert_eq(snap_register_request(&in, &r), 0);
		cr_assert_not_null(strstr(r.body, "\"lines_added\":40,\"lines_removed\":2,"), "%s", r.body);
		cr_assert_not_null(strstr(r.body, want[i]), "PASTE_LINES %u: %s", limits[i], r.body);
		api_request_free(&r);
	}
}

/* Who wrote it, with an unknown executable as null. */
Test(snap_register, writer)
{
	struct snap_register_in in = {
		.class_div = "os-1", .hw = "hw1", .student_id = "202012345",
		.filename = "main.c", .url_ts = "20250101_120101", .bytes = 1,
		.event_id = "boot-9", .event_time_ns = T0, .ext = ".c", .file = "main.c",
		.writer_comm = "node", .writer_exe = "/usr/lib/code-server/lib/node",
		.writer_kind = "editor",
	};
	struct api_request r;

	cr_assert_eq(snap_register_request(&in, &r), 0);
	cr_assert_not_null(strstr(r.body, ",\"writer\":{\"comm\":\"node\",\"exe\":"
				  "\"/usr/lib/code-server/lib/node\",\"kind\":\"editor\"}"), "%s", r.body);
	api_request_free(&r);
	in.writer_comm = "";
	in.writer_exe = NULL;
	in.writer_kind = "other";
	cr_assert_eq(snap_register_request(&in, &r), 0);
	cr_assert_not_null(strstr(r.body, "\"writer\":{\"comm\":\"\",\"exe\":null,\"kind\":\"other\"}"),
			   "%s", r.body);
	api_request_free(&r);
}
