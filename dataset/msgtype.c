#include "msgtype.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/* The quote that closes one opening at p (bytes used in *open_len), or
 * NULL when p opens none. */
static const char *closer(const char *p, const char *end, size_t *open_len)
{
	if (*p == '\'' || *p == '`') {
		*open_len = 1;
		return "'";
	}
	if (end - p >= 3 && !memcmp(p, "\xe2\x80\x98", 3)) {   /* ‘ */
		*open_len = 3;
		return "\xe2\x80\x99";                          /* ’ */
	}
	return NULL;
}

static bool wordy(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (isalnum((unsigned char)p[i]) || p[i] == '_' || (unsigned char)p[i] >= 0x80)
			return true;
	return false;
}

/* "foo.h: ..." or "/x/y: ...": a leading path before ": ". */
static size_t leading_path(const char *p, const char *end)
{
	const char *c = memchr(p, ':', (size_t)(end - p));
	bool dotted = false;
	const char *q;

	if (!c || c == p || c + 1 >= end || c[1] != ' ')
		return 0;
	for (q = p; q < c; q++) {
		if (*q == ' ')
			return 0;
		if (*q == '.' || *q == '/')
			dotted = true;
	}
	return dotted ? (size_t)(c - p) : 0;
}

void msgtype_of(const char *msg, size_t len, struct strbuf *out)
{
	const char *p = msg, *end = msg + len, *close, *q;
	size_t ol, cl, n;

	n = leading_path(p, end);
	if (n) {
		strbuf_puts(out, "FILE");
		p += n;
	}
	while (p < end) {
		close = closer(p, end, &ol);
		if (close) {
			cl = strlen(close);
			for (q = p + ol; q + cl <= end && memcmp(q, close, cl); q++)
				;
			if (q + cl <= end) {
				if (wordy(p + ol, (size_t)(q - p - ol)))
					strbuf_puts(out, "'ID'");
				else {
					strbuf_putc(out, '\'');
					strbuf_append(out, p + ol, (size_t)(q - p - ol));
					strbuf_putc(out, '\'');
				}
				p = q + cl;
				continue;
			}
		}
		if (isdigit((unsigned char)*p) && (p == msg || (!isalnum((unsigned char)p[-1]) && p[-1] != '_'))) {
			while (p < end && (isalnum((unsigned char)*p) || *p == '.'))
				p++;
			strbuf_putc(out, 'N');
			continue;
		}
		strbuf_putc(out, *p++);
	}
}
