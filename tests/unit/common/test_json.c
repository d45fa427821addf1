/* JSON writing from hostile bytes: always valid, replacements counted. */
#include <criterion/criterion.h>
#include <string.h>

#include "json.h"

static char *esc(const char *s, size_t len, size_t *replaced)
{
	struct strbuf sb = STRBUF_INIT;
	size_t r = json_put_string(&sb, s, len);

	if (replaced)
		*replaced = r;
	return strbuf_detach(&sb, NULL);
}

Test(json, escapes_specials)
{
	static const char in[] = "a\"b\\c\nd\te\x01";
	char *s = esc(in, sizeof(in) - 1, NULL);

	cr_assert_str_eq(s, "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
	free(s);
}

Test(json, keeps_valid_utf8)
{
	size_t r;
	char *s = esc("학생 €", strlen("학생 €"), &r);

	cr_assert_str_eq(s, "\"학생 €\"");
	cr_assert_eq(r, 0);
	free(s);
}

Test(json, replaces_invalid_utf8)
{
	size_t r;
	/* lone continuation, overlong '/', truncated 3-byte, surrogate */
	const char in[] = "\x80x\xc0\xafy\xe2\x82z\xed\xa0\x80";
	char *s = esc(in, sizeof(in) - 1, &r);

	cr_assert_str_eq(s, "\"\\ufffdx\\ufffd\\ufffdy\\ufffd\\ufffdz\\ufffd\\ufffd\\ufffd\"");
	cr_assert_eq(r, 8);
	free(s);
}

Test(json, embedded_nul)
{
	char *s = esc("a\0b", 3, NULL);

	cr_assert_str_eq(s, "\"a\\u0000b\"");
	free(s);
}

Test(json, object_builder)
{
	struct strbuf sb = STRBUF_INIT;
	struct json_obj o;

	json_obj_begin(&o, &sb);
	json_obj_cstr(&o, "a", "x");
	json_obj_int(&o, "b", -3);
	json_obj_bool(&o, "c", 1);
	json_obj_null(&o, "d");
	json_obj_end(&o);
	cr_assert_str_eq(sb.buf, "{\"a\":\"x\",\"b\":-3,\"c\":true,\"d\":null}");
	strbuf_free(&sb);
}
