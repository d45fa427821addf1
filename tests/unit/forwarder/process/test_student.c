/* Student from hostname, read from the left: jcode-{course}-{section}-{id}
 * and whatever Kubernetes appends (Deployment and StatefulSet pod names);
 * workspace directory names; the same-student test. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "process/student.h"

static enum student_result parse(const char *host, struct student *st)
{
	return student_parse(host, strlen(host), st);
}

static void expect_student(const char *host, const char *class_div, const char *id)
{
	struct student st;

	memset(&st, 0x5a, sizeof(st));
	cr_assert_eq(parse(host, &st), STUDENT_OK, "refused \"%s\"", host);
	cr_expect_str_eq(st.class_div, class_div, "class_div of \"%s\"", host);
	cr_expect_eq(st.class_div_len, strlen(class_div));
	cr_expect_str_eq(st.id, id, "id of \"%s\"", host);
	cr_expect_eq(st.id_len, strlen(id));
}

Test(student, seed_hostname)
{
	expect_student("jcode-os-1-202012345", "os-1", "202012345");
}

/* The three shapes a JCode cluster gives: a bare container or pod
 * (docker run --hostname), a Deployment's pod, a StatefulSet's pod. */
Test(student, pod_names)
{
	/* the real one the original project documents */
	expect_student("jcode-test2502-1-202012180-68d58d5b57-bp47r", "test2502-1", "202012180");
	expect_student("jcode-os-1-202012345-68d58d5b57-bp47r", "os-1", "202012345");
	/* StatefulSet ordinal: read from the right it became student "0" */
	expect_student("jcode-os-1-202012345-0", "os-1", "202012345");
	expect_student("jcode-os-1-202012345-12", "os-1", "202012345");
	/* an all-digit ReplicaSet hash and suffix */
	expect_student("jcode-os-1-202012345-7896544679-24579", "os-1", "202012345");
	/* upper case, as the original's pattern allows; long sections */
	expect_student("jcode-OS2024-01-7", "OS2024-01", "7");
	expect_student("jcode-ds-12-2021001-5f7c9-x.y", "ds-12", "2021001");
}

Test(student, not_a_jcode_host)
{
	static const char *const other[] = {
		"", "j", "jcode", "os-1-202012345", "JCODE-os-1-202012345",
		"xjcode-os-1-202012345", "code-server-7d9f", "localhost",
	};
	struct student st;
	size_t i;

	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		cr_expect_eq(parse(other[i], &st), STUDENT_NOT_JCODE, "\"%s\"", other[i]);
}

Test(student, rejects_malformed)
{
	static const char *const bad[] = {
		"jcode-",                        /* nothing after it */
		"jcode-os-202012345",            /* no section */
		"jcode-202012345",               /* no course, no section */
		"jcode-os-1-",                   /* no id */
		"jcode-os-1",
		"jcode--1-202012345",            /* empty course */
		"jcode-os--202012345",           /* empty section */
		"jcode-os-A1-7",                 /* the section is digits */
		"jcode-os-1-20201234a",          /* the id ends at the end or a '-' */
		"jcode-os-1-abc",
		"jcode-os-1-+123",
		"jcode-os-1-12 3",
		"jcode-os-1-202012345\n",
		"jcode-os-1-202012345 ",
		"jcode-os-1-202012345_x",
		"jcode-os-1-202012345-a/b",      /* the suffix holds hostname characters only */
		"jcode-os-1-202012345-a b",
		"jcode-os-1-202012345-%2F",
		"jcode-data-structures-2-2021001", /* a course is one word (as the original reads it) */
		"jcode-net_work-1-123",          /* no '_': no hostname can hold it */
		"jcode-o/s-1-202012345",
		"jcode-os%2F..-1-202012345",
		"jcode-../..-1-1",
		"jcode-os.x-1-1",
		"jcode-os-1-1234567890123456789012345678901234567890", /* 40 digits */
		"jcode-os-1-1234567890123456789",                      /* 19 digits */
		"jcode--os-1-1",
		"jcode-학생-1-1",                /* non-ASCII */
	};
	struct student st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(parse(bad[i], &st), STUDENT_MALFORMED, "accepted \"%s\"", bad[i]);
}

Test(student, longest_id_accepted)
{
	struct student st;

	cr_assert_eq(parse("jcode-os-1-123456789012345678", &st), STUDENT_OK);
	cr_assert_eq(st.id_len, STUDENT_ID_MAX);
	cr_assert_eq(parse("jcode-os-1-123456789012345678-0", &st), STUDENT_OK);
	cr_assert_eq(st.id_len, STUDENT_ID_MAX);
}

Test(student, embedded_nul_and_unterminated)
{
	static const char host[] = "jcode-os-1-2020\0" "12345";
	struct student st;
	char buf[20];

	cr_assert_eq(student_parse(host, sizeof(host) - 1, &st), STUDENT_MALFORMED);
	/* no terminator needed: the length bounds the parse */
	memcpy(buf, "jcode-os-1-12345XXXX", 20);
	cr_assert_eq(student_parse(buf, 16, &st), STUDENT_OK);
	cr_assert_str_eq(st.id, "12345");
}

Test(student, too_long_class_div)
{
	char host[200];
	struct student st;

	memset(host, 'a', sizeof(host));
	memcpy(host, "jcode-", 6);
	memcpy(host + sizeof(host) - 4, "-1-1", 4);
	cr_assert_eq(student_parse(host, sizeof(host), &st), STUDENT_MALFORMED);
}

static int ws(const char *name, struct student *st)
{
	return student_parse_workspace(name, strlen(name), st);
}

Test(student, workspace_names)
{
	static const char *const bad[] = {
		"", "os-1", "invalid-format", "net-work-1-123", "os-1-202012345-0",
		"os-1-202012345-68d58d5b57-bp47r", "os-1-", "-1-2", "os--2", "os-x-2",
		"os-1-2a", "os_1-1-2", "os-1-1234567890123456789", "..", "os-1-2/",
	};
	struct student st;
	size_t i;

	cr_assert_eq(ws("os-1-202012345", &st), 0);
	cr_assert_str_eq(st.class_div, "os-1");
	cr_assert_str_eq(st.id, "202012345");
	cr_assert_eq(ws("test2502-1-202012180", &st), 0);
	cr_assert_str_eq(st.class_div, "test2502-1");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(ws(bad[i], &st), -EINVAL, "accepted \"%s\"", bad[i]);
}

Test(student, equal)
{
	struct student a, b, c, d;

	cr_assert_eq(parse("jcode-os-1-202012345-68d58d5b57-bp47r", &a), STUDENT_OK);
	cr_assert_eq(ws("os-1-202012345", &b), 0);
	cr_assert_eq(ws("os-1-20201234", &c), 0);
	cr_assert_eq(ws("os-11-202012345", &d), 0);
	cr_assert(student_equal(&a, &b));
	cr_assert_not(student_equal(&a, &c));
	cr_assert_not(student_equal(&a, &d));
}
