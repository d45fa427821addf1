/* Student from hostname: jcode-{course}-{section}-{id}, parsed from the right. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "student.h"

static int parse(const char *host, struct student *st)
{
	return student_parse(host, strlen(host), st);
}

Test(student, seed_hostname)
{
	struct student st;

	cr_assert_eq(parse("jcode-os-1-202012345", &st), 0);
	cr_assert_str_eq(st.class_div, "os-1");
	cr_assert_eq(st.class_div_len, 4);
	cr_assert_str_eq(st.id, "202012345");
	cr_assert_eq(st.id_len, 9);
}

Test(student, course_with_dashes)
{
	struct student st;

	cr_assert_eq(parse("jcode-data-structures-2-2021001", &st), 0);
	cr_assert_str_eq(st.class_div, "data-structures-2");
	cr_assert_str_eq(st.id, "2021001");
}

Test(student, alnum_section)
{
	struct student st;

	cr_assert_eq(parse("jcode-class-A1-7", &st), 0);
	cr_assert_str_eq(st.class_div, "class-A1");
	cr_assert_str_eq(st.id, "7");
}

Test(student, rejects_malformed)
{
	static const char *const bad[] = {
		"",                              /* empty */
		"os-1-202012345",                /* no prefix */
		"jcode-",                        /* nothing after it */
		"JCODE-os-1-202012345",          /* prefix is case-sensitive */
		"xjcode-os-1-202012345",
		"jcode-os-202012345",            /* no section */
		"jcode-202012345",               /* no course, no section */
		"jcode-os-1-",                   /* no id */
		"jcode-os-1",                    /* "1" would be the id, "os" the section: no course */
		"jcode--1-202012345",            /* empty course */
		"jcode-os--202012345",           /* empty section */
		"jcode-os-1-20201234a",          /* non-numeric id */
		"jcode-os-1-abc",
		"jcode-os-1-+123",
		"jcode-os-1-12 3",
		"jcode-os-1-202012345\n",
		"jcode-os-1-202012345 ",
		"jcode-o/s-1-202012345",         /* '/' */
		"jcode-os%2F..-1-202012345",     /* encoded '/' and dots */
		"jcode-os-1%2F-202012345",
		"jcode-../..-1-1",
		"jcode-os.x-1-1",
		"jcode-os-1-1234567890123456789012345678901234567890", /* 40 digits */
		"jcode-os-1-1234567890123456789",                      /* 19 digits */
		"jcode--os-1-1",                 /* course starts with '-' */
		"jcode-os--x-1-1",               /* "--" in course */
		"jcode-os--1-1",
		"jcode-학생-1-1",                /* non-ASCII */
	};
	struct student st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(parse(bad[i], &st), -EINVAL, "accepted \"%s\"", bad[i]);
}

Test(student, longest_id_accepted)
{
	struct student st;

	cr_assert_eq(parse("jcode-os-1-123456789012345678", &st), 0);
	cr_assert_eq(st.id_len, STUDENT_ID_MAX);
}

Test(student, embedded_nul_and_unterminated)
{
	static const char host[] = "jcode-os-1-2020\0" "12345";
	struct student st;
	char buf[20];

	cr_assert_eq(student_parse(host, sizeof(host) - 1, &st), -EINVAL);
	/* no terminator needed: the length bounds the parse */
	memcpy(buf, "jcode-os-1-12345XXXX", 20);
	cr_assert_eq(student_parse(buf, 16, &st), 0);
	cr_assert_str_eq(st.id, "12345");
}

Test(student, too_long_class_div)
{
	char host[200];
	struct student st;

	memset(host, 'a', sizeof(host));
	memcpy(host, "jcode-", 6);
	memcpy(host + sizeof(host) - 4, "-1-1", 4);
	cr_assert_eq(student_parse(host, sizeof(host), &st), -EINVAL);
}
