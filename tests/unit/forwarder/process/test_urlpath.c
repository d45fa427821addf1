/* Percent-encoding of URL path segments. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "process/urlpath.h"

static void seg(const char *in, size_t len, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	cr_assert_eq(urlpath_put_segment(&sb, in, len), 0);
	cr_assert_str_eq(sb.buf, want);
	strbuf_free(&sb);
}

Test(urlpath, plain)
{
	seg("os-1", 4, "/os-1");
	seg("hw1", 3, "/hw1");
	seg("A.b_c~9", 7, "/A.b_c~9");
	seg("...", 3, "/...");
}

Test(urlpath, odd_segments)
{
	seg("a/b", 3, "/a%2Fb");
	seg("a b?c#d", 7, "/a%20b%3Fc%23d");
	seg("100%", 4, "/100%25");
	seg("%2F", 3, "/%252F");
	seg("..x/..", 6, "/..x%2F..");
	seg("\x00\xff\n", 3, "/%00%FF%0A");
	seg("학", strlen("학"), "/%ED%95%99");
	seg("src@main.c", 10, "/src%40main.c");
}

Test(urlpath, refuses_dot_segments)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_puts(&sb, "/api");
	cr_assert_eq(urlpath_put_segment(&sb, "", 0), -EINVAL);
	cr_assert_eq(urlpath_put_segment(&sb, ".", 1), -EINVAL);
	cr_assert_eq(urlpath_put_segment(&sb, "..", 2), -EINVAL);
	cr_assert_str_eq(sb.buf, "/api");
	strbuf_free(&sb);
}
