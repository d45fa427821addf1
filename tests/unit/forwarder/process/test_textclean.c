/* textclean: escapes gone, controls dropped, invalid UTF-8 replaced, valid
 * text kept byte for byte. */
#include <criterion/criterion.h>
#include <string.h>

#include "process/textclean.h"

static void clean_is(const char *raw, size_t len, const char *want)
{
	char out[TEXTCLEAN_MAX(256)];
	size_t n;

	cr_assert_leq(len, 256);
	n = textclean((const uint8_t *)raw, len, out);
	cr_assert_eq(n, strlen(want), "got %zu bytes: %.*s", n, (int)n, out);
	cr_assert_eq(memcmp(out, want, n), 0, "got %.*s", (int)n, out);
}
#define CLEAN_IS(raw, want) clean_is(raw, sizeof(raw) - 1, want)

Test(textclean, gcc_colours_removed)
{
	CLEAN_IS("\x1b[01m\x1b[Kmain.c:1:30:\x1b[m\x1b[K \x1b[01;31m\x1b[Kerror: \x1b[m\x1b[Kexpected",
		 "main.c:1:30: error: expected");
}

Test(textclean, hyperlinks_and_titles_removed)
{
	CLEAN_IS("see \x1b]8;;https://gcc.gnu.org/x\x1b\\-Wall\x1b]8;;\x1b\\ now", "see -Wall now");
	CLEAN_IS("\x1b]0;title\x07text", "text");
	CLEAN_IS("a\x1b(Bb\x1b", "ab");   /* a charset switch; a lone ESC at the end */
	CLEAN_IS("x\x1b]8;;never ended", "x");
}

Test(textclean, controls_dropped_crlf_made_lf)
{
	CLEAN_IS("a\r\nb\tc\0d\x07\x7f" "e\x01\n", "a\nb\tcde\n");
}

Test(textclean, utf8_kept_invalid_replaced)
{
	CLEAN_IS("\xe2\x80\x98main\xe2\x80\x99 \xed\x95\x9c", "\xe2\x80\x98main\xe2\x80\x99 \xed\x95\x9c");
	CLEAN_IS("a\xff" "b", "a\xef\xbf\xbd" "b");
	CLEAN_IS("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");            /* overlong */
	CLEAN_IS("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");   /* a surrogate */
	CLEAN_IS("cut \xe2\x80", "cut \xef\xbf\xbd\xef\xbf\xbd");     /* cut short */
}

Test(textclean, worst_case_fits_the_bound)
{
	uint8_t raw[64];
	char out[TEXTCLEAN_MAX(sizeof(raw))];

	memset(raw, 0xff, sizeof(raw));
	cr_assert_eq(textclean(raw, sizeof(raw), out), TEXTCLEAN_MAX(sizeof(raw)));
}

Test(textclean, c1_controls_and_bidi_overrides_dropped)
{
	/* U+009B (CSI for a terminal that reads C1), U+0085 (NEL) */
	CLEAN_IS("a\xc2\x9b" "31mb\xc2\x85" "c", "a31mbc");
	/* "Trojan source": RLO ... PDF, LRI ... PDI around an expression */
	CLEAN_IS("x = 1; \xe2\x80\xae// comment\xe2\x80\xac y", "x = 1; // comment y");
	CLEAN_IS("\xe2\x81\xa6" "ab" "\xe2\x81\xa9", "ab");
	/* their neighbours stay: U+00A0, U+2029, U+2065 unassigned, U+2070 */
	CLEAN_IS("\xc2\xa0\xe2\x80\xa9\xe2\x81\xa5\xe2\x81\xb0", "\xc2\xa0\xe2\x80\xa9\xe2\x81\xa5\xe2\x81\xb0");
}
