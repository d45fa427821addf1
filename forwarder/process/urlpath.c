#include "urlpath.h"

#include <errno.h>
#include <stdbool.h>

static bool urlpath_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

int urlpath_put_segment(struct strbuf *sb, const void *seg, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = seg;
	size_t i;

	if (len == 0 || (len == 1 && s[0] == '.') ||
	    (len == 2 && s[0] == '.' && s[1] == '.'))
		return -EINVAL;
	strbuf_reserve(sb, 1 + len * 3);
	strbuf_putc(sb, '/');
	for (i = 0; i < len; i++) {
		if (urlpath_unreserved(s[i])) {
			strbuf_putc(sb, (char)s[i]);
		} else {
			char esc[3] = {'%', hex[s[i] >> 4], hex[s[i] & 15]};
			strbuf_append(sb, esc, sizeof(esc));
		}
	}
	return 0;
}
