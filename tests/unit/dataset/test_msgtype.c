/* CompileMessageType: the same mistake, the same type. */
#include <criterion/criterion.h>
#include <string.h>

#include "msgtype.h"

static void is(const char *msg, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	msgtype_of(msg, strlen(msg), &sb);
	cr_assert_str_eq(sb.buf ? sb.buf : "", want, "%s", msg);
	strbuf_free(&sb);
}

Test(msgtype, names_and_numbers_out)
{
	is("'count' undeclared (first use in this function)", "'ID' undeclared (first use in this function)");
	is("'foo' undeclared (first use in this function)", "'ID' undeclared (first use in this function)");
	is("unused variable 'tmp' [-Wunused-variable]", "unused variable 'ID' [-Wunused-variable]");
	is("array size 10 is too large", "array size N is too large");
	is("undefined reference to `sqrt'", "undefined reference to 'ID'");
	is("foo.h: No such file or directory", "FILE: No such file or directory");
	/* gcc's quotes in a UTF-8 locale */
	is("\xe2\x80\x98x\xe2\x80\x99 undeclared", "'ID' undeclared");
}

Test(msgtype, punctuation_is_the_mistake)
{
	is("expected ';' before '}' token", "expected ';' before '}' token");
	is("expected ',' or ';' before 'return'", "expected ',' or ';' before 'ID'");
	is("expected ')' before numeric constant", "expected ')' before numeric constant");
}

Test(msgtype, odd_input)
{
	is("", "");
	is("an 'unclosed quote", "an 'unclosed quote");
	is("x86_64 is fine", "x86_64 is fine");
	is("line 12:5 here", "line N:N here");
}
