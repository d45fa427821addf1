/* The admin port's request head: complete or not, request or status. */
#include <criterion/criterion.h>
#include <string.h>

#include "observe/httpd_parse.h"

static int parse(const char *head, struct httpd_request *r, char *buf)
{
	size_t len = strlen(head);

	memcpy(buf, head, len + 1);
	return httpd_parse(buf, len, r);
}

Test(httpd_parse, requests)
{
	struct httpd_request r;
	char buf[256];

	cr_assert_eq(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r, buf), 0);
	cr_assert_str_eq(r.path, "/metrics");
	cr_assert_not(r.head_only);
	cr_assert_eq(parse("HEAD /healthz?x=1 HTTP/1.0\n\n", &r, buf), 0);
	cr_assert_str_eq(r.path, "/healthz");
	cr_assert(r.head_only);
	cr_assert_eq(parse("GET / HTTP/1.1\r\n\r\n", &r, buf), 0);
	cr_assert_str_eq(r.path, "/");
}

Test(httpd_parse, refused)
{
	static const struct { const char *head; int status; } cases[] = {
		{"POST /metrics HTTP/1.1\r\n\r\n", 405},
		{"get /metrics HTTP/1.1\r\n\r\n", 405},
		{"GET metrics HTTP/1.1\r\n\r\n", 400},        /* not a path */
		{"GET /metrics\r\n\r\n", 400},                /* HTTP/0.9 */
		{"GET /metrics HTTP/2.0\r\n\r\n", 400},
		{"GET  /metrics HTTP/1.1\r\n\r\n", 400},
		{"GET /metrics", 400},                        /* no end of line */
		{"\r\n\r\n", 400},
		{"", 400},
	};
	struct httpd_request r;
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(parse(cases[i].head, &r, buf), cases[i].status, "\"%s\"", cases[i].head);
	/* a NUL anywhere in the head */
	memcpy(buf, "GET /m\0x HTTP/1.1\r\n\r\n", 21);
	cr_assert_eq(httpd_parse(buf, 21, &r), 400);
}

Test(httpd_parse, head_complete)
{
	cr_assert(httpd_head_complete("GET / HTTP/1.1\r\n\r\n", 18));
	cr_assert(httpd_head_complete("GET / HTTP/1.1\n\n", 16));
	cr_assert_not(httpd_head_complete("GET / HTTP/1.1\r\n", 16));
	cr_assert_not(httpd_head_complete("GET / HTTP/1.1\r\n\r", 17));
	cr_assert_not(httpd_head_complete("", 0));
	/* only the given length counts */
	cr_assert_not(httpd_head_complete("GET / HTTP/1.1\r\n\r\n", 17));
}
